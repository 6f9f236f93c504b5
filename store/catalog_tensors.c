/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/catalog_tensors.c — the tensor index in the catalog: a blob's tensor rows (hash,
 * statistics, sketch) written and read back, which weight blobs exist and whether they are
 * indexed, and which stored files share tensor bytes with a set of blobs. The rows are
 * computed in convert/tensor_index.c; this file only keeps them.
 *
 * Sketches are stored as BLOBs of ARCA_TENSOR_SKETCH_DIM little-endian float32s, whatever
 * the host's byte order, so a catalog moves between machines.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_internal.h"

#include "common/util.h"

void arca_tensor_record_dispose(arca_tensor_record *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->shape_json);
	memset(t, 0, sizeof(*t));
}

void arca_tensor_records_free(arca_tensor_record *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		arca_tensor_record_dispose(&rows[i]);
	free(rows);
}

static void sketch_encode(unsigned char *out, const float *sketch)
{
	for (size_t i = 0; i < ARCA_TENSOR_SKETCH_DIM; i++) {
		uint32_t u;
		memcpy(&u, &sketch[i], 4);
		for (int b = 0; b < 4; b++)
			out[4 * i + (size_t)b] = (unsigned char)(u >> (8 * b));
	}
}

static void sketch_decode(float *sketch, const unsigned char *in)
{
	for (size_t i = 0; i < ARCA_TENSOR_SKETCH_DIM; i++) {
		uint32_t u = 0;
		for (int b = 0; b < 4; b++)
			u |= (uint32_t)in[4 * i + (size_t)b] << (8 * b);
		memcpy(&sketch[i], &u, 4);
	}
}

/* A statistic, or NULL when the tensor has none (or it is not a number). */
static void bind_stat(sqlite3_stmt *st, int i, int has, double v)
{
	if (has && isfinite(v))
		sqlite3_bind_double(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static arca_err store_file_sketch(arca_catalog *cat, const char *blob,
	const arca_tensor_record *rows, size_t n);

static arca_err insert_rows(arca_catalog *cat, sqlite3_stmt *st, const char *blob,
	const arca_tensor_record *rows, size_t n)
{
	unsigned char sketch[ARCA_TENSOR_SKETCH_DIM * 4];
	for (size_t i = 0; i < n; i++) {
		const arca_tensor_record *t = &rows[i];
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, blob, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, t->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, t->dtype, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, t->shape_json ? t->shape_json : "[]", -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)t->offset);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)t->nbytes);
		sqlite3_bind_text(st, 7, t->sha256, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 8, (sqlite3_int64)t->n_elements);
		bind_stat(st, 9, t->has_values, t->mean);
		bind_stat(st, 10, t->has_values, t->std);
		bind_stat(st, 11, t->has_values, t->rms);
		bind_stat(st, 12, t->has_values, t->l2);
		bind_stat(st, 13, t->has_values, t->min);
		bind_stat(st, 14, t->has_values, t->max);
		bind_stat(st, 15, t->has_values, t->zero_frac);
		if (t->has_values) {
			sketch_encode(sketch, t->sketch);
			sqlite3_bind_blob(st, 16, sketch, (int)sizeof(sketch), SQLITE_TRANSIENT);
		} else {
			sqlite3_bind_null(st, 16);
		}
		int rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			return arca_catalog__db_error(cat, rc, "record tensor index");
	}
	return ARCA_OK;
}

static arca_err exec_blob(arca_catalog *cat, const char *sql, const char *blob,
	const char *what)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, sql);
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, blob, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : arca_catalog__db_error(cat, rc, what);
}

arca_err arca_catalog_delete_tensor_index(arca_catalog *cat, const char *blob)
{
	arca_err err = exec_blob(cat, "DELETE FROM tensors WHERE blob = ?", blob,
		"delete tensor index");
	if (err == ARCA_OK)
		err = exec_blob(cat, "DELETE FROM tensor_index WHERE blob = ?", blob,
			"delete tensor index");
	return err;
}

