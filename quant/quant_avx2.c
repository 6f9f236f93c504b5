/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/quant_avx2.c — AVX2 + F16C encoders for the types whose reference is element-wise
 * after one scan of the block: F16/BF16 rows (and their decoding), Q8_0, Q4_0, Q4_1, Q5_0
 * and Q5_1. Block decoders are in dequant_avx2.c. Each function carries its own target
 * attribute, so this file is built like every other one and only runs where quant_simd.c
 * found the instructions.
 *
 * They give the scalar kernels' bytes exactly: every float operation is the same IEEE
 * operation on the same operands; F16C's NaN payloads are replaced by ggml's 0x7E00;
 * roundf is rebuilt from truncation; float-to-int conversions use cvtt, which is what the
 * scalar casts mean (arca_quant__trunc_i32); the "first element wins" scans keep their
 * order; and a block holding inf or NaN is handed to the scalar code.
 */
#include "quant/quant_internal.h"

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
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += sizeof(arca_block_q8_0)) {
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
		/* keep the low byte of each int32, as the scalar cast does (even for the
		 * INT32_MIN that inf and NaN convert to when 1/d overflows) */
		for (int k = 0; k < 4; k++)
			q[k] = _mm256_and_si256(q[k], _mm256_set1_epi32(0xff));
		__m256i p = _mm256_packus_epi16(_mm256_packus_epi32(q[0], q[1]),
			_mm256_packus_epi32(q[2], q[3]));
		p = _mm256_permutevar8x32_epi32(p, order);
		_mm256_storeu_si256((__m256i *)(out + 2), p);
	}
}

/* ------------------------------------------------------------------ Q4_0, Q4_1, Q5_0, Q5_1 */

/* A block of 32 floats as four vectors; nonzero when one of them is inf or NaN. */
AVX2 static inline int load_block(const float *x, __m256 v[4])
{
	const __m256i expo = _mm256_set1_epi32(0x7f800000);
	__m256i special = _mm256_setzero_si256();
	for (int k = 0; k < 4; k++) {
		v[k] = _mm256_loadu_ps(x + 8 * k);
		__m256i e = _mm256_and_si256(_mm256_castps_si256(v[k]), expo);
		special = _mm256_or_si256(special, _mm256_cmpeq_epi32(e, expo));
	}
	return !_mm256_testz_si256(special, special);
}

/* The first of the 32 elements equal (==, so ±0 alike) to t, which one of them is. */
AVX2 static inline float first_equal(const float *x, const __m256 v[4], __m256 t)
{
	uint32_t m = 0;
	for (int k = 0; k < 4; k++)
		m |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(v[k], t, _CMP_EQ_OQ)) << (8 * k);
	return x[__builtin_ctz(m)];
}

/* The signed element of largest magnitude, the first one on ties (quant_legacy.c). */
AVX2 static inline float signed_absmax(const float *x, const __m256 v[4])
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	__m256 a[4], amax = _mm256_setzero_ps();
	for (int k = 0; k < 4; k++) {
		a[k] = _mm256_andnot_ps(sign, v[k]);
		amax = _mm256_max_ps(amax, a[k]);
	}
	float m = hmax8(amax);
	if (m == 0)
		return 0.0f; /* the scalar scan never moves off its initial +0 */
	uint32_t hit = 0;
	for (int k = 0; k < 4; k++)
		hit |= (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(a[k], _mm256_set1_ps(m),
			_CMP_EQ_OQ)) << (8 * k);
	return x[__builtin_ctz(hit)];
}

/* The smallest and largest element, each the first of its equals, as the scalar scan. */
AVX2 static inline void min_max(const float *x, const __m256 v[4], float *min, float *max)
{
	__m256 lo = _mm256_min_ps(_mm256_min_ps(v[0], v[1]), _mm256_min_ps(v[2], v[3]));
	__m256 hi = _mm256_max_ps(_mm256_max_ps(v[0], v[1]), _mm256_max_ps(v[2], v[3]));
	__m128 l = _mm_min_ps(_mm256_castps256_ps128(lo), _mm256_extractf128_ps(lo, 1));
	l = _mm_min_ps(l, _mm_movehl_ps(l, l));
	l = _mm_min_ss(l, _mm_movehdup_ps(l));
	*min = first_equal(x, v, _mm256_set1_ps(_mm_cvtss_f32(l)));
	*max = first_equal(x, v, _mm256_set1_ps(hmax8(hi)));
}

/* cvtt((x − off)·id + add) per element, the low byte sign-extended, as the scalar
 * (int8_t) cast of Q4_1/Q5_1. */
AVX2 static inline void codes8(const __m256 v[4], __m256 off, __m256 id, __m256 add,
	__m256i q[4])
{
	for (int k = 0; k < 4; k++) {
		__m256i t = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(v[k], off),
			id), add));
		q[k] = _mm256_srai_epi32(_mm256_slli_epi32(t, 24), 24);
	}
}

