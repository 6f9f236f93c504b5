/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/mix.c — which ggml type each tensor gets: plans (a pure type or a llama-quantize
 * mix), the rules llama-quantize applies per tensor without an importance matrix, and its
 * fallbacks for rows that do not fit a block size (formats reference §6, restated in
 * docs/formats.md).
 */
#include "arca/convert.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "arca/quant.h"

/* llama_ftype values (general.file_type). */
enum {
	FT_ALL_F32 = 0, FT_F16 = 1, FT_Q4_0 = 2, FT_Q4_1 = 3, FT_Q8_0 = 7, FT_Q5_0 = 8, FT_Q5_1 = 9,
	FT_Q2_K = 10, FT_Q3_K_S = 11, FT_Q4_K_S = 14, FT_Q4_K_M = 15, FT_Q5_K_S = 16, FT_Q5_K_M = 17,
	FT_Q6_K = 18, FT_IQ4_NL = 25, FT_IQ4_XS = 30, FT_BF16 = 32,
};

static const arca_quant_plan plans[] = {
	{ "f32", ARCA_GGML_F32, 0, FT_ALL_F32 },
	{ "f16", ARCA_GGML_F16, 0, FT_F16 },
	{ "bf16", ARCA_GGML_BF16, 0, FT_BF16 },
	{ "q8_0", ARCA_GGML_Q8_0, 0, FT_Q8_0 },
	{ "q4_0", ARCA_GGML_Q4_0, 0, FT_Q4_0 },
	{ "q4_1", ARCA_GGML_Q4_1, 0, FT_Q4_1 },
	{ "q5_0", ARCA_GGML_Q5_0, 0, FT_Q5_0 },
	{ "q5_1", ARCA_GGML_Q5_1, 0, FT_Q5_1 },
	{ "q2_k", ARCA_GGML_Q2_K, 0, FT_Q2_K },
	{ "q3_k", ARCA_GGML_Q3_K, 0, FT_Q3_K_S },
	{ "q4_k", ARCA_GGML_Q4_K, 0, FT_Q4_K_S },
	{ "q5_k", ARCA_GGML_Q5_K, 0, FT_Q5_K_S },
	{ "q6_k", ARCA_GGML_Q6_K, 0, FT_Q6_K },
	{ "iq4_nl", ARCA_GGML_IQ4_NL, 0, FT_IQ4_NL },
	{ "iq4_xs", ARCA_GGML_IQ4_XS, 0, FT_IQ4_XS },
	{ "q4_k_m", ARCA_GGML_Q4_K, 1, FT_Q4_K_M },
	{ "q4_k_s", ARCA_GGML_Q4_K, 1, FT_Q4_K_S },
	{ "q5_k_m", ARCA_GGML_Q5_K, 1, FT_Q5_K_M },
	{ "q5_k_s", ARCA_GGML_Q5_K, 1, FT_Q5_K_S },
};

/* llama.cpp's names for every general.file_type it still knows (Ollama shows these as the
 * quantization level); 4-6 and 33-35 were retired. */
static const struct {
	uint32_t ftype;
	const char *name;
} file_type_names[] = {
	{ 0, "F32" }, { 1, "F16" }, { 2, "Q4_0" }, { 3, "Q4_1" }, { 7, "Q8_0" }, { 8, "Q5_0" },
	{ 9, "Q5_1" }, { 10, "Q2_K" }, { 11, "Q3_K_S" }, { 12, "Q3_K_M" }, { 13, "Q3_K_L" },
	{ 14, "Q4_K_S" }, { 15, "Q4_K_M" }, { 16, "Q5_K_S" }, { 17, "Q5_K_M" }, { 18, "Q6_K" },
	{ 19, "IQ2_XXS" }, { 20, "IQ2_XS" }, { 21, "Q2_K_S" }, { 22, "IQ3_XS" }, { 23, "IQ3_XXS" },
	{ 24, "IQ1_S" }, { 25, "IQ4_NL" }, { 26, "IQ3_S" }, { 27, "IQ3_M" }, { 28, "IQ2_S" },
	{ 29, "IQ2_M" }, { 30, "IQ4_XS" }, { 31, "IQ1_M" }, { 32, "BF16" }, { 36, "TQ1_0" },
	{ 37, "TQ2_0" }, { 38, "MXFP4_MOE" },
};

const char *arca_quant_file_type_name(uint32_t ftype)
{
	for (size_t i = 0; i < sizeof(file_type_names) / sizeof(file_type_names[0]); i++)
		if (file_type_names[i].ftype == ftype)
			return file_type_names[i].name;
	return NULL;
}

