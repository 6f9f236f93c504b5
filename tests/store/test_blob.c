/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_blob.c — the store itself: init/open rules, putting blobs (dedupe, hash
 * and size checks, disk full), reading, mapping, verifying, exporting, and the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arca/catalog.h"
#include "common/io.h"
#include "support.h"

#define HELLO_SHA256 "dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f"

typedef struct {
	char *home;
	arca_store *store;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->store = t_store_new(&f->home);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	arca_store_free(f->store);
	t_remove_tree(f->home);
	free(f->home);
	free(f);
	return 0;
}

static int count_blob_files(const char *home)
{
	char *cmd;
	assert_true(asprintf(&cmd, "find '%s/objects/sha256' -type f | wc -l", home) > 0);
	char *line = t_shell_line("%s", cmd);
	int n = atoi(line);
	free(line);
	free(cmd);
	return n;
}

static char *tmp_dir(const char *home)
{
	return t_path(home, "tmp");
}

static void test_init_and_open_rules(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	arca_store *store;
	/* a folder that is not a store */
	assert_int_equal(arca_store_open(&store, dir), ARCA_ENOTFOUND);
	assert_error_mentions("is not an arca store");
	assert_error_mentions("arca init");
	char *missing = t_path(dir, "nowhere");
	assert_int_equal(arca_store_open(&store, missing), ARCA_ENOTFOUND);
	assert_error_mentions("no store at");
	t_write_file(dir, "notes.txt", "mine", SIZE_MAX);
	int created;
	assert_int_equal(arca_store_init(dir, &created), ARCA_EEXISTS);
	assert_error_mentions("notes.txt");
	char *file = t_path(dir, "notes.txt");
	assert_int_equal(arca_store_open(&store, file), ARCA_ENOTFOUND);
	assert_error_mentions("not a directory");
	/* init twice: the second changes nothing */
	assert_int_equal(arca_store_init(missing, &created), ARCA_OK);
	assert_true(created);
	assert_int_equal(arca_store_init(missing, &created), ARCA_OK);
	assert_false(created);
	assert_int_equal(arca_store_open(&store, missing), ARCA_OK);
	arca_store_free(store);
	free(file);
	free(missing);
	t_remove_tree(dir);
	free(dir);
}

static void test_put_read_and_dedupe(void **state)
{
	fixture *f = *state;
	arca_file_digests d;
	assert_int_equal(arca_store_put_buffer(f->store, "Hello, World!", 13, &d), ARCA_OK);
	assert_string_equal(d.sha256, HELLO_SHA256);
	assert_string_equal(d.git_sha1, "b45ef6fec89518d314f546fd6c3025367b721684");
	assert_int_equal(d.size, 13);
	assert_int_equal(arca_store_put_buffer(f->store, "Hello, World!", 13, &d), ARCA_OK);
	assert_int_equal(count_blob_files(f->home), 1);
	char *tmp = tmp_dir(f->home);
	assert_int_equal(t_count_entries(tmp), 0);
	free(tmp);

	arca_blob_record rec;
	assert_int_equal(arca_catalog_get_blob(arca_store_catalog(f->store), HELLO_SHA256, &rec),
		ARCA_OK);
	assert_int_equal(rec.size, 13);
	assert_string_equal(rec.git_sha1, "b45ef6fec89518d314f546fd6c3025367b721684");

	uint64_t size;
	assert_int_equal(arca_store_stat_blob(f->store, HELLO_SHA256, &size), ARCA_OK);
	assert_int_equal(size, 13);
	arca_blob_reader *r;
	assert_int_equal(arca_store_open_blob(&r, f->store, HELLO_SHA256), ARCA_OK);
	assert_int_equal(arca_blob_reader_size(r), 13);
	char buf[32];
	size_t got;
	assert_int_equal(arca_blob_read(r, buf, 5, &got), ARCA_OK);
	assert_int_equal(got, 5);
	assert_memory_equal(buf, "Hello", 5);
	assert_int_equal(arca_blob_read(r, buf, sizeof(buf), &got), ARCA_OK);
	assert_int_equal(got, 8);
	assert_memory_equal(buf, ", World!", 8);
	assert_int_equal(arca_blob_read(r, buf, sizeof(buf), &got), ARCA_OK);
	assert_int_equal(got, 0);
	assert_int_equal(arca_blob_pread(r, buf, 5, 7, &got), ARCA_OK);
	assert_memory_equal(buf, "World", 5);
	arca_blob_reader_free(r);

	arca_blob_map *map;
	assert_int_equal(arca_store_map_blob(&map, f->store, HELLO_SHA256), ARCA_OK);
	assert_int_equal(map->size, 13);
	assert_memory_equal(map->data, "Hello, World!", 13);
	arca_blob_map_free(map);

	/* an empty blob is a blob too */
	assert_int_equal(arca_store_put_buffer(f->store, "", 0, &d), ARCA_OK);
	assert_int_equal(arca_store_map_blob(&map, f->store, d.sha256), ARCA_OK);
	assert_int_equal(map->size, 0);
	arca_blob_map_free(map);
}

