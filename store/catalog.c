/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/catalog.c — opening the SQLite catalog, applying migrations, and the queries the
 * rest of arca uses (arca/catalog.h). All SQL lives in this file and in migrations.c.
 */
#include "arca/catalog.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/migrations.h"

struct arca_catalog {
	sqlite3 *db;
	char *path;
	int schema_version;
	int tx_depth;
};

static arca_err db_error(arca_catalog *cat, int rc, const char *what)
{
	const char *msg = sqlite3_errmsg(cat->db);
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return arca_error_set(ARCA_ELOCKED, "%s: %s: the catalog is busy (%s)", cat->path,
			what, msg);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return arca_error_set(ARCA_ECORRUPT, "%s: %s: %s", cat->path, what, msg);
	case SQLITE_NOMEM:
		return arca_error_set(ARCA_ENOMEM, "%s: %s: out of memory", cat->path, what);
	case SQLITE_CANTOPEN:
		return arca_error_set(ARCA_ENOTFOUND, "%s: %s: %s", cat->path, what, msg);
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return arca_error_set(ARCA_EDENIED, "%s: %s: %s", cat->path, what, msg);
	case SQLITE_CONSTRAINT:
		return arca_error_set(ARCA_EINVALID, "%s: %s: %s", cat->path, what, msg);
	default:
		return arca_error_set(ARCA_EIO, "%s: %s: %s", cat->path, what, msg);
	}
}

static arca_err exec(arca_catalog *cat, const char *sql, const char *what)
{
	int rc = sqlite3_exec(cat->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? ARCA_OK : db_error(cat, rc, what);
}

static arca_err prepare(arca_catalog *cat, sqlite3_stmt **st, const char *sql)
{
	int rc = sqlite3_prepare_v2(cat->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? ARCA_OK : db_error(cat, rc, "prepare query");
}

static char *column_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *text = sqlite3_column_text(st, i);
	return text ? strdup((const char *)text) : NULL;
}

static void column_copy(char *dst, size_t cap, sqlite3_stmt *st, int i)
{
	const unsigned char *text = sqlite3_column_text(st, i);
	snprintf(dst, cap, "%s", text ? (const char *)text : "");
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
	if (text && text[0])
		sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* ------------------------------------------------------------------ open + migrate */

static arca_err read_version(arca_catalog *cat, int *out)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT coalesce(max(version), 0) FROM arca_schema");
	if (err < 0)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		err = db_error(cat, rc, "read schema version");
	sqlite3_finalize(st);
	return err;
}

static arca_err migrate(arca_catalog *cat)
{
	arca_err err;
	int version;
	if ((err = read_version(cat, &version)) < 0)
		return err;
	if (version > (int)arca__n_migrations)
		return arca_error_set(ARCA_EVERSION,
			"%s: catalog schema version %d was written by a newer arca (this arca %s knows "
			"up to version %zu); upgrade arca to use this store", cat->path, version,
			ARCA_VERSION, arca__n_migrations);
	if (version == (int)arca__n_migrations) {
		cat->schema_version = version;
		return ARCA_OK;
	}
	if ((err = exec(cat, "BEGIN IMMEDIATE", "begin migration")) < 0)
		return err;
	/* another process may have migrated while we waited for the write lock */
	if ((err = read_version(cat, &version)) < 0)
		goto fail;
	for (size_t i = (size_t)version; i < arca__n_migrations; i++) {
		if ((err = exec(cat, arca__migrations[i], "apply migration")) < 0) {
			arca_error_prefix(err, "schema version %zu", i + 1);
			goto fail;
		}
		sqlite3_stmt *st;
		if ((err = prepare(cat, &st, "INSERT INTO arca_schema(version, applied_at, "
				"arca_version) VALUES (?, ?, ?)")) < 0)
			goto fail;
		char now[32];
		arca_time_now_iso(now, sizeof(now));
		sqlite3_bind_int(st, 1, (int)i + 1);
		sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, ARCA_VERSION, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			err = db_error(cat, rc, "record migration");
			goto fail;
		}
	}
	if ((err = exec(cat, "COMMIT", "commit migration")) < 0)
		goto fail;
	cat->schema_version = (int)arca__n_migrations;
	return ARCA_OK;
fail:
	sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

arca_err arca_catalog_open(arca_catalog **out, const char *path, int create)
{
	*out = NULL;
	arca_catalog *cat = calloc(1, sizeof(*cat));
	if (!cat || !(cat->path = strdup(path))) {
		free(cat);
		return arca_error_set(ARCA_ENOMEM, "open catalog %s: out of memory", path);
	}
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &cat->db, flags, NULL);
	arca_err err;
	if (rc != SQLITE_OK) {
		err = cat->db ? db_error(cat, rc, "open") :
			arca_error_set(ARCA_ENOMEM, "open catalog %s: out of memory", path);
		goto fail;
	}
	sqlite3_extended_result_codes(cat->db, 0);
	sqlite3_busy_timeout(cat->db, 60000);
	/* WAL lets readers run beside one writer; FULL sync so a completed snapshot survives a
	 * power cut; foreign keys keep files from pointing at blobs that are not there. */
	if ((err = exec(cat, "PRAGMA journal_mode=WAL", "enable WAL")) < 0 ||
	    (err = exec(cat, "PRAGMA synchronous=FULL", "set synchronous")) < 0 ||
	    (err = exec(cat, "PRAGMA foreign_keys=ON", "enable foreign keys")) < 0 ||
	    (err = exec(cat, "CREATE TABLE IF NOT EXISTS arca_schema(version INTEGER PRIMARY KEY,"
			" applied_at TEXT NOT NULL, arca_version TEXT NOT NULL)",
			"create schema table")) < 0)
		goto fail;
	if ((err = migrate(cat)) < 0)
		goto fail;
	*out = cat;
	return ARCA_OK;
fail:
	arca_catalog_free(cat);
	return err;
}

