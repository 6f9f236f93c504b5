/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/attn_avx2.c — one query against one decoded tile of a narrow KV cache
 * (kv_attend.c's step 1) in AVX2 with FMA: attn_avx512.c's steps on 256-bit vectors (the
 * 64 scores in eight registers, lanes past the tile's keys masked by comparison, the same
 * exponential with 2^n built in the exponent bits, values 32 channels at a time). Chosen
 * at the AVX2 level, where the portable form vectorizes poorly. Also the tile's keys decoded
 * and transposed 8 positions × 8 channels at a time in registers (attn_avx512.c's, narrower).
 */
#include <string.h>

#include "arca/quant.h"
#include "runtime/kernels_internal.h"

#if ARCA_RT_X86
#include <immintrin.h>

#define ATARGET __attribute__((target("avx2,fma,f16c")))

/* All-ones in the lanes i < n of 8 (n may be negative or past 8). */
ATARGET static inline __m256 first_lanes(long n)
{
	const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	n = n < 0 ? 0 : n > 8 ? 8 : n;
	return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), iota));
}

/* e^x for x <= 0, as attn_avx512.c's exp_neg16. */
ATARGET static inline __m256 exp_neg8(__m256 x)
{
	x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
	__m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
		_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145752f), x);
	r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860677e-06f), r);
	__m256 p = _mm256_set1_ps(1.98412698e-4f);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.38888889e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.33333333e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.16666667e-2f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.66666667e-1f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
	__m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n),
		_mm256_set1_epi32(127)), 23);
	return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

ATARGET static inline float hsum8(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

ATARGET static inline float hmax8(__m256 v)
{
	__m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_max_ps(s, _mm_movehl_ps(s, s));
	return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

ATARGET static void kv_tile(const float *q, const float *kt, const float *vt, size_t hd,
	size_t hv, size_t nv, float scale, float *p, float *o, float *m_out, float *l_out)
{
	__m256 s[8];
	#pragma GCC unroll 8
	for (int k = 0; k < 8; k++)
		s[k] = _mm256_setzero_ps();
	for (size_t d = 0; d < hd; d++) {
		__m256 qd = _mm256_set1_ps(q[d]);
		#pragma GCC unroll 8
		for (int k = 0; k < 8; k++)
			s[k] = _mm256_fmadd_ps(qd, _mm256_loadu_ps(kt + d * 64 + 8 * k), s[k]);
	}
	const __m256 ninf = _mm256_set1_ps(-__builtin_inff());
	__m256 mk[8], mx = ninf;
	#pragma GCC unroll 8
	for (int k = 0; k < 8; k++) {
		mk[k] = first_lanes((long)nv - 8 * k);
		s[k] = _mm256_mul_ps(s[k], _mm256_set1_ps(scale));
		mx = _mm256_max_ps(mx, _mm256_blendv_ps(ninf, s[k], mk[k]));
	}
	float m = hmax8(mx);
	__m256 mv = _mm256_set1_ps(m);
	#pragma GCC unroll 8
	for (int k = 0; k < 8; k++) {
		s[k] = _mm256_and_ps(mk[k], exp_neg8(_mm256_sub_ps(s[k], mv)));
		_mm256_storeu_ps(p + 8 * k, s[k]);
	}
	*m_out = m;
	*l_out = hsum8(_mm256_add_ps(
		_mm256_add_ps(_mm256_add_ps(s[0], s[1]), _mm256_add_ps(s[2], s[3])),
		_mm256_add_ps(_mm256_add_ps(s[4], s[5]), _mm256_add_ps(s[6], s[7]))));
	/* o = Σ p_i v_i, 32 channels at a time */
	for (size_t d0 = 0; d0 < hv; d0 += 32) {
		__m256i md[4];
		__m256 a[4];
		#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			md[k] = _mm256_castps_si256(first_lanes((long)hv - (long)(d0 + 8 * (size_t)k)));
			a[k] = _mm256_setzero_ps();
		}
		const float *v = vt + d0;
		for (size_t i = 0; i < nv; i++, v += hv) {
			__m256 pi = _mm256_set1_ps(p[i]);
			#pragma GCC unroll 4
			for (int k = 0; k < 4; k++)
				a[k] = _mm256_fmadd_ps(pi, _mm256_maskload_ps(v + 8 * k, md[k]), a[k]);
		}
		#pragma GCC unroll 4
		for (int k = 0; k < 4; k++)
			_mm256_maskstore_ps(o + d0 + 8 * k, md[k], a[k]);
	}
}

/* r[c] = column c of the 8 × 8 block r: pairs interleaved, pairs of pairs, then the
 * 128-bit halves exchanged. */
ATARGET static inline void transpose8(__m256 r[8])
{
	__m256 t[8], u[8];
	for (int k = 0; k < 4; k++) {
		t[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
		t[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
	}
	for (int k = 0; k < 2; k++) {   /* u[4k + j], half H: rows 4k..4k+3 at column 4H + j */
		u[4 * k] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0x44);
		u[4 * k + 1] = _mm256_shuffle_ps(t[4 * k], t[4 * k + 2], 0xEE);
		u[4 * k + 2] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0x44);
		u[4 * k + 3] = _mm256_shuffle_ps(t[4 * k + 1], t[4 * k + 3], 0xEE);
	}
	for (int j = 0; j < 4; j++) {
		r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);       /* low halves */
		r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);   /* high halves */
	}
}

/* Channels [d0, d0 + 8) of one cached row as floats. */
ATARGET static inline __m256 key_part(int type, const uint8_t *row, size_t d0)
{
	if (type == ARCA_GGML_F16)
		return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + 2 * d0)));
	const uint8_t *b = row + d0 / 32 * 34;   /* Q8_0: hd is whole blocks */
	float d = _cvtsh_ss((unsigned short)(b[0] | b[1] << 8));
	__m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
		_mm_loadl_epi64((const __m128i *)(b + 2 + d0 % 32))));
	return _mm256_mul_ps(_mm256_set1_ps(d), q);
}

ATARGET static void kv_keys(int type, const void *rows, size_t stride, size_t np, size_t hd,
	float *kt)
{
	const uint8_t *base = rows;
	size_t hd8 = hd & ~(size_t)7;
	for (size_t i0 = 0; i0 < 64; i0 += 8) {
		for (size_t d0 = 0; d0 < hd8; d0 += 8) {
			__m256 r[8];
			for (size_t i = 0; i < 8; i++)
				r[i] = i0 + i < np ? key_part(type, base + (i0 + i) * stride, d0) :
					_mm256_setzero_ps();
			transpose8(r);
			for (size_t c = 0; c < 8; c++)
				_mm256_storeu_ps(kt + (d0 + c) * 64 + i0, r[c]);
		}
	}
	/* an F16 head width that is not whole vectors: its last channels one by one */
	for (size_t d = hd8; d < hd; d++)
		for (size_t i = 0; i < 64; i++) {
			uint16_t h;
			if (i < np)
				memcpy(&h, base + i * stride + 2 * d, 2);
			kt[d * 64 + i] = i < np ? _cvtsh_ss(h) : 0.0f;
		}
}

void arca_rt__fill_avx2_attn(arca_rt__table *t)
{
	t->kv_tile = kv_tile;
	t->kv_keys = kv_keys;
}
#else
void arca_rt__fill_avx2_attn(arca_rt__table *t)
{
	(void)t;
}
#endif
