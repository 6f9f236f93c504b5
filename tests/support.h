/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/support.h — helpers the unit tests share: temporary folders that clean up after
 * themselves, small file writers, a fresh store, and running a shell command for an
 * independent reference value (sha256sum, git hash-object).
 */
#ifndef ARCA_TESTS_SUPPORT_H
#define ARCA_TESTS_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "arca/store.h"

/* A new empty folder under $TMPDIR (or /tmp); malloc'ed path. */
char *t_tempdir(void);

/* rm -rf, tolerating read-only files. */
void t_remove_tree(const char *path);

/* Writes `len` bytes (or strlen(text) when len is SIZE_MAX) to dir/rel, creating folders. */
void t_write_file(const char *dir, const char *rel, const char *text, size_t len);

/* dir/rel, malloc'ed. */
char *t_path(const char *dir, const char *rel);

/* Creates a store in a new temporary folder and opens it. */
arca_store *t_store_new(char **home_out);

/* Runs a shell command and returns the first line of its stdout (malloc'ed, no newline). */
char *t_shell_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tests/data/<rel>.zst decompressed (malloc'ed, one spare NUL byte after the end, so text
 * files are strings); fails the test when missing or damaged. */
void *t_read_data_zst(const char *rel, size_t *len_out);

/* A growing byte buffer, and a writer sink (arca_sink_fn's shape) that appends to one:
 * GGUF and safetensors tests build files in memory with them. The data is the caller's
 * to free. */
typedef struct {
	unsigned char *data;
	size_t len, cap;
} t_buffer;

arca_err t_buffer_sink(void *buffer, const void *data, size_t len);

/* The git blob id of a file's content (sha1 of "blob SIZE\0" + bytes), computed by python3's
 * hashlib: an independent reference that needs no git. Fails the test when it cannot. */
char *t_git_blob_id(const char *path);

/* Number of entries in a folder (without . and ..). */
int t_count_entries(const char *dir);

/* assert that the thread's error message contains `needle`. */
#define assert_error_mentions(needle) \
	do { \
		const char *msg_ = arca_error_last(); \
		if (!strstr(msg_, (needle))) \
			fail_msg("error message '%s' does not mention '%s'", msg_, (needle)); \
	} while (0)

/*
 * Skips. A test that cannot run here (the CPU lacks an instruction set, say) must show as
 * skipped, never as passed: t_skip() says why on stdout ("SKIP: ...", which scripts/test.sh
 * reports) and ends the running cmocka test as skipped; main returns t_exit(), which turns
 * "nothing failed, something skipped" into exit code 77, CTest's SKIP_RETURN_CODE
 * (tests/CMakeLists.txt). cmocka's own exit code does not count skips, so a test file that
 * skips must end with t_exit:
 *
 *     return t_exit(cmocka_run_group_tests(tests, NULL, NULL));
 */
#define T_SKIP_EXIT 77
#define t_skip(...) \
	do { \
		t_skip_note(__VA_ARGS__); \
		skip(); \
	} while (0)
void t_skip_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int t_exit(int failed);

#endif
