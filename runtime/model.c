/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/model.c — binding a GGUF to a runnable model: hyperparameters from the metadata,
 * the tensors the architecture table (arca/arch.h) lists checked for presence, every role
 * the forward pass uses checked for shape and type. Zero copy: views into the mapping.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/quant.h"
#include "runtime/kernels.h"
#include "runtime/model_internal.h"

/* Shapes in units of the hyperparameters: ne0 × ne1 (ne1 = 1 for vectors). D_Q and D_ATT are
 * the query and attention-output widths (MLA: heads × (nope + rope) and heads × v). */
typedef enum {
	D_ONE, D_EMBD, D_FF, D_FF2, D_Q, D_ATT, D_KV, D_HEAD, D_VOCAB, D_EXPERT, D_FF_EXP,
	D_FF_SHEXP, D_HEADS, D_Q_LORA, D_KV_A, D_KV_LORA, D_NOPE, D_V_MLA, D_QKV, D_QK_NORM,
	D_K_NORM
} dim;

/* When a layer has the tensor: NEED_ALWAYS; NEED_BIAS (optional); NEED_QK_NORM (Qwen3);
 * NEED_MHA: k/v projections of ordinary attention; NEED_Q: q directly (ordinary attention,
 * or MLA without a q bottleneck); NEED_Q_LORA: MLA's q bottleneck; NEED_MLA: MLA's kv
 * latent and absorbed maps; NEED_POST: GLM4's post norms; NEED_GATE: a dense FFN's separate
 * gate; NEED_DENSE: a dense FFN layer; NEED_MOE: an MoE layer; NEED_MOE_OPT: optional in an
 * MoE layer; NEED_SHEXP: an MoE layer with shared experts; NEED_QKV: ChatGLM's fused q/k/v;
 * NEED_QKV_BIAS: its bias (optional). */
typedef enum {
	NEED_ALWAYS, NEED_BIAS, NEED_QK_NORM, NEED_MHA, NEED_Q, NEED_Q_LORA, NEED_MLA, NEED_POST,
	NEED_GATE, NEED_DENSE, NEED_MOE, NEED_MOE_OPT, NEED_SHEXP, NEED_QKV, NEED_QKV_BIAS
} need;

typedef struct {
	const char *name;      /* GGUF name pattern, {i} = layer */
	size_t offset;         /* in arca_rt_layer */
	dim ne0, ne1;
	int matrix;            /* multiplied (any supported type) rather than read as F32 */
	need when;
	dim ne2;               /* stacked experts or heads; D_ONE for plain matrices and vectors */
} role;

