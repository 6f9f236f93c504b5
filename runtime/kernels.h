/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kernels.h — the matrix products of the forward pass, one entry point per shape
 * (matrix × vector for decode, matrix × matrix for prefill), dispatching on the weight's
 * ggml type and on the instruction set found at run time (scalar, AVX2, AVX-512 with VNNI).
 *
 * As llama.cpp's CPU backend does, the activations are first converted to the weight type's
 * "dot type": F32 for F32 weights, F16 for F16, BF16 for BF16, Q8_0 for Q8_0/Q4_0/Q4_1/Q5_0/
 * Q5_1 (Q8_1 where ggml uses it is not needed: arca uses Q8_0 plus row sums), Q8_K for the
 * K-quants. Products are then integer (or half-precision) dot products accumulated in float.
 * The scalar kernels are the reference the SIMD ones are tested against. Internal to the
 * runtime; nothing here allocates, prints or fails (callers check types with
 * arca_rt_weight_supported first).
 */
#ifndef ARCA_RUNTIME_KERNELS_H
#define ARCA_RUNTIME_KERNELS_H

#include <stddef.h>
#include <stdint.h>

enum { ARCA_RT_SCALAR = 0, ARCA_RT_AVX2 = 1, ARCA_RT_AVX512 = 2, ARCA_RT_LEVELS = 3 };

/* 1 when matrices of this ggml type can be multiplied (F32, F16, BF16, Q8_0, Q4_0, Q4_1,
 * Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K). */
int arca_rt_weight_supported(int weight_type);

/* Bytes one converted activation row of n floats takes for this weight type (n a multiple
 * of the type's block size), and the conversion itself. */
size_t arca_rt_act_row_size(int weight_type, size_t n);
void arca_rt_act_convert(int weight_type, const float *x, void *out, size_t n);

/* y[r - r0] = W_r · x for the rows r in [r0, r1): W has rows of n elements, row_bytes apart;
 * x is one converted activation row. */
void arca_rt_matvec(int weight_type, const void *w, size_t row_bytes, size_t n,
	const void *x, float *y, size_t r0, size_t r1);

/* Y[b·ldy + r] = W_r · X_b for r in [r0, r1) and b < nb: nb converted activation rows, each
 * x_stride bytes apart. Blocked so a strip of W stays in cache across the batch. */
void arca_rt_matmul(int weight_type, const void *w, size_t row_bytes, size_t n,
	const void *x, size_t x_stride, size_t nb, float *y, size_t ldy, size_t r0, size_t r1);

/* One query against one tile of 64 cached positions of a narrow KV cache (kv_attend.c's
 * step 1): kt the tile's keys transposed ([hd][64], columns past nv zero), vt its values
 * ([nv][hv]); writes the scores' maximum m (scaled), l = Σ e^(s_i − m) and
 * o[0, hv) = Σ e^(s_i − m) · v_i over the first nv keys, using p[0, 64) as scratch.
 * arca_rt_kv_tile gives the level's form, or NULL where kv_attend.c's portable one runs. */
typedef void (*arca_rt_kv_tile_fn)(const float *q, const float *kt, const float *vt,
	size_t hd, size_t hv, size_t nv, float scale, float *p, float *o, float *m, float *l);
arca_rt_kv_tile_fn arca_rt_kv_tile(void);

/* The keys of one tile transposed for arca_rt_kv_tile_fn: np <= 64 cached rows of a narrow
 * cache of `type` (F16, or Q8_0 with hd a multiple of 32), row i at rows + i·stride bytes,
 * hd channels from the row's start, into kt[hd][64] with columns np..63 zero — the values
 * kv_attend.c's decoding gives (each exactly). arca_rt_kv_keys gives the level's form, or
 * NULL where kv_attend.c's portable loop runs. */
typedef void (*arca_rt_kv_keys_fn)(int type, const void *rows, size_t stride, size_t np,
	size_t hd, float *kt);
arca_rt_kv_keys_fn arca_rt_kv_keys(void);

/* The instruction-set level in use ("avx512-vnni", "avx512", "avx2", "scalar"). */
const char *arca_rt_kernel_name(void);
/* Tests: use this level (ARCA_RT_*) from now on; 0 on success, -1 when the CPU lacks it. */
int arca_rt_kernel_force(int level);

#endif
