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

float arca_rt__dot_reference(int type, size_t n, const void *w, const void *x)
{
	const arca_ggml_type_info *ti = arca_ggml_type_info_get(type);
	act_kind kind = arca_rt__act_kind(type);
	size_t bs = ti->block_size;
	float wf[ARCA_QK_K], xf[ARCA_QK_K];
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

void arca_rt__fill_scalar(arca_rt__table *t)
{
	/* no per-type entries: every type the table says runs goes through the reference dot */
	t->name = "scalar";
	t->quantize_q8_0 = arca_rt__quantize_act_q8_0;
	t->quantize_q8_k = arca_rt__quantize_act_q8_k;
	t->round_f16 = arca_rt__round_act_f16;
	t->round_bf16 = arca_rt__round_act_bf16;
}
