/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/quant_iq4.c — the scalar encoders of IQ4_NL (32-element blocks) and IQ4_XS
 * (256-element super-blocks of 8 × 32): 4-bit indices into a fixed non-linear table of 16
 * values, with one scale per 32 elements found by trying 15 scales (docs/formats.md §5.4).
 *
 * This is the search llama-quantize runs (quantize_iq4_nl / quantize_iq4_xs, 7 trials each
 * side, weights x²), not ggml's quantize_row_iq4_nl_ref, which skips the search and writes
 * different bytes for most blocks.
 */
#include <math.h>

#include "quant/quant_internal.h"

#define GROUP_MAX_EPS 1e-15f
#define NTRY 7

const int8_t arca_quant__kvalues_iq4nl[16] = {
	-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

/* Index of the table value nearest x; a tie goes to the upper value. */
static int best_index(const int8_t *val, float x)
{
	if (x <= val[0])
		return 0;
	if (x >= val[15])
		return 15;
	int ml = 0, mu = 15;
	while (mu - ml > 1) {
		int mav = (ml + mu) / 2;
		if (x < val[mav])
			mu = mav;
		else
			ml = mav;
	}
	return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

/* The weighted least-squares scale of one 32-element group over 15 trial scales; 0 for an
 * all-zero group. */
static float block_scale(const float *x)
{
	const int8_t *K = arca_quant__kvalues_iq4nl;
	float weight[32];
	for (int j = 0; j < 32; j++)
		weight[j] = x[j] * x[j];
	float amax = 0, max = 0;
	for (int j = 0; j < 32; j++) {
		float ax = fabsf(x[j]);
		if (ax > amax) {
			amax = ax;
			max = x[j];
		}
	}
	if (amax < GROUP_MAX_EPS)
		return 0;
	float d = -max / K[0];
	float id = 1 / d;
	float sumqx = 0, sumq2 = 0;
	for (int j = 0; j < 32; j++) {
		float q = K[best_index(K, id * x[j])];
		float w = weight[j];
		sumqx += w * q * x[j];
		sumq2 += w * q * q;
	}
	d = sumq2 > 0 ? sumqx / sumq2 : 0;
	float best = d * sumqx;
	for (int itry = -NTRY; itry <= NTRY; itry++) {
		id = (itry + K[0]) / max;
		sumqx = sumq2 = 0;
		for (int j = 0; j < 32; j++) {
			float q = K[best_index(K, id * x[j])];
			float w = weight[j];
			sumqx += w * q * x[j];
			sumq2 += w * q * q;
		}
		if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
			d = sumqx / sumq2;
			best = d * sumqx;
		}
	}
	return d;
}

/* 32 codes as 16 bytes: low nibble element j, high nibble element j+16. */
static void pack_codes(const float *x, float id, uint8_t *qs)
{
	const int8_t *K = arca_quant__kvalues_iq4nl;
	for (int j = 0; j < 16; j++)
		qs[j] = (uint8_t)(best_index(K, id * x[j]) | best_index(K, id * x[j + 16]) << 4);
}

/* IQ4_NL: d:half, qs[16] — 18 bytes per 32 elements. */
void arca_quant__quantize_iq4_nl(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += sizeof(arca_block_iq4_nl)) {
		float d = block_scale(src);
		arca_quant__put_le16(out, arca_fp32_to_fp16(d));
		pack_codes(src, d ? 1 / d : 0, out + 2);
	}
}

/* IQ4_XS: d:half, scales_h:u16, scales_l[4], qs[128] — 136 bytes per 256 elements. */
void arca_quant__quantize_iq4_xs(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK_K; b++, src += ARCA_QK_K, out += sizeof(arca_block_iq4_xs)) {
		float scales[8], max_scale = 0, amax_scale = 0;
		for (int ib = 0; ib < 8; ib++) {
			scales[ib] = block_scale(src + 32 * ib);
			float a = fabsf(scales[ib]);
			if (a > amax_scale) {
				amax_scale = a;
				max_scale = scales[ib];
			}
		}
		float d = -max_scale / 32;
		float id = d ? 1 / d : 0.f;
		uint16_t scales_h = 0;
		uint8_t *scales_l = out + 4;
		arca_quant__put_le16(out, arca_fp32_to_fp16(d));
		for (int ib = 0; ib < 8; ib++) {
			int l = arca_quant__nearest_int(id * scales[ib]);
			l = l < -32 ? -32 : l > 31 ? 31 : l;
			float dl = d * l;
			pack_codes(src + 32 * ib, dl ? 1 / dl : 0.f, out + 8 + 16 * ib);
			l += 32;
			if (ib % 2 == 0)
				scales_l[ib / 2] = (uint8_t)(l & 15);
			else
				scales_l[ib / 2] |= (uint8_t)((l & 15) << 4);
			scales_h |= (uint16_t)((l >> 4) << (2 * ib));
		}
		arca_quant__put_le16(out + 2, scales_h);
	}
}