void arca_catalog_free(arca_catalog *cat)
{
	if (!cat)
		return;
	if (cat->tx_depth > 0)
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(cat->db);
	free(cat->path);
	free(cat);
}

int arca_catalog_schema_version(const arca_catalog *cat)
{
	return cat->schema_version;
}

arca_err arca_catalog_begin(arca_catalog *cat)
{
	if (cat->tx_depth++ > 0)
		return ARCA_OK;
	arca_err err = exec(cat, "BEGIN IMMEDIATE", "begin transaction");
	if (err < 0)
		cat->tx_depth = 0;
	return err;
}

arca_err arca_catalog_commit(arca_catalog *cat)
{
	if (cat->tx_depth <= 0)
		return arca_error_set(ARCA_EINVALID, "%s: commit without a transaction", cat->path);
	if (--cat->tx_depth > 0)
		return ARCA_OK;
	arca_err err = exec(cat, "COMMIT", "commit transaction");
	if (err < 0)
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
	return err;
}

void arca_catalog_rollback(arca_catalog *cat)
{
	if (cat->tx_depth <= 0)
		return;
	cat->tx_depth = 0;
	sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
}

arca_err arca_catalog_check(arca_catalog *cat)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "PRAGMA quick_check");
	if (err < 0)
		return err;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		err = db_error(cat, rc, "quick_check");
	else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
		err = arca_error_set(ARCA_ECORRUPT, "%s: integrity check: %s", cat->path,
			sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (err < 0)
		return err;
	if ((err = prepare(cat, &st, "PRAGMA foreign_key_check")) < 0)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = arca_error_set(ARCA_ECORRUPT, "%s: table %s row %lld refers to a missing %s row",
			cat->path, sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
			sqlite3_column_text(st, 2));
	else if (rc != SQLITE_DONE)
		err = db_error(cat, rc, "foreign_key_check");
	sqlite3_finalize(st);
	return err;
}

/* ------------------------------------------------------------------ blobs */

arca_err arca_catalog_put_blob(arca_catalog *cat, const arca_blob_record *blob)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st,
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
	bind_text_or_null(st, 5, blob->git_sha1);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : db_error(cat, rc, "record blob");
}

static void read_blob_row(sqlite3_stmt *st, arca_blob_record *out)
{
	column_copy(out->sha256, sizeof(out->sha256), st, 0);
	out->size = (uint64_t)sqlite3_column_int64(st, 1);
	out->stored_size = (uint64_t)sqlite3_column_int64(st, 2);
	column_copy(out->encoding, sizeof(out->encoding), st, 3);
	column_copy(out->git_sha1, sizeof(out->git_sha1), st, 4);
}

arca_err arca_catalog_get_blob(arca_catalog *cat, const char *sha256, arca_blob_record *out)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT sha256, size, stored_size, encoding, git_sha1 "
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
		err = db_error(cat, rc, "read blob");
	sqlite3_finalize(st);
	return err;
}

arca_err arca_catalog_delete_blob(arca_catalog *cat, const char *sha256)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "DELETE FROM blobs WHERE sha256 = ?");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : db_error(cat, rc, "delete blob");
}

