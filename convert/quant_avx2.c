/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/quant_avx2.c — AVX2 + F16C kernels for the conversions that are bound by memory
 * speed: F16/BF16 rows both ways, Q8_0 encoding, and the decoders of Q4_0, Q8_0, Q4_K,
 * Q6_K and IQ4_NL. Each function carries its own target attribute, so this file is built
 * like every other one and only runs where quant_simd.c found the instructions.
 *
 * They give the scalar kernels' results exactly: every float operation is the same IEEE
 * operation on the same operands (products are (d·sc)·q as in dequant.c, never fused);
 * F16C's NaN payloads are replaced by ggml's 0x7E00; roundf is rebuilt from truncation;
 * and a Q8_0 block holding inf or NaN is handed to the scalar code.
 */
#include "convert/quant_internal.h"

#if ARCA_QUANT_X86
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,f16c")))

/* ------------------------------------------------------------------ F16, BF16 */

/* 8 floats to halves, round to nearest even; NaN lanes become sign | 0x7E00 as ggml's. */
AVX2 static inline __m128i to_half8(__m256 v)
{
	__m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m128i mag = _mm_and_si128(h, _mm_set1_epi16(0x7fff));
	__m128i nan = _mm_cmpgt_epi16(mag, _mm_set1_epi16(0x7c00));
	__m128i fixed = _mm_or_si128(_mm_and_si128(h, _mm_set1_epi16((short)0x8000)),
		_mm_set1_epi16(0x7e00));
	return _mm_blendv_epi8(h, fixed, nan);
}

AVX2 void arca_quant__quantize_f16_avx2(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i a = to_half8(_mm256_loadu_ps(src + i));
		__m128i b = to_half8(_mm256_loadu_ps(src + i + 8));
		_mm_storeu_si128((__m128i *)(out + 2 * i), a);
		_mm_storeu_si128((__m128i *)(out + 2 * i + 16), b);
	}
	arca_quant__quantize_f16(src + i, out + 2 * i, n - i);
}

/* 8 floats to bf16 in the low half of each 32-bit lane (formats.md §4 on the bits). */
AVX2 static inline __m256i to_bf16x8(__m256i u)
{
	__m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)),
		_mm256_set1_epi32(0x7f800000));
	__m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
	__m256i r = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7fff)), lsb);
	r = _mm256_srli_epi32(r, 16);
	__m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
	return _mm256_blendv_epi8(r, q, nan);
}

AVX2 void arca_quant__quantize_bf16_avx2(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m256i a = to_bf16x8(_mm256_loadu_si256((const __m256i *)(src + i)));
		__m256i b = to_bf16x8(_mm256_loadu_si256((const __m256i *)(src + i + 8)));
		/* packus interleaves the 128-bit lanes: a0-3 b0-3 | a4-7 b4-7 */
		__m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
		_mm256_storeu_si256((__m256i *)(out + 2 * i), p);
	}
	arca_quant__quantize_bf16(src + i, out + 2 * i, n - i);
}

AVX2 void arca_quant__dequantize_f16_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(p + 2 * i));
		__m128i b = _mm_loadu_si128((const __m128i *)(p + 2 * i + 16));
		_mm256_storeu_ps(dst + i, _mm256_cvtph_ps(a));
		_mm256_storeu_ps(dst + i + 8, _mm256_cvtph_ps(b));
	}
	arca_quant__dequantize_f16(p + 2 * i, dst + i, n - i);
}

AVX2 void arca_quant__dequantize_bf16_avx2(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m256i a = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 2 * i)));
		__m256i b = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 2 * i + 16)));
		_mm256_storeu_si256((__m256i *)(dst + i), _mm256_slli_epi32(a, 16));
		_mm256_storeu_si256((__m256i *)(dst + i + 8), _mm256_slli_epi32(b, 16));
	}
	arca_quant__dequantize_bf16(p + 2 * i, dst + i, n - i);
}

/* ------------------------------------------------------------------ Q8_0 */

/* roundf (half away from zero) of integral-range floats: truncate, then step away from
 * zero when the dropped fraction (exact) is at least one half. */
AVX2 static inline __m256i round_away(__m256 v)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
	__m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));
	__m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
	__m256 step = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));
	return _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_and_ps(up, step)));
}

AVX2 static inline float hmax8(__m256 v)
{
	__m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	m = _mm_max_ps(m, _mm_movehl_ps(m, m));
	m = _mm_max_ss(m, _mm_movehdup_ps(m));
	return _mm_cvtss_f32(m);
}

AVX2 void arca_quant__quantize_q8_0_avx2(const float *src, void *dst, size_t n)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	const __m256i expo = _mm256_set1_epi32(0x7f800000);
	const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += 34) {
		__m256 v[4], amax = _mm256_setzero_ps();
		__m256i special = _mm256_setzero_si256();
		for (int k = 0; k < 4; k++) {
			v[k] = _mm256_loadu_ps(src + 8 * k);
			__m256i e = _mm256_and_si256(_mm256_castps_si256(v[k]), expo);
			special = _mm256_or_si256(special, _mm256_cmpeq_epi32(e, expo));
			amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[k]));
		}
		if (!_mm256_testz_si256(special, special)) {
			/* inf or NaN: the scalar order of comparisons decides amax */
			arca_quant__quantize_q8_0_block(src, out);
			continue;
		}
		float d = hmax8(amax) / 127;
		float id = d ? 1.0f / d : 0.0f;
		arca_quant__put_le16(out, (uint16_t)_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
		__m256 vid = _mm256_set1_ps(id);
		__m256i q[4];
		for (int k = 0; k < 4; k++)
			q[k] = round_away(_mm256_mul_ps(v[k], vid));
		__m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
			_mm256_packs_epi32(q[2], q[3]));
		p = _mm256_permutevar8x32_epi32(p, order);
		_mm256_storeu_si256((__m256i *)(out + 2), p);
	}
}

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
	for (size_t i = 0; i < n / ARCA_QK; i++, b += 34, dst += ARCA_QK) {
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
	for (size_t i = 0; i < n / ARCA_QK; i++, b += 18, dst += ARCA_QK) {
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
	for (size_t i = 0; i < n / ARCA_QK; i++, b += 18, dst += ARCA_QK) {
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
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += 144) {
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
	for (size_t i = 0; i < n / ARCA_QK_K; i++, b += 210, dst += ARCA_QK_K) {
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

#endif
