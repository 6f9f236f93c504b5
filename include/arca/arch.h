/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/arch.h — model architectures as data, shared by the converter (HF → GGUF and back)
 * and the runtime (which tensors a forward pass needs).
 *
 * One table per architecture:
 *   - the Hugging Face classes it covers and the GGUF arch string;
 *   - config.json keys → GGUF metadata keys with their types (first alias present wins);
 *   - HF tensor name patterns → GGUF names, with the transform each needs ({i} is the
 *     layer, {e} an expert) and whether it is optional;
 *   - forward-pass facts: RoPE style (NORMAL pairs adjacent dims, NEOX pairs i and i+n/2),
 *     Q/K norms, attention biases.
 * Values a table cannot express (a key computed from several config fields) come from a
 * per-architecture hook. Nothing here allocates, prints or exits.
 */
#ifndef ARCA_ARCH_H
#define ARCA_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"

typedef enum { ARCA_ROPE_NORMAL, ARCA_ROPE_NEOX } arca_rope_style;

typedef enum {
	ARCA_KV_U32,
	ARCA_KV_F32,
	ARCA_KV_BOOL,
} arca_kv_kind;

typedef struct {
	const char *gguf;      /* key without the "<arch>." prefix, e.g. "block_count" */
	const char *config;    /* config.json keys, '|'-separated aliases */
	arca_kv_kind kind;
	int required;
} arca_arch_kv;

typedef enum {
	ARCA_TX_NONE,
	ARCA_TX_PERMUTE_Q,     /* LLaMA: rotate-half rows → adjacent pairs, per query head */
	ARCA_TX_PERMUTE_K,     /* same, per key/value head */
	ARCA_TX_STACK_EXPERTS, /* {e} matrices stacked into one [E, out, in] tensor */
	ARCA_TX_SPLIT_KV_B,    /* DeepSeek MLA kv_b_proj → attn_k_b (transposed) + attn_v_b */
	ARCA_TX_SPLIT_QKV_GROUPED, /* InternLM2 wqkv, rows [n_kv][q_per_kv + 2][head_dim]: per kv
	                        * group its query heads, then its key, then its value → attn_q and
	                        * attn_k (both LLaMA-permuted) and attn_v; gguf lists the three
	                        * names '|'-separated */
} arca_tensor_tx;

enum {
	ARCA_T_OPTIONAL = 1,   /* absent is fine */
	ARCA_T_F32 = 2,        /* always stored as F32 (norms, biases, routers) */
	ARCA_T_DENSE_ONLY = 4, /* only in layers below leading_dense_block_count (DeepSeek) */
	ARCA_T_MOE_ONLY = 8,   /* only in MoE layers */
};

typedef struct {
	const char *hf;        /* "model.layers.{i}.self_attn.q_proj.weight" */
	const char *gguf;      /* "blk.{i}.attn_q.weight"; SPLIT_KV_B names attn_k_b, see arch.c */
	arca_tensor_tx tx;
	unsigned flags;
} arca_arch_tensor;

enum {
	ARCA_ARCH_QK_NORM = 1,     /* per-head RMSNorm of q and k before RoPE (Qwen3) */
	ARCA_ARCH_QKV_BIAS = 2,    /* q/k/v projections carry biases */
	ARCA_ARCH_MOE = 4,
	ARCA_ARCH_MLA = 8,         /* DeepSeek multi-head latent attention */
	ARCA_ARCH_POST_NORMS = 16, /* GLM4 post-attention and post-FFN norms */
	ARCA_ARCH_FUSED_GATE_UP = 32, /* ffn_up holds [gate; up] (GLM4, ChatGLM) */
	ARCA_ARCH_MTP = 64,        /* layers past num_hidden_layers are multi-token prediction
	                            * heads (DeepSeek-V3, GLM-4.5): dropped, as llama.cpp never
	                            * runs them */
	ARCA_ARCH_QK_NORM_FULL = 128, /* q and k RMSNorm over the whole projection, all heads
	                            * at once (MiniMax-M2), not per head */
	ARCA_ARCH_FUSED_QKV = 256, /* attn_qkv holds [q; k; v] rows, attn_qkv.bias likewise
	                            * (ChatGLM) */
};

typedef struct arca_arch arca_arch;

/* Writes computed metadata: called with the parsed config (a jansson json_t *) and a GGUF
 * writer (arca_gguf_writer *), after the table's keys. */
typedef arca_err (*arca_arch_hook)(const arca_arch *arch, const void *config, void *writer);

struct arca_arch {
	const char *name;                /* GGUF general.architecture */
	const char *const *hf_classes;   /* NULL-terminated */
	arca_rope_style rope;
	unsigned features;
	const arca_arch_kv *kvs;         /* terminated by { NULL } */
	const arca_arch_tensor *tensors; /* terminated by { NULL } */
	arca_arch_hook hook;
	const char *default_pre;         /* tokenizer.ggml.pre when the tokenizer is ambiguous */
	int runnable;                    /* arca's runtime has its forward pass */
	const char *ffn_norm;            /* GGUF name of the pre-FFN norm when it is not
	                                  * blk.{i}.ffn_norm.weight (GLM-4.5) */
};

/* Why arca refuses a Hugging Face class it knows of (MiniMax-Text-01's lightning attention),
 * or NULL. */
const char *arca_arch_refusal(const char *hf_class);

/* Part `part` of a '|'-separated name list ("blk.{i}.attn_q.weight|blk.{i}.attn_k.weight"),
 * expanded as arca_arch_expand does; returns -1 when the list has no such part. */
int arca_arch_expand_part(char *buf, size_t cap, const char *patterns, int part, int layer,
	int expert);

/* How many '|'-separated names a rule's gguf field lists (1 for a plain name). */
int arca_arch_n_parts(const char *patterns);

/* The table for a Hugging Face class ("Qwen2ForCausalLM") or a GGUF arch ("qwen2"); NULL
 * when arca does not support it. */
const arca_arch *arca_arch_for_hf_class(const char *hf_class);
const arca_arch *arca_arch_for_gguf(const char *name);

/* "qwen2 (Qwen2ForCausalLM), qwen3 (...), ..." for error messages. */
const char *arca_arch_supported(void);

/* "qwen2, qwen3, ..." : the architectures the runtime runs, for error messages. */
const char *arca_arch_runnable(void);

/* Expands a pattern: "{i}" → layer, "{e}" → expert. Returns the full length, as snprintf
 * does: a result >= cap means buf holds a truncated (still terminated) name. */
int arca_arch_expand(char *buf, size_t cap, const char *pattern, int layer, int expert);

/* Matches a concrete name against a pattern; fills layer/expert (−1 when absent). */
int arca_arch_match(const char *pattern, const char *name, int *layer, int *expert);

#endif
