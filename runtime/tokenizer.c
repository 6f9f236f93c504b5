/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/tokenizer.c — see arca/tokenizer.h: building the tables from GGUF metadata,
 * splitting text at added and special tokens, NFC, and decoding ids back to bytes. The
 * SentencePiece ("llama") search itself is in tokenizer_spm.c, byte-level BPE in
 * tokenizer_bpe.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "arca/tokenizer_meta.h"
#include "runtime/tokenizer_internal.h"

/* ------------------------------------------------------------------ loading */

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes are themselves, the rest 256 + k. */
static void byte_chars(uint32_t map[256])
{
	uint32_t next = 256;
	for (uint32_t b = 0; b < 256; b++) {
		int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
		map[b] = printable ? b : next++;
	}
}

static arca_err load_tokens(arca_tokenizer *t, const arca_gguf *g)
{
	const arca_gguf_kv *tokens, *types = NULL;
	arca_err err = arca_gguf_get_arr(g, "tokenizer.ggml.tokens", ARCA_GGUF_STRING, &tokens);
	if (err < 0)
		return arca_error_prefix(err, "tokenizer");
	if (!tokens->n_elems || tokens->n_elems > (1u << 24))
		return arca_error_set(ARCA_EINVALID, "tokenizer: %llu tokens",
			(unsigned long long)tokens->n_elems);
	if (arca_gguf_get_arr(g, "tokenizer.ggml.token_type", ARCA_GGUF_I32, &types) < 0) {
		arca_error_clear();
		types = NULL;
	}
	if (types && types->n_elems != tokens->n_elems)
		return arca_error_set(ARCA_EINVALID, "tokenizer: %llu token types for %llu tokens",
			(unsigned long long)types->n_elems, (unsigned long long)tokens->n_elems);
	t->n_vocab = (uint32_t)tokens->n_elems;
	t->text = calloc(t->n_vocab, sizeof(char *));
	t->type = calloc(t->n_vocab, sizeof(int32_t));
	if (!t->text || !t->type || (err = arca_tok__map_init(&t->by_text, t->n_vocab)) < 0)
		return err < 0 ? err : arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	for (uint32_t i = 0; i < t->n_vocab; i++) {
		const arca_gguf_str *s = &tokens->strs[i];
		if (memchr(s->ptr, 0, s->len))
			return arca_error_set(ARCA_EINVALID, "tokenizer: token %u contains a NUL", i);
		if (!(t->text[i] = strndup(s->ptr, s->len)))
			return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
		if (types)
			memcpy(&t->type[i], types->elems + 4 * (size_t)i, 4);
		else
			t->type[i] = TOK_NORMAL;
		if (arca_tok__find_text(t, s->ptr, s->len) < 0)
			arca_tok__map_put(&t->by_text, arca_tok__hash_text(s->ptr, s->len), (int32_t)i,
				(int32_t)i);
	}
	uint32_t map[256];
	byte_chars(map);
	for (int b = 0; b < 256; b++) {
		char utf8[4];
		utf8proc_ssize_t len = utf8proc_encode_char((utf8proc_int32_t)map[b], (uint8_t *)utf8);
		t->byte_token[b] = arca_tok__find_text(t, utf8, (size_t)len);
		t->char_byte[map[b]] = (uint8_t)b;
		t->char_is_byte[map[b]] = 1;
	}
	return ARCA_OK;
}

static arca_err load_merges(arca_tokenizer *t, const arca_gguf *g)
{
	const arca_gguf_kv *merges;
	arca_err err = arca_gguf_get_arr(g, "tokenizer.ggml.merges", ARCA_GGUF_STRING, &merges);
	if (err < 0)
		return arca_error_prefix(err, "tokenizer: byte-level BPE needs merges");
	if (!merges->n_elems)
		return arca_error_set(ARCA_EINVALID, "tokenizer: the merges list is empty");
	if ((err = arca_tok__map_init(&t->merges, merges->n_elems)) < 0)
		return err;
	char buf[1024];
	for (uint64_t r = 0; r < merges->n_elems; r++) {
		const arca_gguf_str *s = &merges->strs[r];
		const char *sp = s->len < sizeof(buf) ? memchr(s->ptr, ' ', s->len) : NULL;
		if (!sp)
			return arca_error_set(ARCA_EINVALID, "tokenizer: merge %llu is not \"left right\"",
				(unsigned long long)r);
		size_t ll = (size_t)(sp - s->ptr), rl = s->len - ll - 1;
		int32_t left = arca_tok__find_text(t, s->ptr, ll);
		int32_t right = arca_tok__find_text(t, sp + 1, rl);
		memcpy(buf, s->ptr, ll);
		memcpy(buf + ll, sp + 1, rl);
		int32_t merged = arca_tok__find_text(t, buf, ll + rl);
		if (left < 0 || right < 0 || merged < 0)
			return arca_error_set(ARCA_EINVALID, "tokenizer: merge %llu (%.*s) names a token "
				"the vocabulary lacks", (unsigned long long)r, (int)(s->len > 60 ? 60 : s->len),
				s->ptr);
		arca_tok__map_put(&t->merges, ((uint64_t)(uint32_t)left << 32 | (uint32_t)right) + 1,
			(int32_t)r, merged);
	}
	return ARCA_OK;
}

