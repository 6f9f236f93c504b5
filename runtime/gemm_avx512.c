/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/gemm_avx512.c — the AVX-512 register-tiled matrix products: up to 4 weight rows ×
 * 4 tokens per tile in 512-bit registers, so each weight vector is decoded once for four
 * tokens and each activation vector loaded once for four rows.
 *
 * The 32-element types (Q8_0, Q4_0, Q5_0) put two blocks in one vector as unsigned codes u
 * (value u − c: c = 128, 8, 16) and multiply them with the signed activation quants by
 * vpdpbusd; the offset is removed in float with the activation's per-lane sums, and each
 * block's two scales are applied as whole-vector multiplies. F32, F16 and BF16 weights are
 * widened 16 at a time (vcvtph2ps, a shift) and multiplied in float against activations
 * already rounded to the weight's precision; F16 and BF16 in tiles of 4 rows × 6 tokens
 * over chunks of about 1,024 elements (so the tile's activations stay in L1), each tile's
 * 4 row sums reduced together (F32 keeps its 4 × 4 tiles and sums, see f_gemm). For the integer types matrix × vector runs the same tile with one
 * token, so a batch gives the same bits as decoding token by token; the float types have a
 * row kernel of their own (see f_matvec).
 */
#include "runtime/kernels_internal.h"

#if ARCA_RT_X86
#include <immintrin.h>
#include <string.h>

#define GTARGET \
	__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define GINLINE GTARGET __attribute__((always_inline)) static inline

enum { TILE_R = 4, TILE_T = 4 };
/* Matrix × vector streams one row at a time: several rows side by side defeat the hardware
 * prefetcher (measured: half the bandwidth with 4). A software prefetch 4 KiB ahead of the
 * line being read (into the next rows: a row of Qwen2.5-0.5B is 1.8 KiB in F16) keeps enough
 * lines in flight for one core to come near the memory's bandwidth: measured, 1 thread, F16
 * decode 28–32 → 33–36 GB/s, Q8_0 24–28 → 29–33 GB/s (2 lines ahead, as before, gained
 * little); K-quants decode more per byte and did not change. */
enum { MATVEC_R = 1, PREFETCH_AHEAD = 4096, PREFETCH_TILE = 128 };   /* tiles: as before */

/* Runs BODY(R, T) with R and T as constants for the tile at hand (1..TILE_R rows, 1..TILE_T
 * tokens), so every tile's loops unroll into registers. */
#define TILE_SWITCH(R_, T_, BODY) \
	switch ((R_) * 8 + (T_)) { \
	case 011: BODY(1, 1); break; case 012: BODY(1, 2); break; \
	case 013: BODY(1, 3); break; case 014: BODY(1, 4); break; \
	case 021: BODY(2, 1); break; case 022: BODY(2, 2); break; \
	case 023: BODY(2, 3); break; case 024: BODY(2, 4); break; \
	case 031: BODY(3, 1); break; case 032: BODY(3, 2); break; \
	case 033: BODY(3, 3); break; case 034: BODY(3, 4); break; \
	case 041: BODY(4, 1); break; case 042: BODY(4, 2); break; \
	case 043: BODY(4, 3); break; default: BODY(4, 4); break; \
	}

/* The loop the integer families' products run: tokens in groups of TILE_T, rows in steps of
 * rstep, each tile run by BODY(R, T) through SWITCH (so R and T are constants); BODY sees
 * the tile's weight rows wr, activations xt and outputs yt. Expects w, rb, nrows, x, xs,
 * ntok, y and ldy in scope. */
#define TILE_LOOPS(rstep, SWITCH, BODY) \
	for (size_t t0 = 0; t0 < ntok; t0 += TILE_T) { \
		int T = ntok - t0 < TILE_T ? (int)(ntok - t0) : TILE_T; \
		const uint8_t *xt = (const uint8_t *)x + t0 * xs; \
		for (size_t r0 = 0; r0 < nrows; r0 += (rstep)) { \
			int R = nrows - r0 < (rstep) ? (int)(nrows - r0) : (int)(rstep); \
			const uint8_t *wr = (const uint8_t *)w + r0 * rb; \
			float *yt = y + t0 * ldy + r0; \
			SWITCH(R, T, BODY) \
		} \
	}

GINLINE void zero_tile(__m512 acc[TILE_R][TILE_T], int R, int T)
{
	#pragma GCC unroll 4
	for (int r = 0; r < R; r++) {
		#pragma GCC unroll 4
		for (int t = 0; t < T; t++)
			acc[r][t] = _mm512_setzero_ps();
	}
}

GINLINE void store_tile(__m512 acc[TILE_R][TILE_T], int R, int T, float *y, size_t ldy)
{
	#pragma GCC unroll 4
	for (int t = 0; t < T; t++) {
		#pragma GCC unroll 4
		for (int r = 0; r < R; r++)
			y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
	}
}

/* The table's entry for one type: the family's product with the family as a constant, so
 * each entry compiles to its own specialised loops. */
#define GEMM_ENTRY(name, product, family) \
	GTARGET static void name(size_t n, const void *w, size_t rb, size_t nrows, \
		const void *x, size_t xs, size_t ntok, float *y, size_t ldy) \
	{ \
		product(family, n, w, rb, nrows, x, xs, ntok, y, ldy); \
	}

/* ------------------------------------------------------------------ 32-element types */

typedef enum { FAM_Q8_0, FAM_Q4_0, FAM_Q5_0 } q8_family;

GINLINE size_t block_bytes(q8_family f)
{
	return f == FAM_Q8_0 ? sizeof(arca_block_q8_0) : f == FAM_Q4_0 ? sizeof(arca_block_q4_0) :
		sizeof(arca_block_q5_0);
}

/* The code offset c of a family, negated: the activation's lane sums are scaled by it. */
GINLINE float neg_offset(q8_family f)
{
	return f == FAM_Q8_0 ? -128.0f : f == FAM_Q4_0 ? -8.0f : -16.0f;
}

/* The 32 unsigned codes of one block, in element order. */
GINLINE __m256i block_codes(q8_family f, const uint8_t *a)
{
	const __m256i low4 = _mm256_set1_epi8(0x0F);
	if (f == FAM_Q8_0)
		return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(a + 2)),
			_mm256_set1_epi8((char)0x80));
	const uint8_t *qs = a + (f == FAM_Q4_0 ? 2 : 6);
	__m128i v = _mm_loadu_si128((const __m128i *)qs);
	__m256i codes = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v), low4);
	if (f == FAM_Q5_0) {
		uint32_t qh;
		memcpy(&qh, a + 2, 4);
		codes = _mm256_or_si256(codes, _mm256_maskz_mov_epi8(qh, _mm256_set1_epi8(0x10)));
	}
	return codes;
}

