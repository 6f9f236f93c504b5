/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/quant/test_quant.c — quantizers and dequantizers (arca/quant.h) against the
 * llama.cpp reference vectors in tests/data/quant (see its README): for every type, every
 * path (scalar reference, default SIMD, two threads, and each instruction-set level) must
 * write the reference bytes and read back the reference floats bit for bit. Then generated
 * inputs the vectors do not cover (inf, NaN, subnormals, odd block counts, random block
 * bytes) checked SIMD against scalar; then tables of fp16/bf16 conversions, type names, row
 * sizes and rejected arguments.
 *
 * The scalar level runs everywhere. Each SIMD level is a test of its own that is skipped,
 * saying so, on a CPU without it, and the binary then exits 77 (CTest: Skipped, not
 * Passed). ARCA_TEST_CPU_LEVELS=N treats levels N and up as missing, to see that path on a
 * CPU that has them (ARCA_TEST_CPU_LEVELS=1: a CPU without SIMD).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/quant.h"
#include "quant/quant_internal.h"
#include "support.h"

#define ROWS 120
#define COLS 4096

static const char *const vector_types[] = {
	"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
	"IQ4_NL", "IQ4_XS", "BF16", "F16",
};
#define N_VECTOR_TYPES (sizeof(vector_types) / sizeof(vector_types[0]))

typedef struct {
	float *input;
	uint8_t *bin[N_VECTOR_TYPES];
	uint32_t *dequant[N_VECTOR_TYPES];
} vectors;

static int load_vectors(void **state)
{
	vectors *v = calloc(1, sizeof(*v));
	size_t len;
	char name[64];
	v->input = t_read_data_zst("quant/input.f32", &len);
	assert_int_equal(len, (size_t)ROWS * COLS * 4);
	for (size_t t = 0; t < N_VECTOR_TYPES; t++) {
		int type;
		assert_int_equal(arca_ggml_type_from_name(&type, vector_types[t]), ARCA_OK);
		snprintf(name, sizeof(name), "quant/%s.bin", vector_types[t]);
		v->bin[t] = t_read_data_zst(name, &len);
		assert_int_equal(len, ROWS * arca_ggml_row_size(type, COLS));
		snprintf(name, sizeof(name), "quant/%s.dequant.f32", vector_types[t]);
		v->dequant[t] = t_read_data_zst(name, &len);
		assert_int_equal(len, (size_t)ROWS * COLS * 4);
	}
	*state = v;
	return 0;
}

static int free_vectors(void **state)
{
	vectors *v = *state;
	free(v->input);
	for (size_t t = 0; t < N_VECTOR_TYPES; t++) {
		free(v->bin[t]);
		free(v->dequant[t]);
	}
	free(v);
	return 0;
}

/* Fails naming the type, path, row and first differing block when the bytes differ. */
static void expect_bytes(const char *type_name, const char *path, int type,
	const uint8_t *got, const uint8_t *want, size_t nrows, size_t n_per_row)
{
	const arca_ggml_type_info *info = arca_ggml_type_info_get(type);
	size_t row_bytes = (size_t)arca_ggml_row_size(type, n_per_row);
	for (size_t r = 0; r < nrows; r++) {
		const uint8_t *g = got + r * row_bytes, *w = want + r * row_bytes;
		if (!memcmp(g, w, row_bytes))
			continue;
		size_t b = 0;
		while (!memcmp(g + b * info->type_size, w + b * info->type_size, info->type_size))
			b++;
		size_t k = 0;
		while (g[b * info->type_size + k] == w[b * info->type_size + k])
			k++;
		fail_msg("%s quantize (%s): row %zu, block %zu differs first at byte %zu "
			"(got 0x%02x, want 0x%02x)", type_name, path, r, b, k,
			g[b * info->type_size + k], w[b * info->type_size + k]);
	}
}

