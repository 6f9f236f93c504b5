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
	fork_row *rows;        /* by name */
	size_t n;
	char (*shas)[ARCA_SHA256_HEX]; /* non-constant tensors' hashes, sorted */
	size_t n_shas;
	/* the candidate being summed */
	int open;
	arca_scan_candidate cur;
	double dot, na, nb;
	/* results */
	arca_scan_result *out;
	size_t cap;
	arca_err err;
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

static void close_candidate(scan_ctx *c)
{
	if (!c->open)
		return;
	c->open = 0;
	c->out->n_models++;
	arca_scan_candidate *k = &c->cur;
	k->identical_frac = c->n_shas ? (double)k->n_identical / (double)c->n_shas : 0;
	k->est_cosine = c->na > 0 && c->nb > 0 ? c->dot / sqrt(c->na * c->nb) : 0;
	k->score = (k->identical_frac + fmax(0, fmin(1, k->est_cosine))) / 2;
	if (!k->n_identical && k->est_cosine < MIN_COSINE)
		return;
	if (c->out->n_candidates == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		arca_scan_candidate *grown = realloc(c->out->candidates, cap * sizeof(*grown));
		if (!grown) {
			c->err = arca_error_set(ARCA_ENOMEM, "scan: out of memory");
			return;
		}
		c->out->candidates = grown;
		c->cap = cap;
	}
	c->out->candidates[c->out->n_candidates++] = *k;
}

static int on_row(const arca_tensor_scan_row *row, void *payload)
{
	scan_ctx *c = payload;
	c->out->n_tensors++;
	if (!c->open || c->cur.snapshot != row->snapshot || c->cur.artifact != row->artifact ||
	    strcmp(c->cur.owner, row->owner)) {
		close_candidate(c);
		if (c->err < 0)
			return 1;
		memset(&c->cur, 0, sizeof(c->cur));
		snprintf(c->cur.owner, sizeof(c->cur.owner), "%s", row->owner);
		c->cur.snapshot = row->snapshot;
		c->cur.artifact = row->artifact;
		c->dot = c->na = c->nb = 0;
		c->open = 1;
	}
	int constant = row->has_values && row->std == 0;
	if (!constant && has_sha(c, row->sha256)) {
		c->cur.n_identical++;
		c->cur.bytes_identical += row->nbytes;
	}
	if (!row->has_values || row->n_dims < 2 || constant)
		return 0;
	const fork_row *f = find_name(c, row->name);
	if (!f || !f->has_values || f->constant || f->n_elements != row->n_elements)
		return 0;
	double dot = 0;
	for (size_t i = 0; i < ARCA_TENSOR_SKETCH_DIM; i++)
		dot += (double)f->sketch[i] * (double)row->sketch[i];
	c->dot += dot;
	c->na += f->l2 * f->l2;
	c->nb += row->l2 * row->l2;
	c->cur.n_matrices++;
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
	arca_err err = arca_ref_parse(&ref, fork);
	if (err < 0)
		return err;
	arca_catalog *cat = arca_store_catalog(store);
	arca_snapshot snap;
	if ((err = arca_catalog_find_snapshot(&snap, cat, &ref)) < 0)
		return err;
	int64_t snapshot = snap.id, artifact = 0;
	snprintf(out->fork_what, sizeof(out->fork_what), "%s:%s@%.12s%s%s", snap.hub,
		snap.repo_id, snap.commit, ref.variant[0] ? ":" : "", ref.variant);
	arca_snapshot_dispose(&snap);
	if (ref.variant[0]) {
		arca_artifact art;
		if ((err = arca_catalog_find_artifact(&art, cat, snapshot, ref.variant)) < 0)
			return err;
		artifact = art.id;
		arca_artifact_dispose(&art);
	}
	scan_ctx c = { .out = out };
	err = load_fork(&c, cat, snapshot, artifact, fork);
	if (err == ARCA_OK)
		err = arca_catalog_scan_tensors(cat, snapshot, on_row, &c);
	if (err == ARCA_OK || err == ARCA_EINTERRUPTED) {
		close_candidate(&c);
		if (c.err < 0)
			err = c.err;
	}
	if (err == ARCA_OK) {
		qsort(out->candidates, out->n_candidates, sizeof(*out->candidates), by_score);
		if (out->n_candidates > max_candidates)
			out->n_candidates = max_candidates;
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.rows[i].name);
	free(c.rows);
	free(c.shas);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return err;
}