arca_err arca_catalog_each_blob(arca_catalog *cat, arca_blob_record_cb cb, void *payload)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT sha256, size, stored_size, encoding, git_sha1 "
		"FROM blobs ORDER BY sha256");
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
		err = db_error(cat, rc, "list blobs");
	sqlite3_finalize(st);
	return err;
}

arca_err arca_catalog_blob_is_referenced(arca_catalog *cat, const char *sha256, int *out)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st,
		"SELECT EXISTS(SELECT 1 FROM files WHERE blob = ?1) "
		"OR EXISTS(SELECT 1 FROM artifact_outputs WHERE blob = ?1) "
		"OR EXISTS(SELECT 1 FROM signatures WHERE bundle_blob = ?1)");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		err = db_error(cat, rc, "check blob references");
	sqlite3_finalize(st);
	return err;
}

arca_err arca_catalog_find_blob_by_git_sha1(arca_catalog *cat, const char *git_sha1,
	arca_blob_record *out)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT sha256, size, stored_size, encoding, git_sha1 "
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
		err = db_error(cat, rc, "find blob by git id");
	sqlite3_finalize(st);
	return err;
}

arca_err arca_catalog_each_unreferenced_blob(arca_catalog *cat, arca_blob_record_cb cb,
	void *payload)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT sha256, size, stored_size, encoding, git_sha1 "
		"FROM blobs b WHERE NOT EXISTS(SELECT 1 FROM files WHERE blob = b.sha256) "
		"AND NOT EXISTS(SELECT 1 FROM artifact_outputs WHERE blob = b.sha256) "
		"AND NOT EXISTS(SELECT 1 FROM signatures WHERE bundle_blob = b.sha256) "
		"ORDER BY sha256");
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
		err = db_error(cat, rc, "list unreferenced blobs");
	sqlite3_finalize(st);
	return err;
}

static void join_rows(char *buf, size_t cap, sqlite3_stmt *st);

arca_err arca_catalog_describe_blob_users(arca_catalog *cat, const char *sha256, char *buf,
	size_t cap)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st,
		"SELECT r.hub || ':' || r.repo_id || '@' || substr(s.commit_id, 1, 12) || ': ' || f.path "
		"FROM files f JOIN snapshots s ON s.id = f.snapshot JOIN repos r ON r.id = s.repo "
		"WHERE f.blob = ?1 UNION ALL "
		"SELECT 'artifact ' || a.name || ': ' || o.path FROM artifact_outputs o "
		"JOIN artifacts a ON a.id = o.artifact WHERE o.blob = ?1 LIMIT 4");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, sha256, -1, SQLITE_TRANSIENT);
	join_rows(buf, cap, st);
	sqlite3_finalize(st);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ snapshots */

#define SNAPSHOT_COLUMNS \
	"SELECT s.id, r.hub, r.repo_id, s.commit_id, s.revision_asked, s.state, s.source, " \
	"s.origin, s.created_at, s.completed_at, s.license_json, s.card_json, s.evidence_json, " \
	"(SELECT json_group_array(name) FROM (SELECT name FROM refs WHERE snapshot = s.id " \
	"ORDER BY name)), " \
	"(SELECT coalesce(sum(size), 0) FROM files WHERE snapshot = s.id), " \
	"(SELECT count(*) FROM files WHERE snapshot = s.id) " \
	"FROM snapshots s JOIN repos r ON r.id = s.repo "

static void read_snapshot_row(sqlite3_stmt *st, arca_snapshot *out)
{
	out->id = sqlite3_column_int64(st, 0);
	out->hub = column_dup(st, 1);
	out->repo_id = column_dup(st, 2);
	out->commit = column_dup(st, 3);
	out->revision = column_dup(st, 4);
	out->state = column_dup(st, 5);
	out->source = column_dup(st, 6);
	out->origin = column_dup(st, 7);
	out->created_at = column_dup(st, 8);
	out->completed_at = column_dup(st, 9);
	out->license_json = column_dup(st, 10);
	out->card_json = column_dup(st, 11);
	out->evidence_json = column_dup(st, 12);
	out->refs_json = column_dup(st, 13);
	out->total_size = (uint64_t)sqlite3_column_int64(st, 14);
	out->n_files = sqlite3_column_int64(st, 15);
}