/* Fails naming the type, path, row, block and element when the floats differ in a bit. */
static void expect_floats(const char *type_name, const char *path, int type,
	const float *got, const uint32_t *want, size_t n)
{
	const arca_ggml_type_info *info = arca_ggml_type_info_get(type);
	for (size_t i = 0; i < n; i++) {
		uint32_t g = arca_quant__f32_bits(got[i]);
		if (g == want[i])
			continue;
		fail_msg("%s dequantize (%s): row %zu, block %zu, element %zu: got 0x%08x (%g), "
			"want 0x%08x (%g)", type_name, path, i / COLS, (i % COLS) / info->block_size,
			i % info->block_size, g, (double)got[i], want[i],
			(double)arca_quant__f32_from_bits(want[i]));
	}
}

static const char *const level_names[ARCA_QUANT__LEVELS] = { "scalar", "avx2", "avx512" };

/* The kernels of `level`, or the test is skipped: this CPU (or ARCA_TEST_CPU_LEVELS) lacks
 * it. */
static const arca_quant__kernels *level_or_skip(int level)
{
	const char *cap = getenv("ARCA_TEST_CPU_LEVELS");
	const arca_quant__kernels *k = arca_quant__kernels_for(level);
	if (level > 0 && cap && cap[0] && level >= atoi(cap))
		t_skip("%s kernels not checked: ARCA_TEST_CPU_LEVELS=%s", level_names[level], cap);
	if (!k)
		t_skip("%s kernels not checked: this CPU cannot run them", level_names[level]);
	assert_string_equal(k->name, level_names[level]);
	return k;
}

/* One level's kernels called directly, every type: quantize = .bin, dequantize = .dequant. */
static void check_level_vectors(const vectors *v, const arca_quant__kernels *k)
{
	const size_t n = (size_t)ROWS * COLS;
	uint8_t *q = malloc(n * 4);
	float *f = malloc(n * 4);
	for (size_t t = 0; t < N_VECTOR_TYPES; t++) {
		const char *name = vector_types[t];
		int type;
		assert_int_equal(arca_ggml_type_from_name(&type, name), ARCA_OK);
		size_t bytes = ROWS * (size_t)arca_ggml_row_size(type, COLS);
		memset(q, 0x33, bytes);
		k->quantize[type](v->input, q, n);
		expect_bytes(name, k->name, type, q, v->bin[t], ROWS, COLS);
		memset(f, 0x33, n * 4);
		k->dequantize[type](v->bin[t], f, n);
		expect_floats(name, k->name, type, f, v->dequant[t], n);
	}
	free(q);
	free(f);
}

/* Every type of the vectors through the public paths and the scalar kernels: quantize =
 * .bin, dequantize(.bin) = .dequant. */
static void test_reference_vectors(void **state)
{
	vectors *v = *state;
	const size_t n = (size_t)ROWS * COLS;
	uint8_t *q = malloc(n * 4);
	float *f = malloc(n * 4);
	for (size_t t = 0; t < N_VECTOR_TYPES; t++) {
		const char *name = vector_types[t];
		int type;
		assert_int_equal(arca_ggml_type_from_name(&type, name), ARCA_OK);
		size_t bytes = ROWS * (size_t)arca_ggml_row_size(type, COLS);

		assert_int_equal(arca_quantize_rows_ref(type, v->input, q, ROWS, COLS), ARCA_OK);
		expect_bytes(name, "ref", type, q, v->bin[t], ROWS, COLS);
		memset(q, 0xa5, bytes);
		assert_int_equal(arca_quantize_rows(type, v->input, q, ROWS, COLS), ARCA_OK);
		expect_bytes(name, "default", type, q, v->bin[t], ROWS, COLS);
		memset(q, 0x5a, bytes);
		assert_int_equal(arca_quantize_rows_mt(type, v->input, q, ROWS, COLS, 2), ARCA_OK);
		expect_bytes(name, "2 threads", type, q, v->bin[t], ROWS, COLS);

		assert_int_equal(arca_dequantize_ref(type, v->bin[t], f, n), ARCA_OK);
		expect_floats(name, "ref", type, f, v->dequant[t], n);
		memset(f, 0xa5, n * 4);
		assert_int_equal(arca_dequantize(type, v->bin[t], f, n), ARCA_OK);
		expect_floats(name, "default", type, f, v->dequant[t], n);
	}
	free(q);
	free(f);
	check_level_vectors(v, level_or_skip(ARCA_QUANT__SCALAR));
}

