/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/remove.c — `arca rm`: forgetting exactly what the user named, and saying what that
 * was (contract in arca/snapshot.h).
 *
 * A REF:VARIANT names the variant's artifacts only (every artifact of that name: re-made
 * conversions keep the name); a plain REF names the snapshot, which is refused while
 * variants derive from it unless they are named too (with_variants). Everything happens in
 * one catalog transaction, and the report is computed inside it: which blobs the removal
 * leaves unused (gc frees them) and which stay because something else still uses them. A
 * dry run rolls the transaction back, so it reports exactly what a real run would do.
 * Blob files are never touched here: that is gc's job, under the exclusive lock.
 */
#include "arca/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ report building */

static arca_err push_variant(arca_remove_report *r, const arca_artifact *art, size_t n_outputs,
	uint64_t bytes)
{
	arca_removed_variant *grown = realloc(r->variants, (r->n_variants + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "rm: out of memory");
	r->variants = grown;
	arca_removed_variant *v = &grown[r->n_variants];
	memset(v, 0, sizeof(*v));
	v->id = art->id;
	v->name = strdup(art->name);
	v->kind = strdup(art->kind);
	v->created_at = strdup(art->created_at);
	v->n_outputs = n_outputs;
	v->bytes = bytes;
	r->n_variants++;
	if (!v->name || !v->kind || !v->created_at)
		return arca_error_set(ARCA_ENOMEM, "rm: out of memory");
	return ARCA_OK;
}

/* Remembers a blob the removed rows referred to (once). */
static arca_err note_blob(char (**blobs)[ARCA_SHA256_HEX], size_t *n, const char *sha256)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*blobs)[i], sha256))
			return ARCA_OK;
	char (*grown)[ARCA_SHA256_HEX] = realloc(*blobs, (*n + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "rm: out of memory");
	*blobs = grown;
	snprintf(grown[*n], ARCA_SHA256_HEX, "%s", sha256);
	(*n)++;
	return ARCA_OK;
}

/* After the rows are gone: which of the touched blobs nothing uses any more. */
static arca_err classify_blobs(arca_remove_report *r, arca_catalog *cat,
	char (*blobs)[ARCA_SHA256_HEX], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int used = 0;
		arca_err err = arca_catalog_blob_is_referenced(cat, blobs[i], &used);
		if (err < 0)
			return err;
		arca_blob_record rec;
		if ((err = arca_catalog_get_blob(cat, blobs[i], &rec)) < 0) {
			if (err != ARCA_ENOTFOUND)
				return err;
			arca_error_clear();
			continue;
		}
		if (used) {
			r->n_blobs_kept++;
			continue;
		}
		r->n_blobs_unused++;
		r->bytes_unused += rec.size;
	}
	return ARCA_OK;
}

/* Deletes one artifact, noting its outputs. */
static arca_err remove_artifact(arca_remove_report *r, arca_catalog *cat,
	const arca_artifact *art, char (**blobs)[ARCA_SHA256_HEX], size_t *n_blobs)
{
	arca_artifact_file *outs = NULL;
	size_t n_outs = 0;
	arca_err err = arca_catalog_artifact_outputs(&outs, &n_outs, cat, art->id);
	uint64_t bytes = 0;
	for (size_t i = 0; err == ARCA_OK && i < n_outs; i++) {
		bytes += outs[i].size;
		err = note_blob(blobs, n_blobs, outs[i].sha256);
	}
	arca_artifact_files_free(outs, n_outs);
	if (err == ARCA_OK)
		err = arca_catalog_delete_artifact(cat, art->id);
	if (err == ARCA_OK)
		err = push_variant(r, art, n_outs, bytes);
	return err;
}

static void list_names(char *buf, size_t cap, const arca_artifact *arts, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(arts[k].name, arts[i].name);
		size_t used = strlen(buf);
		if (!seen && used + 1 < cap)
			snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", arts[i].name);
	}
}

