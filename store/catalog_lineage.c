/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/catalog_lineage.c — derived artifacts (GGUF, ...) and their lineage: the blobs that
 * went into and came out of each, and the `arca validate` runs recorded against them.
 */
#include "store/catalog_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

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
	arca_err err = arca_catalog__prepare(cat, &st,
		"INSERT INTO artifacts(kind, name, snapshot, params_json, "
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
		return arca_catalog__db_error(cat, rc, "record artifact");
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
	arca_err err = arca_catalog__prepare(cat, &st, sql);
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, artifact);
	sqlite3_bind_text(st, 2, sha256, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK :
		arca_catalog__db_error(cat, rc, "record artifact lineage");
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

arca_err arca_catalog_delete_artifact(arca_catalog *cat, int64_t artifact)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "DELETE FROM artifacts WHERE id = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, artifact);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return arca_catalog__db_error(cat, rc, "delete artifact");
	if (sqlite3_changes(cat->db) == 0)
		return arca_error_set(ARCA_ENOTFOUND, "artifact %lld is not in the catalog",
			(long long)artifact);
	return ARCA_OK;
}

#define ARTIFACT_COLUMNS \
	"SELECT id, kind, name, params_json, tool_version, created_at FROM artifacts "

/* An arca_catalog__rows reader for a row of ARTIFACT_COLUMNS. */
static arca_err read_artifact_row(void *elem, sqlite3_stmt *st)
{
	arca_artifact *a = elem;
	a->id = sqlite3_column_int64(st, 0);
	a->kind = arca_catalog__column_dup(st, 1);
	a->name = arca_catalog__column_dup(st, 2);
	a->params_json = arca_catalog__column_dup(st, 3);
	a->tool_version = arca_catalog__column_dup(st, 4);
	a->created_at = arca_catalog__column_dup(st, 5);
	return ARCA_OK;
}

static void free_artifacts(void *items, size_t n)
{
	arca_artifacts_free(items, n);
}

static const arca_catalog__rows artifact_rows = {
	"list artifacts", sizeof(arca_artifact), read_artifact_row, free_artifacts,
};

arca_err arca_catalog_find_artifact(arca_artifact *out, arca_catalog *cat, int64_t snapshot,
	const char *name)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, ARTIFACT_COLUMNS
		"WHERE snapshot = ? AND name = ? ORDER BY id DESC LIMIT 1");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_artifact_row(out, st);
	else if (rc == SQLITE_DONE)
		err = arca_error_set(ARCA_ENOTFOUND, "no variant '%s'", name);
	else
		err = arca_catalog__db_error(cat, rc, "find artifact");
	sqlite3_finalize(st);
	return err;
}

arca_err arca_catalog_list_artifacts(arca_artifact **out, size_t *n_out, arca_catalog *cat,
	int64_t snapshot)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, ARTIFACT_COLUMNS
		"WHERE snapshot = ? ORDER BY id");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	void *items;
	err = arca_catalog__collect(&items, n_out, cat, st, &artifact_rows);
	*out = items;
	return err;
}

void arca_artifact_files_free(arca_artifact_file *files, size_t n)
{
	for (size_t i = 0; files && i < n; i++)
		free(files[i].path);
	free(files);
}

static arca_err read_artifact_file_row(void *elem, sqlite3_stmt *st)
{
	arca_artifact_file *f = elem;
	f->path = arca_catalog__column_dup(st, 0);
	arca_catalog__column_copy(f->sha256, sizeof(f->sha256), st, 1);
	f->size = (uint64_t)sqlite3_column_int64(st, 2);
	return ARCA_OK;
}

static void free_artifact_files(void *items, size_t n)
{
	arca_artifact_files_free(items, n);
}

static const arca_catalog__rows artifact_file_rows = {
	"list artifact files", sizeof(arca_artifact_file), read_artifact_file_row,
	free_artifact_files,
};

static arca_err list_artifact_files(arca_artifact_file **out, size_t *n_out, arca_catalog *cat,
	int64_t artifact, const char *table)
{
	*out = NULL;
	*n_out = 0;
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT t.path, t.blob, coalesce(b.size, 0) FROM %s t LEFT JOIN "
		"blobs b ON b.sha256 = t.blob WHERE t.artifact = ? ORDER BY t.path", table);
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, sql);
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, artifact);
	void *items;
	err = arca_catalog__collect(&items, n_out, cat, st, &artifact_file_rows);
	*out = items;
	return err;
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
	return arca_catalog_add_validation_at(cat, artifact, prompt_set, tokens_json,
		logits_digest, metrics_json, NULL, id_out);
}

arca_err arca_catalog_add_validation_at(arca_catalog *cat, int64_t artifact,
	const char *prompt_set, const char *tokens_json, const char *logits_digest,
	const char *metrics_json, const char *at, int64_t *id_out)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "INSERT INTO validations(artifact, prompt_set, "
		"tokens_json, logits_digest, metrics_json, at) VALUES (?, ?, ?, ?, ?, ?)");
	if (err < 0)
		return err;
	char now[32];
	if (at)
		snprintf(now, sizeof(now), "%s", at);
	else
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
		return arca_catalog__db_error(cat, rc, "record validation");
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(cat->db);
	return ARCA_OK;
}

arca_err arca_catalog_last_validation(arca_validation *out, arca_catalog *cat,
	const char *commit_id, const char *variant, const char *prompt_set, int64_t before)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT v.id, v.artifact, v.prompt_set, v.tokens_json, "
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
		out->prompt_set = arca_catalog__column_dup(st, 2);
		out->tokens_json = arca_catalog__column_dup(st, 3);
		out->logits_digest = arca_catalog__column_dup(st, 4);
		out->metrics_json = arca_catalog__column_dup(st, 5);
		out->at = arca_catalog__column_dup(st, 6);
		err = ARCA_OK;
	} else if (rc == SQLITE_DONE) {
		err = arca_error_set(ARCA_ENOTFOUND, "no validation recorded for %s of commit %.12s",
			variant, commit_id);
	} else {
		err = arca_catalog__db_error(cat, rc, "read validations");
	}
	sqlite3_finalize(st);
	return err;
}

static arca_err read_validation_row(void *elem, sqlite3_stmt *st)
{
	arca_validation *v = elem;
	v->id = sqlite3_column_int64(st, 0);
	v->artifact = sqlite3_column_int64(st, 1);
	v->prompt_set = arca_catalog__column_dup(st, 2);
	v->tokens_json = arca_catalog__column_dup(st, 3);
	v->logits_digest = arca_catalog__column_dup(st, 4);
	v->metrics_json = arca_catalog__column_dup(st, 5);
	v->at = arca_catalog__column_dup(st, 6);
	return ARCA_OK;
}

void arca_validations_free(arca_validation *vals, size_t n)
{
	for (size_t i = 0; vals && i < n; i++)
		arca_validation_dispose(&vals[i]);
	free(vals);
}

static void free_validations(void *items, size_t n)
{
	arca_validations_free(items, n);
}

static const arca_catalog__rows validation_rows = {
	"list validations", sizeof(arca_validation), read_validation_row, free_validations,
};

arca_err arca_catalog_list_validations(arca_validation **out, size_t *n_out, arca_catalog *cat,
	int64_t artifact)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "SELECT id, artifact, prompt_set, "
		"tokens_json, logits_digest, metrics_json, at FROM validations WHERE artifact = ? "
		"ORDER BY id");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, artifact);
	void *items;
	err = arca_catalog__collect(&items, n_out, cat, st, &validation_rows);
	*out = items;
	return err;
}
