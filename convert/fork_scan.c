/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/fork_scan.c — `arca audit FORK --scan` (arca/audit.h): every stored snapshot and
 * variant ranked as a base of FORK from the tensor index alone, without reading weights:
 *   1. hashes: the blobs holding one of FORK's tensor hashes (the catalog's sha256 index;
 *      constant tensors, std 0 — norms initialised to 1 — are no evidence and left out);
 *   2. sketches: each indexed file's sketch (arca_file_sketch: per-tensor sketches spread by
 *      name, one row per file), so the estimate of the global cosine over same-name
 *      matrices, ⟨s_fork, s_cand⟩ / √(Σ‖a‖² Σ‖b‖²), costs one 1024-float dot per file.
 * Files add up per snapshot or variant (shards). Names are compared as stored, so a
 * safetensors fork is ranked against safetensors files and a GGUF fork against GGUF
 * variants. Score: the mean of the identical fraction and the estimated cosine (≥ 0).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arca/audit.h"
#include "arca/catalog.h"
#include "arca/ref.h"
#include "convert/audit_internal.h"

#define MIN_COSINE 0.3

typedef struct {
	arca_scan_candidate c;
	double dot, norm2;
} candidate;

typedef struct {
	const char **shas;       /* FORK's non-constant tensors' hashes (point into sha_buf) */
	char (*sha_buf)[ARCA_SHA256_HEX];
	size_t n_shas;
	arca_file_sketch sketch; /* of all its files together */
	arca_blob_owner *owners; /* by blob */
	size_t n_owners;
	candidate *candidates;
	size_t n_candidates;
	size_t *owner_candidate; /* owners[i] belongs to candidates[owner_candidate[i]] */
} scan_ctx;

/* One candidate per snapshot or variant, whatever number of files it has. */
static arca_err group_owners(scan_ctx *c)
{
	c->owner_candidate = calloc(c->n_owners + 1, sizeof(*c->owner_candidate));
	c->candidates = calloc(c->n_owners + 1, sizeof(*c->candidates));
	if (!c->owner_candidate || !c->candidates)
		return arca_error_set(ARCA_ENOMEM, "scan: out of memory");
	for (size_t i = 0; i < c->n_owners; i++) {
		const arca_blob_owner *o = &c->owners[i];
		size_t k = 0;
		while (k < c->n_candidates && (c->candidates[k].c.snapshot != o->snapshot ||
		       c->candidates[k].c.artifact != o->artifact))
			k++;
		if (k == c->n_candidates) {
			arca_scan_candidate *n = &c->candidates[c->n_candidates++].c;
			snprintf(n->owner, sizeof(n->owner), "%s", o->owner);
			n->snapshot = o->snapshot;
			n->artifact = o->artifact;
		}
		c->owner_candidate[i] = k;
	}
	return ARCA_OK;
}

/* The owners of blob (owners are sorted by blob): [*lo, *hi). */
static void owners_of(const scan_ctx *c, const char *blob, size_t *lo_out, size_t *hi_out)
{
	size_t lo = 0, hi = c->n_owners;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(c->owners[mid].blob, blob) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*lo_out = lo;
	while (lo < c->n_owners && !strcmp(c->owners[lo].blob, blob))
		lo++;
	*hi_out = lo;
}

static arca_err add_hashes(scan_ctx *c, arca_catalog *cat)
{
	arca_hash_hits *hits;
	size_t n;
	arca_err err = arca_catalog_hash_hits(&hits, &n, cat, c->shas, c->n_shas);
	if (err < 0)
		return err;
	for (size_t i = 0; i < n; i++) {
		size_t lo, hi;
		owners_of(c, hits[i].blob, &lo, &hi);
		for (size_t o = lo; o < hi; o++) {
			candidate *k = &c->candidates[c->owner_candidate[o]];
			k->c.n_identical += (size_t)hits[i].n_tensors;
			k->c.bytes_identical += hits[i].bytes;
		}
	}
	free(hits);
	return ARCA_OK;
}

static arca_err add_sketches(scan_ctx *c, arca_catalog *cat, uint64_t *files)
{
	arca_file_sketch *fs;
	size_t n;
	arca_err err = arca_catalog_file_sketches(&fs, &n, cat);
	if (err < 0)
		return err;
	*files = n;
	for (size_t i = 0; i < n; i++) {
		size_t lo, hi;
		owners_of(c, fs[i].blob, &lo, &hi);
		if (lo == hi)
			continue;
		double dot = arca_convert__dot(c->sketch.sketch, fs[i].sketch, ARCA_FILE_SKETCH_DIM);
		for (size_t o = lo; o < hi; o++) {
			candidate *k = &c->candidates[c->owner_candidate[o]];
			k->dot += dot;
			k->norm2 += fs[i].norm2;
			k->c.n_matrices += (size_t)fs[i].n_matrices;
		}
	}
	free(fs);
	return ARCA_OK;
}

static int by_score(const void *x, const void *y)
{
	const arca_scan_candidate *a = x, *b = y;
	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return strcmp(a->owner, b->owner);
}

