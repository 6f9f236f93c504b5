/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_card.c — card front matter to JSON (types, lists, quoting, hostile
 * input) and the licence record.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arca/card.h"
#include "support.h"

static json_t *parse_ok(const char *readme)
{
	char *json = NULL;
	if (arca_card_parse(&json, readme, strlen(readme)) != ARCA_OK)
		fail_msg("card refused: %s", arca_error_last());
	assert_non_null(json);
	json_t *v = json_loads(json, 0, NULL);
	free(json);
	assert_non_null(v);
	return v;
}

static void test_typical_card(void **state)
{
	(void)state;
	json_t *card = parse_ok(
		"---\r\n"
		"license: other\r\n"
		"license_name: tongyi-qianwen\r\n"
		"license_link: https://huggingface.co/Qwen/Qwen-7B/blob/main/LICENSE\r\n"
		"base_model:\r\n"
		"- Qwen/Qwen2.5-7B\r\n"
		"- deepseek-ai/DeepSeek-R1\r\n"
		"base_model_relation: merge\r\n"
		"tags: [chat, 'text-generation']\r\n"
		"inference: false\r\n"
		"version: '2.0'\r\n"
		"params: 7\r\n"
		"ratio: 0.5\r\n"
		"empty:\r\n"
		"---\r\n# Title\n");
	assert_string_equal(json_string_value(json_object_get(card, "license")), "other");
	assert_string_equal(json_string_value(json_object_get(card, "license_name")),
		"tongyi-qianwen");
	json_t *base = json_object_get(card, "base_model");
	assert_int_equal(json_array_size(base), 2);
	assert_string_equal(json_string_value(json_array_get(base, 1)), "deepseek-ai/DeepSeek-R1");
	assert_true(json_is_false(json_object_get(card, "inference")));
	assert_string_equal(json_string_value(json_object_get(card, "version")), "2.0");
	assert_int_equal(json_integer_value(json_object_get(card, "params")), 7);
	assert_true(json_is_real(json_object_get(card, "ratio")));
	assert_true(json_is_null(json_object_get(card, "empty")));
	assert_int_equal(json_array_size(json_object_get(card, "tags")), 2);
	json_decref(card);
}

static void test_no_front_matter(void **state)
{
	(void)state;
	static const char *const readmes[] = { "# Just a title\n", "", "--- not a fence\n",
		"text\n---\nlicense: mit\n---\n" };
	for (size_t i = 0; i < sizeof(readmes) / sizeof(readmes[0]); i++) {
		char *json = (char *)1;
		assert_int_equal(arca_card_parse(&json, readmes[i], strlen(readmes[i])), ARCA_OK);
		assert_null(json);
	}
}

static void test_bom_and_empty(void **state)
{
	(void)state;
	json_t *card = parse_ok("\xef\xbb\xbf---\nlicense: mit\n---\n");
	assert_string_equal(json_string_value(json_object_get(card, "license")), "mit");
	json_decref(card);
	card = parse_ok("---\n---\n");
	assert_true(json_is_object(card));
	assert_int_equal(json_object_size(card), 0);
	json_decref(card);
}

static const struct {
	const char *readme;
	const char *reason;
} bad[] = {
	{ "---\nlicense: mit\n", "no closing" },
	{ "---\nlicense: [mit\n---\n", "line" },
	{ "---\n- a\n- b\n---\n", "not a mapping" },
	{ "---\n? [a, b]\n: c\n---\n", "key" },
	{ "---\njust a string\n---\n", "not a mapping" },
};

static void test_bad_cards(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *json = NULL;
		if (arca_card_parse(&json, bad[i].readme, strlen(bad[i].readme)) != ARCA_EINVALID)
			fail_msg("card %zu accepted", i);
		assert_null(json);
		assert_error_mentions(bad[i].reason);
	}
}

/* A billion-laughs card: aliases that expand exponentially must hit the node budget. */
static void test_alias_bomb(void **state)
{
	(void)state;
	const char *bomb =
		"---\n"
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"---\n";
	char *json = NULL;
	assert_int_equal(arca_card_parse(&json, bomb, strlen(bomb)), ARCA_EINVALID);
	assert_error_mentions("100000 nodes");
}

static void test_deep_nesting(void **state)
{
	(void)state;
	char readme[2000] = "---\nk: ";
	for (int i = 0; i < 200; i++)
		strcat(readme, "[");
	for (int i = 0; i < 200; i++)
		strcat(readme, "]");
	strcat(readme, "\n---\n");
	char *json = NULL;
	assert_int_equal(arca_card_parse(&json, readme, strlen(readme)), ARCA_EINVALID);
	assert_null(json);
}

static void test_license_files(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		int is_license;
	} names[] = {
		{ "LICENSE", 1 }, { "license.txt", 1 }, { "LICENCE.md", 1 }, { "LICENSE-MODEL", 1 },
		{ "NOTICE", 1 }, { "COPYING", 1 }, { "Tongyi Qianwen LICENSE AGREEMENT", 1 },
		{ "README.md", 0 }, { "config.json", 0 }, { "docs/LICENSE", 0 },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(arca_card_is_license_file(names[i].path), names[i].is_license);
}

static json_t *license_of(const char *card_json, const arca_license_file *files, size_t n)
{
	char *out;
	assert_int_equal(arca_card_license(&out, card_json, files, n), ARCA_OK);
	json_t *v = json_loads(out, 0, NULL);
	free(out);
	return v;
}

static void test_license_record(void **state)
{
	(void)state;
	arca_license_file deepseek = { "LICENSE-MODEL",
		"DEEPSEEK LICENSE AGREEMENT\n\nVersion 1.0, 23 October 2023", 55 };
	arca_license_file apache = { "LICENSE",
		"\n                                 Apache License\n           Version 2.0", 70 };

	json_t *lic = license_of("{\"license\":\"mit\"}", &apache, 1);
	assert_string_equal(json_string_value(json_object_get(lic, "summary")), "mit");
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(lic, "detected"), 0), "id")), "apache-2.0");
	json_decref(lic);

	lic = license_of("{\"license\":\"other\",\"license_name\":\"deepseek\"}", &deepseek, 1);
	assert_string_equal(json_string_value(json_object_get(lic, "summary")), "other: deepseek");
	json_decref(lic);

	lic = license_of(NULL, &deepseek, 1);
	assert_string_equal(json_string_value(json_object_get(lic, "summary")),
		"deepseek (from LICENSE-MODEL)");
	json_decref(lic);

	lic = license_of(NULL, NULL, 0);
	assert_string_equal(json_string_value(json_object_get(lic, "summary")), "unknown");
	assert_true(json_is_null(json_object_get(lic, "id")));
	json_decref(lic);

	char *summary = arca_card_license_summary("{\"summary\":\"mit\"}");
	assert_string_equal(summary, "mit");
	free(summary);
	summary = arca_card_license_summary("not json");
	assert_string_equal(summary, "unknown");
	free(summary);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typical_card),
		cmocka_unit_test(test_no_front_matter),
		cmocka_unit_test(test_bom_and_empty),
		cmocka_unit_test(test_bad_cards),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_license_files),
		cmocka_unit_test(test_license_record),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
