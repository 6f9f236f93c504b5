/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/convert/test_tokenizer_spm.c — the GGUF metadata convert/tokenizer_spm.c and
 * convert/tokenizer_tiktoken.c write, key by key: for a SentencePiece model the `llama`
 * vocabulary (pieces, scores, types, [PAD] up to vocab_size, added tokens, flags, special
 * ids, arca's model-type key); for a tiktoken vocabulary the `gpt2` one (byte-level texts,
 * Kimi's reserved special tokens, pre "kimi-k2"); and their refusals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "arca/tokenizer_meta.h"
#include "support.h"

typedef struct {
	t_buffer file;
	arca_gguf *g;
} meta;

static char *read_data(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", ARCA_TEST_DATA, rel);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* Converts; returns the error (the GGUF is opened only on success). */
static arca_err convert(meta *m, const arca_tokenizer_sources *src)
{
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	arca_err err = arca_tokenizer_to_gguf(w, src);
	memset(m, 0, sizeof(*m));
	if (err == ARCA_OK) {
		assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &m->file), ARCA_OK);
		assert_int_equal(arca_gguf_open_buffer(&m->g, m->file.data, m->file.len, "t.gguf"),
			ARCA_OK);
	}
	arca_gguf_writer_free(w);
	return err;
}

static void dispose(meta *m)
{
	arca_gguf_free(m->g);
	free(m->file.data);
}

static void expect_str(const arca_gguf *g, const char *key, const char *want)
{
	char *s = NULL;
	assert_int_equal(arca_gguf_get_str(g, key, &s), ARCA_OK);
	assert_string_equal(s, want);
	free(s);
}

static void expect_token(const arca_gguf *g, uint32_t id, const char *text, int32_t type)
{
	const arca_gguf_kv *tokens, *types;
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.tokens", ARCA_GGUF_STRING, &tokens),
		ARCA_OK);
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.token_type", ARCA_GGUF_I32, &types),
		ARCA_OK);
	assert_true(id < tokens->n_elems);
	if (tokens->strs[id].len != strlen(text) || memcmp(tokens->strs[id].ptr, text,
			strlen(text)))
		fail_msg("token %u is '%.*s', want '%s'", id, (int)tokens->strs[id].len,
			tokens->strs[id].ptr, text);
	int32_t t;
	memcpy(&t, types->elems + 4 * (size_t)id, 4);
	assert_int_equal(t, type);
}

static float score_of(const arca_gguf *g, uint32_t id)
{
	const arca_gguf_kv *scores;
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.scores", ARCA_GGUF_F32, &scores),
		ARCA_OK);
	float f;
	memcpy(&f, scores->elems + 4 * (size_t)id, 4);
	return f;
}

static void test_sentencepiece_keys(void **state)
{
	(void)state;
	size_t len;
	char *model = read_data("tokenizers/spm/unigram.model", &len);
	const char *added = "{\"<|extra|>\": 1100, \"\xe2\x96\x81hi there\": 1101}";
	const char *config = "{\"added_tokens_decoder\": {\"1102\": {\"content\": \"<tool>\", "
		"\"special\": true}}, \"eos_token\": \"<tool>\", \"add_bos_token\": true}";
	arca_tokenizer_sources src = { .spm_model = model, .spm_model_len = len,
		.added_tokens_json = added, .tokenizer_config_json = config, .vocab_size = 1200 };
	meta m;
	assert_int_equal(convert(&m, &src), ARCA_OK);
	expect_str(m.g, "tokenizer.ggml.model", "llama");
	expect_str(m.g, "tokenizer.ggml.pre", "default");
	expect_str(m.g, "tokenizer.arca.spm_model_type", "unigram");
	expect_token(m.g, 0, "<unk>", 2);
	expect_token(m.g, 1, "<s>", 3);
	expect_token(m.g, 2, "</s>", 3);
	expect_token(m.g, 3, "<0x00>", 6);
	expect_token(m.g, 258, "<0xFF>", 6);
	expect_token(m.g, 1100, "<|extra|>", 3);      /* special-looking: CONTROL */
	expect_token(m.g, 1101, " hi there", 4);      /* ▁ → space, USER_DEFINED */
	expect_token(m.g, 1102, "<tool>", 3);
	expect_token(m.g, 1199, "[PAD1199]", 5);
	assert_true(score_of(m.g, 1100) == -1000.0f);
	assert_true(score_of(m.g, 1199) == -10000.0f);
	assert_true(score_of(m.g, 300) < 0 && score_of(m.g, 300) > -100);
	uint32_t id;
	assert_int_equal(arca_gguf_get_u32(m.g, "tokenizer.ggml.bos_token_id", &id), ARCA_OK);
	assert_int_equal(id, 1);
	assert_int_equal(arca_gguf_get_u32(m.g, "tokenizer.ggml.eos_token_id", &id), ARCA_OK);
	assert_int_equal(id, 1102);                   /* tokenizer_config's text wins */
	assert_int_equal(arca_gguf_get_u32(m.g, "tokenizer.ggml.unknown_token_id", &id), ARCA_OK);
	assert_int_equal(id, 0);
	assert_null(arca_gguf_find_kv(m.g, "tokenizer.ggml.padding_token_id")); /* pad_id -1 */
	int flag;
	assert_int_equal(arca_gguf_get_bool(m.g, "tokenizer.ggml.add_space_prefix", &flag), ARCA_OK);
	assert_true(flag);
	assert_int_equal(arca_gguf_get_bool(m.g, "tokenizer.ggml.remove_extra_whitespaces", &flag),
		ARCA_OK);
	assert_false(flag);
	assert_int_equal(arca_gguf_get_bool(m.g, "tokenizer.ggml.add_bos_token", &flag), ARCA_OK);
	assert_true(flag);
	dispose(&m);

	/* refusals: vocab_size below the pieces, an added id outside, a duplicate text */
	src = (arca_tokenizer_sources){ .spm_model = model, .spm_model_len = len,
		.vocab_size = 1000 };
	assert_int_equal(convert(&m, &src), ARCA_EINVALID);
	assert_error_mentions("vocab_size 1000");
	src.vocab_size = 0;
	src.added_tokens_json = "{\"<x>\": 5000}";
	assert_int_equal(convert(&m, &src), ARCA_EINVALID);
	assert_error_mentions("added_tokens.json");
	src.added_tokens_json = "[1, 2]";
	assert_int_equal(convert(&m, &src), ARCA_EINVALID);
	assert_error_mentions("added_tokens.json");
	src.added_tokens_json = NULL;
	src.tokenizer_config_json = "{\"added_tokens_decoder\": {\"5\": {\"content\": \"<s>\"}}}";
	assert_int_equal(convert(&m, &src), ARCA_EINVALID);
	assert_error_mentions("'<s>' has two ids");
	free(model);
}

