/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kernels_internal.h — what the kernel files share: the activation block layouts,
 * the per-level table of row-dot functions, and the scalar and SIMD entry points.
 */
#ifndef ARCA_RUNTIME_KERNELS_INTERNAL_H
#define ARCA_RUNTIME_KERNELS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "arca/ggml_blocks.h"
#include "arca/quant.h"
#include "runtime/kernels.h"

#if defined(__x86_64__)
#define ARCA_RT_X86 1
#else
#define ARCA_RT_X86 0
#endif

/* Activations for the 32-element types: ggml's Q8_0 values (d rounded to fp16, 32 × int8),
 * two blocks per 192-byte pair, laid out for 512-bit products: the 64 quants, each block's
 * d repeated over the 8 int32 lanes its bytes fall in, and each lane's sum of its 4 quants
 * times d (what a weight stored as an unsigned code u with value u − c needs subtracted:
 * c · sd). An odd last block has an all-zero partner. */
typedef struct {
	int8_t qs[64];
	float d[16];
	float sd[16];
} act_q8_0x2;

static inline const int8_t *arca_rt__act_qs(const void *x, size_t block)
{
	return ((const act_q8_0x2 *)x)[block / 2].qs + 32 * (block & 1);
}

static inline float arca_rt__act_d(const void *x, size_t block)
{
	return ((const act_q8_0x2 *)x)[block / 2].d[8 * (block & 1)];
}

/* For the K-quants: ggml's Q8_K (float d, 256 × int8, 16 sums of 16). */
typedef arca_block_q8_K act_q8_k;

/* F16 and BF16 activations are floats already rounded to the weight's precision (the values
 * llama.cpp multiplies), so no kernel converts them again per weight row. */
typedef enum { ACT_F32, ACT_F16, ACT_BF16, ACT_Q8_0, ACT_Q8_K } act_kind;

act_kind arca_rt__act_kind(int weight_type);

/* out = one weight row (n elements) · one converted activation row. */
typedef float (*arca_rt__dot_fn)(size_t n, const void *w, const void *x);

/* out[t] = one weight row · activation row t, for 4 rows x_stride bytes apart: the weight
 * block is decoded once for all four (prefill). */
typedef void (*arca_rt__dot4_fn)(size_t n, const void *w, const void *x, size_t x_stride,
	float *out);

/* Y[t·ldy + r] = W_r · X_t for r < nrows, t < ntok: a whole block of rows (w points at the
 * first) against ntok activation rows x_stride bytes apart, in register tiles. Where a level
 * has one it serves matrix × vector too (ntok = 1); for the integer types that is the same
 * tile, so a batch and token-by-token decoding give the same bits. */
typedef void (*arca_rt__gemm_fn)(size_t n, const void *w, size_t row_bytes, size_t nrows,
	const void *x, size_t x_stride, size_t ntok, float *y, size_t ldy);

typedef struct {
	const char *name;
	arca_rt__dot_fn dot[ARCA_GGML_TYPE_COUNT];     /* NULL: arca_rt__dot_reference */
	arca_rt__dot4_fn dot4[ARCA_GGML_TYPE_COUNT];   /* NULL: dot four times */
	arca_rt__gemm_fn gemm[ARCA_GGML_TYPE_COUNT];   /* NULL: dot / dot4 */
	/* activation conversions: the same bytes at every level */
	void (*quantize_q8_0)(const float *x, act_q8_0x2 *out, size_t n);
	void (*quantize_q8_k)(const float *x, act_q8_k *out, size_t n);
	void (*round_f16)(const float *x, float *out, size_t n);   /* F16 and BF16 activations: */
	void (*round_bf16)(const float *x, float *out, size_t n);  /* x rounded to the type */
	arca_rt_kv_tile_fn kv_tile;                    /* NULL: kv_attend.c's portable form */
	arca_rt_kv_keys_fn kv_keys;                    /* NULL: kv_attend.c's portable loop */
} arca_rt__table;

/* The reference row dot of any type the runtime runs (arca_rt_weight_supported): each
 * weight block decoded with arca_dequantize, multiplied in float, summed in double. Used
 * wherever a level's table has no kernel for the type. */
float arca_rt__dot_reference(int type, size_t n, const void *w, const void *x);

/* Fills the scalar level: the activation conversions (no per-type kernels). */
void arca_rt__fill_scalar(arca_rt__table *t);
#if ARCA_RT_X86
/* Override the types they have faster versions of. */
void arca_rt__fill_avx2(arca_rt__table *t);
void arca_rt__fill_avx512(arca_rt__table *t);
/* The AVX-512 register-tiled products (runtime/gemm_avx512.c). */
void arca_rt__fill_avx512_gemm(arca_rt__table *t);
/* On a CPU with AVX512_BF16 (kernels.c checks): BF16 prompts by vdpbf16ps, and the level's
 * name says so (runtime/gemm_avx512.c). */
void arca_rt__fill_avx512_bf16(arca_rt__table *t);
/* The AVX-512 activation conversions (runtime/act_avx512.c). */
void arca_rt__fill_avx512_act(arca_rt__table *t);
/* The narrow-KV-cache attention tile (runtime/attn_avx2.c, runtime/attn_avx512.c). */
void arca_rt__fill_avx2_attn(arca_rt__table *t);
void arca_rt__fill_avx512_attn(arca_rt__table *t);
#endif

/* Activation conversion: the scalar forms (every level's table starts with them). */
void arca_rt__quantize_act_q8_0(const float *x, act_q8_0x2 *out, size_t n);
void arca_rt__quantize_act_q8_k(const float *x, act_q8_k *out, size_t n);
void arca_rt__round_act_f16(const float *x, float *out, size_t n);
void arca_rt__round_act_bf16(const float *x, float *out, size_t n);

static inline uint16_t arca_rt__le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline float arca_rt__half(const uint8_t *p)
{
	return arca_fp16_to_fp32(arca_rt__le16(p));
}

/* Q4_K/Q5_K: the 6-bit scale and min of sub-block j. */
static inline void arca_rt__scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
	if (j < 4) {
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
		*m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
	}
}

#endif