/* FORK's index rows (its snapshot files, or one variant's outputs). */
static arca_err load_fork(scan_ctx *c, arca_catalog *cat, int64_t snapshot, int64_t artifact,
	const char *text)
{
	arca_weight_blob *blobs;
	size_t nb;
	arca_err err = arca_catalog_list_weight_blobs(&blobs, &nb, cat, snapshot, artifact);
	if (err < 0)
		return err;
	size_t used = 0;
	for (size_t b = 0; err == ARCA_OK && b < nb; b++) {
		if (blobs[b].artifact != artifact)
			continue;
		used++;
		if (!blobs[b].index_version) {
			err = arca_error_set(ARCA_EINVALID, "%s: %s is not indexed; run `arca index %s` "
				"first", text, blobs[b].path, text);
			break;
		}
		arca_tensor_record *rows;
		size_t n;
		if ((err = arca_catalog_list_tensors(&rows, &n, cat, blobs[b].sha256)) < 0)
			break;
		arca_file_sketch part;
		arca_file_sketch_of(&part, rows, n);
		for (size_t i = 0; i < ARCA_FILE_SKETCH_DIM; i++)
			c->sketch.sketch[i] += part.sketch[i];
		c->sketch.norm2 += part.norm2;
		c->sketch.n_matrices += part.n_matrices;
		void *grown = realloc(c->sha_buf, (c->n_shas + n + 1) * sizeof(*c->sha_buf));
		if (!grown) {
			arca_tensor_records_free(rows, n);
			err = arca_error_set(ARCA_ENOMEM, "scan: out of memory");
			break;
		}
		c->sha_buf = grown;
		for (size_t i = 0; i < n; i++)
			if (!(rows[i].has_values && rows[i].std == 0))
				memcpy(c->sha_buf[c->n_shas++], rows[i].sha256, ARCA_SHA256_HEX);
		arca_tensor_records_free(rows, n);
	}
	arca_weight_blobs_free(blobs, nb);
	if (err == ARCA_OK && !used)
		err = arca_error_set(ARCA_EINVALID, "%s has no safetensors or GGUF file to scan with",
			text);
	/* the list the hash query takes, once the buffer no longer moves */
	if (err == ARCA_OK && !(c->shas = calloc(c->n_shas + 1, sizeof(*c->shas))))
		err = arca_error_set(ARCA_ENOMEM, "scan: out of memory");
	for (size_t i = 0; err == ARCA_OK && i < c->n_shas; i++)
		c->shas[i] = c->sha_buf[i];
	return err;
}

void arca_scan_result_dispose(arca_scan_result *r)
{
	if (!r)
		return;
	free(r->candidates);
	memset(r, 0, sizeof(*r));
}

arca_err arca_audit_scan(arca_scan_result *out, arca_store *store, const char *fork,
	size_t max_candidates)
{
	memset(out, 0, sizeof(*out));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	arca_ref ref;
	arca_snapshot snap;
	int64_t artifact;
	arca_catalog *cat = arca_store_catalog(store);
	arca_err err = arca_convert__find_ref(&snap, &artifact, &ref, cat, fork);
	if (err < 0)
		return err;
	int64_t snapshot = snap.id;
	snprintf(out->fork_what, sizeof(out->fork_what), "%s:%s@%.12s%s%s", snap.hub,
		snap.repo_id, snap.commit, ref.variant[0] ? ":" : "", ref.variant);
	arca_snapshot_dispose(&snap);
	scan_ctx c = { 0 };
	err = load_fork(&c, cat, snapshot, artifact, fork);
	if (err == ARCA_OK)
		err = arca_catalog_indexed_owners(&c.owners, &c.n_owners, cat, snapshot);
	if (err == ARCA_OK)
		err = group_owners(&c);
	if (err == ARCA_OK)
		err = add_hashes(&c, cat);
	if (err == ARCA_OK)
		err = add_sketches(&c, cat, &out->n_files);
	out->n_models = c.n_candidates;
	if (err == ARCA_OK) {
		out->candidates = calloc(c.n_candidates + 1, sizeof(*out->candidates));
		if (!out->candidates)
			err = arca_error_set(ARCA_ENOMEM, "scan: out of memory");
	}
	for (size_t i = 0; err == ARCA_OK && i < c.n_candidates; i++) {
		candidate *k = &c.candidates[i];
		k->c.identical_frac = c.n_shas ? (double)k->c.n_identical / (double)c.n_shas : 0;
		/* an estimate: with few tensors its noise can carry it past ±1 */
		k->c.est_cosine = c.sketch.norm2 > 0 && k->norm2 > 0 ?
			fmax(-1, fmin(1, k->dot / sqrt(c.sketch.norm2 * k->norm2))) : 0;
		k->c.score = (fmin(1, k->c.identical_frac) + fmax(0, fmin(1, k->c.est_cosine))) / 2;
		if (k->c.n_identical || k->c.est_cosine >= MIN_COSINE)
			out->candidates[out->n_candidates++] = k->c;
	}
	if (err == ARCA_OK) {
		qsort(out->candidates, out->n_candidates, sizeof(*out->candidates), by_score);
		if (out->n_candidates > max_candidates)
			out->n_candidates = max_candidates;
	}
	arca_blob_owners_free(c.owners, c.n_owners);
	free(c.owner_candidate);
	free(c.candidates);
	free(c.sha_buf);
	free(c.shas);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return err;
}
