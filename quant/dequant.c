/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/dequant.c — the scalar reference decoders of every type arca reads: ggml's
 * to_float, value for value. The block layouts are docs/formats.md §3; the float
 * expressions keep ggml's order ((d·sc)·q − dmin·m, never fused), because the decoded
 * floats are compared bit for bit.
 */
#include "quant/quant_internal.h"

void arca_quant__dequantize_f32(const void *src, float *dst, size_t n)
{
	memcpy(dst, src, n * sizeof(float));
}

void arca_quant__dequantize_f16(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	for (size_t i = 0; i < n; i++)
		dst[i] = arca_fp16_to_fp32(arca_quant__get_le16(p + 2 * i));
}

void arca_quant__dequantize_bf16(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	for (size_t i = 0; i < n; i++)
		dst[i] = arca_bf16_to_fp32(arca_quant__get_le16(p + 2 * i));
}

/* ------------------------------------------------------------------ legacy blocks */

void arca_quant__dequantize_q4_0(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_q4_0), dst += ARCA_QK) {
		float d = arca_quant__half_at(b);
		for (int j = 0; j < 16; j++) {
			dst[j] = (float)((b[2 + j] & 15) - 8) * d;
			dst[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
		}
	}
}

void arca_quant__dequantize_q4_1(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_q4_1), dst += ARCA_QK) {
		float d = arca_quant__half_at(b), m = arca_quant__half_at(b + 2);
		for (int j = 0; j < 16; j++) {
			dst[j] = (float)(b[4 + j] & 15) * d + m;
			dst[j + 16] = (float)(b[4 + j] >> 4) * d + m;
		}
	}
}

void arca_quant__dequantize_q5_0(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_q5_0), dst += ARCA_QK) {
		float d = arca_quant__half_at(b);
		uint32_t qh = arca_quant__get_le32(b + 2);
		for (int j = 0; j < 16; j++) {
			int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + 16)) & 1) << 4;
			dst[j] = (float)(((b[6 + j] & 15) | h0) - 16) * d;
			dst[j + 16] = (float)(((b[6 + j] >> 4) | h1) - 16) * d;
		}
	}
}

void arca_quant__dequantize_q5_1(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_q5_1), dst += ARCA_QK) {
		float d = arca_quant__half_at(b), m = arca_quant__half_at(b + 2);
		uint32_t qh = arca_quant__get_le32(b + 4);
		for (int j = 0; j < 16; j++) {
			int h0 = (int)((qh >> j) & 1) << 4, h1 = (int)((qh >> (j + 16)) & 1) << 4;
			dst[j] = (float)((b[8 + j] & 15) | h0) * d + m;
			dst[j + 16] = (float)((b[8 + j] >> 4) | h1) * d + m;
		}
	}
}

void arca_quant__dequantize_q8_0(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_q8_0), dst += ARCA_QK) {
		float d = arca_quant__half_at(b);
		for (int j = 0; j < 32; j++)
			dst[j] = (float)(int8_t)b[2 + j] * d;
	}
}

/* ------------------------------------------------------------------ K-quants */

void arca_quant__dequantize_q2_K(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += sizeof(arca_block_q2_K)) {
		const uint8_t *sc = b, *q = b + 16;
		float d = arca_quant__half_at(b + 80), dmin = arca_quant__half_at(b + 82);
		for (int e = 0; e < ARCA_QK_K; e++) {
			int h = e / 128, shift = 2 * ((e % 128) / 32), l = e % 32;
			float dl = d * (sc[e / 16] & 15), ml = dmin * (sc[e / 16] >> 4);
			*dst++ = dl * (float)((q[32 * h + l] >> shift) & 3) - ml;
		}
	}
}

void arca_quant__dequantize_q3_K(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += sizeof(arca_block_q3_K)) {
		const uint8_t *hmask = b, *q = b + 32, *s = b + 96;
		float d_all = arca_quant__half_at(b + 108);
		for (int e = 0; e < ARCA_QK_K; e++) {
			int j = e / 16;
			int sc = j < 8 ? s[j] & 15 : s[j - 8] >> 4;
			sc |= ((s[8 + j % 4] >> (2 * (j / 4))) & 3) << 4;
			int h = e / 128, shift = 2 * ((e % 128) / 32), l = e % 32;
			int v = ((q[32 * h + l] >> shift) & 3) - ((hmask[e % 32] >> (e / 32)) & 1 ? 0 : 4);
			*dst++ = (d_all * (float)(sc - 32)) * (float)v;
		}
	}
}

