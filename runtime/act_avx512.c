/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/act_avx512.c — the activation conversions of runtime/kernels.c (Q8_0 pairs, Q8_K,
 * and F16/BF16 rounding) in AVX-512: the same scales, the same round-half-to-even codes and the same sums
 * bit for bit (the tests compare them with the scalar forms), 16 floats per instruction.
 */
#include "runtime/kernels_internal.h"

#if ARCA_RT_X86
#include <immintrin.h>
#include <string.h>

#define ATARGET \
	__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

ATARGET static float abs_max(const float *x, size_t n)
{
	__m512 m = _mm512_setzero_ps();
	for (size_t j = 0; j < n; j += 16)
		m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
	return _mm512_reduce_max_ps(m);
}

/* 16 codes nearbyint(x · scale) (the default rounding: half to even) as int32. */
ATARGET static inline __m512i codes16(const float *x, float scale)
{
	return _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x), _mm512_set1_ps(scale)));
}

ATARGET static void quantize_q8_0(const float *x, act_q8_0x2 *out, size_t n)
{
	size_t blocks = n / 32;
	memset(out, 0, (blocks + 1) / 2 * sizeof(*out));
	for (size_t b = 0; b < blocks; b++, x += 32) {
		act_q8_0x2 *pair = out + b / 2;
		int half = (int)(b & 1);
		float amax = abs_max(x, 32);
		float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
		float dh = arca_fp16_to_fp32(arca_fp32_to_fp16(d)); /* llama.cpp stores d as fp16 */
		__m128i q0 = _mm512_cvtepi32_epi8(codes16(x, id));
		__m128i q1 = _mm512_cvtepi32_epi8(codes16(x + 16, id));
		__m256i q = _mm256_set_m128i(q1, q0);
		_mm256_storeu_si256((__m256i *)(pair->qs + 32 * half), q);
		/* each int32 lane's 4 quants summed: unsigned ones × signed codes */
		__m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), q);
		_mm256_storeu_ps(pair->d + 8 * half, _mm256_set1_ps(dh));
		_mm256_storeu_ps(pair->sd + 8 * half, _mm256_mul_ps(_mm256_cvtepi32_ps(s),
			_mm256_set1_ps(dh)));
	}
}

ATARGET static void quantize_q8_k(const float *x, act_q8_k *out, size_t n)
{
	for (size_t b = 0; b < n / 256; b++, x += 256, out++) {
		memset(out, 0, sizeof(*out));
		float amax = abs_max(x, 256);
		if (amax == 0.0f)
			continue;
		/* the signed value of the first element of largest magnitude */
		float max = 0.0f;
		for (int j = 0; j < 256; j += 16) {
			__mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + j)),
				_mm512_set1_ps(amax), _CMP_EQ_OQ);
			if (hit) {
				max = x[j + __builtin_ctz(hit)];
				break;
			}
		}
		const float iscale = -127.0f / max;
		for (int g = 0; g < 16; g++) {
			__m512i v = _mm512_min_epi32(codes16(x + 16 * g, iscale), _mm512_set1_epi32(127));
			_mm_storeu_si128((__m128i *)(out->qs + 16 * g), _mm512_cvtepi32_epi8(v));
			out->bsums[g] = (int16_t)_mm512_reduce_add_epi32(v);
		}
		out->d = 1.0f / iscale;
	}
}

/* F16 and BF16 activations: x rounded to the type (to nearest, ties to even) and back, 16
 * at a time; a NaN becomes the scalar form's quiet NaN of its sign. */
ATARGET static inline __m512 nan_as_scalar(__m512 v, __m512 r)
{
	__mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
	__m512i q = _mm512_or_si512(_mm512_and_si512(_mm512_castps_si512(v),
		_mm512_set1_epi32((int)0x80000000u)), _mm512_set1_epi32(0x7fc00000));
	return _mm512_mask_mov_ps(r, nan, _mm512_castsi512_ps(q));
}

ATARGET static void round_f16(const float *x, float *out, size_t n)
{
	for (size_t i = 0; i < n; i += 16) {
		__mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
		__m512 v = _mm512_maskz_loadu_ps(m, x + i);
		__m512 r = _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT |
			_MM_FROUND_NO_EXC));
		_mm512_mask_storeu_ps(out + i, m, nan_as_scalar(v, r));
	}
}

ATARGET static void round_bf16(const float *x, float *out, size_t n)
{
	const __m512i one = _mm512_set1_epi32(1), half = _mm512_set1_epi32(0x7fff);
	const __m512i top = _mm512_set1_epi32((int)0xffff0000u);
	for (size_t i = 0; i < n; i += 16) {
		__mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
		__m512 v = _mm512_maskz_loadu_ps(m, x + i);
		__m512i u = _mm512_castps_si512(v);
		__m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
		__m512i r = _mm512_and_si512(_mm512_add_epi32(u, _mm512_add_epi32(half, odd)), top);
		/* a NaN keeps its top half, made quiet (the scalar form's | 0x40) */
		__mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
		r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_and_si512(u, top),
			_mm512_set1_epi32(0x00400000)));
		_mm512_mask_storeu_ps(out + i, m, _mm512_castsi512_ps(r));
	}
}

void arca_rt__fill_avx512_act(arca_rt__table *t)
{
	t->round_f16 = round_f16;
	t->round_bf16 = round_bf16;
	t->quantize_q8_0 = quantize_q8_0;
	t->quantize_q8_k = quantize_q8_k;
}
#else
void arca_rt__fill_avx512_act(arca_rt__table *t)
{
	(void)t;
}
#endif
