/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/catalog_snapshots.c — snapshots, their files and their refs: creating, completing,
 * updating, listing and deleting them. Resolving a REF to a snapshot is catalog_resolve.c.
 */
#include "store/catalog_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define SNAPSHOT_COLUMNS \
	"SELECT s.id, r.hub, r.repo_id, s.commit_id, s.revision_asked, s.state, s.source, " \
	"s.origin, s.created_at, s.completed_at, s.license_json, s.card_json, s.evidence_json, " \
	"(SELECT json_group_array(name) FROM (SELECT name FROM refs WHERE snapshot = s.id " \
	"ORDER BY name)), " \
	"(SELECT coalesce(sum(size), 0) FROM files WHERE snapshot = s.id), " \
	"(SELECT count(*) FROM files WHERE snapshot = s.id), " \
	"(SELECT state FROM signatures WHERE snapshot = s.id AND artifact IS NULL ORDER BY " \
	"CASE state WHEN 'invalid' THEN 0 WHEN 'verified' THEN 1 WHEN 'keyless' THEN 2 " \
	"ELSE 3 END LIMIT 1), " \
	"(SELECT json_group_array(json_object('source', source, 'state', state, 'signer', " \
	"signer, 'created_at', created_at, 'verified_at', verified_at)) FROM (SELECT * FROM " \
	"signatures WHERE snapshot = s.id AND artifact IS NULL ORDER BY id)) " \
	"FROM snapshots s JOIN repos r ON r.id = s.repo "

/* An arca_catalog__rows reader for a row of SNAPSHOT_COLUMNS. */
static arca_err read_snapshot_row(void *elem, sqlite3_stmt *st)
{
	arca_snapshot *out = elem;
	out->id = sqlite3_column_int64(st, 0);
	out->hub = arca_catalog__column_dup(st, 1);
	out->repo_id = arca_catalog__column_dup(st, 2);
	out->commit = arca_catalog__column_dup(st, 3);
	out->revision = arca_catalog__column_dup(st, 4);
	out->state = arca_catalog__column_dup(st, 5);
	out->source = arca_catalog__column_dup(st, 6);
	out->origin = arca_catalog__column_dup(st, 7);
	out->created_at = arca_catalog__column_dup(st, 8);
	out->completed_at = arca_catalog__column_dup(st, 9);
	out->license_json = arca_catalog__column_dup(st, 10);
	out->card_json = arca_catalog__column_dup(st, 11);
	out->evidence_json = arca_catalog__column_dup(st, 12);
	out->refs_json = arca_catalog__column_dup(st, 13);
	out->total_size = (uint64_t)sqlite3_column_int64(st, 14);
	out->n_files = sqlite3_column_int64(st, 15);
	out->signature_state = arca_catalog__column_dup(st, 16);
	out->signatures_json = arca_catalog__column_dup(st, 17);
	return ARCA_OK;
}

void arca_snapshot_dispose(arca_snapshot *snap)
{
	if (!snap)
		return;
	char **fields[] = { &snap->hub, &snap->repo_id, &snap->commit, &snap->revision,
		&snap->state, &snap->source, &snap->origin, &snap->created_at, &snap->completed_at,
		&snap->license_json, &snap->card_json, &snap->evidence_json, &snap->refs_json,
		&snap->signature_state, &snap->signatures_json };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

void arca_snapshots_free(arca_snapshot *snaps, size_t n)
{
	for (size_t i = 0; snaps && i < n; i++)
		arca_snapshot_dispose(&snaps[i]);
	free(snaps);
}

static void free_snapshots(void *items, size_t n)
{
	arca_snapshots_free(items, n);
}

static const arca_catalog__rows snapshot_rows = {
	"list snapshots", sizeof(arca_snapshot), read_snapshot_row, free_snapshots,
};

static arca_err list_snapshots(arca_snapshot **out, size_t *n_out, arca_catalog *cat,
	const char *sql)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, sql);
	if (err < 0)
		return err;
	void *items;
	err = arca_catalog__collect(&items, n_out, cat, st, &snapshot_rows);
	*out = items;
	return err;
}

