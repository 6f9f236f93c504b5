/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/ops.h — the element-wise steps of the forward pass, in float as llama.cpp's CPU
 * backend computes them: RMSNorm (sum of squares in double), RoPE tables and rotation
 * (NORMAL and NEOX pairing), softmax, SiLU-gated product, bias add.
 */
#ifndef ARCA_RUNTIME_OPS_H
#define ARCA_RUNTIME_OPS_H

#include <stddef.h>
#include <stdint.h>

/* y = x / sqrt(mean(x²) + eps) · w (w may be NULL: no scaling); y may be x. */
void arca_op_rmsnorm(float *y, const float *x, const float *w, size_t n, float eps);

/* How RoPE angles are made (llama.cpp's rope with YaRN): θ_i = pos · base^(−2i/n_rot),
 * divided by factors[i] when given (llama3's rope_freqs); the angle used is θ_i·freq_scale
 * (1/factor of linear or YaRN scaling; 1 for none), or with ext_factor ≠ 0 a mix of θ_i·
 * freq_scale and θ_i by YaRN's ramp, which is 1 below pair corr_lo and 0 above corr_hi;
 * cos and sin are multiplied by mscale. */
typedef struct {
	uint32_t n_rot;
	int neox;                  /* 1: pairs (i, i + n/2); 0: adjacent pairs */
	float base, freq_scale, ext_factor, corr_lo, corr_hi, mscale;
	const float *factors;
} arca_op_rope_params;

/* cos/sin of the n_rot/2 angles at `pos`. */
void arca_op_rope_table(float *cos_out, float *sin_out, uint32_t pos,
	const arca_op_rope_params *r);
/* Rotates the first n_rot dims of one head: pairs (2i, 2i+1) or, neox, (i, i + n_rot/2). */
void arca_op_rope(float *x, const float *cos_t, const float *sin_t, uint32_t n_rot, int neox);

/* x = softmax(x) over n entries (max subtracted, expf). */
void arca_op_softmax(float *x, size_t n);

/* g[i] = silu(g[i]) · u[i], silu(z) = z / (1 + e^−z). */
void arca_op_swiglu(float *g, const float *u, size_t n);

void arca_op_add(float *y, const float *x, size_t n);

float arca_op_dot_f32(const float *a, const float *b, size_t n);

/* Inline forms for hot loops compiled with VECTOR_CLONES (they vectorize in the clone). */
static inline float arca_op_dot_inline(const float *a, const float *b, size_t n)
{
	float acc[8] = { 0 };
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		for (int j = 0; j < 8; j++)
			acc[j] += a[i + j] * b[i + j];
	float s = 0.0f;
	for (int j = 0; j < 8; j++)
		s += acc[j];
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

static inline void arca_op_axpy_inline(float *restrict y, float a, const float *restrict x,
	size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] += a * x[i];
}

/* x86-64: AVX-512 and AVX2 clones and a baseline one, chosen at load time. */
#if defined(__x86_64__) && (!defined(__clang__) || __clang_major__ >= 14)
#define VECTOR_CLONES \
	__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VECTOR_CLONES
#endif
/* y += a · x */
void arca_op_axpy(float *restrict y, float a, const float *restrict x, size_t n);

#endif
