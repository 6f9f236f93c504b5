/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/test_tokenizer_tiktoken.c — tiktoken.model vocabularies (Kimi K2's format)
 * end to end: the vendored test vocabulary (tests/data/tokenizers/tiktoken, the first 16384
 * ranks of Qwen3's BPE with Kimi-style special tokens) goes through the converter into a
 * GGUF `gpt2` vocabulary with merges derived from the ranks and pre-tokenizer "kimi-k2",
 * then into the runtime tokenizer, whose ids must equal js-tiktoken's
 * (tests/data/tokenizer_corpus/expected_tiktoken.json) on every corpus line and on the whole
 * corpus, and decode back to the text. The derived merges must be the ones Qwen3's own
 * tokenizer.json lists for those ranks, in the same order. The same ranks as GLM-4-9B-chat
 * ships them (a tiktoken-format tokenizer.model, ChatGLM4Tokenizer with its fixed special
 * tokens; tests/data/tokenizers/chatglm4) give pre-tokenizer "chatglm-bpe" and js-tiktoken's
 * ids with GLM's pat_str (expected_chatglm4.json). Also the converter's refusals.
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
	t_buffer file;
	arca_gguf *g;
	arca_tokenizer *tok;
} loaded;

static char *read_text(const char *rel, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", ARCA_TEST_DATA, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* The test ranks as Kimi's tiktoken.model, or (glm) as GLM-4-9B-chat's tokenizer.model. */
static void load_as(loaded *l, int glm)
{
	size_t len, clen;
	char *model = t_read_data_zst("tokenizers/tiktoken/tiktoken.model", &len);
	char *config = read_text(glm ? "tokenizers/chatglm4/tokenizer_config.json" :
		"tokenizers/tiktoken/tokenizer_config.json", &clen);
	arca_tokenizer_sources src = { .tiktoken_model = model, .tiktoken_model_len = len,
		.tokenizer_config_json = config };
	if (glm)
		src = (arca_tokenizer_sources){ .spm_model = model, .spm_model_len = len,
			.tokenizer_config_json = config };
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	if (arca_tokenizer_to_gguf(w, &src) != ARCA_OK)
		fail_msg("convert: %s", arca_error_last());
	memset(l, 0, sizeof(*l));
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &l->file), ARCA_OK);
	arca_gguf_writer_free(w);
	assert_int_equal(arca_gguf_open_buffer(&l->g, l->file.data, l->file.len, "t.gguf"), ARCA_OK);
	if (arca_tokenizer_from_gguf(&l->tok, l->g) != ARCA_OK)
		fail_msg("tokenizer: %s", arca_error_last());
	free(model);
	free(config);
}

static void load(loaded *l)
{
	load_as(l, 0);
}

static void unload(loaded *l)
{
	arca_tokenizer_free(l->tok);
	arca_gguf_free(l->g);
	free(l->file.data);
}

static void expect_ids(const arca_tokenizer *t, const char *text, size_t len, json_t *want)
{
	int32_t *ids;
	size_t n;
	if (arca_tokenize(t, text, len, ARCA_TOK_PARSE_SPECIAL, &ids, &n) != ARCA_OK)
		fail_msg("%s", arca_error_last());
	size_t i = 0;
	while (i < n && i < json_array_size(want) &&
	       ids[i] == json_integer_value(json_array_get(want, i)))
		i++;
	if (i != n || n != json_array_size(want))
		fail_msg("\"%.60s\": %zu ids, want %zu; first difference at %zu: %d vs %lld", text, n,
			json_array_size(want), i, i < n ? ids[i] : -1,
			(long long)json_integer_value(json_array_get(want, i)));
	char *back = malloc(len * 4 + 64);
	size_t o = 0;
	for (size_t k = 0; k < n; k++) {
		int b = arca_token_to_bytes(t, ids[k], back + o, len * 4 + 64 - o);
		assert_true(b >= 0);
		o += (size_t)b;
	}
	if (o != len || memcmp(back, text, len))
		fail_msg("decoding \"%.60s\" does not give the text back", text);
	free(back);
	free(ids);
}

