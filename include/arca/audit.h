/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/audit.h — what a fork is made of (`arca audit FORK --base BASE | --scan`).
 *
 * An audit compares FORK with BASE tensor by tensor (arca/diff.h), then looks further where
 * the diff alone cannot tell:
 *   - hidden units permuted (a copy whose rows and columns were shuffled consistently has
 *     cosine ≈ 0 tensor by tensor): the residual stream is matched through the embedding's
 *     columns, each layer's MLP units through its up-projection's rows, and the tensors are
 *     compared again after undoing both (convert/tensor_align.c);
 *   - low-rank changes (a merged LoRA): the rank of B − A by a randomized range finder
 *     (convert/delta_rank.c);
 *   - tensors of changed layers that are byte-identical to another stored model (a merge):
 *     from the tensor index.
 * It classifies the relation, with the evidence and a confidence, and checks the fork's
 * card (base_model, base_model_relation, licence) against it.
 *
 * A scan ranks every stored snapshot and variant as a base for FORK from the tensor index
 * alone (no weights read): tensors with the same bytes first, then the file sketches'
 * estimate of the global cosine over same-name matrices (one row per stored file). Tensors with one value
 * everywhere (norms initialised to 1) are not evidence and are left out of both.
 *
 * Nothing here prints; results are plain structs.
 */
#ifndef ARCA_AUDIT_H
#define ARCA_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "arca/diff.h"
#include "arca/error.h"
#include "arca/store.h"

typedef enum {
	ARCA_RELATION_REUPLOAD,       /* every tensor's bytes identical */
	ARCA_RELATION_CONVERSION,     /* another float dtype, values within its rounding */
	ARCA_RELATION_REQUANTIZATION, /* quantized from the base (reproduced or within noise) */
	ARCA_RELATION_FINETUNE,       /* some layers moved, all stay close to the base */
	ARCA_RELATION_PERMUTED_FINETUNE, /* a fine-tune whose hidden units were permuted */
	ARCA_RELATION_VOCAB_EXTENSION, /* embeddings with new rows, shared rows kept */
	ARCA_RELATION_LOW_RANK,       /* changes of low rank in projections only (LoRA) */
	ARCA_RELATION_PARTIAL_MERGE,  /* some layers from the base, others from elsewhere */
	ARCA_RELATION_UNRELATED,
	ARCA_RELATION_COUNT
} arca_relation;

/* "re-upload", "conversion", "requantization", "fine-tune", ... */
const char *arca_relation_name(arca_relation r);
/* The Hugging Face card's base_model_relation values that fit (space-separated, "" when
 * the card should name none, e.g. a re-upload). */
const char *arca_relation_card_values(arca_relation r);

/* ------------------------------------------------------------------ alignment */

typedef struct {
	int layer;
	size_t units_sampled;        /* MLP units of FORK looked for in BASE */
	double units_matched;        /* fraction with a clear best match */
	int identity;                /* every matched unit is the same index */
	double cosine;               /* of the layer's matrices after undoing the permutations */
} arca_align_layer;

typedef struct {
	int done;                    /* 0: not attempted or not possible (note says why) */
	char note[200];
	size_t residual_sampled;     /* residual units (embedding columns) of FORK */
	double residual_matched;     /* fraction with a clear best match in BASE */
	int residual_identity;
	arca_align_layer *layers;
	size_t n_layers;
	double cosine;               /* global, over every aligned matrix sample */
	int permuted;                /* a matched unit sits at another index */
} arca_align_result;

/* ------------------------------------------------------------------ the audit */

typedef struct {
	char name[200];
	int64_t rows, cols;
	int rank;                    /* where the spectrum of B − A falls 10× (convert/
	                                delta_rank.c); -1: no such fall up to max_rank */
	int max_rank;                /* the most this estimate can see */
	double energy;               /* fraction of ‖B − A‖² in the top `rank` directions */
} arca_rank_estimate;

typedef struct {
	int layer;
	char status[16];             /* "same", "changed", "foreign"; "permuted": foreign as
	                                stored, close once the hidden units are aligned */
	double min_cosine, median_cosine; /* over the layer's matrices */
	char source[400];            /* foreign: a stored model with the same bytes, or "" */
} arca_audit_layer;

typedef struct {
	char field[32];              /* "base_model", "base_model_relation", "license" */
	char claim[400];             /* what the card says ("" when it says nothing) */
	char evidence[400];          /* what the weights say */
	int agrees;                  /* 1 agrees, 0 disagrees, -1 nothing to compare */
	char message[600];
} arca_claim_check;

typedef struct {
	char owner[400];             /* "hf:org/name@commit12" or "...:variant" */
	int64_t snapshot, artifact;
	size_t n_identical;          /* tensors with the same bytes (constant ones left out; in
	                                an audit's `others`, only tensors of changed layers) */
	uint64_t bytes_identical;
	double identical_frac;       /* of FORK's tensors (constant ones left out) */
	double est_cosine;           /* the sketches' estimate of the global cosine (clamped
	                                to [-1, 1]: with few tensors the noise is large) */
	size_t n_matrices;           /* same-name, same-size matrices the estimate summed */
	double score;
} arca_scan_candidate;

typedef struct {
	arca_relation relation;
	double confidence;           /* 0..1 */
	char level[16];              /* "proof" (bytes), "strong", "statistical" */
	char summary[600];           /* one sentence for a person */
	char base_what[400], fork_what[400];
	arca_diff_result diff;       /* BASE = A, FORK = B */
	arca_audit_layer *layers;
	size_t n_layers;
	int *changed_layers;         /* layers with a changed tensor, sorted */
	size_t n_changed_layers;
	arca_rank_estimate *ranks;
	size_t n_ranks;
	int low_rank;                /* the estimated rank of the update, 0 when not low rank */
	arca_align_result align;
	int64_t new_rows;            /* vocabulary extension: rows added */
	arca_claim_check *claims;
	size_t n_claims;
	size_t n_disagreements;
	arca_scan_candidate *others; /* stored models with bytes of the changed layers */
	size_t n_others;
	double seconds;
} arca_audit_result;

typedef struct {
	int threads;                 /* <= 0: one per online CPU */
	arca_diff_progress_fn progress;
	void *payload;
} arca_audit_opts;

#define ARCA_AUDIT_OPTS_INIT { 0, NULL, NULL }

/* Audits fork against base (each REF, REF:VARIANT, file or folder as arca/diff.h takes;
 * store may be NULL for files and folders, then no card or catalog evidence). *out is
 * filled even on error; free it with arca_audit_result_dispose. Errors as arca_diff_models. */
arca_err arca_audit_fork(arca_audit_result *out, arca_store *store, const char *fork,
	const char *base, const arca_audit_opts *opts);
void arca_audit_result_dispose(arca_audit_result *r);

/* ------------------------------------------------------------------ the scan */

typedef struct {
	char fork_what[400];
	arca_scan_candidate *candidates; /* best first */
	size_t n_candidates;
	size_t n_models;             /* snapshots and variants looked at */
	uint64_t n_files;            /* indexed files whose sketches were read */
	double seconds;
} arca_scan_result;

/* Ranks the stored snapshots and variants (those of FORK's own snapshot left out) as bases
 * of fork (REF or REF:VARIANT, indexed; ARCA_EINVALID naming `arca index` otherwise). Keeps
 * at most max_candidates (those with identical tensors or an estimated cosine ≥ 0.3). */
arca_err arca_audit_scan(arca_scan_result *out, arca_store *store, const char *fork,
	size_t max_candidates);
void arca_scan_result_dispose(arca_scan_result *r);

#endif
