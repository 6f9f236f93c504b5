/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/quant.h — ggml tensor types: their block layouts, and conversion of float rows to
 * and from them.
 *
 * Every quantizer here produces the bytes llama-quantize writes (ggml_quantize_chunk with
 * no importance matrix) for the same float32 input, bit for bit; every dequantizer returns
 * what ggml's to_float returns. The scalar `_ref` functions are the reference; the default
 * entry points may use AVX2/AVX-512 code chosen at run time, tested against the reference.
 * Byte layouts and algorithms: docs/formats.md (restated from the spec).
 *
 * This file is compiled with -ffp-contract=off: fused multiply-adds change the bytes.
 * Nothing here allocates more than a row's scratch, prints or exits.
 */
#ifndef ARCA_QUANT_H
#define ARCA_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"

/* ggml type ids, as GGUF files store them. */
typedef enum {
	ARCA_GGML_F32 = 0,
	ARCA_GGML_F16 = 1,
	ARCA_GGML_Q4_0 = 2,
	ARCA_GGML_Q4_1 = 3,
	ARCA_GGML_Q5_0 = 6,
	ARCA_GGML_Q5_1 = 7,
	ARCA_GGML_Q8_0 = 8,
	ARCA_GGML_Q8_1 = 9,
	ARCA_GGML_Q2_K = 10,
	ARCA_GGML_Q3_K = 11,
	ARCA_GGML_Q4_K = 12,
	ARCA_GGML_Q5_K = 13,
	ARCA_GGML_Q6_K = 14,
	ARCA_GGML_Q8_K = 15,
	ARCA_GGML_IQ4_NL = 20,
	ARCA_GGML_IQ4_XS = 23,
	ARCA_GGML_I8 = 24,
	ARCA_GGML_I16 = 25,
	ARCA_GGML_I32 = 26,
	ARCA_GGML_I64 = 27,
	ARCA_GGML_F64 = 28,
	ARCA_GGML_BF16 = 30,
	ARCA_GGML_TYPE_COUNT = 43,
} arca_ggml_type;

#define ARCA_GGML_NONE (-1) /* no type: for dot_type and fallback below */

/* One row per ggml type: everything arca looks up about a type is here, so adding a type
 * is one row in quant/ggml_types.c plus its functions (the scalar quantizer and
 * dequantizer the row names; SIMD levels only override them, quant/quant_simd.c). */
typedef struct {
	const char *name;     /* "Q4_K", "BF16", ... as ggml spells it */
	uint32_t block_size;  /* elements per block */
	uint32_t type_size;   /* bytes per block (sizeof its arca/ggml_blocks.h struct) */
	int quantize;         /* arca can write it (arca_quantize_rows) */
	int dequantize;       /* arca can read it (arca_dequantize) */
	/* What arca's runtime converts activations to before multiplying rows of this type
	 * (ggml's vec_dot_type: F32, F16, BF16, Q8_0 or Q8_K), ARCA_GGML_NONE when the runtime
	 * does not run it. Q4_1 and Q5_1 use Q8_0 plus row sums where ggml uses Q8_1. */
	int dot_type;
	/* The type a mix uses instead when a row is not a whole number of this type's blocks
	 * (llama.cpp's rule: K-quants fall back to 32-element types), ARCA_GGML_NONE for none. */
	int fallback;
} arca_ggml_type_info;

/* The traits of a type id; NULL for ids that are unknown, removed (4, 5, 31-33, 36-38) or
 * out of range. Every live id below ARCA_GGML_TYPE_COUNT has an entry, so files using
 * types arca cannot convert are still described. */
const arca_ggml_type_info *arca_ggml_type_info_get(int type);

/* Parses a type name ("q4_k", "Q8_0", "bf16", any case). ARCA_EINVALID listing the types
 * arca can quantize to when the name is unknown. */
arca_err arca_ggml_type_from_name(int *out, const char *name);

/* Bytes of n elements of a type; 0 when n is not a whole number of blocks. */
uint64_t arca_ggml_row_size(int type, uint64_t n);

/* ------------------------------------------------------------------ scalars */

float arca_fp16_to_fp32(uint16_t h);
uint16_t arca_fp32_to_fp16(float f); /* round to nearest even, as ggml */
float arca_bf16_to_fp32(uint16_t h);
uint16_t arca_fp32_to_bf16(float f); /* round to nearest even; NaN kept quiet */

/* ------------------------------------------------------------------ rows */

/* Quantizes nrows rows of n_per_row floats (n_per_row a multiple of the block size) into
 * dst (nrows * arca_ggml_row_size(type, n_per_row) bytes). Types: F32, F16, BF16, Q4_0,
 * Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS. ARCA_EINVALID for
 * another type or a row length that is not whole blocks. Thread-safe. */
arca_err arca_quantize_rows(int type, const float *src, void *dst, size_t nrows,
	size_t n_per_row);

/* The same on n_threads threads (0: one per online CPU); rows are split between them. */
arca_err arca_quantize_rows_mt(int type, const float *src, void *dst, size_t nrows,
	size_t n_per_row, int n_threads);

/* The same on the threads of a pool the caller keeps across calls (common/pool.h; NULL:
 * this thread only), for converters quantizing tensor after tensor. */
typedef struct arca_pool arca_pool;
arca_err arca_quantize_rows_pool(int type, const float *src, void *dst, size_t nrows,
	size_t n_per_row, arca_pool *pool);

/* Dequantizes n elements (a multiple of the block size) of any type above into dst. */
arca_err arca_dequantize(int type, const void *src, float *dst, size_t n);

/* The scalar reference versions, for tests and for checking SIMD paths. */
arca_err arca_quantize_rows_ref(int type, const float *src, void *dst, size_t nrows,
	size_t n_per_row);
arca_err arca_dequantize_ref(int type, const void *src, float *dst, size_t n);

#endif
