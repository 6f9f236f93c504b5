/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/session_internal.h — a session's state: the KV cache, the scratch buffers of one
 * batch (at most n_batch tokens), and the thread pool. forward.c runs a batch through the
 * model using these; session.c owns their life.
 */
#ifndef ARCA_RUNTIME_SESSION_INTERNAL_H
#define ARCA_RUNTIME_SESSION_INTERNAL_H

#include "runtime/model_internal.h"
#include "common/pool.h"
#include "runtime/gpu.h"

struct arca_session {
	const arca_model *m;
	arca_pool *pool;
	arca_gpu *gpu;                  /* the device running the first layers, or NULL */
	char kernels[160];              /* with a GPU: "cuda (its name)" */
	uint32_t n_ctx, n_past, n_batch;
	/* widths per token: keys and values of all kv heads, queries and attention outputs of
	 * all heads (MLA: queries absorbed into the latent, outputs still in it) */
	size_t k_dim, v_dim, q_dim, att_dim;
	/* The host cache holds layers [cache_layer0, n_layer): the layers before it run on the
	 * GPU (runtime/gpu.h), which keeps their keys and values itself, so the caches below
	 * are indexed by layer − cache_layer0. */
	uint32_t cache_layer0;
	/* keys channel-major, [layer][k_dim][kt_stride] (kt_stride = n_ctx plus a cache line, so
	 * the channels of one position do not share a cache set); values [layer][n_ctx][v_dim] */
	float *k_cache, *v_cache;
	size_t kt_stride;
	/* cache_type F16 or Q8_0 (kv_cache.c): keys and values head-major rows of that type,
	 * [layer][kv head][n_ctx] rows of k_row and v_row bytes (one head's width; k_cache,
	 * v_cache stay NULL);
	 * attention (kv_attend.c) decodes KV_TILE positions of one kv head at a time into a
	 * thread's kv_tile scratch; a generated token's chunk states go to kv_part */
	int cache_type;
	void *kq_cache, *vq_cache;
	size_t k_row, v_row, tile_floats;
	float *kv_tile;                 /* [threads][tile_floats] */
	float *kv_part;                 /* [n_ctx / chunk + 1][n_head][m, l, head_dim_v] */
	/* per batch, token-major */
	float *x, *xn, *q, *k, *v, *att, *gate, *up, *ffn_out;
	float *rope_cos, *rope_sin;     /* [n_batch][n_rot/2] */
	/* mixture of experts: router logits [n_batch][n_expert]; the chosen experts and weights
	 * [n_batch][n_expert_used]; one expert's tokens (ids, weights, gathered rows, outputs) */
	float *router, *moe_w, *moe_x, *moe_y, *moe_tw;
	uint32_t *moe_sel, *moe_tok;
	/* multi-head latent attention: q before absorption [n_batch][heads × (nope + rope)], the
	 * q bottleneck [n_batch][q_lora], one head's rows gathered and its products
	 * [n_batch][max(nope, kv_lora, v)], attention outputs mapped out of the latent
	 * [n_batch][heads × v] */
	float *mla_q, *mla_lora, *head_in, *head_out, *att_v;
	float *scores;                  /* F32 cache: [threads][heads per kv head][n_ctx] */
	void *act;                      /* converted activations */
	size_t act_cap;
	const void *act_src;            /* what act holds now, for reuse */
	int act_type;
	size_t act_rows;
	float *logits;
	size_t logits_cap;              /* floats */
};

/* The products and element-wise steps forward.c and moe.c share: y = w · x for nb rows of x
 * (y rows w->ne1 apart); forgetting the cached activation conversion after x changed in
 * place; g = silu(g) · u over n elements, split across the pool. */
void arca_rt__mul(arca_session *s, const arca_rt_tensor *w, const float *x, size_t nb,
	float *y);
void arca_rt__act_invalidate(arca_session *s);
void arca_rt__swiglu(arca_session *s, float *g, const float *u, size_t n);

/* The mixture-of-experts FFN of one layer: reads s->xn (normed), writes s->ffn_out. */
void arca_rt__moe_ffn(arca_session *s, const arca_rt_layer *L, size_t nb);

/* Bytes of converted activations the largest product of nb tokens needs. */
size_t arca_rt__act_bytes(const arca_model *m, size_t nb);

enum { ARCA_RT_LOGITS_NONE, ARCA_RT_LOGITS_LAST, ARCA_RT_LOGITS_ALL };

/* The KV cache in F16 or Q8_0 (kv_cache.c): sizes and buffers set up for s->cache_type
 * (ARCA_EINVALID when the model's head widths do not fit the type, ARCA_ENOMEM); one
 * position's key and value rows stored. kv_attend.c: causal attention of the batch's nb
 * tokens (queries s->q, outputs s->att) over the cache, split across the pool, and the
 * floats of one thread's scratch it needs. */
arca_err arca_rt__kv_alloc(arca_session *s);
void arca_rt__kv_free(arca_session *s);
void arca_rt__kv_write(arca_session *s, uint32_t layer, size_t pos, const float *k,
	const float *v);
void arca_rt__kv_attend(arca_session *s, uint32_t layer, size_t nb);
size_t arca_rt__kv_scratch_floats(const arca_session *s);

/* Narrow-cache attention's granularity: positions decoded at a time (a multiple of 16),
 * query rows sharing each decoded tile, and tiles per chunk (the unit a generated token's
 * keys are split across threads by). */
enum { KV_TILE = 64, KV_QROWS = 64, KV_CHUNK_TILES = 8 };

/* Runs tokens ids[0..n) (n <= n_batch) at positions n_past.., appending to the KV cache
 * and advancing n_past; writes to s->logits the logits the mode asks for. Fails only when
 * the GPU does (n_past then stays). */
arca_err arca_rt__forward(arca_session *s, const int32_t *ids, size_t n, int logits_mode);

#endif
