/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/arch.c — the architecture tables (arca/arch.h): qwen2, qwen3, llama (also Yi and
 * InternLM3), qwen3moe, deepseek2, glm4, internlm2, glm4moe, minimax-m2, chatglm. Each is
 * data; the few keys computed from several config fields live in a small hook per
 * architecture, and the classes arca knows but refuses (lightning attention) are listed with
 * the reason. Facts from the formats reference, §7 (restated in docs/formats.md).
 */
#include "arca/arch.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"

/* Keys every architecture here shares (spec §7.1). */
#define BASE_KVS \
	{ "block_count", "num_hidden_layers|num_layers", ARCA_KV_U32, 1 }, \
	{ "context_length", "max_position_embeddings|seq_length", ARCA_KV_U32, 1 }, \
	{ "embedding_length", "hidden_size", ARCA_KV_U32, 1 }, \
	{ "feed_forward_length", "intermediate_size|ffn_hidden_size", ARCA_KV_U32, 1 }, \
	{ "attention.head_count", "num_attention_heads", ARCA_KV_U32, 1 }, \
	{ "rope.freq_base", "rope_theta|rope_parameters.rope_theta", ARCA_KV_F32, 0 }, \
	{ "attention.layer_norm_rms_epsilon", "rms_norm_eps|layernorm_epsilon", ARCA_KV_F32, 1 }

#define HEAD_KV { "attention.head_count_kv", "num_key_value_heads|multi_query_group_num", \
	ARCA_KV_U32, 0 }
#define HEAD_DIM_KVS \
	{ "attention.key_length", "head_dim", ARCA_KV_U32, 0 }, \
	{ "attention.value_length", "head_dim", ARCA_KV_U32, 0 }

/* Layer tensors the LLaMA-family archs share. */
#define L "model.layers.{i}."
#define B "blk.{i}."
#define COMMON_TOP \
	{ "model.embed_tokens.weight", "token_embd.weight", ARCA_TX_NONE, 0 }, \
	{ "model.norm.weight", "output_norm.weight", ARCA_TX_NONE, ARCA_T_F32 }, \
	{ "lm_head.weight", "output.weight", ARCA_TX_NONE, ARCA_T_OPTIONAL }
#define NORMS \
	{ L "input_layernorm.weight", B "attn_norm.weight", ARCA_TX_NONE, ARCA_T_F32 }, \
	{ L "post_attention_layernorm.weight", B "ffn_norm.weight", ARCA_TX_NONE, ARCA_T_F32 }
#define DENSE_FFN(flags) \
	{ L "mlp.gate_proj.weight", B "ffn_gate.weight", ARCA_TX_NONE, flags }, \
	{ L "mlp.up_proj.weight", B "ffn_up.weight", ARCA_TX_NONE, flags }, \
	{ L "mlp.down_proj.weight", B "ffn_down.weight", ARCA_TX_NONE, flags }
#define ATTN_O { L "self_attn.o_proj.weight", B "attn_output.weight", ARCA_TX_NONE, 0 }

/* ------------------------------------------------------------------ hooks */

static json_t *config_get(const json_t *config, const char *key)
{
	return json_object_get(config, key);
}

static int config_int(const json_t *config, const char *key, long long *out)
{
	json_t *v = config_get(config, key);
	if (!json_is_integer(v))
		return 0;
	*out = json_integer_value(v);
	return 1;
}

static arca_err put_u32(void *writer, const char *arch, const char *key, long long v)
{
	char full[128];
	snprintf(full, sizeof(full), "%s.%s", arch, key);
	if (v < 0 || v > UINT32_MAX)
		return arca_error_set(ARCA_EINVALID, "config.json: %s = %lld does not fit a u32", full, v);
	return arca_gguf_add_u32(writer, full, (uint32_t)v);
}

static arca_err put_f32(void *writer, const char *arch, const char *key, double v)
{
	char full[128];
	snprintf(full, sizeof(full), "%s.%s", arch, key);
	return arca_gguf_add_f32(writer, full, (float)v);
}

static arca_err require_int(const json_t *config, const char *key, long long *out)
{
	if (!config_int(config, key, out))
		return arca_error_set(ARCA_EINVALID, "config.json: %s is missing or not an integer",
			key);
	return ARCA_OK;
}

