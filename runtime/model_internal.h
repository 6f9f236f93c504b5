/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/model_internal.h — the bound model the forward pass reads: per-layer tensor
 * views into the mapped GGUF (never copied) and the hyperparameters.
 */
#ifndef ARCA_RUNTIME_MODEL_INTERNAL_H
#define ARCA_RUNTIME_MODEL_INTERNAL_H

#include "arca/arch.h"
#include "arca/runtime.h"

typedef struct {
	const void *data;     /* NULL when the tensor is absent (optional ones) */
	int type;             /* ggml type */
	uint64_t ne0, ne1;    /* row length, rows (of one expert, for stacked experts) */
	uint64_t ne2;         /* stacked matrices (experts); 1 otherwise */
	size_t row_bytes;
} arca_rt_tensor;

/* Expert e of a stacked tensor, as a plain matrix. */
static inline arca_rt_tensor arca_rt_expert(const arca_rt_tensor *t, uint32_t e)
{
	arca_rt_tensor m = *t;
	m.data = (const char *)t->data + (size_t)e * t->ne1 * t->row_bytes;
	m.ne2 = 1;
	return m;
}

typedef struct {
	arca_rt_tensor attn_norm, wq, wk, wv, bq, bk, bv, wo, q_norm, k_norm;
	arca_rt_tensor ffn_norm, gate, up, down;
	arca_rt_tensor gate_inp, gate_exps, up_exps, down_exps;   /* mixture of experts */
} arca_rt_layer;

struct arca_model {
	arca_model_info info;
	const arca_arch *arch;
	arca_rt_tensor tok_embd, out_norm, output;
	arca_rt_tensor rope_freqs;   /* llama3 scaling: θ_i divided by these (optional) */
	arca_rt_layer *layers;
};

#endif
