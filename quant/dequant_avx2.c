/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/dequant_avx2.c — AVX2 + F16C decoders of every block type (F16/BF16 rows are in
 * quant_avx2.c). Each gives dequant.c's floats bit for bit: the codes are unpacked with
 * integer byte operations, and the float work is the same IEEE operations on the same
 * operands, in the same order ((d·sc)·q, then − dmin·m; never fused). Each function carries
 * its own target attribute and runs only where quant_simd.c found the instructions.
 */
#include "quant/quant_internal.h"

#if ARCA_QUANT_X86
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,f16c")))

/* ------------------------------------------------------------------ block decoders */

AVX2 static inline float half_at(const uint8_t *p)
{
	return _cvtsh_ss(arca_quant__get_le16(p));
}

/* 8 signed bytes to 8 floats times d. */
AVX2 static inline __m256 scale8(__m128i bytes, __m256 d)
{
	return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes)), d);
}

AVX2 void arca_quant__dequantize_q8_0_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_q8_0), dst += ARCA_QK) {
		__m256 d = _mm256_set1_ps(half_at(b));
		__m128i lo = _mm_loadu_si128((const __m128i *)(b + 2));
		__m128i hi = _mm_loadu_si128((const __m128i *)(b + 18));
		_mm256_storeu_ps(dst, scale8(lo, d));
		_mm256_storeu_ps(dst + 8, scale8(_mm_srli_si128(lo, 8), d));
		_mm256_storeu_ps(dst + 16, scale8(hi, d));
		_mm256_storeu_ps(dst + 24, scale8(_mm_srli_si128(hi, 8), d));
	}
}

AVX2 void arca_quant__dequantize_q4_0_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	const __m128i low = _mm_set1_epi8(15), eight = _mm_set1_epi8(8);
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_q4_0), dst += ARCA_QK) {
		__m256 d = _mm256_set1_ps(half_at(b));
		__m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
		__m128i lo = _mm_sub_epi8(_mm_and_si128(q, low), eight);
		__m128i hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), low), eight);
		_mm256_storeu_ps(dst, scale8(lo, d));
		_mm256_storeu_ps(dst + 8, scale8(_mm_srli_si128(lo, 8), d));
		_mm256_storeu_ps(dst + 16, scale8(hi, d));
		_mm256_storeu_ps(dst + 24, scale8(_mm_srli_si128(hi, 8), d));
	}
}

AVX2 void arca_quant__dequantize_iq4_nl_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	const __m128i low = _mm_set1_epi8(15);
	const __m128i table = _mm_loadu_si128((const __m128i *)arca_quant__kvalues_iq4nl);
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_iq4_nl), dst += ARCA_QK) {
		__m256 d = _mm256_set1_ps(half_at(b));
		__m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
		__m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(q, low));
		__m128i hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), low));
		/* d·K[q], the scalar order (d first) gives the same product */
		_mm256_storeu_ps(dst, scale8(lo, d));
		_mm256_storeu_ps(dst + 8, scale8(_mm_srli_si128(lo, 8), d));
		_mm256_storeu_ps(dst + 16, scale8(hi, d));
		_mm256_storeu_ps(dst + 24, scale8(_mm_srli_si128(hi, 8), d));
	}
}

/* d1·q − m1 for 32 codes (unsigned bytes), product first, never fused. */
AVX2 static inline void affine32(__m256i codes, float d1, float m1, float *y)
{
	__m256 d = _mm256_set1_ps(d1), m = _mm256_set1_ps(m1);
	__m128i lo = _mm256_castsi256_si128(codes), hi = _mm256_extracti128_si256(codes, 1);
	__m128i parts[4] = { lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8) };
	for (int k = 0; k < 4; k++) {
		__m256 q = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k]));
		_mm256_storeu_ps(y + 8 * k, _mm256_sub_ps(_mm256_mul_ps(d, q), m));
	}
}

AVX2 void arca_quant__dequantize_q4_K_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	const __m256i low = _mm256_set1_epi8(15);
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += sizeof(arca_block_q4_K)) {
		float d = half_at(b), dmin = half_at(b + 2);
		for (int c = 0; c < 4; c++, dst += 64) {
			uint8_t sc, m;
			__m256i q = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * c));
			arca_quant__scale_min_k4(2 * c, b + 4, &sc, &m);
			affine32(_mm256_and_si256(q, low), d * sc, dmin * m, dst);
			arca_quant__scale_min_k4(2 * c + 1, b + 4, &sc, &m);
			affine32(_mm256_and_si256(_mm256_srli_epi16(q, 4), low), d * sc, dmin * m,
				dst + 32);
		}
	}
}

/* (d·sc)·q for 16 signed codes (bytes) sharing one scale. */
AVX2 static inline void scaled16(__m128i codes, float ds, float *y)
{
	__m256 s = _mm256_set1_ps(ds);
	_mm256_storeu_ps(y, _mm256_mul_ps(s, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(codes))));
	_mm256_storeu_ps(y + 8, _mm256_mul_ps(s,
		_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(codes, 8)))));
}