GINLINE uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Two fp16 scales spread over the 8 lanes of their blocks. */
GINLINE __m512 pair_scales(uint16_t d0, uint16_t d1)
{
	__m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16((short)d0)),
		_mm_set1_epi16((short)d1), 1);
	return _mm512_cvtph_ps(h);
}

/* Blocks 2p and 2p + 1 of R rows against pair p of T activation rows (two = 0: the row's
 * last, odd block alone). */
GINLINE void q8_pair(q8_family f, int R, int T, int two, const uint8_t *w, size_t rb,
	const uint8_t *x, size_t xs, size_t p, __m512 acc[TILE_R][TILE_T])
{
	const size_t bb = block_bytes(f);
	__m512i codes[TILE_R];
	__m512 dw[TILE_R];
	#pragma GCC unroll 4
	for (int r = 0; r < R; r++) {
		const uint8_t *a = w + r * rb + 2 * p * bb;
		_mm_prefetch((const char *)a + (T == 1 ? PREFETCH_AHEAD : PREFETCH_TILE), _MM_HINT_T0);
		__m256i lo = block_codes(f, a);
		if (two) {
			codes[r] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), block_codes(f, a + bb), 1);
			dw[r] = pair_scales(le16(a), le16(a + bb));
		} else {
			codes[r] = _mm512_zextsi256_si512(lo);
			dw[r] = pair_scales(le16(a), 0);
		}
	}
	const __m512 c = _mm512_set1_ps(neg_offset(f));
	#pragma GCC unroll 4
	for (int t = 0; t < T; t++) {
		const act_q8_0x2 *xp = (const act_q8_0x2 *)(x + t * xs) + p;
		__m512i q = _mm512_loadu_si512(xp->qs);
		__m512 dx = _mm512_loadu_ps(xp->d);
		__m512 corr = _mm512_mul_ps(_mm512_loadu_ps(xp->sd), c);
		#pragma GCC unroll 4
		for (int r = 0; r < R; r++) {
			__m512i sum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes[r], q);
			__m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), dx, corr);
			acc[r][t] = _mm512_fmadd_ps(v, dw[r], acc[r][t]);
		}
	}
}

GINLINE void q8_tile(q8_family f, int R, int T, size_t blocks, const uint8_t *w, size_t rb,
	const uint8_t *x, size_t xs, float *y, size_t ldy)
{
	__m512 acc[TILE_R][TILE_T];
	zero_tile(acc, R, T);
	size_t p = 0;
	for (; 2 * p + 1 < blocks; p++)
		q8_pair(f, R, T, 1, w, rb, x, xs, p, acc);
	if (blocks & 1)
		q8_pair(f, R, T, 0, w, rb, x, xs, p, acc);
	store_tile(acc, R, T, y, ldy);
}