#define R(field) offsetof(arca_rt_layer, field)
static const role layer_roles[] = {
	{ "blk.{i}.attn_norm.weight", R(attn_norm), D_EMBD, D_ONE, 0, NEED_ALWAYS, D_ONE },
	{ "blk.{i}.attn_qkv.weight", R(wqkv), D_EMBD, D_QKV, 1, NEED_QKV, D_ONE },
	{ "blk.{i}.attn_qkv.bias", R(bqkv), D_QKV, D_ONE, 0, NEED_QKV_BIAS, D_ONE },
	{ "blk.{i}.attn_q.weight", R(wq), D_EMBD, D_Q, 1, NEED_Q, D_ONE },
	{ "blk.{i}.attn_k.weight", R(wk), D_EMBD, D_KV, 1, NEED_MHA, D_ONE },
	{ "blk.{i}.attn_v.weight", R(wv), D_EMBD, D_KV, 1, NEED_MHA, D_ONE },
	{ "blk.{i}.attn_q.bias", R(bq), D_Q, D_ONE, 0, NEED_BIAS, D_ONE },
	{ "blk.{i}.attn_k.bias", R(bk), D_KV, D_ONE, 0, NEED_BIAS, D_ONE },
	{ "blk.{i}.attn_v.bias", R(bv), D_KV, D_ONE, 0, NEED_BIAS, D_ONE },
	{ "blk.{i}.attn_q_a.weight", R(wq_a), D_EMBD, D_Q_LORA, 1, NEED_Q_LORA, D_ONE },
	{ "blk.{i}.attn_q_a_norm.weight", R(q_a_norm), D_Q_LORA, D_ONE, 0, NEED_Q_LORA, D_ONE },
	{ "blk.{i}.attn_q_b.weight", R(wq_b), D_Q_LORA, D_Q, 1, NEED_Q_LORA, D_ONE },
	{ "blk.{i}.attn_kv_a_mqa.weight", R(wkv_a), D_EMBD, D_KV_A, 1, NEED_MLA, D_ONE },
	{ "blk.{i}.attn_kv_a_norm.weight", R(kv_a_norm), D_KV_LORA, D_ONE, 0, NEED_MLA, D_ONE },
	{ "blk.{i}.attn_k_b.weight", R(wk_b), D_NOPE, D_KV_LORA, 1, NEED_MLA, D_HEADS },
	{ "blk.{i}.attn_v_b.weight", R(wv_b), D_KV_LORA, D_V_MLA, 1, NEED_MLA, D_HEADS },
	{ "blk.{i}.attn_output.weight", R(wo), D_ATT, D_EMBD, 1, NEED_ALWAYS, D_ONE },
	{ "blk.{i}.attn_q_norm.weight", R(q_norm), D_QK_NORM, D_ONE, 0, NEED_QK_NORM, D_ONE },
	{ "blk.{i}.attn_k_norm.weight", R(k_norm), D_K_NORM, D_ONE, 0, NEED_QK_NORM, D_ONE },
	{ "blk.{i}.post_attention_norm.weight", R(post_attn_norm), D_EMBD, D_ONE, 0, NEED_POST,
		D_ONE },
	{ "blk.{i}.ffn_norm.weight", R(ffn_norm), D_EMBD, D_ONE, 0, NEED_ALWAYS, D_ONE },
	{ "blk.{i}.ffn_gate.weight", R(gate), D_EMBD, D_FF, 1, NEED_GATE, D_ONE },
	{ "blk.{i}.ffn_up.weight", R(up), D_EMBD, D_FF2, 1, NEED_DENSE, D_ONE },
	{ "blk.{i}.ffn_down.weight", R(down), D_FF, D_EMBD, 1, NEED_DENSE, D_ONE },
	{ "blk.{i}.ffn_gate_inp.weight", R(gate_inp), D_EMBD, D_EXPERT, 1, NEED_MOE, D_ONE },
	{ "blk.{i}.exp_probs_b.bias", R(exp_probs_b), D_EXPERT, D_ONE, 0, NEED_MOE_OPT, D_ONE },
	{ "blk.{i}.ffn_gate_exps.weight", R(gate_exps), D_EMBD, D_FF_EXP, 1, NEED_MOE, D_EXPERT },
	{ "blk.{i}.ffn_up_exps.weight", R(up_exps), D_EMBD, D_FF_EXP, 1, NEED_MOE, D_EXPERT },
	{ "blk.{i}.ffn_down_exps.weight", R(down_exps), D_FF_EXP, D_EMBD, 1, NEED_MOE, D_EXPERT },
	{ "blk.{i}.ffn_gate_shexp.weight", R(gate_shexp), D_EMBD, D_FF_SHEXP, 1, NEED_SHEXP, D_ONE },
	{ "blk.{i}.ffn_up_shexp.weight", R(up_shexp), D_EMBD, D_FF_SHEXP, 1, NEED_SHEXP, D_ONE },
	{ "blk.{i}.ffn_down_shexp.weight", R(down_shexp), D_FF_SHEXP, D_EMBD, 1, NEED_SHEXP, D_ONE },
	{ "blk.{i}.post_ffw_norm.weight", R(post_ffn_norm), D_EMBD, D_ONE, 0, NEED_POST, D_ONE },
};
#undef R
#define N_ROLES (sizeof(layer_roles) / sizeof(layer_roles[0]))

static uint64_t dim_value(const arca_model *m, dim d)
{
	const arca_model_info *i = &m->info;
	const arca_rt_mla *a = &m->mla;
	int mla = a->kv_lora != 0, fused = (m->arch->features & ARCA_ARCH_FUSED_GATE_UP) != 0;
	switch (d) {
	case D_ONE: return 1;
	case D_EMBD: return i->n_embd;
	case D_FF: return i->n_ff;
	case D_FF2: return (uint64_t)i->n_ff * (fused ? 2 : 1);
	case D_Q: return (uint64_t)i->n_head * (mla ? a->nope + a->rope : i->head_dim);
	case D_ATT: return (uint64_t)i->n_head * (mla ? a->v : i->head_dim);
	case D_KV: return (uint64_t)i->n_head_kv * i->head_dim;
	case D_HEAD: return i->head_dim;
	case D_VOCAB: return i->n_vocab;
	case D_EXPERT: return i->n_expert;
	case D_FF_EXP: return i->n_ff_exp;
	case D_FF_SHEXP: return (uint64_t)i->n_ff_exp * m->moe.n_shared;
	case D_HEADS: return i->n_head;
	case D_Q_LORA: return a->q_lora;
	case D_KV_A: return (uint64_t)a->kv_lora + a->rope;
	case D_KV_LORA: return a->kv_lora;
	case D_NOPE: return a->nope;
	case D_V_MLA: return a->v;
	case D_QKV: return (uint64_t)(i->n_head + 2 * i->n_head_kv) * i->head_dim;
	case D_QK_NORM: /* MiniMax-M2 normalizes all of q at once, others each head */
		return (m->arch->features & ARCA_ARCH_QK_NORM_FULL) ?
			(uint64_t)i->n_head * i->head_dim : i->head_dim;
	case D_K_NORM:
		return (m->arch->features & ARCA_ARCH_QK_NORM_FULL) ?
			(uint64_t)i->n_head_kv * i->head_dim : i->head_dim;
	}
	return 0;
}

