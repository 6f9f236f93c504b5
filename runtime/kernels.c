/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kernels.c — the matrix products of runtime/kernels.h: converting activations to
 * each weight type's dot type (as llama.cpp's CPU backend does: Q8_0 with scale 127/amax
 * rounded half to even, Q8_K with scale −127/max as quantize_row_q8_K), choosing the
 * instruction-set level once, and the row loops for matrix × vector and matrix × matrix.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "runtime/kernels_internal.h"

#if ARCA_RT_X86
#include <cpuid.h>
#endif

static arca_rt__table tables[ARCA_RT_LEVELS];
static int available[ARCA_RT_LEVELS];
static const arca_rt__table *active;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if ARCA_RT_X86
static int cpu_has_avx2_fma_f16c(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_FMA) || !(c & bit_F16C))
		return 0;
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
}
#endif

static void init(void)
{
	arca_rt__fill_scalar(&tables[ARCA_RT_SCALAR]);
	available[ARCA_RT_SCALAR] = 1;
	active = &tables[ARCA_RT_SCALAR];
#if ARCA_RT_X86
	tables[ARCA_RT_AVX2] = tables[ARCA_RT_SCALAR];
	arca_rt__fill_avx2(&tables[ARCA_RT_AVX2]);
	arca_rt__fill_avx2_attn(&tables[ARCA_RT_AVX2]);
	tables[ARCA_RT_AVX512] = tables[ARCA_RT_AVX2];
	arca_rt__fill_avx512(&tables[ARCA_RT_AVX512]);
	arca_rt__fill_avx512_gemm(&tables[ARCA_RT_AVX512]);
	arca_rt__fill_avx512_act(&tables[ARCA_RT_AVX512]);
	arca_rt__fill_avx512_attn(&tables[ARCA_RT_AVX512]);
	if (cpu_has_avx2_fma_f16c()) {
		available[ARCA_RT_AVX2] = 1;
		active = &tables[ARCA_RT_AVX2];
		if (__builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vnni")) {
			available[ARCA_RT_AVX512] = 1;
			active = &tables[ARCA_RT_AVX512];
			if (__builtin_cpu_supports("avx512bf16"))
				arca_rt__fill_avx512_bf16(&tables[ARCA_RT_AVX512]);
		}
	}
#endif
}

static const arca_rt__table *table(void)
{
	pthread_once(&once, init);
	return active;
}

const char *arca_rt_kernel_name(void)
{
	return table()->name;
}

arca_rt_kv_tile_fn arca_rt_kv_tile(void)
{
	return table()->kv_tile;
}

arca_rt_kv_keys_fn arca_rt_kv_keys(void)
{
	return table()->kv_keys;
}

int arca_rt_kernel_force(int level)
{
	pthread_once(&once, init);
	if (level < 0 || level >= ARCA_RT_LEVELS || !available[level])
		return -1;
	active = &tables[level];
	return 0;
}

act_kind arca_rt__act_kind(int weight_type)
{
	const arca_ggml_type_info *info = arca_ggml_type_info_get(weight_type);
	switch (info ? info->dot_type : ARCA_GGML_NONE) {
	case ARCA_GGML_F32: return ACT_F32;
	case ARCA_GGML_F16: return ACT_F16;
	case ARCA_GGML_BF16: return ACT_BF16;
	case ARCA_GGML_Q8_0: return ACT_Q8_0;
	default: return ACT_Q8_K;
	}
}

/* The type table decides: a type with an activation type and a decoder runs (the scalar
 * reference multiplies any such type); the levels' tables only make some faster. */
int arca_rt_weight_supported(int weight_type)
{
	const arca_ggml_type_info *info = arca_ggml_type_info_get(weight_type);
	return info && info->dequantize && (info->dot_type == ARCA_GGML_F32 ||
		info->dot_type == ARCA_GGML_F16 || info->dot_type == ARCA_GGML_BF16 ||
		info->dot_type == ARCA_GGML_Q8_0 || info->dot_type == ARCA_GGML_Q8_K);
}

size_t arca_rt_act_row_size(int weight_type, size_t n)
{
	switch (arca_rt__act_kind(weight_type)) {
	case ACT_F32: case ACT_F16: case ACT_BF16: return n * 4;
	case ACT_Q8_0: return (n / 32 + 1) / 2 * sizeof(act_q8_0x2);
	case ACT_Q8_K: return n / 256 * sizeof(act_q8_k);
	}
	return 0;
}