GINLINE void q8_gemm(q8_family f, size_t n, const void *w, size_t rb, size_t nrows,
	const void *x, size_t xs, size_t ntok, float *y, size_t ldy)
{
	const size_t rstep = ntok == 1 ? MATVEC_R : TILE_R;
#define Q8_BODY(R_, T_) q8_tile(f, R_, T_, n / 32, wr, rb, xt, xs, yt, ldy)
	TILE_LOOPS(rstep, TILE_SWITCH, Q8_BODY)
#undef Q8_BODY
}

GEMM_ENTRY(gemm_q8_0, q8_gemm, FAM_Q8_0)
GEMM_ENTRY(gemm_q4_0, q8_gemm, FAM_Q4_0)
GEMM_ENTRY(gemm_q5_0, q8_gemm, FAM_Q5_0)

/* ------------------------------------------------------------------ float types */

typedef enum { FAM_F32, FAM_F16, FAM_BF16 } f_family;

/* 16 weights from element i of a row as floats; m selects the ones that exist. */
GINLINE __m512 widen(f_family f, const uint8_t *row, size_t i, __mmask16 m)
{
	if (f == FAM_F32)
		return _mm512_maskz_loadu_ps(m, (const float *)row + i);
	__m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)row + i);
	if (f == FAM_F16)
		return _mm512_cvtph_ps(h);
	return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* Tiles of the float types are up to 4 rows × 6 tokens: 24 accumulators, 4 weight
 * vectors and one activation vector in the 32 registers, so each widened weight vector
 * serves six tokens (the integer types' 4 × 4 leaves registers for their decoding). */
enum { FTILE_T = 6, F_CHUNK = 1024 };

#define FTILE_SWITCH(R_, T_, BODY) \
	switch ((R_) * 8 + (T_)) { \
	case 011: BODY(1, 1); break; case 012: BODY(1, 2); break; case 013: BODY(1, 3); break; \
	case 014: BODY(1, 4); break; case 015: BODY(1, 5); break; case 016: BODY(1, 6); break; \
	case 021: BODY(2, 1); break; case 022: BODY(2, 2); break; case 023: BODY(2, 3); break; \
	case 024: BODY(2, 4); break; case 025: BODY(2, 5); break; case 026: BODY(2, 6); break; \
	case 031: BODY(3, 1); break; case 032: BODY(3, 2); break; case 033: BODY(3, 3); break; \
	case 034: BODY(3, 4); break; case 035: BODY(3, 5); break; case 036: BODY(3, 6); break; \
	case 041: BODY(4, 1); break; case 042: BODY(4, 2); break; case 043: BODY(4, 3); break; \
	case 044: BODY(4, 4); break; case 045: BODY(4, 5); break; default: BODY(4, 6); break; \
	}

/* The sums of four vectors, as the four lanes of one: pairs interleaved and added within
 * 128-bit lanes, then the four 128-bit lanes added (13 instructions for four sums). */
GINLINE __m128 reduce4(__m512 a0, __m512 a1, __m512 a2, __m512 a3)
{
	__m512 t0 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
	__m512 t1 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
	__m512d d0 = _mm512_castps_pd(t0), d1 = _mm512_castps_pd(t1);
	__m512 u = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(d0, d1)),
		_mm512_castpd_ps(_mm512_unpackhi_pd(d0, d1)));
	__m256 h = _mm256_add_ps(_mm512_castps512_ps256(u),
		_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(u), 1)));
	return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

GINLINE void f_tile_zero(int R, int T, __m512 acc[TILE_R][FTILE_T])
{
	#pragma GCC unroll 4
	for (int r = 0; r < R; r++) {
		#pragma GCC unroll 6
		for (int t = 0; t < T; t++)
			acc[r][t] = _mm512_setzero_ps();
	}
}

/* y (add: y +) = each token's R row sums, reduced together. */
GINLINE void f_tile_store(int R, int T, __m512 acc[TILE_R][FTILE_T], float *y, size_t ldy,
	int add)
{
	const __m512 z = _mm512_setzero_ps();
	#pragma GCC unroll 6
	for (int t = 0; t < T; t++) {
		__m128 sums = reduce4(acc[0][t], R > 1 ? acc[1][t] : z, R > 2 ? acc[2][t] : z,
			R > 3 ? acc[3][t] : z);
		__mmask8 m = (__mmask8)((1u << R) - 1);
		if (add)
			sums = _mm_add_ps(sums, _mm_maskz_loadu_ps(m, y + t * ldy));
		_mm_mask_storeu_ps(y + t * ldy, m, sums);
	}
}

