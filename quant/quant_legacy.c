/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/quant_legacy.c — the scalar reference encoders of the plain and legacy types:
 * F32, F16, BF16 rows and the 32-element blocks Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
 * (docs/formats.md §5.1). Each reproduces llama.cpp's quantize_row_*_ref to the byte:
 * float32 arithmetic in source order, the inverse scale taken from the fp32 d, and each
 * type's own rounding (truncation of x+8.5 for Q4/Q5, roundf for Q8_0), and x86's result
 * for float-to-int casts C leaves undefined (arca_quant__trunc_i32).
 */
#include <math.h>
#include <float.h>

#include "quant/quant_internal.h"

void arca_quant__quantize_f32(const float *src, void *dst, size_t n)
{
	memcpy(dst, src, n * sizeof(float));
}

void arca_quant__quantize_f16(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t i = 0; i < n; i++)
		arca_quant__put_le16(out + 2 * i, arca_fp32_to_fp16(src[i]));
}

void arca_quant__quantize_bf16(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t i = 0; i < n; i++)
		arca_quant__put_le16(out + 2 * i, arca_fp32_to_bf16(src[i]));
}

/* The signed element of largest magnitude; the first one wins ties. */
static float signed_absmax(const float *x, int n)
{
	float amax = 0, max = 0;
	for (int j = 0; j < n; j++) {
		float a = fabsf(x[j]);
		if (amax < a) {
			amax = a;
			max = x[j];
		}
	}
	return max;
}

static void min_max(const float *x, int n, float *min_out, float *max_out)
{
	float min = FLT_MAX, max = -FLT_MAX;
	for (int j = 0; j < n; j++) {
		if (x[j] < min)
			min = x[j];
		if (x[j] > max)
			max = x[j];
	}
	*min_out = min;
	*max_out = max;
}

/* Q4_0: d:half, qs[16]; code = min(15, trunc(x/d + 8.5)) with d = max / -8. */
void arca_quant__quantize_q4_0(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += sizeof(arca_block_q4_0)) {
		float d = signed_absmax(src, ARCA_QK) / -8;
		float id = d ? 1.0f / d : 0.0f;
		arca_quant__put_le16(out, arca_fp32_to_fp16(d));
		for (int j = 0; j < ARCA_QK / 2; j++) {
			int8_t lo = (int8_t)arca_quant__trunc_i32(src[j] * id + 8.5f);
			int8_t hi = (int8_t)arca_quant__trunc_i32(src[j + 16] * id + 8.5f);
			lo = lo < 15 ? lo : 15;
			hi = hi < 15 ? hi : 15;
			out[2 + j] = (uint8_t)(lo | hi << 4);
		}
	}
}

/* Q4_1: d, m, qs[16]; code = min(15, trunc((x - min)/d + 0.5)) with d = (max - min)/15. */
void arca_quant__quantize_q4_1(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += sizeof(arca_block_q4_1)) {
		float min, max;
		min_max(src, ARCA_QK, &min, &max);
		float d = (max - min) / 15;
		float id = d ? 1.0f / d : 0.0f;
		arca_quant__put_le16(out, arca_fp32_to_fp16(d));
		arca_quant__put_le16(out + 2, arca_fp32_to_fp16(min));
		for (int j = 0; j < ARCA_QK / 2; j++) {
			int8_t lo = (int8_t)arca_quant__trunc_i32((src[j] - min) * id + 0.5f);
			int8_t hi = (int8_t)arca_quant__trunc_i32((src[j + 16] - min) * id + 0.5f);
			lo = lo < 15 ? lo : 15;
			hi = hi < 15 ? hi : 15;
			out[4 + j] = (uint8_t)(lo | hi << 4);
		}
	}
}

/* Q5_0: d, qh:u32, qs[16]; code = min(31, trunc(x/d + 16.5)) with d = max / -16. */
void arca_quant__quantize_q5_0(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += sizeof(arca_block_q5_0)) {
		float d = signed_absmax(src, ARCA_QK) / -16;
		float id = d ? 1.0f / d : 0.0f;
		uint32_t qh = 0;
		arca_quant__put_le16(out, arca_fp32_to_fp16(d));
		for (int j = 0; j < ARCA_QK / 2; j++) {
			int8_t lo = (int8_t)arca_quant__trunc_i32(src[j] * id + 16.5f);
			int8_t hi = (int8_t)arca_quant__trunc_i32(src[j + 16] * id + 16.5f);
			lo = lo < 31 ? lo : 31;
			hi = hi < 31 ? hi : 31;
			out[6 + j] = (uint8_t)((lo & 15) | (hi & 15) << 4);
			qh |= (uint32_t)((lo >> 4) & 1) << j;
			qh |= (uint32_t)((hi >> 4) & 1) << (j + 16);
		}
		arca_quant__put_le32(out + 2, qh);
	}
}

/* Q5_1: d, m, qh, qs; code = trunc((x - min)/d + 0.5), with no upper clamp (as ggml). */
void arca_quant__quantize_q5_1(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += sizeof(arca_block_q5_1)) {
		float min, max;
		min_max(src, ARCA_QK, &min, &max);
		float d = (max - min) / 31;
		float id = d ? 1.0f / d : 0.0f;
		uint32_t qh = 0;
		arca_quant__put_le16(out, arca_fp32_to_fp16(d));
		arca_quant__put_le16(out + 2, arca_fp32_to_fp16(min));
		for (int j = 0; j < ARCA_QK / 2; j++) {
			uint8_t lo = (uint8_t)arca_quant__trunc_i32((src[j] - min) * id + 0.5f);
			uint8_t hi = (uint8_t)arca_quant__trunc_i32((src[j + 16] - min) * id + 0.5f);
			out[8 + j] = (uint8_t)((lo & 15) | (hi & 15) << 4);
			qh |= (uint32_t)((lo >> 4) & 1) << j;
			qh |= (uint32_t)((hi >> 4) & 1) << (j + 16);
		}
		arca_quant__put_le32(out + 4, qh);
	}
}

void arca_quant__quantize_q8_0_block(const float *x, uint8_t *out)
{
	float amax = 0;
	for (int j = 0; j < ARCA_QK; j++) {
		float a = fabsf(x[j]);
		amax = amax > a ? amax : a;
	}
	float d = amax / 127;
	float id = d ? 1.0f / d : 0.0f;
	arca_quant__put_le16(out, arca_fp32_to_fp16(d));
	for (int j = 0; j < ARCA_QK; j++)
		out[2 + j] = (uint8_t)arca_quant__trunc_i32(roundf(x[j] * id));
}

/* Q8_0: d:half, qs:int8[32]; code = roundf(x/d) with d = max|x| / 127. */
void arca_quant__quantize_q8_0(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++)
		arca_quant__quantize_q8_0_block(src + b * ARCA_QK, out + b * sizeof(arca_block_q8_0));
}
