/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/ggml_blocks.h — the byte layout of every ggml block type arca reads or writes, as
 * GGUF files store them (ggml's ggml-common.h; docs/formats.md §3 restates it).
 *
 * A tensor row of a quantized type is a run of these blocks, each covering `block_size`
 * elements (32 for the legacy types and IQ4_NL, 256 for the K-quants and IQ4_XS). Half
 * precision fields (d, dmin, m) are IEEE fp16 stored little-endian; arca reads and writes
 * them byte by byte, so the structs describe the layout (sizes and offsets, checked below)
 * and give strides their names: code steps through blocks with sizeof(arca_block_q4_K),
 * never with a bare 144.
 */
#ifndef ARCA_GGML_BLOCKS_H
#define ARCA_GGML_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#define ARCA_QK 32      /* elements of a legacy (and IQ4_NL) block */
#define ARCA_QK_K 256   /* elements of a K-quant (and IQ4_XS) super-block */

/* Q4_0: x = d · (q − 8), q the 4-bit codes, element j in the low nibble of qs[j] and
 * element j + 16 in its high nibble. */
typedef struct {
	uint16_t d;
	uint8_t qs[ARCA_QK / 2];
} arca_block_q4_0;

/* Q4_1: x = d · q + m. */
typedef struct {
	uint16_t d, m;
	uint8_t qs[ARCA_QK / 2];
} arca_block_q4_1;

/* Q5_0: as Q4_0 with a fifth bit per element in qh (32 bits), x = d · (q − 16). */
typedef struct {
	uint16_t d;
	uint8_t qh[4];
	uint8_t qs[ARCA_QK / 2];
} arca_block_q5_0;

/* Q5_1: x = d · q + m with 5-bit codes. */
typedef struct {
	uint16_t d, m;
	uint8_t qh[4];
	uint8_t qs[ARCA_QK / 2];
} arca_block_q5_1;

/* Q8_0: x = d · q, q signed bytes. */
typedef struct {
	uint16_t d;
	int8_t qs[ARCA_QK];
} arca_block_q8_0;

/* Q2_K: 16 sub-blocks of 16; scales[i] = scale | min << 4 (4 bits each), 2-bit codes. */
typedef struct {
	uint8_t scales[ARCA_QK_K / 16];
	uint8_t qs[ARCA_QK_K / 4];
	uint16_t d, dmin;
} arca_block_q2_K;

/* Q3_K: 2-bit codes plus a high bit in hmask, 16 six-bit scales packed in 12 bytes. */
typedef struct {
	uint8_t hmask[ARCA_QK_K / 8];
	uint8_t qs[ARCA_QK_K / 4];
	uint8_t scales[12];
	uint16_t d;
} arca_block_q3_K;

/* Q4_K: 8 sub-blocks of 32 with 6-bit scales and mins packed in 12 bytes. */
typedef struct {
	uint16_t d, dmin;
	uint8_t scales[12];
	uint8_t qs[ARCA_QK_K / 2];
} arca_block_q4_K;

/* Q5_K: Q4_K with a fifth bit per element in qh. */
typedef struct {
	uint16_t d, dmin;
	uint8_t scales[12];
	uint8_t qh[ARCA_QK_K / 8];
	uint8_t qs[ARCA_QK_K / 2];
} arca_block_q5_K;

/* Q6_K: low 4 bits in ql, high 2 in qh, 16 signed 8-bit scales. */
typedef struct {
	uint8_t ql[ARCA_QK_K / 2];
	uint8_t qh[ARCA_QK_K / 4];
	int8_t scales[ARCA_QK_K / 16];
	uint16_t d;
} arca_block_q6_K;

/* Q8_K: what K-quant products multiply with: a float scale, signed bytes, and the sum of
 * each group of 16 (ggml's vec_dot type for the K-quants; never stored in files). */
typedef struct {
	float d;
	int8_t qs[ARCA_QK_K];
	int16_t bsums[ARCA_QK_K / 16];
} arca_block_q8_K;

/* IQ4_NL: Q4_0's layout with the codes indexing a non-linear table. */
typedef struct {
	uint16_t d;
	uint8_t qs[ARCA_QK / 2];
} arca_block_iq4_nl;

/* IQ4_XS: 8 sub-blocks of 32 with 6-bit scales (low 4 bits in scales_l, high 2 in
 * scales_h) and IQ4_NL codes. */
typedef struct {
	uint16_t d;
	uint16_t scales_h;
	uint8_t scales_l[ARCA_QK_K / 64];
	uint8_t qs[ARCA_QK_K / 2];
} arca_block_iq4_xs;

/* The sizes GGUF files depend on: a compiler that pads any of these cannot build arca. */
_Static_assert(sizeof(arca_block_q4_0) == 18, "Q4_0 block is 18 bytes");
_Static_assert(sizeof(arca_block_q4_1) == 20, "Q4_1 block is 20 bytes");
_Static_assert(sizeof(arca_block_q5_0) == 22, "Q5_0 block is 22 bytes");
_Static_assert(sizeof(arca_block_q5_1) == 24, "Q5_1 block is 24 bytes");
_Static_assert(sizeof(arca_block_q8_0) == 34, "Q8_0 block is 34 bytes");
_Static_assert(sizeof(arca_block_q2_K) == 84, "Q2_K block is 84 bytes");
_Static_assert(sizeof(arca_block_q3_K) == 110, "Q3_K block is 110 bytes");
_Static_assert(sizeof(arca_block_q4_K) == 144, "Q4_K block is 144 bytes");
_Static_assert(sizeof(arca_block_q5_K) == 176, "Q5_K block is 176 bytes");
_Static_assert(sizeof(arca_block_q6_K) == 210, "Q6_K block is 210 bytes");
_Static_assert(sizeof(arca_block_q8_K) == 292, "Q8_K block is 292 bytes");
_Static_assert(sizeof(arca_block_iq4_nl) == 18, "IQ4_NL block is 18 bytes");
_Static_assert(sizeof(arca_block_iq4_xs) == 136, "IQ4_XS block is 136 bytes");
_Static_assert(offsetof(arca_block_q6_K, qh) == 128 && offsetof(arca_block_q6_K, scales) == 192,
	"Q6_K: ql, qh, scales, d");
_Static_assert(offsetof(arca_block_q5_K, qh) == 16 && offsetof(arca_block_q5_K, qs) == 48,
	"Q5_K: d, dmin, scales, qh, qs");
_Static_assert(offsetof(arca_block_q3_K, scales) == 96 && offsetof(arca_block_q3_K, d) == 108,
	"Q3_K: hmask, qs, scales, d");
_Static_assert(offsetof(arca_block_q2_K, d) == 80, "Q2_K: scales, qs, d, dmin");

#endif
