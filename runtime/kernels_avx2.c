/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kernels_avx2.c — AVX2 (+FMA, F16C) row dots for the types the q8_0 and q4_k_m
 * mixes produce: Q8_0, Q4_0, Q5_0 against Q8_0 activations, Q4_K, Q5_K, Q6_K against
 * Q8_K, and F32, F16, BF16 in float. Integer products use the unsigned × signed byte
 * multiply (vpmaddubsw) with the sign moved onto the activations. Compiled with a target
 * attribute, chosen at run time.
 */
#include "runtime/kernels_internal.h"

#if ARCA_RT_X86
#include <immintrin.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline float hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* 8 int32 sums of signed a × signed b over 32 bytes. */
AVX2 static inline __m256i dot_i8(__m256i a, __m256i b)
{
	__m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
	return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* 8 int32 sums of unsigned a (< 128) × signed b over 32 bytes. */
AVX2 static inline __m256i dot_u8(__m256i a, __m256i b)
{
	return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
}

/* 32 bytes: 0xFF where bit j of the 32-bit word is set. */
AVX2 static inline __m256i bits_to_bytes(uint32_t bits)
{
	const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
		2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
	const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
	__m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), pick);
	return _mm256_cmpeq_epi8(_mm256_and_si256(b, bit), bit);
}

/* The 32 nibbles of 16 bytes: low ones first, then high ones. */
AVX2 static inline __m256i nibbles32(const uint8_t *q)
{
	__m128i v = _mm_loadu_si128((const __m128i *)q);
	__m256i both = _mm256_set_m128i(_mm_srli_epi16(v, 4), v);
	return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

AVX2 static float dot_q8_0(size_t n, const void *w, const void *x)
{
	const uint8_t *a = w, *b = x;
	__m256 acc = _mm256_setzero_ps();
	for (size_t i = 0; i < n / 32; i++, a += 34, b += ACT_Q8_0_BYTES) {
		__m256i qa = _mm256_loadu_si256((const __m256i *)(a + 2));
		__m256i qb = _mm256_loadu_si256((const __m256i *)(b + 2));
		__m256 d = _mm256_set1_ps(arca_rt__half(a) * arca_rt__half(b));
		acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qa, qb)), acc);
	}
	return hsum(acc);
}

AVX2 static float dot_q4_0(size_t n, const void *w, const void *x)
{
	const uint8_t *a = w, *b = x;
	__m256 acc = _mm256_setzero_ps();
	for (size_t i = 0; i < n / 32; i++, a += 18, b += ACT_Q8_0_BYTES) {
		__m256i qa = _mm256_sub_epi8(nibbles32(a + 2), _mm256_set1_epi8(8));
		__m256i qb = _mm256_loadu_si256((const __m256i *)(b + 2));
		__m256 d = _mm256_set1_ps(arca_rt__half(a) * arca_rt__half(b));
		acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qa, qb)), acc);
	}
	return hsum(acc);
}

AVX2 static float dot_q5_0(size_t n, const void *w, const void *x)
{
	const uint8_t *a = w, *b = x;
	__m256 acc = _mm256_setzero_ps();
	for (size_t i = 0; i < n / 32; i++, a += 22, b += ACT_Q8_0_BYTES) {
		uint32_t qh;
		memcpy(&qh, a + 2, 4);
		__m256i hi = _mm256_and_si256(bits_to_bytes(qh), _mm256_set1_epi8(0x10));
		__m256i qa = _mm256_sub_epi8(_mm256_or_si256(nibbles32(a + 6), hi),
			_mm256_set1_epi8(16));
		__m256i qb = _mm256_loadu_si256((const __m256i *)(b + 2));
		__m256 d = _mm256_set1_ps(arca_rt__half(a) * arca_rt__half(b));
		acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(dot_i8(qa, qb)), acc);
	}
	return hsum(acc);
}

/* Sum of 8 int32 lanes. */
AVX2 static inline int hsum_i32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
	return _mm_cvtsi128_si32(s);
}

/* Q4_K (qh == NULL) and Q5_K: x = d·sc·q − dmin·m per 32-element sub-block. */
AVX2 static inline float dot_k4_k5(size_t n, const uint8_t *a, const act_q8_k *b, int q5)
{
	const size_t bytes = q5 ? 176 : 144;
	float total = 0.0f;
	for (size_t i = 0; i < n / 256; i++, a += bytes, b++) {
		const uint8_t *scales = a + 4, *qh = q5 ? a + 16 : NULL, *qs = a + (q5 ? 48 : 16);
		uint8_t sc[8], m[8];
		for (int j = 0; j < 8; j++)
			arca_rt__scale_min_k4(j, scales, &sc[j], &m[j]);
		__m256i acc = _mm256_setzero_si256();
		__m256i hbits = q5 ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
		for (int j = 0; j < 4; j++) {
			__m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
			__m256i lo = _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
			__m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
			if (q5) {
				/* bit 2j of qh[l] tops element l of sub-block 2j, bit 2j+1 of 2j+1 */
				__m256i b0 = _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j),
					_mm256_set1_epi8(1));
				__m256i b1 = _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * j + 1),
					_mm256_set1_epi8(1));
				lo = _mm256_or_si256(lo, _mm256_slli_epi16(b0, 4));
				hi = _mm256_or_si256(hi, _mm256_slli_epi16(b1, 4));
			}
			__m256i y0 = _mm256_loadu_si256((const __m256i *)(b->qs + 64 * j));
			__m256i y1 = _mm256_loadu_si256((const __m256i *)(b->qs + 64 * j + 32));
			acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(dot_u8(lo, y0),
				_mm256_set1_epi32(sc[2 * j])));
			acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(dot_u8(hi, y1),
				_mm256_set1_epi32(sc[2 * j + 1])));
		}
		int mins = 0;
		for (int j = 0; j < 8; j++)
			mins += m[j] * (b->bsums[2 * j] + b->bsums[2 * j + 1]);
		float d = arca_rt__half(a) * b->d, dmin = arca_rt__half(a + 2) * b->d;
		total += d * (float)hsum_i32(acc) - dmin * (float)mins;
	}
	return total;
}

