/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/test_tokenizer_spm.c — SentencePiece vocabularies end to end: the vendored
 * models of tests/data/tokenizers/spm (a Yi-like unigram and an InternLM-like BPE model,
 * both with byte fallback) go through the converter into GGUF metadata and back into the
 * runtime tokenizer, whose ids must equal Google's sentencepiece ids
 * (tests/data/tokenizer_corpus/expected_spm_*.json) on every corpus line and on the whole
 * corpus; decoding gives the text back (after the dummy-prefix space). The same for two
 * models without byte fallback, where unknown characters become <unk>. Also: what llama.cpp's
 * merge search gives on the unigram model (counted, printed), BOS and byte fallback, the
 * merge-search tie rule, and refusals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arca/gguf.h"
#include "arca/tokenizer.h"
#include "arca/tokenizer_meta.h"
#include "support.h"

typedef struct {
	char *data;
	size_t len;
} blob;

static blob read_data(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", ARCA_TEST_DATA, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	blob b = { malloc(1 << 20), 0 };
	b.len = fread(b.data, 1, (1 << 20) - 1, f);
	b.data[b.len] = '\0';
	fclose(f);
	return b;
}

/* GGUF metadata of a model (drop_key: written without that key), and the tokenizer. */
static arca_tokenizer *load(const char *model, const char *drop_key, const char *tok_config,
	t_buffer *file, arca_gguf **g)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "tokenizers/spm/%s.model", model);
	blob m = read_data(rel);
	arca_tokenizer_sources src = { .spm_model = m.data, .spm_model_len = m.len,
		.tokenizer_config_json = tok_config };
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	if (arca_tokenizer_to_gguf(w, &src) != ARCA_OK)
		fail_msg("convert %s: %s", model, arca_error_last());
	t_buffer tmp = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &tmp), ARCA_OK);
	arca_gguf_writer_free(w);
	arca_gguf *full;
	assert_int_equal(arca_gguf_open_buffer(&full, tmp.data, tmp.len, "t.gguf"), ARCA_OK);
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	const arca_gguf_kv *kv;
	for (size_t i = 0; (kv = arca_gguf_kv_at(full, i)); i++)
		if (!drop_key || strlen(drop_key) != kv->key.len ||
		    memcmp(drop_key, kv->key.ptr, kv->key.len))
			assert_int_equal(arca_gguf_add_kv_copy(w, kv), ARCA_OK);
	arca_gguf_free(full);
	free(tmp.data);
	memset(file, 0, sizeof(*file));
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, file), ARCA_OK);
	arca_gguf_writer_free(w);
	assert_int_equal(arca_gguf_open_buffer(g, file->data, file->len, "t.gguf"), ARCA_OK);
	arca_tokenizer *t;
	if (arca_tokenizer_from_gguf(&t, *g) != ARCA_OK)
		fail_msg("tokenizer %s: %s", model, arca_error_last());
	free(m.data);
	return t;
}

static void unload(arca_tokenizer *t, t_buffer *file, arca_gguf *g)
{
	arca_tokenizer_free(t);
	arca_gguf_free(g);
	free(file->data);
}

/* 1 when the ids equal want; on a mismatch with `strict`, fails naming the first one. */
static int same_ids(const arca_tokenizer *t, const char *text, size_t len, json_t *want,
	const char *what, int strict)
{
	int32_t *ids;
	size_t n;
	if (arca_tokenize(t, text, len, 0, &ids, &n) != ARCA_OK)
		fail_msg("%s: %s", what, arca_error_last());
	size_t i = 0;
	while (i < n && i < json_array_size(want) &&
	       ids[i] == json_integer_value(json_array_get(want, i)))
		i++;
	int same = i == n && n == json_array_size(want);
	if (!same && strict)
		fail_msg("%s \"%.60s\": %zu ids, want %zu; first difference at %zu: %d vs %lld", what,
			text, n, json_array_size(want), i, i < n ? ids[i] : -1,
			(long long)json_integer_value(json_array_get(want, i)));
	int has_unk = 0;  /* an unknown decodes as its own text, not the character */
	for (size_t k = 0; k < n; k++)
		has_unk |= ids[k] == 0;
	if (same && strict && !has_unk) { /* decoding: the text after the dummy-prefix space */
		char *back = malloc(len * 4 + 64);
		size_t o = 0;
		for (size_t k = 0; k < n; k++) {
			int b = arca_token_to_bytes(t, ids[k], back + o, len * 4 + 64 - o);
			assert_true(b >= 0);
			o += (size_t)b;
		}
		if (o != len + 1 || back[0] != ' ' || memcmp(back + 1, text, len))
			fail_msg("%s: decoding \"%.60s\" does not give the text back", what, text);
		free(back);
	}
	free(ids);
	return same;
}

