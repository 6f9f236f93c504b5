/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/fork_scan.c — `arca audit FORK --scan` (arca/audit.h): every stored snapshot and
 * variant ranked as a base of FORK from the tensor index alone, in one pass over the
 * catalog's tensor rows (arca_catalog_scan_tensors), without reading weights.
 *
 * Per candidate: tensors whose sha256 one of FORK's tensors has (hashes first: proof of
 * copied bytes), and the sketches' estimate of the global cosine, Σ⟨sketch_a, sketch_b⟩ /
 * √(Σ‖a‖² Σ‖b‖²) over tensors of ≥ 2 dims with the same name and element count (the
 * count-sketch keeps inner products in expectation, arca/tensor_index.h). Tensors with one
 * value everywhere (std 0: norms initialised to 1) are not evidence and are skipped. Names
 * are compared as stored, so a safetensors fork is ranked against safetensors files and a
 * GGUF fork against GGUF variants. Score: the mean of the identical fraction and the
 * estimated cosine (clamped at 0).
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
	char *name;
	char sha[ARCA_SHA256_HEX];
	uint64_t n_elements;
	int n_dims, has_values, constant;
	double l2;
	float sketch[ARCA_TENSOR_SKETCH_DIM];
} fork_row;

typedef struct {
	arca_scan_candidate c;
	double dot, na, nb;
} candidate;

typedef struct {
	fork_row *rows;        /* by name */
	size_t n;
	char (*shas)[ARCA_SHA256_HEX]; /* non-constant tensors' hashes, sorted */
	size_t n_shas;
	arca_blob_owner *owners; /* by blob */
	size_t n_owners;
	size_t *owner_candidate; /* owners[i] belongs to candidates[owner_candidate[i]] */
	candidate *candidates;
	size_t n_candidates;
	uint64_t n_rows;
} scan_ctx;

static int by_name(const void *x, const void *y)
{
	return strcmp(((const fork_row *)x)->name, ((const fork_row *)y)->name);
}

static int by_sha(const void *x, const void *y)
{
	return strcmp((const char *)x, (const char *)y);
}

static const fork_row *find_name(const scan_ctx *c, const char *name)
{
	fork_row key = { .name = (char *)name };
	return bsearch(&key, c->rows, c->n, sizeof(*c->rows), by_name);
}

static int has_sha(const scan_ctx *c, const char *sha)
{
	return bsearch(sha, c->shas, c->n_shas, sizeof(*c->shas), by_sha) != NULL;
}

/* The first owner of blob (owners are sorted by blob), or n_owners. */
static size_t first_owner(const scan_ctx *c, const char *blob)
{
	size_t lo = 0, hi = c->n_owners;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(c->owners[mid].blob, blob) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n_owners && !strcmp(c->owners[lo].blob, blob) ? lo : c->n_owners;
}

/* One candidate per snapshot or variant, whatever number of blobs it has. */
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

static int on_row(const arca_tensor_scan_row *row, void *payload)
{
	scan_ctx *c = payload;
	c->n_rows++;
	size_t first = first_owner(c, row->blob);
	if (first == c->n_owners)
		return 0;
	int constant = row->has_values && row->std == 0;
	int identical = !constant && has_sha(c, row->sha256);
	double dot = 0, na = 0, nb = 0;
	int matrix = 0;
	const fork_row *f = row->has_values && row->n_dims >= 2 && !constant ?
		find_name(c, row->name) : NULL;
	if (f && f->has_values && !f->constant && f->n_elements == row->n_elements) {
		for (size_t i = 0; i < ARCA_TENSOR_SKETCH_DIM; i++)
			dot += (double)f->sketch[i] * (double)row->sketch[i];
		na = f->l2 * f->l2;
		nb = row->l2 * row->l2;
		matrix = 1;
	}
	for (size_t i = first; i < c->n_owners && !strcmp(c->owners[i].blob, row->blob); i++) {
		candidate *k = &c->candidates[c->owner_candidate[i]];
		k->c.n_identical += (size_t)identical;
		k->c.bytes_identical += identical ? row->nbytes : 0;
		k->dot += dot;
		k->na += na;
		k->nb += nb;
		k->c.n_matrices += (size_t)matrix;
	}
	return 0;
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
		fork_row *grown = realloc(c->rows, (c->n + n + 1) * sizeof(*grown));
		void *shas = realloc(c->shas, (c->n_shas + n + 1) * sizeof(*c->shas));
		if (grown)
			c->rows = grown;
		if (shas)
			c->shas = shas;
		if (!grown || !shas) {
			arca_tensor_records_free(rows, n);
			err = arca_error_set(ARCA_ENOMEM, "scan: out of memory");
			break;
		}
		for (size_t i = 0; i < n; i++) {
			fork_row *f = &c->rows[c->n++];
			memset(f, 0, sizeof(*f));
			f->name = rows[i].name;
			rows[i].name = NULL;
			memcpy(f->sha, rows[i].sha256, sizeof(f->sha));
			f->n_elements = rows[i].n_elements;
			f->n_dims = 1;
			for (const char *p = rows[i].shape_json; p && *p; p++)
				f->n_dims += *p == ',';
			f->has_values = rows[i].has_values;
			f->constant = f->has_values && rows[i].std == 0;
			f->l2 = rows[i].l2;
			memcpy(f->sketch, rows[i].sketch, sizeof(f->sketch));
			if (!f->constant)
				memcpy(c->shas[c->n_shas++], f->sha, sizeof(f->sha));
		}
		arca_tensor_records_free(rows, n);
	}
	arca_weight_blobs_free(blobs, nb);
	if (err == ARCA_OK && !used)
		err = arca_error_set(ARCA_EINVALID, "%s has no safetensors or GGUF file to scan with",
			text);
	if (err == ARCA_OK) {
		qsort(c->rows, c->n, sizeof(*c->rows), by_name);
		qsort(c->shas, c->n_shas, sizeof(*c->shas), by_sha);
	}
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
		err = arca_catalog_scan_tensors(cat, on_row, &c);
	out->n_tensors = c.n_rows;
	out->n_models = c.n_candidates;
	if (err == ARCA_OK) {
		out->candidates = calloc(c.n_candidates + 1, sizeof(*out->candidates));
		if (!out->candidates)
			err = arca_error_set(ARCA_ENOMEM, "scan: out of memory");
	}
	for (size_t i = 0; err == ARCA_OK && i < c.n_candidates; i++) {
		candidate *k = &c.candidates[i];
		k->c.identical_frac = c.n_shas ? (double)k->c.n_identical / (double)c.n_shas : 0;
		k->c.est_cosine = k->na > 0 && k->nb > 0 ? k->dot / sqrt(k->na * k->nb) : 0;
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
	for (size_t i = 0; i < c.n; i++)
		free(c.rows[i].name);
	free(c.rows);
	free(c.shas);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return err;
}