/* SentencePiece: scores, the <0xXX> byte tokens, the unknown id, the search to use. */
static arca_err load_spm(arca_tokenizer *t, const arca_gguf *g)
{
	const arca_gguf_kv *scores;
	arca_err err = arca_gguf_get_arr(g, "tokenizer.ggml.scores", ARCA_GGUF_F32, &scores);
	if (err < 0)
		return arca_error_prefix(err, "tokenizer: a SentencePiece vocabulary needs scores");
	if (scores->n_elems != t->n_vocab)
		return arca_error_set(ARCA_EINVALID, "tokenizer: %llu scores for %u tokens",
			(unsigned long long)scores->n_elems, t->n_vocab);
	if (!(t->score = malloc(t->n_vocab * sizeof(float))))
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	memcpy(t->score, scores->elems, t->n_vocab * sizeof(float));
	t->spm_min_score = 3.4e38f;
	t->spm_max_score = 1.17549435e-38f; /* FLT_MIN, where SentencePiece starts too */
	for (uint32_t i = 0; i < t->n_vocab; i++) {
		size_t len = strlen(t->text[i]);
		if ((t->type[i] == TOK_NORMAL || t->type[i] == TOK_USER_DEFINED) && len > t->spm_max_len)
			t->spm_max_len = len;
		if (t->type[i] == TOK_NORMAL) {
			if (t->score[i] < t->spm_min_score)
				t->spm_min_score = t->score[i];
			if (t->score[i] > t->spm_max_score)
				t->spm_max_score = t->score[i];
		}
	}
	t->spm_byte_fallback = 1;
	for (int b = 0; b < 256; b++) {
		char name[8];
		snprintf(name, sizeof(name), "<0x%02X>", b);
		t->spm_byte[b] = arca_tok__find_text(t, name, 6);
		if (t->spm_byte[b] < 0 || t->type[t->spm_byte[b]] != TOK_BYTE)
			t->spm_byte_fallback = 0;
	}
	uint32_t v;
	t->unk = -1;
	if (arca_gguf_get_u32(g, "tokenizer.ggml.unknown_token_id", &v) == ARCA_OK &&
	    v < t->n_vocab)
		t->unk = (int32_t)v;
	arca_error_clear();
	t->add_space_prefix = 1; /* llama.cpp's default */
	if (arca_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &t->add_space_prefix) < 0)
		arca_error_clear();
	char *type = NULL;
	t->spm = ARCA_TOK__SPM_MERGE;
	if (arca_gguf_get_str(g, "tokenizer.arca.spm_model_type", &type) == ARCA_OK) {
		if (!strcmp(type, "unigram"))
			t->spm = ARCA_TOK__SPM_VITERBI;
		else if (strcmp(type, "bpe") != 0)
			err = arca_error_set(ARCA_EUNSUPPORTED, "tokenizer: SentencePiece model type "
				"'%.40s' is not supported (unigram and bpe are)", type);
		free(type);
	} else {
		arca_error_clear();
	}
	return err;
}

static int longer_first(const void *a, const void *b, void *ctx)
{
	const arca_tokenizer *t = ctx;
	size_t la = strlen(t->text[*(const int32_t *)a]), lb = strlen(t->text[*(const int32_t *)b]);
	return la < lb ? 1 : la > lb ? -1 : 0;
}

static int32_t get_id(const arca_gguf *g, const char *key, uint32_t n_vocab)
{
	uint32_t v;
	if (arca_gguf_get_u32(g, key, &v) == ARCA_OK && v < n_vocab)
		return (int32_t)v;
	arca_error_clear();
	return -1;
}