void arca_rt__quantize_act_q8_0(const float *x, act_q8_0x2 *out, size_t n)
{
	size_t blocks = n / 32;
	memset(out, 0, (blocks + 1) / 2 * sizeof(*out));
	for (size_t b = 0; b < blocks; b++, x += 32) {
		act_q8_0x2 *pair = out + b / 2;
		int8_t *q = pair->qs + 32 * (b & 1);
		float amax = 0.0f;
		for (int j = 0; j < 32; j++)
			amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
		float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
		float dh = arca_fp16_to_fp32(arca_fp32_to_fp16(d)); /* llama.cpp stores d as fp16 */
		for (int j = 0; j < 32; j++)
			q[j] = (int8_t)nearbyintf(x[j] * id); /* half to even */
		for (int lane = 0; lane < 8; lane++) {
			int s = q[4 * lane] + q[4 * lane + 1] + q[4 * lane + 2] + q[4 * lane + 3];
			pair->d[8 * (b & 1) + lane] = dh;
			pair->sd[8 * (b & 1) + lane] = (float)s * dh;
		}
	}
}

void arca_rt__quantize_act_q8_k(const float *x, act_q8_k *out, size_t n)
{
	for (size_t b = 0; b < n / 256; b++, x += 256, out++) {
		float max = 0.0f, amax = 0.0f;
		for (int j = 0; j < 256; j++) {
			if (fabsf(x[j]) > amax) {
				amax = fabsf(x[j]);
				max = x[j];
			}
		}
		memset(out, 0, sizeof(*out));
		if (amax == 0.0f)
			continue;
		const float iscale = -127.0f / max;
		for (int j = 0; j < 256; j++) {
			int v = (int)nearbyintf(iscale * x[j]);
			out->qs[j] = (int8_t)(v < 127 ? v : 127);
		}
		for (int g = 0; g < 16; g++) {
			int s = 0;
			for (int j = 0; j < 16; j++)
				s += out->qs[16 * g + j];
			out->bsums[g] = (int16_t)s;
		}
		out->d = 1.0f / iscale;
	}
}

void arca_rt__round_act_f16(const float *x, float *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = arca_fp16_to_fp32(arca_fp32_to_fp16(x[i]));
}

void arca_rt__round_act_bf16(const float *x, float *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = arca_bf16_to_fp32(arca_fp32_to_bf16(x[i]));
}

void arca_rt_act_convert(int weight_type, const float *x, void *out, size_t n)
{
	switch (arca_rt__act_kind(weight_type)) {
	case ACT_F32:
		memcpy(out, x, n * 4);
		break;
	case ACT_F16:
		table()->round_f16(x, out, n);
		break;
	case ACT_BF16:
		table()->round_bf16(x, out, n);
		break;
	case ACT_Q8_0:
		table()->quantize_q8_0(x, out, n);
		break;
	case ACT_Q8_K:
		table()->quantize_q8_k(x, out, n);
		break;
	}
}

void arca_rt_matvec(int weight_type, const void *w, size_t row_bytes, size_t n,
	const void *x, float *y, size_t r0, size_t r1)
{
	arca_rt__gemm_fn gemm = table()->gemm[weight_type];
	if (gemm) {
		gemm(n, (const char *)w + r0 * row_bytes, row_bytes, r1 - r0, x, 0, 1, y, 0);
		return;
	}
	arca_rt__dot_fn dot = table()->dot[weight_type];
	for (size_t r = r0; r < r1; r++)
		y[r - r0] = dot ? dot(n, (const char *)w + r * row_bytes, x) :
			arca_rt__dot_reference(weight_type, n, (const char *)w + r * row_bytes, x);
}

/* Strips of rows small enough to stay in the L2 cache while every token passes over them. */
#define STRIP_BYTES (192 * 1024)

void arca_rt_matmul(int weight_type, const void *w, size_t row_bytes, size_t n,
	const void *x, size_t x_stride, size_t nb, float *y, size_t ldy, size_t r0, size_t r1)
{
	arca_rt__dot_fn dot = table()->dot[weight_type];
	arca_rt__dot4_fn dot4 = table()->dot4[weight_type];
	arca_rt__gemm_fn gemm = table()->gemm[weight_type];
	size_t strip = STRIP_BYTES / (row_bytes ? row_bytes : 1);
	strip = strip < 4 ? 4 : strip;
	for (size_t s0 = r0; s0 < r1; s0 += strip) {
		size_t s1 = s0 + strip < r1 ? s0 + strip : r1;
		if (gemm) {
			gemm(n, (const char *)w + s0 * row_bytes, row_bytes, s1 - s0, x, x_stride, nb,
				y + s0, ldy);
			continue;
		}
		size_t b = 0;
		for (; dot4 && b + 4 <= nb; b += 4) {
			const void *xb = (const char *)x + b * x_stride;
			for (size_t r = s0; r < s1; r++) {
				float out[4];
				dot4(n, (const char *)w + r * row_bytes, xb, x_stride, out);
				for (int t = 0; t < 4; t++)
					y[(b + t) * ldy + r] = out[t];
			}
		}
		for (; b < nb; b++) {
			const void *xb = (const char *)x + b * x_stride;
			for (size_t r = s0; r < s1; r++)
				y[b * ldy + r] = dot ? dot(n, (const char *)w + r * row_bytes, xb) :
					arca_rt__dot_reference(weight_type, n, (const char *)w + r * row_bytes,
						xb);
		}
	}
}
