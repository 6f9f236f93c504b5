/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/common/test_io.c — the atomic writer: whole files or nothing, with write and fsync
 * failures injected through arca__io_hooks (ENOSPC after N bytes, short writes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "support.h"

static size_t budget; /* bytes the fake disk still takes */

static ssize_t write_until_full(int fd, const void *buf, size_t len)
{
	if (budget == 0) {
		errno = ENOSPC;
		return -1;
	}
	size_t n = len < budget ? len : budget;
	budget -= n;
	return write(fd, buf, n);
}

static ssize_t short_writes(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len > 7 ? 7 : len);
}

static int failing_fsync(int fd)
{
	(void)fd;
	errno = EIO;
	return -1;
}

static void test_commit_makes_whole_file(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	char *final = t_path(dir, "out.txt");
	arca_atomic_file f = ARCA_ATOMIC_FILE_INIT;
	assert_int_equal(arca_atomic_open(&f, dir, final), ARCA_OK);
	assert_int_equal(arca_atomic_write(&f, "hello ", 6), ARCA_OK);
	/* not visible before commit */
	assert_int_equal(access(final, F_OK), -1);
	assert_int_equal(arca_atomic_write(&f, "world", 5), ARCA_OK);
	assert_int_equal(arca_atomic_commit(&f, 0640), ARCA_OK);
	arca_atomic_dispose(&f);
	char *text;
	size_t len;
	assert_int_equal(arca_io_read_file(&text, &len, final, 100), ARCA_OK);
	assert_string_equal(text, "hello world");
	struct stat st;
	assert_int_equal(stat(final, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(t_count_entries(dir), 1); /* no tmp left */
	free(text);
	free(final);
	t_remove_tree(dir);
	free(dir);
}

static void test_disk_full_leaves_nothing(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	char *final = t_path(dir, "out.bin");
	t_write_file(dir, "out.bin", "old contents", SIZE_MAX);
	arca_atomic_file f = ARCA_ATOMIC_FILE_INIT;
	assert_int_equal(arca_atomic_open(&f, dir, final), ARCA_OK);
	budget = 1000;
	arca__io_hooks.write = write_until_full;
	char block[4096] = { 0 };
	arca_err err = arca_atomic_write(&f, block, sizeof(block));
	arca__io_hooks.write = NULL;
	assert_int_equal(err, ARCA_EIO);
	assert_error_mentions(final);
	assert_error_mentions(strerror(ENOSPC));
	arca_atomic_dispose(&f);
	/* the old file is untouched and the temporary is gone */
	char *text;
	assert_int_equal(arca_io_read_file(&text, NULL, final, 100), ARCA_OK);
	assert_string_equal(text, "old contents");
	assert_int_equal(t_count_entries(dir), 1);
	free(text);
	free(final);
	t_remove_tree(dir);
	free(dir);
}

static void test_short_writes_are_completed(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	arca__io_hooks.write = short_writes;
	char *final = t_path(dir, "f");
	arca_err err = arca_io_write_file(final, "0123456789abcdefghij", 20, 0644);
	arca__io_hooks.write = NULL;
	assert_int_equal(err, ARCA_OK);
	char *text;
	assert_int_equal(arca_io_read_file(&text, NULL, final, 100), ARCA_OK);
	assert_string_equal(text, "0123456789abcdefghij");
	free(text);
	free(final);
	t_remove_tree(dir);
	free(dir);
}

static void test_fsync_failure_is_an_error(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	char *final = t_path(dir, "f");
	arca__io_hooks.fsync = failing_fsync;
	arca_err err = arca_io_write_file(final, "x", 1, 0644);
	arca__io_hooks.fsync = NULL;
	assert_int_equal(err, ARCA_EIO);
	assert_error_mentions("fsync");
	assert_int_equal(access(final, F_OK), -1);
	assert_int_equal(t_count_entries(dir), 0);
	free(final);
	t_remove_tree(dir);
	free(dir);
}

static void test_read_file_limits(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	t_write_file(dir, "f", "0123456789", SIZE_MAX);
	char *path = t_path(dir, "f"), *text;
	assert_int_equal(arca_io_read_file(&text, NULL, path, 5), ARCA_EINVALID);
	assert_error_mentions("more than the 5 allowed");
	assert_int_equal(arca_io_read_file(&text, NULL, dir, 5), ARCA_EINVALID);
	assert_error_mentions("not a regular file");
	free(path);
	path = t_path(dir, "missing");
	assert_int_equal(arca_io_read_file(&text, NULL, path, 5), ARCA_ENOTFOUND);
	free(path);
	t_remove_tree(dir);
	free(dir);
}

static void test_mkdirs(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	char *deep = t_path(dir, "a/b/c");
	assert_int_equal(arca_io_mkdirs(deep, 0755), ARCA_OK);
	assert_int_equal(arca_io_mkdirs(deep, 0755), ARCA_OK);
	t_write_file(dir, "file", "x", SIZE_MAX);
	char *through_file = t_path(dir, "file/sub");
	assert_int_not_equal(arca_io_mkdirs(through_file, 0755), ARCA_OK);
	char *onto_file = t_path(dir, "file");
	assert_int_equal(arca_io_mkdirs(onto_file, 0755), ARCA_EEXISTS);
	free(deep);
	free(through_file);
	free(onto_file);
	t_remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_makes_whole_file),
		cmocka_unit_test(test_disk_full_leaves_nothing),
		cmocka_unit_test(test_short_writes_are_completed),
		cmocka_unit_test(test_fsync_failure_is_an_error),
		cmocka_unit_test(test_read_file_limits),
		cmocka_unit_test(test_mkdirs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
