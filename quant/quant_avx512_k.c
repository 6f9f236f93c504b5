/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/quant_avx512_k.c — AVX-512 versions of the K-quant encoders Q2_K, Q3_K, Q4_K,
 * Q5_K and Q6_K that write the same bytes as the scalar ones in quant_k.c.
 *
 * Why this is exact: the reference searches (make_qkx2_quants, make_qx_quants,
 * make_q3_quants) sum in index order inside one group, and reordering those sums would
 * change the bytes. So we never vectorize along a group; we run 16 groups side by side,
 * one per lane (the 16 sub-blocks of a Q2_K/Q3_K/Q6_K super-block, or the 8 of two
 * Q4_K/Q5_K super-blocks). Each lane then performs exactly the scalar sequence of IEEE
 * float32 operations (add, mul, div and sqrt are correctly rounded in SSE and AVX-512
 * alike; the build never fuses), and each scalar `if` becomes a lane mask. The
 * requantization that follows is element-wise and is vectorized along the data. A
 * super-block holding inf or NaN goes to the scalar code, so NaN payload propagation
 * cannot differ either.
 *
 * Layout inside: X[16·i + lane] = element i of the group in that lane ("transposed").
 */
#include "quant/quant_internal.h"

#if ARCA_QUANT_X86
#include "quant/quant_avx512.h"

/* ------------------------------------------------------------------ make_qkx2_quants */

typedef struct {
	int n, nmax;
	float rmin, rdelta;
	int nstep, use_mad;
} qkx2_params;

AVX512 static inline __m512 error_term(__m512 diff, int use_mad)
{
	return use_mad ? abs16(diff) : _mm512_mul_ps(diff, diff);
}

/* The codes of one trial, clamp(nearest_int(iscale·(x − min)), 0, nmax), as floats.
 * nearest_int is round-half-even only while |iscale·(x − min)| <= 4194303; beyond that it
 * returns bits of the float sum, which the scalar code then clamps. So when every lane's
 * bound |iscale|·max|x − min| is safely inside the range, one roundscale does it;
 * otherwise the integer trick itself runs. Lanes in `ignore` (flat groups, whose codes
 * are thrown away) do not count. */