/* llama: vocab_size, and rope.dimension_count = head_dim or hidden / heads. */
static arca_err llama_hook(const arca_arch *arch, const void *cfg, void *w)
{
	const json_t *config = cfg;
	long long vocab = 0, hidden = 0, heads = 0, head_dim = 0;
	arca_err err;
	if ((err = require_int(config, "vocab_size", &vocab)) < 0 ||
	    (err = put_u32(w, arch->name, "vocab_size", vocab)) < 0)
		return err;
	if (!config_int(config, "head_dim", &head_dim)) {
		if ((err = require_int(config, "hidden_size", &hidden)) < 0 ||
		    (err = require_int(config, "num_attention_heads", &heads)) < 0)
			return err;
		if (heads <= 0)
			return arca_error_set(ARCA_EINVALID, "config.json: num_attention_heads is %lld",
				heads);
		head_dim = hidden / heads;
	}
	return put_u32(w, arch->name, "rope.dimension_count", head_dim);
}

/* The routing keys DeepSeek-V3-style MoE configs share: leading dense layers, shared experts,
 * the routed scale and whether the chosen weights are renormalized. */
static arca_err moe_routing(const arca_arch *arch, const json_t *config, void *w)
{
	const char *a = arch->name;
	long long n;
	arca_err err;
	if (config_int(config, "first_k_dense_replace", &n) &&
	    (err = put_u32(w, a, "leading_dense_block_count", n)) < 0)
		return err;
	if (config_int(config, "n_shared_experts", &n) &&
	    (err = put_u32(w, a, "expert_shared_count", n)) < 0)
		return err;
	json_t *scale = config_get(config, "routed_scaling_factor");
	if (json_is_number(scale) &&
	    (err = put_f32(w, a, "expert_weights_scale", json_number_value(scale))) < 0)
		return err;
	if (json_is_true(config_get(config, "norm_topk_prob"))) {
		char key[128];
		snprintf(key, sizeof(key), "%s.expert_weights_norm", a);
		if ((err = arca_gguf_add_bool(w, key, 1)) < 0)
			return err;
	}
	return ARCA_OK;
}

/* head_dim, or hidden_size / num_attention_heads (kv_channels for ChatGLM). */
static arca_err head_dim_of(const json_t *config, long long *out)
{
	long long hidden, heads;
	arca_err err;
	if (config_int(config, "head_dim", out) || config_int(config, "kv_channels", out))
		return ARCA_OK;
	if ((err = require_int(config, "hidden_size", &hidden)) < 0 ||
	    (err = require_int(config, "num_attention_heads", &heads)) < 0)
		return err;
	if (heads <= 0)
		return arca_error_set(ARCA_EINVALID, "config.json: num_attention_heads is %lld", heads);
	*out = hidden / heads;
	return ARCA_OK;
}

/* RoPE over head_dim × partial_rotary_factor dims (default one half): GLM-4, GLM-4.5,
 * ChatGLM. */
static arca_err partial_rope(const arca_arch *arch, const json_t *config, void *w)
{
	long long head_dim;
	arca_err err = head_dim_of(config, &head_dim);
	if (err < 0)
		return err;
	json_t *f = config_get(config, "partial_rotary_factor");
	double factor = json_is_number(f) ? json_number_value(f) : 0.5;
	return put_u32(w, arch->name, "rope.dimension_count", (long long)(head_dim * factor));
}

static arca_err glm4_hook(const arca_arch *arch, const void *cfg, void *w)
{
	return partial_rope(arch, cfg, w);
}

/* glm4moe: partial RoPE and DeepSeek-V3-style sigmoid routing (always sigmoid, as
 * llama.cpp's converter writes it). */
static arca_err glm4moe_hook(const arca_arch *arch, const void *cfg, void *w)
{
	arca_err err;
	if ((err = partial_rope(arch, cfg, w)) < 0 || (err = moe_routing(arch, cfg, w)) < 0)
		return err;
	return put_u32(w, arch->name, "expert_gating_func", 2);
}

/* minimax-m2: RoPE on rotary_dim dims; sigmoid routing whose chosen weights are always
 * renormalized. */
static arca_err minimax_m2_hook(const arca_arch *arch, const void *cfg, void *w)
{
	const json_t *config = cfg;
	long long rot;
	arca_err err;
	if (!config_int(config, "rotary_dim", &rot) && (err = head_dim_of(config, &rot)) < 0)
		return err;
	char key[128];
	snprintf(key, sizeof(key), "%s.expert_weights_norm", arch->name);
	if ((err = put_u32(w, arch->name, "rope.dimension_count", rot)) < 0 ||
	    (err = put_u32(w, arch->name, "expert_gating_func", 2)) < 0 ||
	    (err = arca_gguf_add_bool(w, key, 1)) < 0)
		return err;
	return ARCA_OK;
}