static void test_tiktoken_keys(void **state)
{
	(void)state;
	/* four single bytes and "ab", "abc"; one named special, the rest reserved */
	const char *ranks = "YQ== 0\nYg== 1\nYw== 2\nIA== 3\nYWI= 4\nYWJj 5\n";
	const char *config = "{\"added_tokens_decoder\": {\"6\": {\"content\": \"[BOS]\"}}, "
		"\"bos_token\": \"[BOS]\"}";
	arca_tokenizer_sources src = { .tiktoken_model = ranks, .tiktoken_model_len = strlen(ranks),
		.tokenizer_config_json = config };
	meta m;
	assert_int_equal(convert(&m, &src), ARCA_OK);
	expect_str(m.g, "tokenizer.ggml.model", "gpt2");
	expect_str(m.g, "tokenizer.ggml.pre", "kimi-k2");
	expect_token(m.g, 3, "\xc4\xa0", 1);               /* space → Ġ */
	expect_token(m.g, 5, "abc", 1);
	expect_token(m.g, 6, "[BOS]", 3);
	expect_token(m.g, 7, "<|reserved_token_7|>", 3);
	expect_token(m.g, 261, "<|reserved_token_261|>", 3); /* 256 after the ranks */
	const arca_gguf_kv *kv;
	assert_int_equal(arca_gguf_get_arr(m.g, "tokenizer.ggml.tokens", ARCA_GGUF_STRING, &kv),
		ARCA_OK);
	assert_int_equal(kv->n_elems, 262);
	assert_int_equal(arca_gguf_get_arr(m.g, "tokenizer.ggml.merges", ARCA_GGUF_STRING, &kv),
		ARCA_OK);
	assert_int_equal(kv->n_elems, 2);
	assert_int_equal(kv->strs[0].len, 3);
	assert_memory_equal(kv->strs[0].ptr, "a b", 3);
	assert_memory_equal(kv->strs[1].ptr, "ab c", 4);
	uint32_t id;
	assert_int_equal(arca_gguf_get_u32(m.g, "tokenizer.ggml.bos_token_id", &id), ARCA_OK);
	assert_int_equal(id, 6);
	dispose(&m);
	/* vocab_size pads with [PAD], and must hold every added id */
	src.vocab_size = 300;
	assert_int_equal(convert(&m, &src), ARCA_OK);
	expect_token(m.g, 299, "[PAD299]", 5);
	dispose(&m);
	src.vocab_size = 6;
	assert_int_equal(convert(&m, &src), ARCA_EINVALID);
	assert_error_mentions("vocab_size 6");
	/* a special whose text is a byte-level token's: two ids */
	src.vocab_size = 0;
	src.tokenizer_config_json = "{\"added_tokens_decoder\": {\"6\": {\"content\": \"abc\"}}}";
	assert_int_equal(convert(&m, &src), ARCA_EINVALID);
	assert_error_mentions("'abc' has two ids");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sentencepiece_keys),
		cmocka_unit_test(test_tiktoken_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