arca_err arca_catalog_list_snapshots(arca_snapshot **out, size_t *n_out, arca_catalog *cat)
{
	return list_snapshots(out, n_out, cat,
		SNAPSHOT_COLUMNS "ORDER BY r.hub, r.repo_id, s.created_at, s.id");
}

arca_err arca_catalog_list_incomplete(arca_snapshot **out, size_t *n_out, arca_catalog *cat)
{
	return list_snapshots(out, n_out, cat,
		SNAPSHOT_COLUMNS "WHERE s.state <> 'complete' ORDER BY r.hub, r.repo_id, s.id");
}

arca_err arca_catalog__load_snapshot(arca_snapshot *out, arca_catalog *cat, int64_t id)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, SNAPSHOT_COLUMNS "WHERE s.id = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_ROW)
		read_snapshot_row(out, st);
	else if (rc == SQLITE_DONE)
		err = arca_error_set(ARCA_ENOTFOUND, "snapshot %lld is not in the catalog",
			(long long)id);
	else
		err = arca_catalog__db_error(cat, rc, "read snapshot");
	sqlite3_finalize(st);
	return err;
}

void arca_file_dispose(arca_file *file)
{
	free(file->path);
	free(file->hub_oid);
	free(file->oid_kind);
	free(file->evidence_json);
	memset(file, 0, sizeof(*file));
}

void arca_files_free(arca_file *files, size_t n)
{
	for (size_t i = 0; files && i < n; i++)
		arca_file_dispose(&files[i]);
	free(files);
}

static arca_err read_file_row(void *elem, sqlite3_stmt *st)
{
	arca_file *f = elem;
	f->path = arca_catalog__column_dup(st, 0);
	f->size = (uint64_t)sqlite3_column_int64(st, 1);
	arca_catalog__column_copy(f->sha256, sizeof(f->sha256), st, 2);
	arca_catalog__column_copy(f->git_sha1, sizeof(f->git_sha1), st, 3);
	f->hub_oid = arca_catalog__column_dup(st, 4);
	f->oid_kind = arca_catalog__column_dup(st, 5);
	f->evidence_json = arca_catalog__column_dup(st, 6);
	if (!f->path)
		return arca_error_set(ARCA_ENOMEM, "list files: out of memory");
	return ARCA_OK;
}

static void free_files(void *items, size_t n)
{
	arca_files_free(items, n);
}

static const arca_catalog__rows file_rows = {
	"list files", sizeof(arca_file), read_file_row, free_files,
};

#define FILE_COLUMNS \
	"SELECT f.path, f.size, f.blob, b.git_sha1, f.hub_oid, f.oid_kind, f.evidence_json " \
	"FROM files f LEFT JOIN blobs b ON b.sha256 = f.blob "

arca_err arca_catalog_list_files(arca_file **out, size_t *n_out, arca_catalog *cat,
	int64_t snapshot)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		FILE_COLUMNS "WHERE f.snapshot = ? ORDER BY f.path");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	void *items;
	err = arca_catalog__collect(&items, n_out, cat, st, &file_rows);
	*out = items;
	return err;
}

arca_err arca_catalog_find_file(arca_file *out, arca_catalog *cat, int64_t snapshot,
	const char *path)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		FILE_COLUMNS "WHERE f.snapshot = ? AND f.path = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = read_file_row(out, st);
	else if (rc == SQLITE_DONE)
		err = arca_error_set(ARCA_ENOTFOUND, "snapshot %lld has no file %s",
			(long long)snapshot, path);
	else
		err = arca_catalog__db_error(cat, rc, "find file");
	sqlite3_finalize(st);
	if (err < 0)
		arca_file_dispose(out);
	return err;
}

