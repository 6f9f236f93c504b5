/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/quant_k.c — the scalar reference encoders of the K-quants Q2_K, Q3_K, Q4_K, Q5_K
 * and Q6_K (256-element super-blocks), with the three scale searches they are built on:
 * make_qx_quants (Q6_K), make_q3_quants (Q3_K) and make_qkx2_quants (Q2_K, Q4_K, Q5_K).
 * docs/formats.md §5.2-5.3 states each algorithm; this file follows it operation by
 * operation, because the bytes llama-quantize writes depend on the exact float32
 * expression order: every `a*b*c` below is (a*b)*c, sums run in index order, and the file
 * must be compiled without FMA contraction.
 *
 * The packing functions (arca_quant__pack_*) are shared with the SIMD path, which replaces
 * only the searches and the requantization.
 */
#include <math.h>

#include "quant/quant_internal.h"

#define GROUP_MAX_EPS 1e-15f

static int clamp_int(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* ------------------------------------------------------------------ scale searches */

/* The element of largest magnitude (the first of equals), and that magnitude. */
static float signed_absmax(const float *x, int n, float *amax_out)
{
	float max = 0, amax = 0;
	for (int i = 0; i < n; i++) {
		float ax = fabsf(x[i]);
		if (ax > amax) {
			amax = ax;
			max = x[i];
		}
	}
	*amax_out = amax;
	return max;
}

/* Symmetric codes in [-nmax, nmax) with weights x², refined over 18 trial scales; L gets
 * the codes + nmax. Returns the scale (0 for an all-zero group, L all 0). */
static float make_qx_quants(int n, int nmax, const float *x, uint8_t *L)
{
	float amax, max = signed_absmax(x, n, &amax);
	if (amax < GROUP_MAX_EPS) {
		for (int i = 0; i < n; i++)
			L[i] = 0;
		return 0.f;
	}
	float iscale = -nmax / max;
	float sumlx = 0, suml2 = 0;
	for (int i = 0; i < n; i++) {
		int l = clamp_int(arca_quant__nearest_int(iscale * x[i]), -nmax, nmax - 1);
		L[i] = (uint8_t)(l + nmax);
		float w = x[i] * x[i];
		sumlx += w * x[i] * l;
		suml2 += w * l * l;
	}
	float scale = suml2 ? sumlx / suml2 : 0.0f;
	float best = scale * sumlx;
	for (int is = -9; is <= 9; is++) {
		if (is == 0)
			continue;
		iscale = -(nmax + 0.1f * is) / max;
		sumlx = suml2 = 0;
		for (int i = 0; i < n; i++) {
			int l = clamp_int(arca_quant__nearest_int(iscale * x[i]), -nmax, nmax - 1);
			float w = x[i] * x[i];
			sumlx += w * x[i] * l;
			suml2 += w * l * l;
		}
		if (suml2 > 0 && sumlx * sumlx > best * suml2) {
			for (int i = 0; i < n; i++) {
				int l = arca_quant__nearest_int(iscale * x[i]);
				L[i] = (uint8_t)(nmax + clamp_int(l, -nmax, nmax - 1));
			}
			scale = sumlx / suml2;
			best = scale * sumlx;
		}
	}
	return scale;
}

/* Codes in [-nmax, nmax) improved one element at a time (up to 5 passes); n <= 16.
 * codes gets them + nmax, or all 0 for an all-zero group (scale 0). */
static float make_q3_quants(int n, int nmax, const float *x, uint8_t *codes)
{
	float amax, max = signed_absmax(x, n, &amax);
	if (amax < GROUP_MAX_EPS) {
		memset(codes, 0, (size_t)n);
		return 0.f;
	}
	int8_t L[16];
	float iscale = -nmax / max;
	float sumlx = 0, suml2 = 0;
	for (int i = 0; i < n; i++) {
		int l = clamp_int(arca_quant__nearest_int(iscale * x[i]), -nmax, nmax - 1);
		L[i] = (int8_t)l;
		float w = x[i] * x[i];
		sumlx += w * x[i] * l;
		suml2 += w * l * l;
	}
	for (int itry = 0; itry < 5; itry++) {
		int n_changed = 0;
		for (int i = 0; i < n; i++) {
			float w = x[i] * x[i];
			float slx = sumlx - w * x[i] * L[i];
			if (slx > 0) {
				float sl2 = suml2 - w * L[i] * L[i];
				int new_l = arca_quant__nearest_int(x[i] * sl2 / slx);
				new_l = clamp_int(new_l, -nmax, nmax - 1);
				if (new_l != L[i]) {
					slx += w * x[i] * new_l;
					sl2 += w * new_l * new_l;
					if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
						L[i] = (int8_t)new_l;
						sumlx = slx;
						suml2 = sl2;
						n_changed++;
					}
				}
			}
		}
		if (!n_changed)
			break;
	}
	for (int i = 0; i < n; i++)
		codes[i] = (uint8_t)(L[i] + nmax);
	return suml2 > 0 ? sumlx / suml2 : 0.f;
}

