/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/convert/test_tokenizer_meta.c — tokenizer files to GGUF tokenizer.* metadata, on
 * the real Qwen3 and DeepSeek-V3 tokenizers vendored under tests/data/tokenizers. The
 * expected ids and counts are facts of those published files (checked by reading the JSON
 * with Python when they were vendored), and the pre-tokenizer names are the ones llama.cpp
 * gives these tokenizers. Edited copies check the refusals: an unknown regex, another
 * model type, damaged JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "arca/tokenizer_meta.h"
#include "support.h"

/* Runs arca_tokenizer_to_gguf into a GGUF with no tensors and opens the result. */
static arca_err to_gguf(const arca_tokenizer_sources *src, t_buffer *out, arca_gguf **g)
{
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	arca_err err = arca_tokenizer_to_gguf(w, src);
	if (err == ARCA_OK) {
		assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, out), ARCA_OK);
		assert_int_equal(arca_gguf_open_buffer(g, out->data, out->len, "tok.gguf"), ARCA_OK);
	}
	arca_gguf_writer_free(w);
	return err;
}

static const char *str_at(const arca_gguf_kv *kv, uint64_t i, char *buf, size_t cap)
{
	assert_true(i < kv->n_elems);
	snprintf(buf, cap, "%.*s", (int)kv->strs[i].len, kv->strs[i].ptr);
	return buf;
}

static int32_t i32_at(const arca_gguf_kv *kv, uint64_t i)
{
	int32_t v;
	assert_true(i < kv->n_elems);
	memcpy(&v, kv->elems + 4 * i, 4);
	return v;
}

static uint32_t u32_of(const arca_gguf *g, const char *key)
{
	uint32_t v = 0;
	if (arca_gguf_get_u32(g, key, &v) != ARCA_OK)
		fail_msg("%s missing", key);
	return v;
}

static void test_detect_pre(void **state)
{
	(void)state;
	size_t len;
	const char *pre = NULL;
	char *q = t_read_data_zst("tokenizers/qwen3/tokenizer.json", &len);
	assert_int_equal(arca_tokenizer_detect_pre(&pre, q, len, NULL), ARCA_OK);
	assert_string_equal(pre, "qwen2");
	free(q);
	char *d = t_read_data_zst("tokenizers/deepseek_v3/tokenizer.json", &len);
	assert_int_equal(arca_tokenizer_detect_pre(&pre, d, len, NULL), ARCA_OK);
	assert_string_equal(pre, "deepseek-v3");
	free(d);

	/* llama-bpe and glm4 share one regex: the architecture's choice decides */
	const char *llama3 = "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": ["
		"{\"type\": \"Split\", \"pattern\": {\"Regex\": \"(?i:'s|'t|'re|'ve|'m|'ll|'d)|"
		"[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+"
		"[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"}, \"behavior\": \"Isolated\"},"
		"{\"type\": \"ByteLevel\", \"use_regex\": false}]}}";
	assert_int_equal(arca_tokenizer_detect_pre(&pre, llama3, strlen(llama3), "glm4"), ARCA_OK);
	assert_string_equal(pre, "glm4");
	assert_int_equal(arca_tokenizer_detect_pre(&pre, llama3, strlen(llama3), "llama-bpe"),
		ARCA_OK);
	assert_string_equal(pre, "llama-bpe");

	/* GPT-2: ByteLevel with its own regex, no Split */
	const char *gpt2 = "{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"use_regex\": true}}";
	assert_int_equal(arca_tokenizer_detect_pre(&pre, gpt2, strlen(gpt2), NULL), ARCA_OK);
	assert_string_equal(pre, "gpt-2");

	/* an unknown regex is named, never guessed */
	const char *odd = "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": "
		"\"\\\\p{L}+|[0-9]\"}, \"behavior\": \"Isolated\"}}";
	assert_int_equal(arca_tokenizer_detect_pre(&pre, odd, strlen(odd), "qwen2"),
		ARCA_EUNSUPPORTED);
	assert_error_mentions("\\p{L}+|[0-9]");
	const char *none = "{\"model\": {}}";
	assert_int_equal(arca_tokenizer_detect_pre(&pre, none, strlen(none), NULL),
		ARCA_EUNSUPPORTED);
	assert_int_equal(arca_tokenizer_detect_pre(&pre, "{\"pre", 5, NULL), ARCA_EINVALID);
	assert_error_mentions("tokenizer.json");
}