/* Each SIMD level, not only the best one, against the vectors. */
static void test_reference_vectors_avx2(void **state)
{
	check_level_vectors(*state, level_or_skip(ARCA_QUANT__AVX2));
}

static void test_reference_vectors_avx512(void **state)
{
	check_level_vectors(*state, level_or_skip(ARCA_QUANT__AVX512));
}

/* Quantizing row by row gives the same bytes as all rows at once. */
static void test_row_by_row(void **state)
{
	vectors *v = *state;
	uint8_t *q = malloc((size_t)ROWS * COLS * 4);
	for (size_t t = 0; t < N_VECTOR_TYPES; t++) {
		int type;
		assert_int_equal(arca_ggml_type_from_name(&type, vector_types[t]), ARCA_OK);
		size_t row_bytes = (size_t)arca_ggml_row_size(type, COLS);
		for (size_t r = 0; r < ROWS; r += 7)
			assert_int_equal(arca_quantize_rows(type, v->input + r * COLS, q + r * row_bytes,
				1, COLS), ARCA_OK);
		for (size_t r = 0; r < ROWS; r += 7)
			expect_bytes(vector_types[t], "row by row", type, q + r * row_bytes,
				v->bin[t] + r * row_bytes, 1, COLS);
	}
	free(q);
}

/* ------------------------------------------------------------------ generated inputs */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static float rng_uniform(void)
{
	return (float)((rng_next() >> 40) * 0x1p-24);
}

/* Rows of different characters, including the values the vectors avoid. */
static float generated_value(int kind, size_t i)
{
	float u = rng_uniform() * 2 - 1;
	switch (kind) {
	case 0: return u * 0.05f;
	case 1: return u * 1e-6f;                        /* fp16 subnormal scales */
	case 2: return u * 1e-38f;                       /* fp32 subnormals */
	case 3: return u * 3e38f;                        /* overflowing squares */
	case 4: return i % 97 == 5 ? INFINITY : u;       /* inf */
	case 5: return i % 131 == 7 ? -INFINITY : u;
	case 6: return i % 89 == 3 ? NAN : u;            /* NaN */
	case 7: return i % 16 ? 0.0f : u * 100;          /* sparse */
	case 8: return (float)((int)(u * 20)) / 4;       /* exact ties */
	case 9: return (i / 16) % 2 ? 0.0f : -0.0f;      /* signed zeros by group */
	default: return u * (float)(1 << (i % 20)) * 1e-4f;
	}
}

/* A SIMD level agrees with the scalar kernels on odd-sized, non-finite and extreme rows,
 * and on blocks of random bytes (any bit pattern is a block a file could hold). */
