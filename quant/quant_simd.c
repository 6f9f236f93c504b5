/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/quant_simd.c — run-time choice of the quantization kernels: one table per
 * instruction-set level (scalar, AVX2, AVX-512), each complete (a level without its own
 * kernel for a type uses the level below's), and the CPU check that says which levels
 * this machine can run. The SIMD kernels live in quant_avx2.c, dequant_avx2.c and
 * quant_avx512_*.c, compiled with per-function target attributes, so the library as a
 * whole needs no -march and runs on any x86-64 (and builds elsewhere with the scalar
 * table only).
 *
 * Every SIMD kernel writes the same bytes (or floats) as the scalar one for every input;
 * tests/quant/test_quant.c checks each level this CPU has against the reference files.
 */
#include <pthread.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "quant/quant_internal.h"

static arca_quant__kernels tables[ARCA_QUANT__LEVELS];
static int supported[ARCA_QUANT__LEVELS];
static int best;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if ARCA_QUANT_X86
static void fill_avx2(arca_quant__kernels *k)
{
	arca_quant__quantize_fn *q = k->quantize;
	arca_quant__dequantize_fn *d = k->dequantize;
	k->name = "avx2";
	q[ARCA_GGML_F16] = arca_quant__quantize_f16_avx2;
	q[ARCA_GGML_BF16] = arca_quant__quantize_bf16_avx2;
	q[ARCA_GGML_Q4_0] = arca_quant__quantize_q4_0_avx2;
	q[ARCA_GGML_Q4_1] = arca_quant__quantize_q4_1_avx2;
	q[ARCA_GGML_Q5_0] = arca_quant__quantize_q5_0_avx2;
	q[ARCA_GGML_Q5_1] = arca_quant__quantize_q5_1_avx2;
	q[ARCA_GGML_Q8_0] = arca_quant__quantize_q8_0_avx2;
	d[ARCA_GGML_F16] = arca_quant__dequantize_f16_avx2;
	d[ARCA_GGML_BF16] = arca_quant__dequantize_bf16_avx2;
	d[ARCA_GGML_Q4_0] = arca_quant__dequantize_q4_0_avx2;
	d[ARCA_GGML_Q4_1] = arca_quant__dequantize_q4_1_avx2;
	d[ARCA_GGML_Q5_0] = arca_quant__dequantize_q5_0_avx2;
	d[ARCA_GGML_Q5_1] = arca_quant__dequantize_q5_1_avx2;
	d[ARCA_GGML_Q8_0] = arca_quant__dequantize_q8_0_avx2;
	d[ARCA_GGML_Q2_K] = arca_quant__dequantize_q2_K_avx2;
	d[ARCA_GGML_Q3_K] = arca_quant__dequantize_q3_K_avx2;
	d[ARCA_GGML_Q4_K] = arca_quant__dequantize_q4_K_avx2;
	d[ARCA_GGML_Q5_K] = arca_quant__dequantize_q5_K_avx2;
	d[ARCA_GGML_Q6_K] = arca_quant__dequantize_q6_K_avx2;
	d[ARCA_GGML_IQ4_NL] = arca_quant__dequantize_iq4_nl_avx2;
	d[ARCA_GGML_IQ4_XS] = arca_quant__dequantize_iq4_xs_avx2;
}

/* The searches of the K-quants and IQ4 run 16 groups per vector; the decoders and the
 * element-wise encoders stay AVX2 (memory-bound: wider vectors gain nothing there). */
static void fill_avx512(arca_quant__kernels *k)
{
	arca_quant__quantize_fn *q = k->quantize;
	k->name = "avx512";
	q[ARCA_GGML_Q2_K] = arca_quant__quantize_q2_K_avx512;
	q[ARCA_GGML_Q3_K] = arca_quant__quantize_q3_K_avx512;
	q[ARCA_GGML_Q4_K] = arca_quant__quantize_q4_K_avx512;
	q[ARCA_GGML_Q5_K] = arca_quant__quantize_q5_K_avx512;
	q[ARCA_GGML_Q6_K] = arca_quant__quantize_q6_K_avx512;
	q[ARCA_GGML_IQ4_NL] = arca_quant__quantize_iq4_nl_avx512;
	q[ARCA_GGML_IQ4_XS] = arca_quant__quantize_iq4_xs_avx512;
}
#endif

#if ARCA_QUANT_X86
/* F16C (CPUID.1:ECX bit 29); not every compiler's __builtin_cpu_supports knows the name. */
static int has_f16c(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}
#endif

static void init(void)
{
	arca_quant__fill_reference(&tables[ARCA_QUANT__SCALAR]);
	supported[ARCA_QUANT__SCALAR] = 1;
	best = ARCA_QUANT__SCALAR;
#if ARCA_QUANT_X86
	__builtin_cpu_init();
	tables[ARCA_QUANT__AVX2] = tables[ARCA_QUANT__SCALAR];
	fill_avx2(&tables[ARCA_QUANT__AVX2]);
	tables[ARCA_QUANT__AVX512] = tables[ARCA_QUANT__AVX2];
	fill_avx512(&tables[ARCA_QUANT__AVX512]);
	if (__builtin_cpu_supports("avx2") && has_f16c()) {
		supported[ARCA_QUANT__AVX2] = 1;
		best = ARCA_QUANT__AVX2;
		if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vl")) {
			supported[ARCA_QUANT__AVX512] = 1;
			best = ARCA_QUANT__AVX512;
		}
	}
#endif
}

const arca_quant__kernels *arca_quant__kernels_for(int level)
{
	pthread_once(&once, init);
	if (level < 0 || level >= ARCA_QUANT__LEVELS || !supported[level])
		return NULL;
	return &tables[level];
}

const arca_quant__kernels *arca_quant__kernels_best(void)
{
	pthread_once(&once, init);
	return &tables[best];
}
