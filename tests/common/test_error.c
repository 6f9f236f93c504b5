/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/common/test_error.c — the error convention: code and message set together,
 * errno mapping, prefixes, truncation, per-thread messages and handing them across threads.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "arca/error.h"
#include "support.h"

static void test_set_returns_code_and_message(void **state)
{
	(void)state;
	assert_int_equal(arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s' ends past end of file",
		"m.gguf", "w"), ARCA_ECORRUPT);
	assert_string_equal(arca_error_last(), "m.gguf: tensor 'w' ends past end of file");
	assert_int_equal(arca_error_last_code(), ARCA_ECORRUPT);
	arca_error_clear();
	assert_string_equal(arca_error_last(), "");
	assert_int_equal(arca_error_last_code(), ARCA_OK);
}

static void test_errno_mapping(void **state)
{
	(void)state;
	static const struct {
		int errnum;
		arca_err code;
	} cases[] = {
		{ ENOENT, ARCA_ENOTFOUND }, { EACCES, ARCA_EDENIED }, { ENOMEM, ARCA_ENOMEM },
		{ ENOSPC, ARCA_EIO }, { EEXIST, ARCA_EEXISTS }, { EINTR, ARCA_EINTERRUPTED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(arca_error_errno(cases[i].errnum, "open %s", "/x/y"), cases[i].code);
		assert_error_mentions("open /x/y: ");
		assert_error_mentions(strerror(cases[i].errnum));
	}
}

static void test_prefix_adds_context(void **state)
{
	(void)state;
	arca_err err = arca_error_set(ARCA_EMISMATCH, "sha256 mismatch");
	assert_int_equal(arca_error_prefix(err, "pull %s", "Qwen/Qwen3-0.6B@main"), ARCA_EMISMATCH);
	assert_string_equal(arca_error_last(), "pull Qwen/Qwen3-0.6B@main: sha256 mismatch");
}

static void test_long_message_is_cut_with_marker(void **state)
{
	(void)state;
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	arca_error_set(ARCA_EIO, "%s", big);
	size_t len = strlen(arca_error_last());
	assert_int_equal(len, ARCA_ERROR_MAX - 1);
	assert_string_equal(arca_error_last() + len - 3, "...");
}

static void *worker(void *arg)
{
	arca_error_saved *saved = arg;
	assert_string_equal(arca_error_last(), ""); /* each thread starts clean */
	arca_error_set(ARCA_ENET, "GET http://hub/x: connection reset");
	arca_error_save(saved);
	return NULL;
}

static void test_threads_hand_messages_back(void **state)
{
	(void)state;
	arca_error_set(ARCA_EIO, "main thread message");
	arca_error_saved saved;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, worker, &saved), 0);
	pthread_join(t, NULL);
	assert_string_equal(arca_error_last(), "main thread message");
	assert_int_equal(arca_error_restore(&saved), ARCA_ENET);
	assert_string_equal(arca_error_last(), "GET http://hub/x: connection reset");
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(arca_error_name(ARCA_ENOTFOUND), "not found");
	assert_string_equal(arca_error_name((arca_err)-999), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_returns_code_and_message),
		cmocka_unit_test(test_errno_mapping),
		cmocka_unit_test(test_prefix_adds_context),
		cmocka_unit_test(test_long_message_is_cut_with_marker),
		cmocka_unit_test(test_threads_hand_messages_back),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