AVX2 void arca_quant__dequantize_q6_K_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	const __m256i low = _mm256_set1_epi8(15), three = _mm256_set1_epi8(3);
	const __m256i bias = _mm256_set1_epi8(32);
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += sizeof(arca_block_q6_K), dst += ARCA_QK_K) {
		float d = half_at(b + 208);
		const int8_t *sc = (const int8_t *)(b + 192);
		for (int h = 0; h < 2; h++) {
			__m256i l0 = _mm256_loadu_si256((const __m256i *)(b + 64 * h));
			__m256i l1 = _mm256_loadu_si256((const __m256i *)(b + 64 * h + 32));
			__m256i qh = _mm256_loadu_si256((const __m256i *)(b + 128 + 32 * h));
			/* the four 32-element quarters of this half, codes − 32 as signed bytes */
			__m256i q[4];
			q[0] = _mm256_or_si256(_mm256_and_si256(l0, low),
				_mm256_slli_epi16(_mm256_and_si256(qh, three), 4));
			q[1] = _mm256_or_si256(_mm256_and_si256(l1, low),
				_mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), three), 4));
			q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low),
				_mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), three), 4));
			q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low),
				_mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), three), 4));
			for (int k = 0; k < 4; k++) {
				__m256i v = _mm256_sub_epi8(q[k], bias);
				float *y = dst + 128 * h + 32 * k;
				const int8_t *s = sc + 8 * h + 2 * k;
				scaled16(_mm256_castsi256_si128(v), d * (float)s[0], y);
				scaled16(_mm256_extracti128_si256(v, 1), d * (float)s[1], y + 16);
			}
		}
	}
}

/* ------------------------------------------------------------------ more decoders */

/* 8 unsigned bytes to floats, times d, plus m (product first, as q·d + m in dequant.c). */
AVX2 static inline __m256 affine8(__m128i bytes, __m256 d, __m256 m)
{
	return _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)), d), m);
}

AVX2 void arca_quant__dequantize_q4_1_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	const __m128i low = _mm_set1_epi8(15);
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_q4_1), dst += ARCA_QK) {
		__m256 d = _mm256_set1_ps(half_at(b)), m = _mm256_set1_ps(half_at(b + 2));
		__m128i q = _mm_loadu_si128((const __m128i *)(b + 4));
		__m128i lo = _mm_and_si128(q, low), hi = _mm_and_si128(_mm_srli_epi16(q, 4), low);
		_mm256_storeu_ps(dst, affine8(lo, d, m));
		_mm256_storeu_ps(dst + 8, affine8(_mm_srli_si128(lo, 8), d, m));
		_mm256_storeu_ps(dst + 16, affine8(hi, d, m));
		_mm256_storeu_ps(dst + 24, affine8(_mm_srli_si128(hi, 8), d, m));
	}
}

/* The 5-bit codes of a Q5_0/Q5_1 block: 32 bytes, nibbles from qs, bit 4 from qh. */
AVX2 static inline __m256i codes5(const uint8_t *qs, uint32_t qh)
{
	const __m128i low = _mm_set1_epi8(15);
	__m128i q = _mm_loadu_si128((const __m128i *)qs);
	__m256i nib = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), low),
		_mm_and_si128(q, low));
	/* byte j of the result gets bit j of qh: spread qh's bytes, then test one bit each */
	const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
		2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
	const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
	__m256i h = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread);
	h = _mm256_cmpeq_epi8(_mm256_and_si256(h, bit), bit);
	return _mm256_or_si256(nib, _mm256_and_si256(h, _mm256_set1_epi8(16)));
}

AVX2 void arca_quant__dequantize_q5_0_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_q5_0), dst += ARCA_QK) {
		__m256 d = _mm256_set1_ps(half_at(b));
		__m256i q = _mm256_sub_epi8(codes5(b + 6, arca_quant__get_le32(b + 2)),
			_mm256_set1_epi8(16));
		__m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
		_mm256_storeu_ps(dst, scale8(lo, d));
		_mm256_storeu_ps(dst + 8, scale8(_mm_srli_si128(lo, 8), d));
		_mm256_storeu_ps(dst + 16, scale8(hi, d));
		_mm256_storeu_ps(dst + 24, scale8(_mm_srli_si128(hi, 8), d));
	}
}

AVX2 void arca_quant__dequantize_q5_1_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	for (size_t i = 0; i < n / ARCA_QK; i++, b += sizeof(arca_block_q5_1), dst += ARCA_QK) {
		__m256 d = _mm256_set1_ps(half_at(b)), m = _mm256_set1_ps(half_at(b + 2));
		__m256i q = codes5(b + 8, arca_quant__get_le32(b + 4));
		__m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
		_mm256_storeu_ps(dst, affine8(lo, d, m));
		_mm256_storeu_ps(dst + 8, affine8(_mm_srli_si128(lo, 8), d, m));
		_mm256_storeu_ps(dst + 16, affine8(hi, d, m));
		_mm256_storeu_ps(dst + 24, affine8(_mm_srli_si128(hi, 8), d, m));
	}
}

