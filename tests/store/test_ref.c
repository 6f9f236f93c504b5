/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_ref.c — REF parsing: one table of good and bad references.
 */
#include <stdio.h>
#include <string.h>

#include "arca/ref.h"
#include "support.h"

static const struct {
	const char *text;
	const char *hub, *repo, *revision, *variant;
} good[] = {
	{ "Qwen/Qwen3-0.6B", "", "Qwen/Qwen3-0.6B", "", "" },
	{ "hf:Qwen/Qwen3-0.6B@main", "hf", "Qwen/Qwen3-0.6B", "main", "" },
	{ "huggingface:Qwen/Qwen3-0.6B", "hf", "Qwen/Qwen3-0.6B", "", "" },
	{ "ms:Qwen/Qwen3-0.6B", "modelscope", "Qwen/Qwen3-0.6B", "", "" },
	{ "modelscope:ZhipuAI/glm-4-9b-chat@master", "modelscope", "ZhipuAI/glm-4-9b-chat",
		"master", "" },
	{ "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B@refs/pr/12", "",
		"deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "refs/pr/12", "" },
	{ "Qwen/Qwen2.5-0.5B-Instruct@0123abcd:Q4_K_M", "", "Qwen/Qwen2.5-0.5B-Instruct",
		"0123abcd", "q4_k_m" },
	{ "local:acme/tiny:f16", "local", "acme/tiny", "", "f16" },
	{ "a_b/c_d@v1.0", "", "a_b/c_d", "v1.0", "" },
};

static const struct {
	const char *text;
	const char *reason;
} bad[] = {
	{ "", "empty" },
	{ "Qwen3-0.6B", "org/name" },
	{ "foo:Qwen/Qwen3", "unknown hub" },
	{ ":Qwen/Qwen3", "hub prefix" },
	{ "Qwen/", "empty name" },
	{ "/Qwen3", "empty organisation" },
	{ "a/b/c", "more than one" },
	{ "Qwen/Qwen3 0.6B", "may only contain" },
	{ "Qwen/-bad", "start and end" },
	{ "Qwen/bad-", "start and end" },
	{ "Qwen/a--b", "'--'" },
	{ "Qwen/a..b", "'..'" },
	{ "Qwen/x@", "empty revision" },
	{ "Qwen/x@a b", "space" },
	{ "Qwen/x@../../etc", "'..'" },
	{ "Qwen/x:", "bad variant" },
	{ "Qwen/x:q4-k", "variant may only" },
	{ "Qwen/x@main:q4:k", "variant may only" },
};

static void test_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		arca_ref ref;
		if (arca_ref_parse(&ref, good[i].text) != ARCA_OK)
			fail_msg("'%s' refused: %s", good[i].text, arca_error_last());
		assert_string_equal(ref.hub, good[i].hub);
		assert_string_equal(ref.repo_id, good[i].repo);
		assert_string_equal(ref.revision, good[i].revision);
		assert_string_equal(ref.variant, good[i].variant);
	}
}

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		arca_ref ref;
		if (arca_ref_parse(&ref, bad[i].text) != ARCA_EINVALID)
			fail_msg("'%s' accepted", bad[i].text);
		assert_error_mentions(bad[i].reason);
	}
}

static void test_too_long(void **state)
{
	(void)state;
	char text[800];
	memset(text, 'a', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	text[3] = '/';
	arca_ref ref;
	assert_int_equal(arca_ref_parse(&ref, text), ARCA_EINVALID);
	assert_error_mentions("longer than");
}

static void test_format_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		arca_ref a, b;
		char text[700];
		assert_int_equal(arca_ref_parse(&a, good[i].text), ARCA_OK);
		arca_ref_format(text, sizeof(text), &a);
		assert_int_equal(arca_ref_parse(&b, text), ARCA_OK);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_format_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