static int get_flag(const arca_gguf *g, const char *key)
{
	int v = 0;
	if (arca_gguf_get_bool(g, key, &v) < 0)
		arca_error_clear();
	return v;
}

static arca_err load_rest(arca_tokenizer *t, const arca_gguf *g)
{
	t->specials = malloc(t->n_vocab * sizeof(int32_t));
	if (!t->specials)
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	for (uint32_t i = 0; i < t->n_vocab; i++)
		if ((t->type[i] == TOK_CONTROL || t->type[i] == TOK_USER_DEFINED ||
		     t->type[i] == TOK_UNKNOWN) && t->text[i][0]) /* as llama.cpp: <unk> too */
			t->specials[t->n_specials++] = (int32_t)i;
	qsort_r(t->specials, t->n_specials, sizeof(int32_t), longer_first, t);
	for (size_t i = 0; i < t->n_specials; i++)
		t->special_first[(unsigned char)t->text[t->specials[i]][0]] = 1;
	t->bos = get_id(g, "tokenizer.ggml.bos_token_id", t->n_vocab);
	t->eos = get_id(g, "tokenizer.ggml.eos_token_id", t->n_vocab);
	/* llama.cpp adds BOS for SentencePiece vocabularies unless told not to */
	int add_bos = t->spm ? 1 : 0;
	if (arca_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &add_bos) < 0)
		arca_error_clear();
	t->add_bos = add_bos && t->bos >= 0;
	t->add_eos = get_flag(g, "tokenizer.ggml.add_eos_token") && t->eos >= 0;
	static const char *const ends[] = { "<|im_end|>", "<|endoftext|>", "<|eot_id|>",
		"<|eom_id|>", "<|end_of_text|>", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81"
		"sentence\xef\xbd\x9c>", "<|user|>", NULL };
	if (t->eos >= 0)
		t->eog[t->n_eog++] = t->eos;
	for (size_t i = 0; ends[i] && t->n_eog < 8; i++) {
		int32_t id = arca_tok__find_text(t, ends[i], strlen(ends[i]));
		if (id >= 0 && id != t->eos && t->type[id] == TOK_CONTROL)
			t->eog[t->n_eog++] = id;
	}
	char *s = NULL;
	if (arca_gguf_get_str(g, "tokenizer.chat_template", &s) == ARCA_OK)
		t->chat_template = s;
	else
		arca_error_clear();
	if (arca_gguf_get_str(g, "tokenizer.ggml.normalizer", &s) == ARCA_OK) {
		t->nfc = !strcmp(s, "nfc");
		int known = t->nfc;
		free(s);
		if (!known)
			return arca_error_set(ARCA_EUNSUPPORTED, "tokenizer: normalizer is not nfc");
	} else {
		arca_error_clear();
	}
	return ARCA_OK;
}

static arca_err compile_splits(arca_tokenizer *t, const arca_gguf *g)
{
	char *pre = NULL;
	arca_err err = arca_gguf_get_str(g, "tokenizer.ggml.pre", &pre);
	if (err < 0)
		return arca_error_prefix(err, "tokenizer");
	const char *const *res = arca_pretokenizer_regexes(pre);
	if (!res) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "tokenizer: pre-tokenizer '%.40s' is not one "
			"arca knows (qwen2, llama-bpe, glm4, chatglm-bpe, deepseek-v3, deepseek-r1-qwen, "
			"gpt-2, kimi-k2, minimax-m2)",
			pre);
		free(pre);
		return err;
	}
	/* tiktoken vocabularies (Kimi K2, GLM-4-9B-chat): a piece that is itself a token is
	 * never split */
	t->ignore_merges = !strcmp(pre, "kimi-k2") || !strcmp(pre, "chatglm-bpe");
	free(pre);
	for (size_t i = 0; res[i] && i < 4; i++) {
		int code;
		PCRE2_SIZE off;
		t->split[i] = pcre2_compile((PCRE2_SPTR)res[i], PCRE2_ZERO_TERMINATED,
			PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
		if (!t->split[i])
			return arca_error_set(ARCA_EINVALID, "tokenizer: split regex %zu does not compile "
				"(error %d at %zu)", i, code, (size_t)off);
		pcre2_jit_compile(t->split[i], PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
		t->n_split = i + 1;
	}
	return ARCA_OK;
}

arca_err arca_tokenizer_from_gguf(arca_tokenizer **out, const arca_gguf *g)
{
	*out = NULL;
	char *model = NULL;
	arca_err err = arca_gguf_get_str(g, "tokenizer.ggml.model", &model);
	if (err < 0)
		return arca_error_prefix(err, "tokenizer");
	int bpe = !strcmp(model, "gpt2"), spm = !strcmp(model, "llama");
	if (!bpe && !spm) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "tokenizer: model '%.40s' is not supported "
			"(byte-level BPE \"gpt2\" and SentencePiece \"llama\" are)", model);
		free(model);
		return err;
	}
	free(model);
	arca_tokenizer *t = calloc(1, sizeof(*t));
	if (!t)
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	if ((err = load_tokens(t, g)) < 0 ||
	    (err = bpe ? load_merges(t, g) : load_spm(t, g)) < 0 ||
	    (err = load_rest(t, g)) < 0 || (bpe && (err = compile_splits(t, g)) < 0)) {
		arca_tokenizer_free(t);
		return err;
	}
	*out = t;
	return ARCA_OK;
}

