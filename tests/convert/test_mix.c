/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/convert/test_mix.c — quantization plans and the per-tensor type rules
 * (arca/convert.h). The expectations restate llama-quantize's documented behaviour
 * without an importance matrix (formats reference §6): which layers of ffn_down and
 * attn_v get more bits in the _M mixes, what the output and tied embedding become, the
 * fallbacks for rows a block size does not divide, and what is never quantized.
 * (t_convert.sh checks whole files against llama_model_quantize itself.)
 */
#include <stdio.h>
#include <string.h>

#include "arca/convert.h"
#include "arca/quant.h"
#include "support.h"

static arca_quant_plan plan_of(const char *name)
{
	arca_quant_plan p;
	if (arca_quant_plan_parse(&p, name) != ARCA_OK)
		fail_msg("plan %s: %s", name, arca_error_last());
	return p;
}

static int type_of(const arca_quant_plan *p, const arca_quant_context *ctx, const char *name,
	uint32_t n_dims, uint64_t ne0, int *attn_v_index)
{
	int dummy = 0;
	return arca_quant_plan_type(p, ctx, name, n_dims, ne0, ARCA_GGML_BF16,
		attn_v_index ? attn_v_index : &dummy);
}

static void test_plan_parse(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int type, is_mix;
		uint32_t ftype;
	} rows[] = {
		{ "f32", ARCA_GGML_F32, 0, 0 }, { "f16", ARCA_GGML_F16, 0, 1 },
		{ "bf16", ARCA_GGML_BF16, 0, 32 }, { "q8_0", ARCA_GGML_Q8_0, 0, 7 },
		{ "q4_0", ARCA_GGML_Q4_0, 0, 2 }, { "q6_k", ARCA_GGML_Q6_K, 0, 18 },
		{ "iq4_xs", ARCA_GGML_IQ4_XS, 0, 30 }, { "q4_k_m", ARCA_GGML_Q4_K, 1, 15 },
		{ "Q4_K_M", ARCA_GGML_Q4_K, 1, 15 }, { "q5_k_m", ARCA_GGML_Q5_K, 1, 17 },
		{ "q4_k_s", ARCA_GGML_Q4_K, 1, 14 }, { "Q5_K_S", ARCA_GGML_Q5_K, 1, 16 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		arca_quant_plan p = plan_of(rows[i].name);
		assert_int_equal(p.default_type, rows[i].type);
		assert_int_equal(p.is_mix, rows[i].is_mix);
		assert_int_equal(p.ftype, rows[i].ftype);
		for (const char *c = p.name; *c; c++)
			assert_false(*c >= 'A' && *c <= 'Z'); /* canonical name is lowercase */
	}
	static const char *const bad[] = { "", "q4", "q4_k_l", "q4_k_m ", "fp16", "q8_0q8_0",
		"a-name-far-longer-than-any-plan-could-be-q4_k_m" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		arca_quant_plan p;
		assert_int_equal(arca_quant_plan_parse(&p, bad[i]), ARCA_EINVALID);
		assert_error_mentions("q4_k_m"); /* the message lists what exists */
	}
}

/* llama.cpp's use_more_bits(i, n) for n = 24: the first and last eighth, every third. */
static const int more_bits_24[] = { 0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23 };

static int in_list(int v, const int *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == v)
			return 1;
	return 0;
}