arca_err arca_catalog_put_tensor_index(arca_catalog *cat, const char *blob, const char *format,
	int version, const arca_tensor_record *rows, size_t n)
{
	arca_err err = arca_catalog_begin(cat);
	if (err < 0)
		return err;
	sqlite3_stmt *st = NULL;
	if ((err = arca_catalog_delete_tensor_index(cat, blob)) < 0)
		goto cleanup;
	/* INSERT OR REPLACE: a file may (wrongly) hold two tensors of one name; the last wins
	 * rather than failing the whole index */
	if ((err = arca_catalog__prepare(cat, &st, "INSERT OR REPLACE INTO tensors(blob, name, "
		"dtype, shape, offset, nbytes, sha256, n_elements, mean, std, rms, l2, min, max, "
		"zero_frac, sketch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
		"?14, ?15, ?16)")) < 0)
		goto cleanup;
	if ((err = insert_rows(cat, st, blob, rows, n)) < 0)
		goto cleanup;
	sqlite3_finalize(st);
	if ((err = arca_catalog__prepare(cat, &st, "INSERT INTO tensor_index(blob, format, "
		"version, n_tensors, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5)")) < 0)
		goto cleanup;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_text(st, 1, blob, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, format, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, version);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)n);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		err = arca_catalog__db_error(cat, rc, "record tensor index");
	if (err == ARCA_OK)
		err = store_file_sketch(cat, blob, rows, n);
cleanup:
	sqlite3_finalize(st);
	if (err < 0) {
		arca_catalog_rollback(cat);
		return arca_error_prefix(err, "index blob %.12s", blob);
	}
	return arca_catalog_commit(cat);
}

arca_err arca_catalog_tensor_index_version(arca_catalog *cat, const char *blob,
	int *version_out)
{
	*version_out = 0;
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT version FROM tensor_index WHERE blob = ?");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, blob, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version_out = sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE)
		err = arca_catalog__db_error(cat, rc, "read tensor index");
	sqlite3_finalize(st);
	return err;
}

/* ------------------------------------------------------------------ reading rows */

static double column_stat(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static arca_err read_tensor_row(void *elem, sqlite3_stmt *st)
{
	arca_tensor_record *t = elem;
	t->name = arca_catalog__column_dup(st, 0);
	arca_catalog__column_copy(t->dtype, sizeof(t->dtype), st, 1);
	t->shape_json = arca_catalog__column_dup(st, 2);
	t->offset = (uint64_t)sqlite3_column_int64(st, 3);
	t->nbytes = (uint64_t)sqlite3_column_int64(st, 4);
	arca_catalog__column_copy(t->sha256, sizeof(t->sha256), st, 5);
	t->n_elements = (uint64_t)sqlite3_column_int64(st, 6);
	t->mean = column_stat(st, 7);
	t->std = column_stat(st, 8);
	t->rms = column_stat(st, 9);
	t->l2 = column_stat(st, 10);
	t->min = column_stat(st, 11);
	t->max = column_stat(st, 12);
	t->zero_frac = column_stat(st, 13);
	if (sqlite3_column_bytes(st, 14) == ARCA_TENSOR_SKETCH_DIM * 4) {
		sketch_decode(t->sketch, sqlite3_column_blob(st, 14));
		t->has_values = 1;
	}
	if (!t->name || !t->shape_json)
		return arca_error_set(ARCA_ENOMEM, "list tensors: out of memory");
	return ARCA_OK;
}

static void free_tensor_rows(void *items, size_t n)
{
	arca_tensor_records_free(items, n);
}

static const arca_catalog__rows tensor_rows = {
	"list tensors", sizeof(arca_tensor_record), read_tensor_row, free_tensor_rows,
};

arca_err arca_catalog_list_tensors(arca_tensor_record **out, size_t *n_out, arca_catalog *cat,
	const char *blob)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "SELECT name, dtype, shape, offset, nbytes, "
		"sha256, n_elements, mean, std, rms, l2, min, max, zero_frac, sketch FROM tensors "
		"WHERE blob = ? ORDER BY offset, name");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, blob, -1, SQLITE_TRANSIENT);
	void *items;
	err = arca_catalog__collect(&items, n_out, cat, st, &tensor_rows);
	*out = items;
	return err;
}

/* ------------------------------------------------------------------ weight blobs */

void arca_weight_blobs_free(arca_weight_blob *blobs, size_t n)
{
	for (size_t i = 0; blobs && i < n; i++)
		free(blobs[i].path);
	free(blobs);
}