GINLINE void f_step(f_family f, int R, int T, const uint8_t *w, size_t rb, const uint8_t *x,
	size_t xs, size_t i, __mmask16 m, __m512 acc[TILE_R][FTILE_T])
{
	__m512 wv[TILE_R];
	#pragma GCC unroll 4
	for (int r = 0; r < R; r++)
		wv[r] = widen(f, w + r * rb, i, m);
	#pragma GCC unroll 6
	for (int t = 0; t < T; t++) {
		__m512 xv = _mm512_maskz_loadu_ps(m, (const float *)(x + t * xs) + i);
		#pragma GCC unroll 4
		for (int r = 0; r < R; r++)
			acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
	}
}

/* y (add: y +) = the tile's products over elements [0, n) of w's rows and x's. */
GINLINE void f_tile(f_family f, int R, int T, size_t n, const uint8_t *w, size_t rb,
	const uint8_t *x, size_t xs, float *y, size_t ldy, int add)
{
	__m512 acc[TILE_R][FTILE_T];
	f_tile_zero(R, T, acc);
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		f_step(f, R, T, w, rb, x, xs, i, (__mmask16)0xFFFF, acc);
	if (i < n)
		f_step(f, R, T, w, rb, x, xs, i, (__mmask16)((1u << (n - i)) - 1), acc);
	if (f == FAM_F32) {   /* F32: each sum reduced alone, as before (see f_gemm) */
		#pragma GCC unroll 6
		for (int t = 0; t < T; t++) {
			#pragma GCC unroll 4
			for (int r = 0; r < R; r++)
				y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
		}
		return;
	}
	f_tile_store(R, T, acc, y, ldy, add);
}

/* Matrix × vector for the float types: one row at a time (rows side by side defeat the
 * prefetcher) with four accumulators, since a single chain of dependent multiply-adds is
 * slower than memory here. Its sums are grouped differently from the tiles', so a float
 * batch agrees with token-by-token decoding to rounding, not bit for bit. */
GINLINE void f_matvec(f_family f, size_t n, const void *w, size_t rb, size_t nrows,
	const float *x, float *y)
{
	for (size_t r = 0; r < nrows; r++) {
		const uint8_t *row = (const uint8_t *)w + r * rb;
		__m512 acc[4] = { _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
			_mm512_setzero_ps() };
		const size_t esize = f == FAM_F32 ? 4 : 2;
		size_t i = 0;
		for (; i + 64 <= n; i += 64) {
			const char *ahead = (const char *)row + i * esize + PREFETCH_AHEAD;
			for (size_t line = 0; line < 64 * esize; line += 64)
				_mm_prefetch(ahead + line, _MM_HINT_T0);
			#pragma GCC unroll 4
			for (int k = 0; k < 4; k++)
				acc[k] = _mm512_fmadd_ps(widen(f, row, i + 16 * k, 0xFFFF),
					_mm512_loadu_ps(x + i + 16 * k), acc[k]);
		}
		for (; i < n; i += 16) {
			__mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
			acc[0] = _mm512_fmadd_ps(widen(f, row, i, m), _mm512_maskz_loadu_ps(m, x + i),
				acc[0]);
		}
		y[r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]),
			_mm512_add_ps(acc[2], acc[3])));
	}
}

GINLINE void f_gemm(f_family f, size_t n, const void *w, size_t rb, size_t nrows,
	const void *x, size_t xs, size_t ntok, float *y, size_t ldy)
{
	if (ntok == 1) {
		f_matvec(f, n, w, rb, nrows, x, y);
		return;
	}
	/* Long rows are taken in chunks of about F_CHUNK elements (whole vectors): a token
	 * tile's chunk of activations (6 × 4 KiB) stays in L1 while the strip's rows pass,
	 * instead of coming from L2 again for every 4 rows; chunks after the first add to y.
	 * F32 weights keep 4 × 4 tiles over whole rows, each sum reduced alone: the bits the
	 * float64 reference checks and recorded F32 fingerprints were made with. */
	size_t n_chunks = f == FAM_F32 ? 1 : (n + F_CHUNK - 1) / F_CHUNK;
	size_t kc = f == FAM_F32 ? n : ((n + n_chunks - 1) / n_chunks + 15) & ~(size_t)15;
	const size_t esize = f == FAM_F32 ? 4 : 2;
	const int tstep = f == FAM_F32 ? TILE_T : FTILE_T;
	for (size_t t0 = 0; t0 < ntok; t0 += (size_t)tstep) {
		int T = ntok - t0 < (size_t)tstep ? (int)(ntok - t0) : tstep;
		for (size_t k0 = 0; k0 < n; k0 += kc) {
			size_t len = n - k0 < kc ? n - k0 : kc;
			const uint8_t *xt = (const uint8_t *)x + t0 * xs + k0 * sizeof(float);
			for (size_t r0 = 0; r0 < nrows; r0 += TILE_R) {
				int R = nrows - r0 < TILE_R ? (int)(nrows - r0) : TILE_R;
				const uint8_t *wr = (const uint8_t *)w + r0 * rb + k0 * esize;
				float *yt = y + t0 * ldy + r0;
#define F_BODY(R_, T_) f_tile(f, R_, T_, len, wr, rb, xt, xs, yt, ldy, k0 > 0)
				FTILE_SWITCH(R, T, F_BODY)
#undef F_BODY
			}
		}
	}
}