/* The architecture's table lists this GGUF tensor (pattern). */
static int table_has(const arca_arch *arch, const char *gguf)
{
	for (const arca_arch_tensor *t = arch->tensors; t->hf; t++)
		if (strstr(t->gguf, gguf))
			return 1;
	return 0;
}

/* 0: layer l has no such tensor; 1: it must; 2: it may. */
static int role_need(const arca_model *m, uint32_t l, need when)
{
	unsigned f = m->arch->features;
	int mla = m->mla.kv_lora != 0, moe = m->layers[l].moe;
	int fused = (f & ARCA_ARCH_FUSED_QKV) != 0;
	switch (when) {
	case NEED_ALWAYS: return 1;
	case NEED_BIAS: return mla || fused ? 0 : 2;
	case NEED_QK_NORM:   /* GLM-4.5 has them in some sizes only */
		return (f & (ARCA_ARCH_QK_NORM | ARCA_ARCH_QK_NORM_FULL)) ? 1 :
			table_has(m->arch, "blk.{i}.attn_q_norm.weight") ? 2 : 0;
	case NEED_QKV: return fused;
	case NEED_QKV_BIAS: return fused ? 2 : 0;
	case NEED_MHA: return !mla && !fused;
	case NEED_Q: return !fused && (!mla || !m->mla.q_lora);
	case NEED_Q_LORA: return mla && m->mla.q_lora;
	case NEED_MLA: return mla;
	case NEED_POST: return (f & ARCA_ARCH_POST_NORMS) ? 1 : 0;
	case NEED_GATE: return !moe && !(f & ARCA_ARCH_FUSED_GATE_UP);
	case NEED_DENSE: return !moe;
	case NEED_MOE: return moe;
	case NEED_MOE_OPT: return moe ? 2 : 0;
	case NEED_SHEXP: return moe && m->moe.n_shared;
	}
	return 0;
}

/* "<arch>.<key>" into full. */
static const char *arch_key(char *full, size_t cap, const char *arch, const char *key)
{
	snprintf(full, cap, "%s.%s", arch, key);
	return full;
}

/* What reading a metadata key gave: ARCA_OK, 1 when an optional key is absent, or the
 * error, naming the file. */
static arca_err key_status(arca_err err, const char *what, int required)
{
	if (err == ARCA_ENOTFOUND && !required) {
		arca_error_clear();
		return 1;
	}
	return err < 0 ? arca_error_prefix(err, "%s: cannot run it", what) : ARCA_OK;
}

static arca_err get_u32(const arca_gguf *g, const char *what, const char *arch,
	const char *key, uint32_t *out, int required)
{
	char full[128];
	arca_err err = key_status(arca_gguf_get_u32(g, arch_key(full, sizeof(full), arch, key),
		out), what, required);
	return err < 0 ? err : ARCA_OK;
}

static arca_err get_f32(const arca_gguf *g, const char *what, const char *arch,
	const char *key, float *out, float fallback)
{
	char full[128];
	arca_err err = key_status(arca_gguf_get_f32(g, arch_key(full, sizeof(full), arch, key),
		out), what, 0);
	if (err == 1)
		*out = fallback;
	return err < 0 ? err : ARCA_OK;
}

/* An optional flag; *out is left as it was when absent. */
static arca_err get_bool(const arca_gguf *g, const char *what, const char *arch,
	const char *key, int *out)
{
	char full[128];
	arca_err err = key_status(arca_gguf_get_bool(g, arch_key(full, sizeof(full), arch, key),
		out), what, 0);
	return err < 0 ? err : ARCA_OK;
}

