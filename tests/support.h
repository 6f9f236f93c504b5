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

/* Number of entries in a folder (without . and ..). */
int t_count_entries(const char *dir);

/* assert that the thread's error message contains `needle`. */
#define assert_error_mentions(needle) \
	do { \
		const char *msg_ = arca_error_last(); \
		if (!strstr(msg_, (needle))) \
			fail_msg("error message '%s' does not mention '%s'", msg_, (needle)); \
	} while (0)

#endif
