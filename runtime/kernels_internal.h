/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kernels_internal.h — what the kernel files share: the activation block layouts,
 * the per-level table of row-dot functions, and the scalar and SIMD entry points.
 */
#ifndef ARCA_RUNTIME_KERNELS_INTERNAL_H
#define ARCA_RUNTIME_KERNELS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "arca/quant.h"
#include "runtime/kernels.h"

#if defined(__x86_64__)
#define ARCA_RT_X86 1
#else
#define ARCA_RT_X86 0
#endif

/* Activations for the 32-element types: ggml's Q8_0 values (d rounded to fp16, 32 × int8)
 * with d kept as a float, so the dot products do not convert it once per weight row. */
#define ACT_Q8_0_BYTES 36
static inline float arca_rt__act_d(const uint8_t *block)
{
	float d;
	__builtin_memcpy(&d, block, 4);
	return d;
}
/* For the K-quants: ggml's Q8_K (float d, 256 × int8, 16 sums of 16). */
typedef struct {
	float d;
	int8_t qs[256];
	int16_t bsums[16];
} act_q8_k;

typedef enum { ACT_F32, ACT_F16, ACT_BF16, ACT_Q8_0, ACT_Q8_K } act_kind;

act_kind arca_rt__act_kind(int weight_type);

/* out = one weight row (n elements) · one converted activation row. */
typedef float (*arca_rt__dot_fn)(size_t n, const void *w, const void *x);

/* out[t] = one weight row · activation row t, for 4 rows x_stride bytes apart: the weight
 * block is decoded once for all four (prefill). */
typedef void (*arca_rt__dot4_fn)(size_t n, const void *w, const void *x, size_t x_stride,
	float *out);

typedef struct {
	const char *name;
	arca_rt__dot_fn dot[ARCA_GGML_TYPE_COUNT];
	arca_rt__dot4_fn dot4[ARCA_GGML_TYPE_COUNT];   /* NULL: dot four times */
} arca_rt__table;

/* Fills the scalar reference: every supported type. */
void arca_rt__fill_scalar(arca_rt__table *t);
#if ARCA_RT_X86
/* Override the types they have faster versions of. */
void arca_rt__fill_avx2(arca_rt__table *t);
void arca_rt__fill_avx512(arca_rt__table *t);
#endif

/* Activation conversion (shared by all levels). */
void arca_rt__quantize_act_q8_0(const float *x, uint8_t *out, size_t n);
void arca_rt__quantize_act_q8_k(const float *x, act_q8_k *out, size_t n);

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