/* chatglm: RoPE on half of each head; the base is 10000 × rope_ratio. */
static arca_err chatglm_hook(const arca_arch *arch, const void *cfg, void *w)
{
	const json_t *config = cfg;
	arca_err err = partial_rope(arch, cfg, w);
	if (err < 0)
		return err;
	if (json_is_number(config_get(config, "rope_theta")))
		return ARCA_OK;   /* the table wrote it */
	json_t *ratio = config_get(config, "rope_ratio");
	return put_f32(w, arch->name, "rope.freq_base",
		10000.0 * (json_is_number(ratio) ? json_number_value(ratio) : 1.0));
}

/* deepseek2: MLA dimensions, MoE routing and the YaRN multiplier (spec §7.6). */
static arca_err deepseek2_hook(const arca_arch *arch, const void *cfg, void *w)
{
	const json_t *config = cfg;
	const char *a = arch->name;
	long long vocab = 0, kv_lora = 512, q_lora = 0, nope = 0, rope = 0, v_head = 0;
	arca_err err;
	if ((err = require_int(config, "vocab_size", &vocab)) < 0 ||
	    (err = put_u32(w, a, "vocab_size", vocab)) < 0 ||
	    (err = put_u32(w, a, "attention.head_count_kv", 1)) < 0)
		return err;
	config_int(config, "kv_lora_rank", &kv_lora);
	if ((err = require_int(config, "qk_nope_head_dim", &nope)) < 0 ||
	    (err = require_int(config, "qk_rope_head_dim", &rope)) < 0 ||
	    (err = require_int(config, "v_head_dim", &v_head)) < 0)
		return err;
	if (config_int(config, "q_lora_rank", &q_lora) &&
	    (err = put_u32(w, a, "attention.q_lora_rank", q_lora)) < 0)
		return err;
	if ((err = put_u32(w, a, "attention.kv_lora_rank", kv_lora)) < 0 ||
	    (err = put_u32(w, a, "attention.key_length", kv_lora + rope)) < 0 ||
	    (err = put_u32(w, a, "attention.value_length", kv_lora)) < 0 ||
	    (err = put_u32(w, a, "attention.key_length_mla", nope + rope)) < 0 ||
	    (err = put_u32(w, a, "attention.value_length_mla", v_head)) < 0 ||
	    (err = put_u32(w, a, "rope.dimension_count", rope)) < 0)
		return err;
	if ((err = moe_routing(arch, config, w)) < 0)
		return err;
	const char *scoring = json_string_value(config_get(config, "scoring_func"));
	if (scoring && (err = put_u32(w, a, "expert_gating_func",
			!strcmp(scoring, "sigmoid") ? 2 : 1)) < 0)
		return err;
	json_t *rs = config_get(config, "rope_scaling");
	json_t *mscale = json_object_get(rs, "mscale_all_dim");
	if (json_is_number(mscale) &&
	    (err = put_f32(w, a, "rope.scaling.yarn_log_multiplier",
			0.1 * json_number_value(mscale))) < 0)
		return err;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ tables */

static const char *const qwen2_classes[] = { "Qwen2ForCausalLM", NULL };
static const arca_arch_kv qwen2_kvs[] = { BASE_KVS, HEAD_KV, HEAD_DIM_KVS, { NULL } };
static const arca_arch_tensor qwen2_tensors[] = {
	COMMON_TOP, NORMS,
	{ L "self_attn.q_proj.weight", B "attn_q.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.k_proj.weight", B "attn_k.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.v_proj.weight", B "attn_v.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.q_proj.bias", B "attn_q.bias", ARCA_TX_NONE, ARCA_T_F32 },
	{ L "self_attn.k_proj.bias", B "attn_k.bias", ARCA_TX_NONE, ARCA_T_F32 },
	{ L "self_attn.v_proj.bias", B "attn_v.bias", ARCA_TX_NONE, ARCA_T_F32 },
	ATTN_O, DENSE_FFN(0),
	{ NULL },
};

static const char *const qwen3_classes[] = { "Qwen3ForCausalLM", NULL };
static const arca_arch_kv qwen3_kvs[] = { BASE_KVS, HEAD_KV, HEAD_DIM_KVS, { NULL } };
#define QWEN3_ATTN \
	{ L "self_attn.q_proj.weight", B "attn_q.weight", ARCA_TX_NONE, 0 }, \
	{ L "self_attn.k_proj.weight", B "attn_k.weight", ARCA_TX_NONE, 0 }, \
	{ L "self_attn.v_proj.weight", B "attn_v.weight", ARCA_TX_NONE, 0 }, \
	{ L "self_attn.q_norm.weight", B "attn_q_norm.weight", ARCA_TX_NONE, ARCA_T_F32 }, \
	{ L "self_attn.k_norm.weight", B "attn_k_norm.weight", ARCA_TX_NONE, ARCA_T_F32 }, \
	ATTN_O
static const arca_arch_tensor qwen3_tensors[] = {
	COMMON_TOP, NORMS, QWEN3_ATTN, DENSE_FFN(0), { NULL },
};

static const char *const qwen3moe_classes[] = { "Qwen3MoeForCausalLM", NULL };
static const arca_arch_kv qwen3moe_kvs[] = {
	BASE_KVS, HEAD_KV, HEAD_DIM_KVS,
	{ "expert_count", "num_experts|num_local_experts", ARCA_KV_U32, 1 },
	{ "expert_used_count", "num_experts_per_tok", ARCA_KV_U32, 1 },
	{ "expert_feed_forward_length", "moe_intermediate_size", ARCA_KV_U32, 1 },
	{ NULL },
};
#define MOE_EXPERTS \
	{ L "mlp.gate.weight", B "ffn_gate_inp.weight", ARCA_TX_NONE, ARCA_T_F32 | ARCA_T_MOE_ONLY }, \
	{ L "mlp.experts.{e}.gate_proj.weight", B "ffn_gate_exps.weight", ARCA_TX_STACK_EXPERTS, \
		ARCA_T_MOE_ONLY }, \
	{ L "mlp.experts.{e}.up_proj.weight", B "ffn_up_exps.weight", ARCA_TX_STACK_EXPERTS, \
		ARCA_T_MOE_ONLY }, \
	{ L "mlp.experts.{e}.down_proj.weight", B "ffn_down_exps.weight", ARCA_TX_STACK_EXPERTS, \
		ARCA_T_MOE_ONLY }
/* DeepSeek's and GLM-4.5's shared experts: one more FFN every token of a MoE layer passes */
#define SHARED_EXPERTS \
	{ L "mlp.shared_experts.gate_proj.weight", B "ffn_gate_shexp.weight", ARCA_TX_NONE, \
		ARCA_T_MOE_ONLY | ARCA_T_OPTIONAL }, \
	{ L "mlp.shared_experts.up_proj.weight", B "ffn_up_shexp.weight", ARCA_TX_NONE, \
		ARCA_T_MOE_ONLY | ARCA_T_OPTIONAL }, \
	{ L "mlp.shared_experts.down_proj.weight", B "ffn_down_shexp.weight", ARCA_TX_NONE, \
		ARCA_T_MOE_ONLY | ARCA_T_OPTIONAL }
static const arca_arch_tensor qwen3moe_tensors[] = {
	COMMON_TOP, NORMS, QWEN3_ATTN, MOE_EXPERTS, { NULL },
};

static const char *const llama_classes[] = { "LlamaForCausalLM", "InternLM3ForCausalLM", NULL };
static const arca_arch_kv llama_kvs[] = { BASE_KVS, HEAD_KV, HEAD_DIM_KVS, { NULL } };
static const arca_arch_tensor llama_tensors[] = {
	COMMON_TOP, NORMS,
	{ L "self_attn.q_proj.weight", B "attn_q.weight", ARCA_TX_PERMUTE_Q, 0 },
	{ L "self_attn.k_proj.weight", B "attn_k.weight", ARCA_TX_PERMUTE_K, 0 },
	{ L "self_attn.v_proj.weight", B "attn_v.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.q_proj.bias", B "attn_q.bias", ARCA_TX_PERMUTE_Q,
		ARCA_T_F32 | ARCA_T_OPTIONAL },
	{ L "self_attn.k_proj.bias", B "attn_k.bias", ARCA_TX_PERMUTE_K,
		ARCA_T_F32 | ARCA_T_OPTIONAL },
	{ L "self_attn.v_proj.bias", B "attn_v.bias", ARCA_TX_NONE, ARCA_T_F32 | ARCA_T_OPTIONAL },
	ATTN_O, DENSE_FFN(0),
	{ NULL },
};

static const char *const deepseek2_classes[] = { "DeepseekV2ForCausalLM",
	"DeepseekV3ForCausalLM", NULL };
static const arca_arch_kv deepseek2_kvs[] = {
	BASE_KVS,
	{ "expert_count", "n_routed_experts", ARCA_KV_U32, 0 },
	{ "expert_used_count", "num_experts_per_tok", ARCA_KV_U32, 0 },
	{ "expert_feed_forward_length", "moe_intermediate_size", ARCA_KV_U32, 0 },
	{ "expert_group_count", "n_group", ARCA_KV_U32, 0 },
	{ "expert_group_used_count", "topk_group", ARCA_KV_U32, 0 },
	{ NULL },
};
static const arca_arch_tensor deepseek2_tensors[] = {
	COMMON_TOP, NORMS,
	{ L "self_attn.q_proj.weight", B "attn_q.weight", ARCA_TX_NONE, ARCA_T_OPTIONAL },
	{ L "self_attn.q_a_proj.weight", B "attn_q_a.weight", ARCA_TX_NONE, ARCA_T_OPTIONAL },
	{ L "self_attn.q_a_layernorm.weight", B "attn_q_a_norm.weight", ARCA_TX_NONE,
		ARCA_T_F32 | ARCA_T_OPTIONAL },
	{ L "self_attn.q_b_proj.weight", B "attn_q_b.weight", ARCA_TX_NONE, ARCA_T_OPTIONAL },
	{ L "self_attn.kv_a_proj_with_mqa.weight", B "attn_kv_a_mqa.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.kv_a_layernorm.weight", B "attn_kv_a_norm.weight", ARCA_TX_NONE,
		ARCA_T_F32 },
	{ L "self_attn.kv_b_proj.weight", B "attn_k_b.weight", ARCA_TX_SPLIT_KV_B, 0 },
	ATTN_O,
	DENSE_FFN(ARCA_T_DENSE_ONLY),
	MOE_EXPERTS,
	{ L "mlp.gate.e_score_correction_bias", B "exp_probs_b.bias", ARCA_TX_NONE,
		ARCA_T_F32 | ARCA_T_OPTIONAL | ARCA_T_MOE_ONLY },
	SHARED_EXPERTS,
	{ NULL },
};

static const char *const glm4_classes[] = { "Glm4ForCausalLM", NULL };
static const arca_arch_kv glm4_kvs[] = { BASE_KVS, HEAD_KV, HEAD_DIM_KVS, { NULL } };
static const arca_arch_tensor glm4_tensors[] = {
	COMMON_TOP,
	{ L "input_layernorm.weight", B "attn_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ L "self_attn.q_proj.weight", B "attn_q.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.k_proj.weight", B "attn_k.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.v_proj.weight", B "attn_v.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.q_proj.bias", B "attn_q.bias", ARCA_TX_NONE, ARCA_T_F32 | ARCA_T_OPTIONAL },
	{ L "self_attn.k_proj.bias", B "attn_k.bias", ARCA_TX_NONE, ARCA_T_F32 | ARCA_T_OPTIONAL },
	{ L "self_attn.v_proj.bias", B "attn_v.bias", ARCA_TX_NONE, ARCA_T_F32 | ARCA_T_OPTIONAL },
	ATTN_O,
	{ L "post_self_attn_layernorm.weight", B "post_attention_norm.weight", ARCA_TX_NONE,
		ARCA_T_F32 },
	{ L "post_attention_layernorm.weight", B "ffn_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ L "mlp.gate_up_proj.weight", B "ffn_up.weight", ARCA_TX_NONE, 0 },
	{ L "mlp.down_proj.weight", B "ffn_down.weight", ARCA_TX_NONE, 0 },
	{ L "post_mlp_layernorm.weight", B "post_ffw_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ NULL },
};

static const char *const internlm2_classes[] = { "InternLM2ForCausalLM", NULL };
static const arca_arch_kv internlm2_kvs[] = { BASE_KVS, HEAD_KV, { NULL } };
static const arca_arch_tensor internlm2_tensors[] = {
	{ "model.tok_embeddings.weight", "token_embd.weight", ARCA_TX_NONE, 0 },
	{ "model.norm.weight", "output_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ "output.weight", "output.weight", ARCA_TX_NONE, ARCA_T_OPTIONAL },
	{ L "attention_norm.weight", B "attn_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ L "attention.wqkv.weight", B "attn_q.weight|" B "attn_k.weight|" B "attn_v.weight",
		ARCA_TX_SPLIT_QKV_GROUPED, 0 },
	{ L "attention.wo.weight", B "attn_output.weight", ARCA_TX_NONE, 0 },
	{ L "ffn_norm.weight", B "ffn_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ L "feed_forward.w1.weight", B "ffn_gate.weight", ARCA_TX_NONE, 0 },
	{ L "feed_forward.w3.weight", B "ffn_up.weight", ARCA_TX_NONE, 0 },
	{ L "feed_forward.w2.weight", B "ffn_down.weight", ARCA_TX_NONE, 0 },
	{ NULL },
};

static const char *const glm4moe_classes[] = { "Glm4MoeForCausalLM", NULL };
static const arca_arch_kv glm4moe_kvs[] = {
	BASE_KVS, HEAD_KV, HEAD_DIM_KVS,
	{ "expert_count", "n_routed_experts", ARCA_KV_U32, 1 },
	{ "expert_used_count", "num_experts_per_tok", ARCA_KV_U32, 1 },
	{ "expert_feed_forward_length", "moe_intermediate_size", ARCA_KV_U32, 1 },
	{ "expert_group_count", "n_group", ARCA_KV_U32, 0 },
	{ "expert_group_used_count", "topk_group", ARCA_KV_U32, 0 },
	{ NULL },
};
static const arca_arch_tensor glm4moe_tensors[] = {
	COMMON_TOP,
	{ L "input_layernorm.weight", B "attn_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ L "self_attn.q_proj.weight", B "attn_q.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.k_proj.weight", B "attn_k.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.v_proj.weight", B "attn_v.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.q_proj.bias", B "attn_q.bias", ARCA_TX_NONE, ARCA_T_F32 | ARCA_T_OPTIONAL },
	{ L "self_attn.k_proj.bias", B "attn_k.bias", ARCA_TX_NONE, ARCA_T_F32 | ARCA_T_OPTIONAL },
	{ L "self_attn.v_proj.bias", B "attn_v.bias", ARCA_TX_NONE, ARCA_T_F32 | ARCA_T_OPTIONAL },
	{ L "self_attn.q_norm.weight", B "attn_q_norm.weight", ARCA_TX_NONE,
		ARCA_T_F32 | ARCA_T_OPTIONAL },
	{ L "self_attn.k_norm.weight", B "attn_k_norm.weight", ARCA_TX_NONE,
		ARCA_T_F32 | ARCA_T_OPTIONAL },
	ATTN_O,
	/* the pre-FFN norm: llama.cpp names it post_attention_norm for this arch */
	{ L "post_attention_layernorm.weight", B "post_attention_norm.weight", ARCA_TX_NONE,
		ARCA_T_F32 },
	DENSE_FFN(ARCA_T_DENSE_ONLY),
	MOE_EXPERTS,
	{ L "mlp.gate.e_score_correction_bias", B "exp_probs_b.bias", ARCA_TX_NONE,
		ARCA_T_F32 | ARCA_T_MOE_ONLY },
	SHARED_EXPERTS,
	{ NULL },
};

static const char *const minimax_m2_classes[] = { "MiniMaxM2ForCausalLM", NULL };
static const arca_arch_kv minimax_m2_kvs[] = {
	BASE_KVS, HEAD_KV, HEAD_DIM_KVS,
	{ "expert_count", "num_local_experts", ARCA_KV_U32, 1 },
	{ "expert_used_count", "num_experts_per_tok", ARCA_KV_U32, 1 },
	{ "expert_feed_forward_length", "intermediate_size", ARCA_KV_U32, 1 },
	{ NULL },
};
#define SM L "block_sparse_moe."
static const arca_arch_tensor minimax_m2_tensors[] = {
	COMMON_TOP, NORMS,
	{ L "self_attn.q_proj.weight", B "attn_q.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.k_proj.weight", B "attn_k.weight", ARCA_TX_NONE, 0 },
	{ L "self_attn.v_proj.weight", B "attn_v.weight", ARCA_TX_NONE, 0 },
	/* RMSNorm over the whole q (all heads) and the whole k */
	{ L "self_attn.q_norm.weight", B "attn_q_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ L "self_attn.k_norm.weight", B "attn_k_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	ATTN_O,
	{ SM "gate.weight", B "ffn_gate_inp.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ SM "e_score_correction_bias", B "exp_probs_b.bias", ARCA_TX_NONE, ARCA_T_F32 },
	{ SM "experts.{e}.w1.weight", B "ffn_gate_exps.weight", ARCA_TX_STACK_EXPERTS, 0 },
	{ SM "experts.{e}.w3.weight", B "ffn_up_exps.weight", ARCA_TX_STACK_EXPERTS, 0 },
	{ SM "experts.{e}.w2.weight", B "ffn_down_exps.weight", ARCA_TX_STACK_EXPERTS, 0 },
	{ NULL },
};
#undef SM

static const char *const chatglm_classes[] = { "ChatGLMModel",
	"ChatGLMForConditionalGeneration", NULL };
static const arca_arch_kv chatglm_kvs[] = { BASE_KVS, HEAD_KV, { NULL } };
#define CL "transformer.encoder.layers.{i}."
static const arca_arch_tensor chatglm_tensors[] = {
	{ "transformer.embedding.word_embeddings.weight", "token_embd.weight", ARCA_TX_NONE, 0 },
	{ "transformer.encoder.final_layernorm.weight", "output_norm.weight", ARCA_TX_NONE,
		ARCA_T_F32 },
	{ "transformer.output_layer.weight", "output.weight", ARCA_TX_NONE, ARCA_T_OPTIONAL },
	{ CL "input_layernorm.weight", B "attn_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ CL "self_attention.query_key_value.weight", B "attn_qkv.weight", ARCA_TX_NONE, 0 },
	{ CL "self_attention.query_key_value.bias", B "attn_qkv.bias", ARCA_TX_NONE,
		ARCA_T_F32 | ARCA_T_OPTIONAL },
	{ CL "self_attention.dense.weight", B "attn_output.weight", ARCA_TX_NONE, 0 },
	{ CL "post_attention_layernorm.weight", B "ffn_norm.weight", ARCA_TX_NONE, ARCA_T_F32 },
	{ CL "mlp.dense_h_to_4h.weight", B "ffn_up.weight", ARCA_TX_NONE, 0 },
	{ CL "mlp.dense_4h_to_h.weight", B "ffn_down.weight", ARCA_TX_NONE, 0 },
	{ NULL },
};
#undef CL

/* Classes arca knows and refuses, with the reason. */
static const struct {
	const char *hf_class, *why;
} refused[] = {
	{ "MiniMaxText01ForCausalLM", "MiniMax-Text-01 mixes lightning (linear) attention layers "
		"into its stack; arca's converter and runtime have softmax attention only" },
	{ "MiniMaxM1ForCausalLM", "MiniMax-M1 mixes lightning (linear) attention layers into its "
		"stack; arca's converter and runtime have softmax attention only" },
};

#define RUNS 1 /* the runtime has its forward pass */

static const arca_arch archs[] = {
	{ "qwen2", qwen2_classes, ARCA_ROPE_NEOX, ARCA_ARCH_QKV_BIAS, qwen2_kvs, qwen2_tensors,
		NULL, "qwen2", RUNS, NULL },
	{ "qwen3", qwen3_classes, ARCA_ROPE_NEOX, ARCA_ARCH_QK_NORM, qwen3_kvs, qwen3_tensors,
		NULL, "qwen2", RUNS, NULL },
	{ "llama", llama_classes, ARCA_ROPE_NORMAL, 0, llama_kvs, llama_tensors, llama_hook,
		"llama-bpe", RUNS, NULL },
	{ "qwen3moe", qwen3moe_classes, ARCA_ROPE_NEOX, ARCA_ARCH_QK_NORM | ARCA_ARCH_MOE,
		qwen3moe_kvs, qwen3moe_tensors, NULL, "qwen2", RUNS, NULL },
	{ "deepseek2", deepseek2_classes, ARCA_ROPE_NORMAL,
		ARCA_ARCH_MOE | ARCA_ARCH_MLA | ARCA_ARCH_MTP,
		deepseek2_kvs, deepseek2_tensors, deepseek2_hook, "deepseek-v3", RUNS, NULL },
	{ "glm4", glm4_classes, ARCA_ROPE_NORMAL, ARCA_ARCH_POST_NORMS | ARCA_ARCH_FUSED_GATE_UP,
		glm4_kvs, glm4_tensors, glm4_hook, "glm4", RUNS, NULL },
	{ "internlm2", internlm2_classes, ARCA_ROPE_NORMAL, 0, internlm2_kvs, internlm2_tensors,
		NULL, "llama-bpe", RUNS, NULL },
	{ "glm4moe", glm4moe_classes, ARCA_ROPE_NEOX, ARCA_ARCH_MOE | ARCA_ARCH_MTP, glm4moe_kvs,
		glm4moe_tensors, glm4moe_hook, "glm4", RUNS, "blk.{i}.post_attention_norm.weight" },
	{ "minimax-m2", minimax_m2_classes, ARCA_ROPE_NEOX, ARCA_ARCH_MOE | ARCA_ARCH_QK_NORM_FULL,
		minimax_m2_kvs, minimax_m2_tensors, minimax_m2_hook, "llama-bpe", RUNS, NULL },
	{ "chatglm", chatglm_classes, ARCA_ROPE_NORMAL, ARCA_ARCH_FUSED_GATE_UP | ARCA_ARCH_FUSED_QKV,
		chatglm_kvs, chatglm_tensors, chatglm_hook, "glm4", RUNS, NULL },
};

#define N_ARCHS (sizeof(archs) / sizeof(archs[0]))

const arca_arch *arca_arch_for_hf_class(const char *hf_class)
{
	for (size_t i = 0; i < N_ARCHS; i++)
		for (const char *const *c = archs[i].hf_classes; *c; c++)
			if (!strcmp(*c, hf_class))
				return &archs[i];
	return NULL;
}

const arca_arch *arca_arch_for_gguf(const char *name)
{
	for (size_t i = 0; i < N_ARCHS; i++)
		if (!strcmp(archs[i].name, name))
			return &archs[i];
	return NULL;
}

const char *arca_arch_refusal(const char *hf_class)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (!strcmp(refused[i].hf_class, hf_class))
			return refused[i].why;
	return NULL;
}

int arca_arch_n_parts(const char *patterns)
{
	int n = 1;
	for (const char *p = patterns; *p; p++)
		n += *p == '|';
	return n;
}

int arca_arch_expand_part(char *buf, size_t cap, const char *patterns, int part, int layer,
	int expert)
{
	const char *p = patterns;
	for (int k = 0; k < part; k++) {
		p = strchr(p, '|');
		if (!p)
			return -1;
		p++;
	}
	const char *end = strchr(p, '|');
	char one[256];
	size_t n = end ? (size_t)(end - p) : strlen(p);
	if (n >= sizeof(one))
		n = sizeof(one) - 1;
	memcpy(one, p, n);
	one[n] = '\0';
	return arca_arch_expand(buf, cap, one, layer, expert);
}

const char *arca_arch_supported(void)
{
	static char text[1024];
	if (!text[0]) {
		size_t used = 0;
		for (size_t i = 0; i < N_ARCHS; i++)
			for (const char *const *c = archs[i].hf_classes; *c; c++)
				used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s (%s)",
					used ? ", " : "", archs[i].name, *c);
	}
	return text;
}

const char *arca_arch_runnable(void)
{
	static char text[256];
	if (!text[0]) {
		size_t used = 0;
		for (size_t i = 0; i < N_ARCHS; i++)
			if (archs[i].runnable)
				used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s",
					used ? ", " : "", archs[i].name);
	}
	return text;
}

int arca_arch_expand(char *buf, size_t cap, const char *pattern, int layer, int expert)
{
	size_t o = 0; /* the full length, even past cap, as snprintf counts */
	for (const char *p = pattern; *p; p++) {
		char piece[16];
		size_t n = 1;
		if (p[0] == '{' && (p[1] == 'i' || p[1] == 'e') && p[2] == '}') {
			int k = snprintf(piece, sizeof(piece), "%d", p[1] == 'i' ? layer : expert);
			n = k > 0 ? (size_t)k : 0;
			p += 2;
		} else {
			piece[0] = *p;
		}
		for (size_t j = 0; j < n; j++, o++)
			if (o + 1 < cap)
				buf[o] = piece[j];
	}
	if (cap)
		buf[o < cap ? o : cap - 1] = '\0';
	return (int)o;
}

int arca_arch_match(const char *pattern, const char *name, int *layer, int *expert)
{
	*layer = *expert = -1;
	const char *p = pattern, *n = name;
	while (*p) {
		if (p[0] == '{' && (p[1] == 'i' || p[1] == 'e') && p[2] == '}') {
			if (*n < '0' || *n > '9' || (n[0] == '0' && n[1] >= '0' && n[1] <= '9'))
				return 0;
			long v = 0;
			while (*n >= '0' && *n <= '9' && v < 1000000)
				v = v * 10 + (*n++ - '0');
			if (p[1] == 'i')
				*layer = (int)v;
			else
				*expert = (int)v;
			p += 3;
			continue;
		}
		if (*p++ != *n++)
			return 0;
	}
	return *n == '\0';
}