void arca_snapshot_dispose(arca_snapshot *snap)
{
	if (!snap)
		return;
	char **fields[] = { &snap->hub, &snap->repo_id, &snap->commit, &snap->revision,
		&snap->state, &snap->source, &snap->origin, &snap->created_at, &snap->completed_at,
		&snap->license_json, &snap->card_json, &snap->evidence_json, &snap->refs_json };
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

static arca_err list_snapshots(arca_snapshot **out, size_t *n_out, arca_catalog *cat,
	const char *sql)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, sql);
	if (err < 0)
		return err;
	arca_snapshot *list = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			arca_snapshot *grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				err = arca_error_set(ARCA_ENOMEM, "list snapshots: out of memory");
				break;
			}
			list = grown;
		}
		memset(&list[n], 0, sizeof(list[n]));
		read_snapshot_row(st, &list[n++]);
	}
	if (err == ARCA_OK && rc != SQLITE_DONE)
		err = db_error(cat, rc, "list snapshots");
	sqlite3_finalize(st);
	if (err < 0) {
		arca_snapshots_free(list, n);
		return err;
	}
	*out = list;
	*n_out = n;
	return ARCA_OK;
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

static arca_err load_snapshot(arca_snapshot *out, arca_catalog *cat, int64_t id)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, SNAPSHOT_COLUMNS "WHERE s.id = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_ROW)
		read_snapshot_row(st, out);
	else if (rc == SQLITE_DONE)
		err = arca_error_set(ARCA_ENOTFOUND, "snapshot %lld is not in the catalog",
			(long long)id);
	else
		err = db_error(cat, rc, "read snapshot");
	sqlite3_finalize(st);
	return err;
}

/* Joins the text of column 0 of every row, ", "-separated, into buf. */
static void join_rows(char *buf, size_t cap, sqlite3_stmt *st)
{
	size_t o = 0;
	buf[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW && o + 4 < cap) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		int n = snprintf(buf + o, cap - o, "%s%s", o ? ", " : "", t ? (const char *)t : "");
		if (n < 0)
			break;
		o += (size_t)n;
		if (o >= cap)
			o = cap - 1;
	}
}

static arca_err describe_revisions(char *buf, size_t cap, arca_catalog *cat, int64_t repo)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st,
		"SELECT name FROM refs WHERE repo = ?1 UNION ALL "
		"SELECT substr(commit_id, 1, 12) FROM snapshots WHERE repo = ?1 ORDER BY 1");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, repo);
	join_rows(buf, cap, st);
	sqlite3_finalize(st);
	return ARCA_OK;
}

static arca_err find_repo(arca_catalog *cat, const arca_ref *ref, int64_t *repo_out,
	char *hub_out, size_t hub_cap)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st,
		"SELECT id, hub FROM repos WHERE repo_id = ?1 AND (?2 IS NULL OR hub = ?2) ORDER BY hub");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, ref->repo_id, -1, SQLITE_TRANSIENT);
	bind_text_or_null(st, 2, ref->hub);
	int n = 0, rc;
	char hubs[256] = "";
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0) {
			*repo_out = sqlite3_column_int64(st, 0);
			column_copy(hub_out, hub_cap, st, 1);
		}
		size_t used = strlen(hubs);
		snprintf(hubs + used, sizeof(hubs) - used, "%s%s", used ? ", " : "",
			sqlite3_column_text(st, 1));
	}
	if (rc != SQLITE_DONE)
		err = db_error(cat, rc, "find model");
	sqlite3_finalize(st);
	if (err < 0)
		return err;
	if (n > 1)
		return arca_error_set(ARCA_EINVALID,
			"%s is in the store from several hubs (%s); name one, e.g. %s:%s", ref->repo_id,
			hubs, hub_out, ref->repo_id);
	if (n == 1)
		return ARCA_OK;

	/* not there: suggest a spelling that differs only in case */
	if ((err = prepare(cat, &st, "SELECT hub || ':' || repo_id FROM repos "
			"WHERE repo_id = ?1 COLLATE NOCASE ORDER BY 1")) < 0)
		return err;
	sqlite3_bind_text(st, 1, ref->repo_id, -1, SQLITE_TRANSIENT);
	char similar[256];
	join_rows(similar, sizeof(similar), st);
	sqlite3_finalize(st);
	if (ref->hub[0])
		return arca_error_set(ARCA_ENOTFOUND, "%s:%s is not in the store%s%s", ref->hub,
			ref->repo_id, similar[0] ? "; did you mean " : "", similar);
	return arca_error_set(ARCA_ENOTFOUND, "%s is not in the store%s%s", ref->repo_id,
		similar[0] ? "; did you mean " : "", similar);
}

