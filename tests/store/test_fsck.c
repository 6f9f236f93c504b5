/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_fsck.c — fsck finds each kind of damage (missing, corrupt, wrong size,
 * orphaned, stray, incomplete) and notes housekeeping (unreferenced, tmp leftovers).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arca/fsck.h"
#include "arca/snapshot.h"
#include "support.h"

typedef struct {
	char *home;
	arca_store *store;
	char blob_a[65]; /* used by the snapshot */
	char blob_b[65]; /* used by the snapshot */
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->store = t_store_new(&f->home);
	char *src = t_tempdir();
	t_write_file(src, "a.bin", "alpha alpha alpha", SIZE_MAX);
	t_write_file(src, "b.bin", "bravo", SIZE_MAX);
	arca_ref ref;
	arca_ref_parse(&ref, "acme/tiny");
	arca_add_opts opts = { .dir = src, .as = &ref };
	arca_add_result res;
	if (arca_snapshot_add_dir(&res, f->store, &opts) != ARCA_OK)
		fail_msg("add: %s", arca_error_last());
	arca_add_result_dispose(&res);
	arca_file_digests d;
	char *pa = t_path(src, "a.bin"), *pb = t_path(src, "b.bin");
	arca_hash_file(&d, pa, 0, NULL, NULL);
	memcpy(f->blob_a, d.sha256, 65);
	arca_hash_file(&d, pb, 0, NULL, NULL);
	memcpy(f->blob_b, d.sha256, 65);
	free(pa);
	free(pb);
	t_remove_tree(src);
	free(src);
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

static char *blob_path(fixture *f, const char *sha256)
{
	char *p;
	assert_true(asprintf(&p, "%s/objects/sha256/%.2s/%s", f->home, sha256, sha256 + 2) > 0);
	return p;
}

/* Index of the first problem of `kind`, or -1. */
static int find_problem(const arca_fsck_report *r, arca_fsck_kind kind, const char *subject)
{
	for (size_t i = 0; i < r->n_problems; i++)
		if (r->problems[i].kind == kind && (!subject || strstr(r->problems[i].subject, subject)))
			return (int)i;
	return -1;
}

static void test_clean_store(void **state)
{
	fixture *f = *state;
	arca_fsck_report r;
	assert_int_equal(arca_store_fsck(&r, f->store, NULL), ARCA_OK);
	assert_int_equal(r.n_errors, 0);
	assert_int_equal(r.n_problems, 0);
	assert_int_equal(r.blobs_checked, 2);
	assert_int_equal(r.bytes_checked, 22);
	arca_fsck_report_dispose(&r);
}

static void test_finds_every_kind_of_damage(void **state)
{
	fixture *f = *state;
	/* corrupt: same size, one byte changed */
	char *pa = blob_path(f, f->blob_a);
	chmod(pa, 0644);
	int fd = open(pa, O_WRONLY);
	assert_int_equal(pwrite(fd, "A", 1, 0), 1);
	close(fd);
	/* missing */
	char *pb = blob_path(f, f->blob_b);
	assert_int_equal(unlink(pb), 0);
	/* orphaned: a well-named blob the catalog never heard of */
	static const char orphan[] =
		"0000000000000000000000000000000000000000000000000000000000000001";
	char *fan = t_path(f->home, "objects/sha256/00");
	mkdir(fan, 0755);
	t_write_file(fan, orphan + 2, "??", SIZE_MAX);
	/* and one an interrupted write left: intact, so a note, not an error */
	static const char intact[] = /* sha256("intact") */
		"e6d7ddd8f414a22d8935148498c32ce0acdcf5c0c71db2455033f9be0a6cbc0a";
	char *intact_fan = t_path(f->home, "objects/sha256/e6");
	mkdir(intact_fan, 0755);
	t_write_file(intact_fan, intact + 2, "intact", SIZE_MAX);
	/* stray names */
	char *objects = t_path(f->home, "objects/sha256");
	t_write_file(objects, "README", "not a blob", SIZE_MAX);
	t_write_file(fan, "short", "x", SIZE_MAX);
	/* unreferenced blob and a tmp leftover */
	arca_file_digests d;
	assert_int_equal(arca_store_put_buffer(f->store, "loose", 5, &d), ARCA_OK);
	char *tmp = t_path(f->home, "tmp");
	t_write_file(tmp, ".arca-tmp-abc123", "partial", SIZE_MAX);
	/* incomplete snapshot */
	arca_snapshot_new snap = { .hub = "hf", .repo_id = "o/half",
		.commit = "1234567890123456789012345678901234567890", .source = "hub" };
	int64_t id;
	int existed;
	assert_int_equal(arca_catalog_create_snapshot(arca_store_catalog(f->store), &snap, &id,
		&existed), ARCA_OK);

	arca_fsck_report r;
	arca_fsck_opts opts = { .threads = 2 };
	assert_int_equal(arca_store_fsck(&r, f->store, &opts), ARCA_OK);
	int i;
	assert_true((i = find_problem(&r, ARCA_FSCK_CORRUPT, f->blob_a)) >= 0);
	assert_non_null(strstr(r.problems[i].detail, "local:acme/tiny"));
	assert_non_null(strstr(r.problems[i].detail, "a.bin"));
	assert_true((i = find_problem(&r, ARCA_FSCK_MISSING, f->blob_b)) >= 0);
	assert_non_null(strstr(r.problems[i].detail, "b.bin"));
	assert_true(find_problem(&r, ARCA_FSCK_ORPHAN, orphan) >= 0);
	assert_true(find_problem(&r, ARCA_FSCK_CORRUPT, orphan) >= 0); /* its bytes are not its name */
	assert_true(find_problem(&r, ARCA_FSCK_ORPHAN, intact) >= 0);
	assert_true(find_problem(&r, ARCA_FSCK_CORRUPT, intact) < 0);
	assert_true(find_problem(&r, ARCA_FSCK_STRAY, "README") >= 0);
	assert_true(find_problem(&r, ARCA_FSCK_STRAY, "00/short") >= 0);
	assert_true(find_problem(&r, ARCA_FSCK_INCOMPLETE, "hf:o/half@123456789012") >= 0);
	assert_true(find_problem(&r, ARCA_FSCK_UNREFERENCED, d.sha256) >= 0);
	assert_true(find_problem(&r, ARCA_FSCK_TMP, ".arca-tmp-abc123") >= 0);
	assert_int_equal(r.n_errors, 6);
	assert_int_equal(r.n_problems, 10);
	arca_fsck_report_dispose(&r);
	free(intact_fan);
	free(pa);
	free(pb);
	free(fan);
	free(objects);
	free(tmp);
}

static void test_size_change_is_corrupt_without_rehash(void **state)
{
	fixture *f = *state;
	char *pa = blob_path(f, f->blob_a);
	chmod(pa, 0644);
	assert_int_equal(truncate(pa, 3), 0);
	arca_fsck_report r;
	arca_fsck_opts opts = { .no_rehash = 1 };
	assert_int_equal(arca_store_fsck(&r, f->store, &opts), ARCA_OK);
	int i = find_problem(&r, ARCA_FSCK_CORRUPT, f->blob_a);
	assert_true(i >= 0);
	assert_non_null(strstr(r.problems[i].detail, "3 bytes on disk, the catalog says 17"));
	assert_int_equal(r.n_errors, 1);
	arca_fsck_report_dispose(&r);
	free(pa);
}

static uint64_t last_done, last_total;

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
	(void)payload;
	assert_true(done <= total);
	last_done = done;
	last_total = total;
}

static void test_progress_reaches_total(void **state)
{
	fixture *f = *state;
	arca_fsck_report r;
	arca_fsck_opts opts = { .threads = 3, .progress = on_progress };
	assert_int_equal(arca_store_fsck(&r, f->store, &opts), ARCA_OK);
	assert_int_equal(last_total, 22);
	assert_int_equal(last_done, 22);
	arca_fsck_report_dispose(&r);
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(arca_fsck_kind_name(ARCA_FSCK_ORPHAN), "orphaned");
	assert_true(arca_fsck_kind_is_error(ARCA_FSCK_MISSING));
	assert_false(arca_fsck_kind_is_error(ARCA_FSCK_ORPHAN));
	assert_false(arca_fsck_kind_is_error(ARCA_FSCK_UNREFERENCED));
	assert_false(arca_fsck_kind_is_error(ARCA_FSCK_TMP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clean_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finds_every_kind_of_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_change_is_corrupt_without_rehash, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_progress_reaches_total, setup, teardown),
		cmocka_unit_test(test_kind_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