static arca_err repo_id_for(arca_catalog *cat, const char *hub, const char *repo_id,
	int64_t *out)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"INSERT INTO repos(hub, repo_id) VALUES (?1, ?2) "
		"ON CONFLICT(hub, repo_id) DO UPDATE SET hub = hub RETURNING id");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, hub, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, repo_id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		err = arca_catalog__db_error(cat, rc, "record model");
	sqlite3_finalize(st);
	return err;
}

arca_err arca_catalog_create_snapshot(arca_catalog *cat, const arca_snapshot_new *snap,
	int64_t *id_out, int *existed_out)
{
	arca_err err;
	int64_t repo = 0;
	if ((err = arca_catalog_begin(cat)) < 0)
		return err;
	if ((err = repo_id_for(cat, snap->hub, snap->repo_id, &repo)) < 0)
		goto fail;
	sqlite3_stmt *st;
	if ((err = arca_catalog__prepare(cat, &st,
			"SELECT id FROM snapshots WHERE repo = ? AND commit_id = ?")) < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, snap->commit, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id_out = sqlite3_column_int64(st, 0);
		*existed_out = 1;
		sqlite3_finalize(st);
		return arca_catalog_commit(cat);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err = arca_catalog__db_error(cat, rc, "find snapshot");
		goto fail;
	}
	if ((err = arca_catalog__prepare(cat, &st,
			"INSERT INTO snapshots(repo, commit_id, revision_asked, "
			"state, source, origin, created_at, license_json, card_json, evidence_json) "
			"VALUES (?, ?, ?, 'incomplete', ?, ?, ?, ?, ?, ?)")) < 0)
		goto fail;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, snap->commit, -1, SQLITE_TRANSIENT);
	arca_catalog__bind_text_or_null(st, 3, snap->revision);
	sqlite3_bind_text(st, 4, snap->source, -1, SQLITE_TRANSIENT);
	arca_catalog__bind_text_or_null(st, 5, snap->origin);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	arca_catalog__bind_text_or_null(st, 7, snap->license_json);
	arca_catalog__bind_text_or_null(st, 8, snap->card_json);
	arca_catalog__bind_text_or_null(st, 9, snap->evidence_json);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err = arca_catalog__db_error(cat, rc, "record snapshot");
		goto fail;
	}
	*id_out = sqlite3_last_insert_rowid(cat->db);
	*existed_out = 0;
	return arca_catalog_commit(cat);
fail:
	arca_catalog_rollback(cat);
	return err;
}

arca_err arca_catalog_add_file(arca_catalog *cat, int64_t snapshot, const arca_file *file)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"INSERT OR REPLACE INTO files(snapshot, path, size, blob, "
		"hub_oid, oid_kind, evidence_json) VALUES (?, ?, ?, ?, ?, ?, ?)");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, file->path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)file->size);
	arca_catalog__bind_text_or_null(st, 4, file->sha256);
	arca_catalog__bind_text_or_null(st, 5, file->hub_oid);
	arca_catalog__bind_text_or_null(st, 6, file->oid_kind);
	arca_catalog__bind_text_or_null(st, 7, file->evidence_json);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return arca_error_prefix(arca_catalog__db_error(cat, rc, "record file"), "%s", file->path);
	return ARCA_OK;
}

arca_err arca_catalog_remove_file(arca_catalog *cat, int64_t snapshot, const char *path)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"DELETE FROM files WHERE snapshot = ? AND path = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return arca_error_prefix(arca_catalog__db_error(cat, rc, "remove file"), "%s", path);
	return ARCA_OK;
}

