/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_gc.c — gc removes exactly what nothing uses: unreferenced and orphaned
 * blobs and arca's temporary files; keeps used blobs, stray names and other tmp files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arca/fsck.h"
#include "arca/gc.h"
#include "arca/snapshot.h"
#include "support.h"

static void test_gc(void **state)
{
	(void)state;
	char *home;
	arca_store *store = t_store_new(&home);
	char *src = t_tempdir();
	t_write_file(src, "kept.bin", "kept", SIZE_MAX);
	arca_ref ref;
	arca_ref_parse(&ref, "acme/tiny");
	arca_add_opts opts = { .dir = src, .as = &ref };
	arca_add_result res;
	assert_int_equal(arca_snapshot_add_dir(&res, store, &opts), ARCA_OK);
	arca_add_result_dispose(&res);

	arca_file_digests loose, kept;
	assert_int_equal(arca_store_put_buffer(store, "loose", 5, &loose), ARCA_OK);
	assert_int_equal(arca_store_put_buffer(store, "kept", 4, &kept), ARCA_OK);
	static const char orphan[] =
		"00000000000000000000000000000000000000000000000000000000000000ff";
	char *fan = t_path(home, "objects/sha256/00");
	mkdir(fan, 0755);
	t_write_file(fan, orphan + 2, "orphan", SIZE_MAX);
	t_write_file(fan, "stray-name", "x", SIZE_MAX);
	char *tmp = t_path(home, "tmp");
	t_write_file(tmp, ".arca-tmp-XYZ", "123", SIZE_MAX);
	t_write_file(tmp, "download.partial", "keep me", SIZE_MAX);

	arca_gc_report r;
	arca_gc_opts dry = { .dry_run = 1 };
	assert_int_equal(arca_store_gc(&r, store, &dry), ARCA_OK);
	assert_int_equal(r.n_removed, 2);
	assert_int_equal(r.bytes, 5 + 6);
	assert_int_equal(r.n_tmp, 1);
	arca_gc_report_dispose(&r);
	uint64_t size;
	assert_int_equal(arca_store_stat_blob(store, loose.sha256, &size), ARCA_OK);

	arca_gc_opts real = { 0 };
	assert_int_equal(arca_store_gc(&r, store, &real), ARCA_OK);
	assert_int_equal(r.n_removed, 2);
	int saw_loose = 0, saw_orphan = 0;
	for (size_t i = 0; i < r.n_removed; i++) {
		saw_loose |= strcmp(r.removed[i].sha256, loose.sha256) == 0 && !r.removed[i].orphan;
		saw_orphan |= strcmp(r.removed[i].sha256, orphan) == 0 && r.removed[i].orphan;
	}
	assert_true(saw_loose && saw_orphan);
	arca_gc_report_dispose(&r);
	assert_int_equal(arca_store_stat_blob(store, loose.sha256, &size), ARCA_ENOTFOUND);
	assert_int_equal(arca_store_stat_blob(store, orphan, &size), ARCA_ENOTFOUND);
	assert_int_equal(arca_store_stat_blob(store, kept.sha256, &size), ARCA_OK);
	assert_int_equal(t_count_entries(tmp), 1); /* download.partial stays */
	char *stray = t_path(fan, "stray-name");
	assert_int_equal(access(stray, F_OK), 0);
	free(stray);

	/* afterwards fsck finds only the stray name */
	arca_fsck_report fr;
	assert_int_equal(arca_store_fsck(&fr, store, NULL), ARCA_OK);
	assert_int_equal(fr.n_errors, 1);
	assert_int_equal(fr.problems[0].kind, ARCA_FSCK_STRAY);
	arca_fsck_report_dispose(&fr);

	/* interrupted downloads go only when asked */
	arca_gc_opts partials = { .partials = 1 };
	assert_int_equal(arca_store_gc(&r, store, &partials), ARCA_OK);
	assert_int_equal(r.n_tmp, 0);
	arca_gc_report_dispose(&r);
	t_write_file(tmp, "partial-abcdef", "12345", SIZE_MAX);
	assert_int_equal(arca_store_gc(&r, store, &real), ARCA_OK);
	assert_int_equal(r.n_tmp, 0);
	arca_gc_report_dispose(&r);
	assert_int_equal(arca_store_gc(&r, store, &partials), ARCA_OK);
	assert_int_equal(r.n_tmp, 1);
	assert_int_equal(r.tmp_bytes, 5);
	arca_gc_report_dispose(&r);

	/* a second gc has nothing to do */
	assert_int_equal(arca_store_gc(&r, store, &real), ARCA_OK);
	assert_int_equal(r.n_removed, 0);
	arca_gc_report_dispose(&r);

	free(fan);
	free(tmp);
	arca_store_free(store);
	t_remove_tree(home);
	t_remove_tree(src);
	free(home);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