static arca_err read_info(arca_model_info *i, const arca_gguf *g, const char *what)
{
	const char *a = i->arch;
	arca_err err;
	i->n_head_kv = 0;
	i->head_dim = 0;
	i->n_rot = 0;
	if ((err = get_u32(g, what, a, "block_count", &i->n_layer, 1)) < 0 ||
	    (err = get_u32(g, what, a, "embedding_length", &i->n_embd, 1)) < 0 ||
	    (err = get_u32(g, what, a, "feed_forward_length", &i->n_ff, 1)) < 0 ||
	    (err = get_u32(g, what, a, "attention.head_count", &i->n_head, 1)) < 0 ||
	    (err = get_u32(g, what, a, "attention.head_count_kv", &i->n_head_kv, 0)) < 0 ||
	    (err = get_u32(g, what, a, "attention.key_length", &i->head_dim, 0)) < 0 ||
	    (err = get_u32(g, what, a, "rope.dimension_count", &i->n_rot, 0)) < 0 ||
	    (err = get_u32(g, what, a, "context_length", &i->n_ctx_train, 1)) < 0 ||
	    (err = get_f32(g, what, a, "attention.layer_norm_rms_epsilon", &i->rms_eps, 1e-6f)) < 0 ||
	    (err = get_f32(g, what, a, "rope.freq_base", &i->rope_base, 10000.0f)) < 0)
		return err;
	if (!i->n_head_kv)
		i->n_head_kv = i->n_head;
	if (!i->n_layer || i->n_layer > 4096 || !i->n_embd || !i->n_ff || !i->n_head ||
	    i->n_head > 4096 || i->n_head % i->n_head_kv)
		return arca_error_set(ARCA_EINVALID, "%s: impossible hyperparameters (%u layers, "
			"%u embedding, %u heads, %u kv heads)", what, i->n_layer, i->n_embd, i->n_head,
			i->n_head_kv);
	if (!i->head_dim) {
		if (i->n_embd % i->n_head)
			return arca_error_set(ARCA_EINVALID, "%s: embedding %u is not a multiple of %u "
				"heads and no key_length is given", what, i->n_embd, i->n_head);
		i->head_dim = i->n_embd / i->n_head;
	}
	if (!i->n_rot)
		i->n_rot = i->head_dim;
	if (i->n_rot > i->head_dim || i->n_rot % 2 || i->head_dim > 1024)
		return arca_error_set(ARCA_EINVALID, "%s: RoPE over %u of %u head dimensions", what,
			i->n_rot, i->head_dim);
	if (!(i->rms_eps > 0) || !(i->rope_base > 0))
		return arca_error_set(ARCA_EINVALID, "%s: rms epsilon and rope base must be positive",
			what);
	return ARCA_OK;
}

/* YaRN's correction range: the pair index where a dimension turns n_rot_beta times over
 * the original context (llama.cpp's ggml_rope_yarn_corr_dim). */
static float yarn_corr_dim(uint32_t n_dims, uint32_t n_ctx_orig, float n_rot_beta, float base)
{
	return (float)n_dims * logf((float)n_ctx_orig / (n_rot_beta * 2.0f * (float)M_PI)) /
		(2.0f * logf(base));
}

/* RoPE: the pairing, and the scaling the metadata names (none, linear, YaRN; llama3's
 * rope_freqs tensor is bound later). */
static arca_err read_rope(arca_model *m, const arca_gguf *g, const char *what)
{
	arca_model_info *i = &m->info;
	const char *a = i->arch;
	arca_op_rope_params *r = &m->rope;
	*r = (arca_op_rope_params){ .n_rot = i->n_rot, .neox = i->rope_neox, .base = i->rope_base,
		.freq_scale = 1.0f, .mscale = 1.0f };
	i->rope_freq_scale = 1.0f;
	char key[96], *scaling = NULL;
	arca_err err = key_status(arca_gguf_get_str(g, arch_key(key, sizeof(key), a,
		"rope.scaling.type"), &scaling), what, 0);
	if (err != ARCA_OK)
		return err < 0 ? err : ARCA_OK;   /* 1: no scaling */
	int linear = !strcmp(scaling, "linear"), yarn = !strcmp(scaling, "yarn");
	if (!linear && !yarn && strcmp(scaling, "none") != 0) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "%s: RoPE scaling '%.20s' is not in the "
			"runtime (none, linear, yarn and llama3's rope_freqs are)", what, scaling);
		free(scaling);
		return err;
	}
	free(scaling);
	if (!linear && !yarn)
		return ARCA_OK;
	float factor = 1.0f;
	if ((err = get_f32(g, what, a, "rope.scaling.factor", &factor, 1.0f)) < 0)
		return err;
	if (!(factor > 0) || factor > 1e6f)
		return arca_error_set(ARCA_EINVALID, "%s: RoPE scaling factor %g", what, (double)factor);
	r->freq_scale = i->rope_freq_scale = 1.0f / factor;
	if (linear)
		return ARCA_OK;
	uint32_t orig = i->n_ctx_train;
	float beta_fast, beta_slow, attn_factor;
	if ((err = get_u32(g, what, a, "rope.scaling.original_context_length", &orig, 0)) < 0 ||
	    (err = get_f32(g, what, a, "rope.scaling.yarn_ext_factor", &r->ext_factor, 1.0f)) < 0 ||
	    (err = get_f32(g, what, a, "rope.scaling.yarn_attn_factor", &attn_factor, 1.0f)) < 0 ||
	    (err = get_f32(g, what, a, "rope.scaling.yarn_beta_fast", &beta_fast, 32.0f)) < 0 ||
	    (err = get_f32(g, what, a, "rope.scaling.yarn_beta_slow", &beta_slow, 1.0f)) < 0)
		return err;
	if (!orig || !(beta_fast > 0) || !(beta_slow > 0) || !(attn_factor > 0) ||
	    !(r->ext_factor >= 0 && r->ext_factor <= 1))
		return arca_error_set(ARCA_EINVALID, "%s: impossible YaRN parameters", what);
	float lo = floorf(yarn_corr_dim(i->n_rot, orig, beta_fast, i->rope_base));
	float hi = ceilf(yarn_corr_dim(i->n_rot, orig, beta_slow, i->rope_base));
	r->corr_lo = lo > 0 ? lo : 0;
	r->corr_hi = hi < (float)(i->n_rot - 1) ? hi : (float)(i->n_rot - 1);
	/* llama.cpp scales cos and sin by the attention factor and, when extrapolating, by
	 * YaRN's magnitude correction 1 + 0.1·ln(factor) */
	float correction = 1.0f + 0.1f * logf(factor);
	r->mscale = attn_factor * (r->ext_factor != 0.0f ? correction : 1.0f);
	if (m->mla.kv_lora) {
		/* DeepSeek: the correction moves from cos/sin into the q·k scale, as
		 * mscale² with mscale = attn_factor · (1 + log_mul · ln(factor)) */
		float log_mul = 0.0f;
		if ((err = get_f32(g, what, a, "rope.scaling.yarn_log_multiplier", &log_mul, 0.0f)) < 0)
			return err;
		r->mscale = (1.0f / correction) * (r->ext_factor != 0.0f ? correction : 1.0f);
		float ms = attn_factor * (1.0f + log_mul * logf(factor));
		m->attn_scale *= ms * ms;
	}
	return ARCA_OK;
}

