/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/test_kernels.c — the runtime's matrix products. For every weight type:
 * weights quantized by the converter, activations converted by the runtime, and the
 * expected dot products computed here in double from the decoded weights and the decoded
 * activations (so only the products are under test); every instruction level must agree
 * with that within float rounding, and matrix × matrix must equal matrix × vector token by
 * token (bit for bit for the integer types). Also the activation formats themselves (scale,
 * range, block sums), and each SIMD level's conversion of activations against the scalar one,
 * and its transposition of a narrow KV cache's keys (kv_attend.c's tiles) against the
 * values the cache's types define, bit for bit.
 *
 * The scalar level runs everywhere. Each SIMD level is a test of its own that is skipped,
 * saying so, on a CPU without it, and the binary then exits 77 (CTest: Skipped, not
 * Passed). ARCA_TEST_CPU_LEVELS=N treats levels N and up as missing, to see that path on a
 * CPU that has them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arca/quant.h"
#include "runtime/kernels.h"
#include "runtime/kernels_internal.h"
#include "support.h"

enum { NMAX = 512, ROWS = 13, TOKENS = 6 };

static const int types[] = { ARCA_GGML_F32, ARCA_GGML_F16, ARCA_GGML_BF16, ARCA_GGML_Q8_0,
	ARCA_GGML_Q4_0, ARCA_GGML_Q4_1, ARCA_GGML_Q5_0, ARCA_GGML_Q5_1, ARCA_GGML_Q2_K,
	ARCA_GGML_Q3_K, ARCA_GGML_Q4_K, ARCA_GGML_Q5_K, ARCA_GGML_Q6_K };
#define N_TYPES (sizeof(types) / sizeof(types[0]))

static float rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* The activation row decoded here, from the formats' definitions. */
static void decode_act(int type, const void *x, size_t n, double *out)
{
	for (size_t k = 0; k < n; k++) {
		switch (arca_rt__act_kind(type)) {
		case ACT_F32: case ACT_F16: case ACT_BF16: out[k] = ((const float *)x)[k]; break;
		case ACT_Q8_0: {
			const act_q8_0x2 *pair = (const act_q8_0x2 *)x + k / 64;
			size_t half = k / 32 % 2;
			out[k] = (double)pair->d[8 * half] * pair->qs[32 * half + k % 32];
			break;
		}
		case ACT_Q8_K: {
			const act_q8_k *b = (const act_q8_k *)x + k / 256;
			out[k] = (double)b->d * b->qs[k % 256];
			break;
		}
		}
	}
}

static const char *const level_names[ARCA_RT_LEVELS] = { "scalar", "avx2", "avx512" };

/* Makes `level` the one in use, or the test is skipped: this CPU (or ARCA_TEST_CPU_LEVELS)
 * lacks it. */
static void use_level_or_skip(int level)
{
	const char *cap = getenv("ARCA_TEST_CPU_LEVELS");
	if (level > 0 && cap && cap[0] && level >= atoi(cap))
		t_skip("%s kernels not checked: ARCA_TEST_CPU_LEVELS=%s", level_names[level], cap);
	if (arca_rt_kernel_force(level) < 0)
		t_skip("%s kernels not checked: this CPU cannot run them", level_names[level]);
}

/* Back to the best level this CPU has. */
static void use_best_level(void)
{
	for (int level = ARCA_RT_LEVELS - 1; level >= 0; level--)
		if (arca_rt_kernel_force(level) == 0)
			break;
}

/* Every type at the level in use for rows of n elements (types whose blocks do not divide
 * n are left out). */
