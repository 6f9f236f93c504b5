/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tokenizer_meta.c — tokenizer.json (+ tokenizer_config.json, config.json,
 * chat_template.jinja) → GGUF tokenizer.* metadata (arca/tokenizer_meta.h). Rules restated
 * from the formats reference §8.2 and §8.4 in docs/formats.md.
 */
#include "arca/tokenizer_meta.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "convert/tokenizer_internal.h"

enum { TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_USER_DEFINED = 4, TOK_UNUSED = 5 };

/* ------------------------------------------------------------------ pre-tokenizers */

/* Split regexes as tokenizer.json spells them (after JSON decoding), CR/LF written as the
 * escapes "\r" "\n" (some files hold the characters themselves; both are normalized). */
#define QWEN2_RE "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define LLAMA3_RE "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define DSV3_RE1 "\\p{N}{1,3}"
#define DSV3_RE2 "[一-龥぀-ゟ゠-ヿ]+"
#define DSV3_RE3 "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* Kimi K2's pat_str (tokenization_kimi.py) for PCRE2, which has no class intersection:
 * [X&&[^\p{Han}]] is written (?:(?!\p{sc=Han})[X]). \p{Han} is the Script property in
 * tiktoken's Rust regex; PCRE2's \p{Han} also takes Script_Extensions (so "。" would be Han),
 * hence sc=. tiktoken.model vocabularies only. */
#define KIMI_NOT_HAN(cls) "(?:(?!\\p{sc=Han})[" cls "])"
#define KIMI_CONTRACTION "(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
#define KIMI_RE "[\\p{sc=Han}]+|" \
	"[^\\r\\n\\p{L}\\p{N}]?" KIMI_NOT_HAN("\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}") "*" \
	KIMI_NOT_HAN("\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}") "+" KIMI_CONTRACTION "|" \
	"[^\\r\\n\\p{L}\\p{N}]?" KIMI_NOT_HAN("\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}") "+" \
	KIMI_NOT_HAN("\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}") "*" KIMI_CONTRACTION "|" \
	"\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* OpenAI's o200k split (GPT-4o), which MiniMax-M2's tokenizer.json uses: llama.cpp's
 * "minimax-m2" pre-tokenizer splits by it */
#define O200K_CONTRACTION "(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
#define O200K_RE "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*" \
	"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" O200K_CONTRACTION "|" \
	"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+" \
	"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*" O200K_CONTRACTION "|" \
	"\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* ByteLevel's own split (use_regex: true), as GPT-2 defined it */
#define GPT2_RE "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

static const struct {
	const char *name;
	const char *regexes[4]; /* NULL-terminated; none = ByteLevel's own gpt-2 regex */
} known_pres[] = {
	{ "qwen2", { QWEN2_RE, NULL } },
	{ "llama-bpe", { LLAMA3_RE, NULL } },
	{ "glm4", { LLAMA3_RE, NULL } },
	{ "chatglm-bpe", { LLAMA3_RE, NULL } }, /* GLM-4-9B-chat's tiktoken pat_str */
	{ "deepseek-v3", { DSV3_RE1, DSV3_RE2, DSV3_RE3, NULL } },
	{ "gpt-2", { NULL } },
	{ "kimi-k2", { KIMI_RE, NULL } },
	{ "minimax-m2", { O200K_RE, NULL } },
};

static const char *const gpt2_regexes[] = { GPT2_RE, NULL };

const char *const *arca_pretokenizer_regexes(const char *pre)
{
	if (!strcmp(pre, "deepseek-r1-qwen"))
		pre = "qwen2";
	for (size_t k = 0; k < sizeof(known_pres) / sizeof(known_pres[0]); k++)
		if (!strcmp(known_pres[k].name, pre))
			return known_pres[k].regexes[0] ? known_pres[k].regexes : gpt2_regexes;
	return NULL;
}