static arca_err read_weight_row(void *elem, sqlite3_stmt *st)
{
	arca_weight_blob *w = elem;
	arca_catalog__column_copy(w->sha256, sizeof(w->sha256), st, 0);
	w->path = arca_catalog__column_dup(st, 1);
	w->size = (uint64_t)sqlite3_column_int64(st, 2);
	w->snapshot = sqlite3_column_int64(st, 3);
	w->artifact = sqlite3_column_int64(st, 4);
	w->index_version = sqlite3_column_int(st, 5);
	w->n_tensors = sqlite3_column_int64(st, 6);
	return w->path ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "list weight blobs: out of memory");
}

static void free_weight_rows(void *items, size_t n)
{
	arca_weight_blobs_free(items, n);
}

static const arca_catalog__rows weight_rows = {
	"list weight blobs", sizeof(arca_weight_blob), read_weight_row, free_weight_rows,
};

arca_err arca_catalog_list_weight_blobs(arca_weight_blob **out, size_t *n_out,
	arca_catalog *cat, int64_t snapshot, int64_t artifact)
{
	*out = NULL;
	*n_out = 0;
	/* ?1 snapshot (0: all), ?2 artifact (0: the snapshot's files and every variant) */
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"WITH w(blob, path, snapshot, artifact) AS ("
		"  SELECT f.blob, f.path, f.snapshot, 0 FROM files f"
		"  WHERE f.blob IS NOT NULL AND ?2 = 0 AND (?1 = 0 OR f.snapshot = ?1)"
		"  AND (f.path LIKE '%.safetensors' OR f.path LIKE '%.gguf')"
		"  UNION ALL"
		"  SELECT o.blob, o.path, coalesce(a.snapshot, 0), a.id FROM artifact_outputs o"
		"  JOIN artifacts a ON a.id = o.artifact"
		"  WHERE (?1 = 0 OR a.snapshot = ?1) AND (?2 = 0 OR a.id = ?2)"
		"  AND (o.path LIKE '%.safetensors' OR o.path LIKE '%.gguf')),"
		" one AS (SELECT blob, min(path) AS path, min(snapshot) AS snapshot,"
		"  min(artifact) AS artifact FROM w GROUP BY blob)"
		"SELECT one.blob, one.path, b.size, one.snapshot, one.artifact,"
		"  coalesce(ti.version, 0), coalesce(ti.n_tensors, 0)"
		" FROM one JOIN blobs b ON b.sha256 = one.blob"
		" LEFT JOIN tensor_index ti ON ti.blob = one.blob"
		" ORDER BY one.path, one.blob");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_int64(st, 2, artifact);
	void *items;
	err = arca_catalog__collect(&items, n_out, cat, st, &weight_rows);
	*out = items;
	return err;
}

/* ------------------------------------------------------------------ shared tensors */

void arca_tensor_overlaps_free(arca_tensor_overlap *o, size_t n)
{
	for (size_t i = 0; o && i < n; i++) {
		free(o[i].owner);
		free(o[i].path);
	}
	free(o);
}

static arca_err read_overlap_row(void *elem, sqlite3_stmt *st)
{
	arca_tensor_overlap *o = elem;
	arca_catalog__column_copy(o->blob, sizeof(o->blob), st, 0);
	o->n_shared = sqlite3_column_int64(st, 1);
	o->bytes_shared = (uint64_t)sqlite3_column_int64(st, 2);
	o->snapshot = sqlite3_column_int64(st, 3);
	o->artifact = sqlite3_column_int64(st, 4);
	o->owner = arca_catalog__column_dup(st, 5);
	o->path = arca_catalog__column_dup(st, 6);
	return o->owner && o->path ? ARCA_OK :
		arca_error_set(ARCA_ENOMEM, "find shared tensors: out of memory");
}

static void free_overlap_rows(void *items, size_t n)
{
	arca_tensor_overlaps_free(items, n);
}

static const arca_catalog__rows overlap_rows = {
	"find shared tensors", sizeof(arca_tensor_overlap), read_overlap_row, free_overlap_rows,
};

