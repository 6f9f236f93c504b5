/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/cuda/blocks.cuh — the weight types the GPU reads in their stored form (no
 * dequantized copy): for each, how many elements a block holds, its bytes, and decode8(),
 * which turns eight consecutive elements of a block into floats. Matrix-vector products
 * dot those with the activations; matrix-matrix products write them into shared-memory
 * tiles. The layouts are arca/ggml_blocks.h's; the arithmetic is quant/dequant.c's
 * (d · q, d · q + m, and the K-quants' sub-block scales), so a decoded weight is the CPU's
 * bit for bit (tests/runtime/gpu_blocks.cc checks). by_type() turns a type id into the
 * template argument the kernels take.
 */
#ifndef ARCA_RUNTIME_CUDA_BLOCKS_CUH
#define ARCA_RUNTIME_CUDA_BLOCKS_CUH

#include "runtime/cuda/compat.cuh"

#include <stdint.h>
#include <type_traits>

namespace arca_cuda {

/* ggml type ids (arca/quant.h's ARCA_GGML_*, spelled here so device code needs no C
 * header). */
enum {
	T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q5_0 = 6, T_Q5_1 = 7, T_Q8_0 = 8,
	T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14, T_BF16 = 30
};

static __device__ __forceinline__ float half_at(const uint8_t *p)
{
	return __half2float(__ushort_as_half(load_aligned<uint16_t>(p)));
}

/* Eight bytes at p, aligned to A bytes (2, 4 or 8), as two little-endian words: four,
 * two or one load. Blocks of most types are only 2-byte aligned (Q8_0's 34 bytes, Q6_K's
 * 210); each type's decoder passes the alignment its layout guarantees, given rows that
 * start 16-byte aligned (backend.cu checks). */
template <int A> static __device__ __forceinline__ uint2 bytes8(const uint8_t *p)
{
	uint2 r;
	if constexpr (A >= 8) {
		r = load_aligned<uint2>(p);
	} else if constexpr (A == 4) {
		r.x = load_aligned<uint32_t>(p);
		r.y = load_aligned<uint32_t>(p + 4);
	} else {
		r.x = (uint32_t)load_aligned<uint16_t>(p) | (uint32_t)load_aligned<uint16_t>(p + 2) << 16;
		r.y = (uint32_t)load_aligned<uint16_t>(p + 4) | (uint32_t)load_aligned<uint16_t>(p + 6) << 16;
	}
	return r;
}

/* (float)(u − bias) for 0 <= u < 2^22 and a small constant bias, exactly, without the
 * integer-to-float conversion (on a multiprocessor a quarter of the float rate, which
 * would bound a decode step's 4- and 8-bit products): u's bits under 2^23's exponent make
 * the float 2^23 + u, and one subtraction of the constant 2^23 + bias leaves the integer. */
static __device__ __forceinline__ float int_of(uint32_t u, int bias)
{
	return __int_as_float((int)(0x4B000000u | u)) - (8388608.0f + (float)bias);
}

/* Byte i < 8 of such a pair (i a constant once loops are unrolled). */
static __device__ __forceinline__ uint32_t byte_of(uint2 w, int i)
{
	return ((i < 4 ? w.x : w.y) >> (8 * (i & 3))) & 0xffu;
}

/* f as the 16-bit type A (half, or bfloat16 for BF16 weights) a tile or cuBLAS reads. */
template <class A> static __device__ __forceinline__ A to_16bit(float f);
template <> __device__ __forceinline__ __half to_16bit<__half>(float f)
{
	return __float2half(f);
}
template <> __device__ __forceinline__ __nv_bfloat16 to_16bit<__nv_bfloat16>(float f)
{
	return __float2bfloat16(f);
}

/* The 6-bit scale and min j of a Q4_K/Q5_K super-block (ggml's get_scale_min_k4). */
static __device__ __forceinline__ void scale_min_k4(int j, const uint8_t *s, float *sc, float *m)
{
	if (j < 4) {
		*sc = int_of(s[j] & 63u, 0);
		*m = int_of(s[j + 4] & 63u, 0);
	} else {
		*sc = int_of((s[j + 4] & 15u) | ((uint32_t)(s[j - 4] >> 6) << 4), 0);
		*m = int_of((uint32_t)(s[j + 4] >> 4) | ((uint32_t)(s[j] >> 6) << 4), 0);
	}
}

template <int T> struct block;
/* F32, F16, BF16: a "block" is eight elements, so every type steps the same way. */
template <> struct block<T_F32> { static constexpr int qk = 8, bytes = 32; };
template <> struct block<T_F16> { static constexpr int qk = 8, bytes = 16; };
template <> struct block<T_BF16> { static constexpr int qk = 8, bytes = 16; };
template <> struct block<T_Q4_0> { static constexpr int qk = 32, bytes = 18; };
template <> struct block<T_Q4_1> { static constexpr int qk = 32, bytes = 20; };
template <> struct block<T_Q5_0> { static constexpr int qk = 32, bytes = 22; };
template <> struct block<T_Q5_1> { static constexpr int qk = 32, bytes = 24; };
template <> struct block<T_Q8_0> { static constexpr int qk = 32, bytes = 34; };
template <> struct block<T_Q4_K> { static constexpr int qk = 256, bytes = 144; };
template <> struct block<T_Q5_K> { static constexpr int qk = 256, bytes = 176; };
template <> struct block<T_Q6_K> { static constexpr int qk = 256, bytes = 210; };

/* Elements [8c, 8c + 8) of block b into out. */
template <int T> static __device__ __forceinline__ void decode8(const uint8_t *b, int c, float *out);

template <> __device__ __forceinline__ void decode8<T_F32>(const uint8_t *b, int c, float *out)
{
	float4 u = load_aligned<float4>(b), v = load_aligned<float4>(b + 16);
	out[0] = u.x, out[1] = u.y, out[2] = u.z, out[3] = u.w;
	out[4] = v.x, out[5] = v.y, out[6] = v.z, out[7] = v.w;
}

/* The eight 16-bit floats of one 16-byte load at p, each made a float by to_float (of its
 * bits): F16 and BF16 weights, the F16 KV cache. */
template <class F>
static __device__ __forceinline__ void halves8(const void *p, float *out, F to_float)
{
	uint4 u = load_aligned<uint4>(p);
	const uint32_t w[4] = { u.x, u.y, u.z, u.w };
	ARCA_UNROLL
	for (int i = 0; i < 4; i++) {
		out[2 * i] = to_float((unsigned short)(w[i] & 0xffffu));
		out[2 * i + 1] = to_float((unsigned short)(w[i] >> 16));
	}
}

static __device__ __forceinline__ float f16_bits(unsigned short h)
{
	return __half2float(__ushort_as_half(h));
}

static __device__ __forceinline__ float bf16_bits(unsigned short h)
{
	return __bfloat162float(__ushort_as_bfloat16(h));
}

template <> __device__ __forceinline__ void decode8<T_F16>(const uint8_t *b, int c, float *out)
{
	halves8(b, out, f16_bits);
}

template <> __device__ __forceinline__ void decode8<T_BF16>(const uint8_t *b, int c, float *out)
{
	halves8(b, out, bf16_bits);
}

template <> __device__ __forceinline__ void decode8<T_Q8_0>(const uint8_t *b, int c, float *out)
{
	float d = half_at(b);
	uint2 q = bytes8<2>(b + 2 + 8 * c);
	ARCA_UNROLL
	for (int i = 0; i < 8; i++)
		out[i] = int_of(byte_of(q, i) ^ 0x80u, 128) * d;   /* the signed byte, offset */
}

/* Q4_0/Q4_1/Q5_0/Q5_1: element j < 16 in the low nibble of qs[j], j ≥ 16 in the high
 * nibble of qs[j − 16]; the fifth bit of element j is bit j of qh. */
template <> __device__ __forceinline__ void decode8<T_Q4_0>(const uint8_t *b, int c, float *out)
{
	float d = half_at(b);
	uint2 q = bytes8<2>(b + 2 + (8 * c) % 16);
	int shift = c >= 2 ? 4 : 0;
	ARCA_UNROLL
	for (int i = 0; i < 8; i++)
		out[i] = int_of((byte_of(q, i) >> shift) & 15, 8) * d;
}

template <> __device__ __forceinline__ void decode8<T_Q4_1>(const uint8_t *b, int c, float *out)
{
	float d = half_at(b), m = half_at(b + 2);
	uint2 q = bytes8<4>(b + 4 + (8 * c) % 16);
	int shift = c >= 2 ? 4 : 0;
	ARCA_UNROLL
	for (int i = 0; i < 8; i++)
		out[i] = int_of((byte_of(q, i) >> shift) & 15, 0) * d + m;
}

template <> __device__ __forceinline__ void decode8<T_Q5_0>(const uint8_t *b, int c, float *out)
{
	float d = half_at(b);
	uint32_t qh = (uint32_t)load_aligned<uint16_t>(b + 2) |
		(uint32_t)load_aligned<uint16_t>(b + 4) << 16;
	uint2 q = bytes8<2>(b + 6 + (8 * c) % 16);
	int shift = c >= 2 ? 4 : 0;
	ARCA_UNROLL
	for (int i = 0; i < 8; i++) {
		int j = 8 * c + i;
		uint32_t v = ((byte_of(q, i) >> shift) & 15) | ((qh >> j) & 1) << 4;
		out[i] = int_of(v, 16) * d;
	}
}

template <> __device__ __forceinline__ void decode8<T_Q5_1>(const uint8_t *b, int c, float *out)
{
	float d = half_at(b), m = half_at(b + 2);
	uint32_t qh = load_aligned<uint32_t>(b + 4);
	uint2 q = bytes8<8>(b + 8 + (8 * c) % 16);
	int shift = c >= 2 ? 4 : 0;
	ARCA_UNROLL
	for (int i = 0; i < 8; i++) {
		int j = 8 * c + i;
		uint32_t v = ((byte_of(q, i) >> shift) & 15) | ((qh >> j) & 1) << 4;
		out[i] = int_of(v, 0) * d + m;
	}
}

/* Q4_K/Q5_K: four groups of 64; in group g, elements [0, 32) are the low nibbles of
 * qs[32g ..] with sub-block 2g's scale and min, [32, 64) the high nibbles with 2g + 1's;
 * Q5_K's fifth bit of element l of sub-block s is bit s of qh[l]. Their blocks (144 and
 * 176 bytes) keep rows' 16-byte alignment, so the quants load eight bytes at once. */
template <int FIFTH>
static __device__ __forceinline__ void decode8_k45(const uint8_t *b, int c, float *out)
{
	int e = 8 * c, g = e / 64, hi = (e % 64) / 32, l0 = e % 32, sub = 2 * g + hi;
	float d = half_at(b), dmin = half_at(b + 2), sc, m;
	scale_min_k4(sub, b + 4, &sc, &m);
	float d1 = d * sc, m1 = dmin * m;
	uint2 q = bytes8<8>(b + (FIFTH ? 48 : 16) + 32 * g + l0);
	uint2 qh = FIFTH ? bytes8<8>(b + 16 + l0) : uint2{};
	ARCA_UNROLL
	for (int i = 0; i < 8; i++) {
		uint32_t v = hi ? byte_of(q, i) >> 4 : byte_of(q, i) & 15;
		if (FIFTH)
			v |= ((byte_of(qh, i) >> sub) & 1) << 4;
		out[i] = d1 * int_of(v, 0) - m1;
	}
}

template <> __device__ __forceinline__ void decode8<T_Q4_K>(const uint8_t *b, int c, float *out)
{
	decode8_k45<0>(b, c, out);
}

template <> __device__ __forceinline__ void decode8<T_Q5_K>(const uint8_t *b, int c, float *out)
{
	decode8_k45<1>(b, c, out);
}

/* Q6_K: two halves of 128; in half n, quarter k (32 elements l) takes the low (k < 2) or
 * high nibble of ql[64n + 32(k & 1) + l], bits 2k of qh[32n + l], scale 8n + l/16 + 2k. */
template <> __device__ __forceinline__ void decode8<T_Q6_K>(const uint8_t *b, int c, float *out)
{
	int e = 8 * c, n = e / 128, k = (e % 128) / 32, l0 = e % 32;
	float d = half_at(b + 208);
	float ds = d * int_of(b[192 + 8 * n + l0 / 16 + 2 * k] ^ 0x80u, 128);   /* signed scale */
	uint2 ql = bytes8<2>(b + 64 * n + 32 * (k & 1) + l0), qh = bytes8<2>(b + 128 + 32 * n + l0);
	int shift = k >= 2 ? 4 : 0;
	ARCA_UNROLL
	for (int i = 0; i < 8; i++) {
		uint32_t v = ((byte_of(ql, i) >> shift) & 15) | ((byte_of(qh, i) >> (2 * k)) & 3) << 4;
		out[i] = ds * int_of(v, 32);
	}
}

/* f(std::integral_constant<int, T>()) for the weight type T of `type` (type_supported). */
template <class F> static inline void by_type(int type, F f)
{
	switch (type) {
	case T_F32: f(std::integral_constant<int, T_F32>()); break;
	case T_F16: f(std::integral_constant<int, T_F16>()); break;
	case T_BF16: f(std::integral_constant<int, T_BF16>()); break;
	case T_Q4_0: f(std::integral_constant<int, T_Q4_0>()); break;
	case T_Q4_1: f(std::integral_constant<int, T_Q4_1>()); break;
	case T_Q5_0: f(std::integral_constant<int, T_Q5_0>()); break;
	case T_Q5_1: f(std::integral_constant<int, T_Q5_1>()); break;
	case T_Q8_0: f(std::integral_constant<int, T_Q8_0>()); break;
	case T_Q4_K: f(std::integral_constant<int, T_Q4_K>()); break;
	case T_Q5_K: f(std::integral_constant<int, T_Q5_K>()); break;
	case T_Q6_K: f(std::integral_constant<int, T_Q6_K>()); break;
	default: break;   /* backend.cu refuses other types when it opens */
	}
}

} // namespace arca_cuda

#endif
