/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_checkout.c — writing a snapshot into a folder: links or copies, every
 * byte identical, refusals (non-empty folder, damaged blob, incomplete snapshot), --force.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arca/snapshot.h"
#include "common/io.h"
#include "support.h"

typedef struct {
	char *home, *src, *out;
	arca_store *store;
	arca_snapshot snap;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->store = t_store_new(&f->home);
	f->src = t_tempdir();
	f->out = t_tempdir();
	t_write_file(f->src, "config.json", "{}", SIZE_MAX);
	t_write_file(f->src, "sub/dir/weights.bin", "0123456789", SIZE_MAX);
	arca_ref ref;
	arca_ref_parse(&ref, "acme/tiny");
	arca_add_opts opts = { .dir = f->src, .as = &ref };
	arca_add_result res;
	if (arca_snapshot_add_dir(&res, f->store, &opts) != ARCA_OK)
		fail_msg("add: %s", arca_error_last());
	arca_add_result_dispose(&res);
	if (arca_catalog_find_snapshot(&f->snap, arca_store_catalog(f->store), &ref) != ARCA_OK)
		fail_msg("find: %s", arca_error_last());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	arca_snapshot_dispose(&f->snap);
	arca_store_free(f->store);
	t_remove_tree(f->home);
	t_remove_tree(f->src);
	t_remove_tree(f->out);
	free(f->home);
	free(f->src);
	free(f->out);
	free(f);
	return 0;
}

static void assert_same_tree(const char *a, const char *b)
{
	char *diff = t_shell_line("diff -r '%s' '%s' >/dev/null 2>&1 && echo same || echo differ",
		a, b);
	assert_string_equal(diff, "same");
	free(diff);
}

static void test_checkout_links(void **state)
{
	fixture *f = *state;
	char *dst = t_path(f->out, "model");
	arca_checkout_opts opts = { .dir = dst };
	arca_checkout_result res;
	assert_int_equal(arca_snapshot_checkout(&res, f->store, &f->snap, &opts), ARCA_OK);
	assert_int_equal(res.n_files, 2);
	assert_int_equal(res.n_linked, 2);
	assert_int_equal(res.bytes, 12);
	assert_same_tree(f->src, dst);
	free(dst);
}

static void test_checkout_copies(void **state)
{
	fixture *f = *state;
	arca_checkout_opts opts = { .dir = f->out, .copy = 1 };
	arca_checkout_result res;
	assert_int_equal(arca_snapshot_checkout(&res, f->store, &f->snap, &opts), ARCA_OK);
	assert_int_equal(res.n_copied, 2);
	assert_same_tree(f->src, f->out);
	/* a copy is the user's to change; the store is untouched */
	char *p = t_path(f->out, "config.json");
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	free(p);
}

static void test_refuses_non_empty_without_force(void **state)
{
	fixture *f = *state;
	t_write_file(f->out, "config.json", "mine", SIZE_MAX);
	t_write_file(f->out, "keep.txt", "keep", SIZE_MAX);
	arca_checkout_opts opts = { .dir = f->out };
	arca_checkout_result res;
	assert_int_equal(arca_snapshot_checkout(&res, f->store, &f->snap, &opts), ARCA_EEXISTS);
	assert_error_mentions("not empty");
	assert_error_mentions("--force");
	char *p = t_path(f->out, "config.json"), *text;
	assert_int_equal(arca_io_read_file(&text, NULL, p, 100), ARCA_OK);
	assert_string_equal(text, "mine");
	free(text);
	opts.force = 1;
	assert_int_equal(arca_snapshot_checkout(&res, f->store, &f->snap, &opts), ARCA_OK);
	assert_int_equal(arca_io_read_file(&text, NULL, p, 100), ARCA_OK);
	assert_string_equal(text, "{}");
	free(text);
	free(p);
	p = t_path(f->out, "keep.txt");
	assert_int_equal(access(p, F_OK), 0);
	free(p);
}

static void test_refuses_damaged_blob(void **state)
{
	fixture *f = *state;
	char *blob = t_shell_line("find '%s/objects' -type f -size 10c", f->home);
	chmod(blob, 0644);
	int fd = open(blob, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 3), 1);
	close(fd);
	free(blob);
	char *dst = t_path(f->out, "model");
	arca_checkout_opts opts = { .dir = dst, .copy = 1 };
	arca_checkout_result res;
	assert_int_equal(arca_snapshot_checkout(&res, f->store, &f->snap, &opts), ARCA_EMISMATCH);
	assert_error_mentions("sub/dir/weights.bin");
	assert_error_mentions("changed on disk");
	char *bad = t_path(dst, "sub/dir/weights.bin");
	assert_int_equal(access(bad, F_OK), -1);
	free(bad);
	free(dst);
}

static void test_refuses_incomplete(void **state)
{
	fixture *f = *state;
	free(f->snap.state);
	f->snap.state = strdup("incomplete");
	arca_checkout_opts opts = { .dir = f->out };
	arca_checkout_result res;
	assert_int_equal(arca_snapshot_checkout(&res, f->store, &f->snap, &opts), ARCA_EINVALID);
	assert_error_mentions("incomplete");
	assert_int_equal(t_count_entries(f->out), 0);
}

static void test_target_is_a_file(void **state)
{
	fixture *f = *state;
	t_write_file(f->out, "plain", "x", SIZE_MAX);
	char *dst = t_path(f->out, "plain");
	arca_checkout_opts opts = { .dir = dst, .force = 1 };
	arca_checkout_result res;
	assert_int_equal(arca_snapshot_checkout(&res, f->store, &f->snap, &opts), ARCA_EEXISTS);
	assert_error_mentions("not a folder");
	free(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_checkout_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkout_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_non_empty_without_force, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_damaged_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_target_is_a_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