GEMM_ENTRY(gemm_f32, f_gemm, FAM_F32)
GEMM_ENTRY(gemm_f16, f_gemm, FAM_F16)
GEMM_ENTRY(gemm_bf16, f_gemm, FAM_BF16)

/* ------------------------------------------------------------------ BF16 on AVX512_BF16 */

/* Where the CPU has AVX512_BF16, a BF16 prompt multiplies with vdpbf16ps: 32 weights
 * against 32 activations (already rounded to bfloat16, so taking their top halves is exact)
 * per instruction, two products added to each float lane in turn — each product of two
 * bfloat16 is exact in float, so a lane's sums are the same roundings as fused multiply-adds
 * in that order; the instruction treats subnormal inputs and results as zero. Half the
 * instructions of widening the weights, and the activations packed once per token tile and
 * chunk. The sums are grouped otherwise than the float tiles' (a batch agrees with
 * token-by-token decoding, which keeps f_matvec, to rounding, as for F16), so the kernel
 * name says which product ran ("+bf16"): validation fingerprints keep them apart. */
#define BTARGET __attribute__((target( \
	"avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,avx512bf16")))
#define BINLINE BTARGET __attribute__((always_inline)) static inline

/* The first n (<= 32) of 32 bf16 lanes. */
BINLINE __mmask32 first32(size_t n)
{
	return n >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << n) - 1);
}

BINLINE void bf_tile(int R, int T, size_t n, const uint8_t *w, size_t rb, const uint16_t *xp,
	size_t xps, float *y, size_t ldy, int add)
{
	__m512 acc[TILE_R][FTILE_T];
	f_tile_zero(R, T, acc);
	for (size_t i = 0; i < n; i += 32) {
		__mmask32 m = first32(n - i);
		__m512i wv[TILE_R];
		#pragma GCC unroll 4
		for (int r = 0; r < R; r++)
			wv[r] = _mm512_maskz_loadu_epi16(m, (const uint16_t *)(w + r * rb) + i);
		#pragma GCC unroll 6
		for (int t = 0; t < T; t++) {
			__m512bh xv = (__m512bh)_mm512_loadu_si512(xp + t * xps + i);
			#pragma GCC unroll 4
			for (int r = 0; r < R; r++)
				acc[r][t] = _mm512_dpbf16_ps(acc[r][t], (__m512bh)wv[r], xv);
		}
	}
	f_tile_store(R, T, acc, y, ldy, add);
}

/* x's rows hold floats already rounded to bfloat16: their top halves, packed, zero-padded to
 * whole vectors of 32. */
BINLINE void bf_pack(const float *x, size_t len, uint16_t *out)
{
	size_t i = 0;
	for (; i + 16 <= len; i += 16)
		_mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtepi32_epi16(
			_mm512_srli_epi32(_mm512_castps_si512(_mm512_loadu_ps(x + i)), 16)));
	for (; i < len; i++) {
		uint32_t u;
		memcpy(&u, x + i, 4);
		out[i] = (uint16_t)(u >> 16);
	}
	for (; i % 32; i++)
		out[i] = 0;
}