/* Asymmetric codes in [0, nmax] with an offset: a first guess from the range, then
 * nstep+1 trial scales, each refined by weighted least squares for scale and min. The
 * error is |diff| (use_mad) or diff². *the_min gets the non-negative offset. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights,
	uint8_t *L, float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep,
	int use_mad)
{
	float min = x[0], max = x[0];
	float sum_w = weights[0], sum_x = sum_w * x[0];
	for (int i = 1; i < n; i++) {
		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
		float w = weights[i];
		sum_w += w;
		sum_x += w * x[i];
	}
	if (min > 0)
		min = 0;
	if (max == min) {
		for (int i = 0; i < n; i++)
			L[i] = 0;
		*the_min = -min;
		return 0.f;
	}
	float iscale = nmax / (max - min);
	float scale = 1 / iscale;
	float best_error = 0;
	for (int i = 0; i < n; i++) {
		int l = arca_quant__nearest_int(iscale * (x[i] - min));
		L[i] = (uint8_t)clamp_int(l, 0, nmax);
		float diff = scale * L[i] + min - x[i];
		diff = use_mad ? fabsf(diff) : diff * diff;
		best_error += weights[i] * diff;
	}
	for (int is = 0; is <= nstep; is++) {
		iscale = (rmin + rdelta * is + nmax) / (max - min);
		float sum_l = 0, sum_l2 = 0, sum_xl = 0;
		for (int i = 0; i < n; i++) {
			int l = clamp_int(arca_quant__nearest_int(iscale * (x[i] - min)), 0, nmax);
			Laux[i] = (uint8_t)l;
			float w = weights[i];
			sum_l += w * l;
			sum_l2 += w * l * l;
			sum_xl += w * l * x[i];
		}
		float D = sum_w * sum_l2 - sum_l * sum_l;
		if (D > 0) {
			float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
			float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
			if (this_min > 0) {
				this_min = 0;
				this_scale = sum_xl / sum_l2;
			}
			float cur_error = 0;
			for (int i = 0; i < n; i++) {
				float diff = this_scale * Laux[i] + this_min - x[i];
				diff = use_mad ? fabsf(diff) : diff * diff;
				cur_error += weights[i] * diff;
			}
			if (cur_error < best_error) {
				memcpy(L, Laux, (size_t)n);
				best_error = cur_error;
				scale = this_scale;
				min = this_min;
			}
		}
	}
	*the_min = -min;
	return scale;
}

/* 2-bit codes: byte 32h+l holds elements 128h+l, +32, +64, +96 (bits 0-1 .. 6-7). */
void arca_quant__pack_2bit(const uint8_t *L, uint8_t *qs)
{
	for (int j = 0; j < ARCA_QK_K; j += 128)
		for (int l = 0; l < 32; l++)
			qs[j / 4 + l] = (uint8_t)(L[j + l] | L[j + l + 32] << 2 | L[j + l + 64] << 4 |
				L[j + l + 96] << 6);
}

/* ------------------------------------------------------------------ Q2_K */

void arca_quant__pack_scales_q2_K(const float *scales, const float *mins, uint8_t *out)
{
	uint8_t *sc = out;
	float max_scale = 0, max_min = 0;
	for (int j = 0; j < 16; j++) {
		if (scales[j] > max_scale)
			max_scale = scales[j];
		if (mins[j] > max_min)
			max_min = mins[j];
	}
	if (max_scale > 0) {
		float iscale = 15.f / max_scale;
		for (int j = 0; j < 16; j++)
			sc[j] = (uint8_t)arca_quant__nearest_int(iscale * scales[j]);
		arca_quant__put_le16(out + 80, arca_fp32_to_fp16(max_scale / 15.f));
	} else {
		memset(sc, 0, 16);
		arca_quant__put_le16(out + 80, arca_fp32_to_fp16(0.f));
	}
	if (max_min > 0) {
		float iscale = 15.f / max_min;
		for (int j = 0; j < 16; j++)
			sc[j] |= (uint8_t)((unsigned)arca_quant__nearest_int(iscale * mins[j]) << 4);
		arca_quant__put_le16(out + 82, arca_fp32_to_fp16(max_min / 15.f));
	} else {
		arca_quant__put_le16(out + 82, arca_fp32_to_fp16(0.f));
	}
}