/* Every corpus line and the whole corpus give the ids of the expected file. */
static void expect_corpus(const arca_tokenizer *tok, const char *expected_file,
	const char *what)
{
	size_t elen, clen;
	char *expected = read_text(expected_file, &elen);
	char *corpus = read_text("tokenizer_corpus/corpus.txt", &clen);
	json_t *want = json_loads(expected, 0, NULL);
	assert_non_null(want);
	json_t *lines = json_object_get(want, "lines");
	size_t li = 0, n_ids = 0;
	for (char *p = corpus, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl > p) {
			n_ids += json_array_size(json_array_get(lines, li));
			expect_ids(tok, p, (size_t)(nl - p), json_array_get(lines, li++));
		}
		if (!*nl)
			break;
	}
	assert_int_equal(li, json_array_size(lines));
	expect_ids(tok, corpus, clen, json_object_get(want, "whole"));
	n_ids += json_array_size(json_object_get(want, "whole"));
	printf("%s: %zu texts, %zu ids, all equal to js-tiktoken's\n", what, li + 1, n_ids);
	json_decref(want);
	free(expected);
	free(corpus);
}

static void test_parity_with_js_tiktoken(void **state)
{
	(void)state;
	loaded l;
	load(&l);
	expect_corpus(l.tok, "tokenizer_corpus/expected_tiktoken.json", "tiktoken (kimi-k2)");
	/* special tokens: [BOS] is bos, <|im_end|> a control token that ends a turn */
	assert_int_equal(arca_tokenizer_bos(l.tok), 16384);
	assert_int_equal(arca_tokenizer_eos(l.tok), 16385);
	assert_string_equal(arca_tokenizer_text(l.tok, 16386), "<|im_end|>");
	assert_true(arca_tokenizer_is_eog(l.tok, 16386));
	unload(&l);
}

/* GLM-4-9B-chat's format: a tiktoken-format tokenizer.model, ChatGLM4Tokenizer's specials */
static void test_chatglm4(void **state)
{
	(void)state;
	loaded l;
	load_as(&l, 1);
	char *pre = NULL;
	assert_int_equal(arca_gguf_get_str(l.g, "tokenizer.ggml.pre", &pre), ARCA_OK);
	assert_string_equal(pre, "chatglm-bpe");
	free(pre);
	expect_corpus(l.tok, "tokenizer_corpus/expected_chatglm4.json",
		"tiktoken-format tokenizer.model (chatglm-bpe)");
	/* the 14 specials right after the 16384 ranks; eos/unk <|endoftext|>, eot <|user|> */
	assert_string_equal(arca_tokenizer_text(l.tok, 16384), "<|endoftext|>");
	assert_string_equal(arca_tokenizer_text(l.tok, 16386), "[gMASK]");
	assert_string_equal(arca_tokenizer_text(l.tok, 16397), "<|end_of_video|>");
	assert_int_equal(arca_tokenizer_eos(l.tok), 16384);
	assert_true(arca_tokenizer_bos(l.tok) < 0);
	uint32_t eot;
	assert_int_equal(arca_gguf_get_u32(l.g, "tokenizer.ggml.eot_token_id", &eot), ARCA_OK);
	assert_int_equal(eot, 16391);
	int32_t *ids;
	size_t n;
	const char *chat = "[gMASK]<sop><|user|>\nhi";
	assert_int_equal(arca_tokenize(l.tok, chat, strlen(chat), ARCA_TOK_PARSE_SPECIAL, &ids,
		&n), ARCA_OK);
	assert_true(n >= 4 && ids[0] == 16386 && ids[1] == 16388 && ids[2] == 16391);
	free(ids);
	unload(&l);

	/* the format under another tokenizer class is refused by name */
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	const char *ranks = "IQ== 0\nIg== 1\n", *cfg = "{\"tokenizer_class\": \"Other\"}";
	arca_tokenizer_sources src = { .spm_model = ranks, .spm_model_len = strlen(ranks),
		.tokenizer_config_json = cfg };
	assert_int_equal(arca_tokenizer_to_gguf(w, &src), ARCA_EUNSUPPORTED);
	assert_non_null(strstr(arca_error_last(), "ChatGLM4Tokenizer"));
	arca_gguf_writer_free(w);
}

