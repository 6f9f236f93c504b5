/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fetch/test_pull.c — file selection for pulls, as the Hub's client does it:
 * fnmatch globs where '*' crosses '/', "dir/" for a folder, excludes after includes.
 */
#include "arca/pull.h"
#include "support.h"

static void test_selection(void **state)
{
	(void)state;
	static const char *const none[] = { NULL };
	static const char *const json[] = { "*.json" };
	static const char *const folder[] = { "original/" };
	static const char *const two[] = { "*.safetensors", "config.json" };
	static const struct {
		const char *path;
		const char *const *inc;
		size_t n_inc;
		const char *const *exc;
		size_t n_exc;
		int selected;
	} cases[] = {
		{ "anything", none, 0, none, 0, 1 },
		{ "config.json", json, 1, none, 0, 1 },
		{ "sub/config.json", json, 1, none, 0, 1 }, /* '*' crosses '/' */
		{ "model.safetensors", json, 1, none, 0, 0 },
		{ "original/consolidated.pth", none, 0, folder, 1, 0 },
		{ "original.txt", none, 0, folder, 1, 1 },
		{ "model-00001.safetensors", two, 2, none, 0, 1 },
		{ "config.json", two, 2, json, 1, 0 }, /* excluded after included */
		{ "tokenizer.json", two, 2, none, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (arca_pull_selects(cases[i].path, cases[i].inc, cases[i].n_inc, cases[i].exc,
				cases[i].n_exc) != cases[i].selected)
			fail_msg("case %zu (%s) selected wrongly", i, cases[i].path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