static int is_hex_prefix(const char *s)
{
	size_t n = strlen(s);
	if (n < 7 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Looks up a ref name; *found_out = 0 when there is none. */
static arca_err find_by_ref(arca_catalog *cat, int64_t repo, const char *name, int64_t *id_out,
	int *found_out)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT snapshot FROM refs WHERE repo = ? AND name = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	*found_out = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		*id_out = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		err = db_error(cat, rc, "find ref");
	sqlite3_finalize(st);
	return err;
}

/* Snapshots of repo whose commit starts with prefix (or all when prefix is NULL). */
static arca_err count_snapshots(arca_catalog *cat, int64_t repo, const char *prefix,
	int64_t *id_out, int *count_out)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT id FROM snapshots WHERE repo = ?1 AND "
		"(?2 IS NULL OR substr(commit_id, 1, length(?2)) = ?2) ORDER BY id LIMIT 2");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, repo);
	bind_text_or_null(st, 2, prefix);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (n++ == 0)
			*id_out = sqlite3_column_int64(st, 0);
	if (rc != SQLITE_DONE)
		err = db_error(cat, rc, "find snapshot");
	sqlite3_finalize(st);
	*count_out = n;
	return err;
}

arca_err arca_catalog_find_snapshot(arca_snapshot *out, arca_catalog *cat, const arca_ref *ref)
{
	memset(out, 0, sizeof(*out));
	int64_t repo = 0, id = 0;
	char hub[32];
	arca_err err = find_repo(cat, ref, &repo, hub, sizeof(hub));
	if (err < 0)
		return err;
	int found = 0;
	char have[512];
	if (ref->revision[0]) {
		if ((err = find_by_ref(cat, repo, ref->revision, &id, &found)) < 0)
			return err;
		if (!found && is_hex_prefix(ref->revision)) {
			int count;
			if ((err = count_snapshots(cat, repo, ref->revision, &id, &count)) < 0)
				return err;
			if (count > 1)
				return arca_error_set(ARCA_EINVALID, "%s:%s@%s: commit prefix is ambiguous",
					hub, ref->repo_id, ref->revision);
			found = count == 1;
		}
		if (!found) {
			describe_revisions(have, sizeof(have), cat, repo);
			return arca_error_set(ARCA_ENOTFOUND,
				"%s:%s has no revision '%s' in the store (have: %s)", hub, ref->repo_id,
				ref->revision, have);
		}
		return load_snapshot(out, cat, id);
	}
	static const char *const defaults[] = { "main", "master" };
	for (size_t i = 0; i < 2 && !found; i++)
		if ((err = find_by_ref(cat, repo, defaults[i], &id, &found)) < 0)
			return err;
	if (!found) {
		int count;
		if ((err = count_snapshots(cat, repo, NULL, &id, &count)) < 0)
			return err;
		if (count != 1) {
			describe_revisions(have, sizeof(have), cat, repo);
			return arca_error_set(count ? ARCA_EINVALID : ARCA_ENOTFOUND,
				"%s:%s: %s; name one with @revision (have: %s)", hub, ref->repo_id,
				count ? "several revisions and no main branch" : "no snapshots", have);
		}
	}
	return load_snapshot(out, cat, id);
}

void arca_files_free(arca_file *files, size_t n)
{
	for (size_t i = 0; files && i < n; i++) {
		free(files[i].path);
		free(files[i].hub_oid);
		free(files[i].oid_kind);
		free(files[i].evidence_json);
	}
	free(files);
}

arca_err arca_catalog_list_files(arca_file **out, size_t *n_out, arca_catalog *cat,
	int64_t snapshot)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st,
		"SELECT f.path, f.size, f.blob, b.git_sha1, f.hub_oid, f.oid_kind, f.evidence_json "
		"FROM files f "
		"LEFT JOIN blobs b ON b.sha256 = f.blob WHERE f.snapshot = ? ORDER BY f.path");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	arca_file *list = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			arca_file *grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				err = arca_error_set(ARCA_ENOMEM, "list files: out of memory");
				break;
			}
			list = grown;
		}
		arca_file *f = &list[n++];
		memset(f, 0, sizeof(*f));
		f->path = column_dup(st, 0);
		f->size = (uint64_t)sqlite3_column_int64(st, 1);
		column_copy(f->sha256, sizeof(f->sha256), st, 2);
		column_copy(f->git_sha1, sizeof(f->git_sha1), st, 3);
		f->hub_oid = column_dup(st, 4);
		f->oid_kind = column_dup(st, 5);
		f->evidence_json = column_dup(st, 6);
		if (!f->path) {
			err = arca_error_set(ARCA_ENOMEM, "list files: out of memory");
			break;
		}
	}
	if (err == ARCA_OK && rc != SQLITE_DONE)
		err = db_error(cat, rc, "list files");
	sqlite3_finalize(st);
	if (err < 0) {
		arca_files_free(list, n);
		return err;
	}
	*out = list;
	*n_out = n;
	return ARCA_OK;
}