/* Every non-empty corpus line and the whole corpus; returns the texts that differ. */
static size_t parity(const arca_tokenizer *t, const char *expected, const char *what,
	int strict, size_t *n_texts, size_t *n_ids)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "tokenizer_corpus/%s", expected);
	blob e = read_data(rel), c = read_data("tokenizer_corpus/corpus.txt");
	json_t *want = json_loads(e.data, 0, NULL);
	assert_non_null(want);
	json_t *lines = json_object_get(want, "lines");
	size_t li = 0, bad = 0;
	*n_ids = 0;
	for (char *p = c.data, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl > p) {
			json_t *w = json_array_get(lines, li++);
			*n_ids += json_array_size(w);
			bad += !same_ids(t, p, (size_t)(nl - p), w, what, strict);
		}
		if (!*nl)
			break;
	}
	assert_int_equal(li, json_array_size(lines));
	*n_ids += json_array_size(json_object_get(want, "whole"));
	bad += !same_ids(t, c.data, c.len, json_object_get(want, "whole"), what, strict);
	*n_texts = li + 1;
	json_decref(want);
	free(e.data);
	free(c.data);
	return bad;
}

static void test_unigram_parity(void **state)
{
	(void)state;
	t_buffer file;
	arca_gguf *g;
	arca_tokenizer *t = load("unigram", NULL, NULL, &file, &g);
	size_t texts, ids;
	assert_int_equal(parity(t, "expected_spm_unigram.json", "unigram", 1, &texts, &ids), 0);
	printf("unigram (Viterbi): %zu texts, %zu ids, all equal to sentencepiece's\n", texts, ids);
	unload(t, &file, g);

	/* without tokenizer.arca.spm_model_type the GGUF is what llama.cpp sees: its merge
	 * search, which is not SentencePiece's unigram search; count where they differ */
	t = load("unigram", "tokenizer.arca.spm_model_type", NULL, &file, &g);
	size_t bad = parity(t, "expected_spm_unigram.json", "unigram/merge", 0, &texts, &ids);
	printf("unigram model, llama.cpp's merge search: %zu of %zu texts differ from "
		"sentencepiece\n", bad, texts);
	assert_true(bad > 0); /* the corpus shows the two searches apart */
	unload(t, &file, g);
}

static void test_bpe_parity(void **state)
{
	(void)state;
	t_buffer file;
	arca_gguf *g;
	arca_tokenizer *t = load("bpe", NULL, NULL, &file, &g);
	size_t texts, ids;
	assert_int_equal(parity(t, "expected_spm_bpe.json", "bpe", 1, &texts, &ids), 0);
	printf("bpe (merge): %zu texts, %zu ids, all equal to sentencepiece's\n", texts, ids);
	unload(t, &file, g);
}

/* Without byte fallback, characters outside the vocabulary are <unk>: one for a run. */
static void test_no_byte_fallback_parity(void **state)
{
	(void)state;
	static const char *const models[] = { "unigram_nofb", "bpe_nofb" };
	for (int k = 0; k < 2; k++) {
		t_buffer file;
		arca_gguf *g;
		arca_tokenizer *t = load(models[k], NULL, NULL, &file, &g);
		char expected[64];
		snprintf(expected, sizeof(expected), "expected_spm_%s.json", models[k]);
		size_t texts, ids;
		assert_int_equal(parity(t, expected, models[k], 1, &texts, &ids), 0);
		printf("%s: %zu texts, %zu ids, all equal to sentencepiece's\n", models[k], texts, ids);
		int32_t *out;
		size_t n;
		assert_int_equal(arca_tokenize(t, "\xf0\x9f\xa6\x9c\xf0\x9f\xa6\x9c", 8, 0, &out, &n),
			ARCA_OK);
		assert_true(n >= 1);
		assert_int_equal(out[n - 1], 0);          /* 🦜🦜: one <unk> */
		assert_true(n == 1 || out[n - 2] != 0);
		free(out);
		unload(t, &file, g);
	}
}

