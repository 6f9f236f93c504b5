/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/quant_internal.h — what the quantizer files share and nobody else sees: the row
 * kernel signatures, the per-instruction-set kernel tables, the scalar reference kernels of
 * each file, and the exact rounding helpers every quantizer relies on.
 *
 * A kernel converts n elements, n a whole number of blocks. No ggml block ever spans two
 * rows, so a kernel may be handed one row or many rows at once and writes the same bytes.
 * Kernels cannot fail: quant.c checks types and lengths before calling one.
 */
#ifndef ARCA_QUANT_QUANT_INTERNAL_H
#define ARCA_QUANT_QUANT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arca/ggml_blocks.h"
#include "arca/quant.h"

typedef void (*arca_quant__quantize_fn)(const float *src, void *dst, size_t n);
typedef void (*arca_quant__dequantize_fn)(const void *src, float *dst, size_t n);

/* One instruction set's kernels, indexed by ggml type id; NULL for types arca does not
 * convert. */
typedef struct {
	const char *name; /* "scalar", "avx2", "avx512" */
	arca_quant__quantize_fn quantize[ARCA_GGML_TYPE_COUNT];
	arca_quant__dequantize_fn dequantize[ARCA_GGML_TYPE_COUNT];
} arca_quant__kernels;

enum {
	ARCA_QUANT__SCALAR = 0,
	ARCA_QUANT__AVX2,     /* AVX2 + F16C */
	ARCA_QUANT__AVX512,   /* AVX-512 F, BW, VL (plus AVX2 + F16C) */
	ARCA_QUANT__LEVELS
};

/* The kernel table for `level` (a type without a kernel of that level has the level
 * below's), or NULL when this CPU cannot run that level. Tests use it to check each level
 * against the scalar one. */
const arca_quant__kernels *arca_quant__kernels_for(int level);

/* The table of the best level this CPU supports (computed once, thread-safe). */
const arca_quant__kernels *arca_quant__kernels_best(void);

/* Fills the scalar level from the type table (quant/ggml_types.c): every type's reference
 * kernels. The SIMD levels start from it and override entries. */
void arca_quant__fill_reference(arca_quant__kernels *k);

/* ------------------------------------------------------------------ scalar kernels */

/* quant_legacy.c */
void arca_quant__quantize_f32(const float *src, void *dst, size_t n);
void arca_quant__quantize_f16(const float *src, void *dst, size_t n);
void arca_quant__quantize_bf16(const float *src, void *dst, size_t n);
void arca_quant__quantize_q4_0(const float *src, void *dst, size_t n);
void arca_quant__quantize_q4_1(const float *src, void *dst, size_t n);
void arca_quant__quantize_q5_0(const float *src, void *dst, size_t n);
void arca_quant__quantize_q5_1(const float *src, void *dst, size_t n);
void arca_quant__quantize_q8_0(const float *src, void *dst, size_t n);
/* One Q8_0 block (32 values, 34 bytes); the SIMD kernels fall back to it. */
void arca_quant__quantize_q8_0_block(const float *x, uint8_t *out);

/* quant_k.c */
void arca_quant__quantize_q2_K(const float *src, void *dst, size_t n);
void arca_quant__quantize_q3_K(const float *src, void *dst, size_t n);
void arca_quant__quantize_q4_K(const float *src, void *dst, size_t n);
void arca_quant__quantize_q5_K(const float *src, void *dst, size_t n);
void arca_quant__quantize_q6_K(const float *src, void *dst, size_t n);
/* Pieces of the K-quant encoders the SIMD path shares (it replaces only the searches and
 * the requantization). Scales from the 6-bit-scale search of each sub-block → d, dmin and
 * the 12 packed scale bytes of Q4_K/Q5_K (out = block start); the same for Q2_K's 16
 * sub-blocks (scales[16], d, dmin). Codes (one byte each, 256) → Q4_K nibbles, Q5_K
 * nibbles + high bits, the 2-bit layout of Q2_K/Q3_K (qs = where it goes). */
void arca_quant__pack_scales_k4(const float *scales, const float *mins, uint8_t *out);
void arca_quant__pack_scales_q2_K(const float *scales, const float *mins, uint8_t *out);
void arca_quant__pack_codes_q4_K(const uint8_t *L, uint8_t *out);
void arca_quant__pack_codes_q5_K(const uint8_t *L, uint8_t *out);
void arca_quant__pack_2bit(const uint8_t *L, uint8_t *qs);
/* Q3_K: the 16 sub-block scales → d and 12 packed 6-bit scales; the stored scale of
 * sub-block j (−32..31); codes 0..7 → hmask and 2-bit qs. */
void arca_quant__pack_scales_q3_K(const float *scales, uint8_t *out);
int arca_quant__scale_q3_K(const uint8_t *out, int j);
void arca_quant__pack_codes_q3_K(const uint8_t *L, uint8_t *out);
/* Q6_K: the 16 sub-block scales → d and int8 scales; 0 (block all zero bytes) when every
 * scale is below 1e-15. Codes 0..63 → ql/qh. */
int arca_quant__pack_scales_q6_K(const float *scales, uint8_t *out);
void arca_quant__pack_codes_q6_K(const uint8_t *L, uint8_t *out);