/* DeepSeek's multi-head latent attention: the latent and head widths. The cache holds the
 * normed latent and the rope key (key_length = kv_lora + rope); values are the latent. */
static arca_err read_mla(arca_model *m, const arca_gguf *g, const char *what)
{
	arca_model_info *i = &m->info;
	arca_rt_mla *a = &m->mla;
	uint32_t k_mla = 0, v_mla = 0;
	arca_err err;
	if ((err = get_u32(g, what, i->arch, "attention.q_lora_rank", &a->q_lora, 0)) < 0 ||
	    (err = get_u32(g, what, i->arch, "attention.kv_lora_rank", &a->kv_lora, 1)) < 0 ||
	    (err = get_u32(g, what, i->arch, "attention.key_length_mla", &k_mla, 0)) < 0 ||
	    (err = get_u32(g, what, i->arch, "attention.value_length_mla", &v_mla, 0)) < 0)
		return err;
	if (!k_mla || !v_mla)
		return arca_error_set(ARCA_EUNSUPPORTED, "%s: MLA without key_length_mla and "
			"value_length_mla (the older unsplit attn_kv_b layout) is not in the runtime; "
			"convert the checkpoint again", what);
	a->rope = i->n_rot;
	a->v = v_mla;
	if (i->n_head_kv != 1 || !a->kv_lora || a->kv_lora + a->rope != i->head_dim ||
	    k_mla <= a->rope || k_mla - a->rope > 1024 || v_mla > 1024 || a->q_lora > 65536)
		return arca_error_set(ARCA_EINVALID, "%s: impossible MLA dimensions (latent %u, "
			"key %u, rope %u, key_length %u, value %u, %u kv heads)", what, a->kv_lora,
			k_mla, a->rope, i->head_dim, v_mla, i->n_head_kv);
	a->nope = k_mla - a->rope;
	m->head_dim_v = a->kv_lora;
	m->attn_scale = 1.0f / sqrtf((float)k_mla);
	return ARCA_OK;
}

/* The experts of a mixture-of-experts architecture: how many, how many per token, their
 * FFN width; DeepSeek's shared experts, leading dense layers and routing options. */
