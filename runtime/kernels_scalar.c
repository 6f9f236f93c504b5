/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kernels_scalar.c — the reference row dots: each weight block decoded with the
 * converter's dequantizers (arca_dequantize), each activation block decoded from its
 * Q8_0/Q8_K/float form, multiplied in float and summed per block in double. Slow and
 * plainly right; the SIMD kernels are tested against it, and other CPUs run it.
 */
#include "runtime/kernels_internal.h"

/* Decodes activation elements [i0, i0 + count) of a converted row. */
static void act_decode(act_kind kind, const void *x, size_t i0, size_t count, float *out)
{
	for (size_t i = 0; i < count; i++) {
		size_t k = i0 + i;
		switch (kind) {
		case ACT_F32: case ACT_F16: case ACT_BF16: /* already rounded to the weight type */
			out[i] = ((const float *)x)[k];
			break;
		case ACT_Q8_0:
			out[i] = arca_rt__act_d(x, k / 32) * (float)arca_rt__act_qs(x, k / 32)[k % 32];
			break;
		case ACT_Q8_K: {
			const act_q8_k *b = (const act_q8_k *)x + k / 256;
			out[i] = b->d * (float)b->qs[k % 256];
			break;
		}
		}
	}
}

static float dot_generic(int type, size_t n, const void *w, const void *x)
{
	const arca_ggml_type_info *ti = arca_ggml_type_info_get(type);
	act_kind kind = arca_rt__act_kind(type);
	size_t bs = ti->block_size;
	float wf[256], xf[256];
	double sum = 0.0;
	for (size_t i0 = 0; i0 < n; i0 += bs) {
		arca_dequantize(type, (const uint8_t *)w + i0 / bs * ti->type_size, wf, bs);
		act_decode(kind, x, i0, bs, xf);
		float s = 0.0f;
		for (size_t j = 0; j < bs; j++)
			s += wf[j] * xf[j];
		sum += s;
	}
	return (float)sum;
}

#define GENERIC(T) \
	static float dot_##T(size_t n, const void *w, const void *x) \
	{ \
		return dot_generic(ARCA_GGML_##T, n, w, x); \
	}
GENERIC(F32)
GENERIC(F16)
GENERIC(BF16)
GENERIC(Q8_0)
GENERIC(Q4_0)
GENERIC(Q4_1)
GENERIC(Q5_0)
GENERIC(Q5_1)
GENERIC(Q2_K)
GENERIC(Q3_K)
GENERIC(Q4_K)
GENERIC(Q5_K)
GENERIC(Q6_K)
#undef GENERIC

void arca_rt__fill_scalar(arca_rt__table *t)
{
	t->name = "scalar";
	t->quantize_q8_0 = arca_rt__quantize_act_q8_0;
	t->quantize_q8_k = arca_rt__quantize_act_q8_k;
	t->dot[ARCA_GGML_F32] = dot_F32;
	t->dot[ARCA_GGML_F16] = dot_F16;
	t->dot[ARCA_GGML_BF16] = dot_BF16;
	t->dot[ARCA_GGML_Q8_0] = dot_Q8_0;
	t->dot[ARCA_GGML_Q4_0] = dot_Q4_0;
	t->dot[ARCA_GGML_Q4_1] = dot_Q4_1;
	t->dot[ARCA_GGML_Q5_0] = dot_Q5_0;
	t->dot[ARCA_GGML_Q5_1] = dot_Q5_1;
	t->dot[ARCA_GGML_Q2_K] = dot_Q2_K;
	t->dot[ARCA_GGML_Q3_K] = dot_Q3_K;
	t->dot[ARCA_GGML_Q4_K] = dot_Q4_K;
	t->dot[ARCA_GGML_Q5_K] = dot_Q5_K;
	t->dot[ARCA_GGML_Q6_K] = dot_Q6_K;
}