arca_err arca_catalog_tensor_overlaps(arca_tensor_overlap **out, size_t *n_out,
	arca_catalog *cat, const char *const *blobs, size_t n_blobs, int64_t exclude_snapshot)
{
	*out = NULL;
	*n_out = 0;
	json_t *set = json_array();
	if (!set)
		return arca_error_set(ARCA_ENOMEM, "find shared tensors: out of memory");
	for (size_t i = 0; i < n_blobs; i++)
		json_array_append_new(set, json_string(blobs[i]));
	char *set_text = json_dumps(set, JSON_COMPACT);
	json_decref(set);
	if (!set_text)
		return arca_error_set(ARCA_ENOMEM, "find shared tensors: out of memory");
	/* the set's distinct hashes, then every blob's tensors with one of them (an index
	 * lookup each; the set's own blobs too, as another snapshot may use the same file),
	 * grouped by blob, then named by the files outside exclude_snapshot that use it */
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"WITH src(blob) AS (SELECT value FROM json_each(?1)),"
		" h(sha256) AS (SELECT DISTINCT sha256 FROM tensors WHERE blob IN src),"
		" m(blob, n, bytes) AS (SELECT t.blob, count(DISTINCT t.sha256), sum(t.nbytes)"
		"  FROM h JOIN tensors t ON t.sha256 = h.sha256 GROUP BY t.blob)"
		"SELECT m.blob, m.n, m.bytes, f.snapshot, 0,"
		"  r.hub || ':' || r.repo_id || '@' || substr(s.commit_id, 1, 12), f.path"
		" FROM m JOIN files f ON f.blob = m.blob JOIN snapshots s ON s.id = f.snapshot"
		" JOIN repos r ON r.id = s.repo WHERE (?2 = 0 OR f.snapshot <> ?2)"
		" UNION ALL "
		"SELECT m.blob, m.n, m.bytes, coalesce(a.snapshot, 0), a.id,"
		"  coalesce(r.hub || ':' || r.repo_id || '@' || substr(s.commit_id, 1, 12), '')"
		"  || ':' || a.name, o.path"
		" FROM m JOIN artifact_outputs o ON o.blob = m.blob JOIN artifacts a ON a.id = o.artifact"
		" LEFT JOIN snapshots s ON s.id = a.snapshot LEFT JOIN repos r ON r.id = s.repo"
		" WHERE (?2 = 0 OR coalesce(a.snapshot, 0) <> ?2)"
		" ORDER BY 2 DESC, 6, 7");
	if (err == ARCA_OK) {
		sqlite3_bind_text(st, 1, set_text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, exclude_snapshot);
		void *items;
		err = arca_catalog__collect(&items, n_out, cat, st, &overlap_rows);
		*out = items;
	}
	free(set_text);
	return err;
}

/* ------------------------------------------------------------------ scanning */

static arca_err read_owner_row(void *elem, sqlite3_stmt *st)
{
	arca_blob_owner *o = elem;
	arca_catalog__column_copy(o->blob, sizeof(o->blob), st, 0);
	o->snapshot = sqlite3_column_int64(st, 1);
	o->artifact = sqlite3_column_int64(st, 2);
	o->owner = arca_catalog__column_dup(st, 3);
	return o->owner ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "list owners: out of memory");
}

void arca_blob_owners_free(arca_blob_owner *owners, size_t n)
{
	for (size_t i = 0; owners && i < n; i++)
		free(owners[i].owner);
	free(owners);
}

static void free_owner_rows(void *items, size_t n)
{
	arca_blob_owners_free(items, n);
}

static const arca_catalog__rows owner_rows = {
	"list owners", sizeof(arca_blob_owner), read_owner_row, free_owner_rows,
};

arca_err arca_catalog_indexed_owners(arca_blob_owner **out, size_t *n_out, arca_catalog *cat,
	int64_t exclude_snapshot)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT DISTINCT f.blob, f.snapshot, 0,"
		"  r.hub || ':' || r.repo_id || '@' || substr(s.commit_id, 1, 12)"
		" FROM tensor_index i JOIN files f ON f.blob = i.blob"
		" JOIN snapshots s ON s.id = f.snapshot JOIN repos r ON r.id = s.repo"
		" WHERE (?1 = 0 OR f.snapshot <> ?1)"
		" UNION "
		"SELECT DISTINCT o.blob, coalesce(a.snapshot, 0), a.id,"
		"  coalesce(r.hub || ':' || r.repo_id || '@' || substr(s.commit_id, 1, 12), '')"
		"  || ':' || a.name"
		" FROM tensor_index i JOIN artifact_outputs o ON o.blob = i.blob"
		" JOIN artifacts a ON a.id = o.artifact"
		" LEFT JOIN snapshots s ON s.id = a.snapshot LEFT JOIN repos r ON r.id = s.repo"
		" WHERE (?1 = 0 OR coalesce(a.snapshot, 0) <> ?1)"
		" ORDER BY 1, 2, 3");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, exclude_snapshot);
	void *items;
	err = arca_catalog__collect(&items, n_out, cat, st, &owner_rows);
	*out = items;
	return err;
}

