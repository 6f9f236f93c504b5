/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tensor_view.h — a model as canonical tensors with a row decoder, whatever it is
 * stored as: a snapshot's safetensors (REF), a stored GGUF variant (REF:VARIANT), a GGUF or
 * safetensors file, or a folder holding one model.safetensors. Names are Hugging Face names, shapes PyTorch order, rows float32; where
 * the stored bytes are in one place `raw` points at them (with the row order they are in) so
 * callers can compare bytes without decoding. Weights stay mapped, never
 * copied. Internal to convert/ (tensor_diff.c).
 */
#ifndef ARCA_CONVERT_TENSOR_VIEW_H
#define ARCA_CONVERT_TENSOR_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"
#include "arca/store.h"

typedef struct {
	const char *name;          /* Hugging Face name; borrowed from the view */
	int type;                  /* ggml type id (safetensors F32/F16/BF16 map to theirs); -1
	                              for dtypes without one (F8_E4M3) */
	char dtype[16];            /* "BF16", "Q8_0", "F8_E4M3" */
	uint32_t n_dims;
	uint64_t shape[4];         /* PyTorch order */
	uint64_t n_rows, row_len;  /* rows = all dims but the last */
	const unsigned char *raw;  /* the stored bytes, or NULL (split over two GGUF tensors) */
	int layout;                /* 0: raw is in this (HF) layout; else the arca_tensor_tx
	                              that reorders its rows (only equal layouts compare) */
	uint64_t nbytes;           /* stored bytes */
	size_t index_;             /* private: the backend's entry */
} arca_tview_tensor;

typedef struct arca_tview arca_tview;

/* Opens target: an existing file (GGUF by its magic, else safetensors), a folder (its
 * model.safetensors; ARCA_EUNSUPPORTED without one), REF:VARIANT (a stored GGUF variant) or
 * REF (the snapshot's safetensors). store may be NULL for files and folders. */
arca_err arca_convert__tview_open(arca_tview **out, arca_store *store, const char *target);
void arca_convert__tview_free(arca_tview *v);

/* How errors and reports name it ("hf:acme/base@1a2b3c4d5e6f:q8_0"), and its format. */
const char *arca_convert__tview_what(const arca_tview *v);
const char *arca_convert__tview_format(const arca_tview *v);

/* Tensors sorted by name; borrowed. */
size_t arca_convert__tview_count(const arca_tview *v);
const arca_tview_tensor *arca_convert__tview_at(const arca_tview *v, size_t i);

/* Floats of scratch arca_convert__tview_rows needs for t. */
uint64_t arca_convert__tview_scratch(const arca_tview *v, const arca_tview_tensor *t);

/* Where HF row r of t lies among the stored rows of raw (r itself when layout is 0). */
uint64_t arca_convert__tview_stored_row(const arca_tview *v, const arca_tview_tensor *t,
	uint64_t r);

/* Rows [r0, r0 + n) of t as float32 into dst (n * row_len floats). Thread-safe. */
arca_err arca_convert__tview_rows(const arca_tview *v, const arca_tview_tensor *t, uint64_t r0,
	uint64_t n, float *dst, float *scratch);

/* Σ x·y over n floats in eight float64 lanes of fixed order (vectorizes; the result does
 * not depend on the machine or the thread count). Defined in audit_rows.c. */
double arca_convert__dot(const float *x, const float *y, size_t n);

#endif
