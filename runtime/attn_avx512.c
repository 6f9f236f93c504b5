/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/attn_avx512.c — one query against one decoded tile of a narrow KV cache
 * (kv_attend.c's step 1) in AVX-512: the 64 scores in four registers (one multiply-add per
 * channel and 16 keys), their maximum, the weights e^(s − m) by a vector exponential, their
 * sum, and the weighted sum of the values with 64 channels in four registers at a time.
 * The same function serves a prompt and a generated token, so both give the same bits.
 * Also the tile's keys decoded and transposed for it, 16 positions × 16 channels at a time
 * in registers (a generated token decodes every tile for only its group's few heads, so
 * a scalar transposition was most of its attention time).
 */
#include "arca/quant.h"
#include "runtime/kernels_internal.h"

#if ARCA_RT_X86
#include <immintrin.h>

#define ATARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))

/* The first n of 16 lanes. */
ATARGET static inline __mmask16 first_lanes(size_t n)
{
	return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

/* e^x for x <= 0 to a few ulp (kv_attend.c's exp_neg, lane by lane): x = n·ln2 + r,
 * Taylor to r^7, times 2^n; below −87 clamped. */
ATARGET static inline __m512 exp_neg16(__m512 x)
{
	x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
	__m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
		_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145752f), x);
	r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860677e-06f), r);
	__m512 p = _mm512_set1_ps(1.98412698e-4f);
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.38888889e-3f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.33333333e-3f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.16666667e-2f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.66666667e-1f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
	return _mm512_scalef_ps(p, n);
}

ATARGET static void kv_tile(const float *q, const float *kt, const float *vt, size_t hd,
	size_t hv, size_t nv, float scale, float *p, float *o, float *m_out, float *l_out)
{
	/* scores: kt is [hd][64], keys past nv zero */
	__m512 s[4] = { _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
		_mm512_setzero_ps() };
	for (size_t d = 0; d < hd; d++) {
		__m512 qd = _mm512_set1_ps(q[d]);
		#pragma GCC unroll 4
		for (int k = 0; k < 4; k++)
			s[k] = _mm512_fmadd_ps(qd, _mm512_loadu_ps(kt + d * 64 + 16 * k), s[k]);
	}
	const __m512 ninf = _mm512_set1_ps(-__builtin_inff());
	__mmask16 mk[4];
	__m512 mx = ninf;
	#pragma GCC unroll 4
	for (int k = 0; k < 4; k++) {
		mk[k] = nv > (size_t)16 * k ? first_lanes(nv - 16 * (size_t)k) : 0;
		s[k] = _mm512_mul_ps(s[k], _mm512_set1_ps(scale));
		mx = _mm512_mask_max_ps(mx, mk[k], mx, s[k]);
	}
	float m = _mm512_reduce_max_ps(mx);
	__m512 mv = _mm512_set1_ps(m);
	#pragma GCC unroll 4
	for (int k = 0; k < 4; k++) {
		s[k] = _mm512_maskz_mov_ps(mk[k], exp_neg16(_mm512_sub_ps(s[k], mv)));
		_mm512_storeu_ps(p + 16 * k, s[k]);
	}
	*m_out = m;
	*l_out = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[1]),
		_mm512_add_ps(s[2], s[3])));
	/* o = Σ p_i v_i, 64 channels at a time */
	for (size_t d0 = 0; d0 < hv; d0 += 64) {
		__mmask16 md[4];
		__m512 a[4];
		#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			size_t c = d0 + 16 * (size_t)k;
			md[k] = hv > c ? first_lanes(hv - c) : 0;
			a[k] = _mm512_setzero_ps();
		}
		const float *v = vt + d0;
		for (size_t i = 0; i < nv; i++, v += hv) {
			__m512 pi = _mm512_set1_ps(p[i]);
			#pragma GCC unroll 4
			for (int k = 0; k < 4; k++)
				a[k] = _mm512_fmadd_ps(pi, _mm512_maskz_loadu_ps(md[k], v + 16 * k), a[k]);
		}
		#pragma GCC unroll 4
		for (int k = 0; k < 4; k++)
			_mm512_mask_storeu_ps(o + d0 + 16 * k, md[k], a[k]);
	}
}