/* ------------------------------------------------------------------ the removal */

static arca_err remove_in_transaction(arca_remove_report *r, arca_catalog *cat,
	const arca_ref *ref, const arca_remove_opts *opts)
{
	arca_artifact *arts = NULL;
	size_t n_arts = 0;
	char (*blobs)[ARCA_SHA256_HEX] = NULL;
	size_t n_blobs = 0;
	arca_file *files = NULL;
	size_t n_files = 0;
	arca_err err = arca_catalog_list_artifacts(&arts, &n_arts, cat, r->snapshot.id);
	if (err < 0)
		goto cleanup;
	char names[512];
	list_names(names, sizeof(names), arts, n_arts);
	if (ref->variant[0]) {
		for (size_t i = 0; i < n_arts && err == ARCA_OK; i++)
			if (!strcmp(arts[i].name, ref->variant))
				err = remove_artifact(r, cat, &arts[i], &blobs, &n_blobs);
		if (err == ARCA_OK && r->n_variants == 0)
			err = arca_error_set(ARCA_ENOTFOUND, "no variant '%s' of %s:%s@%.12s (%s%s)",
				ref->variant, r->snapshot.hub, r->snapshot.repo_id, r->snapshot.commit,
				n_arts ? "has: " : "it has none", names);
		goto classify;
	}
	if (n_arts && !opts->with_variants) {
		err = arca_error_set(ARCA_EINVALID, "%s:%s@%.12s has %zu derived variant%s (%s); "
			"remove them first (arca rm REF:VARIANT) or name them too with --with-variants",
			r->snapshot.hub, r->snapshot.repo_id, r->snapshot.commit, n_arts,
			n_arts == 1 ? "" : "s", names);
		goto cleanup;
	}
	for (size_t i = 0; i < n_arts && err == ARCA_OK; i++)
		err = remove_artifact(r, cat, &arts[i], &blobs, &n_blobs);
	if (err == ARCA_OK)
		err = arca_catalog_list_files(&files, &n_files, cat, r->snapshot.id);
	for (size_t i = 0; i < n_files && err == ARCA_OK; i++) {
		r->snapshot_bytes += files[i].size;
		if (files[i].sha256[0])
			err = note_blob(&blobs, &n_blobs, files[i].sha256);
	}
	r->snapshot_files = n_files;
	if (err == ARCA_OK)
		err = arca_catalog_delete_snapshot(cat, r->snapshot.id);
	if (err == ARCA_OK)
		r->removed_snapshot = 1;
classify:
	if (err == ARCA_OK)
		err = classify_blobs(r, cat, blobs, n_blobs);
cleanup:
	arca_artifacts_free(arts, n_arts);
	arca_files_free(files, n_files);
	free(blobs);
	return err;
}

arca_err arca_snapshot_remove(arca_remove_report *out, arca_store *store, const arca_ref *ref,
	const arca_remove_opts *opts)
{
	memset(out, 0, sizeof(*out));
	arca_catalog *cat = arca_store_catalog(store);
	arca_err err = arca_catalog_find_snapshot(&out->snapshot, cat, ref);
	if (err < 0)
		return err;
	if ((err = arca_catalog_begin(cat)) < 0)
		goto fail;
	err = remove_in_transaction(out, cat, ref, opts);
	if (err == ARCA_OK && !opts->dry_run) {
		err = arca_catalog_commit(cat);
	} else {
		arca_catalog_rollback(cat);
	}
	if (err < 0)
		goto fail;
	return ARCA_OK;
fail:
	arca_remove_report_dispose(out);
	return err;
}

void arca_remove_report_dispose(arca_remove_report *report)
{
	for (size_t i = 0; i < report->n_variants; i++) {
		free(report->variants[i].name);
		free(report->variants[i].kind);
		free(report->variants[i].created_at);
	}
	free(report->variants);
	arca_snapshot_dispose(&report->snapshot);
	memset(report, 0, sizeof(*report));
}
