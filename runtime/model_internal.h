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
	uint64_t ne0, ne1;    /* row length, rows */
	size_t row_bytes;
} arca_rt_tensor;

typedef struct {
	arca_rt_tensor attn_norm, wq, wk, wv, bq, bk, bv, wo, q_norm, k_norm;
	arca_rt_tensor ffn_norm, gate, up, down;
} arca_rt_layer;

struct arca_model {
	arca_model_info info;
	const arca_arch *arch;
	arca_rt_tensor tok_embd, out_norm, output;
	arca_rt_tensor rope_freqs;   /* llama3 scaling: θ_i divided by these (optional) */
	arca_rt_layer *layers;
};

#endif