static void test_bos_bytes_and_config(void **state)
{
	(void)state;
	t_buffer file;
	arca_gguf *g;
	arca_tokenizer *t = load("bpe", NULL, NULL, &file, &g);
	int32_t *ids;
	size_t n;
	/* BOS by default (llama.cpp's rule for SentencePiece vocabularies), <s> is id 1 */
	assert_int_equal(arca_tokenize(t, "a", 1, ARCA_TOK_ADD_SPECIAL, &ids, &n), ARCA_OK);
	assert_true(n >= 2);
	assert_int_equal(ids[0], 1);
	assert_string_equal(arca_tokenizer_text(t, 1), "<s>");
	assert_int_equal(arca_tokenizer_eos(t), 2);
	free(ids);
	/* a character no piece covers falls back to its UTF-8 bytes: <0xXX> tokens */
	const char *rare = "\xf0\x9f\xa6\x9c"; /* U+1F99C */
	assert_int_equal(arca_tokenize(t, rare, 4, 0, &ids, &n), ARCA_OK);
	assert_true(n >= 4);
	char name[8];
	for (size_t i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "<0x%02X>", (unsigned char)rare[i]);
		assert_string_equal(arca_tokenizer_text(t, ids[n - 4 + i]), name);
	}
	free(ids);
	/* empty text: nothing, not even the space prefix */
	assert_int_equal(arca_tokenize(t, "", 0, 0, &ids, &n), ARCA_OK);
	assert_int_equal(n, 0);
	free(ids);
	unload(t, &file, g);

	/* tokenizer_config.json: add_bos_token false, an added special token */
	const char *config = "{\"add_bos_token\": false, \"added_tokens_decoder\": "
		"{\"5\": {\"content\": \"<|im_end|>\", \"special\": true}}}";
	t = load("bpe", NULL, config, &file, &g);
	assert_int_equal(arca_tokenize(t, "a<|im_end|>", 11, ARCA_TOK_ADD_SPECIAL |
		ARCA_TOK_PARSE_SPECIAL, &ids, &n), ARCA_OK);
	assert_true(n >= 2);
	assert_int_not_equal(ids[0], 1);
	assert_int_equal(ids[n - 1], 5);
	assert_true(arca_tokenizer_is_eog(t, 5));
	free(ids);
	unload(t, &file, g);
}

static void test_refusals(void **state)
{
	(void)state;
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	/* a tokenizer.model that is not a ModelProto */
	arca_tokenizer_sources src = { .spm_model = "\x0a\xff\xff", .spm_model_len = 3 };
	assert_int_equal(arca_tokenizer_to_gguf(w, &src), ARCA_ECORRUPT);
	assert_error_mentions("tokenizer.model");
	/* no source at all */
	arca_tokenizer_sources none = { 0 };
	assert_int_equal(arca_tokenizer_to_gguf(w, &none), ARCA_EUNSUPPORTED);
	assert_error_mentions("tokenizer.model");
	/* a SentencePiece "word" model: pieces "a" "b" "c", trainer_spec model_type 3 */
	static const char word[] = "\x0a\x03\x0a\x01\x61\x0a\x03\x0a\x01\x62"
		"\x0a\x03\x0a\x01\x63\x12\x02\x18\x03";
	arca_tokenizer_sources w3 = { .spm_model = word, .spm_model_len = sizeof(word) - 1 };
	assert_int_equal(arca_tokenizer_to_gguf(w, &w3), ARCA_EUNSUPPORTED);
	assert_error_mentions("word");
	arca_gguf_writer_free(w);

	/* a GGUF "llama" vocabulary without scores */
	t_buffer file;
	arca_gguf *g;
	arca_tokenizer *t = load("bpe", NULL, NULL, &file, &g);
	unload(t, &file, g);
	char rel[] = "tokenizers/spm/bpe.model";
	blob m = read_data(rel);
	arca_tokenizer_sources s2 = { .spm_model = m.data, .spm_model_len = m.len };
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	assert_int_equal(arca_tokenizer_to_gguf(w, &s2), ARCA_OK);
	t_buffer tmp = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &tmp), ARCA_OK);
	arca_gguf_writer_free(w);
	arca_gguf *full;
	assert_int_equal(arca_gguf_open_buffer(&full, tmp.data, tmp.len, "t.gguf"), ARCA_OK);
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	const arca_gguf_kv *kv;
	for (size_t i = 0; (kv = arca_gguf_kv_at(full, i)); i++)
		if (kv->key.len != strlen("tokenizer.ggml.scores") ||
		    memcmp(kv->key.ptr, "tokenizer.ggml.scores", kv->key.len))
			assert_int_equal(arca_gguf_add_kv_copy(w, kv), ARCA_OK);
	t_buffer out = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &out), ARCA_OK);
	arca_gguf_writer_free(w);
	arca_gguf *noscores;
	assert_int_equal(arca_gguf_open_buffer(&noscores, out.data, out.len, "t.gguf"), ARCA_OK);
	assert_int_equal(arca_tokenizer_from_gguf(&t, noscores), ARCA_ENOTFOUND);
	assert_error_mentions("scores");
	arca_gguf_free(noscores);
	arca_gguf_free(full);
	free(out.data);
	free(tmp.data);
	free(m.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unigram_parity),
		cmocka_unit_test(test_bpe_parity),
		cmocka_unit_test(test_no_byte_fallback_parity),
		cmocka_unit_test(test_bos_bytes_and_config),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