arca_err arca_quant_plan_parse(arca_quant_plan *out, const char *name)
{
	char lower[32];
	size_t n = strlen(name);
	if (n >= sizeof(lower))
		n = sizeof(lower) - 1;
	for (size_t i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[n] = '\0';
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		if (!strcmp(plans[i].name, lower)) {
			*out = plans[i];
			return ARCA_OK;
		}
	}
	return arca_error_set(ARCA_EINVALID, "unknown type '%.30s' (types: f32, f16, bf16, q8_0, "
		"q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k, iq4_nl, iq4_xs; mixes: q4_k_m, "
		"q4_k_s, q5_k_m, q5_k_s)", name);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static int use_more_bits(int i, int n)
{
	return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static int layer_of(const char *name)
{
	int layer = -1;
	if (sscanf(name, "blk.%d.", &layer) != 1)
		return -1;
	return layer;
}

static int is_float_type(int type)
{
	return type == ARCA_GGML_F32 || type == ARCA_GGML_F16 || type == ARCA_GGML_BF16;
}

/* The rules of llama-quantize for the mixes (no importance matrix). */
static int mix_rules(const arca_quant_plan *plan, const arca_quant_context *ctx,
	const char *name, uint64_t ne0, int *attn_v_index)
{
	int t = plan->default_type;
	const arca_ggml_type_info *dinfo = arca_ggml_type_info_get(t);
	int m = plan->ftype == FT_Q4_K_M || plan->ftype == FT_Q5_K_M;
	int is_output = !strcmp(name, "output.weight");
	int is_embd = !strcmp(name, "token_embd.weight");
	if (is_output || (is_embd && !ctx->has_output)) {
		if (ne0 % dinfo->block_size)
			return ARCA_GGML_Q8_0;
		return t != ARCA_GGML_Q8_0 ? ARCA_GGML_Q6_K : ARCA_GGML_Q8_0;
	}
	if (is_embd)
		return t;
	if (strstr(name, "attn_v.weight") || strstr(name, "attn_qkv.weight") ||
	    strstr(name, "attn_kv_b.weight")) {
		int i = (*attn_v_index)++;
		int n = (int)ctx->n_attn_v;
		if (m && use_more_bits(i, n))
			t = ARCA_GGML_Q6_K;
		else if (plan->ftype == FT_Q4_K_S && i < 4)
			t = ARCA_GGML_Q5_K;
		if (ctx->is_70b && (t == ARCA_GGML_Q3_K || t == ARCA_GGML_Q4_K))
			t = ARCA_GGML_Q5_K;
		if (ctx->n_expert == 8)
			t = ARCA_GGML_Q8_0;
		return t;
	}
	if (strstr(name, "attn_k.weight"))
		return ctx->n_expert == 8 ? ARCA_GGML_Q8_0 : t;
	if (strstr(name, "ffn_down")) {
		int i = layer_of(name), n = (int)ctx->n_layers;
		if (i < 0)
			return t;
		if (m && use_more_bits(i, n))
			t = ARCA_GGML_Q6_K;
		else if (plan->ftype == FT_Q4_K_S && i < n / 8)
			t = ARCA_GGML_Q5_K;
		return t;
	}
	if (strstr(name, "attn_output.weight") && ctx->n_expert == 8 &&
	    plan->ftype == FT_Q4_K_M)
		return ARCA_GGML_Q5_K;
	return t;
}

/* A type whose blocks do not divide the row falls back to one that fits. */
static int shape_fallback(int t, uint64_t ne0)
{
	const arca_ggml_type_info *info = arca_ggml_type_info_get(t);
	if (!info || ne0 % info->block_size == 0)
		return t;
	if (info->fallback != ARCA_GGML_NONE)
		t = info->fallback;
	info = arca_ggml_type_info_get(t);
	if (info && ne0 % info->block_size)
		t = ARCA_GGML_F16;
	return t;
}

int arca_quant_plan_type(const arca_quant_plan *plan, const arca_quant_context *ctx,
	const char *name, uint32_t n_dims, uint64_t ne0, int source_type, int *attn_v_index)
{
	/* never quantized: 1-D tensors, biases, norms, MoE routers */
	if (n_dims < 2 || !ends_with(name, "weight") || strstr(name, "_norm.weight") ||
	    strstr(name, "ffn_gate_inp.weight"))
		return is_float_type(source_type) ? source_type : ARCA_GGML_F32;
	int t = plan->is_mix ? mix_rules(plan, ctx, name, ne0, attn_v_index) : plan->default_type;
	if (is_float_type(t))
		return t;
	return shape_fallback(t, ne0);
}