/* Writes the regex with CR and LF characters replaced by their escapes. */
static char *normalize_regex(const char *re)
{
	size_t n = strlen(re);
	char *out = malloc(2 * n + 1), *o = out;
	if (!out)
		return NULL;
	for (const char *p = re; *p; p++) {
		if (*p == '\r' || *p == '\n') {
			*o++ = '\\';
			*o++ = *p == '\r' ? 'r' : 'n';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* Collects the Split regexes of a pre_tokenizer (a Split, or a Sequence of them) and
 * whether a ByteLevel step with its own regex is present. */
static arca_err collect_splits(json_t *pre, char **regexes, size_t *n, int *bytelevel_regex)
{
	const char *type = json_string_value(json_object_get(pre, "type"));
	if (!type)
		return arca_error_set(ARCA_EUNSUPPORTED, "tokenizer.json: pre_tokenizer has no type");
	if (!strcmp(type, "Sequence")) {
		size_t i;
		json_t *p;
		arca_err err = ARCA_OK;
		json_array_foreach(json_object_get(pre, "pretokenizers"), i, p)
			if ((err = collect_splits(p, regexes, n, bytelevel_regex)) < 0)
				return err;
		return err;
	}
	if (!strcmp(type, "ByteLevel")) {
		json_t *use = json_object_get(pre, "use_regex");
		*bytelevel_regex |= !json_is_false(use);
		return ARCA_OK;
	}
	if (!strcmp(type, "Split")) {
		const char *re = json_string_value(json_object_get(json_object_get(pre, "pattern"),
			"Regex"));
		if (!re)
			return arca_error_set(ARCA_EUNSUPPORTED, "tokenizer.json: a Split pre-tokenizer "
				"without a Regex pattern");
		if (*n >= 8)
			return arca_error_set(ARCA_EUNSUPPORTED, "tokenizer.json: more than 8 Split "
				"pre-tokenizers");
		if (!(regexes[(*n)++] = normalize_regex(re)))
			return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
		return ARCA_OK;
	}
	if (!strcmp(type, "Digits") || !strcmp(type, "Metaspace") || !strcmp(type, "Whitespace"))
		return arca_error_set(ARCA_EUNSUPPORTED, "tokenizer.json: pre-tokenizer %s is not "
			"supported (byte-level BPE with Split regexes is)", type);
	return arca_error_set(ARCA_EUNSUPPORTED, "tokenizer.json: unknown pre-tokenizer type %s",
		type);
}

static int has_deepseek_specials(json_t *added)
{
	size_t i;
	json_t *t;
	json_array_foreach(added, i, t) {
		const char *c = json_string_value(json_object_get(t, "content"));
		if (c && strstr(c, "<｜begin▁of▁sentence｜>"))
			return 1;
	}
	return 0;
}

static arca_err detect_pre(const char **out, json_t *root, const char *arch_pre)
{
	json_t *pre = json_object_get(root, "pre_tokenizer");
	if (!json_is_object(pre))
		return arca_error_set(ARCA_EUNSUPPORTED, "tokenizer.json has no pre_tokenizer");
	char *regexes[8] = { 0 };
	size_t n = 0;
	int bytelevel_regex = 0;
	arca_err err = collect_splits(pre, regexes, &n, &bytelevel_regex);
	const char *found = NULL;
	for (size_t k = 0; err == ARCA_OK && k < sizeof(known_pres) / sizeof(known_pres[0]); k++) {
		size_t m = 0;
		while (known_pres[k].regexes[m])
			m++;
		if (m != n || (m == 0 && !bytelevel_regex))
			continue;
		int same = 1;
		for (size_t j = 0; j < n && same; j++)
			same = !strcmp(regexes[j], known_pres[k].regexes[j]);
		if (!same)
			continue;
		/* two names can share a regex: the architecture decides */
		if (!found || (arch_pre && !strcmp(arch_pre, known_pres[k].name)))
			found = known_pres[k].name;
	}
	if (err == ARCA_OK && !found) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "tokenizer.json: unknown pre-tokenizer (%zu "
			"Split regex%s%s%.200s); known: qwen2, llama-bpe, glm4, deepseek-v3, gpt-2, "
			"minimax-m2", n,
			n == 1 ? "" : "es", n ? ", first: " : "", n ? regexes[0] : "");
	}
	if (err == ARCA_OK && !strcmp(found, "qwen2") &&
	    has_deepseek_specials(json_object_get(root, "added_tokens")))
		found = "deepseek-r1-qwen";
	for (size_t j = 0; j < n; j++)
		free(regexes[j]);
	*out = found;
	return err;
}

arca_err arca_tokenizer_detect_pre(const char **out, const char *tokenizer_json, size_t len,
	const char *arch_pre)
{
	json_error_t jerr;
	json_t *root = json_loadb(tokenizer_json, len, 0, &jerr);
	if (!root)
		return arca_error_set(ARCA_EINVALID, "tokenizer.json: %s (line %d)", jerr.text,
			jerr.line);
	arca_err err = detect_pre(out, root, arch_pre);
	json_decref(root);
	return err;
}

/* ------------------------------------------------------------------ vocabulary */

typedef struct {
	char **text;       /* per id */
	int32_t *type;
	uint32_t n;
} vocab;

static void vocab_free(vocab *v)
{
	for (uint32_t i = 0; v->text && i < v->n; i++)
		free(v->text[i]);
	free(v->text);
	free(v->type);
}

int arca_convert__looks_special(const char *s)
{
	size_t n = strlen(s);
	if (n >= 4 && !strncmp(s, "<|", 2) && !strcmp(s + n - 2, "|>"))
		return 1;
	if (strstr(s, "<｜") == s && n >= 6 && !strcmp(s + n - 3, "｜>"))
		return 1;
	return !strcmp(s, "<pad>") || !strcmp(s, "<mask>") || !strncmp(s, "<unused", 7) ||
		!strcmp(s, "<s>") || !strcmp(s, "</s>") || !strcmp(s, "<unk>");
}

/* U+2581 (▁) → space, for user-defined tokens. */
static char *spaces_for_metaspace(const char *s)
{
	char *out = strdup(s);
	if (!out)
		return NULL;
	char *o = out;
	for (const char *p = s; *p;) {
		if (!strncmp(p, "\xe2\x96\x81", 3)) {
			*o++ = ' ';
			p += 3;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

static arca_err build_vocab(vocab *v, json_t *root, uint32_t vocab_size)
{
	json_t *model_vocab = json_object_get(json_object_get(root, "model"), "vocab");
	json_t *added = json_object_get(root, "added_tokens");
	if (!json_is_object(model_vocab))
		return arca_error_set(ARCA_EINVALID, "tokenizer.json: model.vocab is not an object");
	uint64_t n = vocab_size;
	const char *key;
	json_t *id;
	json_object_foreach(model_vocab, key, id) {
		if (!json_is_integer(id) || json_integer_value(id) < 0 ||
		    json_integer_value(id) >= (1 << 24))
			return arca_error_set(ARCA_EINVALID, "tokenizer.json: token '%.40s' has a bad id",
				key);
		if ((uint64_t)json_integer_value(id) + 1 > n)
			n = (uint64_t)json_integer_value(id) + 1;
	}
	size_t i;
	json_t *t;
	json_array_foreach(added, i, t) {
		json_int_t aid = json_integer_value(json_object_get(t, "id"));
		if (!json_is_integer(json_object_get(t, "id")) || aid < 0 || aid >= (1 << 24) ||
		    !json_is_string(json_object_get(t, "content")))
			return arca_error_set(ARCA_EINVALID, "tokenizer.json: added_tokens[%zu] needs an "
				"id and content", i);
		if ((uint64_t)aid + 1 > n)
			n = (uint64_t)aid + 1;
	}
	if (vocab_size && n > vocab_size)
		return arca_error_set(ARCA_EINVALID, "tokenizer.json has token id %llu, beyond the "
			"model's vocab_size %u (config.json)", (unsigned long long)n - 1, vocab_size);
	v->n = (uint32_t)n;
	v->text = calloc(n ? n : 1, sizeof(*v->text));
	v->type = calloc(n ? n : 1, sizeof(*v->type));
	if (!v->text || !v->type)
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	json_object_foreach(model_vocab, key, id) {
		uint32_t k = (uint32_t)json_integer_value(id);
		if (v->text[k])
			return arca_error_set(ARCA_EINVALID, "tokenizer.json: id %u is given to '%.40s' "
				"and '%.40s'", k, v->text[k], key);
		if (!(v->text[k] = strdup(key)))
			return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
		v->type[k] = TOK_NORMAL;
	}
	json_array_foreach(added, i, t) {
		uint32_t k = (uint32_t)json_integer_value(json_object_get(t, "id"));
		const char *content = json_string_value(json_object_get(t, "content"));
		int special = json_is_true(json_object_get(t, "special")) ||
			arca_convert__looks_special(content);
		free(v->text[k]);
		v->text[k] = special ? strdup(content) : spaces_for_metaspace(content);
		if (!v->text[k])
			return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
		v->type[k] = special ? TOK_CONTROL : TOK_USER_DEFINED;
	}
	for (uint32_t k = 0; k < v->n; k++) {
		if (v->text[k] && v->text[k][0])
			continue;
		free(v->text[k]);
		char pad[32];
		snprintf(pad, sizeof(pad), "[PAD%u]", k);
		if (!(v->text[k] = strdup(pad)))
			return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
		v->type[k] = TOK_UNUSED;
	}
	return ARCA_OK;
}

static int text_order(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* llama.cpp refuses vocabularies with two ids for one string. */
arca_err arca_convert__check_unique(char *const *texts, uint32_t n, const char *file)
{
	char **sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (!sorted)
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	memcpy(sorted, texts, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), text_order);
	arca_err err = ARCA_OK;
	for (uint32_t k = 1; k < n && err == ARCA_OK; k++)
		if (!strcmp(sorted[k], sorted[k - 1]))
			err = arca_error_set(ARCA_EINVALID, "%s: the token '%.60s' has two ids", file,
				sorted[k]);
	free(sorted);
	return err;
}

/* Merges as "left right" strings, from either of tokenizer.json's two spellings. */
static arca_err add_merges(arca_gguf_writer *w, json_t *root)
{
	json_t *merges = json_object_get(json_object_get(root, "model"), "merges");
	if (!json_is_array(merges) || json_array_size(merges) == 0)
		return arca_error_set(ARCA_EINVALID, "tokenizer.json: a BPE model without merges");
	size_t n = json_array_size(merges), i;
	char **list = calloc(n, sizeof(*list));
	arca_err err = list ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	json_t *m;
	json_array_foreach(merges, i, m) {
		if (err < 0)
			break;
		if (json_is_string(m)) {
			list[i] = strdup(json_string_value(m));
		} else if (json_is_array(m) && json_array_size(m) == 2 &&
			   json_is_string(json_array_get(m, 0)) && json_is_string(json_array_get(m, 1))) {
			/* a space inside a part would split it wrongly: Ġ is what BPE means by it */
			const char *parts[2] = { json_string_value(json_array_get(m, 0)),
				json_string_value(json_array_get(m, 1)) };
			size_t len = strlen(parts[0]) * 2 + strlen(parts[1]) * 2 + 2;
			char *s = malloc(len), *o = s;
			for (int p = 0; s && p < 2; p++) {
				if (p)
					*o++ = ' ';
				for (const char *c = parts[p]; *c; c++) {
					if (*c == ' ') {
						*o++ = (char)0xc4;
						*o++ = (char)0xa0;
					} else {
						*o++ = *c;
					}
				}
			}
			if (s)
				*o = '\0';
			list[i] = s;
		} else {
			err = arca_error_set(ARCA_EINVALID, "tokenizer.json: merges[%zu] is neither "
				"\"a b\" nor [\"a\", \"b\"]", i);
			break;
		}
		if (!list[i])
			err = arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	}
	if (err == ARCA_OK)
		err = arca_gguf_add_arr_str(w, "tokenizer.ggml.merges", (const char *const *)list, n);
	for (i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
	return err;
}

/* ------------------------------------------------------------------ special tokens */

static int find_id(char *const *texts, uint32_t n, const char *text, uint32_t *out)
{
	for (uint32_t k = 0; k < n; k++) {
		if (!strcmp(texts[k], text)) {
			*out = k;
			return 1;
		}
	}
	return 0;
}

static const struct {
	const char *config_key; /* tokenizer_config.json <x>_token and config.json <x>_token_id */
	const char *gguf_key;
} special_keys[] = {
	{ "bos", "tokenizer.ggml.bos_token_id" },
	{ "eos", "tokenizer.ggml.eos_token_id" },
	{ "unk", "tokenizer.ggml.unknown_token_id" },
	{ "sep", "tokenizer.ggml.seperator_token_id" },
	{ "pad", "tokenizer.ggml.padding_token_id" },
	{ "mask", "tokenizer.ggml.mask_token_id" },
};

arca_err arca_convert__add_special_ids(arca_gguf_writer *w, char *const *texts, uint32_t n,
	json_t *tok_config, json_t *config, const int32_t fallback[6])
{
	arca_err err = ARCA_OK;
	for (size_t i = 0; i < sizeof(special_keys) / sizeof(special_keys[0]) && err == ARCA_OK; i++) {
		char key[64];
		snprintf(key, sizeof(key), "%s_token", special_keys[i].config_key);
		json_t *t = json_object_get(tok_config, key);
		const char *text = json_is_string(t) ? json_string_value(t) :
			json_string_value(json_object_get(t, "content"));
		uint32_t id;
		int found = text && find_id(texts, n, text, &id);
		if (!found && fallback && fallback[i] >= 0 && (uint32_t)fallback[i] < n) {
			id = (uint32_t)fallback[i];
			found = 1;
		}
		if (!found) {
			snprintf(key, sizeof(key), "%s_token_id", special_keys[i].config_key);
			json_t *cid = json_object_get(config, key);
			if (json_is_integer(cid) && json_integer_value(cid) >= 0 &&
			    json_integer_value(cid) < n) {
				id = (uint32_t)json_integer_value(cid);
				found = 1;
			}
		}
		if (found)
			err = arca_gguf_add_u32(w, special_keys[i].gguf_key, id);
	}
	static const char *const flags[] = { "add_bos_token", "add_eos_token" };
	for (size_t i = 0; i < 2 && err == ARCA_OK; i++) {
		json_t *f = json_object_get(tok_config, flags[i]);
		if (json_is_boolean(f)) {
			char key[64];
			snprintf(key, sizeof(key), "tokenizer.ggml.%s", flags[i]);
			err = arca_gguf_add_bool(w, key, json_is_true(f));
		}
	}
	return err;
}

arca_err arca_convert__add_chat_template(arca_gguf_writer *w, json_t *tok_config,
	const char *jinja)
{
	json_t *t = json_object_get(tok_config, "chat_template");
	if (json_is_string(t))
		return arca_gguf_add_str(w, "tokenizer.chat_template", json_string_value(t));
	if (json_is_array(t)) {
		/* [{"name": "default", "template": ...}, {"name": "tool_use", ...}] */
		size_t i;
		json_t *e;
		arca_err err = ARCA_OK;
		json_array_foreach(t, i, e) {
			const char *name = json_string_value(json_object_get(e, "name"));
			const char *tmpl = json_string_value(json_object_get(e, "template"));
			if (!name || !tmpl)
				continue;
			char key[200];
			if (!strcmp(name, "default"))
				snprintf(key, sizeof(key), "tokenizer.chat_template");
			else
				snprintf(key, sizeof(key), "tokenizer.chat_template.%.150s", name);
			if ((err = arca_gguf_add_str(w, key, tmpl)) < 0)
				break;
		}
		return err;
	}
	if (jinja)
		return arca_gguf_add_str(w, "tokenizer.chat_template", jinja);
	return ARCA_OK;
}

static int normalizer_is_nfc(json_t *norm)
{
	const char *type = json_string_value(json_object_get(norm, "type"));
	if (!type)
		return 0;
	if (!strcmp(type, "NFC"))
		return 1;
	if (!strcmp(type, "Sequence")) {
		size_t i;
		json_t *n;
		json_array_foreach(json_object_get(norm, "normalizers"), i, n)
			if (normalizer_is_nfc(n))
				return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ all together */

/* No tokenizer.json: a SentencePiece or tiktoken model, with the optional JSON files. */
static arca_err other_format(arca_gguf_writer *w, const arca_tokenizer_sources *src)
{
	json_error_t jerr;
	json_t *tok_config = NULL, *config = NULL;
	arca_err err = ARCA_OK;
	if (src->tokenizer_config_json &&
	    !(tok_config = json_loads(src->tokenizer_config_json, 0, &jerr)))
		err = arca_error_set(ARCA_EINVALID, "tokenizer_config.json: %s (line %d)",
			jerr.text, jerr.line);
	else if (src->config_json && !(config = json_loads(src->config_json, 0, &jerr)))
		err = arca_error_set(ARCA_EINVALID, "config.json: %s (line %d)", jerr.text,
			jerr.line);
	else if (src->spm_model && arca_convert__is_tiktoken_text(src->spm_model,
			src->spm_model_len))
		err = arca_convert__tokenizer_chatglm4(w, src, tok_config, config);
	else if (src->spm_model)
		err = arca_convert__tokenizer_spm(w, src, tok_config, config);
	else if (src->tiktoken_model)
		err = arca_convert__tokenizer_tiktoken(w, src, tok_config, config);
	else
		err = arca_error_set(ARCA_EUNSUPPORTED, "no tokenizer: the snapshot has neither "
			"tokenizer.json, a SentencePiece tokenizer.model nor a tiktoken.model");
	json_decref(tok_config);
	json_decref(config);
	return err;
}

arca_err arca_tokenizer_to_gguf(void *gguf_writer, const arca_tokenizer_sources *src)
{
	arca_gguf_writer *w = gguf_writer;
	if (!src->tokenizer_json)
		return other_format(w, src);
	json_error_t jerr;
	json_t *root = json_loadb(src->tokenizer_json, src->tokenizer_json_len, 0, &jerr);
	json_t *tok_config = NULL, *config = NULL;
	vocab v = { 0 };
	arca_err err = ARCA_OK;
	const char *pre = NULL;
	if (!root) {
		err = arca_error_set(ARCA_EINVALID, "tokenizer.json: %s (line %d)", jerr.text,
			jerr.line);
		goto cleanup;
	}
	/* optional files, but a damaged one is an error, not a silent default */
	if (src->tokenizer_config_json &&
	    !(tok_config = json_loads(src->tokenizer_config_json, 0, &jerr))) {
		err = arca_error_set(ARCA_EINVALID, "tokenizer_config.json: %s (line %d)",
			jerr.text, jerr.line);
		goto cleanup;
	}
	if (src->config_json && !(config = json_loads(src->config_json, 0, &jerr))) {
		err = arca_error_set(ARCA_EINVALID, "config.json: %s (line %d)", jerr.text,
			jerr.line);
		goto cleanup;
	}
	const char *type = json_string_value(json_object_get(json_object_get(root, "model"),
		"type"));
	if (!type || strcmp(type, "BPE") != 0) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "tokenizer.json: model type %s is not "
			"supported (byte-level BPE is)", type ? type : "(none)");
		goto cleanup;
	}
	if ((err = detect_pre(&pre, root, src->arch_pre)) < 0 ||
	    (err = build_vocab(&v, root, src->vocab_size)) < 0 ||
	    (err = arca_convert__check_unique(v.text, v.n, "tokenizer.json")) < 0)
		goto cleanup;
	if ((err = arca_gguf_add_str(w, "tokenizer.ggml.model", "gpt2")) < 0 ||
	    (err = arca_gguf_add_str(w, "tokenizer.ggml.pre", pre)) < 0 ||
	    (err = arca_gguf_add_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v.text,
			v.n)) < 0 ||
	    (err = arca_gguf_add_arr(w, "tokenizer.ggml.token_type", ARCA_GGUF_I32, v.type,
			v.n)) < 0 ||
	    (err = add_merges(w, root)) < 0 ||
	    (err = arca_convert__add_special_ids(w, v.text, v.n, tok_config, config, NULL)) < 0 ||
	    (err = arca_convert__add_chat_template(w, tok_config, src->chat_template)) < 0)
		goto cleanup;
	if (normalizer_is_nfc(json_object_get(root, "normalizer")))
		err = arca_gguf_add_str(w, "tokenizer.ggml.normalizer", "nfc");
cleanup:
	vocab_free(&v);
	json_decref(root);
	json_decref(tok_config);
	json_decref(config);
	return err;
}