static arca_err read_moe_info(arca_model *m, const arca_gguf *g, const char *what)
{
	arca_model_info *i = &m->info;
	arca_rt_moe *o = &m->moe;
	const char *a = i->arch;
	uint32_t gating = 1;
	arca_err err;
	*o = (arca_rt_moe){ .gating = 1, .scale = 1.0f };
	if ((err = get_u32(g, what, a, "expert_count", &i->n_expert, 1)) < 0 ||
	    (err = get_u32(g, what, a, "expert_used_count", &i->n_expert_used, 1)) < 0 ||
	    (err = get_u32(g, what, a, "expert_feed_forward_length", &i->n_ff_exp, 1)) < 0 ||
	    (err = get_u32(g, what, a, "expert_shared_count", &o->n_shared, 0)) < 0 ||
	    (err = get_u32(g, what, a, "leading_dense_block_count", &o->n_dense_lead, 0)) < 0 ||
	    (err = get_u32(g, what, a, "expert_group_count", &o->n_groups, 0)) < 0 ||
	    (err = get_u32(g, what, a, "expert_group_used_count", &o->n_groups_used, 0)) < 0 ||
	    (err = get_u32(g, what, a, "expert_gating_func", &gating, 0)) < 0 ||
	    (err = get_bool(g, what, a, "expert_weights_norm", &o->norm)) < 0 ||
	    (err = get_f32(g, what, a, "expert_weights_scale", &o->scale, 1.0f)) < 0)
		return err;
	if (!i->n_expert || i->n_expert > 1024 || !i->n_expert_used ||
	    i->n_expert_used > i->n_expert || !i->n_ff_exp || o->n_shared > 64)
		return arca_error_set(ARCA_EINVALID, "%s: impossible experts (%u, %u per token, "
			"width %u, %u shared)", what, i->n_expert, i->n_expert_used, i->n_ff_exp,
			o->n_shared);
	if (gating != 1 && gating != 2)
		return arca_error_set(ARCA_EUNSUPPORTED, "%s: expert gating function %u is not in "
			"the runtime (1 softmax, 2 sigmoid are)", what, gating);
	o->gating = (int)gating;
	if (o->n_groups <= 1 || o->n_groups_used >= o->n_groups)
		o->n_groups = o->n_groups_used = 0;   /* no group limit */
	else if (!o->n_groups_used || o->n_groups > 64 || i->n_expert % o->n_groups ||
		 i->n_expert / o->n_groups < 2 ||
		 i->n_expert_used > o->n_groups_used * (i->n_expert / o->n_groups))
		return arca_error_set(ARCA_EINVALID, "%s: impossible expert groups (%u experts in %u "
			"groups, %u used)", what, i->n_expert, o->n_groups, o->n_groups_used);
	/* llama.cpp always renormalizes Qwen3-MoE's chosen weights */
	if (!strcmp(a, "qwen3moe"))
		o->norm = 1;
	if (!(o->scale > 0) || !isfinite(o->scale))
		return arca_error_set(ARCA_EINVALID, "%s: expert weights scale %g", what,
			(double)o->scale);
	return ARCA_OK;
}

/* "a x b", or "a x b x c" for stacked matrices. */
static void shape_text(char *buf, size_t cap, uint64_t a, uint64_t b, uint64_t c)
{
	if (c > 1)
		snprintf(buf, cap, "%llu x %llu x %llu", (unsigned long long)a, (unsigned long long)b,
			(unsigned long long)c);
	else
		snprintf(buf, cap, "%llu x %llu", (unsigned long long)a, (unsigned long long)b);
}

/* Binds one tensor, checking its shape (ne0 × ne1, × ne2 stacked experts) and type. */
static arca_err bind3(arca_rt_tensor *out, const arca_gguf *g, const char *what,
	const char *name, uint64_t ne0, uint64_t ne1, uint64_t ne2, int matrix, int required)
{
	memset(out, 0, sizeof(*out));
	const arca_gguf_tensor *t = arca_gguf_find_tensor(g, name);
	if (!t) {
		if (required)
			return arca_error_set(ARCA_EINVALID, "%s: tensor %s is missing", what, name);
		return ARCA_OK;
	}
	uint64_t t_ne1 = t->n_dims > 1 ? t->ne[1] : 1, t_ne2 = t->n_dims > 2 ? t->ne[2] : 1;
	if (t->n_dims > 3 || t->ne[0] != ne0 || t_ne1 != ne1 || t_ne2 != ne2) {
		char got[64], want[64];
		shape_text(got, sizeof(got), t->ne[0], t_ne1, t->n_dims > 2 ? t_ne2 : 1);
		shape_text(want, sizeof(want), ne0, ne1, ne2);
		return arca_error_set(ARCA_EINVALID, "%s: tensor %s is %s%s, expected %s", what, name,
			got, t->n_dims > 3 ? " (more than 3-D)" : "", want);
	}
	const arca_ggml_type_info *ti = arca_ggml_type_info_get(t->type);
	int ok = matrix ? arca_rt_weight_supported(t->type) : t->type == ARCA_GGML_F32;
	if (!ok)
		return arca_error_set(ARCA_EUNSUPPORTED, "%s: tensor %s is %s; the runtime %s", what,
			name, ti ? ti->name : "an unknown type", matrix ? "multiplies F32, F16, BF16, "
			"Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and Q2_K..Q6_K matrices" : "reads norms and biases as "
			"F32");
	out->data = arca_gguf_tensor_data(g, t);
	out->type = t->type;
	out->ne0 = ne0;
	out->ne1 = ne1;
	out->ne2 = ne2;
	out->row_bytes = (size_t)arca_ggml_row_size(t->type, ne0);
	return ARCA_OK;
}