static void check_dots(size_t n)
{
	const size_t N = n;
	uint64_t seed = 11 + n;
	float *wf = malloc(ROWS * N * sizeof(float)), *xf = malloc(TOKENS * N * sizeof(float));
	for (size_t i = 0; i < ROWS * N; i++)
		wf[i] = rnd(&seed) * (i % 97 == 0 ? 4.0f : 0.05f);
	for (size_t i = 0; i < TOKENS * N; i++)
		xf[i] = rnd(&seed) * (i % 31 == 0 ? 8.0f : 1.0f);
	for (size_t ti = 0; ti < N_TYPES; ti++) {
		int t = types[ti];
		assert_true(arca_rt_weight_supported(t));
		if (N % arca_ggml_type_info_get(t)->block_size)
			continue;
		size_t rb = arca_ggml_row_size(t, N), xb = arca_rt_act_row_size(t, N);
		uint8_t *w = malloc(ROWS * rb), *x = malloc(TOKENS * xb);
		assert_int_equal(arca_quantize_rows(t, wf, w, ROWS, N), ARCA_OK);
		for (int b = 0; b < TOKENS; b++)
			arca_rt_act_convert(t, xf + b * N, x + b * xb, N);
		double want[TOKENS][ROWS], scale[TOKENS][ROWS];
		float wrow[NMAX];
		double xd[NMAX];
		for (int b = 0; b < TOKENS; b++) {
			decode_act(t, x + b * xb, N, xd);
			for (int r = 0; r < ROWS; r++) {
				assert_int_equal(arca_dequantize(t, w + r * rb, wrow, N), ARCA_OK);
				want[b][r] = scale[b][r] = 0;
				for (size_t k = 0; k < N; k++) {
					want[b][r] += wrow[k] * xd[k];
					scale[b][r] += fabs(wrow[k] * xd[k]);
				}
			}
		}
		float y[TOKENS * ROWS], yv[ROWS];
		/* odd row ranges: rows 3..12 only */
		arca_rt_matmul(t, w, rb, N, x, xb, TOKENS, y, ROWS, 3, ROWS);
		for (int b = 0; b < TOKENS; b++) {
			arca_rt_matvec(t, w, rb, N, x + b * xb, yv, 3, ROWS);
			for (int r = 3; r < ROWS; r++) {
				double err = fabs(yv[r - 3] - want[b][r]);
				if (err > 1e-5 * scale[b][r] + 1e-7)
					fail_msg("%s at level %s: row %d token %d: %.8g, want %.8g",
						arca_ggml_type_info_get(t)->name, arca_rt_kernel_name(), r, b,
						yv[r - 3], want[b][r]);
				/* integer types: the same bits; float types may group their
				 * sums differently for one token (AVX-512's row kernel) */
				if (arca_rt__act_kind(t) == ACT_Q8_0 || arca_rt__act_kind(t) == ACT_Q8_K)
					assert_true(y[b * ROWS + r] == yv[r - 3]);
				else if (fabs(y[b * ROWS + r] - yv[r - 3]) > 2e-5 * scale[b][r] + 1e-7)
					fail_msg("%s at level %s: batch %.8g, one token %.8g",
						arca_ggml_type_info_get(t)->name, arca_rt_kernel_name(),
						y[b * ROWS + r], yv[r - 3]);
			}
		}
		free(w);
		free(x);
	}
	free(wf);
	free(xf);
}

static void check_dots_at(int level)
{
	use_level_or_skip(level);
	check_dots(512);
	check_dots(96);  /* an odd number of 32-element blocks: a half-filled last pair */
	check_dots(200); /* float types: a tail shorter than a vector */
	use_best_level();
}

static void test_dots_scalar(void **state)
{
	(void)state;
	check_dots_at(ARCA_RT_SCALAR);
	assert_false(arca_rt_weight_supported(ARCA_GGML_IQ4_NL));
	assert_false(arca_rt_weight_supported(-1));
}

static void test_dots_avx2(void **state)
{
	(void)state;
	check_dots_at(ARCA_RT_AVX2);
}

static void test_dots_avx512(void **state)
{
	(void)state;
	check_dots_at(ARCA_RT_AVX512);
}

