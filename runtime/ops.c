/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/ops.c — see ops.h. Plain C the compiler vectorizes; the loops attention spends
 * its time in are also compiled for AVX2 (x86-64-v3) and chosen when the program starts
 * (target_clones), since the library itself is built for any x86-64.
 */
#include "runtime/ops.h"

#include <math.h>

VECTOR_CLONES void arca_op_rmsnorm(float *y, const float *x, const float *w, size_t n,
	float eps)
{
	double sum = 0.0;
	for (size_t i = 0; i < n; i++)
		sum += (double)(x[i] * x[i]);
	float mean = (float)(sum / (double)n);
	float scale = 1.0f / sqrtf(mean + eps);
	if (w) {
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] * scale * w[i];
	} else {
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] * scale;
	}
}

void arca_op_rope_table(float *cos_out, float *sin_out, uint32_t pos,
	const arca_op_rope_params *r)
{
	float theta_scale = powf(r->base, -2.0f / (float)r->n_rot);
	float theta = (float)pos;
	for (uint32_t i = 0; i < r->n_rot / 2; i++) {
		float extrap = r->factors ? theta / r->factors[i] : theta;
		float t = r->freq_scale * extrap;
		if (r->ext_factor != 0.0f) {
			float y = ((float)i - r->corr_lo) / fmaxf(0.001f, r->corr_hi - r->corr_lo);
			float mix = (1.0f - fminf(1.0f, fmaxf(0.0f, y))) * r->ext_factor;
			t = t * (1.0f - mix) + extrap * mix;
		}
		cos_out[i] = cosf(t) * r->mscale;
		sin_out[i] = sinf(t) * r->mscale;
		theta *= theta_scale;
	}
}

void arca_op_rope(float *x, const float *cos_t, const float *sin_t, uint32_t n_rot, int neox)
{
	uint32_t half = n_rot / 2;
	for (uint32_t i = 0; i < half; i++) {
		uint32_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
		float x0 = x[a], x1 = x[b];
		x[a] = x0 * cos_t[i] - x1 * sin_t[i];
		x[b] = x0 * sin_t[i] + x1 * cos_t[i];
	}
}

void arca_op_softmax(float *x, size_t n)
{
	float max = -INFINITY;
	for (size_t i = 0; i < n; i++)
		max = x[i] > max ? x[i] : max;
	double sum = 0.0;
	for (size_t i = 0; i < n; i++) {
		x[i] = expf(x[i] - max);
		sum += x[i];
	}
	float inv = (float)(1.0 / sum);
	for (size_t i = 0; i < n; i++)
		x[i] *= inv;
}

void arca_op_swiglu(float *g, const float *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

VECTOR_CLONES void arca_op_add(float *y, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] += x[i];
}

VECTOR_CLONES float arca_op_dot_f32(const float *a, const float *b, size_t n)
{
	/* each clone inlines the same eight-accumulator loop at its own vector width */
	return arca_op_dot_inline(a, b, n);
}

VECTOR_CLONES void arca_op_axpy(float *restrict y, float a, const float *restrict x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		y[i] += a * x[i];
}
