/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/quant_avx512_iq4.c — AVX-512 versions of the IQ4_NL and IQ4_XS encoders that
 * write the same bytes as quant_iq4.c. The scale search of each 32-element group (15 trial
 * scales, a nearest-table-value lookup per element and trial) runs for 16 groups side by
 * side, one per lane, each lane doing the scalar sequence of float32 operations in the
 * scalar order (see quant_avx512_k.c for why that is exact). The nearest-value lookup is
 * the scalar binary search done with four fixed steps of table permutes; a lane that is
 * already down to one bracket stays there, so the result is the scalar one for every
 * input, NaN included. Rows holding inf or NaN go to the scalar code.
 */
#include <math.h>

#include "quant/quant_internal.h"

#if ARCA_QUANT_X86
#include "quant/quant_avx512.h"

/* The IQ4 table as floats, for permutes. */
AVX512 static inline __m512 table16(void)
{
	const int8_t *K = arca_quant__kvalues_iq4nl;
	return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)K)));
}

/* best_index of quant_iq4.c for 16 lanes: 0 when x <= K[0], 15 when x >= K[15], else the
 * nearer of the bracketing table values (ties to the upper). */
AVX512 static inline __m512i best_index16(__m512 x, __m512 K)
{
	__m512i ml = _mm512_setzero_si512(), mu = _mm512_set1_epi32(15);
	for (int step = 0; step < 4; step++) {
		__m512i mav = _mm512_srli_epi32(_mm512_add_epi32(ml, mu), 1);
		__mmask16 lt = _mm512_cmp_ps_mask(x, _mm512_permutexvar_ps(mav, K), _CMP_LT_OQ);
		mu = _mm512_mask_mov_epi32(mu, lt, mav);
		ml = _mm512_mask_mov_epi32(ml, (__mmask16)~lt, mav);
	}
	__m512i below = _mm512_sub_epi32(mu, _mm512_set1_epi32(1));
	__m512 lo = _mm512_permutexvar_ps(below, K), hi = _mm512_permutexvar_ps(mu, K);
	__mmask16 down = _mm512_cmp_ps_mask(_mm512_sub_ps(x, lo), _mm512_sub_ps(hi, x), _CMP_LT_OQ);
	__m512i r = _mm512_mask_mov_epi32(mu, down, below);
	r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(x, _mm512_set1_ps(113.f), _CMP_GE_OQ),
		_mm512_set1_epi32(15));
	return _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-127.f), _CMP_LE_OQ),
		_mm512_setzero_si512());
}

/* Σ w·q·x and Σ w·q² over the 32 rows for inverse scales id, w = x². */
AVX512 static inline void sums16(const float *X, __m512 id, __m512 K, __m512 *sumqx,
	__m512 *sumq2)
{
	__m512 sx = _mm512_setzero_ps(), s2 = _mm512_setzero_ps();
	for (int i = 0; i < 32; i++) {
		__m512 x = _mm512_loadu_ps(X + LANES * i);
		__m512 q = _mm512_permutexvar_ps(best_index16(_mm512_mul_ps(id, x), K), K);
		__m512 wq = _mm512_mul_ps(_mm512_mul_ps(x, x), q);
		sx = _mm512_add_ps(sx, _mm512_mul_ps(wq, x));
		s2 = _mm512_add_ps(s2, _mm512_mul_ps(wq, q));
	}
	*sumqx = sx;
	*sumq2 = s2;
}

/* block_scale of quant_iq4.c for the 16 groups of 32 in X. */
AVX512 static __m512 block_scale16(const float *X)
{
	const __m512 K = table16(), zero = _mm512_setzero_ps();
	__m512 amax, max = signed_absmax16(X, 32, &amax);
	__mmask16 tiny = _mm512_cmp_ps_mask(amax, _mm512_set1_ps(1e-15f), _CMP_LT_OQ);
	__m512 neg_max = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(max),
		_mm512_set1_epi32((int)0x80000000)));
	__m512 d = _mm512_div_ps(neg_max, _mm512_set1_ps(-127.f));
	__m512 sumqx, sumq2;
	sums16(X, _mm512_div_ps(_mm512_set1_ps(1.f), d), K, &sumqx, &sumq2);
	d = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(sumq2, zero, _CMP_GT_OQ), sumqx, sumq2);
	__m512 best = _mm512_mul_ps(d, sumqx);
	for (int itry = -7; itry <= 7; itry++) {
		__m512 id = _mm512_div_ps(_mm512_set1_ps((float)(itry - 127)), max);
		sums16(X, id, K, &sumqx, &sumq2);
		__mmask16 upd = _mm512_cmp_ps_mask(sumq2, zero, _CMP_GT_OQ) &
			_mm512_cmp_ps_mask(_mm512_mul_ps(sumqx, sumqx), _mm512_mul_ps(best, sumq2),
				_CMP_GT_OQ);
		d = _mm512_mask_div_ps(d, upd, sumqx, sumq2);
		best = _mm512_mask_mul_ps(best, upd, d, sumqx);
	}
	return _mm512_mask_mov_ps(d, tiny, zero);
}