BTARGET static void gemm_bf16_dp(size_t n, const void *w, size_t rb, size_t nrows,
	const void *x, size_t xs, size_t ntok, float *y, size_t ldy)
{
	if (ntok == 1) {
		f_matvec(FAM_BF16, n, w, rb, nrows, x, y);
		return;
	}
	size_t n_chunks = (n + F_CHUNK - 1) / F_CHUNK;
	size_t kc = ((n + n_chunks - 1) / n_chunks + 31) & ~(size_t)31;
	uint16_t xp[FTILE_T * F_CHUNK + 32] __attribute__((aligned(64)));
	const size_t xps = kc;   /* packed row stride, whole vectors */
	for (size_t t0 = 0; t0 < ntok; t0 += FTILE_T) {
		int T = ntok - t0 < FTILE_T ? (int)(ntok - t0) : FTILE_T;
		for (size_t k0 = 0; k0 < n; k0 += kc) {
			size_t len = n - k0 < kc ? n - k0 : kc;
			for (int t = 0; t < T; t++)
				bf_pack((const float *)((const uint8_t *)x + (t0 + (size_t)t) * xs) + k0, len,
					xp + (size_t)t * xps);
			for (size_t r0 = 0; r0 < nrows; r0 += TILE_R) {
				int R = nrows - r0 < TILE_R ? (int)(nrows - r0) : TILE_R;
				const uint8_t *wr = (const uint8_t *)w + r0 * rb + k0 * 2;
				float *yt = y + t0 * ldy + r0;
#define BF_BODY(R_, T_) bf_tile(R_, T_, len, wr, rb, xp, xps, yt, ldy, k0 > 0)
				FTILE_SWITCH(R, T, BF_BODY)
#undef BF_BODY
			}
		}
	}
}

/* ------------------------------------------------------------------ K-quants */

/* Per 256-element super-block the weights carry 16-bit-sized scales per 16 or 32 elements,
 * so the byte products go through vpmaddubsw (pairs in int16) and vpdpwssd (times the
 * scale, into int32); a super-block's integer sums then meet its float scales. Tiles are 2
 * rows × 4 tokens: each row needs an integer and a float accumulator per token. */
enum { KTILE_R = 2 };

#define KTILE_SWITCH(R_, T_, BODY) \
	switch ((R_) * 8 + (T_)) { \
	case 011: BODY(1, 1); break; case 012: BODY(1, 2); break; \
	case 013: BODY(1, 3); break; case 014: BODY(1, 4); break; \
	case 021: BODY(2, 1); break; case 022: BODY(2, 2); break; \
	case 023: BODY(2, 3); break; default: BODY(2, 4); break; \
	}

typedef enum { FAM_Q4_K, FAM_Q5_K, FAM_Q6_K } k_family;

GINLINE size_t k_block_bytes(k_family f)
{
	return f == FAM_Q4_K ? sizeof(arca_block_q4_K) : f == FAM_Q5_K ? sizeof(arca_block_q5_K) :
		sizeof(arca_block_q6_K);
}

/* What one row's super-block contributes before its codes: float scales and the 16-bit
 * scale vectors. */
typedef struct {
	__m512 d;       /* the super-block scale, broadcast */
	__m512 ndmin;   /* Q4_K/Q5_K: −dmin; Q6_K: unused */
	__m512i sc16;   /* Q4_K/Q5_K: 8 scales; Q6_K: 16 scales (int16, lanes 0..) */
	__m256i corr16; /* per bsums entry: Q4_K/Q5_K the sub-block's min, Q6_K −32 × scale */
} k_head;

GINLINE k_head k_head_load(k_family f, const uint8_t *a)
{
	k_head h;
	if (f == FAM_Q6_K) {
		h.d = _mm512_set1_ps(_cvtsh_ss(le16(a + 208)));
		h.ndmin = _mm512_setzero_ps();
		__m256i sc = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + 192)));
		h.sc16 = _mm512_castsi256_si512(sc);
		h.corr16 = _mm256_mullo_epi16(sc, _mm256_set1_epi16(-32));
		return h;
	}
	h.d = _mm512_set1_ps(_cvtsh_ss(le16(a)));
	h.ndmin = _mm512_set1_ps(-_cvtsh_ss(le16(a + 2)));
	/* the 12 scale bytes: 6-bit scales of sub-blocks 0..3 and mins in bytes 0..7, the
	 * low 4 bits of both for sub-blocks 4..7 in bytes 8..11, their top 2 bits on top of
	 * bytes 0..7 */
	uint32_t w[3];
	memcpy(w, a + 4, 12);
	uint32_t sc_lo = w[0] & 0x3F3F3F3Fu, m_lo = w[1] & 0x3F3F3F3Fu;
	uint32_t sc_hi = (w[2] & 0x0F0F0F0Fu) | ((w[0] >> 6) & 0x03030303u) << 4;
	uint32_t m_hi = ((w[2] >> 4) & 0x0F0F0F0Fu) | ((w[1] >> 6) & 0x03030303u) << 4;
	__m128i sc = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)((uint64_t)sc_hi << 32 | sc_lo)));
	__m128i m = _mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)((uint64_t)m_hi << 32 | m_lo)));
	h.sc16 = _mm512_castsi128_si512(sc);
	/* each sub-block of 32 covers two bsums of 16 */
	h.corr16 = _mm256_set_m128i(_mm_unpackhi_epi16(m, m), _mm_unpacklo_epi16(m, m));
	return h;
}