/* Requantizes each sub-block of 16 with the stored scales and packs the codes. */
static void finish_q2_K(const float *x, uint8_t *L, uint8_t *out)
{
	const uint8_t *sc = out;
	float d = arca_quant__half_at(out + 80), dmin = arca_quant__half_at(out + 82);
	for (int j = 0; j < 16; j++) {
		float dj = d * (sc[j] & 15);
		if (!dj)
			continue; /* L keeps the codes of the search */
		float dm = dmin * (sc[j] >> 4);
		for (int i = 0; i < 16; i++) {
			int l = arca_quant__nearest_int((x[16 * j + i] + dm) / dj);
			L[16 * j + i] = (uint8_t)clamp_int(l, 0, 3);
		}
	}
	arca_quant__pack_2bit(L, out + 16);
}

/* Q2_K: scales[16] (scale | min << 4), qs[64], d, dmin — 84 bytes. */
void arca_quant__quantize_q2_K(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK_K; b++, src += ARCA_QK_K, out += sizeof(arca_block_q2_K)) {
		uint8_t L[ARCA_QK_K], Laux[16];
		float weights[16], scales[16], mins[16];
		for (int j = 0; j < 16; j++) {
			for (int l = 0; l < 16; l++)
				weights[l] = fabsf(src[16 * j + l]);
			scales[j] = make_qkx2_quants(16, 3, src + 16 * j, weights, L + 16 * j, &mins[j],
				Laux, -0.5f, 0.1f, 15, 1);
		}
		arca_quant__pack_scales_q2_K(scales, mins, out);
		finish_q2_K(src, L, out);
	}
}

/* ------------------------------------------------------------------ Q3_K */

/* The 16 sub-block scales as 6-bit values (+32) in 12 bytes, and d. */
void arca_quant__pack_scales_q3_K(const float *scales, uint8_t *out)
{
	uint8_t *sc = out + 96;
	float max_scale = 0, amax = 0;
	for (int j = 0; j < 16; j++) {
		float a = fabsf(scales[j]);
		if (a > amax) {
			amax = a;
			max_scale = scales[j];
		}
	}
	memset(sc, 0, 12);
	if (!max_scale) {
		arca_quant__put_le16(out + 108, arca_fp32_to_fp16(0.f));
		return;
	}
	float iscale = -32.f / max_scale;
	for (int j = 0; j < 16; j++) {
		int8_t l = (int8_t)arca_quant__nearest_int(iscale * scales[j]);
		l = (int8_t)(clamp_int(l, -32, 31) + 32);
		if (j < 8)
			sc[j] = l & 15;
		else
			sc[j - 8] |= (uint8_t)((l & 15) << 4);
		sc[8 + j % 4] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
	}
	arca_quant__put_le16(out + 108, arca_fp32_to_fp16(1 / iscale));
}

int arca_quant__scale_q3_K(const uint8_t *out, int j)
{
	const uint8_t *sc = out + 96;
	int s = j < 8 ? sc[j] & 15 : sc[j - 8] >> 4;
	return (s | ((sc[8 + j % 4] >> (2 * (j / 4))) & 3) << 4) - 32;
}

/* Codes 0..7: bit 2 of element e to bit e/32 of hmask[e%32], bits 0-1 2-bit packed. */
void arca_quant__pack_codes_q3_K(const uint8_t *L, uint8_t *out)
{
	uint8_t *hmask = out, low[ARCA_QK_K];
	memset(hmask, 0, 32);
	for (int j = 0; j < 8; j++)
		for (int m = 0; m < 32; m++) {
			hmask[m] |= (uint8_t)((L[32 * j + m] >> 2) << j);
			low[32 * j + m] = L[32 * j + m] & 3;
		}
	arca_quant__pack_2bit(low, out + 32);
}