static arca_err repo_id_for(arca_catalog *cat, const char *hub, const char *repo_id,
	int64_t *out)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "INSERT INTO repos(hub, repo_id) VALUES (?1, ?2) "
		"ON CONFLICT(hub, repo_id) DO UPDATE SET hub = hub RETURNING id");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, hub, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, repo_id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		err = db_error(cat, rc, "record model");
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
	if ((err = prepare(cat, &st, "SELECT id FROM snapshots WHERE repo = ? AND commit_id = ?")) < 0)
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
		err = db_error(cat, rc, "find snapshot");
		goto fail;
	}
	if ((err = prepare(cat, &st, "INSERT INTO snapshots(repo, commit_id, revision_asked, "
			"state, source, origin, created_at, license_json, card_json, evidence_json) "
			"VALUES (?, ?, ?, 'incomplete', ?, ?, ?, ?, ?, ?)")) < 0)
		goto fail;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, snap->commit, -1, SQLITE_TRANSIENT);
	bind_text_or_null(st, 3, snap->revision);
	sqlite3_bind_text(st, 4, snap->source, -1, SQLITE_TRANSIENT);
	bind_text_or_null(st, 5, snap->origin);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	bind_text_or_null(st, 7, snap->license_json);
	bind_text_or_null(st, 8, snap->card_json);
	bind_text_or_null(st, 9, snap->evidence_json);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		err = db_error(cat, rc, "record snapshot");
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
	arca_err err = prepare(cat, &st, "INSERT OR REPLACE INTO files(snapshot, path, size, blob, "
		"hub_oid, oid_kind, evidence_json) VALUES (?, ?, ?, ?, ?, ?, ?)");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, file->path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)file->size);
	bind_text_or_null(st, 4, file->sha256);
	bind_text_or_null(st, 5, file->hub_oid);
	bind_text_or_null(st, 6, file->oid_kind);
	bind_text_or_null(st, 7, file->evidence_json);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return arca_error_prefix(db_error(cat, rc, "record file"), "%s", file->path);
	return ARCA_OK;
}

arca_err arca_catalog_remove_file(arca_catalog *cat, int64_t snapshot, const char *path)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "DELETE FROM files WHERE snapshot = ? AND path = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return arca_error_prefix(db_error(cat, rc, "remove file"), "%s", path);
	return ARCA_OK;
}

arca_err arca_catalog_complete_snapshot(arca_catalog *cat, int64_t snapshot)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT path FROM files WHERE snapshot = ? AND blob IS NULL "
		"ORDER BY path LIMIT 1");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = arca_error_set(ARCA_EINVALID, "snapshot %lld: file %s has no verified content yet",
			(long long)snapshot, sqlite3_column_text(st, 0));
	else if (rc != SQLITE_DONE)
		err = db_error(cat, rc, "check snapshot files");
	sqlite3_finalize(st);
	if (err < 0)
		return err;
	if ((err = prepare(cat, &st, "UPDATE snapshots SET state = 'complete', completed_at = "
			"coalesce(completed_at, ?) WHERE id = ?")) < 0)
		return err;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, snapshot);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : db_error(cat, rc, "complete snapshot");
}

arca_err arca_catalog_update_snapshot(arca_catalog *cat, int64_t snapshot,
	const char *license_json, const char *card_json, const char *evidence_json)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "UPDATE snapshots SET "
		"license_json = coalesce(?2, license_json), card_json = coalesce(?3, card_json), "
		"evidence_json = coalesce(?4, evidence_json) WHERE id = ?1");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	bind_text_or_null(st, 2, license_json);
	bind_text_or_null(st, 3, card_json);
	bind_text_or_null(st, 4, evidence_json);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : db_error(cat, rc, "update snapshot");
}

arca_err arca_catalog_mark_incomplete(arca_catalog *cat, int64_t snapshot)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "UPDATE snapshots SET state = 'incomplete', "
		"completed_at = NULL WHERE id = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : db_error(cat, rc, "mark snapshot incomplete");
}