static void test_missing_and_bad_names(void **state)
{
	fixture *f = *state;
	uint64_t size;
	char absent[65];
	memset(absent, 'a', 64);
	absent[64] = 0;
	assert_int_equal(arca_store_stat_blob(f->store, absent, &size), ARCA_ENOTFOUND);
	assert_error_mentions(absent);
	static const char *const bad[] = { "abc", "../../etc/passwd",
		"DFFD6021BB2BD5B0AF676290809EC3A53191DD81C7F70A4B28688A362182986F" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		arca_blob_reader *r;
		assert_int_equal(arca_store_open_blob(&r, f->store, bad[i]), ARCA_EINVALID);
		assert_error_mentions("is not a sha256");
	}
}

static void test_expected_hash_and_size(void **state)
{
	fixture *f = *state;
	arca_blob_writer_opts opts = ARCA_BLOB_WRITER_OPTS_INIT;
	char wrong[65];
	memset(wrong, '0', 64);
	wrong[64] = 0;
	opts.expect_sha256 = wrong;
	arca_blob_writer *w;
	assert_int_equal(arca_blob_writer_new(&w, f->store, &opts), ARCA_OK);
	assert_int_equal(arca_blob_writer_write(w, "Hello, World!", 13), ARCA_OK);
	assert_int_equal(arca_blob_writer_commit(w, NULL), ARCA_EMISMATCH);
	assert_error_mentions("expected 0000");
	assert_error_mentions(HELLO_SHA256);
	arca_blob_writer_free(w);

	opts.expect_sha256 = NULL;
	opts.expect_size = 5;
	assert_int_equal(arca_blob_writer_new(&w, f->store, &opts), ARCA_OK);
	assert_int_equal(arca_blob_writer_write(w, "Hello, World!", 13), ARCA_EMISMATCH);
	arca_blob_writer_free(w);
	assert_int_equal(arca_blob_writer_new(&w, f->store, &opts), ARCA_OK);
	assert_int_equal(arca_blob_writer_write(w, "Hel", 3), ARCA_OK);
	assert_int_equal(arca_blob_writer_commit(w, NULL), ARCA_EMISMATCH);
	assert_error_mentions("expected 5 bytes, got 3");
	arca_blob_writer_free(w);

	/* nothing of the failed puts is visible or left over */
	assert_int_equal(count_blob_files(f->home), 0);
	char *tmp = tmp_dir(f->home);
	assert_int_equal(t_count_entries(tmp), 0);
	free(tmp);
	opts.expect_sha256 = "not-a-hash";
	assert_int_equal(arca_blob_writer_new(&w, f->store, &opts), ARCA_EINVALID);
}

static size_t budget;

static ssize_t fill_disk(int fd, const void *buf, size_t len)
{
	if (budget == 0) {
		errno = ENOSPC;
		return -1;
	}
	size_t n = len < budget ? len : budget;
	budget -= n;
	return write(fd, buf, n);
}

static void test_disk_full_during_put(void **state)
{
	fixture *f = *state;
	char *src = t_tempdir();
	size_t len = 3u << 20;
	char *data = malloc(len);
	memset(data, 'z', len);
	t_write_file(src, "big.bin", data, len);
	free(data);
	char *path = t_path(src, "big.bin");
	budget = 1u << 20;
	arca__io_hooks.write = fill_disk;
	arca_file_digests d;
	arca_err err = arca_store_put_file(f->store, path, &d, NULL, NULL);
	arca__io_hooks.write = NULL;
	assert_int_equal(err, ARCA_EIO);
	assert_error_mentions(strerror(ENOSPC));
	assert_int_equal(count_blob_files(f->home), 0);
	char *tmp = tmp_dir(f->home);
	assert_int_equal(t_count_entries(tmp), 0);
	free(tmp);
	/* and with room again the same put succeeds */
	assert_int_equal(arca_store_put_file(f->store, path, &d, NULL, NULL), ARCA_OK);
	assert_int_equal(count_blob_files(f->home), 1);
	free(path);
	t_remove_tree(src);
	free(src);
}

