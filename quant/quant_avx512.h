/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/quant_avx512.h — small AVX-512 helpers the lane-parallel encoders share
 * (quant_avx512_k.c, quant_avx512_iq4.c). Only included on x86-64; every function carries
 * the AVX512 target attribute, so including files need no -march either.
 *
 * The encoders run 16 independent groups side by side, one per lane, in a transposed
 * layout: X[16·i + lane] = element i of the group in that lane.
 */
#ifndef ARCA_QUANT_QUANT_AVX512_H
#define ARCA_QUANT_QUANT_AVX512_H

#include <immintrin.h>

#include "quant/quant_internal.h"

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,f16c")))
#define LANES 16

/* nearest_int of each lane (the 1.5·2^23 trick, as the scalar helper). */
AVX512 static inline __m512i nearest16(__m512 v)
{
	__m512i i = _mm512_castps_si512(_mm512_add_ps(v, _mm512_set1_ps(12582912.f)));
	return _mm512_sub_epi32(_mm512_and_si512(i, _mm512_set1_epi32(0x007fffff)),
		_mm512_set1_epi32(0x00400000));
}

AVX512 static inline __m512i clamp16(__m512i v, int lo, int hi)
{
	return _mm512_max_epi32(_mm512_min_epi32(v, _mm512_set1_epi32(hi)), _mm512_set1_epi32(lo));
}

AVX512 static inline __m512 abs16(__m512 v)
{
	return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v),
		_mm512_set1_epi32(0x7fffffff)));
}

/* Whether any of n floats (n a multiple of 16) is inf or NaN. */
AVX512 static inline int any_special(const float *x, size_t n)
{
	const __m512i expo = _mm512_set1_epi32(0x7f800000);
	__mmask16 m = 0;
	for (size_t i = 0; i < n; i += 16) {
		__m512i e = _mm512_and_si512(_mm512_loadu_si512(x + i), expo);
		m |= _mm512_cmpeq_epi32_mask(e, expo);
	}
	return m != 0;
}

/* Groups of `len` floats, one every `len` elements from src (n_groups of them; the other
 * lanes get zeros), into X[16·i + lane]. */
AVX512 static inline void transpose_in(const float *src, int len, int n_groups, float *X)
{
	__m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
		12, 13, 14, 15), _mm512_set1_epi32(len));
	__mmask16 live = (__mmask16)((1u << n_groups) - 1);
	for (int i = 0; i < len; i++)
		_mm512_storeu_ps(X + LANES * i, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live,
			idx, src + i, 4));
}

/* The codes of lane `lane` of a transposed int32 array, as len bytes. */
static inline void transpose_out(const int32_t *L, int lane, int len, uint8_t *out)
{
	for (int i = 0; i < len; i++)
		out[i] = (uint8_t)L[LANES * i + lane];
}

/* The signed value of largest magnitude per lane over n rows (the first wins ties), and
 * its magnitude. */
AVX512 static inline __m512 signed_absmax16(const float *X, int n, __m512 *amax_out)
{
	__m512 amax = _mm512_setzero_ps(), max = _mm512_setzero_ps();
	for (int i = 0; i < n; i++) {
		__m512 x = _mm512_loadu_ps(X + LANES * i), ax = abs16(x);
		__mmask16 m = _mm512_cmp_ps_mask(ax, amax, _CMP_GT_OQ);
		amax = _mm512_mask_mov_ps(amax, m, ax);
		max = _mm512_mask_mov_ps(max, m, x);
	}
	*amax_out = amax;
	return max;
}

#endif