arca_err arca_catalog_set_ref(arca_catalog *cat, int64_t snapshot, const char *name)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "INSERT INTO refs(repo, name, snapshot, updated_at) "
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
		return db_error(cat, rc, "set ref");
	if (sqlite3_changes(cat->db) == 0)
		return arca_error_set(ARCA_ENOTFOUND, "snapshot %lld is not in the catalog",
			(long long)snapshot);
	return ARCA_OK;
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
		if ((err = prepare(cat, &st, steps[i])) < 0)
			goto fail;
		if (sqlite3_bind_parameter_count(st) > 0)
			sqlite3_bind_int64(st, 1, snapshot);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			err = db_error(cat, rc, "delete snapshot");
			goto fail;
		}
	}
	return arca_catalog_commit(cat);
fail:
	arca_catalog_rollback(cat);
	return err;
}

arca_err arca_catalog_delete_artifact(arca_catalog *cat, int64_t artifact)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "DELETE FROM artifacts WHERE id = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, artifact);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(cat, rc, "delete artifact");
	if (sqlite3_changes(cat->db) == 0)
		return arca_error_set(ARCA_ENOTFOUND, "artifact %lld is not in the catalog",
			(long long)artifact);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ lineage */

void arca_artifact_dispose(arca_artifact *art)
{
	free(art->kind);
	free(art->name);
	free(art->params_json);
	free(art->tool_version);
	free(art->created_at);
	memset(art, 0, sizeof(*art));
}

void arca_artifacts_free(arca_artifact *arts, size_t n)
{
	for (size_t i = 0; arts && i < n; i++)
		arca_artifact_dispose(&arts[i]);
	free(arts);
}

arca_err arca_catalog_add_artifact(arca_catalog *cat, const char *kind, const char *name,
	int64_t snapshot, const char *params_json, int64_t *id_out)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "INSERT INTO artifacts(kind, name, snapshot, params_json, "
		"tool_version, created_at) VALUES (?, ?, ?, ?, ?, ?)");
	if (err < 0)
		return err;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	if (snapshot > 0)
		sqlite3_bind_int64(st, 3, snapshot);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, params_json ? params_json : "{}", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, ARCA_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(cat, rc, "record artifact");
	*id_out = sqlite3_last_insert_rowid(cat->db);
	return ARCA_OK;
}

static arca_err add_artifact_file(arca_catalog *cat, const char *table, int64_t artifact,
	const char *sha256, const char *path)
{
	char sql[160];
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s(artifact, blob, path) VALUES (?, ?, ?)",
		table);
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, sql);
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, artifact);
	sqlite3_bind_text(st, 2, sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : db_error(cat, rc, "record artifact lineage");
}

arca_err arca_catalog_add_artifact_input(arca_catalog *cat, int64_t artifact,
	const char *sha256, const char *path)
{
	return add_artifact_file(cat, "artifact_inputs", artifact, sha256, path);
}

arca_err arca_catalog_add_artifact_output(arca_catalog *cat, int64_t artifact,
	const char *sha256, const char *path)
{
	return add_artifact_file(cat, "artifact_outputs", artifact, sha256, path);
}

arca_err arca_catalog_find_artifact(arca_artifact *out, arca_catalog *cat, int64_t snapshot,
	const char *name)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT id, kind, name, params_json, tool_version, "
		"created_at FROM artifacts WHERE snapshot = ? AND name = ? ORDER BY id DESC LIMIT 1");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->kind = column_dup(st, 1);
		out->name = column_dup(st, 2);
		out->params_json = column_dup(st, 3);
		out->tool_version = column_dup(st, 4);
		out->created_at = column_dup(st, 5);
	} else if (rc == SQLITE_DONE) {
		err = arca_error_set(ARCA_ENOTFOUND, "no variant '%s'", name);
	} else {
		err = db_error(cat, rc, "find artifact");
	}
	sqlite3_finalize(st);
	return err;
}

void arca_artifact_files_free(arca_artifact_file *files, size_t n)
{
	for (size_t i = 0; files && i < n; i++)
		free(files[i].path);
	free(files);
}

static arca_err list_artifact_files(arca_artifact_file **out, size_t *n_out, arca_catalog *cat,
	int64_t artifact, const char *table)
{
	*out = NULL;
	*n_out = 0;
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT t.path, t.blob, coalesce(b.size, 0) FROM %s t LEFT JOIN "
		"blobs b ON b.sha256 = t.blob WHERE t.artifact = ? ORDER BY t.path", table);
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, sql);
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, artifact);
	arca_artifact_file *list = NULL;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		arca_artifact_file *grown = realloc(list, (n + 1) * sizeof(*grown));
		if (!grown) {
			err = arca_error_set(ARCA_ENOMEM, "list artifact files: out of memory");
			break;
		}
		list = grown;
		list[n].path = column_dup(st, 0);
		column_copy(list[n].sha256, sizeof(list[n].sha256), st, 1);
		list[n].size = (uint64_t)sqlite3_column_int64(st, 2);
		n++;
	}
	if (err == ARCA_OK && rc != SQLITE_DONE)
		err = db_error(cat, rc, "list artifact files");
	sqlite3_finalize(st);
	if (err < 0) {
		arca_artifact_files_free(list, n);
		return err;
	}
	*out = list;
	*n_out = n;
	return ARCA_OK;
}

