/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/model_internal.h — the bound model the forward pass reads: per-layer tensor
 * views into the mapped GGUF (never copied) and the hyperparameters.
 */
#ifndef ARCA_RUNTIME_MODEL_INTERNAL_H
#define ARCA_RUNTIME_MODEL_INTERNAL_H

#include "arca/arch.h"
#include "arca/runtime.h"
#include "runtime/ops.h"

typedef struct {
	const void *data;     /* NULL when the tensor is absent (optional ones) */
	int type;             /* ggml type */
	uint64_t ne0, ne1;    /* row length, rows (of one expert, for stacked experts) */
	uint64_t ne2;         /* stacked matrices (experts); 1 otherwise */
	size_t row_bytes;
} arca_rt_tensor;

/* Expert e of a stacked tensor, as a plain matrix. */
static inline arca_rt_tensor arca_rt__expert(const arca_rt_tensor *t, uint32_t e)
{
	arca_rt_tensor m = *t;
	m.data = (const char *)t->data + (size_t)e * t->ne1 * t->row_bytes;
	m.ne2 = 1;
	return m;
}

typedef struct {
	arca_rt_tensor attn_norm, wq, wk, wv, bq, bk, bv, wo, q_norm, k_norm;
	/* multi-head latent attention: q through a low-rank bottleneck (or wq directly), the
	 * compressed kv latent plus the shared rope key, and the per-head absorbed k/v maps */
	arca_rt_tensor wq_a, q_a_norm, wq_b, wkv_a, kv_a_norm, wk_b, wv_b;
	arca_rt_tensor post_attn_norm, post_ffn_norm;             /* GLM4 */
	arca_rt_tensor wqkv, bqkv;   /* ChatGLM's fused [q; k; v]: wq/wk/wv and bq/bk/bv view it */
	arca_rt_tensor ffn_norm, gate, up, down;
	arca_rt_tensor gate_inp, gate_exps, up_exps, down_exps;   /* mixture of experts */
	arca_rt_tensor exp_probs_b, gate_shexp, up_shexp, down_shexp;
	int moe;                                                  /* this layer's FFN is MoE */
} arca_rt_layer;

/* Multi-head latent attention dimensions (all 0 without it). */
typedef struct {
	uint32_t q_lora, kv_lora, nope, rope, v;
} arca_rt_mla;

/* How a mixture-of-experts layer routes: gating 1 softmax, 2 sigmoid; experts chosen in the
 * best n_groups_used of n_groups groups; chosen weights renormalized (norm) and scaled. */
typedef struct {
	uint32_t n_shared, n_dense_lead, n_groups, n_groups_used;
	int gating, norm;
	float scale;
} arca_rt_moe;

struct arca_model {
	arca_model_info info;
	const arca_arch *arch;
	arca_rt_tensor tok_embd, out_norm, output;
	arca_rt_tensor rope_freqs;   /* llama3 scaling: θ_i divided by these (optional) */
	arca_rt_layer *layers;
	arca_op_rope_params rope;
	arca_rt_mla mla;
	arca_rt_moe moe;
	uint32_t head_dim_v;         /* value width per head (MLA: the latent) */
	float attn_scale;            /* q·k multiplier */
};

#endif
