/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tokenizer_tiktoken.c — a tiktoken vocabulary (tiktoken.model: one line
 * "<base64 of the token's bytes> <rank>" per token, as Kimi K2 ships it) + tokenizer_config
 * .json → GGUF `gpt2` vocabulary, the way llama.cpp's convert_hf_to_gguf turns tiktoken
 * vocabularies into byte-level BPE:
 *  - token text: the token's bytes through GPT-2's byte → character map; id = rank;
 *  - merges: for every token of two or more bytes, byte-pair merging of its own bytes
 *    using only ranks below its own; when that ends in exactly two parts, "left right" is
 *    a merge (ranked by the token's rank, i.e. the merges keep the rank order);
 *  - added_tokens_decoder entries of tokenizer_config.json are CONTROL tokens at their ids
 *    (Kimi: right after the ranks); the other ids of the 256 after the ranks are
 *    <|reserved_token_<id>|> CONTROL, as tokenization_kimi.py names them; ids up to
 *    config.json's vocab_size left over are [PAD<id>] UNUSED;
 *  - tokenizer.ggml.pre = "kimi-k2" (the split regex of Kimi's tokenization_kimi.py,
 *    which llama.cpp knows by that name).
 * GLM-4-9B-chat (ChatGLM4Tokenizer, tokenization_chatglm.py) ships the same format under
 * the name tokenizer.model; that flavour differs only in what surrounds the ranks:
 *  - its 14 special tokens are fixed in the tokenizer code, at the ids right after the
 *    ranks (glm_specials below), CONTROL; no reserved ids; added_tokens_decoder entries
 *    are honoured as for Kimi;
 *  - tokenizer.ggml.pre = "chatglm-bpe" (its pat_str is LLaMA 3's split, the name
 *    llama.cpp's converter gives glm-4-9b-chat); eos and unk are <|endoftext|> and eot is
 *    <|user|>, as llama.cpp's converter sets them; no BOS (its prompts start with the
 *    chat template's [gMASK]<sop>).
 * The reader is strict: a bad base64 token, a missing or repeated rank, ranks that do not
 * run 0..n−1, or a token repeated is ARCA_EINVALID naming the line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/digest.h"

#include "convert/tokenizer_internal.h"

/* special-token ids after the ranks (tokenization_kimi.py's num_reserved_special_tokens) */
#define RESERVED 256u

/* longer tokens are refused (real vocabularies stay far below: o200k's longest is 128) */
#define MAX_TOKEN_BYTES 1024

typedef struct {
	uint8_t *bytes;
	size_t len;
} token;

/* what differs between the vocabularies shipped in this format */
typedef struct {
	const char *file;                /* the file name, for messages */
	const char *pre;                 /* tokenizer.ggml.pre */
	uint32_t reserved;               /* <|reserved_token_<id>|> ids after the ranks */
	const char *const *specials;     /* fixed special tokens after the ranks, NULL-ended */
	const char *eot;                 /* the end-of-turn token's text, or NULL */
} flavour;

static const flavour kimi = { "tiktoken.model", "kimi-k2", RESERVED, NULL, NULL };

/* tokenization_chatglm.py's special tokens, in id order after the ranks */
static const char *const glm_specials[] = { "<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]",
	"<sop>", "<eop>", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>",
	"<|begin_of_image|>", "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>",
	NULL };
static const flavour chatglm4 = { "tokenizer.model", "chatglm-bpe", 0, glm_specials,
	"<|user|>" };

/* ------------------------------------------------------------------ bytes → rank */

typedef struct {
	uint32_t *slot;   /* rank + 1; 0: empty */
	size_t mask;
	const token *tokens;
} rank_map;

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Inserts rank r (its bytes in m->tokens[r]); 0 when those bytes are already there. */
static int map_put(rank_map *m, uint32_t r)
{
	const token *t = &m->tokens[r];
	for (size_t i = hash_bytes(t->bytes, t->len) & m->mask;; i = (i + 1) & m->mask) {
		if (!m->slot[i]) {
			m->slot[i] = r + 1;
			return 1;
		}
		const token *o = &m->tokens[m->slot[i] - 1];
		if (o->len == t->len && !memcmp(o->bytes, t->bytes, t->len))
			return 0;
	}
}

static int64_t map_get(const rank_map *m, const uint8_t *p, size_t n)
{
	for (size_t i = hash_bytes(p, n) & m->mask; m->slot[i]; i = (i + 1) & m->mask) {
		const token *o = &m->tokens[m->slot[i] - 1];
		if (o->len == n && !memcmp(o->bytes, p, n))
			return m->slot[i] - 1;
	}
	return -1;
}

/* ------------------------------------------------------------------ reading */

/* Standard base64 with padding; NULL when malformed or empty. */
static uint8_t *b64_decode(const char *s, size_t n, size_t *out_len)
{
	int malformed;
	uint8_t *out = arca_base64_decode(s, n, out_len, &malformed);
	if (out && !*out_len) {
		free(out);
		return NULL;
	}
	return out;
}

static arca_err read_ranks(token **out, uint32_t *n_out, const char *text, size_t len,
	const char *file)
{
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	lines++;
	if (lines > (1u << 24))
		return arca_error_set(ARCA_EINVALID, "%s: more than 16M lines", file);
	token *tokens = calloc(lines, sizeof(*tokens));
	if (!tokens)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", file);
	uint32_t n = 0;
	size_t line = 0;
	arca_err err = ARCA_OK;
	for (const char *p = text, *end = text + len; p < end && err == ARCA_OK;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		line++;
		const char *sp = memchr(p, ' ', (size_t)(nl - p));
		if (nl == p) { /* blank lines (a final newline) are allowed */
			p = nl + 1;
			continue;
		}
		/* the rank: decimal digits up to the end of the line (the buffer need not end in
		 * a NUL, so no strtoll) */
		uint64_t rank = 0;
		const char *d = sp ? sp + 1 : nl;
		int digits = 0;
		for (; d < nl && *d >= '0' && *d <= '9' && digits < 10; d++, digits++)
			rank = rank * 10 + (uint64_t)(*d - '0');
		if (!sp || !digits || d != nl || rank != n) {
			err = arca_error_set(ARCA_EINVALID, "%s line %zu: not \"<base64> "
				"<rank>\" with rank %u (ranks must run 0, 1, 2, …)", file, line, n);
			break;
		}
		if (!(tokens[n].bytes = b64_decode(p, (size_t)(sp - p), &tokens[n].len))) {
			err = arca_error_set(ARCA_EINVALID, "%s line %zu: the token is not "
				"base64", file, line);
			break;
		}
		if (tokens[n++].len > MAX_TOKEN_BYTES) {
			err = arca_error_set(ARCA_EINVALID, "%s line %zu: a token of more "
				"than %d bytes", file, line, MAX_TOKEN_BYTES);
			break;
		}
		p = nl + 1;
	}
	if (err == ARCA_OK && n == 0)
		err = arca_error_set(ARCA_EINVALID, "%s: no tokens", file);
	if (err < 0) {
		for (uint32_t i = 0; i < n; i++)
			free(tokens[i].bytes);
		free(tokens);
		return err;
	}
	*out = tokens;
	*n_out = n;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ byte-level text */

static char *byte_level(const uint8_t *p, size_t n)
{
	char *out = malloc(2 * n + 1), *o = out;
	if (!out)
		return NULL;
	/* GPT-2's bytes_to_unicode: printable Latin-1 bytes are themselves, the rest 256 + k */
	for (size_t i = 0; i < n; i++) {
		uint32_t b = p[i], cp = b;
		if (!((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174)) {
			cp = 256;
			for (uint32_t k = 0; k < b; k++)
				cp += !((k >= 33 && k <= 126) || (k >= 161 && k <= 172) || k >= 174);
		}
		if (cp < 0x80) {
			*o++ = (char)cp;
		} else {
			*o++ = (char)(0xC0 | cp >> 6);
			*o++ = (char)(0x80 | (cp & 0x3F));
		}
	}
	*o = '\0';
	return out;
}

/* Byte-pair merging of a token's bytes with ranks below max_rank (lowest rank first, the
 * leftmost on ties); *split receives the length of the first part when two parts remain. */
static int two_parts(const rank_map *m, const token *t, uint32_t max_rank, size_t *split)
{
	size_t n = t->len, bounds[MAX_TOKEN_BYTES + 1]; /* part k is [bounds[k], bounds[k+1]) */
	for (size_t i = 0; i <= n; i++)
		bounds[i] = i;
	size_t parts = n;
	while (parts > 1) {
		int64_t best = -1;
		size_t at = 0;
		for (size_t k = 0; k + 1 < parts; k++) {
			int64_t r = map_get(m, t->bytes + bounds[k], bounds[k + 2] - bounds[k]);
			if (r >= 0 && (best < 0 || r < best)) {
				best = r;
				at = k;
			}
		}
		if (best < 0 || best >= (int64_t)max_rank)
			break;
		memmove(&bounds[at + 1], &bounds[at + 2], (parts - at - 1) * sizeof(size_t));
		parts--;
	}
	*split = bounds[1];
	return parts == 2;
}

/* ------------------------------------------------------------------ all together */

static arca_err convert_ranks(arca_gguf_writer *w, const char *data, size_t len,
	const flavour *fl, const arca_tokenizer_sources *src, json_t *tok_config, json_t *config)
{
	token *tokens = NULL;
	uint32_t n_ranks = 0;
	rank_map map = { 0 };
	char **text = NULL, **merges = NULL;
	int32_t *type = NULL;
	size_t n_merges = 0;
	uint32_t n = 0;
	arca_err err = read_ranks(&tokens, &n_ranks, data, len, fl->file);
	if (err < 0)
		return err;
	size_t cap = 1;
	while (cap < 2 * (size_t)n_ranks)
		cap <<= 1;
	map = (rank_map){ calloc(cap, sizeof(uint32_t)), cap - 1, tokens };
	if (!map.slot) {
		err = arca_error_set(ARCA_ENOMEM, "%s: out of memory", fl->file);
		goto cleanup;
	}
	for (uint32_t r = 0; r < n_ranks; r++) {
		if (!map_put(&map, r)) {
			err = arca_error_set(ARCA_EINVALID, "%s: rank %u repeats the token of rank "
				"%lld", fl->file, r,
				(long long)map_get(&map, tokens[r].bytes, tokens[r].len));
			goto cleanup;
		}
	}
	/* the vocabulary: ranks, the flavour's fixed specials, added tokens, up to vocab_size */
	uint32_t n_fixed = 0;
	while (fl->specials && fl->specials[n_fixed])
		n_fixed++;
	n = n_ranks + n_fixed;
	json_t *decoder = json_object_get(tok_config, "added_tokens_decoder");
	const char *key;
	json_t *entry;
	json_object_foreach(decoder, key, entry) {
		char *end;
		long long id = strtoll(key, &end, 10);
		if (*end || end == key || id < 0 || id >= (1 << 24) ||
		    !json_is_string(json_object_get(entry, "content"))) {
			err = arca_error_set(ARCA_EINVALID, "tokenizer_config.json: added_tokens_decoder "
				"entry '%.20s' needs a numeric id and a content", key);
			goto cleanup;
		}
		if ((uint64_t)id + 1 > n)
			n = (uint32_t)id + 1;
	}
	/* n: the ranks and every added id; vocab_size must hold them, and then decides */
	if (src->vocab_size && n > src->vocab_size) {
		err = arca_error_set(ARCA_EINVALID, "%s and tokenizer_config.json have "
			"%u tokens, more than the model's vocab_size %u (config.json)", fl->file, n,
			src->vocab_size);
		goto cleanup;
	}
	if (n < n_ranks + fl->reserved)
		n = n_ranks + fl->reserved;
	if (src->vocab_size)
		n = src->vocab_size;
	text = calloc(n, sizeof(*text));
	type = calloc(n, sizeof(*type));
	merges = calloc(n_ranks, sizeof(*merges));
	if (!text || !type || !merges) {
		err = arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
		goto cleanup;
	}
	for (uint32_t r = 0; r < n_ranks; r++) {
		if (!(text[r] = byte_level(tokens[r].bytes, tokens[r].len))) {
			err = arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
			goto cleanup;
		}
		type[r] = TOKT_NORMAL;
	}
	for (uint32_t k = 0; k < n_fixed; k++) {
		if (!(text[n_ranks + k] = strdup(fl->specials[k]))) {
			err = arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
			goto cleanup;
		}
		type[n_ranks + k] = TOKT_CONTROL;
	}
	json_object_foreach(decoder, key, entry) {
		uint32_t id = (uint32_t)strtoll(key, NULL, 10);
		if (id < n_ranks) {
			err = arca_error_set(ARCA_EINVALID, "tokenizer_config.json: added token %u is "
				"inside the %u tiktoken ranks", id, n_ranks);
			goto cleanup;
		}
		free(text[id]);
		if (!(text[id] = strdup(json_string_value(json_object_get(entry, "content"))))) {
			err = arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
			goto cleanup;
		}
		type[id] = TOKT_CONTROL;
	}
	for (uint32_t id = n_ranks; id < n; id++) {
		if (text[id] && text[id][0])
			continue;
		char pad[48];
		int reserved = id < n_ranks + fl->reserved;
		snprintf(pad, sizeof(pad), reserved ? "<|reserved_token_%u|>" : "[PAD%u]", id);
		free(text[id]);
		if (!(text[id] = strdup(pad))) {
			err = arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
			goto cleanup;
		}
		type[id] = reserved ? TOKT_CONTROL : TOKT_UNUSED;
	}
	if ((err = arca_convert__check_unique(text, n, fl->file)) < 0)
		goto cleanup;
	/* merges, in rank order */
	for (uint32_t r = 0; r < n_ranks; r++) {
		size_t split;
		if (tokens[r].len < 2 || !two_parts(&map, &tokens[r], r, &split))
			continue;
		char *left = byte_level(tokens[r].bytes, split);
		char *right = byte_level(tokens[r].bytes + split, tokens[r].len - split);
		char *m = left && right ? malloc(strlen(left) + strlen(right) + 2) : NULL;
		if (m)
			sprintf(m, "%s %s", left, right);
		free(left);
		free(right);
		if (!m) {
			err = arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
			goto cleanup;
		}
		merges[n_merges++] = m;
	}
	/* the flavour's own end-of-text: eos and unk (overridable by tokenizer_config.json) */
	int32_t fallback[6] = { -1, -1, -1, -1, -1, -1 };
	if (n_fixed)
		fallback[1] = fallback[2] = (int32_t)n_ranks;
	if ((err = arca_gguf_add_str(w, "tokenizer.ggml.model", "gpt2")) < 0 ||
	    (err = arca_gguf_add_str(w, "tokenizer.ggml.pre", fl->pre)) < 0 ||
	    (err = arca_gguf_add_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)text,
			n)) < 0 ||
	    (err = arca_gguf_add_arr(w, "tokenizer.ggml.token_type", ARCA_GGUF_I32, type, n)) < 0 ||
	    (err = arca_gguf_add_arr_str(w, "tokenizer.ggml.merges", (const char *const *)merges,
			n_merges)) < 0 ||
	    (err = arca_convert__add_special_ids(w, text, n, tok_config, config,
			n_fixed ? fallback : NULL)) < 0 ||
	    (err = arca_convert__add_chat_template(w, tok_config, src->chat_template)) < 0)
		goto cleanup;
	for (uint32_t id = 0; fl->eot && id < n; id++)
		if (type[id] == TOKT_CONTROL && !strcmp(text[id], fl->eot)) {
			err = arca_gguf_add_u32(w, "tokenizer.ggml.eot_token_id", id);
			break;
		}
cleanup:
	for (uint32_t i = 0; text && i < n; i++)
		free(text[i]);
	for (size_t i = 0; i < n_merges; i++)
		free(merges[i]);
	for (uint32_t i = 0; i < n_ranks; i++)
		free(tokens[i].bytes);
	free(text);
	free(type);
	free(merges);
	free(tokens);
	free(map.slot);
	return err;
}

arca_err arca_convert__tokenizer_tiktoken(arca_gguf_writer *w,
	const arca_tokenizer_sources *src, json_t *tok_config, json_t *config)
{
	return convert_ranks(w, src->tiktoken_model, src->tiktoken_model_len, &kimi, src,
		tok_config, config);
}

int arca_convert__is_tiktoken_text(const void *data, size_t len)
{
	/* "<base64> 0\n" first: a SentencePiece ModelProto starts with a field tag (0x0A) */
	const char *p = data, *end = p + (len < 4096 ? len : 4096);
	const char *q = p;
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	while (q < end && *q && strchr(alphabet, *q))
		q++;
	while (q < end && *q == '=')
		q++;
	return q > p && end - q >= 3 && q[0] == ' ' && q[1] == '0' &&
		(q[2] == '\n' || q[2] == '\r');
}

arca_err arca_convert__tokenizer_chatglm4(arca_gguf_writer *w,
	const arca_tokenizer_sources *src, json_t *tok_config, json_t *config)
{
	const char *cls = json_string_value(json_object_get(tok_config, "tokenizer_class"));
	const char *type = json_string_value(json_object_get(config, "model_type"));
	if (!(cls && !strcmp(cls, "ChatGLM4Tokenizer")) && !(type && !strcmp(type, "chatglm")))
		return arca_error_set(ARCA_EUNSUPPORTED, "tokenizer.model holds a tiktoken-format "
			"vocabulary, which arca reads as GLM-4's (ChatGLM4Tokenizer, model_type "
			"chatglm); this is tokenizer_class %.60s, model_type %.60s",
			cls ? cls : "(none)", type ? type : "(none)");
	return convert_ranks(w, src->spm_model, src->spm_model_len, &chatglm4, src, tok_config,
		config);
}