static void check_matches_scalar(const arca_quant__kernels *k)
{
	const size_t n = 5 * ARCA_QK_K; /* odd number of super-blocks */
	float *x = malloc(n * 4), *f_ref = malloc(n * 4), *f = malloc(n * 4);
	uint8_t *q_ref = malloc(n * 4), *q = malloc(n * 4), *bytes = malloc(n * 4);
	const arca_quant__kernels *scalar = arca_quant__kernels_for(ARCA_QUANT__SCALAR);
	rng_state = 42;
	for (int kind = 0; kind < 11; kind++) {
		for (size_t i = 0; i < n; i++)
			x[i] = generated_value(kind, i);
		for (size_t i = 0; i < n * 4; i++)
			bytes[i] = (uint8_t)rng_next();
		for (int type = 0; type < ARCA_GGML_TYPE_COUNT; type++) {
			const arca_ggml_type_info *info = arca_ggml_type_info_get(type);
			if (!info || !info->quantize)
				continue;
			size_t len = (size_t)arca_ggml_row_size(type, n);
			scalar->quantize[type](x, q_ref, n);
			scalar->dequantize[type](bytes, f_ref, n);
			char path[64];
			snprintf(path, sizeof(path), "%s, generated kind %d", k->name, kind);
			k->quantize[type](x, q, n);
			expect_bytes(info->name, path, type, q, q_ref, 1, n);
			k->dequantize[type](bytes, f, n);
			for (size_t i = 0; i < n; i++)
				if (memcmp(&f[i], &f_ref[i], 4))
					fail_msg("%s dequantize (%s, random bytes): element %zu: got "
						"0x%08x, want 0x%08x", info->name, k->name, i,
						arca_quant__f32_bits(f[i]), arca_quant__f32_bits(f_ref[i]));
			(void)len;
		}
	}
	free(x);
	free(f_ref);
	free(f);
	free(q_ref);
	free(q);
	free(bytes);
}

static void test_avx2_matches_scalar(void **state)
{
	(void)state;
	check_matches_scalar(level_or_skip(ARCA_QUANT__AVX2));
}

static void test_avx512_matches_scalar(void **state)
{
	(void)state;
	check_matches_scalar(level_or_skip(ARCA_QUANT__AVX512));
}

/* ------------------------------------------------------------------ scalar conversions */

static void test_fp16(void **state)
{
	(void)state;
	static const struct {
		uint32_t f;   /* float bits */
		uint16_t h;
	} to_half[] = {
		{ 0x00000000, 0x0000 }, { 0x80000000, 0x8000 },
		{ 0x3f800000, 0x3c00 }, { 0xbf800000, 0xbc00 },
		{ 0x477fe000, 0x7bff },             /* 65504, largest half */
		{ 0x477fefff, 0x7bff },             /* just under 65520 */
		{ 0x477ff000, 0x7c00 },             /* 65520: tie, to even = inf */
		{ 0x7f800000, 0x7c00 }, { 0xff800000, 0xfc00 },
		{ 0x7f7fffff, 0x7c00 },             /* FLT_MAX overflows */
		{ 0x7fc00000, 0x7e00 },             /* NaN: 0x7E00 with the sign */
		{ 0xffc00001, 0xfe00 },
		{ 0x7f800001, 0x7e00 },             /* signalling NaN, payload dropped */
		{ 0x7fffffff, 0x7e00 },
		{ 0x33800000, 0x0001 },             /* 2^-24, smallest subnormal */
		{ 0x33000000, 0x0000 },             /* 2^-25: tie, to even 0 */
		{ 0xb3000000, 0x8000 },
		{ 0x33000001, 0x0001 },             /* just over the tie */
		{ 0x33c00000, 0x0002 },             /* 1.5·2^-24: tie, to even 2 */
		{ 0x34200000, 0x0002 },             /* 2.5·2^-24: tie, to even 2 */
		{ 0x387fc000, 0x03ff },             /* largest subnormal */
		{ 0x387fe000, 0x0400 },             /* tie between it and 2^-14 */
		{ 0x38800000, 0x0400 },             /* 2^-14, smallest normal */
		{ 0x3f801000, 0x3c00 },             /* 1 + 2^-11: tie, to even */
		{ 0x3f803000, 0x3c02 },             /* 1 + 3·2^-11: tie, to even */
		{ 0x3f801001, 0x3c01 },
		{ 0x00000001, 0x0000 },             /* fp32 subnormal */
		{ 0x37fba882, 0x01f7 },             /* 3e-5, the vectors' subnormal row */
	};
	for (size_t i = 0; i < sizeof(to_half) / sizeof(to_half[0]); i++) {
		uint16_t h = arca_fp32_to_fp16(arca_quant__f32_from_bits(to_half[i].f));
		if (h != to_half[i].h)
			fail_msg("fp16(0x%08x) = 0x%04x, want 0x%04x", to_half[i].f, h, to_half[i].h);
	}
	static const struct {
		uint16_t h;
		uint32_t f;
	} to_float[] = {
		{ 0x0000, 0x00000000 }, { 0x8000, 0x80000000 }, { 0x3c00, 0x3f800000 },
		{ 0x0001, 0x33800000 }, { 0x8001, 0xb3800000 }, { 0x03ff, 0x387fc000 },
		{ 0x0400, 0x38800000 }, { 0x7bff, 0x477fe000 }, { 0x7c00, 0x7f800000 },
		{ 0xfc00, 0xff800000 }, { 0x7e00, 0x7fc00000 }, { 0xfe00, 0xffc00000 },
		{ 0x7c01, 0x7fc02000 },             /* signalling NaN comes back quiet */
		{ 0x7fff, 0x7fffe000 },
	};
	for (size_t i = 0; i < sizeof(to_float) / sizeof(to_float[0]); i++) {
		uint32_t f = arca_quant__f32_bits(arca_fp16_to_fp32(to_float[i].h));
		if (f != to_float[i].f)
			fail_msg("fp32(half 0x%04x) = 0x%08x, want 0x%08x", to_float[i].h, f,
				to_float[i].f);
	}
	/* every half survives the round trip; NaNs come back as 0x7E00 with their sign */
	for (uint32_t h = 0; h < 65536; h++) {
		int nan = (h & 0x7fff) > 0x7c00;
		uint16_t want = nan ? (uint16_t)((h & 0x8000) | 0x7e00) : (uint16_t)h;
		uint16_t back = arca_fp32_to_fp16(arca_fp16_to_fp32((uint16_t)h));
		if (back != want)
			fail_msg("half 0x%04x comes back as 0x%04x", h, back);
	}
}