/* Q3_K: hmask[32], qs[64], scales[12] (6-bit, +32), d — 110 bytes. */
void arca_quant__quantize_q3_K(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK_K; b++, src += ARCA_QK_K, out += sizeof(arca_block_q3_K)) {
		uint8_t L[ARCA_QK_K];
		float scales[16];
		for (int j = 0; j < 16; j++)
			scales[j] = make_q3_quants(16, 4, src + 16 * j, L + 16 * j);
		arca_quant__pack_scales_q3_K(scales, out);
		float d_all = arca_quant__half_at(out + 108);
		for (int j = 0; j < 16; j++) {
			float d = d_all * arca_quant__scale_q3_K(out, j);
			if (!d)
				continue;
			for (int i = 0; i < 16; i++) {
				int l = arca_quant__nearest_int(src[16 * j + i] / d);
				L[16 * j + i] = (uint8_t)(clamp_int(l, -4, 3) + 4);
			}
		}
		arca_quant__pack_codes_q3_K(L, out);
	}
}

/* ------------------------------------------------------------------ Q4_K, Q5_K */

/* The 8 (scale, min) pairs as 6-bit values in 12 bytes, with d and dmin. */
void arca_quant__pack_scales_k4(const float *scales, const float *mins, uint8_t *out)
{
	uint8_t *s = out + 4;
	float max_scale = 0, max_min = 0;
	for (int j = 0; j < 8; j++) {
		if (scales[j] > max_scale)
			max_scale = scales[j];
		if (mins[j] > max_min)
			max_min = mins[j];
	}
	float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
	float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
	for (int j = 0; j < 8; j++) {
		uint8_t ls = (uint8_t)arca_quant__nearest_int(inv_scale * scales[j]);
		uint8_t lm = (uint8_t)arca_quant__nearest_int(inv_min * mins[j]);
		ls = ls < 63 ? ls : 63;
		lm = lm < 63 ? lm : 63;
		if (j < 4) {
			s[j] = ls;
			s[j + 4] = lm;
		} else {
			s[j + 4] = (uint8_t)((ls & 15) | (lm & 15) << 4);
			s[j - 4] |= (uint8_t)((ls >> 4) << 6);
			s[j] |= (uint8_t)((lm >> 4) << 6);
		}
	}
	arca_quant__put_le16(out, arca_fp32_to_fp16(max_scale / 63.f));
	arca_quant__put_le16(out + 2, arca_fp32_to_fp16(max_min / 63.f));
}

/* Requantizes each sub-block of 32 with the stored (fp16-rounded) scales, codes 0..nmax. */
static void requantize_k4(const float *x, const uint8_t *out, int nmax, uint8_t *L)
{
	float d_all = arca_quant__half_at(out), dmin_all = arca_quant__half_at(out + 2);
	for (int j = 0; j < 8; j++) {
		uint8_t sc, m;
		arca_quant__scale_min_k4(j, out + 4, &sc, &m);
		float d = d_all * sc;
		if (!d)
			continue;
		float dm = dmin_all * m;
		for (int i = 0; i < 32; i++) {
			int l = arca_quant__nearest_int((x[32 * j + i] + dm) / d);
			L[32 * j + i] = (uint8_t)clamp_int(l, 0, nmax);
		}
	}
}

void arca_quant__pack_codes_q4_K(const uint8_t *L, uint8_t *out)
{
	uint8_t *q = out + 16;
	for (int j = 0; j < ARCA_QK_K; j += 64, q += 32)
		for (int l = 0; l < 32; l++)
			q[l] = (uint8_t)(L[j + l] | L[j + l + 32] << 4);
}

void arca_quant__pack_codes_q5_K(const uint8_t *L, uint8_t *out)
{
	/* codes 0..31: bit 4 of element 64c+l goes to bit 2c of qh[l], of 64c+32+l to 2c+1 */
	uint8_t *qh = out + 16, *ql = out + 48;
	memset(qh, 0, 32);
	for (int c = 0; c < 4; c++, ql += 32) {
		const uint8_t *a = L + 64 * c, *b = a + 32;
		for (int l = 0; l < 32; l++) {
			qh[l] |= (uint8_t)((a[l] >> 4) << (2 * c) | (b[l] >> 4) << (2 * c + 1));
			ql[l] = (uint8_t)((a[l] & 15) | (b[l] & 15) << 4);
		}
	}
}