AVX512 static inline void trial_codes(const __m512 *xm, int n, __m512 iscale, __m512 bound,
	__mmask16 ignore, int nmax, __m512 *fl)
{
	const __m512 zero = _mm512_setzero_ps(), top = _mm512_set1_ps((float)nmax);
	__mmask16 safe = _mm512_cmp_ps_mask(_mm512_mul_ps(abs16(iscale), bound),
		_mm512_set1_ps(4.0e6f), _CMP_LT_OQ);
	if ((safe | ignore) == 0xffff) {
		for (int i = 0; i < n; i++) {
			__m512 r = _mm512_roundscale_ps(_mm512_mul_ps(iscale, xm[i]),
				_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
			/* max returns its second operand for ±0, so a −0 becomes +0 as the int would */
			fl[i] = _mm512_min_ps(_mm512_max_ps(r, zero), top);
		}
		return;
	}
	for (int i = 0; i < n; i++)
		fl[i] = _mm512_cvtepi32_ps(clamp16(nearest16(_mm512_mul_ps(iscale, xm[i])), 0, nmax));
}

/* x − min for each row, and the largest |x − min| per lane (for trial_codes' bound). */
AVX512 static inline __m512 offsets(const float *X, int n, __m512 min, __m512 *xm)
{
	__m512 bound = _mm512_setzero_ps();
	for (int i = 0; i < n; i++) {
		xm[i] = _mm512_sub_ps(_mm512_loadu_ps(X + LANES * i), min);
		bound = _mm512_max_ps(bound, abs16(xm[i]));
	}
	return bound;
}

/* make_qkx2_quants on 16 groups at once: X, W transposed (n ≤ 32 rows of 16); L gets the
 * codes (transposed), scale_out/min_out the 16 scales and offsets. */
AVX512 static void qkx2_x16(const float *X, const float *W, const qkx2_params *p, int32_t *L,
	float *scale_out, float *min_out)
{
	const int n = p->n;
	const __m512 zero = _mm512_setzero_ps();
	__m512 best_l[32], aux_l[32], xm[32];
	__m512 min = _mm512_loadu_ps(X), max = min;
	__m512 sum_w = _mm512_loadu_ps(W), sum_x = _mm512_mul_ps(sum_w, min);
	for (int i = 1; i < n; i++) {
		__m512 x = _mm512_loadu_ps(X + LANES * i), w = _mm512_loadu_ps(W + LANES * i);
		min = _mm512_min_ps(x, min); /* x < min ? x : min */
		max = _mm512_max_ps(x, max); /* x > max ? x : max */
		sum_w = _mm512_add_ps(sum_w, w);
		sum_x = _mm512_add_ps(sum_x, _mm512_mul_ps(w, x));
	}
	min = _mm512_mask_mov_ps(min, _mm512_cmp_ps_mask(min, zero, _CMP_GT_OQ), zero);
	__mmask16 flat = _mm512_cmp_ps_mask(max, min, _CMP_EQ_OQ);
	__m512 bound = offsets(X, n, min, xm);
	__m512 iscale = _mm512_div_ps(_mm512_set1_ps((float)p->nmax), _mm512_sub_ps(max, min));
	__m512 scale = _mm512_div_ps(_mm512_set1_ps(1.f), iscale);
	__m512 best = zero;
	trial_codes(xm, n, iscale, bound, flat, p->nmax, best_l);
	for (int i = 0; i < n; i++) {
		__m512 x = _mm512_loadu_ps(X + LANES * i), w = _mm512_loadu_ps(W + LANES * i);
		__m512 diff = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(scale, best_l[i]), min), x);
		best = _mm512_add_ps(best, _mm512_mul_ps(w, error_term(diff, p->use_mad)));
	}
	for (int is = 0; is <= p->nstep; is++) {
		/* min moves when a trial wins, and the next trials start from it (as ggml) */
		iscale = _mm512_div_ps(_mm512_set1_ps(p->rmin + p->rdelta * is + p->nmax),
			_mm512_sub_ps(max, min));
		trial_codes(xm, n, iscale, bound, flat, p->nmax, aux_l);
		__m512 sum_l = zero, sum_l2 = zero, sum_xl = zero;
		for (int i = 0; i < n; i++) {
			__m512 x = _mm512_loadu_ps(X + LANES * i), w = _mm512_loadu_ps(W + LANES * i);
			__m512 wl = _mm512_mul_ps(w, aux_l[i]);
			sum_l = _mm512_add_ps(sum_l, wl);
			sum_l2 = _mm512_add_ps(sum_l2, _mm512_mul_ps(wl, aux_l[i]));
			sum_xl = _mm512_add_ps(sum_xl, _mm512_mul_ps(wl, x));
		}
		__m512 D = _mm512_sub_ps(_mm512_mul_ps(sum_w, sum_l2), _mm512_mul_ps(sum_l, sum_l));
		__mmask16 ok = _mm512_cmp_ps_mask(D, zero, _CMP_GT_OQ) & (__mmask16)~flat;
		if (!ok)
			continue;
		__m512 this_scale = _mm512_div_ps(_mm512_sub_ps(_mm512_mul_ps(sum_w, sum_xl),
			_mm512_mul_ps(sum_x, sum_l)), D);
		__m512 this_min = _mm512_div_ps(_mm512_sub_ps(_mm512_mul_ps(sum_l2, sum_x),
			_mm512_mul_ps(sum_l, sum_xl)), D);
		__mmask16 pos = _mm512_cmp_ps_mask(this_min, zero, _CMP_GT_OQ);
		this_min = _mm512_mask_mov_ps(this_min, pos, zero);
		this_scale = _mm512_mask_div_ps(this_scale, pos, sum_xl, sum_l2);
		__m512 cur = zero;
		for (int i = 0; i < n; i++) {
			__m512 x = _mm512_loadu_ps(X + LANES * i), w = _mm512_loadu_ps(W + LANES * i);
			__m512 diff = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(this_scale, aux_l[i]),
				this_min), x);
			cur = _mm512_add_ps(cur, _mm512_mul_ps(w, error_term(diff, p->use_mad)));
		}
		__mmask16 upd = ok & _mm512_cmp_ps_mask(cur, best, _CMP_LT_OQ);
		if (!upd)
			continue;
		for (int i = 0; i < n; i++)
			best_l[i] = _mm512_mask_mov_ps(best_l[i], upd, aux_l[i]);
		best = _mm512_mask_mov_ps(best, upd, cur);
		scale = _mm512_mask_mov_ps(scale, upd, this_scale);
		min = _mm512_mask_mov_ps(min, upd, this_min);
		bound = offsets(X, n, min, xm);
	}
	/* flat groups: codes 0, scale 0, offset −min as found */
	for (int i = 0; i < n; i++)
		_mm512_storeu_si512(L + LANES * i, _mm512_maskz_cvtps_epi32((__mmask16)~flat,
			best_l[i]));
	_mm512_storeu_ps(scale_out, _mm512_mask_mov_ps(scale, flat, zero));
	_mm512_storeu_ps(min_out, _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(min),
		_mm512_set1_epi32((int)0x80000000))));
}