static void test_bf16(void **state)
{
	(void)state;
	static const struct {
		uint32_t f;
		uint16_t b;
	} cases[] = {
		{ 0x3f800000, 0x3f80 }, { 0x80000000, 0x8000 },
		{ 0x3f808000, 0x3f80 },             /* tie, even stays */
		{ 0x3f818000, 0x3f82 },             /* tie, odd rounds up */
		{ 0x3f808001, 0x3f81 },
		{ 0x3f807fff, 0x3f80 },
		{ 0x7f7fffff, 0x7f80 },             /* FLT_MAX rounds to inf */
		{ 0x7f800000, 0x7f80 }, { 0xff800000, 0xff80 },
		{ 0x7f800001, 0x7fc0 },             /* signalling NaN made quiet */
		{ 0xff810000, 0xffc1 },             /* payload's top bits kept */
		{ 0x7fc00000, 0x7fc0 },
		{ 0x7fffffff, 0x7fff },
		{ 0x00000001, 0x0000 },             /* subnormals round, not flush */
		{ 0x00018000, 0x0002 },
		{ 0x00008000, 0x0000 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t b = arca_fp32_to_bf16(arca_quant__f32_from_bits(cases[i].f));
		if (b != cases[i].b)
			fail_msg("bf16(0x%08x) = 0x%04x, want 0x%04x", cases[i].f, b, cases[i].b);
	}
	assert_int_equal(arca_quant__f32_bits(arca_bf16_to_fp32(0x7fc1)), 0x7fc10000);
	assert_int_equal(arca_quant__f32_bits(arca_bf16_to_fp32(0x8001)), 0x80010000);
}

/* ------------------------------------------------------------------ traits, names, errors */

static void test_type_names_and_sizes(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int type;
	} names[] = {
		{ "q4_k", ARCA_GGML_Q4_K }, { "Q8_0", ARCA_GGML_Q8_0 }, { "bf16", ARCA_GGML_BF16 },
		{ "iq4_xs", ARCA_GGML_IQ4_XS }, { "IQ4_NL", ARCA_GGML_IQ4_NL }, { "F32", ARCA_GGML_F32 },
		{ "f16", ARCA_GGML_F16 }, { "Q6_k", ARCA_GGML_Q6_K }, { "IQ2_XXS", 16 },
		{ "TQ2_0", 35 }, { "Q2_0", 42 },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int type = -1;
		if (arca_ggml_type_from_name(&type, names[i].name) != ARCA_OK)
			fail_msg("'%s': %s", names[i].name, arca_error_last());
		assert_int_equal(type, names[i].type);
	}
	static const char *const bad[] = { "q4_k_m", "Q4_2", "", "q8", "F16 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int type;
		assert_int_equal(arca_ggml_type_from_name(&type, bad[i]), ARCA_EINVALID);
		char quoted[32];
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
		assert_error_mentions(quoted);
		assert_error_mentions("Q4_K"); /* lists what arca can write */
	}

	/* every live id is described, removed ids and out-of-range ones are not */
	for (int t = -2; t <= ARCA_GGML_TYPE_COUNT + 1; t++) {
		const arca_ggml_type_info *info = arca_ggml_type_info_get(t);
		int removed = t < 0 || t >= ARCA_GGML_TYPE_COUNT || t == 4 || t == 5 ||
			(t >= 31 && t <= 33) || (t >= 36 && t <= 38);
		if (removed) {
			assert_null(info);
			continue;
		}
		assert_non_null(info);
		assert_true(info->block_size > 0 && info->type_size > 0);
		int back;
		assert_int_equal(arca_ggml_type_from_name(&back, info->name), ARCA_OK);
		assert_int_equal(back, t);
		assert_int_equal(info->quantize, info->dequantize);
	}

	static const struct {
		int type;
		uint64_t n, bytes;
	} sizes[] = {
		{ ARCA_GGML_Q4_K, 4096, 2304 }, { ARCA_GGML_Q4_K, 100, 0 }, { ARCA_GGML_F32, 3, 12 },
		{ ARCA_GGML_Q8_0, 32, 34 }, { ARCA_GGML_IQ4_XS, 256, 136 }, { ARCA_GGML_Q6_K, 512, 420 },
		{ ARCA_GGML_Q8_0, 0, 0 }, { 4, 32, 0 }, { -1, 32, 0 }, { ARCA_GGML_TYPE_COUNT, 1, 0 },
		{ ARCA_GGML_BF16, 7, 14 }, { ARCA_GGML_Q2_K, 256, 84 }, { ARCA_GGML_Q3_K, 256, 110 },
		{ 40, 64, 36 }, { ARCA_GGML_F64, UINT64_MAX, 0 },
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (arca_ggml_row_size(sizes[i].type, sizes[i].n) != sizes[i].bytes)
			fail_msg("row size of type %d, %llu elements: %llu, want %llu", sizes[i].type,
				(unsigned long long)sizes[i].n,
				(unsigned long long)arca_ggml_row_size(sizes[i].type, sizes[i].n),
				(unsigned long long)sizes[i].bytes);
}

static void test_rejected_arguments(void **state)
{
	(void)state;
	float x[512] = { 0 };
	uint8_t q[4096];
	float f[512];
	static const struct {
		int dequantize;   /* 0: arca_quantize_rows, 1: arca_dequantize, 2: _mt */
		int type;
		size_t n;
		const char *mentions;
		const char *also;
	} cases[] = {
		{ 0, ARCA_GGML_Q4_K, 100, "Q4_K", "100" },
		{ 0, ARCA_GGML_Q8_0, 48, "Q8_0", "32" },
		{ 0, 16, 256, "IQ2_XXS", "cannot" },
		{ 0, ARCA_GGML_Q8_K, 256, "Q8_K", "cannot" },
		{ 0, 4, 32, "type 4", "no such type" },
		{ 0, 99, 32, "type 99", "no such type" },
		{ 1, ARCA_GGML_Q8_1, 32, "Q8_1", "cannot" },
		{ 1, ARCA_GGML_Q6_K, 128, "Q6_K", "128" },
		{ 1, ARCA_GGML_I32, 4, "I32", "cannot" },
		{ 2, ARCA_GGML_IQ4_XS, 32, "IQ4_XS", "32" },
		{ 2, 19, 256, "IQ1_S", "cannot" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		arca_err err;
		if (cases[i].dequantize == 1) {
			err = arca_dequantize(cases[i].type, q, f, cases[i].n);
			assert_int_equal(err, ARCA_EINVALID);
			assert_error_mentions(cases[i].mentions);
			err = arca_dequantize_ref(cases[i].type, q, f, cases[i].n);
		} else if (cases[i].dequantize == 2) {
			err = arca_quantize_rows_mt(cases[i].type, x, q, 1, cases[i].n, 2);
		} else {
			err = arca_quantize_rows(cases[i].type, x, q, 1, cases[i].n);
			assert_int_equal(err, ARCA_EINVALID);
			assert_error_mentions(cases[i].mentions);
			err = arca_quantize_rows_ref(cases[i].type, x, q, 1, cases[i].n);
		}
		assert_int_equal(err, ARCA_EINVALID);
		assert_error_mentions(cases[i].mentions);
		assert_error_mentions(cases[i].also);
	}
	assert_int_equal(arca_quantize_rows_mt(ARCA_GGML_Q8_0, x, q, 1, 32, -1), ARCA_EINVALID);
	assert_error_mentions("Q8_0");

	/* nothing to do is fine; more threads than rows, and 0 = one per CPU */
	assert_int_equal(arca_quantize_rows(ARCA_GGML_Q4_K, x, q, 0, 256), ARCA_OK);
	assert_int_equal(arca_quantize_rows(ARCA_GGML_Q4_K, x, q, 3, 0), ARCA_OK);
	assert_int_equal(arca_dequantize(ARCA_GGML_Q4_K, q, f, 0), ARCA_OK);
	for (int i = 0; i < 512; i++)
		x[i] = (float)i / 100;
	uint8_t one[4096], many[4096];
	assert_int_equal(arca_quantize_rows(ARCA_GGML_Q4_0, x, one, 16, 32), ARCA_OK);
	assert_int_equal(arca_quantize_rows_mt(ARCA_GGML_Q4_0, x, many, 16, 32, 64), ARCA_OK);
	assert_memory_equal(one, many, 16 * 18);
	memset(many, 0, sizeof(many));
	assert_int_equal(arca_quantize_rows_mt(ARCA_GGML_Q4_0, x, many, 16, 32, 0), ARCA_OK);
	assert_memory_equal(one, many, 16 * 18);
	memset(many, 0, sizeof(many));
	assert_int_equal(arca_quantize_rows_mt(ARCA_GGML_Q4_0, x, many, 5, 96, 3), ARCA_OK);
	assert_memory_equal(one, many, 15 * 18);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_reference_vectors_avx2),
		cmocka_unit_test(test_reference_vectors_avx512),
		cmocka_unit_test(test_row_by_row),
		cmocka_unit_test(test_avx2_matches_scalar),
		cmocka_unit_test(test_avx512_matches_scalar),
		cmocka_unit_test(test_fp16),
		cmocka_unit_test(test_bf16),
		cmocka_unit_test(test_type_names_and_sizes),
		cmocka_unit_test(test_rejected_arguments),
	};
	return t_exit(cmocka_run_group_tests(tests, load_vectors, free_vectors));
}