arca_err arca_catalog_artifact_outputs(arca_artifact_file **out, size_t *n_out,
	arca_catalog *cat, int64_t artifact)
{
	return list_artifact_files(out, n_out, cat, artifact, "artifact_outputs");
}

arca_err arca_catalog_artifact_inputs(arca_artifact_file **out, size_t *n_out,
	arca_catalog *cat, int64_t artifact)
{
	return list_artifact_files(out, n_out, cat, artifact, "artifact_inputs");
}

arca_err arca_catalog_list_artifacts(arca_artifact **out, size_t *n_out, arca_catalog *cat,
	int64_t snapshot)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT id, kind, name, params_json, tool_version, "
		"created_at FROM artifacts WHERE snapshot = ? ORDER BY id");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	arca_artifact *list = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			arca_artifact *grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				err = arca_error_set(ARCA_ENOMEM, "list artifacts: out of memory");
				break;
			}
			list = grown;
		}
		arca_artifact *a = &list[n++];
		a->id = sqlite3_column_int64(st, 0);
		a->kind = column_dup(st, 1);
		a->name = column_dup(st, 2);
		a->params_json = column_dup(st, 3);
		a->tool_version = column_dup(st, 4);
		a->created_at = column_dup(st, 5);
	}
	if (err == ARCA_OK && rc != SQLITE_DONE)
		err = db_error(cat, rc, "list artifacts");
	sqlite3_finalize(st);
	if (err < 0) {
		arca_artifacts_free(list, n);
		return err;
	}
	*out = list;
	*n_out = n;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ validations */

void arca_validation_dispose(arca_validation *v)
{
	free(v->prompt_set);
	free(v->tokens_json);
	free(v->logits_digest);
	free(v->metrics_json);
	free(v->at);
	memset(v, 0, sizeof(*v));
}

arca_err arca_catalog_add_validation(arca_catalog *cat, int64_t artifact,
	const char *prompt_set, const char *tokens_json, const char *logits_digest,
	const char *metrics_json, int64_t *id_out)
{
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "INSERT INTO validations(artifact, prompt_set, "
		"tokens_json, logits_digest, metrics_json, at) VALUES (?, ?, ?, ?, ?, ?)");
	if (err < 0)
		return err;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_int64(st, 1, artifact);
	sqlite3_bind_text(st, 2, prompt_set, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, tokens_json, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, logits_digest, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, metrics_json ? metrics_json : "{}", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(cat, rc, "record validation");
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(cat->db);
	return ARCA_OK;
}

arca_err arca_catalog_last_validation(arca_validation *out, arca_catalog *cat,
	const char *commit_id, const char *variant, const char *prompt_set, int64_t before)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st;
	arca_err err = prepare(cat, &st, "SELECT v.id, v.artifact, v.prompt_set, v.tokens_json, "
		"v.logits_digest, v.metrics_json, v.at FROM validations v "
		"JOIN artifacts a ON a.id = v.artifact JOIN snapshots s ON s.id = a.snapshot "
		"WHERE s.commit_id = ? AND a.name = ? AND v.prompt_set = ? AND (? <= 0 OR v.id < ?) "
		"ORDER BY v.id DESC LIMIT 1");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, commit_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, variant, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, prompt_set, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, before);
	sqlite3_bind_int64(st, 5, before);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->artifact = sqlite3_column_int64(st, 1);
		out->prompt_set = column_dup(st, 2);
		out->tokens_json = column_dup(st, 3);
		out->logits_digest = column_dup(st, 4);
		out->metrics_json = column_dup(st, 5);
		out->at = column_dup(st, 6);
		err = ARCA_OK;
	} else if (rc == SQLITE_DONE) {
		err = arca_error_set(ARCA_ENOTFOUND, "no validation recorded for %s of commit %.12s",
			variant, commit_id);
	} else {
		err = db_error(cat, rc, "read validations");
	}
	sqlite3_finalize(st);
	return err;
}
