/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/fp16.c — scalar IEEE half (fp16) and bfloat16 conversions, the rules of
 * docs/formats.md §4 written out on the bits so no compiler flag or FPU mode changes them:
 *
 *   fp32 -> fp16   round to nearest even; overflow -> ±inf; fp16 subnormals kept;
 *                  NaN -> 0x7E00 with the sign (ggml's portable converter, not F16C, whose
 *                  NaNs keep their payload)
 *   fp16 -> fp32   exact; a NaN keeps its payload with the quiet bit set
 *   fp32 -> bf16   round to nearest even; a NaN keeps its top bits and is made quiet
 *   bf16 -> fp32   the 16 bits on top of a zero mantissa tail
 */
#include "quant/quant_internal.h"

uint16_t arca_fp32_to_fp16(float f)
{
	uint32_t u = arca_quant__f32_bits(f);
	uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
	uint32_t a = u & 0x7fffffff;
	if (a > 0x7f800000)
		return sign | 0x7e00;
	/* 65520 = 65504 + half an ulp: the tie goes to the even neighbour, which is inf */
	if (a >= 0x477ff000)
		return sign | 0x7c00;
	if (a >= 0x38800000) { /* 2^-14 and up: a normal half */
		uint32_t r = a - ((uint32_t)(127 - 15) << 23);
		r += 0xfff + ((r >> 13) & 1);
		return sign | (uint16_t)(r >> 13);
	}
	/* below 2^-14: a subnormal half, in units of 2^-24 */
	uint32_t e = a >> 23;
	if (e < 102) /* below 2^-25: rounds to zero (2^-25 itself is a tie, to even 0) */
		return sign;
	uint32_t m = (a & 0x7fffff) | 0x800000;
	uint32_t shift = 126 - e; /* 14 .. 24 */
	uint32_t q = m >> shift, rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
	if (rest > half || (rest == half && (q & 1)))
		q++;
	return sign | (uint16_t)q;
}

float arca_fp16_to_fp32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t e = (h >> 10) & 31, m = h & 0x3ff;
	if (e == 0) {
		/* zero or subnormal: m · 2^-24, exact in float */
		float v = (float)m * 0x1p-24f;
		return arca_quant__f32_from_bits(sign | arca_quant__f32_bits(v));
	}
	if (e == 31)
		return arca_quant__f32_from_bits(sign | 0x7f800000 | (m << 13) | (m ? 0x400000 : 0));
	return arca_quant__f32_from_bits(sign | ((e + 127 - 15) << 23) | (m << 13));
}

uint16_t arca_fp32_to_bf16(float f)
{
	uint32_t u = arca_quant__f32_bits(f);
	if ((u & 0x7fffffff) > 0x7f800000)
		return (uint16_t)((u >> 16) | 0x40);
	return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

float arca_bf16_to_fp32(uint16_t h)
{
	return arca_quant__f32_from_bits((uint32_t)h << 16);
}