/* Requantizes 16 elements: clamp(nearest_int((x + dm) / d), 0, nmax) as bytes. */
AVX512 static inline void requant16(const float *x, float dm, float d, int nmax, uint8_t *L)
{
	__m512 v = _mm512_div_ps(_mm512_add_ps(_mm512_loadu_ps(x), _mm512_set1_ps(dm)),
		_mm512_set1_ps(d));
	_mm_storeu_si128((__m128i *)L, _mm512_cvtepi32_epi8(clamp16(nearest16(v), 0, nmax)));
}

/* ------------------------------------------------------------------ Q4_K, Q5_K */

/* Q4_K (is_q5 = 0) or Q5_K (is_q5 = 1), two super-blocks per pass. */
AVX512 static void quantize_k4(const float *src, uint8_t *out, size_t nb, int is_q5)
{
	const qkx2_params p = is_q5 ? (qkx2_params){ 32, 31, -0.5f, 0.1f, 15, 0 } :
		(qkx2_params){ 32, 15, -1.f, 0.1f, 20, 0 };
	const size_t block_bytes = is_q5 ? sizeof(arca_block_q5_K) : sizeof(arca_block_q4_K);
	float X[32 * LANES], W[32 * LANES], scales[LANES], mins[LANES];
	int32_t L[32 * LANES];
	for (size_t b = 0; b < nb; b += 2) {
		int pair = nb - b >= 2 ? 2 : 1;
		const float *x = src + b * ARCA_QK_K;
		uint8_t *o = out + b * block_bytes;
		if (any_special(x, (size_t)pair * ARCA_QK_K)) {
			if (is_q5)
				arca_quant__quantize_q5_K(x, o, (size_t)pair * ARCA_QK_K);
			else
				arca_quant__quantize_q4_K(x, o, (size_t)pair * ARCA_QK_K);
			continue;
		}
		transpose_in(x, 32, 8 * pair, X);
		/* weights: rms of the group + |x| */
		__m512 sum_x2 = _mm512_setzero_ps();
		for (int i = 0; i < 32; i++) {
			__m512 v = _mm512_loadu_ps(X + LANES * i);
			sum_x2 = _mm512_add_ps(sum_x2, _mm512_mul_ps(v, v));
		}
		__m512 av = _mm512_sqrt_ps(_mm512_div_ps(sum_x2, _mm512_set1_ps(32.f)));
		for (int i = 0; i < 32; i++)
			_mm512_storeu_ps(W + LANES * i, _mm512_add_ps(av,
				abs16(_mm512_loadu_ps(X + LANES * i))));
		qkx2_x16(X, W, &p, L, scales, mins);
		for (int s = 0; s < pair; s++) {
			const float *xs = x + s * ARCA_QK_K;
			uint8_t *os = o + s * block_bytes, codes[ARCA_QK_K];
			for (int j = 0; j < 8; j++)
				transpose_out(L, 8 * s + j, 32, codes + 32 * j);
			arca_quant__pack_scales_k4(scales + 8 * s, mins + 8 * s, os);
			float d_all = arca_quant__half_at(os), dmin_all = arca_quant__half_at(os + 2);
			for (int j = 0; j < 8; j++) {
				uint8_t sc, m;
				arca_quant__scale_min_k4(j, os + 4, &sc, &m);
				float d = d_all * sc;
				if (!d)
					continue;
				float dm = dmin_all * m;
				requant16(xs + 32 * j, dm, d, p.nmax, codes + 32 * j);
				requant16(xs + 32 * j + 16, dm, d, p.nmax, codes + 32 * j + 16);
			}
			if (is_q5)
				arca_quant__pack_codes_q5_K(codes, os);
			else
				arca_quant__pack_codes_q4_K(codes, os);
		}
	}
}