static void test_activation_formats(void **state)
{
	(void)state;
	float x[256];
	uint64_t seed = 5;
	for (int i = 0; i < 256; i++)
		x[i] = rnd(&seed);
	x[77] = -3.0f; /* the largest magnitude, negative */
	act_q8_0x2 q8[4];
	arca_rt__quantize_act_q8_0(x, q8, 256);
	/* block 2 (pair 1, first half) holds x[77]: d = 3/127 rounded to fp16, x[77] → −127 */
	float d2 = q8[1].d[0];
	assert_true(d2 == arca_fp16_to_fp32(arca_fp32_to_fp16(3.0f / 127.0f)));
	assert_int_equal(q8[1].qs[77 % 32], -127);
	/* d spread over the block's 8 lanes; sd = d × the lane's 4 quants */
	for (int pair = 0; pair < 4; pair++) {
		for (int lane = 0; lane < 16; lane++) {
			assert_true(q8[pair].d[lane] == q8[pair].d[lane / 8 * 8]);
			const int8_t *q = q8[pair].qs + 4 * lane;
			assert_true(q8[pair].sd[lane] == (float)(q[0] + q[1] + q[2] + q[3]) * q8[pair].d[lane]);
		}
	}
	/* an odd block count: the last pair's second half is all zero */
	arca_rt__quantize_act_q8_0(x, q8, 96);
	for (int j = 0; j < 32; j++)
		assert_int_equal(q8[1].qs[32 + j], 0);
	assert_true(q8[1].d[8] == 0.0f && q8[1].sd[15] == 0.0f);
	/* F16/BF16 activations: floats rounded to the weight's precision */
	float f[4], one_third = 1.0f / 3.0f;
	arca_rt_act_convert(ARCA_GGML_F16, &one_third, f, 1);
	assert_true(f[0] == arca_fp16_to_fp32(arca_fp32_to_fp16(one_third)) && f[0] != one_third);
	arca_rt_act_convert(ARCA_GGML_BF16, &one_third, f, 1);
	assert_true(f[0] == arca_bf16_to_fp32(arca_fp32_to_bf16(one_third)) && f[0] != one_third);
	assert_int_equal(arca_rt_act_row_size(ARCA_GGML_Q8_0, 96), 2 * sizeof(act_q8_0x2));
	act_q8_k k;
	arca_rt__quantize_act_q8_k(x, &k, 256);
	/* scale −127/max: the signed max always maps to −127, d = max/−127 */
	assert_int_equal(k.qs[77], -127);
	assert_true(k.d == 1.0f / (-127.0f / -3.0f));
	x[77] = 3.0f;
	arca_rt__quantize_act_q8_k(x, &k, 256);
	assert_int_equal(k.qs[77], -127);
	assert_true(k.d < 0);
	for (int g = 0; g < 16; g++) {
		int s = 0;
		for (int j = 0; j < 16; j++)
			s += k.qs[16 * g + j];
		assert_int_equal(k.bsums[g], s);
	}
	float zero[256] = { 0 };
	arca_rt__quantize_act_q8_k(zero, &k, 256);
	assert_true(k.d == 0.0f);
	assert_int_equal(k.bsums[3], 0);
	/* half to even: 0.5 steps of the scale round to the even code */
	float h[32] = { 127.0f, 2.5f, 3.5f, -2.5f };
	arca_rt__quantize_act_q8_0(h, q8, 32);
	assert_int_equal(q8[0].qs[1], 2);
	assert_int_equal(q8[0].qs[2], 4);
	assert_int_equal(q8[0].qs[3], -2);
}

/* A SIMD level converts activations to the same bytes as the scalar forms: random rows, an
 * all-zero block, ties of the largest magnitude with both signs, exact .5 code steps, and
 * for F16/BF16 rounding NaNs, infinities, overflow ties and subnormals. */
static void check_activations_at(int level)
{
	use_level_or_skip(level);
	enum { NX = 1024 };
	float x[NX];
	uint64_t seed = 99;
	for (int i = 0; i < NX; i++)
		x[i] = rnd(&seed) * (i % 13 == 0 ? 30.0f : 1.0f);
	memset(x + 256, 0, 256 * sizeof(float));
	x[600] = -7.0f, x[601] = 7.0f, x[700] = 7.0f, x[705] = -7.0f;
	for (int i = 800; i < 832; i++)
		x[i] = (float)(i - 816) * 0.5f;
	/* F16/BF16 rounding's edges (in a block the quantized kinds also take): NaNs of both
	 * signs and with payloads, infinities, the largest half and the ties either side of it, a half and a
	 * float subnormal, −0, a BF16 tie */
	const float edges[] = { NAN, -NAN, INFINITY, -INFINITY, 65504.0f, 65519.0f, 65520.0f,
		-65520.0f, 3e-6f, -1e-7f, 1e-40f, -0.0f, 1.00390625f, 1.01171875f };
	memcpy(x + 900, edges, sizeof(edges));
	const uint32_t payload_nans[] = { 0x7fa02000u, 0xff812345u };   /* signalling, payload */
	memcpy(x + 900 + sizeof(edges) / sizeof(edges[0]), payload_nans, sizeof(payload_nans));
	const int kinds[] = { ARCA_GGML_F16, ARCA_GGML_BF16, ARCA_GGML_Q8_0, ARCA_GGML_Q4_K };
	for (size_t k = 0; k < 4; k++) {
		if (k >= 2)   /* the quantizers take finite rows */
			for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]) + 2; e++)
				x[900 + e] = 0.25f;
		size_t bytes = arca_rt_act_row_size(kinds[k], NX);
		uint8_t *want = malloc(bytes), *got = malloc(bytes);
		assert_int_equal(arca_rt_kernel_force(ARCA_RT_SCALAR), 0);
		arca_rt_act_convert(kinds[k], x, want, NX);
		assert_int_equal(arca_rt_kernel_force(level), 0);
		memset(got, 0xAB, bytes);
		arca_rt_act_convert(kinds[k], x, got, NX);
		if (memcmp(want, got, bytes) != 0)
			fail_msg("%s activations differ at level %s",
				arca_ggml_type_info_get(kinds[k])->name, arca_rt_kernel_name());
		free(want);
		free(got);
	}
	use_best_level();
}