/* r[c] = column c of the 16 × 16 block r (rows in, columns out): pairs interleaved, then
 * pairs of pairs, then 128-bit lanes twice; column 4L + j comes out of lane L of the
 * second stage's vector j of each four rows. */
ATARGET static inline void transpose16(__m512 r[16])
{
	__m512 t[16], u[16], x[16];
	for (int k = 0; k < 8; k++) {
		t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
		t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
	}
	for (int k = 0; k < 4; k++) {   /* u[4k + j], lane L: rows 4k..4k+3 at column 4L + j */
		__m512d a = _mm512_castps_pd(t[4 * k]), b = _mm512_castps_pd(t[4 * k + 2]);
		__m512d c = _mm512_castps_pd(t[4 * k + 1]), d = _mm512_castps_pd(t[4 * k + 3]);
		u[4 * k] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
		u[4 * k + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
		u[4 * k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(c, d));
		u[4 * k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(c, d));
	}
	for (int j = 0; j < 4; j++) {   /* lanes 0, 2 and 1, 3 of rows 0–7 and of rows 8–15 */
		x[j] = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88);
		x[4 + j] = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xDD);
		x[8 + j] = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88);
		x[12 + j] = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xDD);
	}
	for (int j = 0; j < 4; j++) {
		r[j] = _mm512_shuffle_f32x4(x[j], x[8 + j], 0x88);           /* lane 0 */
		r[8 + j] = _mm512_shuffle_f32x4(x[j], x[8 + j], 0xDD);       /* lane 2 */
		r[4 + j] = _mm512_shuffle_f32x4(x[4 + j], x[12 + j], 0x88);  /* lane 1 */
		r[12 + j] = _mm512_shuffle_f32x4(x[4 + j], x[12 + j], 0xDD); /* lane 3 */
	}
}

/* Channels [d0, d0 + 16) of one cached row as floats (m: those below hd). */
ATARGET static inline __m512 key_part(int type, const uint8_t *row, size_t d0, __mmask16 m)
{
	if (type == ARCA_GGML_F16)
		return _mm512_cvtph_ps(m == 0xFFFF ? _mm256_loadu_si256((const __m256i *)(row + 2 * d0)) :
			_mm256_maskz_loadu_epi16(m, row + 2 * d0));
	const uint8_t *b = row + d0 / 32 * 34;   /* Q8_0: hd is whole blocks, d0 inside one */
	float d = _cvtsh_ss((unsigned short)(b[0] | b[1] << 8));
	__m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
		_mm_loadu_si128((const __m128i *)(b + 2 + d0 % 32))));
	return _mm512_mul_ps(_mm512_set1_ps(d), q);
}

ATARGET static void kv_keys(int type, const void *rows, size_t stride, size_t np, size_t hd,
	float *kt)
{
	const uint8_t *base = rows;
	for (size_t i0 = 0; i0 < 64; i0 += 16) {
		for (size_t d0 = 0; d0 < hd; d0 += 16) {
			__mmask16 m = first_lanes(hd - d0);
			__m512 r[16];
			for (size_t i = 0; i < 16; i++)
				r[i] = i0 + i < np ? key_part(type, base + (i0 + i) * stride, d0, m) :
					_mm512_setzero_ps();
			transpose16(r);
			for (size_t c = 0; c < 16 && d0 + c < hd; c++)
				_mm512_storeu_ps(kt + (d0 + c) * 64 + i0, r[c]);
		}
	}
}

void arca_rt__fill_avx512_attn(arca_rt__table *t)
{
	t->kv_tile = kv_tile;
	t->kv_keys = kv_keys;
}
#else
void arca_rt__fill_avx512_attn(arca_rt__table *t)
{
	(void)t;
}
#endif
