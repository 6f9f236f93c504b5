/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/diff.h — two models compared tensor by tensor (`arca diff A B`), for fork audits.
 *
 * A side is a snapshot's safetensors (REF), a stored GGUF variant (REF:VARIANT), a GGUF or
 * safetensors file, or a folder with one model.safetensors. Both are seen as canonical tensors: Hugging Face names, PyTorch shapes, rows
 * decoded to float32 (GGUF names mapped back through the architecture table, llama.cpp's
 * Q/K row permutation undone, experts unstacked: convert/tensor_view.c). Tensors are paired
 * by name and each pair gets one verdict:
 *
 *   identical    same dtype, same shape, same bytes (compared without decoding)
 *   same values  decoded to float32, every element equal (BF16 vs F32)
 *   converted    float dtypes differ and ‖a−b‖/‖a‖ ≤ the bound of the lossier one
 *   requantized  a quantized side whose bytes come out again when the float side is
 *                quantized here with its type (reproduced: proof), or whose relative L2
 *                is within 1.5 × the error that type makes on the float side's own values
 *   changed      anything else: cosine, relative L2, fraction of elements changed, max |a−b|
 *   reshaped     shapes differ; when only the first dim (rows) differs the shared leading
 *                rows are compared (e.g. an extended vocabulary) and the new rows counted
 *   added        only in B;  removed: only in A
 *
 * Float against float, and two quantized types, use fixed bounds on the relative L2 error
 * the lossier type's rounding makes (arca_diff_bound; Gaussian weights measured: F16
 * 2.8e-4, Q8_0 5.3e-3, Q6_K 1.8e-2, Q4_K 7.1e-2, Q4_0 8.6e-2, Q2_K 0.30): F32 0, F16 1e-3,
 * BF16 4e-3, Q8_0 1e-2, Q6_K 3e-2, Q5_* 6e-2, Q4_*, IQ4_* 0.12, Q3_K 0.25, Q2_K 0.45.
 * Float against quantized measures the type's own error instead (above), which follows
 * the weights' distribution (outliers raise it). Two sides of the same dtype never get a
 * tolerance: any difference is a change.
 *
 * The engine streams: work is cut into chunks of rows (≈256 Ki elements) spread over a
 * thread pool; each thread keeps two chunk-sized float buffers. Sums are float64, per chunk,
 * added in chunk order, so results do not depend on the thread count. Memory stays bounded
 * by threads × chunk size whatever the model size (weights are mapped, never read whole).
 * Nothing here prints; progress goes through a callback.
 */
#ifndef ARCA_DIFF_H
#define ARCA_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"
#include "arca/store.h"

typedef enum {
	ARCA_DIFF_IDENTICAL,
	ARCA_DIFF_SAME_VALUES,
	ARCA_DIFF_CONVERTED,
	ARCA_DIFF_REQUANTIZED,
	ARCA_DIFF_CHANGED,
	ARCA_DIFF_RESHAPED,
	ARCA_DIFF_ADDED,
	ARCA_DIFF_REMOVED,
	ARCA_DIFF_VERDICT_COUNT
} arca_diff_verdict;

/* "identical", "same values", "converted", ... */
const char *arca_diff_verdict_name(arca_diff_verdict v);

/* The relative L2 error bound of a ggml type id (see above); -1 for an unknown type. */
double arca_diff_bound(int ggml_type);

#define ARCA_DIFF_MAX_DIMS 4

typedef struct {
	char name[200];                /* Hugging Face name */
	int layer;                     /* N of "...layers.N...", else -1 */
	arca_diff_verdict verdict;
	char dtype_a[16], dtype_b[16]; /* "BF16", "Q8_0"; "" on the missing side */
	uint32_t n_dims_a, n_dims_b;
	uint64_t shape_a[ARCA_DIFF_MAX_DIMS], shape_b[ARCA_DIFF_MAX_DIMS]; /* PyTorch order */
	uint64_t bytes_a, bytes_b;     /* stored bytes */
	/* Compared values (for reshaped: the shared leading rows); zero when not compared. */
	uint64_t n_compared;           /* elements */
	double dot, norm2_a, norm2_b, diff2; /* Σab, Σa², Σb², Σ(a−b)² */
	double cosine;                 /* Σab / √(Σa²·Σb²); 1 when both are all zeros */
	double rel_l2;                 /* √Σ(a−b)² / √Σa² */
	double max_abs;                /* max |a−b| */
	double frac_changed;           /* elements with |a−b| > bound · rms(row of a) */
	double bound;                  /* the rel_l2 tolerance used (0: exact) */
	double own_rel_l2;             /* a float side against a quantized one: the error the
	                                  quantized side's type makes on the float side's values
	                                  (quantized again here); 0 when not measured */
	int reproduced;                /* quantizing the float side again gave the quantized
	                                  side's bytes exactly: proof of "quantized from this" */
	int shared_same;               /* reshaped: the shared rows have the same values */
	int64_t new_rows;              /* reshaped: rows of B − rows of A (negative: fewer) */
} arca_diff_tensor;

typedef struct {
	int layer;
	size_t n_tensors, n_changed;   /* changed: not identical/same values/converted/requantized */
	double min_cosine;             /* over the layer's compared tensors; 1 when none */
} arca_diff_layer;

typedef struct {
	char what_a[400], what_b[400]; /* how each side was named and resolved */
	char format_a[32], format_b[32]; /* "safetensors", "gguf" */
	arca_diff_tensor *tensors;     /* sorted by name */
	size_t n_tensors;
	arca_diff_layer *layers;       /* sorted by layer index */
	size_t n_layers;
	size_t count[ARCA_DIFF_VERDICT_COUNT];
	uint64_t bytes[ARCA_DIFF_VERDICT_COUNT]; /* bytes of A (of B for added) */
	/* HuRef's PCS: Σ dot / √(Σ‖a‖² · Σ‖b‖²) over every pair of matrices (≥ 2 dims) of the
	 * same shape. Vectors (norms, biases) are left out: norms are initialised to 1 in every
	 * model, so they make unrelated models look alike (and dominate tiny ones). */
	double global_cosine;
	uint64_t global_elements;
	uint64_t bytes_read;           /* input bytes of both sides that were compared */
	double seconds;
	int threads;
} arca_diff_result;

/* Called on the calling thread between chunks; non-zero stops the diff with
 * ARCA_EINTERRUPTED. done and total count input bytes. */
typedef int (*arca_diff_progress_fn)(uint64_t done, uint64_t total, void *payload);

typedef struct {
	int threads;                   /* <= 0: one per online CPU */
	arca_diff_progress_fn progress;
	void *payload;
} arca_diff_opts;

#define ARCA_DIFF_OPTS_INIT { 0, NULL, NULL }

/* Compares a and b (REF, REF:VARIANT, a file or a folder; store may be NULL when both are
 * files or folders). *out is filled even on error (free it with arca_diff_result_dispose). Errors:
 * ARCA_ENOTFOUND (a REF, variant or file), ARCA_EUNSUPPORTED (an architecture or dtype the
 * tables do not know), ARCA_ECORRUPT (a malformed file), ARCA_EINTERRUPTED. */
arca_err arca_diff_models(arca_diff_result *out, arca_store *store, const char *a,
	const char *b, const arca_diff_opts *opts);
void arca_diff_result_dispose(arca_diff_result *r);

#endif