static void test_qwen3_metadata(void **state)
{
	(void)state;
	size_t len, clen;
	char *json = t_read_data_zst("tokenizers/qwen3/tokenizer.json", &len);
	char *config = t_read_data_zst("tokenizers/qwen3/tokenizer_config.json", &clen);
	arca_tokenizer_sources src = {
		.tokenizer_json = json, .tokenizer_json_len = len,
		.tokenizer_config_json = config,
		.config_json = "{\"bos_token_id\": 151643, \"eos_token_id\": 151645}",
		.arch_pre = "qwen2", .vocab_size = 151936,
	};
	t_buffer out = { 0 };
	arca_gguf *g = NULL;
	assert_int_equal(to_gguf(&src, &out, &g), ARCA_OK);

	char *s = NULL, buf[64];
	assert_int_equal(arca_gguf_get_str(g, "tokenizer.ggml.model", &s), ARCA_OK);
	assert_string_equal(s, "gpt2");
	free(s);
	assert_int_equal(arca_gguf_get_str(g, "tokenizer.ggml.pre", &s), ARCA_OK);
	assert_string_equal(s, "qwen2");
	free(s);
	assert_int_equal(arca_gguf_get_str(g, "tokenizer.ggml.normalizer", &s), ARCA_OK);
	assert_string_equal(s, "nfc");
	free(s);

	/* 151,643 regular tokens + 26 added (151643..151668), padded to vocab_size */
	const arca_gguf_kv *tokens, *types, *merges;
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.tokens", ARCA_GGUF_STRING, &tokens),
		ARCA_OK);
	assert_int_equal(tokens->n_elems, 151936);
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.token_type", ARCA_GGUF_I32, &types),
		ARCA_OK);
	assert_int_equal(types->n_elems, 151936);
	assert_string_equal(str_at(tokens, 0, buf, sizeof(buf)), "!");
	assert_int_equal(i32_at(types, 0), 1);                    /* normal */
	assert_string_equal(str_at(tokens, 151643, buf, sizeof(buf)), "<|endoftext|>");
	assert_int_equal(i32_at(types, 151643), 3);               /* control */
	assert_string_equal(str_at(tokens, 151645, buf, sizeof(buf)), "<|im_end|>");
	assert_string_equal(str_at(tokens, 151668, buf, sizeof(buf)), "</think>");
	assert_int_equal(i32_at(types, 151668), 4);               /* added, not special */
	assert_string_equal(str_at(tokens, 151669, buf, sizeof(buf)), "[PAD151669]");
	assert_int_equal(i32_at(types, 151935), 5);               /* unused */

	/* merges: the pair form ["Ġ", "Ġ"] becomes "Ġ Ġ" */
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.merges", ARCA_GGUF_STRING, &merges),
		ARCA_OK);
	assert_int_equal(merges->n_elems, 151387);
	assert_string_equal(str_at(merges, 0, buf, sizeof(buf)), "\xc4\xa0 \xc4\xa0");

	assert_int_equal(u32_of(g, "tokenizer.ggml.eos_token_id"), 151645);
	assert_int_equal(u32_of(g, "tokenizer.ggml.padding_token_id"), 151643);
	assert_int_equal(u32_of(g, "tokenizer.ggml.bos_token_id"), 151643); /* from config.json */
	int flag = -1;
	assert_int_equal(arca_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &flag), ARCA_OK);
	assert_int_equal(flag, 0);
	assert_int_equal(arca_gguf_get_str(g, "tokenizer.chat_template", &s), ARCA_OK);
	assert_non_null(strstr(s, "<|im_start|>"));
	free(s);
	arca_gguf_free(g);
	free(out.data);

	/* vocab_size 0: the tokenizer's own size, no padding */
	src.vocab_size = 0;
	out = (t_buffer){ 0 };
	assert_int_equal(to_gguf(&src, &out, &g), ARCA_OK);
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.tokens", ARCA_GGUF_STRING, &tokens),
		ARCA_OK);
	assert_int_equal(tokens->n_elems, 151669);
	arca_gguf_free(g);
	free(out.data);

	/* a vocab_size below the highest id cannot hold the tokenizer */
	src.vocab_size = 1000;
	out = (t_buffer){ 0 };
	assert_int_equal(to_gguf(&src, &out, &g), ARCA_EINVALID);
	assert_error_mentions("vocab_size 1000");
	free(out.data);
	free(json);
	free(config);
}