/* The bucket and sign of coordinate i of a tensor's sketch in the file sketch. */
static inline uint64_t spread(uint64_t name_hash, uint64_t i)
{
	uint64_t x = name_hash + (i + 1) * 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)name; p && *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
}

static int dims_of(const char *shape_json)
{
	int n = shape_json && shape_json[0] == '[' && shape_json[1] != ']' ? 1 : 0;
	for (const char *p = shape_json; p && *p; p++)
		n += *p == ',';
	return n;
}

void arca_file_sketch_of(arca_file_sketch *out, const arca_tensor_record *rows, size_t n)
{
	double acc[ARCA_FILE_SKETCH_DIM] = { 0 };
	out->norm2 = 0;
	out->n_matrices = 0;
	for (size_t r = 0; r < n; r++) {
		const arca_tensor_record *t = &rows[r];
		if (!t->has_values || dims_of(t->shape_json) < 2 || !(t->std > 0))
			continue;
		uint64_t h = name_hash(t->name);
		for (uint64_t i = 0; i < ARCA_TENSOR_SKETCH_DIM; i++) {
			uint64_t x = spread(h, i);
			double v = (double)t->sketch[i];
			acc[x % ARCA_FILE_SKETCH_DIM] += (x >> 63) ? -v : v;
		}
		out->norm2 += t->l2 * t->l2;
		out->n_matrices++;
	}
	for (size_t i = 0; i < ARCA_FILE_SKETCH_DIM; i++)
		out->sketch[i] = (float)acc[i];
}

static arca_err store_file_sketch(arca_catalog *cat, const char *blob,
	const arca_tensor_record *rows, size_t n)
{
	arca_file_sketch fs;
	arca_file_sketch_of(&fs, rows, n);
	unsigned char *bytes = malloc(ARCA_FILE_SKETCH_DIM * 4);
	if (!bytes)
		return arca_error_set(ARCA_ENOMEM, "record file sketch: out of memory");
	for (size_t i = 0; i < ARCA_FILE_SKETCH_DIM; i++) {
		uint32_t u;
		memcpy(&u, &fs.sketch[i], 4);
		for (int b = 0; b < 4; b++)
			bytes[i * 4 + (size_t)b] = (unsigned char)(u >> (8 * b));
	}
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "UPDATE tensor_index SET file_sketch = ?2, "
		"file_norm2 = ?3, n_matrices = ?4 WHERE blob = ?1");
	if (err == ARCA_OK) {
		sqlite3_bind_text(st, 1, blob, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, bytes, ARCA_FILE_SKETCH_DIM * 4, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 3, fs.norm2);
		sqlite3_bind_int64(st, 4, fs.n_matrices);
		int rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			err = arca_catalog__db_error(cat, rc, "record file sketch");
		sqlite3_finalize(st);
	}
	free(bytes);
	return err;
}

static arca_err read_file_sketch_row(void *elem, sqlite3_stmt *st)
{
	arca_file_sketch *f = elem;
	arca_catalog__column_copy(f->blob, sizeof(f->blob), st, 0);
	f->n_matrices = -1; /* not stored: made from the rows after the query */
	if (sqlite3_column_bytes(st, 1) != ARCA_FILE_SKETCH_DIM * 4)
		return ARCA_OK;
	const unsigned char *in = sqlite3_column_blob(st, 1);
	for (size_t i = 0; i < ARCA_FILE_SKETCH_DIM; i++) {
		uint32_t u = (uint32_t)in[i * 4] | (uint32_t)in[i * 4 + 1] << 8 |
			(uint32_t)in[i * 4 + 2] << 16 | (uint32_t)in[i * 4 + 3] << 24;
		memcpy(&f->sketch[i], &u, 4);
	}
	f->norm2 = sqlite3_column_double(st, 2);
	f->n_matrices = sqlite3_column_int64(st, 3);
	return ARCA_OK;
}

static void free_plain(void *items, size_t n)
{
	(void)n;
	free(items);
}