/* Flips one byte of a stored blob behind the store's back. */
static void damage_blob(const char *home, const char *sha256)
{
	char *path;
	assert_true(asprintf(&path, "%s/objects/sha256/%.2s/%s", home, sha256, sha256 + 2) > 0);
	chmod(path, 0644);
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "J", 1, 0), 1);
	close(fd);
	free(path);
}

static void test_verify_and_export(void **state)
{
	fixture *f = *state;
	arca_file_digests d;
	assert_int_equal(arca_store_put_buffer(f->store, "Hello, World!", 13, &d), ARCA_OK);
	assert_int_equal(arca_store_verify_blob(f->store, HELLO_SHA256, NULL, NULL), ARCA_OK);

	char *out = t_tempdir();
	char *linked = t_path(out, "linked.txt"), *copied = t_path(out, "copied.txt");
	arca_export_how how;
	assert_int_equal(arca_store_export_blob(f->store, HELLO_SHA256, linked, ARCA_EXPORT_VERIFY,
		NULL, NULL, &how), ARCA_OK);
	assert_int_equal(how, ARCA_EXPORTED_LINK); /* same filesystem under /tmp */
	assert_int_equal(arca_store_export_blob(f->store, HELLO_SHA256, copied,
		ARCA_EXPORT_COPY | ARCA_EXPORT_VERIFY, NULL, NULL, &how), ARCA_OK);
	assert_int_equal(how, ARCA_EXPORTED_COPY);
	char *text;
	assert_int_equal(arca_io_read_file(&text, NULL, copied, 100), ARCA_OK);
	assert_string_equal(text, "Hello, World!");
	free(text);
	struct stat st;
	assert_int_equal(stat(linked, &st), 0);
	assert_int_equal(st.st_mode & 0222, 0); /* the link shares the read-only blob */

	damage_blob(f->home, HELLO_SHA256);
	assert_int_equal(arca_store_verify_blob(f->store, HELLO_SHA256, NULL, NULL), ARCA_EMISMATCH);
	assert_error_mentions("changed on disk");
	char *refused = t_path(out, "refused.txt");
	assert_int_equal(arca_store_export_blob(f->store, HELLO_SHA256, refused,
		ARCA_EXPORT_COPY | ARCA_EXPORT_VERIFY, NULL, NULL, &how), ARCA_EMISMATCH);
	assert_int_equal(arca_store_export_blob(f->store, HELLO_SHA256, refused,
		ARCA_EXPORT_VERIFY, NULL, NULL, &how), ARCA_EMISMATCH);
	assert_int_equal(access(refused, F_OK), -1);
	assert_int_equal(t_count_entries(out), 2);

	/* putting the good bytes again repairs the blob */
	assert_int_equal(arca_store_put_buffer(f->store, "Hello, World!", 13, &d), ARCA_OK);
	assert_int_equal(arca_store_verify_blob(f->store, HELLO_SHA256, NULL, NULL), ARCA_OK);
	free(linked);
	free(copied);
	free(refused);
	t_remove_tree(out);
	free(out);
}

static int waited;

static void on_wait(const char *holder, void *payload)
{
	(void)payload;
	waited++;
	assert_non_null(strstr(holder, "pid"));
}

static void test_lock_modes(void **state)
{
	fixture *f = *state;
	arca_store *other;
	assert_int_equal(arca_store_open(&other, f->home), ARCA_OK);
	/* adders share the store */
	assert_int_equal(arca_store_lock(f->store, ARCA_LOCK_SHARED, 0, NULL, NULL), ARCA_OK);
	assert_int_equal(arca_store_lock(other, ARCA_LOCK_SHARED, 0, NULL, NULL), ARCA_OK);
	arca_store_unlock(other);
	/* a remover waits for them, then gives up clearly */
	waited = 0;
	assert_int_equal(arca_store_lock(other, ARCA_LOCK_EXCLUSIVE, 200, on_wait, NULL),
		ARCA_ELOCKED);
	assert_int_equal(waited, 1);
	assert_error_mentions("is in use by");
	assert_error_mentions("shared");
	arca_store_unlock(f->store);
	assert_int_equal(arca_store_lock(other, ARCA_LOCK_EXCLUSIVE, 0, NULL, NULL), ARCA_OK);
	assert_int_equal(arca_store_lock(f->store, ARCA_LOCK_SHARED, 0, NULL, NULL), ARCA_ELOCKED);
	assert_error_mentions("exclusive");
	arca_store_free(other); /* releases */
	assert_int_equal(arca_store_lock(f->store, ARCA_LOCK_SHARED, 0, NULL, NULL), ARCA_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_and_open_rules),
		cmocka_unit_test_setup_teardown(test_put_read_and_dedupe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expected_hash_and_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_during_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_and_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_modes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
