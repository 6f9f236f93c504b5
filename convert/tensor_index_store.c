/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tensor_index_store.c — the tensor index of a store: which weight blobs of a
 * snapshot, a variant or the whole store are missing from the index, mapping each, indexing
 * it (convert/tensor_index.c) and recording its rows in one catalog transaction. A blob that
 * does not parse is listed as a failure and nothing is recorded for it, so the add, pull,
 * convert or import that stored it still succeeds and `arca index` tries it again.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arca/tensor_index.h"
#include "common/pool.h"
#include "convert/tensor_index_internal.h"

void arca_index_result_dispose(arca_index_result *result)
{
	if (!result)
		return;
	for (size_t i = 0; i < result->n_failed; i++) {
		free(result->failures[i].path);
		free(result->failures[i].message);
	}
	free(result->failures);
	memset(result, 0, sizeof(*result));
}

static arca_err add_failure(arca_index_result *r, const arca_weight_blob *w, arca_err err,
	const char *message)
{
	arca_index_failure *grown = realloc(r->failures, (r->n_failed + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "index: out of memory");
	r->failures = grown;
	arca_index_failure *f = &grown[r->n_failed++];
	memcpy(f->sha256, w->sha256, sizeof(f->sha256));
	f->err = err;
	f->path = strdup(w->path);
	f->message = strdup(message);
	if (!f->path || !f->message)
		return arca_error_set(ARCA_ENOMEM, "index: out of memory");
	return ARCA_OK;
}

/* Maps, indexes and records one blob; *n_rows_out = rows recorded. */
static arca_err index_blob(arca_store *store, const arca_weight_blob *w, arca_pool *pool,
	arca_index_progress *progress, size_t *n_rows_out)
{
	*n_rows_out = 0;
	arca_blob_map *map;
	arca_err err = arca_store_map_blob(&map, store, w->sha256);
	if (err < 0)
		return arca_error_prefix(err, "%s", w->path);
	arca_tensor_record *rows = NULL;
	size_t n = 0;
	const char *format;
	err = arca_tensor_index__image(&rows, &n, &format, map->data, (size_t)map->size, w->path,
		pool, progress);
	if (err == ARCA_OK)
		err = arca_catalog_put_tensor_index(arca_store_catalog(store), w->sha256, format,
			ARCA_TENSOR_INDEX_VERSION, rows, n);
	if (err == ARCA_OK)
		*n_rows_out = n;
	arca_tensor_records_free(rows, n);
	arca_blob_map_free(map);
	return err;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

arca_err arca_index_weights(arca_index_result *out, arca_store *store, int64_t snapshot,
	int64_t artifact, const arca_index_opts *opts)
{
	memset(out, 0, sizeof(*out));
	arca_index_opts none = { 0 };
	if (!opts)
		opts = &none;
	double t0 = now_seconds();
	arca_weight_blob *blobs = NULL;
	size_t n = 0;
	arca_pool *pool = NULL;
	arca_err err = arca_catalog_list_weight_blobs(&blobs, &n, arca_store_catalog(store),
		snapshot, artifact);
	if (err < 0)
		return err;
	out->n_blobs = n;
	/* files indexed before the catalog kept whole-file sketches get theirs from their rows */
	if ((err = arca_catalog_fill_file_sketches(arca_store_catalog(store))) < 0)
		goto cleanup;
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (blobs[i].index_version == ARCA_TENSOR_INDEX_VERSION && !opts->force)
			out->n_skipped++;
		else
			total += blobs[i].size;
	}
	if (out->n_skipped == n)
		goto cleanup;
	if ((err = arca_pool_new(&pool, opts->threads)) < 0)
		goto cleanup;
	arca_index_progress progress = { opts->progress, NULL, 0, total, opts->payload };
	for (size_t i = 0; i < n; i++) {
		const arca_weight_blob *w = &blobs[i];
		if (w->index_version == ARCA_TENSOR_INDEX_VERSION && !opts->force)
			continue;
		progress.item = w->path;
		size_t rows;
		err = index_blob(store, w, pool, opts->progress ? &progress : NULL, &rows);
		progress.base += w->size;
		if (err == ARCA_EINTERRUPTED || err == ARCA_ENOMEM)
			goto cleanup;
		if (err < 0) {
			if ((err = add_failure(out, w, err, arca_error_last())) < 0)
				goto cleanup;
			continue;
		}
		out->n_indexed++;
		out->n_tensors += rows;
		out->bytes += w->size;
	}
cleanup:
	arca_pool_free(pool);
	arca_weight_blobs_free(blobs, n);
	out->seconds = now_seconds() - t0;
	return err;
}

arca_err arca_index_ref(arca_index_result *out, arca_store *store, const arca_ref *ref,
	const arca_index_opts *opts)
{
	memset(out, 0, sizeof(*out));
	arca_catalog *cat = arca_store_catalog(store);
	arca_snapshot snap;
	arca_err err = arca_catalog_find_snapshot(&snap, cat, ref);
	if (err < 0)
		return err;
	int64_t artifact = 0;
	if (ref->variant[0]) {
		arca_artifact art;
		err = arca_catalog_find_artifact(&art, cat, snap.id, ref->variant);
		if (err == ARCA_OK) {
			artifact = art.id;
			arca_artifact_dispose(&art);
		}
	}
	if (err == ARCA_OK)
		err = arca_index_weights(out, store, snap.id, artifact, opts);
	arca_snapshot_dispose(&snap);
	return err;
}