/* The 64 unsigned codes of chunk j (elements 64j..64j+63) of a super-block. */
GINLINE __m512i k_codes(k_family f, const uint8_t *a, int j)
{
	const __m512i low4 = _mm512_set1_epi8(0x0F);
	if (f == FAM_Q6_K) {
		/* half j/2: ql 64 bytes, qh 32 bytes; chunk j%2 takes low or high nibbles and
		 * qh bits 0-1/2-3 or 4-5/6-7 */
		const uint8_t *ql = a + 64 * (j / 2), *qhp = a + 128 + 32 * (j / 2);
		__m512i l = _mm512_loadu_si512(ql);
		__m256i qh = _mm256_loadu_si256((const __m256i *)qhp);
		int sh = 4 * (j % 2);
		__m512i hb = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(qh, sh)),
			_mm256_srli_epi16(qh, sh + 2), 1);
		__m512i lo = _mm512_and_si512(j % 2 ? _mm512_srli_epi16(l, 4) : l, low4);
		return _mm512_or_si512(lo, _mm512_slli_epi16(_mm512_and_si512(hb,
			_mm512_set1_epi8(3)), 4));
	}
	const uint8_t *qs = a + (f == FAM_Q4_K ? 16 : 48) + 32 * j;
	__m256i v = _mm256_loadu_si256((const __m256i *)qs);
	__m512i c = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(v),
		_mm256_srli_epi16(v, 4), 1), low4);
	if (f == FAM_Q5_K) {
		/* bit 2j of qh[l] tops element l of sub-block 2j, bit 2j + 1 of 2j + 1 */
		__m256i qh = _mm256_loadu_si256((const __m256i *)(a + 16));
		__m512i hb = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(qh, 2 * j)),
			_mm256_srli_epi16(qh, 2 * j + 1), 1);
		c = _mm512_or_si512(c, _mm512_slli_epi16(_mm512_and_si512(hb, _mm512_set1_epi8(1)), 4));
	}
	return c;
}

/* The int16 scale of each word pair of chunk j. */
GINLINE __m512i k_scales(k_family f, __m512i sc16, int j)
{
	__m512i idx;
	if (f == FAM_Q6_K) /* 16 elements per scale: 8 pairs each, 4 scales per chunk */
		idx = _mm512_set_epi16(
			4 * j + 3, 4 * j + 3, 4 * j + 3, 4 * j + 3, 4 * j + 3, 4 * j + 3, 4 * j + 3, 4 * j + 3,
			4 * j + 2, 4 * j + 2, 4 * j + 2, 4 * j + 2, 4 * j + 2, 4 * j + 2, 4 * j + 2, 4 * j + 2,
			4 * j + 1, 4 * j + 1, 4 * j + 1, 4 * j + 1, 4 * j + 1, 4 * j + 1, 4 * j + 1, 4 * j + 1,
			4 * j, 4 * j, 4 * j, 4 * j, 4 * j, 4 * j, 4 * j, 4 * j);
	else /* 32 elements per scale: 16 pairs each, 2 scales per chunk */
		idx = _mm512_set_epi16(
			2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1,
			2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1, 2 * j + 1,
			2 * j, 2 * j, 2 * j, 2 * j, 2 * j, 2 * j, 2 * j, 2 * j,
			2 * j, 2 * j, 2 * j, 2 * j, 2 * j, 2 * j, 2 * j, 2 * j);
	return _mm512_permutexvar_epi16(idx, sc16);
}