/* quant_iq4.c */
void arca_quant__quantize_iq4_nl(const float *src, void *dst, size_t n);
void arca_quant__quantize_iq4_xs(const float *src, void *dst, size_t n);
extern const int8_t arca_quant__kvalues_iq4nl[16];

/* dequant.c */
void arca_quant__dequantize_f32(const void *src, float *dst, size_t n);
void arca_quant__dequantize_f16(const void *src, float *dst, size_t n);
void arca_quant__dequantize_bf16(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q4_0(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q4_1(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q5_0(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q5_1(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q8_0(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q2_K(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q3_K(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q4_K(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q5_K(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q6_K(const void *src, float *dst, size_t n);
void arca_quant__dequantize_iq4_nl(const void *src, float *dst, size_t n);
void arca_quant__dequantize_iq4_xs(const void *src, float *dst, size_t n);

/* ------------------------------------------------------------------ SIMD kernels */

/* x86-64 builds carry the AVX2 and AVX-512 kernels (per-function target attributes);
 * quant_simd.c only puts them in a table when the CPU has the instructions. */
#if defined(__x86_64__) && defined(__GNUC__)
#define ARCA_QUANT_X86 1

/* quant_avx2.c (AVX2 + F16C) */
void arca_quant__quantize_f16_avx2(const float *src, void *dst, size_t n);
void arca_quant__quantize_bf16_avx2(const float *src, void *dst, size_t n);
void arca_quant__quantize_q8_0_avx2(const float *src, void *dst, size_t n);
void arca_quant__quantize_q4_0_avx2(const float *src, void *dst, size_t n);
void arca_quant__quantize_q4_1_avx2(const float *src, void *dst, size_t n);
void arca_quant__quantize_q5_0_avx2(const float *src, void *dst, size_t n);
void arca_quant__quantize_q5_1_avx2(const float *src, void *dst, size_t n);
void arca_quant__dequantize_f16_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_bf16_avx2(const void *src, float *dst, size_t n);

/* dequant_avx2.c (AVX2 + F16C) */
void arca_quant__dequantize_q4_0_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q8_0_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q4_K_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q6_K_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_iq4_nl_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q4_1_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q5_0_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q5_1_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q2_K_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q3_K_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_q5_K_avx2(const void *src, float *dst, size_t n);
void arca_quant__dequantize_iq4_xs_avx2(const void *src, float *dst, size_t n);

/* quant_avx512_k.c (AVX-512 F, BW, VL): the K-quant searches, 16 groups at a time */
void arca_quant__quantize_q2_K_avx512(const float *src, void *dst, size_t n);
void arca_quant__quantize_q4_K_avx512(const float *src, void *dst, size_t n);
void arca_quant__quantize_q5_K_avx512(const float *src, void *dst, size_t n);
void arca_quant__quantize_q6_K_avx512(const float *src, void *dst, size_t n);
void arca_quant__quantize_q3_K_avx512(const float *src, void *dst, size_t n);

/* quant_avx512_iq4.c (AVX-512 F, BW, VL): the IQ4 scale search, 16 groups at a time */
void arca_quant__quantize_iq4_nl_avx512(const float *src, void *dst, size_t n);
void arca_quant__quantize_iq4_xs_avx512(const float *src, void *dst, size_t n);
#else
#define ARCA_QUANT_X86 0
#endif

/* ------------------------------------------------------------------ exact helpers */

static inline uint32_t arca_quant__f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float arca_quant__f32_from_bits(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

/* Round half to even through the float adder (llama.cpp's nearest_int): adding 1.5·2^23
 * leaves the rounded integer in the low mantissa bits. Exact for |f| <= 4194303; other
 * inputs give some int (never undefined behaviour) and occur only for non-finite rows. */
static inline int arca_quant__nearest_int(float f)
{
	float v = f + 12582912.f;
	int32_t i;
	memcpy(&i, &v, sizeof(i));
	return (i & 0x007fffff) - 0x00400000;
}

/* float -> int32 the way x86-64's cvttss2si does it, which is what llama.cpp's
 * `(int8_t)(x*id + 8.5f)` and `= roundf(x)` casts compile to: truncation toward zero, and
 * INT32_MIN ("integer indefinite") for NaN and out-of-range values, of which the caller
 * keeps the low byte. Spelled out because C leaves those conversions undefined, and they
 * do happen: an fp32-subnormal block makes 1/d overflow to inf. */
static inline int32_t arca_quant__trunc_i32(float f)
{
	if (f > -2147483904.f && f < 2147483648.f)
		return (int32_t)f;
	return INT32_MIN;
}

static inline uint16_t arca_quant__get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline void arca_quant__put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline uint32_t arca_quant__get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void arca_quant__put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A half read from a block, as float (the fp16-rounded value K-quants requantize with). */
static inline float arca_quant__half_at(const uint8_t *p)
{
	return arca_fp16_to_fp32(arca_quant__get_le16(p));
}

/* The 6-bit (scale, min) pair of sub-block j from the 12 packed bytes of Q4_K/Q5_K. */
static inline void arca_quant__scale_min_k4(int j, const uint8_t *s, uint8_t *sc, uint8_t *m)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*m = s[j + 4] & 63;
	} else {
		*sc = (uint8_t)((s[j + 4] & 15) | ((s[j - 4] >> 6) << 4));
		*m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
	}
}

#endif