AVX512 void arca_quant__quantize_q4_K_avx512(const float *src, void *dst, size_t n)
{
	quantize_k4(src, dst, n / ARCA_QK_K, 0);
}

AVX512 void arca_quant__quantize_q5_K_avx512(const float *src, void *dst, size_t n)
{
	quantize_k4(src, dst, n / ARCA_QK_K, 1);
}

/* ------------------------------------------------------------------ Q2_K */

AVX512 void arca_quant__quantize_q2_K_avx512(const float *src, void *dst, size_t n)
{
	const qkx2_params p = { 16, 3, -0.5f, 0.1f, 15, 1 };
	float X[16 * LANES], W[16 * LANES], scales[LANES], mins[LANES];
	int32_t L[16 * LANES];
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK_K; b++, src += ARCA_QK_K, out += sizeof(arca_block_q2_K)) {
		if (any_special(src, ARCA_QK_K)) {
			arca_quant__quantize_q2_K(src, out, ARCA_QK_K);
			continue;
		}
		transpose_in(src, 16, 16, X);
		for (int i = 0; i < 16; i++)
			_mm512_storeu_ps(W + LANES * i, abs16(_mm512_loadu_ps(X + LANES * i)));
		qkx2_x16(X, W, &p, L, scales, mins);
		uint8_t codes[ARCA_QK_K];
		for (int j = 0; j < 16; j++)
			transpose_out(L, j, 16, codes + 16 * j);
		arca_quant__pack_scales_q2_K(scales, mins, out);
		float d_all = arca_quant__half_at(out + 80), dmin_all = arca_quant__half_at(out + 82);
		for (int j = 0; j < 16; j++) {
			float d = d_all * (out[j] & 15);
			if (!d)
				continue;
			requant16(src + 16 * j, dmin_all * (out[j] >> 4), d, 3, codes + 16 * j);
		}
		arca_quant__pack_2bit(codes, out + 16);
	}
}

/* ------------------------------------------------------------------ Q6_K */

/* make_qx_quants(16, 32, x, L, rmse_type 1) on 16 groups at once; L gets codes + 32. */
AVX512 static void qx_x16(const float *X, int32_t *L, float *scale_out)
{
	const int nmax = 32;
	const __m512 zero = _mm512_setzero_ps();
	__m512i lbest[16], laux[16];
	__m512 amax, max = signed_absmax16(X, 16, &amax);
	__mmask16 tiny = _mm512_cmp_ps_mask(amax, _mm512_set1_ps(1e-15f), _CMP_LT_OQ);
	__m512 iscale = _mm512_div_ps(_mm512_set1_ps((float)-nmax), max);
	__m512 sumlx = zero, suml2 = zero;
	for (int i = 0; i < 16; i++) {
		__m512 x = _mm512_loadu_ps(X + LANES * i);
		__m512i l = clamp16(nearest16(_mm512_mul_ps(iscale, x)), -nmax, nmax - 1);
		lbest[i] = _mm512_add_epi32(l, _mm512_set1_epi32(nmax));
		__m512 fl = _mm512_cvtepi32_ps(l), w = _mm512_mul_ps(x, x);
		sumlx = _mm512_add_ps(sumlx, _mm512_mul_ps(_mm512_mul_ps(w, x), fl));
		suml2 = _mm512_add_ps(suml2, _mm512_mul_ps(_mm512_mul_ps(w, fl), fl));
	}
	/* scale = suml2 ? sumlx/suml2 : 0 (a NaN counts as true, as in C) */
	__m512 scale = _mm512_maskz_div_ps(_mm512_cmp_ps_mask(suml2, zero, _CMP_NEQ_UQ), sumlx,
		suml2);
	__m512 best = _mm512_mul_ps(scale, sumlx);
	for (int is = -9; is <= 9; is++) {
		if (is == 0)
			continue;
		iscale = _mm512_div_ps(_mm512_set1_ps(-(nmax + 0.1f * is)), max);
		sumlx = suml2 = zero;
		for (int i = 0; i < 16; i++) {
			__m512 x = _mm512_loadu_ps(X + LANES * i);
			__m512i l = clamp16(nearest16(_mm512_mul_ps(iscale, x)), -nmax, nmax - 1);
			laux[i] = l;
			__m512 fl = _mm512_cvtepi32_ps(l), w = _mm512_mul_ps(x, x);
			sumlx = _mm512_add_ps(sumlx, _mm512_mul_ps(_mm512_mul_ps(w, x), fl));
			suml2 = _mm512_add_ps(suml2, _mm512_mul_ps(_mm512_mul_ps(w, fl), fl));
		}
		__mmask16 upd = _mm512_cmp_ps_mask(suml2, zero, _CMP_GT_OQ) &
			_mm512_cmp_ps_mask(_mm512_mul_ps(sumlx, sumlx), _mm512_mul_ps(best, suml2),
				_CMP_GT_OQ) & (__mmask16)~tiny;
		if (!upd)
			continue;
		for (int i = 0; i < 16; i++)
			lbest[i] = _mm512_mask_add_epi32(lbest[i], upd, laux[i], _mm512_set1_epi32(nmax));
		scale = _mm512_mask_div_ps(scale, upd, sumlx, suml2);
		best = _mm512_mask_mul_ps(best, upd, scale, sumlx);
	}
	for (int i = 0; i < 16; i++)
		_mm512_storeu_si512(L + LANES * i, _mm512_mask_mov_epi32(lbest[i], tiny,
			_mm512_setzero_si512()));
	_mm512_storeu_ps(scale_out, _mm512_mask_mov_ps(scale, tiny, zero));
}