GINLINE void k_superblock(k_family f, int R, int T, const uint8_t *w, size_t rb,
	const uint8_t *x, size_t xs, size_t i, __m512 acc[KTILE_R][TILE_T])
{
	const size_t bb = k_block_bytes(f);
	k_head head[KTILE_R];
	__m512i sum[KTILE_R][TILE_T];
	#pragma GCC unroll 2
	for (int r = 0; r < R; r++) {
		const uint8_t *a = w + r * rb + i * bb;
		_mm_prefetch((const char *)a + bb + 64, _MM_HINT_T0);
		head[r] = k_head_load(f, a);
		#pragma GCC unroll 4
		for (int t = 0; t < T; t++)
			sum[r][t] = _mm512_setzero_si512();
	}
	#pragma GCC unroll 4
	for (int j = 0; j < 4; j++) {
		__m512i codes[KTILE_R], scale[KTILE_R];
		#pragma GCC unroll 2
		for (int r = 0; r < R; r++) {
			codes[r] = k_codes(f, w + r * rb + i * bb, j);
			scale[r] = k_scales(f, head[r].sc16, j);
		}
		#pragma GCC unroll 4
		for (int t = 0; t < T; t++) {
			const act_q8_k *b = (const act_q8_k *)(x + t * xs) + i;
			__m512i q = _mm512_loadu_si512(b->qs + 64 * j);
			#pragma GCC unroll 2
			for (int r = 0; r < R; r++)
				sum[r][t] = _mm512_dpwssd_epi32(sum[r][t], _mm512_maddubs_epi16(codes[r], q),
					scale[r]);
		}
	}
	#pragma GCC unroll 4
	for (int t = 0; t < T; t++) {
		const act_q8_k *b = (const act_q8_k *)(x + t * xs) + i;
		__m256i bs = _mm256_loadu_si256((const __m256i *)b->bsums);
		__m512 dx = _mm512_set1_ps(b->d);
		#pragma GCC unroll 2
		for (int r = 0; r < R; r++) {
			__m512 v;
			if (f == FAM_Q6_K) {
				/* the −32 offset in the same integer sum */
				__m512i s = _mm512_add_epi32(sum[r][t], _mm512_castsi256_si512(
					_mm256_madd_epi16(head[r].corr16, bs)));
				v = _mm512_mul_ps(_mm512_cvtepi32_ps(s), head[r].d);
			} else {
				/* the mins: a separate sum with its own scale, in the low 8 lanes */
				__m512i m = _mm512_zextsi256_si512(_mm256_madd_epi16(head[r].corr16, bs));
				v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[r][t]), head[r].d,
					_mm512_mul_ps(_mm512_cvtepi32_ps(m), head[r].ndmin));
			}
			acc[r][t] = _mm512_fmadd_ps(v, dx, acc[r][t]);
		}
	}
}

GINLINE void k_tile(k_family f, int R, int T, size_t n, const uint8_t *w, size_t rb,
	const uint8_t *x, size_t xs, float *y, size_t ldy)
{
	__m512 acc[KTILE_R][TILE_T];
	#pragma GCC unroll 2
	for (int r = 0; r < R; r++) {
		#pragma GCC unroll 4
		for (int t = 0; t < T; t++)
			acc[r][t] = _mm512_setzero_ps();
	}
	for (size_t i = 0; i < n / 256; i++)
		k_superblock(f, R, T, w, rb, x, xs, i, acc);
	#pragma GCC unroll 4
	for (int t = 0; t < T; t++) {
		#pragma GCC unroll 2
		for (int r = 0; r < R; r++)
			y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
	}
}

GINLINE void k_gemm(k_family f, size_t n, const void *w, size_t rb, size_t nrows,
	const void *x, size_t xs, size_t ntok, float *y, size_t ldy)
{
	const size_t rstep = ntok == 1 ? MATVEC_R : KTILE_R;
#define K_BODY(R_, T_) k_tile(f, R_, T_, n, wr, rb, xt, xs, yt, ldy)
	TILE_LOOPS(rstep, KTILE_SWITCH, K_BODY)
#undef K_BODY
}

GEMM_ENTRY(gemm_q4_k, k_gemm, FAM_Q4_K)
GEMM_ENTRY(gemm_q5_k, k_gemm, FAM_Q5_K)
GEMM_ENTRY(gemm_q6_k, k_gemm, FAM_Q6_K)

void arca_rt__fill_avx512_gemm(arca_rt__table *t)
{
	t->gemm[ARCA_GGML_Q8_0] = gemm_q8_0;
	t->gemm[ARCA_GGML_Q4_0] = gemm_q4_0;
	t->gemm[ARCA_GGML_Q5_0] = gemm_q5_0;
	t->gemm[ARCA_GGML_F32] = gemm_f32;
	t->gemm[ARCA_GGML_F16] = gemm_f16;
	t->gemm[ARCA_GGML_BF16] = gemm_bf16;
	t->gemm[ARCA_GGML_Q4_K] = gemm_q4_k;
	t->gemm[ARCA_GGML_Q5_K] = gemm_q5_k;
	t->gemm[ARCA_GGML_Q6_K] = gemm_q6_k;
}

void arca_rt__fill_avx512_bf16(arca_rt__table *t)
{
	t->gemm[ARCA_GGML_BF16] = gemm_bf16_dp;
	t->name = "avx512-vnni+bf16";
}
#else
void arca_rt__fill_avx512_gemm(arca_rt__table *t)
{
	(void)t;
}

void arca_rt__fill_avx512_bf16(arca_rt__table *t)
{
	(void)t;
}
#endif