static arca_err bind(arca_rt_tensor *out, const arca_gguf *g, const char *what,
	const char *name, uint64_t ne0, uint64_t ne1, int matrix, int required)
{
	return bind3(out, g, what, name, ne0, ne1, 1, matrix, required);
}

/* Every tensor the converter's table requires must be in the file (a check independent
 * of the roles above: a table and the runtime disagreeing is caught here); DeepSeek's
 * leading layers are dense, the rest MoE. */
static arca_err check_table(const arca_model *m, const arca_gguf *g, const char *what)
{
	for (const arca_arch_tensor *t = m->arch->tensors; t->gguf; t++) {
		if (t->flags & ARCA_T_OPTIONAL)
			continue;
		int per_layer = strstr(t->gguf, "{i}") != NULL;
		uint32_t n = per_layer ? m->info.n_layer : 1;
		for (uint32_t l = 0; l < n; l++) {
			int dense = l < m->moe.n_dense_lead;
			if ((per_layer && (t->flags & ARCA_T_DENSE_ONLY) && !dense) ||
			    (per_layer && (t->flags & ARCA_T_MOE_ONLY) && dense))
				continue;
			char name[ARCA_GGUF_NAME_MAX + 1];
			for (int part = 0; part < arca_arch_n_parts(t->gguf); part++) {
				if (arca_arch_expand_part(name, sizeof(name), t->gguf, part, (int)l, 0) >=
				    (int)sizeof(name))
					continue;
				if (!arca_gguf_find_tensor(g, name))
					return arca_error_set(ARCA_EINVALID, "%s: tensor %s is missing (%s "
						"needs it)", what, name, m->arch->name);
			}
		}
	}
	return ARCA_OK;
}

static void count_types(arca_model *m, const arca_gguf *g)
{
	int counts[64] = { 0 };
	const arca_gguf_tensor *t;
	for (size_t i = 0; (t = arca_gguf_tensor_at(g, i)); i++) {
		if (t->type >= 0 && t->type < 64)
			counts[t->type]++;
		uint64_t n = 1;
		for (uint32_t d = 0; d < t->n_dims; d++)
			n *= t->ne[d];
		m->info.n_params += n;
	}
	size_t used = 0;
	for (int ty = 0; ty < 64; ty++) {
		const arca_ggml_type_info *ti = arca_ggml_type_info_get(ty);
		if (!counts[ty] || !ti || used + 24 >= sizeof(m->info.weight_types))
			continue;
		used += (size_t)snprintf(m->info.weight_types + used,
			sizeof(m->info.weight_types) - used, "%s%s x%d", used ? ", " : "", ti->name,
			counts[ty]);
	}
}

/* ChatGLM's attn_qkv rows are q, then k, then v (its bias likewise): three views. */
static void split_qkv(arca_rt_layer *L, const arca_model_info *i)
{
	uint64_t q = (uint64_t)i->n_head * i->head_dim, kv = (uint64_t)i->n_head_kv * i->head_dim;
	const char *w = L->wqkv.data;
	L->wq = L->wk = L->wv = L->wqkv;
	L->wq.ne1 = q;
	L->wk.ne1 = L->wv.ne1 = kv;
	L->wk.data = w + q * L->wqkv.row_bytes;
	L->wv.data = w + (q + kv) * L->wqkv.row_bytes;
	if (!L->bqkv.data)
		return;
	const float *b = L->bqkv.data;
	L->bq = L->bk = L->bv = L->bqkv;
	L->bq.ne0 = q;
	L->bk.ne0 = L->bv.ne0 = kv;
	L->bk.data = b + q;
	L->bv.data = b + q + kv;
}

/* What a decoded token reads of a tensor: of stacked experts, the share it uses. */
static uint64_t tensor_bytes(const arca_rt_tensor *t, const arca_model_info *i, int experts)
{
	if (!t->data)
		return 0;
	uint64_t bytes = t->row_bytes * t->ne1;
	return bytes * (experts ? i->n_expert_used : t->ne2);
}

