/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/catalog.c — opening the SQLite catalog, applying migrations, transactions and the
 * integrity check (arca/catalog.h). The queries live beside it, one file a part:
 * catalog_blobs.c, catalog_snapshots.c, catalog_resolve.c, catalog_lineage.c; the handle
 * and the shared SQLite helpers in catalog_internal.h and catalog_db.c. All SQL lives in
 * those files and in migrations.c.
 */
#include "store/catalog_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/migrations.h"

static arca_err exec(arca_catalog *cat, const char *sql, const char *what)
{
	int rc = sqlite3_exec(cat->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? ARCA_OK : arca_catalog__db_error(cat, rc, what);
}

/* ------------------------------------------------------------------ open + migrate */

static arca_err read_version(arca_catalog *cat, int *out)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT coalesce(max(version), 0) FROM arca_schema");
	if (err < 0)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		err = arca_catalog__db_error(cat, rc, "read schema version");
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
		if ((err = arca_catalog__prepare(cat, &st, "INSERT INTO arca_schema(version, applied_at, "
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
			err = arca_catalog__db_error(cat, rc, "record migration");
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
		err = cat->db ? arca_catalog__db_error(cat, rc, "open") :
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

/* ------------------------------------------------------------------ transactions */

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
	arca_err err = arca_catalog__prepare(cat, &st, "PRAGMA quick_check");
	if (err < 0)
		return err;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		err = arca_catalog__db_error(cat, rc, "quick_check");
	else if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
		err = arca_error_set(ARCA_ECORRUPT, "%s: integrity check: %s", cat->path,
			sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (err < 0)
		return err;
	if ((err = arca_catalog__prepare(cat, &st, "PRAGMA foreign_key_check")) < 0)
		return err;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		err = arca_error_set(ARCA_ECORRUPT, "%s: table %s row %lld refers to a missing %s row",
			cat->path, sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
			sqlite3_column_text(st, 2));
	else if (rc != SQLITE_DONE)
		err = arca_catalog__db_error(cat, rc, "foreign_key_check");
	sqlite3_finalize(st);
	return err;
}
