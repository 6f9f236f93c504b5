/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/catalog_blobs.c — the blobs table: recording, looking up, listing and deleting blobs,
 * and telling whether (and by whom) a blob is still used.
 */
#include "store/catalog_internal.h"

#include "common/util.h"

arca_err arca_catalog_put_blob(arca_catalog *cat, const arca_blob_record *blob)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"INSERT INTO blobs(sha256, size, stored_size, encoding, git_sha1, added_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(sha256) DO UPDATE SET "
		"git_sha1 = coalesce(blobs.git_sha1, excluded.git_sha1), "
		"stored_size = excluded.stored_size, encoding = excluded.encoding");
	if (err < 0)
		return err;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_text(st, 1, blob->sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)blob->size);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)blob->stored_size);
	sqlite3_bind_text(st, 4, blob->encoding[0] ? blob->encoding : "raw", -1, SQLITE_TRANSIENT);
	arca_catalog__bind_text_or_null(st, 5, blob->git_sha1);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : arca_catalog__db_error(cat, rc, "record blob");
}

#define BLOB_COLUMNS "SELECT sha256, size, stored_size, encoding, git_sha1 "

static void read_blob_row(sqlite3_stmt *st, arca_blob_record *out)
{
	arca_catalog__column_copy(out->sha256, sizeof(out->sha256), st, 0);
	out->size = (uint64_t)sqlite3_column_int64(st, 1);
	out->stored_size = (uint64_t)sqlite3_column_int64(st, 2);
	arca_catalog__column_copy(out->encoding, sizeof(out->encoding), st, 3);
	arca_catalog__column_copy(out->git_sha1, sizeof(out->git_sha1), st, 4);
}

arca_err arca_catalog_get_blob(arca_catalog *cat, const char *sha256, arca_blob_record *out)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, BLOB_COLUMNS
		"FROM blobs WHERE sha256 = ?");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_blob_row(st, out);
	else if (rc == SQLITE_DONE)
		err = arca_error_set(ARCA_ENOTFOUND, "blob %s is not in the catalog", sha256);
	else
		err = arca_catalog__db_error(cat, rc, "read blob");
	sqlite3_finalize(st);
	return err;
}

arca_err arca_catalog_delete_blob(arca_catalog *cat, const char *sha256)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "DELETE FROM blobs WHERE sha256 = ?");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : arca_catalog__db_error(cat, rc, "delete blob");
}

/* Calls cb for every row of a BLOB_COLUMNS query (no parameters); `what` names a SQLite
 * error. */
static arca_err each_blob_row(arca_catalog *cat, const char *sql, const char *what,
	arca_blob_record_cb cb, void *payload)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, sql);
	if (err < 0)
		return err;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		arca_blob_record rec;
		read_blob_row(st, &rec);
		if (cb(&rec, payload)) {
			err = arca_error_set(ARCA_EINTERRUPTED, "listing blobs: stopped");
			break;
		}
	}
	if (err == ARCA_OK && rc != SQLITE_DONE)
		err = arca_catalog__db_error(cat, rc, what);
	sqlite3_finalize(st);
	return err;
}

arca_err arca_catalog_each_blob(arca_catalog *cat, arca_blob_record_cb cb, void *payload)
{
	return each_blob_row(cat, BLOB_COLUMNS "FROM blobs ORDER BY sha256", "list blobs", cb,
		payload);
}

/* *out = the integer a one-row query about the blob ?1 answers. */
static arca_err blob_flag(arca_catalog *cat, const char *sql, const char *sha256, int *out,
	const char *what)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, sql);
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		err = arca_catalog__db_error(cat, rc, what);
	sqlite3_finalize(st);
	return err;
}

arca_err arca_catalog_blob_is_referenced(arca_catalog *cat, const char *sha256, int *out)
{
	return blob_flag(cat, "SELECT EXISTS(SELECT 1 FROM files WHERE blob = ?1) "
		"OR EXISTS(SELECT 1 FROM artifact_outputs WHERE blob = ?1) "
		"OR EXISTS(SELECT 1 FROM signatures WHERE bundle_blob = ?1)", sha256, out,
		"check blob references");
}

arca_err arca_catalog_blob_in_complete_snapshot(arca_catalog *cat, const char *sha256,
	int *out)
{
	return blob_flag(cat, "SELECT EXISTS(SELECT 1 FROM files f JOIN snapshots s ON "
		"s.id = f.snapshot WHERE f.blob = ?1 AND s.state = 'complete')", sha256, out,
		"find blob in snapshots");
}

arca_err arca_catalog_find_blob_by_git_sha1(arca_catalog *cat, const char *git_sha1,
	arca_blob_record *out)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, BLOB_COLUMNS
		"FROM blobs WHERE git_sha1 = ? LIMIT 1");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, git_sha1, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_blob_row(st, out);
	else if (rc == SQLITE_DONE)
		err = arca_error_set(ARCA_ENOTFOUND, "no blob with git id %s in the catalog", git_sha1);
	else
		err = arca_catalog__db_error(cat, rc, "find blob by git id");
	sqlite3_finalize(st);
	return err;
}

arca_err arca_catalog_each_unreferenced_blob(arca_catalog *cat, arca_blob_record_cb cb,
	void *payload)
{
	return each_blob_row(cat, BLOB_COLUMNS
		"FROM blobs b WHERE NOT EXISTS(SELECT 1 FROM files WHERE blob = b.sha256) "
		"AND NOT EXISTS(SELECT 1 FROM artifact_outputs WHERE blob = b.sha256) "
		"AND NOT EXISTS(SELECT 1 FROM signatures WHERE bundle_blob = b.sha256) "
		"ORDER BY sha256", "list unreferenced blobs", cb, payload);
}

arca_err arca_catalog_describe_blob_users(arca_catalog *cat, const char *sha256, char *buf,
	size_t cap)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT r.hub || ':' || r.repo_id || '@' || substr(s.commit_id, 1, 12) || ': ' || f.path "
		"FROM files f JOIN snapshots s ON s.id = f.snapshot JOIN repos r ON r.id = s.repo "
		"WHERE f.blob = ?1 UNION ALL "
		"SELECT 'artifact ' || a.name || ': ' || o.path FROM artifact_outputs o "
		"JOIN artifacts a ON a.id = o.artifact WHERE o.blob = ?1 LIMIT 4");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	arca_catalog__join_rows(buf, cap, st);
	sqlite3_finalize(st);
	return ARCA_OK;
}
