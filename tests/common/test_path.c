/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/common/test_path.c — the check every untrusted relative path passes before arca
 * creates a file from it: one table of accepted and refused paths.
 */
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "support.h"

static const struct {
	const char *path;
	size_t len; /* 0: strlen */
	int ok;
	const char *reason;
} cases[] = {
	{ "config.json", 0, 1, NULL },
	{ "onnx/model.onnx", 0, 1, NULL },
	{ "a/b/c/d.bin", 0, 1, NULL },
	{ ".gitattributes", 0, 1, NULL },
	{ "..hidden", 0, 1, NULL },
	{ "模型/权重.safetensors", 0, 1, NULL },
	{ "", 0, 0, "empty" },
	{ "/etc/passwd", 0, 0, "absolute" },
	{ "../escape", 0, 0, "'..' segment" },
	{ "a/../../b", 0, 0, "'..' segment" },
	{ "a/..", 0, 0, "'..' segment" },
	{ "./a", 0, 0, "'.' segment" },
	{ "a//b", 0, 0, "empty segment" },
	{ "a/", 0, 0, "empty segment" },
	{ "C:/windows", 0, 0, "drive letter" },
	{ "a\\..\\b", 0, 0, "backslash" },
	{ "a\nb", 0, 0, "control character" },
	{ "a\0b", 3, 0, "NUL" },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].path);
		arca_err err = arca_path_check_relative(cases[i].path, len);
		if (cases[i].ok) {
			if (err != ARCA_OK)
				fail_msg("'%s' refused: %s", cases[i].path, arca_error_last());
		} else {
			if (err != ARCA_EINVALID)
				fail_msg("'%s' accepted", cases[i].path);
			assert_error_mentions(cases[i].reason);
		}
	}
}

static void test_long_paths(void **state)
{
	(void)state;
	char seg[300];
	memset(seg, 'a', 256);
	seg[256] = '\0';
	assert_int_equal(arca_path_check_relative(seg, strlen(seg)), ARCA_EINVALID);
	assert_error_mentions("over 255");
	char path[5000];
	memset(path, 'a', sizeof(path));
	for (size_t i = 100; i < sizeof(path); i += 100)
		path[i] = '/';
	assert_int_equal(arca_path_check_relative(path, sizeof(path)), ARCA_EINVALID);
	assert_error_mentions("longer than 4096");
}

static void test_join(void **state)
{
	(void)state;
	char *p = arca_path_join("a", "b");
	assert_string_equal(p, "a/b");
	free(p);
	p = arca_path_join("a/", "b");
	assert_string_equal(p, "a/b");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_long_paths),
		cmocka_unit_test(test_join),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
