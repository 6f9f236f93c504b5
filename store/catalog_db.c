/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/catalog_db.c — the SQLite plumbing every catalog file uses (catalog_internal.h):
 * turning result codes into arca errors, preparing statements, reading and binding
 * columns, and collecting the rows of a listing into an array.
 */
#include "store/catalog_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

arca_err arca_catalog__db_error(arca_catalog *cat, int rc, const char *what)
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

arca_err arca_catalog__prepare(arca_catalog *cat, sqlite3_stmt **st, const char *sql)
{
	int rc = sqlite3_prepare_v2(cat->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? ARCA_OK : arca_catalog__db_error(cat, rc, "prepare query");
}

char *arca_catalog__column_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *text = sqlite3_column_text(st, i);
	return text ? strdup((const char *)text) : NULL;
}

void arca_catalog__column_copy(char *dst, size_t cap, sqlite3_stmt *st, int i)
{
	const unsigned char *text = sqlite3_column_text(st, i);
	snprintf(dst, cap, "%s", text ? (const char *)text : "");
}

void arca_catalog__bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
	if (text && text[0])
		sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

void arca_catalog__join_rows(char *buf, size_t cap, sqlite3_stmt *st)
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

arca_err arca_catalog__collect(void **items_out, size_t *n_out, arca_catalog *cat,
	sqlite3_stmt *st, const arca_catalog__rows *rows)
{
	*items_out = NULL;
	*n_out = 0;
	char *items = NULL; /* char, so records can be addressed by byte offset */
	size_t n = 0, cap = 0;
	arca_err err = ARCA_OK;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t grown_cap = cap ? 2 * cap : 16;
			char *grown = grown_cap <= SIZE_MAX / rows->elem_size ?
				realloc(items, grown_cap * rows->elem_size) : NULL;
			if (!grown) {
				err = arca_error_set(ARCA_ENOMEM, "%s: out of memory", rows->what);
				break;
			}
			items = grown;
			cap = grown_cap;
		}
		/* counted before it is read, so a record the reader half-filled is freed too */
		void *elem = items + n++ * rows->elem_size;
		memset(elem, 0, rows->elem_size);
		if ((err = rows->read_row(elem, st)) < 0)
			break;
	}
	if (err == ARCA_OK && rc != SQLITE_DONE)
		err = arca_catalog__db_error(cat, rc, rows->what);
	sqlite3_finalize(st);
	if (err < 0) {
		rows->free_all(items, n);
		return err;
	}
	*items_out = items;
	*n_out = n;
	return ARCA_OK;
}