/* The shared start of Q6_K and Q3_K: a block with NaN or inf goes to the scalar encoder (0);
 * otherwise its 16 groups are searched side by side and the codes come back in order. */
AVX512 static int search_groups(const float *src, void (*search)(const float *, int32_t *,
	float *), float *scales, uint8_t codes[ARCA_QK_K])
{
	float X[16 * LANES];
	int32_t L[16 * LANES];
	if (any_special(src, ARCA_QK_K))
		return 0;
	transpose_in(src, 16, 16, X);
	search(X, L, scales);
	for (int j = 0; j < 16; j++)
		transpose_out(L, j, 16, codes + 16 * j);
	return 1;
}

/* Each group of 16 requantized with its stored scale d (0: left as searched) to codes in
 * [-nmax, nmax), stored + nmax. */
AVX512 static void requant_groups(const float *src, const float *d, int nmax, uint8_t *codes)
{
	for (int j = 0; j < 16; j++) {
		if (!d[j])
			continue;
		__m512 v = _mm512_div_ps(_mm512_loadu_ps(src + 16 * j), _mm512_set1_ps(d[j]));
		__m512i l = _mm512_add_epi32(clamp16(nearest16(v), -nmax, nmax - 1),
			_mm512_set1_epi32(nmax));
		_mm_storeu_si128((__m128i *)(codes + 16 * j), _mm512_cvtepi32_epi8(l));
	}
}

AVX512 void arca_quant__quantize_q6_K_avx512(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK_K; b++, src += ARCA_QK_K, out += sizeof(arca_block_q6_K)) {
		float scales[LANES], d[16];
		uint8_t codes[ARCA_QK_K];
		if (!search_groups(src, qx_x16, scales, codes)) {
			arca_quant__quantize_q6_K(src, out, ARCA_QK_K);
			continue;
		}
		if (!arca_quant__pack_scales_q6_K(scales, out))
			continue;
		const arca_block_q6_K *blk = (const arca_block_q6_K *)out;
		float d_all = arca_quant__half_at(out + offsetof(arca_block_q6_K, d));
		for (int j = 0; j < 16; j++)
			d[j] = d_all * blk->scales[j];
		requant_groups(src, d, 32, codes);
		arca_quant__pack_codes_q6_K(codes, out);
	}
}

/* ------------------------------------------------------------------ Q3_K */

/* make_q3_quants(16, 4, x, L, do_rmse) on 16 groups at once; L gets codes + 4. A lane
 * whose pass changed nothing would change nothing in the next pass either (the pass is a
 * function of its state), so running on until no lane changes matches the scalar early
 * stop. */
