/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/tensor_index.h — the tensor index: for every tensor of a stored safetensors or GGUF
 * blob, a catalog row (arca/catalog.h, arca_tensor_record) with its name, dtype, shape, byte
 * range, the sha256 of its bytes, its element count, a few statistics of its values and a
 * fixed-size sketch, so that "which stored models share or resemble these tensors?" is
 * answered from the catalog without re-reading weights (the fork audit, arca diff).
 *
 * Values: safetensors F32/F16/BF16 (and other dtypes the quant table decodes) and every
 * GGUF type with a dequantizer are decoded to float32, one chunk at a time; tensors of other
 * dtypes (integers, FP8) get a row with their hash and no statistics or sketch.
 *
 * The sketch is a count-sketch of the values in file order: element i adds sign(i)·x_i to
 * bucket(i) of ARCA_TENSOR_SKETCH_DIM, bucket and sign taken from a seeded hash of i. Inner
 * products are preserved in expectation, so the cosine of two sketches estimates the cosine
 * of two tensors of the same shape (standard error about 1/sqrt(ARCA_TENSOR_SKETCH_DIM));
 * a dequantized Q8_0 copy of a tensor sketches within quantization noise of the original.
 * Changing the hash, seed or size means a new ARCA_TENSOR_INDEX_VERSION: blobs indexed with
 * an older version are indexed again by arca_index_weights.
 *
 * Owns: a mapping of the blob being indexed and a thread pool for the call. Work is split
 * by tensor across threads; each thread holds one chunk of floats, so memory stays bounded
 * whatever the blob's size. Nothing here prints or exits.
 */
#ifndef ARCA_TENSOR_INDEX_H
#define ARCA_TENSOR_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "arca/catalog.h"
#include "arca/error.h"
#include "arca/ref.h"
#include "arca/store.h"

#define ARCA_TENSOR_INDEX_VERSION 1

/* Called from the calling thread while a blob is indexed: `item` is its path; done and total
 * count bytes of the whole call. Non-zero stops the work with ARCA_EINTERRUPTED. */
typedef int (*arca_index_progress_cb)(const char *item, uint64_t done, uint64_t total,
	void *payload);

typedef struct {
	int threads;      /* 0: one per online CPU */
	int force;        /* index again blobs already indexed with this version */
	arca_index_progress_cb progress;
	void *payload;
} arca_index_opts;

typedef struct {
	char sha256[ARCA_SHA256_HEX];
	char *path;
	arca_err err;
	char *message;    /* why it could not be indexed (names the file and tensor) */
} arca_index_failure;

typedef struct {
	size_t n_blobs;         /* weight blobs looked at */
	size_t n_indexed;       /* indexed by this call */
	size_t n_skipped;       /* already indexed with this version */
	size_t n_failed;        /* could not be indexed: failures[] says why; nothing recorded */
	arca_index_failure *failures;
	uint64_t n_tensors;     /* rows recorded */
	uint64_t bytes;         /* bytes of the blobs indexed */
	double seconds;
} arca_index_result;

void arca_index_result_dispose(arca_index_result *result);

/* The rows of a safetensors or GGUF image of len bytes (told apart by the GGUF magic), in
 * file order; *format_out = "safetensors" or "gguf" (static). `what` names it in errors.
 * threads: 0 one per CPU. ARCA_ECORRUPT when the image does not parse. The rows are the
 * caller's (arca_tensor_records_free). */
arca_err arca_tensor_index_buffer(arca_tensor_record **out, size_t *n_out,
	const char **format_out, const void *data, size_t len, const char *what, int threads);

/* Indexes what is missing among the weight blobs (arca_catalog_list_weight_blobs): of the
 * whole store (snapshot 0), of a snapshot and its variants (artifact 0) or of one variant.
 * A blob that cannot be indexed is listed in out->failures and skipped; the call still
 * returns ARCA_OK. Errors: ARCA_EINTERRUPTED (progress said stop; what was done is kept),
 * ARCA_ENOMEM, catalog errors. *out is the caller's to dispose, also on error. */
arca_err arca_index_weights(arca_index_result *out, arca_store *store, int64_t snapshot,
	int64_t artifact, const arca_index_opts *opts);

/* The same for what a REF names: a snapshot with its variants, or with :variant only that
 * variant. ARCA_ENOTFOUND when the store has no such snapshot or variant. */
arca_err arca_index_ref(arca_index_result *out, arca_store *store, const arca_ref *ref,
	const arca_index_opts *opts);

/* Cosine of two sketches (0 when either is all zeros). */
double arca_tensor_sketch_cosine(const float *a, const float *b);

#endif