static const arca_catalog__rows file_sketch_rows = {
	"read file sketches", sizeof(arca_file_sketch), read_file_sketch_row, free_plain,
};

arca_err arca_catalog_file_sketches(arca_file_sketch **out, size_t *n_out, arca_catalog *cat)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "SELECT blob, file_sketch, file_norm2, "
		"n_matrices FROM tensor_index ORDER BY blob");
	if (err < 0)
		return err;
	void *items;
	if ((err = arca_catalog__collect(&items, n_out, cat, st, &file_sketch_rows)) < 0)
		return err;
	*out = items;
	for (size_t i = 0; err == ARCA_OK && i < *n_out; i++) {
		if ((*out)[i].n_matrices >= 0)
			continue;
		arca_tensor_record *rows;
		size_t n;
		if ((err = arca_catalog_list_tensors(&rows, &n, cat, (*out)[i].blob)) < 0)
			break;
		char blob[ARCA_SHA256_HEX];
		memcpy(blob, (*out)[i].blob, sizeof(blob));
		arca_file_sketch_of(&(*out)[i], rows, n);
		memcpy((*out)[i].blob, blob, sizeof(blob));
		arca_tensor_records_free(rows, n);
	}
	if (err < 0) {
		free(*out);
		*out = NULL;
		*n_out = 0;
	}
	return err;
}

arca_err arca_catalog_fill_file_sketches(arca_catalog *cat)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT blob FROM tensor_index WHERE file_sketch IS NULL");
	if (err < 0)
		return err;
	char (*blobs)[ARCA_SHA256_HEX] = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			void *grown = realloc(blobs, cap * sizeof(*blobs));
			if (!grown) {
				err = arca_error_set(ARCA_ENOMEM, "file sketches: out of memory");
				break;
			}
			blobs = grown;
		}
		arca_catalog__column_copy(blobs[n++], ARCA_SHA256_HEX, st, 0);
	}
	if (err == ARCA_OK && rc != SQLITE_DONE)
		err = arca_catalog__db_error(cat, rc, "find file sketches");
	sqlite3_finalize(st);
	if (err < 0 || !n) {
		free(blobs);
		return err;
	}
	if ((err = arca_catalog_begin(cat)) < 0) {
		free(blobs);
		return err;
	}
	for (size_t i = 0; err == ARCA_OK && i < n; i++) {
		arca_tensor_record *rows;
		size_t nr;
		if ((err = arca_catalog_list_tensors(&rows, &nr, cat, blobs[i])) < 0)
			break;
		err = store_file_sketch(cat, blobs[i], rows, nr);
		arca_tensor_records_free(rows, nr);
	}
	free(blobs);
	if (err < 0) {
		arca_catalog_rollback(cat);
		return err;
	}
	return arca_catalog_commit(cat);
}

static arca_err read_hit_row(void *elem, sqlite3_stmt *st)
{
	arca_hash_hits *h = elem;
	arca_catalog__column_copy(h->blob, sizeof(h->blob), st, 0);
	h->n_tensors = sqlite3_column_int64(st, 1);
	h->bytes = (uint64_t)sqlite3_column_int64(st, 2);
	return ARCA_OK;
}

static const arca_catalog__rows hit_rows = {
	"find tensor hashes", sizeof(arca_hash_hits), read_hit_row, free_plain,
};

arca_err arca_catalog_hash_hits(arca_hash_hits **out, size_t *n_out, arca_catalog *cat,
	const char *const *sha256s, size_t n)
{
	*out = NULL;
	*n_out = 0;
	json_t *set = json_array();
	for (size_t i = 0; set && i < n; i++)
		json_array_append_new(set, json_string(sha256s[i]));
	char *text = set ? json_dumps(set, JSON_COMPACT) : NULL;
	json_decref(set);
	if (!text)
		return arca_error_set(ARCA_ENOMEM, "find tensor hashes: out of memory");
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"WITH h(sha256) AS (SELECT DISTINCT value FROM json_each(?1))"
		"SELECT t.blob, count(*), sum(t.nbytes) FROM h JOIN tensors t ON t.sha256 = h.sha256"
		" GROUP BY t.blob ORDER BY t.blob");
	if (err == ARCA_OK) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
		void *items;
		err = arca_catalog__collect(&items, n_out, cat, st, &hit_rows);
		*out = items;
	}
	free(text);
	return err;
}