AVX512 static void q3_x16(const float *X, int32_t *L, float *scale_out)
{
	const int nmax = 4;
	const __m512 zero = _mm512_setzero_ps();
	__m512i l[16];
	__m512 amax, max = signed_absmax16(X, 16, &amax);
	__mmask16 tiny = _mm512_cmp_ps_mask(amax, _mm512_set1_ps(1e-15f), _CMP_LT_OQ);
	__m512 iscale = _mm512_div_ps(_mm512_set1_ps((float)-nmax), max);
	__m512 sumlx = zero, suml2 = zero;
	for (int i = 0; i < 16; i++) {
		__m512 x = _mm512_loadu_ps(X + LANES * i);
		l[i] = clamp16(nearest16(_mm512_mul_ps(iscale, x)), -nmax, nmax - 1);
		__m512 fl = _mm512_cvtepi32_ps(l[i]), w = _mm512_mul_ps(x, x);
		sumlx = _mm512_add_ps(sumlx, _mm512_mul_ps(_mm512_mul_ps(w, x), fl));
		suml2 = _mm512_add_ps(suml2, _mm512_mul_ps(_mm512_mul_ps(w, fl), fl));
	}
	for (int itry = 0; itry < 5; itry++) {
		__mmask16 changed = 0;
		for (int i = 0; i < 16; i++) {
			__m512 x = _mm512_loadu_ps(X + LANES * i), w = _mm512_mul_ps(x, x);
			__m512 wx = _mm512_mul_ps(w, x), fl = _mm512_cvtepi32_ps(l[i]);
			__m512 slx = _mm512_sub_ps(sumlx, _mm512_mul_ps(wx, fl));
			__mmask16 m = _mm512_cmp_ps_mask(slx, zero, _CMP_GT_OQ);
			if (!m)
				continue;
			__m512 sl2 = _mm512_sub_ps(suml2, _mm512_mul_ps(_mm512_mul_ps(w, fl), fl));
			__m512i nl = clamp16(nearest16(_mm512_div_ps(_mm512_mul_ps(x, sl2), slx)), -nmax,
				nmax - 1);
			m &= _mm512_cmpneq_epi32_mask(nl, l[i]);
			if (!m)
				continue;
			__m512 fn = _mm512_cvtepi32_ps(nl);
			slx = _mm512_add_ps(slx, _mm512_mul_ps(wx, fn));
			sl2 = _mm512_add_ps(sl2, _mm512_mul_ps(_mm512_mul_ps(w, fn), fn));
			m &= _mm512_cmp_ps_mask(sl2, zero, _CMP_GT_OQ) &
				_mm512_cmp_ps_mask(_mm512_mul_ps(_mm512_mul_ps(slx, slx), suml2),
					_mm512_mul_ps(_mm512_mul_ps(sumlx, sumlx), sl2), _CMP_GT_OQ);
			l[i] = _mm512_mask_mov_epi32(l[i], m, nl);
			sumlx = _mm512_mask_mov_ps(sumlx, m, slx);
			suml2 = _mm512_mask_mov_ps(suml2, m, sl2);
			changed |= m;
		}
		if (!(changed & (__mmask16)~tiny))
			break;
	}
	for (int i = 0; i < 16; i++)
		_mm512_storeu_si512(L + LANES * i, _mm512_maskz_add_epi32((__mmask16)~tiny, l[i],
			_mm512_set1_epi32(nmax)));
	__mmask16 pos = _mm512_cmp_ps_mask(suml2, zero, _CMP_GT_OQ) & (__mmask16)~tiny;
	_mm512_storeu_ps(scale_out, _mm512_maskz_div_ps(pos, sumlx, suml2));
}

AVX512 void arca_quant__quantize_q3_K_avx512(const float *src, void *dst, size_t n)
{
	uint8_t *out = dst;
	for (size_t b = 0; b < n / ARCA_QK_K; b++, src += ARCA_QK_K, out += sizeof(arca_block_q3_K)) {
		float scales[LANES], d[16];
		uint8_t codes[ARCA_QK_K];
		if (!search_groups(src, q3_x16, scales, codes)) {
			arca_quant__quantize_q3_K(src, out, ARCA_QK_K);
			continue;
		}
		arca_quant__pack_scales_q3_K(scales, out);
		float d_all = arca_quant__half_at(out + offsetof(arca_block_q3_K, d));
		for (int j = 0; j < 16; j++)
			d[j] = d_all * arca_quant__scale_q3_K(out, j);
		requant_groups(src, d, 4, codes);
		arca_quant__pack_codes_q3_K(codes, out);
	}
}

#endif
