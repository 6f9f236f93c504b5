/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/catalog_internal.h — the catalog handle and the SQLite helpers the catalog files
 * share (store/catalog*.c). Only those files include this; everything else goes through
 * arca/catalog.h.
 */
#ifndef ARCA_CATALOG_INTERNAL_H
#define ARCA_CATALOG_INTERNAL_H

#include "arca/catalog.h"

#include <sqlite3.h>
#include <stddef.h>

struct arca_catalog {
	sqlite3 *db;
	char *path;
	int schema_version;
	int tx_depth; /* nested arca_catalog_begin calls; only the outermost commits */
};

/* Maps a SQLite result code to an arca error whose message names the catalog file, what
 * was being done and SQLite's message; returns the code. */
arca_err arca_catalog__db_error(arca_catalog *cat, int rc, const char *what);

/* sqlite3_prepare_v2 of sql into *st; the caller finalizes it. */
arca_err arca_catalog__prepare(arca_catalog *cat, sqlite3_stmt **st, const char *sql);

/* Column i of the current row as a malloc'ed string, or NULL when it is NULL (or on OOM). */
char *arca_catalog__column_dup(sqlite3_stmt *st, int i);

/* Column i into dst (cap bytes, truncated), "" when it is NULL. */
void arca_catalog__column_copy(char *dst, size_t cap, sqlite3_stmt *st, int i);

/* Binds text to parameter i, or NULL when text is NULL or "". */
void arca_catalog__bind_text_or_null(sqlite3_stmt *st, int i, const char *text);

/* Steps st and joins the text of column 0 of every row, ", "-separated, into buf (cap
 * bytes, truncated); stops quietly at the first step that returns no row. */
void arca_catalog__join_rows(char *buf, size_t cap, sqlite3_stmt *st);

/* One kind of record that arca_catalog__collect reads rows into. */
typedef struct {
	const char *what;  /* names the listing in errors: "list files" */
	size_t elem_size;  /* sizeof one record */
	/* Fills one zeroed record from the current row; ARCA_OK, or an error it has set. */
	arca_err (*read_row)(void *elem, sqlite3_stmt *st);
	/* Frees n records and the array (the type's _free). */
	void (*free_all)(void *items, size_t n);
} arca_catalog__rows;

/* Steps the prepared, bound statement st to the end and reads every row into the next
 * record of a malloc'ed array that doubles as it grows, then finalizes st (always).
 * On success *items_out (NULL when there are no rows) and *n_out are the caller's. On
 * error — "<what>: out of memory" (ARCA_ENOMEM), the reader's own error, or a SQLite
 * error for <what> — the records read so far are freed and *items_out, *n_out are NULL, 0. */
arca_err arca_catalog__collect(void **items_out, size_t *n_out, arca_catalog *cat,
	sqlite3_stmt *st, const arca_catalog__rows *rows);

/* The snapshot with this id; ARCA_ENOTFOUND when there is none. *out is zeroed once the
 * query has run. */
arca_err arca_catalog__load_snapshot(arca_snapshot *out, arca_catalog *cat, int64_t id);

#endif