/* dl·q − ml for 16 unsigned codes (bytes), product first. */
AVX2 static inline void affine16(__m128i codes, float dl, float ml, float *y)
{
	__m256 d = _mm256_set1_ps(dl), m = _mm256_set1_ps(ml);
	__m256 q0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(codes));
	__m256 q1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(codes, 8)));
	_mm256_storeu_ps(y, _mm256_sub_ps(_mm256_mul_ps(d, q0), m));
	_mm256_storeu_ps(y + 8, _mm256_sub_ps(_mm256_mul_ps(d, q1), m));
}

AVX2 void arca_quant__dequantize_q2_K_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	const __m256i three = _mm256_set1_epi8(3);
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += sizeof(arca_block_q2_K)) {
		float d = half_at(b + 80), dmin = half_at(b + 82);
		for (int h = 0; h < 2; h++) {
			__m256i q = _mm256_loadu_si256((const __m256i *)(b + 16 + 32 * h));
			for (int s = 0; s < 4; s++, dst += 32) {
				__m256i c = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), three);
				uint8_t sc0 = b[8 * h + 2 * s], sc1 = b[8 * h + 2 * s + 1];
				affine16(_mm256_castsi256_si128(c), d * (sc0 & 15), dmin * (sc0 >> 4), dst);
				affine16(_mm256_extracti128_si256(c, 1), d * (sc1 & 15), dmin * (sc1 >> 4),
					dst + 16);
			}
		}
	}
}

AVX2 void arca_quant__dequantize_q3_K_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	const __m256i three = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += sizeof(arca_block_q3_K)) {
		float d_all = half_at(b + 108);
		__m256i hm = _mm256_loadu_si256((const __m256i *)b);
		for (int h = 0; h < 2; h++) {
			__m256i q = _mm256_loadu_si256((const __m256i *)(b + 32 + 32 * h));
			for (int s = 0; s < 4; s++, dst += 32) {
				int k = 4 * h + s; /* element e = 32k + l: high bit k of hmask[l] */
				__m256i lo = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), three);
				__m256i hb = _mm256_and_si256(_mm256_srli_epi16(hm, k), one);
				/* (q & 3) − (high bit ? 0 : 4) */
				__m256i v = _mm256_sub_epi8(lo, _mm256_slli_epi16(_mm256_xor_si256(hb, one), 2));
				int j = 2 * k;
				scaled16(_mm256_castsi256_si128(v),
					d_all * (float)(arca_quant__scale_q3_K(b, j)), dst);
				scaled16(_mm256_extracti128_si256(v, 1),
					d_all * (float)(arca_quant__scale_q3_K(b, j + 1)), dst + 16);
			}
		}
	}
}

AVX2 void arca_quant__dequantize_q5_K_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	const __m256i low = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += sizeof(arca_block_q5_K)) {
		float d = half_at(b), dmin = half_at(b + 2);
		__m256i qh = _mm256_loadu_si256((const __m256i *)(b + 16));
		for (int c = 0; c < 4; c++, dst += 64) {
			uint8_t sc, m;
			__m256i q = _mm256_loadu_si256((const __m256i *)(b + 48 + 32 * c));
			__m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), one);
			__m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), one);
			__m256i lo = _mm256_or_si256(_mm256_and_si256(q, low), _mm256_slli_epi16(h0, 4));
			__m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low),
				_mm256_slli_epi16(h1, 4));
			arca_quant__scale_min_k4(2 * c, b + 4, &sc, &m);
			affine32(lo, d * sc, dmin * m, dst);
			arca_quant__scale_min_k4(2 * c + 1, b + 4, &sc, &m);
			affine32(hi, d * sc, dmin * m, dst + 32);
		}
	}
}

AVX2 void arca_quant__dequantize_iq4_xs_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	const __m128i low = _mm_set1_epi8(15);
	const __m128i table = _mm_loadu_si128((const __m128i *)arca_quant__kvalues_iq4nl);
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += sizeof(arca_block_iq4_xs)) {
		float d = half_at(b);
		uint16_t scales_h = arca_quant__get_le16(b + 2);
		for (int ib = 0; ib < 8; ib++, dst += 32) {
			int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 15) | ((scales_h >> (2 * ib)) & 3) << 4;
			__m256 dl = _mm256_set1_ps(d * (float)(ls - 32));
			__m128i q = _mm_loadu_si128((const __m128i *)(b + 8 + 16 * ib));
			__m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(q, low));
			__m128i hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(q, 4), low));
			_mm256_storeu_ps(dst, scale8(lo, dl));
			_mm256_storeu_ps(dst + 8, scale8(_mm_srli_si128(lo, 8), dl));
			_mm256_storeu_ps(dst + 16, scale8(hi, dl));
			_mm256_storeu_ps(dst + 24, scale8(_mm_srli_si128(hi, 8), dl));
		}
	}
}

#endif