void arca_tokenizer_free(arca_tokenizer *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; t->text && i < t->n_vocab; i++)
		free(t->text[i]);
	free(t->text);
	free(t->type);
	free(t->by_text.slots);
	free(t->merges.slots);
	free(t->score);
	free(t->specials);
	for (size_t i = 0; i < t->n_split; i++)
		pcre2_code_free(t->split[i]);
	free(t->chat_template);
	free(t);
}

/* ------------------------------------------------------------------ encoding */

/* NFC (when asked) and the regex + BPE path for text without special tokens. */
static arca_err encode_plain(const arca_tokenizer *t, const char *s, size_t len,
	int32_t **ids, size_t *n, size_t *cap)
{
	if (!len)
		return ARCA_OK;
	if (t->spm)
		return arca_tok__spm_encode(t, s, len, ids, n, cap);
	if (!t->nfc)
		return arca_tok__encode_segment(t, s, len, ids, n, cap);
	utf8proc_uint8_t *norm = NULL;
	utf8proc_ssize_t nl = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
		&norm, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	if (nl < 0)
		return arca_error_set(ARCA_EINVALID, "tokenizer: NFC: %s", utf8proc_errmsg(nl));
	arca_err err = arca_tok__encode_segment(t, (const char *)norm, (size_t)nl, ids, n, cap);
	free(norm);
	return err;
}

/* The special token starting at s, or -1. */
static int32_t special_at(const arca_tokenizer *t, const char *s, size_t left, int parse_ctrl)
{
	if (!t->special_first[(unsigned char)s[0]])
		return -1;
	for (size_t i = 0; i < t->n_specials; i++) {
		int32_t id = t->specials[i];
		if ((t->type[id] == TOK_CONTROL || t->type[id] == TOK_UNKNOWN) && !parse_ctrl)
			continue;
		const char *tx = t->text[id];
		size_t l = strlen(tx);
		if (l <= left && tx[0] == s[0] && !memcmp(tx, s, l))
			return id;
	}
	return -1;
}

arca_err arca_tokenize(const arca_tokenizer *t, const char *text, size_t len, unsigned flags,
	int32_t **ids_out, size_t *n_out)
{
	*ids_out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
			(utf8proc_ssize_t)(len - i), &cp);
		if (k < 0)
			return arca_error_set(ARCA_EINVALID, "the text is not valid UTF-8 (at byte %zu)",
				i);
		i += (size_t)k;
	}
	int32_t *ids = NULL;
	size_t n = 0, cap = 0;
	arca_err err = ARCA_OK;
	if ((flags & ARCA_TOK_ADD_SPECIAL) && t->add_bos)
		err = arca_tok__push_id(&ids, &n, &cap, t->bos);
	size_t start = 0;
	int parse_ctrl = (flags & ARCA_TOK_PARSE_SPECIAL) != 0;
	for (size_t i = 0; i < len && err == ARCA_OK;) {
		int32_t sp = t->n_specials ? special_at(t, text + i, len - i, parse_ctrl) : -1;
		if (sp < 0) {
			i++;
			continue;
		}
		if ((err = encode_plain(t, text + start, i - start, &ids, &n, &cap)) == ARCA_OK)
			err = arca_tok__push_id(&ids, &n, &cap, sp);
		i += strlen(t->text[sp]);
		start = i;
	}
	if (err == ARCA_OK)
		err = encode_plain(t, text + start, len - start, &ids, &n, &cap);
	if (err == ARCA_OK && (flags & ARCA_TOK_ADD_SPECIAL) && t->add_eos)
		err = arca_tok__push_id(&ids, &n, &cap, t->eos);
	if (err < 0) {
		free(ids);
		return err;
	}
	*ids_out = ids;
	*n_out = n;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ decoding */