static void test_activations_avx2(void **state)
{
	(void)state;
	check_activations_at(ARCA_RT_AVX2);
}

static void test_activations_avx512(void **state)
{
	(void)state;
	check_activations_at(ARCA_RT_AVX512);
}

/* A level's arca_rt_kv_keys against the decoding done here: F16 rows (finite specials:
 * infinities, the largest half, subnormals, −0; head widths that leave a partial vector of
 * 16 or of 8)
 * and Q8_0 rows, 1, 17 and 64 positions of a tile, rows further apart than one head (as
 * in a cache of several kv heads); the padding columns must come out zero. */
static void check_kv_keys_at(int level)
{
	use_level_or_skip(level);
	arca_rt_kv_keys_fn keys = arca_rt_kv_keys();
	if (!keys) {
		use_best_level();
		t_skip("%s has no key transposition of its own", level_names[level]);
	}
	static const struct { int type; size_t hd; } cases[] = {
		{ ARCA_GGML_F16, 64 }, { ARCA_GGML_F16, 68 }, { ARCA_GGML_F16, 80 },
		{ ARCA_GGML_F16, 576 },
		{ ARCA_GGML_Q8_0, 64 }, { ARCA_GGML_Q8_0, 128 },
	};
	static const size_t nps[] = { 1, 17, 64 };
	uint64_t seed = 5;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		int type = cases[c].type;
		size_t hd = cases[c].hd, row = arca_ggml_row_size(type, hd), stride = 3 * row;
		uint8_t *rows = malloc(64 * stride);
		float *vals = malloc(hd * sizeof(float)), *kt = malloc(hd * 64 * sizeof(float));
		double *want = malloc(hd * 64 * sizeof(double));
		for (size_t i = 0; i < 64; i++) {
			for (size_t d = 0; d < hd; d++)
				vals[d] = rnd(&seed) * 4.0f;
			if (i == 5 && type == ARCA_GGML_F16) {
				const float sp[] = { INFINITY, -INFINITY, 65504.0f, 3e-6f, -1e-7f, -0.0f };
				memcpy(vals, sp, sizeof(sp));
			}
			assert_int_equal(arca_quantize_rows(type, vals, rows + i * stride, 1, hd), ARCA_OK);
			/* the expected keys: position i's channel d at want[d][i] */
			const uint8_t *r = rows + i * stride;
			for (size_t d = 0; d < hd; d++) {
				if (type == ARCA_GGML_F16) {
					want[d * 64 + i] = arca_fp16_to_fp32((uint16_t)(r[2 * d] | r[2 * d + 1] << 8));
				} else {
					const uint8_t *b = r + d / 32 * 34;
					float dd = arca_fp16_to_fp32((uint16_t)(b[0] | b[1] << 8));
					want[d * 64 + i] = dd * (float)(int8_t)b[2 + d % 32];
				}
			}
		}
		for (size_t k = 0; k < sizeof(nps) / sizeof(nps[0]); k++) {
			size_t np = nps[k];
			memset(kt, 0xAB, hd * 64 * sizeof(float));
			keys(type, rows, stride, np, hd, kt);
			for (size_t d = 0; d < hd; d++)
				for (size_t i = 0; i < 64; i++) {
					float w = i < np ? (float)want[d * 64 + i] : 0.0f;
					if (memcmp(&w, &kt[d * 64 + i], sizeof(float)) != 0)
						fail_msg("%s keys, head width %zu, %zu rows: channel %zu of "
							"position %zu is %g, not %g", arca_ggml_type_info_get(type)->name,
							hd, np, d, i, (double)kt[d * 64 + i], (double)w);
				}
		}
		free(rows);
		free(vals);
		free(kt);
		free(want);
	}
	use_best_level();
}

static void test_kv_keys_avx2(void **state)
{
	(void)state;
	check_kv_keys_at(ARCA_RT_AVX2);
}

static void test_kv_keys_avx512(void **state)
{
	(void)state;
	check_kv_keys_at(ARCA_RT_AVX512);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dots_scalar),
		cmocka_unit_test(test_dots_avx2),
		cmocka_unit_test(test_dots_avx512),
		cmocka_unit_test(test_activation_formats),
		cmocka_unit_test(test_activations_avx2),
		cmocka_unit_test(test_activations_avx512),
		cmocka_unit_test(test_kv_keys_avx2),
		cmocka_unit_test(test_kv_keys_avx512),
	};
	return t_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