arca_err arca_catalog_complete_snapshot(arca_catalog *cat, int64_t snapshot)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT path FROM files WHERE snapshot = ? AND blob IS NULL "
		"ORDER BY path LIMIT 1");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = arca_error_set(ARCA_EINVALID, "snapshot %lld: file %s has no verified content yet",
			(long long)snapshot, sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		err = arca_catalog__db_error(cat, rc, "check snapshot files");
	sqlite3_finalize(st);
	if (err < 0)
		return err;
	if ((err = arca_catalog__prepare(cat, &st,
			"UPDATE snapshots SET state = 'complete', completed_at = "
			"coalesce(completed_at, ?) WHERE id = ?")) < 0)
		return err;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, snapshot);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : arca_catalog__db_error(cat, rc, "complete snapshot");
}

arca_err arca_catalog_update_snapshot(arca_catalog *cat, int64_t snapshot,
	const char *license_json, const char *card_json, const char *evidence_json)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "UPDATE snapshots SET "
		"license_json = coalesce(?2, license_json), card_json = coalesce(?3, card_json), "
		"evidence_json = coalesce(?4, evidence_json) WHERE id = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	arca_catalog__bind_text_or_null(st, 2, license_json);
	arca_catalog__bind_text_or_null(st, 3, card_json);
	arca_catalog__bind_text_or_null(st, 4, evidence_json);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : arca_catalog__db_error(cat, rc, "update snapshot");
}

arca_err arca_catalog_mark_incomplete(arca_catalog *cat, int64_t snapshot)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "UPDATE snapshots SET state = 'incomplete', "
		"completed_at = NULL WHERE id = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK :
		arca_catalog__db_error(cat, rc, "mark snapshot incomplete");
}

arca_err arca_catalog_set_ref(arca_catalog *cat, int64_t snapshot, const char *name)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"INSERT INTO refs(repo, name, snapshot, updated_at) "
		"SELECT repo, ?2, id, ?3 FROM snapshots WHERE id = ?1 "
		"ON CONFLICT(repo, name) DO UPDATE SET snapshot = excluded.snapshot, "
		"updated_at = excluded.updated_at");
	if (err < 0)
		return err;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return arca_catalog__db_error(cat, rc, "set ref");
	if (sqlite3_changes(cat->db) == 0)
		return arca_error_set(ARCA_ENOTFOUND, "snapshot %lld is not in the catalog",
			(long long)snapshot);
	return ARCA_OK;
}

arca_err arca_catalog_add_ref(arca_catalog *cat, int64_t snapshot, const char *name,
	int64_t *points_at)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "SELECT r.snapshot FROM refs r "
		"JOIN snapshots s ON s.repo = r.repo WHERE s.id = ? AND r.name = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	*points_at = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return arca_catalog__db_error(cat, rc, "find ref");
	if (*points_at)
		return ARCA_OK;
	*points_at = snapshot;
	return arca_catalog_set_ref(cat, snapshot, name);
}

arca_err arca_catalog_delete_snapshot(arca_catalog *cat, int64_t snapshot)
{
	/* the repo row goes with its last snapshot, so the name stops resolving */
	static const char *const steps[] = {
		"CREATE TEMP TABLE IF NOT EXISTS doomed_repo(id INTEGER)",
		"DELETE FROM doomed_repo",
		"INSERT INTO doomed_repo SELECT repo FROM snapshots WHERE id = ?1",
		"DELETE FROM snapshots WHERE id = ?1",
		"DELETE FROM repos WHERE id IN (SELECT id FROM doomed_repo) "
		"AND NOT EXISTS(SELECT 1 FROM snapshots s WHERE s.repo = repos.id)",
	};
	arca_err err = arca_catalog_begin(cat);
	if (err < 0)
		return err;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		sqlite3_stmt *st;
		if ((err = arca_catalog__prepare(cat, &st, steps[i])) < 0)
			goto fail;
		if (sqlite3_bind_parameter_count(st) > 0)
			sqlite3_bind_int64(st, 1, snapshot);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			err = arca_catalog__db_error(cat, rc, "delete snapshot");
			goto fail;
		}
	}
	return arca_catalog_commit(cat);
fail:
	arca_catalog_rollback(cat);
	return err;
}