/* The same without the offset, for Q4_0 and Q5_0: cvtt(x·id + add). */
AVX2 static inline void codes8_sym(const __m256 v[4], __m256 id, __m256 add, __m256i q[4])
{
	for (int k = 0; k < 4; k++) {
		__m256i t = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_mul_ps(v[k], id), add));
		q[k] = _mm256_srai_epi32(_mm256_slli_epi32(t, 24), 24);
	}
}

/* 16 bytes (lo[j] & 15) | hi[j] << 4 from elements j (q[0], q[1]) and j+16 (q[2], q[3]),
 * as the scalar (uint8_t)(lo | hi << 4) of possibly clamped ints. */
AVX2 static inline void pack_nibbles(const __m256i q[4], int mask_lo, uint8_t *out)
{
	const __m256i byte = _mm256_set1_epi32(0xff), nib = _mm256_set1_epi32(mask_lo ? 15 : -1);
	__m256i b0 = _mm256_and_si256(_mm256_or_si256(_mm256_and_si256(q[0], nib),
		_mm256_slli_epi32(q[2], 4)), byte);
	__m256i b1 = _mm256_and_si256(_mm256_or_si256(_mm256_and_si256(q[1], nib),
		_mm256_slli_epi32(q[3], 4)), byte);
	__m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(b0, b1), 0xd8);
	_mm_storeu_si128((__m128i *)out, _mm_packus_epi16(_mm256_castsi256_si128(p),
		_mm256_extracti128_si256(p, 1)));
}

/* Bit 4 of each element's code, element j at bit j. */
AVX2 static inline uint32_t high_bits(const __m256i q[4])
{
	uint32_t qh = 0;
	for (int k = 0; k < 4; k++)
		qh |= (uint32_t)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(q[k], 27)))
			<< (8 * k);
	return qh;
}

AVX2 static inline void min_code(__m256i q[4], int top)
{
	for (int k = 0; k < 4; k++)
		q[k] = _mm256_min_epi32(q[k], _mm256_set1_epi32(top));
}

AVX2 static inline void put_half(uint8_t *p, float f)
{
	arca_quant__put_le16(p, (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}

AVX2 void arca_quant__quantize_q4_0_avx2(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += sizeof(arca_block_q4_0)) {
		__m256 v[4];
		__m256i q[4];
		if (load_block(src, v)) {
			arca_quant__quantize_q4_0(src, out, ARCA_QK);
			continue;
		}
		float d = signed_absmax(src, v) / -8;
		float id = d ? 1.0f / d : 0.0f;
		put_half(out, d);
		codes8_sym(v, _mm256_set1_ps(id), _mm256_set1_ps(8.5f), q);
		min_code(q, 15);
		pack_nibbles(q, 0, out + 2);
	}
}

AVX2 void arca_quant__quantize_q4_1_avx2(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += sizeof(arca_block_q4_1)) {
		__m256 v[4];
		__m256i q[4];
		float min, max;
		if (load_block(src, v)) {
			arca_quant__quantize_q4_1(src, out, ARCA_QK);
			continue;
		}
		min_max(src, v, &min, &max);
		float d = (max - min) / 15;
		float id = d ? 1.0f / d : 0.0f;
		put_half(out, d);
		put_half(out + 2, min);
		codes8(v, _mm256_set1_ps(min), _mm256_set1_ps(id), _mm256_set1_ps(0.5f), q);
		min_code(q, 15);
		pack_nibbles(q, 0, out + 4);
	}
}

AVX2 void arca_quant__quantize_q5_0_avx2(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += sizeof(arca_block_q5_0)) {
		__m256 v[4];
		__m256i q[4];
		if (load_block(src, v)) {
			arca_quant__quantize_q5_0(src, out, ARCA_QK);
			continue;
		}
		float d = signed_absmax(src, v) / -16;
		float id = d ? 1.0f / d : 0.0f;
		put_half(out, d);
		codes8_sym(v, _mm256_set1_ps(id), _mm256_set1_ps(16.5f), q);
		min_code(q, 31);
		arca_quant__put_le32(out + 2, high_bits(q));
		pack_nibbles(q, 1, out + 6);
	}
}

AVX2 void arca_quant__quantize_q5_1_avx2(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK; b++, src += ARCA_QK, out += sizeof(arca_block_q5_1)) {
		__m256 v[4];
		__m256i q[4];
		float min, max;
		if (load_block(src, v)) {
			arca_quant__quantize_q5_1(src, out, ARCA_QK);
			continue;
		}
		min_max(src, v, &min, &max);
		float d = (max - min) / 31;
		float id = d ? 1.0f / d : 0.0f;
		put_half(out, d);
		put_half(out + 2, min);
		codes8(v, _mm256_set1_ps(min), _mm256_set1_ps(id), _mm256_set1_ps(0.5f), q);
		arca_quant__put_le32(out + 4, high_bits(q));
		pack_nibbles(q, 1, out + 8);
	}
}

#endif