static void test_deepseek_metadata(void **state)
{
	(void)state;
	size_t len, clen;
	char *json = t_read_data_zst("tokenizers/deepseek_v3/tokenizer.json", &len);
	char *config = t_read_data_zst("tokenizers/deepseek_v3/tokenizer_config.json", &clen);
	arca_tokenizer_sources src = {
		.tokenizer_json = json, .tokenizer_json_len = len,
		.tokenizer_config_json = config, .arch_pre = "deepseek-v3", .vocab_size = 129280,
	};
	t_buffer out = { 0 };
	arca_gguf *g = NULL;
	assert_int_equal(to_gguf(&src, &out, &g), ARCA_OK);
	char *s = NULL, buf[64];
	assert_int_equal(arca_gguf_get_str(g, "tokenizer.ggml.pre", &s), ARCA_OK);
	assert_string_equal(s, "deepseek-v3");
	free(s);
	/* the normalizer is an empty Sequence: nothing to record */
	assert_int_equal(arca_gguf_get_str(g, "tokenizer.ggml.normalizer", &s), ARCA_ENOTFOUND);
	const arca_gguf_kv *tokens, *merges;
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.tokens", ARCA_GGUF_STRING, &tokens),
		ARCA_OK);
	assert_int_equal(tokens->n_elems, 129280);
	assert_string_equal(str_at(tokens, 0, buf, sizeof(buf)),
		"<\xef\xbd\x9c" "begin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>");
	/* merges in the string form "Ġ t" stay as they are */
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.merges", ARCA_GGUF_STRING, &merges),
		ARCA_OK);
	assert_int_equal(merges->n_elems, 127741);
	assert_string_equal(str_at(merges, 0, buf, sizeof(buf)), "\xc4\xa0 t");
	assert_int_equal(u32_of(g, "tokenizer.ggml.bos_token_id"), 0);
	assert_int_equal(u32_of(g, "tokenizer.ggml.eos_token_id"), 1);
	int flag = -1;
	assert_int_equal(arca_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &flag), ARCA_OK);
	assert_int_equal(flag, 1);
	arca_gguf_free(g);
	free(out.data);
	free(json);
	free(config);
}

static void test_refusals(void **state)
{
	(void)state;
	t_buffer out = { 0 };
	arca_gguf *g = NULL;
	const char *unigram = "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}, "
		"\"pre_tokenizer\": {\"type\": \"Metaspace\"}}";
	arca_tokenizer_sources src = { .tokenizer_json = unigram,
		.tokenizer_json_len = strlen(unigram) };
	assert_int_equal(to_gguf(&src, &out, &g), ARCA_EUNSUPPORTED);
	assert_error_mentions("Unigram");

	size_t len;
	char *json = t_read_data_zst("tokenizers/qwen3/tokenizer.json", &len);
	src = (arca_tokenizer_sources){ .tokenizer_json = json, .tokenizer_json_len = len / 2 };
	assert_int_equal(to_gguf(&src, &out, &g), ARCA_EINVALID);
	assert_error_mentions("tokenizer.json");

	/* a damaged optional file is an error too, not silently skipped */
	src = (arca_tokenizer_sources){ .tokenizer_json = json, .tokenizer_json_len = len,
		.tokenizer_config_json = "{\"eos_token\": " };
	assert_int_equal(to_gguf(&src, &out, &g), ARCA_EINVALID);
	assert_error_mentions("tokenizer_config.json");
	src.tokenizer_config_json = NULL;
	src.config_json = "[1, 2";
	assert_int_equal(to_gguf(&src, &out, &g), ARCA_EINVALID);
	assert_error_mentions("config.json");
	free(json);
	free(out.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_pre),
		cmocka_unit_test(test_qwen3_metadata),
		cmocka_unit_test(test_deepseek_metadata),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