uint32_t arca_tokenizer_n_vocab(const arca_tokenizer *t) { return t->n_vocab; }
int32_t arca_tokenizer_bos(const arca_tokenizer *t) { return t->bos; }
int32_t arca_tokenizer_eos(const arca_tokenizer *t) { return t->eos; }
const char *arca_tokenizer_chat_template(const arca_tokenizer *t) { return t->chat_template; }

const char *arca_tokenizer_text(const arca_tokenizer *t, int32_t id)
{
	return id >= 0 && (uint32_t)id < t->n_vocab ? t->text[id] : NULL;
}

int arca_tokenizer_is_eog(const arca_tokenizer *t, int32_t id)
{
	for (size_t i = 0; i < t->n_eog; i++)
		if (t->eog[i] == id)
			return 1;
	return 0;
}

/* A SentencePiece piece: <0xXX> is that byte, `▁` a space, the rest its own UTF-8. */
static int spm_piece_bytes(const arca_tokenizer *t, int32_t id, char *buf, size_t cap)
{
	const char *s = t->text[id];
	size_t o = 0;
	unsigned byte;
	if (t->type[id] == TOK_BYTE && sscanf(s, "<0x%2X>", &byte) == 1) {
		if (cap)
			buf[0] = (char)byte;
		return 1;
	}
	for (const char *p = s; *p;) {
		int space = !strncmp(p, "\xe2\x96\x81", 3);
		if (o < cap)
			buf[o] = space ? ' ' : *p;
		o++;
		p += space ? 3 : 1;
	}
	return (int)o;
}

int arca_token_to_bytes(const arca_tokenizer *t, int32_t id, char *buf, size_t cap)
{
	if (id < 0 || (uint32_t)id >= t->n_vocab)
		return -1;
	const char *s = t->text[id];
	size_t len = strlen(s), o = 0;
	if (t->type[id] == TOK_CONTROL || t->type[id] == TOK_USER_DEFINED ||
	    (t->spm && t->type[id] == TOK_UNKNOWN)) {
		for (size_t i = 0; i < len; i++, o++)
			if (o < cap)
				buf[o] = s[i];
		return (int)o;
	}
	if (t->spm)
		return spm_piece_bytes(t, id, buf, cap);
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
			(utf8proc_ssize_t)(len - i), &cp);
		if (k <= 0)
			break;
		if (cp >= 0 && cp < 512 && t->char_is_byte[cp]) {
			if (o < cap)
				buf[o] = (char)t->char_byte[cp];
			o++;
		} else { /* not a byte-level character: its UTF-8 as it is */
			for (utf8proc_ssize_t j = 0; j < k; j++, o++)
				if (o < cap)
					buf[o] = s[i + (size_t)j];
		}
		i += (size_t)k;
	}
	return (int)o;
}

/* Length of the UTF-8 sequence a lead byte starts (1 for stray bytes). */
static size_t seq_len(unsigned char c)
{
	return c < 0xC2 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 1;
}

size_t arca_detok_push(arca_detok *d, const arca_tokenizer *t, int32_t id, char *out,
	size_t cap)
{
	char piece[512];
	int len = arca_token_to_bytes(t, id, piece, sizeof(piece));
	size_t o = 0;
	for (int i = 0; i < len && i < (int)sizeof(piece); i++) {
		unsigned char c = (unsigned char)piece[i];
		if (d->n_pending && (c & 0xC0) != 0x80) { /* a broken sequence: let it out */
			for (size_t j = 0; j < d->n_pending && o < cap; j++)
				out[o++] = d->pending[j];
			d->n_pending = 0;
		}
		if (!d->n_pending && seq_len(c) == 1) {
			if (o < cap)
				out[o++] = (char)c;
			continue;
		}
		d->pending[d->n_pending++] = (char)c;
		if (d->n_pending == seq_len((unsigned char)d->pending[0])) {
			for (size_t j = 0; j < d->n_pending && o < cap; j++)
				out[o++] = d->pending[j];
			d->n_pending = 0;
		}
	}
	return o;
}

size_t arca_detok_flush(arca_detok *d, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t j = 0; j < d->n_pending && o < cap; j++)
		out[o++] = d->pending[j];
	d->n_pending = 0;
	return o;
}