AVX2 static float dot_q4_k(size_t n, const void *w, const void *x)
{
	return dot_k4_k5(n, w, x, 0);
}

AVX2 static float dot_q5_k(size_t n, const void *w, const void *x)
{
	return dot_k4_k5(n, w, x, 1);
}

/* Q6_K: 6-bit codes (0..63) − 32, int8 scale per 16 elements. */
AVX2 static float dot_q6_k(size_t n, const void *w, const void *x)
{
	const uint8_t *a = w;
	const act_q8_k *b = x;
	float total = 0.0f;
	for (size_t i = 0; i < n / 256; i++, a += 210, b++) {
		const uint8_t *ql = a, *qh = a + 128;
		const int8_t *sc = (const int8_t *)(a + 192);
		__m256i acc = _mm256_setzero_si256();
		int offset = 0;
		for (int half = 0; half < 2; half++, ql += 64, qh += 32) {
			__m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
			__m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
			__m256i h = _mm256_loadu_si256((const __m256i *)qh);
			const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
			__m256i q[4];
			q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4),
				_mm256_slli_epi16(_mm256_and_si256(h, m2), 4));
			q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
				_mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), m2), 4));
			q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
				_mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), m2), 4));
			q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
				_mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), m2), 4));
			for (int k = 0; k < 4; k++) {
				const int8_t *y = b->qs + 128 * half + 32 * k;
				__m256i yv = _mm256_loadu_si256((const __m256i *)y);
				/* 16-element groups: products summed in int16 pairs, then scaled */
				__m256i p = _mm256_maddubs_epi16(q[k], yv);
				int s0 = sc[8 * half + 2 * k], s1 = sc[8 * half + 2 * k + 1];
				__m256i scale = _mm256_setr_epi16((short)s0, (short)s0, (short)s0, (short)s0,
					(short)s0, (short)s0, (short)s0, (short)s0, (short)s1, (short)s1, (short)s1,
					(short)s1, (short)s1, (short)s1, (short)s1, (short)s1);
				acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scale));
			}
		}
		/* the −32 offset: Σ sc_g · 32 · Σ y over each group of 16 */
		for (int g = 0; g < 16; g++)
			offset += sc[g] * b->bsums[g];
		total += arca_rt__half(a + 208) * b->d * (float)(hsum_i32(acc) - 32 * offset);
	}
	return total;
}

AVX2 static float dot_f32(size_t n, const void *w, const void *x)
{
	const float *a = w, *b = x;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
		acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
	}
	float s = hsum(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

AVX2 static float dot_f16(size_t n, const void *w, const void *x)
{
	const uint16_t *a = w, *b = x;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
		__m256 a1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i + 8)));
		__m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i)));
		__m256 b1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i + 8)));
		acc0 = _mm256_fmadd_ps(a0, b0, acc0);
		acc1 = _mm256_fmadd_ps(a1, b1, acc1);
	}
	float s = hsum(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += arca_fp16_to_fp32(a[i]) * arca_fp16_to_fp32(b[i]);
	return s;
}

AVX2 static inline __m256 bf16x8(const uint16_t *p)
{
	__m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
	return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

AVX2 static float dot_bf16(size_t n, const void *w, const void *x)
{
	const uint16_t *a = w, *b = x;
	__m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		acc0 = _mm256_fmadd_ps(bf16x8(a + i), bf16x8(b + i), acc0);
		acc1 = _mm256_fmadd_ps(bf16x8(a + i + 8), bf16x8(b + i + 8), acc1);
	}
	float s = hsum(_mm256_add_ps(acc0, acc1));
	for (; i < n; i++)
		s += arca_bf16_to_fp32(a[i]) * arca_bf16_to_fp32(b[i]);
	return s;
}

void arca_rt__fill_avx2(arca_rt__table *t)
{
	t->name = "avx2";
	t->dot[ARCA_GGML_Q8_0] = dot_q8_0;
	t->dot[ARCA_GGML_Q4_0] = dot_q4_0;
	t->dot[ARCA_GGML_Q5_0] = dot_q5_0;
	t->dot[ARCA_GGML_Q4_K] = dot_q4_k;
	t->dot[ARCA_GGML_Q5_K] = dot_q5_k;
	t->dot[ARCA_GGML_Q6_K] = dot_q6_k;
	t->dot[ARCA_GGML_F32] = dot_f32;
	t->dot[ARCA_GGML_F16] = dot_f16;
	t->dot[ARCA_GGML_BF16] = dot_bf16;
}
#endif