static void test_q4_k_m_layers(void **state)
{
	(void)state;
	arca_quant_plan p = plan_of("q4_k_m");
	arca_quant_context ctx = { .n_layers = 24, .n_attn_v = 24, .has_output = 0 };
	int v_index = 0;
	char name[64];
	for (int i = 0; i < 24; i++) {
		int want = in_list(i, more_bits_24, 12) ? ARCA_GGML_Q6_K : ARCA_GGML_Q4_K;
		snprintf(name, sizeof(name), "blk.%d.ffn_down.weight", i);
		/* 896 (Qwen2-0.5B) is no multiple of 256: Q6_K falls back to Q8_0, Q4_K to Q5_0 */
		assert_int_equal(type_of(&p, &ctx, name, 2, 896, NULL),
			want == ARCA_GGML_Q6_K ? ARCA_GGML_Q8_0 : ARCA_GGML_Q5_0);
		assert_int_equal(type_of(&p, &ctx, name, 2, 1024, NULL), want);
		/* attn_v counts its own index, in the order tensors are seen */
		snprintf(name, sizeof(name), "blk.%d.attn_v.weight", i);
		assert_int_equal(type_of(&p, &ctx, name, 2, 1024, &v_index), want);
		snprintf(name, sizeof(name), "blk.%d.attn_q.weight", i);
		assert_int_equal(type_of(&p, &ctx, name, 2, 1024, NULL), ARCA_GGML_Q4_K);
		snprintf(name, sizeof(name), "blk.%d.ffn_gate.weight", i);
		assert_int_equal(type_of(&p, &ctx, name, 2, 1024, NULL), ARCA_GGML_Q4_K);
	}
	assert_int_equal(v_index, 24);
	/* tied embeddings: token_embd is the output, so it gets Q6_K */
	assert_int_equal(type_of(&p, &ctx, "token_embd.weight", 2, 1024, NULL), ARCA_GGML_Q6_K);
	ctx.has_output = 1;
	assert_int_equal(type_of(&p, &ctx, "token_embd.weight", 2, 1024, NULL), ARCA_GGML_Q4_K);
	assert_int_equal(type_of(&p, &ctx, "output.weight", 2, 1024, NULL), ARCA_GGML_Q6_K);

	/* q5_k_m: the same layers, Q5_K elsewhere */
	arca_quant_plan p5 = plan_of("q5_k_m");
	assert_int_equal(type_of(&p5, &ctx, "blk.3.ffn_down.weight", 2, 1024, NULL),
		ARCA_GGML_Q5_K);
	assert_int_equal(type_of(&p5, &ctx, "blk.5.ffn_down.weight", 2, 1024, NULL),
		ARCA_GGML_Q6_K);
	/* q4_k_s: Q5_K for the first eighth of ffn_down and the first four attn_v */
	arca_quant_plan ps = plan_of("q4_k_s");
	v_index = 0;
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "blk.%d.attn_v.weight", i);
		assert_int_equal(type_of(&ps, &ctx, name, 2, 1024, &v_index),
			i < 4 ? ARCA_GGML_Q5_K : ARCA_GGML_Q4_K);
		snprintf(name, sizeof(name), "blk.%d.ffn_down.weight", i);
		assert_int_equal(type_of(&ps, &ctx, name, 2, 1024, NULL),
			i < 3 ? ARCA_GGML_Q5_K : ARCA_GGML_Q4_K);
	}
	/* a pure type is the same everywhere, output included */
	arca_quant_plan pure = plan_of("q4_k");
	assert_int_equal(type_of(&pure, &ctx, "output.weight", 2, 1024, NULL), ARCA_GGML_Q4_K);
	assert_int_equal(type_of(&pure, &ctx, "blk.0.ffn_down.weight", 2, 1024, NULL),
		ARCA_GGML_Q4_K);
	/* q8_0 output stays Q8_0 */
	arca_quant_plan p8 = plan_of("q8_0");
	assert_int_equal(type_of(&p8, &ctx, "output.weight", 2, 1024, NULL), ARCA_GGML_Q8_0);
}

static void test_experts(void **state)
{
	(void)state;
	arca_quant_plan p = plan_of("q4_k_m");
	arca_quant_context ctx = { .n_layers = 4, .n_attn_v = 4, .n_expert = 8, .has_output = 1 };
	int v_index = 0;
	assert_int_equal(type_of(&p, &ctx, "blk.1.attn_v.weight", 2, 1024, &v_index),
		ARCA_GGML_Q8_0);
	assert_int_equal(type_of(&p, &ctx, "blk.1.attn_k.weight", 2, 1024, NULL), ARCA_GGML_Q8_0);
	assert_int_equal(type_of(&p, &ctx, "blk.1.attn_output.weight", 2, 1024, NULL),
		ARCA_GGML_Q5_K);
	/* the router never quantizes, whatever its shape */
	assert_int_equal(type_of(&p, &ctx, "blk.1.ffn_gate_inp.weight", 2, 1024, NULL),
		ARCA_GGML_BF16);
	ctx.n_expert = 16;
	assert_int_equal(type_of(&p, &ctx, "blk.1.attn_k.weight", 2, 1024, NULL), ARCA_GGML_Q4_K);
}