arca_err arca_model_load(arca_model **out, const arca_gguf *g, const char *what)
{
	*out = NULL;
	char *arch_name = NULL;
	arca_err err = arca_gguf_get_str(g, "general.architecture", &arch_name);
	if (err < 0)
		return arca_error_prefix(err, "%s: not a model", what);
	arca_model *m = calloc(1, sizeof(*m));
	if (!m) {
		free(arch_name);
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	}
	snprintf(m->info.arch, sizeof(m->info.arch), "%s", arch_name);
	m->arch = arca_arch_for_gguf(arch_name);
	if (!m->arch || !m->arch->runnable) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "%s: architecture '%.40s' cannot be run "
			"(the runtime runs %s)", what, arch_name, arca_arch_runnable());
		free(arch_name);
		goto fail;
	}
	free(arch_name);
	arca_model_info *info = &m->info;
	info->rope_neox = m->arch->rope == ARCA_ROPE_NEOX;
	int moe = (m->arch->features & ARCA_ARCH_MOE) != 0;
	if ((err = read_info(info, g, what)) < 0)
		goto fail;
	m->head_dim_v = info->head_dim;
	m->attn_scale = 1.0f / sqrtf((float)info->head_dim);
	if (((m->arch->features & ARCA_ARCH_MLA) && (err = read_mla(m, g, what)) < 0) ||
	    (err = read_rope(m, g, what)) < 0 ||
	    (moe && (err = read_moe_info(m, g, what)) < 0) ||
	    (err = check_table(m, g, what)) < 0)
		goto fail;
	const arca_gguf_tensor *emb = arca_gguf_find_tensor(g, "token_embd.weight");
	if (!emb || emb->n_dims != 2 || !emb->ne[1] || emb->ne[1] > (1u << 24)) {
		err = arca_error_set(ARCA_EINVALID, "%s: token_embd.weight is missing, not 2-D or "
			"has an impossible vocabulary", what);
		goto fail;
	}
	info->n_vocab = (uint32_t)emb->ne[1];
	m->layers = calloc(info->n_layer, sizeof(*m->layers));
	if (!m->layers) {
		err = arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
		goto fail;
	}
	/* token_embd rows are dequantized one at a time, so any type with a decoder works */
	if ((err = bind(&m->tok_embd, g, what, "token_embd.weight", info->n_embd, info->n_vocab,
			1, 1)) < 0 ||
	    (err = bind(&m->out_norm, g, what, "output_norm.weight", info->n_embd, 1, 0, 1)) < 0 ||
	    (err = bind(&m->output, g, what, "output.weight", info->n_embd, info->n_vocab, 1, 0)) < 0)
		goto fail;
	info->tied_embeddings = m->output.data == NULL;
	if ((err = bind(&m->rope_freqs, g, what, "rope_freqs.weight", info->n_rot / 2, 1, 0,
			0)) < 0)
		goto fail;
	m->rope.factors = m->rope_freqs.data;
	for (uint32_t l = 0; l < info->n_layer; l++) {
		arca_rt_layer *L = &m->layers[l];
		L->moe = moe && l >= m->moe.n_dense_lead;
		for (size_t r = 0; r < N_ROLES; r++) {
			const role *ro = &layer_roles[r];
			int want = role_need(m, l, ro->when);
			if (!want)
				continue;
			char name[ARCA_GGUF_NAME_MAX + 1];
			const char *pattern = ro->offset == offsetof(arca_rt_layer, ffn_norm) &&
				m->arch->ffn_norm ? m->arch->ffn_norm : ro->name;
			arca_arch_expand(name, sizeof(name), pattern, (int)l, 0);
			arca_rt_tensor *slot = (arca_rt_tensor *)((char *)L + ro->offset);
			if ((err = bind3(slot, g, what, name, dim_value(m, ro->ne0),
					dim_value(m, ro->ne1), dim_value(m, ro->ne2), ro->matrix,
					want == 1)) < 0)
				goto fail;
			info->weight_bytes += tensor_bytes(slot, info, ro->ne2 == D_EXPERT);
		}
		if (L->wqkv.data)
			split_qkv(L, info);
		if (!L->moe && (m->arch->features & ARCA_ARCH_FUSED_GATE_UP)) {
			/* ffn_up holds the gate's rows, then the up rows: two views */
			L->gate = L->up;
			L->gate.ne1 = L->up.ne1 = info->n_ff;
			L->up.data = (const char *)L->up.data + (size_t)info->n_ff * L->up.row_bytes;
		}
	}
	info->weight_bytes += tensor_bytes(&m->out_norm, info, 0) +
		tensor_bytes(info->tied_embeddings ? &m->tok_embd : &m->output, info, 0);
	count_types(m, g);
	*out = m;
	return ARCA_OK;
fail:
	arca_model_free(m);
	return err;
}

void arca_model_free(arca_model *m)
{
	if (!m)
		return;
	free(m->layers);
	free(m);
}

const arca_model_info *arca_model_get_info(const arca_model *m)
{
	return &m->info;
}
