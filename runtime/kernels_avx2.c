/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kernels_avx2.c — AVX2 (+FMA, F16C) row dots for the types the q8_0 and q4_k_m
 * mixes produce: Q8_0, Q4_0, Q5_0 against Q8_0 activations, Q4_K, Q5_K, Q6_K against
 * Q8_K, and F32, F16, BF16 in float; one-row and four-row (prefill) forms. The code is
 * kernels_x86.inc; this file gives it the AVX2 byte products.
 */
#include "runtime/kernels_internal.h"

#if ARCA_RT_X86
#include <immintrin.h>
#include <string.h>

#define KTARGET __attribute__((target("avx2,fma,f16c")))
#define KFILL arca_rt__fill_avx2
#define KNAME "avx2"

KTARGET static inline __m256i dot_i8(__m256i a, __m256i b)
{
	__m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
	return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

KTARGET static inline __m256i dot_u8(__m256i a, __m256i b)
{
	return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
}

#include "runtime/kernels_x86.inc"
#endif
