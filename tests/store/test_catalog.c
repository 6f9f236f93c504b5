/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_catalog.c — the catalog: migrations and the version guard, snapshot
 * records, ref resolution rules, blob bookkeeping, listings, and refusing a file that is not
 * SQLite.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/catalog.h"
#include "store/migrations.h"
#include "support.h"

typedef struct {
	char *dir;
	char *path;
	arca_catalog *cat;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->dir = t_tempdir();
	f->path = t_path(f->dir, "catalog.db");
	if (arca_catalog_open(&f->cat, f->path, 1) != ARCA_OK)
		fail_msg("open: %s", arca_error_last());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	arca_catalog_free(f->cat);
	t_remove_tree(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static void sql(const char *path, const char *statement)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(db, statement, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", statement, msg);
	sqlite3_close(db);
}

static void test_fresh_catalog_has_latest_schema(void **state)
{
	fixture *f = *state;
	assert_int_equal(arca_catalog_schema_version(f->cat), ARCA_CATALOG_SCHEMA);
	assert_int_equal(arca_catalog_check(f->cat), ARCA_OK);
	/* reopening applies nothing and keeps the version */
	arca_catalog *again;
	assert_int_equal(arca_catalog_open(&again, f->path, 0), ARCA_OK);
	assert_int_equal(arca_catalog_schema_version(again), ARCA_CATALOG_SCHEMA);
	arca_catalog_free(again);
}

/* A catalog made by an arca that knew only schema 1 is brought up to date on open. */
static void test_old_catalog_is_migrated(void **state)
{
	fixture *f = *state;
	char *old = t_path(f->dir, "old.db");
	sqlite3 *db;
	assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE arca_schema(version INTEGER PRIMARY KEY,"
		" applied_at TEXT NOT NULL, arca_version TEXT NOT NULL)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, arca__migrations[0], NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO arca_schema VALUES (1, 'then', '0.1.0');"
		"INSERT INTO blobs VALUES ('" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"', 1, 1, 'raw', '1111111111111111111111111111111111111111', 'then')", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	arca_catalog *cat;
	assert_int_equal(arca_catalog_open(&cat, old, 0), ARCA_OK);
	assert_int_equal(arca_catalog_schema_version(cat), ARCA_CATALOG_SCHEMA);
	arca_blob_record rec;
	assert_int_equal(arca_catalog_find_blob_by_git_sha1(cat,
		"1111111111111111111111111111111111111111", &rec), ARCA_OK);
	assert_int_equal(rec.size, 1);
	assert_int_equal(arca_catalog_check(cat), ARCA_OK);
	arca_catalog_free(cat);
	free(old);
}

static void test_newer_catalog_is_refused(void **state)
{
	fixture *f = *state;
	sql(f->path, "INSERT INTO arca_schema VALUES (999, '2030-01-01T00:00:00Z', '9.9.9')");
	arca_catalog *cat;
	assert_int_equal(arca_catalog_open(&cat, f->path, 0), ARCA_EVERSION);
	assert_error_mentions("version 999");
	assert_error_mentions("newer arca");
	assert_error_mentions(f->path);
}

static void test_not_sqlite_is_refused(void **state)
{
	fixture *f = *state;
	t_write_file(f->dir, "junk.db", "this is not a database, just text that is long enough "
		"to look like a header page to sqlite and then some more bytes", SIZE_MAX);
	char *junk = t_path(f->dir, "junk.db");
	arca_catalog *cat;
	assert_int_equal(arca_catalog_open(&cat, junk, 0), ARCA_ECORRUPT);
	assert_error_mentions(junk);
	free(junk);
	char *missing = t_path(f->dir, "missing.db");
	assert_int_equal(arca_catalog_open(&cat, missing, 0), ARCA_ENOTFOUND);
	free(missing);
}

static void put_blob(arca_catalog *cat, char c, uint64_t size)
{
	arca_blob_record rec;
	memset(&rec, 0, sizeof(rec));
	memset(rec.sha256, c, 64);
	rec.size = rec.stored_size = size;
	assert_int_equal(arca_catalog_put_blob(cat, &rec), ARCA_OK);
}

/* Records a complete snapshot of hub:repo at commit with one file using blob c. */
static int64_t make_snapshot(arca_catalog *cat, const char *hub, const char *repo,
	const char *commit, const char *ref, char c)
{
	put_blob(cat, c, 10);
	arca_snapshot_new snap = { .hub = hub, .repo_id = repo, .commit = commit, .revision = ref,
		.source = "local" };
	int64_t id;
	int existed;
	assert_int_equal(arca_catalog_create_snapshot(cat, &snap, &id, &existed), ARCA_OK);
	assert_false(existed);
	arca_file file;
	memset(&file, 0, sizeof(file));
	file.path = "model.safetensors";
	file.size = 10;
	memset(file.sha256, c, 64);
	assert_int_equal(arca_catalog_add_file(cat, id, &file), ARCA_OK);
	assert_int_equal(arca_catalog_complete_snapshot(cat, id), ARCA_OK);
	if (ref)
		assert_int_equal(arca_catalog_set_ref(cat, id, ref), ARCA_OK);
	return id;
}

static arca_err find(arca_catalog *cat, const char *text, arca_snapshot *out)
{
	arca_ref ref;
	assert_int_equal(arca_ref_parse(&ref, text), ARCA_OK);
	return arca_catalog_find_snapshot(out, cat, &ref);
}

static void test_resolution_rules(void **state)
{
	fixture *f = *state;
	int64_t a = make_snapshot(f->cat, "hf", "Qwen/Qwen3-0.6B",
		"1111111111111111111111111111111111111111", "main", 'a');
	int64_t b = make_snapshot(f->cat, "hf", "Qwen/Qwen3-0.6B",
		"2222222222222222222222222222222222222222", "v2", 'b');
	int64_t c = make_snapshot(f->cat, "local", "Qwen/Qwen3-0.6B",
		"3333333333333333333333333333333333333333333333333333333333333333", "main", 'c');
	int64_t d = make_snapshot(f->cat, "hf", "acme/other",
		"4444444444444444444444444444444444444444", "v1", 'd');
	make_snapshot(f->cat, "hf", "acme/other", "4444444555555555555555555555555555555555",
		"v2", 'e');
	arca_snapshot s;

	assert_int_equal(find(f->cat, "hf:Qwen/Qwen3-0.6B", &s), ARCA_OK);
	assert_int_equal(s.id, a); /* default branch */
	assert_int_equal(s.n_files, 1);
	assert_int_equal(s.total_size, 10);
	assert_string_equal(s.state, "complete");
	arca_snapshot_dispose(&s);

	assert_int_equal(find(f->cat, "hf:Qwen/Qwen3-0.6B@v2", &s), ARCA_OK);
	assert_int_equal(s.id, b);
	arca_snapshot_dispose(&s);

	assert_int_equal(find(f->cat, "hf:Qwen/Qwen3-0.6B@2222222", &s), ARCA_OK);
	assert_int_equal(s.id, b); /* commit prefix */
	arca_snapshot_dispose(&s);

	assert_int_equal(find(f->cat, "local:Qwen/Qwen3-0.6B", &s), ARCA_OK);
	assert_int_equal(s.id, c);
	arca_snapshot_dispose(&s);

	/* two hubs hold the name: the user must say which */
	assert_int_equal(find(f->cat, "Qwen/Qwen3-0.6B", &s), ARCA_EINVALID);
	assert_error_mentions("several hubs (hf, local)");

	/* the only hub holding a repo needs no prefix; no main and two snapshots is ambiguous */
	assert_int_equal(find(f->cat, "acme/other", &s), ARCA_EINVALID);
	assert_error_mentions("v1, v2");
	assert_int_equal(find(f->cat, "acme/other@v1", &s), ARCA_OK);
	assert_int_equal(s.id, d);
	arca_snapshot_dispose(&s);
	assert_int_equal(find(f->cat, "acme/other@4444444", &s), ARCA_EINVALID);
	assert_error_mentions("ambiguous");

	assert_int_equal(find(f->cat, "acme/other@v3", &s), ARCA_ENOTFOUND);
	assert_error_mentions("no revision 'v3'");
	assert_int_equal(find(f->cat, "acme/missing", &s), ARCA_ENOTFOUND);
	assert_error_mentions("acme/missing is not in the store");
	assert_int_equal(find(f->cat, "ACME/OTHER", &s), ARCA_ENOTFOUND);
	assert_error_mentions("did you mean hf:acme/other");
}

static void test_refs_move_and_snapshots_dedupe(void **state)
{
	fixture *f = *state;
	int64_t a = make_snapshot(f->cat, "hf", "o/m", "1111111111111111111111111111111111111111",
		"main", 'a');
	int64_t b = make_snapshot(f->cat, "hf", "o/m", "2222222222222222222222222222222222222222",
		NULL, 'b');
	assert_int_equal(arca_catalog_set_ref(f->cat, b, "main"), ARCA_OK);
	arca_snapshot s;
	assert_int_equal(find(f->cat, "o/m@main", &s), ARCA_OK);
	assert_int_equal(s.id, b);
	assert_string_equal(s.refs_json, "[\"main\"]");
	arca_snapshot_dispose(&s);
	/* the same commit again is the same snapshot */
	arca_snapshot_new again = { .hub = "hf", .repo_id = "o/m",
		.commit = "1111111111111111111111111111111111111111", .source = "hub" };
	int64_t id;
	int existed;
	assert_int_equal(arca_catalog_create_snapshot(f->cat, &again, &id, &existed), ARCA_OK);
	assert_true(existed);
	assert_int_equal(id, a);
	assert_int_equal(arca_catalog_set_ref(f->cat, 9999, "x"), ARCA_ENOTFOUND);
}

static void test_incomplete_until_every_file_verified(void **state)
{
	fixture *f = *state;
	arca_snapshot_new snap = { .hub = "hf", .repo_id = "o/m",
		.commit = "1111111111111111111111111111111111111111", .source = "hub" };
	int64_t id;
	int existed;
	assert_int_equal(arca_catalog_create_snapshot(f->cat, &snap, &id, &existed), ARCA_OK);
	arca_file pending;
	memset(&pending, 0, sizeof(pending));
	pending.path = "big.safetensors";
	pending.size = 5;
	pending.hub_oid = "abc";
	pending.oid_kind = "sha256";
	assert_int_equal(arca_catalog_add_file(f->cat, id, &pending), ARCA_OK);
	assert_int_equal(arca_catalog_complete_snapshot(f->cat, id), ARCA_EINVALID);
	assert_error_mentions("big.safetensors");
	arca_snapshot *list;
	size_t n;
	assert_int_equal(arca_catalog_list_incomplete(&list, &n, f->cat), ARCA_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].state, "incomplete");
	arca_snapshots_free(list, n);
	/* a file cannot point at a blob the catalog does not have */
	memset(pending.sha256, 'f', 64);
	assert_int_equal(arca_catalog_add_file(f->cat, id, &pending), ARCA_EINVALID);
}

/* What arca serve looks up: a model by hub, one file by path, and whether a blob is a
 * file of a complete snapshot (an incomplete one's files are not). */
static void test_serve_lookups(void **state)
{
	fixture *f = *state;
	int64_t id = make_snapshot(f->cat, "local", "o/m", "2222222222222222222222222222222222222222",
		"main", 'a');
	int yes = -1;
	assert_int_equal(arca_catalog_has_repo(f->cat, "local", "o/m", &yes), ARCA_OK);
	assert_int_equal(yes, 1);
	assert_int_equal(arca_catalog_has_repo(f->cat, "hf", "o/m", &yes), ARCA_OK);
	assert_int_equal(yes, 0);
	arca_file file;
	assert_int_equal(arca_catalog_find_file(&file, f->cat, id, "model.safetensors"), ARCA_OK);
	assert_int_equal(file.size, 10);
	assert_int_equal(file.sha256[0], 'a');
	arca_file_dispose(&file);
	assert_null(file.path);
	assert_int_equal(arca_catalog_find_file(&file, f->cat, id, "model"), ARCA_ENOTFOUND);
	assert_error_mentions("model");
	assert_null(file.path);
	char blob[65];
	memset(blob, 'a', 64);
	blob[64] = '\0';
	assert_int_equal(arca_catalog_blob_in_complete_snapshot(f->cat, blob, &yes), ARCA_OK);
	assert_int_equal(yes, 1);
	assert_int_equal(arca_catalog_mark_incomplete(f->cat, id), ARCA_OK);
	assert_int_equal(arca_catalog_blob_in_complete_snapshot(f->cat, blob, &yes), ARCA_OK);
	assert_int_equal(yes, 0);
}

static int count_cb(const arca_blob_record *rec, void *payload)
{
	(void)rec;
	(*(int *)payload)++;
	return 0;
}

static void test_blob_bookkeeping(void **state)
{
	fixture *f = *state;
	int64_t id = make_snapshot(f->cat, "hf", "o/m", "1111111111111111111111111111111111111111",
		"main", 'a');
	put_blob(f->cat, 'b', 20);
	int referenced, n = 0;
	char a64[65], b64[65];
	memset(a64, 'a', 64);
	a64[64] = 0;
	memset(b64, 'b', 64);
	b64[64] = 0;
	assert_int_equal(arca_catalog_blob_is_referenced(f->cat, a64, &referenced), ARCA_OK);
	assert_true(referenced);
	assert_int_equal(arca_catalog_blob_is_referenced(f->cat, b64, &referenced), ARCA_OK);
	assert_false(referenced);
	assert_int_equal(arca_catalog_each_unreferenced_blob(f->cat, count_cb, &n), ARCA_OK);
	assert_int_equal(n, 1);
	char users[256];
	assert_int_equal(arca_catalog_describe_blob_users(f->cat, a64, users, sizeof(users)),
		ARCA_OK);
	assert_string_equal(users, "hf:o/m@111111111111: model.safetensors");

	/* git sha1 is filled in later without losing the row */
	arca_blob_record rec;
	assert_int_equal(arca_catalog_get_blob(f->cat, b64, &rec), ARCA_OK);
	assert_string_equal(rec.git_sha1, "");
	memset(rec.git_sha1, '1', 40);
	rec.git_sha1[40] = 0;
	assert_int_equal(arca_catalog_put_blob(f->cat, &rec), ARCA_OK);
	assert_int_equal(arca_catalog_get_blob(f->cat, b64, &rec), ARCA_OK);
	assert_int_equal(strlen(rec.git_sha1), 40);

	/* deleting the snapshot releases its blob, and the ref goes with it */
	assert_int_equal(arca_catalog_delete_snapshot(f->cat, id), ARCA_OK);
	n = 0;
	assert_int_equal(arca_catalog_each_unreferenced_blob(f->cat, count_cb, &n), ARCA_OK);
	assert_int_equal(n, 2);
	arca_snapshot s;
	assert_int_equal(find(f->cat, "o/m", &s), ARCA_ENOTFOUND);
	assert_int_equal(arca_catalog_delete_blob(f->cat, a64), ARCA_OK);
	assert_int_equal(arca_catalog_get_blob(f->cat, a64, &rec), ARCA_ENOTFOUND);
}

/* Listings come back whole and in order past the point where their array has to grow, and
 * an empty listing is (NULL, 0). */
static void test_listings_grow_and_keep_order(void **state)
{
	fixture *f = *state;
	enum { N = 40 }; /* more than one doubling of the first allocation */
	char name[32];
	int64_t snapshot = 0;
	for (int i = N - 1; i >= 0; i--) {
		char commit[41];
		memset(commit, '0' + i % 10, 40);
		commit[40] = 0;
		snprintf(name, sizeof(name), "o/m%02d", i);
		snapshot = make_snapshot(f->cat, "hf", name, commit, "main", 'a');
	}
	arca_snapshot *snaps;
	size_t n;
	assert_int_equal(arca_catalog_list_snapshots(&snaps, &n, f->cat), ARCA_OK);
	assert_int_equal(n, N);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "o/m%02d", i);
		assert_string_equal(snaps[i].repo_id, name);
		assert_string_equal(snaps[i].refs_json, "[\"main\"]");
	}
	arca_snapshots_free(snaps, n);
	assert_int_equal(arca_catalog_list_incomplete(&snaps, &n, f->cat), ARCA_OK);
	assert_null(snaps);
	assert_int_equal(n, 0);

	/* `snapshot` is o/m00: give it N files more, added out of order */
	arca_file file;
	memset(&file, 0, sizeof(file));
	memset(file.sha256, 'a', 64);
	file.path = name;
	for (int i = N - 1; i >= 0; i--) {
		snprintf(name, sizeof(name), "f%02d", i);
		file.size = (uint64_t)i;
		assert_int_equal(arca_catalog_add_file(f->cat, snapshot, &file), ARCA_OK);
	}
	arca_file *files;
	assert_int_equal(arca_catalog_list_files(&files, &n, f->cat, snapshot), ARCA_OK);
	assert_int_equal(n, N + 1);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		assert_string_equal(files[i].path, name);
		assert_int_equal(files[i].size, i);
		assert_int_equal(strlen(files[i].sha256), 64);
	}
	assert_string_equal(files[N].path, "model.safetensors");
	arca_files_free(files, n);
	assert_int_equal(arca_catalog_list_files(&files, &n, f->cat, 9999), ARCA_OK);
	assert_null(files);
	assert_int_equal(n, 0);

	/* N artifacts, the last with N outputs */
	int64_t artifact = 0;
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "v%02d", i);
		assert_int_equal(arca_catalog_add_artifact(f->cat, "gguf", name, snapshot, NULL,
			&artifact), ARCA_OK);
	}
	char a64[65];
	memset(a64, 'a', 64);
	a64[64] = 0;
	for (int i = N - 1; i >= 0; i--) {
		snprintf(name, sizeof(name), "out%02d.gguf", i);
		assert_int_equal(arca_catalog_add_artifact_output(f->cat, artifact, a64, name),
			ARCA_OK);
	}
	arca_artifact *arts;
	assert_int_equal(arca_catalog_list_artifacts(&arts, &n, f->cat, snapshot), ARCA_OK);
	assert_int_equal(n, N);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "v%02d", i);
		assert_string_equal(arts[i].name, name);
		assert_string_equal(arts[i].kind, "gguf");
	}
	assert_int_equal(arts[N - 1].id, artifact);
	arca_artifacts_free(arts, n);
	arca_artifact_file *outs;
	assert_int_equal(arca_catalog_artifact_outputs(&outs, &n, f->cat, artifact), ARCA_OK);
	assert_int_equal(n, N);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "out%02d.gguf", i);
		assert_string_equal(outs[i].path, name);
		assert_string_equal(outs[i].sha256, a64);
		assert_int_equal(outs[i].size, 10);
	}
	arca_artifact_files_free(outs, n);
	assert_int_equal(arca_catalog_artifact_inputs(&outs, &n, f->cat, artifact), ARCA_OK);
	assert_null(outs);
	assert_int_equal(n, 0);
}

static void test_nested_transactions_and_rollback(void **state)
{
	fixture *f = *state;
	assert_int_equal(arca_catalog_begin(f->cat), ARCA_OK);
	assert_int_equal(arca_catalog_begin(f->cat), ARCA_OK);
	put_blob(f->cat, 'c', 1);
	assert_int_equal(arca_catalog_commit(f->cat), ARCA_OK); /* inner: nothing yet */
	arca_catalog_rollback(f->cat);
	char c64[65];
	memset(c64, 'c', 64);
	c64[64] = 0;
	arca_blob_record rec;
	assert_int_equal(arca_catalog_get_blob(f->cat, c64, &rec), ARCA_ENOTFOUND);
	assert_int_equal(arca_catalog_commit(f->cat), ARCA_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_catalog_has_latest_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_catalog_is_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_catalog_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_sqlite_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolution_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refs_move_and_snapshots_dedupe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_until_every_file_verified, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_serve_lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blob_bookkeeping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listings_grow_and_keep_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_transactions_and_rollback, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