static void test_fallbacks_and_floats(void **state)
{
	(void)state;
	arca_quant_context ctx = { .n_layers = 24, .n_attn_v = 24, .has_output = 1 };
	static const struct {
		const char *plan;
		uint64_t ne0;
		int want;
	} rows[] = {
		{ "q4_k", 896, ARCA_GGML_Q5_0 },   /* 896 = 28·32, not a multiple of 256 */
		{ "q5_k", 896, ARCA_GGML_Q5_1 },
		{ "q6_k", 896, ARCA_GGML_Q8_0 },
		{ "q2_k", 896, ARCA_GGML_Q4_0 },
		{ "q3_k", 896, ARCA_GGML_Q4_0 },
		{ "iq4_xs", 896, ARCA_GGML_IQ4_NL },
		{ "q4_k", 100, ARCA_GGML_F16 },    /* not even a multiple of 32 */
		{ "q8_0", 100, ARCA_GGML_F16 },
		{ "q4_0", 100, ARCA_GGML_F16 },
		{ "q4_k", 256, ARCA_GGML_Q4_K },
		{ "q8_0", 32, ARCA_GGML_Q8_0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		arca_quant_plan p = plan_of(rows[i].plan);
		int got = type_of(&p, &ctx, "blk.4.attn_q.weight", 2, rows[i].ne0, NULL);
		if (got != rows[i].want)
			fail_msg("%s ne0=%llu: got type %d, want %d", rows[i].plan,
				(unsigned long long)rows[i].ne0, got, rows[i].want);
	}
	/* the output of a mix with an odd width becomes Q8_0 (the mix's own fallback) */
	arca_quant_plan m = plan_of("q4_k_m");
	assert_int_equal(type_of(&m, &ctx, "output.weight", 2, 896, NULL), ARCA_GGML_Q8_0);

	/* never quantized: 1-D tensors, norms, biases; they keep a float source type */
	arca_quant_plan p = plan_of("q4_0");
	static const struct {
		const char *name;
		uint32_t n_dims;
	} floats[] = {
		{ "blk.0.attn_norm.weight", 1 }, { "blk.0.attn_q_norm.weight", 1 },
		{ "output_norm.weight", 1 }, { "blk.0.attn_q.bias", 1 },
		{ "blk.0.ffn_gate_inp.weight", 2 }, { "blk.0.attn_kv_a_norm.weight", 1 },
		{ "blk.0.exp_probs_b.bias", 1 },
	};
	for (size_t i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
		int dummy = 0;
		assert_int_equal(arca_quant_plan_type(&p, &ctx, floats[i].name, floats[i].n_dims, 1024,
			ARCA_GGML_F16, &dummy), ARCA_GGML_F16);
		/* from a quantized source they become F32, never stay quantized */
		assert_int_equal(arca_quant_plan_type(&p, &ctx, floats[i].name, floats[i].n_dims, 1024,
			ARCA_GGML_Q8_0, &dummy), ARCA_GGML_F32);
	}
	/* a float plan applies to every 2-D weight */
	arca_quant_plan f16 = plan_of("f16");
	assert_int_equal(type_of(&f16, &ctx, "blk.0.attn_q.weight", 2, 100, NULL), ARCA_GGML_F16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_parse),
		cmocka_unit_test(test_q4_k_m_layers),
		cmocka_unit_test(test_experts),
		cmocka_unit_test(test_fallbacks_and_floats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