/* The merges derived from ranks are the ones Qwen3's tokenizer.json has for those tokens. */
static void test_merges_match_qwen3(void **state)
{
	(void)state;
	loaded l;
	load(&l);
	const arca_gguf_kv *merges;
	assert_int_equal(arca_gguf_get_arr(l.g, "tokenizer.ggml.merges", ARCA_GGUF_STRING, &merges),
		ARCA_OK);
	size_t len;
	char *qwen = t_read_data_zst("tokenizers/qwen3/tokenizer.json", &len);
	json_t *root = json_loadb(qwen, len, 0, NULL);
	assert_non_null(root);
	json_t *qm = json_object_get(json_object_get(root, "model"), "merges");
	assert_true(merges->n_elems > 16000 && merges->n_elems <= json_array_size(qm));
	for (uint64_t i = 0; i < merges->n_elems; i++) {
		json_t *m = json_array_get(qm, i);
		char want[512];
		if (json_is_array(m))
			snprintf(want, sizeof(want), "%s %s", json_string_value(json_array_get(m, 0)),
				json_string_value(json_array_get(m, 1)));
		else
			snprintf(want, sizeof(want), "%s", json_string_value(m));
		const arca_gguf_str *s = &merges->strs[i];
		if (s->len != strlen(want) || memcmp(s->ptr, want, s->len))
			fail_msg("merge %llu: '%.*s', Qwen3 has '%s'", (unsigned long long)i, (int)s->len,
				s->ptr, want);
	}
	json_decref(root);
	free(qwen);
	unload(&l);
}

static const struct {
	const char *what, *model, *config, *mentions;
} refusals[] = {
	{ "not base64", "IQ== 0\nIg= 1\n", NULL, "line 2: the token is not base64" },
	{ "a rank out of order", "IQ== 0\nIg== 2\n", NULL, "line 2" },
	{ "no rank", "IQ==\n", NULL, "line 1" },
	{ "a rank with junk", "IQ== 0x\n", NULL, "line 1" },
	{ "a repeated token", "IQ== 0\nIg== 1\nIQ== 2\n", NULL, "rank 2 repeats the token of rank 0" },
	{ "empty", "", NULL, "no tokens" },
	{ "an added token inside the ranks", "IQ== 0\nIg== 1\n",
		"{\"added_tokens_decoder\": {\"1\": {\"content\": \"[BOS]\"}}}", "inside the 2" },
	{ "an added token without content", "IQ== 0\n",
		"{\"added_tokens_decoder\": {\"5\": {}}}", "needs a numeric id" },
};

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		arca_gguf_writer *w;
		assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
		arca_tokenizer_sources src = { .tiktoken_model = refusals[i].model,
			.tiktoken_model_len = strlen(refusals[i].model),
			.tokenizer_config_json = refusals[i].config };
		arca_err err = arca_tokenizer_to_gguf(w, &src);
		if (err != ARCA_EINVALID || !strstr(arca_error_last(), refusals[i].mentions))
			fail_msg("%s: %d \"%s\", want ARCA_EINVALID saying \"%s\"", refusals[i].what, err,
				err ? arca_error_last() : "", refusals[i].mentions);
		arca_gguf_writer_free(w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parity_with_js_tiktoken),
		cmocka_unit_test(test_merges_match_qwen3),
		cmocka_unit_test(test_chatglm4),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