/* Q4_K and Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins; Q5_K adds each element's
 * fifth bit from qh (32 bytes after the scales, the codes after that). */
static void dequantize_k4(const uint8_t *b, float *dst, size_t n, size_t block_bytes,
	int fifth_bit)
{
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += block_bytes) {
		float d = arca_quant__half_at(b), dmin = arca_quant__half_at(b + 2);
		const uint8_t *qh = b + 16, *q = b + (fifth_bit ? 48 : 16);
		for (int c = 0; c < 4; c++, q += 32) {
			uint8_t sc, m;
			arca_quant__scale_min_k4(2 * c, b + 4, &sc, &m);
			float d1 = d * sc, m1 = dmin * m;
			arca_quant__scale_min_k4(2 * c + 1, b + 4, &sc, &m);
			float d2 = d * sc, m2 = dmin * m;
			int lo = 2 * c, hi = 2 * c + 1;
			for (int l = 0; l < 32; l++)
				*dst++ = d1 * (float)((q[l] & 15) +
					(fifth_bit && (qh[l] >> lo) & 1 ? 16 : 0)) - m1;
			for (int l = 0; l < 32; l++)
				*dst++ = d2 * (float)((q[l] >> 4) +
					(fifth_bit && (qh[l] >> hi) & 1 ? 16 : 0)) - m2;
		}
	}
}

void arca_quant__dequantize_q4_K(const void *src, float *dst, size_t n)
{
	dequantize_k4(src, dst, n, sizeof(arca_block_q4_K), 0);
}

void arca_quant__dequantize_q5_K(const void *src, float *dst, size_t n)
{
	dequantize_k4(src, dst, n, sizeof(arca_block_q5_K), 1);
}

void arca_quant__dequantize_q6_K(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += sizeof(arca_block_q6_K), dst += ARCA_QK_K) {
		float d = arca_quant__half_at(b + 208);
		const int8_t *sc = (const int8_t *)(b + 192);
		for (int h = 0; h < 2; h++) {
			const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
			float *y = dst + 128 * h;
			for (int l = 0; l < 32; l++) {
				int q1 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
				int q2 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
				int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
				int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
				const int8_t *s = sc + 8 * h + l / 16;
				y[l] = d * (float)s[0] * (float)q1;
				y[l + 32] = d * (float)s[2] * (float)q2;
				y[l + 64] = d * (float)s[4] * (float)q3;
				y[l + 96] = d * (float)s[6] * (float)q4;
			}
		}
	}
}

/* ------------------------------------------------------------------ IQ4 */

void arca_quant__dequantize_iq4_nl(const void *src, float *dst, size_t n)
{
	const int8_t *K = arca_quant__kvalues_iq4nl;
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_iq4_nl), dst += ARCA_QK) {
		float d = arca_quant__half_at(b);
		for (int j = 0; j < 16; j++) {
			dst[j] = d * (float)K[b[2 + j] & 15];
			dst[j + 16] = d * (float)K[b[2 + j] >> 4];
		}
	}
}

void arca_quant__dequantize_iq4_xs(const void *src, float *dst, size_t n)
{
	const int8_t *K = arca_quant__kvalues_iq4nl;
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += sizeof(arca_block_iq4_xs)) {
		float d = arca_quant__half_at(b);
		uint16_t scales_h = arca_quant__get_le16(b + 2);
		const uint8_t *scales_l = b + 4, *qs = b + 8;
		for (int ib = 0; ib < 8; ib++, qs += 16, dst += 32) {
			int ls = ((scales_l[ib / 2] >> (4 * (ib % 2))) & 15) |
				((scales_h >> (2 * ib)) & 3) << 4;
			float dl = d * (float)(ls - 32);
			for (int j = 0; j < 16; j++) {
				dst[j] = dl * (float)K[qs[j] & 15];
				dst[j + 16] = dl * (float)K[qs[j] >> 4];
			}
		}
	}
}