/* Codes of the n_groups groups in X with one inverse scale per lane, packed as qs[16]
 * (low nibble element j, high nibble element j+16) at dst[lane]. */
AVX512 static void pack16(const float *X, __m512 id, uint8_t *const *dst, int n_groups)
{
	const __m512 K = table16();
	int32_t codes[32 * LANES];
	for (int i = 0; i < 32; i++)
		_mm512_storeu_si512(codes + LANES * i, best_index16(_mm512_mul_ps(id,
			_mm512_loadu_ps(X + LANES * i)), K));
	for (int g = 0; g < n_groups; g++)
		for (int j = 0; j < 16; j++)
			dst[g][j] = (uint8_t)(codes[LANES * j + g] | codes[LANES * (j + 16) + g] << 4);
}

/* 1/v where v is not zero, else 0 (a NaN counts as not zero, as in C). */
AVX512 static inline __m512 inverse_or_zero(__m512 v)
{
	__mmask16 nz = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
	return _mm512_maskz_div_ps(nz, _mm512_set1_ps(1.f), v);
}

AVX512 void arca_quant__quantize_iq4_nl_avx512(const float *src, void *dst, size_t n)
{
	float X[32 * LANES], d[LANES];
	uint8_t *out = dst;
	size_t nb = n / ARCA_QK;
	for (size_t b = 0; b < nb; b += LANES) {
		int groups = nb - b >= LANES ? LANES : (int)(nb - b);
		const float *x = src + b * ARCA_QK;
		uint8_t *o = out + b * sizeof(arca_block_iq4_nl);
		if (any_special(x, (size_t)groups * ARCA_QK)) {
			arca_quant__quantize_iq4_nl(x, o, (size_t)groups * ARCA_QK);
			continue;
		}
		transpose_in(x, 32, groups, X);
		__m512 scale = block_scale16(X);
		_mm512_storeu_ps(d, scale);
		for (int g = 0; g < groups; g++)
			arca_quant__put_le16(o + sizeof(arca_block_iq4_nl) * g, arca_fp32_to_fp16(d[g]));
		uint8_t *qs[LANES];
		for (int g = 0; g < groups; g++)
			qs[g] = o + sizeof(arca_block_iq4_nl) * g + offsetof(arca_block_iq4_nl, qs);
		pack16(X, inverse_or_zero(scale), qs, groups);
	}
}

AVX512 void arca_quant__quantize_iq4_xs_avx512(const float *src, void *dst, size_t n)
{
	float X[32 * LANES], scales[LANES], idl[LANES];
	uint8_t *out = dst;
	size_t nb = n / ARCA_QK_K;
	for (size_t b = 0; b < nb; b += 2) {
		int pair = nb - b >= 2 ? 2 : 1;
		const float *x = src + b * ARCA_QK_K;
		uint8_t *o = out + b * sizeof(arca_block_iq4_xs);
		if (any_special(x, (size_t)pair * ARCA_QK_K)) {
			arca_quant__quantize_iq4_xs(x, o, (size_t)pair * ARCA_QK_K);
			continue;
		}
		transpose_in(x, 32, 8 * pair, X);
		_mm512_storeu_ps(scales, block_scale16(X));
		for (int s = 0; s < pair; s++) {
			uint8_t *os = o + sizeof(arca_block_iq4_xs) * s;
			const float *sc = scales + 8 * s;
			float max_scale = 0, amax_scale = 0;
			for (int ib = 0; ib < 8; ib++) {
				float a = fabsf(sc[ib]);
				if (a > amax_scale) {
					amax_scale = a;
					max_scale = sc[ib];
				}
			}
			float dd = -max_scale / 32;
			float id = dd ? 1 / dd : 0.f;
			uint16_t scales_h = 0;
			arca_quant__put_le16(os, arca_fp32_to_fp16(dd));
			for (int ib = 0; ib < 8; ib++) {
				int l = arca_quant__nearest_int(id * sc[ib]);
				l = l < -32 ? -32 : l > 31 ? 31 : l;
				float dl = dd * l;
				idl[8 * s + ib] = dl ? 1 / dl : 0.f;
				l += 32;
				if (ib % 2 == 0)
					os[4 + ib / 2] = (uint8_t)(l & 15);
				else
					os[4 + ib / 2] |= (uint8_t)((l & 15) << 4);
				scales_h |= (uint16_t)((l >> 4) << (2 * ib));
			}
			arca_quant__put_le16(os + 2, scales_h);
		}
		uint8_t *qs[LANES];
		for (int g = 0; g < 8 * pair; g++)
			qs[g] = o + sizeof(arca_block_iq4_xs) * (g / 8) + offsetof(arca_block_iq4_xs, qs) + 16 * (g % 8);
		pack16(X, _mm512_loadu_ps(idl), qs, 8 * pair);
	}
}

#endif
