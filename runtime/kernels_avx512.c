/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kernels_avx512.c — the row dots of kernels_x86.inc with AVX-512 VNNI's vpdpbusd
 * (one instruction for the byte products and their sums) on 256-bit vectors; chosen at
 * run time on CPUs with avx512vl and avx512vnni.
 */
#include "runtime/kernels_internal.h"

#if ARCA_RT_X86
#include <immintrin.h>
#include <string.h>

#define KTARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define KFILL arca_rt__fill_avx512
#define KNAME "avx512-vnni"

KTARGET static inline __m256i dot_i8(__m256i a, __m256i b)
{
	return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(a, a),
		_mm256_sign_epi8(b, a));
}

KTARGET static inline __m256i dot_u8(__m256i a, __m256i b)
{
	return _mm256_dpbusd_epi32(_mm256_setzero_si256(), a, b);
}

#include "runtime/kernels_x86.inc"
#endif