/* Weights of one 32-element sub-block for Q4_K/Q5_K: rms of the group + |x|. */
static void weights_k4(const float *x, float *weights)
{
	float sum_x2 = 0;
	for (int l = 0; l < 32; l++)
		sum_x2 += x[l] * x[l];
	float av_x = sqrtf(sum_x2 / 32);
	for (int l = 0; l < 32; l++)
		weights[l] = av_x + fabsf(x[l]);
}

/* Q4_K and Q5_K differ only in the code range searched and how codes are packed: Q4_K is
 * d, dmin, scales[12], qs[128] (144 bytes); Q5_K adds qh[32] (176 bytes). */
static void quantize_k4(const float *src, uint8_t *out, size_t n, size_t block_bytes,
	int nmax, float rmin, int nstep, void (*pack_codes)(const uint8_t *L, uint8_t *out))
{
	for (size_t b = 0; b < n / ARCA_QK_K; b++, src += ARCA_QK_K, out += block_bytes) {
		uint8_t L[ARCA_QK_K], Laux[32];
		float weights[32], scales[8], mins[8];
		for (int j = 0; j < 8; j++) {
			weights_k4(src + 32 * j, weights);
			scales[j] = make_qkx2_quants(32, nmax, src + 32 * j, weights, L + 32 * j,
				&mins[j], Laux, rmin, 0.1f, nstep, 0);
		}
		arca_quant__pack_scales_k4(scales, mins, out);
		requantize_k4(src, out, nmax, L);
		pack_codes(L, out);
	}
}

void arca_quant__quantize_q4_K(const float *src, void *dst, size_t n)
{
	quantize_k4(src, dst, n, sizeof(arca_block_q4_K), 15, -1.f, 20,
		arca_quant__pack_codes_q4_K);
}

void arca_quant__quantize_q5_K(const float *src, void *dst, size_t n)
{
	quantize_k4(src, dst, n, sizeof(arca_block_q5_K), 31, -0.5f, 15,
		arca_quant__pack_codes_q5_K);
}

/* ------------------------------------------------------------------ Q6_K */

int arca_quant__pack_scales_q6_K(const float *scales, uint8_t *out)
{
	float max_scale = 0, max_abs_scale = 0;
	for (int j = 0; j < 16; j++) {
		float a = fabsf(scales[j]);
		if (a > max_abs_scale) {
			max_abs_scale = a;
			max_scale = scales[j];
		}
	}
	if (max_abs_scale < GROUP_MAX_EPS) {
		memset(out, 0, sizeof(arca_block_q6_K));
		return 0;
	}
	float iscale = -128.f / max_scale;
	arca_quant__put_le16(out + 208, arca_fp32_to_fp16(1 / iscale));
	int8_t *sc = (int8_t *)(out + 192);
	for (int j = 0; j < 16; j++) {
		int l = arca_quant__nearest_int(iscale * scales[j]);
		sc[j] = (int8_t)(l < 127 ? l : 127);
	}
	return 1;
}

void arca_quant__pack_codes_q6_K(const uint8_t *L, uint8_t *out)
{
	uint8_t *ql = out, *qh = out + 128;
	for (int j = 0; j < ARCA_QK_K; j += 128, ql += 64, qh += 32) {
		for (int l = 0; l < 32; l++) {
			int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
			ql[l] = (uint8_t)((q1 & 15) | (q3 & 15) << 4);
			ql[l + 32] = (uint8_t)((q2 & 15) | (q4 & 15) << 4);
			qh[l] = (uint8_t)((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
		}
	}
}

/* Q6_K: ql[128], qh[64], scales:int8[16], d — 210 bytes. */
void arca_quant__quantize_q6_K(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK_K; b++, src += ARCA_QK_K, out += sizeof(arca_block_q6_K)) {
		uint8_t L[ARCA_QK_K];
		float scales[16];
		for (int j = 0; j < 16; j++)
			scales[j] = make_qx_quants(16, 32, src + 16 * j, L + 16 * j);
		if (!arca_quant__pack_scales_q6_K(scales, out))
			continue;
		const int8_t *sc = (const int8_t *)(out + 192);
		float d_all = arca_quant__half_at(out + 208);
		for (int j = 0; j < 16; j++) {
			float d = d_all * sc[j];
			if (!d)
				continue;
			for (int i = 0; i < 16; i++) {
				int l = arca_quant__nearest_int(src[16 * j + i] / d);
				L[16 * j + i] = (uint8_t)(clamp_int(l, -32, 31) + 32);
			}
		}
		arca_quant__pack_codes_q6_K(L, out);
	}
}
