/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/attn_avx512.c — one query against one decoded tile of a narrow KV cache
 * (kv_attend.c's step 1) in AVX-512: the 64 scores in four registers (one multiply-add per
 * channel and 16 keys), their maximum, the weights e^(s − m) by a vector exponential, their
 * sum, and the weighted sum of the values with 64 channels in four registers at a time.
 * The same function serves a prompt and a generated token, so both give the same bits.
 */
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

void arca_rt__fill_avx512_attn(arca_rt__table *t)
{
	t->kv_tile = kv_tile;
}
#else
void arca_rt__fill_avx512_attn(arca_rt__table *t)
{
	(void)t;
}
#endif
