/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/forward.c — one batch of tokens through the decoder: embeddings, then per layer
 * attention (q/k/v projections with optional biases, Qwen3's per-head norms, RoPE, causal
 * grouped-query attention over the KV cache, output projection (MiniMax-M2's q/k norms span
 * every head; ChatGLM's fused q/k/v are views, model.c); or DeepSeek's multi-head
 * latent attention) and the SwiGLU FFN (dense, or moe.c's experts), each with GLM4's post
 * norm when present and its residual; then the output norm and the logits. Matrix products
 * and attention heads are split across the session's threads. A session on a GPU runs its
 * first layers there (runtime/gpu.h) and the rest here. The KV cache is F32 here;
 * F16 and Q8_0 caches are kv_cache.c's.
 */
#include <math.h>
#include <string.h>

#include "arca/quant.h"
#include "runtime/ops.h"
#include "runtime/session_internal.h"

static void add_bias(float *y, const arca_rt_tensor *b, size_t nb)
{
	if (!b->data)
		return;
	for (size_t t = 0; t < nb; t++)
		arca_op_add(y + t * b->ne0, b->data, b->ne0);
}

/* ------------------------------------------------------------------ attention */

typedef struct {
	arca_session *s;
	uint32_t layer;
	size_t nb;
} attn_job;

/* Scores of one query head against keys [0, n_keys): kt holds the head's keys transposed
 * (channel-major, stride apart), so 16 keys take one vector multiply-add per channel. */
static inline void attn_scores(const float *q, const float *kt, size_t stride, size_t hd,
	size_t n_keys, float scale, float *out)
{
	size_t p0 = 0;
	for (; p0 + 16 <= n_keys; p0 += 16) {
		float acc[16] = { 0 };
		for (size_t d = 0; d < hd; d++) {
			const float *k = kt + d * stride + p0;
			for (int l = 0; l < 16; l++)
				acc[l] += q[d] * k[l];
		}
		for (int l = 0; l < 16; l++)
			out[p0 + l] = acc[l] * scale;
	}
	for (size_t p = p0; p < n_keys; p++) {
		float acc = 0.0f;
		for (size_t d = 0; d < hd; d++)
			acc += q[d] * kt[d * stride + p];
		out[p] = acc * scale;
	}
}

/* out[0, hd) = Σ_p w[p] · v_p for the head's values (rows kv_dim apart). */
static inline void attn_values(const float *w, const float *v, size_t kv_dim, size_t hd,
	size_t n_keys, float *out)
{
	size_t d0 = 0;
	for (; d0 + 16 <= hd; d0 += 16) {
		float acc[16] = { 0 };
		for (size_t p = 0; p < n_keys; p++)
			for (int l = 0; l < 16; l++)
				acc[l] += w[p] * v[p * kv_dim + d0 + l];
		memcpy(out + d0, acc, sizeof(acc));
	}
	for (size_t d = d0; d < hd; d++) {
		float acc = 0.0f;
		for (size_t p = 0; p < n_keys; p++)
			acc += w[p] * v[p * kv_dim + d];
		out[d] = acc;
	}
}

/* One work item is a token and a query head; the heads of a kv head are neighbours, so
 * its keys and values stay in cache between them. Keys are head_dim wide, values
 * head_dim_v (MLA: the latent, one kv head shared by all). */
VECTOR_CLONES static void attn_worker(void *ctx, int ith, int nth)
{
	const attn_job *j = ctx;
	arca_session *s = j->s;
	const arca_model_info *in = &s->m->info;
	size_t H = in->n_head, hd = in->head_dim, hv = s->m->head_dim_v;
	size_t group = in->n_head / in->n_head_kv;
	size_t lo, hi;
	arca_pool_split(j->nb * H, 1, ith, nth, &lo, &hi);
	float *scores = s->scores + (size_t)ith * s->n_ctx * group;
	const float scale = s->m->attn_scale;
	size_t cl = j->layer - s->cache_layer0;
	const float *kc = s->k_cache + cl * s->k_dim * s->kt_stride;
	const float *vc = s->v_cache + cl * s->n_ctx * s->v_dim;
	for (size_t item = lo; item < hi; item++) {
		size_t t = item / H, h = item % H, g = h / group;
		size_t n_keys = s->n_past + t + 1; /* causal: this token and all before it */
		const float *q = s->q + t * s->q_dim + h * hd;
		attn_scores(q, kc + g * hd * s->kt_stride, s->kt_stride, hd, n_keys, scale, scores);
		arca_op_softmax(scores, n_keys);
		attn_values(scores, vc + g * hv, s->v_dim, hv, n_keys, s->att + t * s->att_dim + h * hv);
	}
}

/* Attention of the batch over the cache: F32 here, F16 and Q8_0 in kv_cache.c. */
static void attend(arca_session *s, uint32_t layer, size_t nb)
{
	if (s->cache_type != ARCA_GGML_F32) {
		arca_rt__kv_attend(s, layer, nb);
		return;
	}
	attn_job j = { s, layer, nb };
	arca_pool_run(s->pool, attn_worker, &j);
}

/* ------------------------------------------------------------------ per-token steps */

/* The element-wise steps between the products, split by token across the pool (decode:
 * on the calling thread). */
typedef struct {
	arca_session *s;
	const arca_rt_layer *L;
	uint32_t layer;
	size_t nb;
	const float *norm;    /* norm_worker: dst = rmsnorm(src) · norm, row by row */
	const float *src;
	float *dst;
} step_job;

static void run_steps(const step_job *j, arca_pool_fn fn)
{
	if (j->nb == 1)
		fn((void *)j, 0, 1);
	else
		arca_pool_run(j->s->pool, fn, (void *)j);
}

static void norm_worker(void *ctx, int ith, int nth)
{
	const step_job *j = ctx;
	const arca_model_info *in = &j->s->m->info;
	size_t E = in->n_embd, lo, hi;
	arca_pool_split(j->nb, 1, ith, nth, &lo, &hi);
	for (size_t t = lo; t < hi; t++)
		arca_op_rmsnorm(j->dst + t * E, j->src + t * E, j->norm, E, in->rms_eps);
}

/* dst = rmsnorm(src) · weight for every token's row (dst may be src). */
static void norm_rows(arca_session *s, const float *weight, const float *src, float *dst,
	size_t nb)
{
	step_job j = { .s = s, .nb = nb, .norm = weight, .src = src, .dst = dst };
	run_steps(&j, norm_worker);
	arca_rt__act_invalidate(s);
}

static void residual_worker(void *ctx, int ith, int nth)
{
	const step_job *j = ctx;
	size_t E = j->s->m->info.n_embd, lo, hi;
	arca_pool_split(j->nb, 1, ith, nth, &lo, &hi);
	if (lo < hi)
		arca_op_add(j->s->x + lo * E, j->s->ffn_out + lo * E, (hi - lo) * E);
}

/* One position's key (transposed: channel-major) and value row into the layer's cache. */
static void cache_write(arca_session *s, uint32_t layer, size_t pos, const float *k,
	const float *v)
{
	if (s->cache_type != ARCA_GGML_F32) {
		arca_rt__kv_write(s, layer, pos, k, v);
		return;
	}
	size_t cl = layer - s->cache_layer0;
	float *kt = s->k_cache + cl * s->k_dim * s->kt_stride;
	for (size_t ch = 0; ch < s->k_dim; ch++)
		kt[ch * s->kt_stride + pos] = k[ch];
	memcpy(s->v_cache + (cl * s->n_ctx + pos) * s->v_dim, v,
		s->v_dim * sizeof(float));
}

/* q/k norms, RoPE, and the new keys and values into the cache. */
static void qkv_worker(void *ctx, int ith, int nth)
{
	const step_job *j = ctx;
	arca_session *s = j->s;
	const arca_rt_layer *L = j->L;
	const arca_model_info *in = &s->m->info;
	size_t hd = in->head_dim, half = in->n_rot / 2, lo, hi;
	arca_pool_split(j->nb, 1, ith, nth, &lo, &hi);
	/* q/k norms span one head (Qwen3, GLM-4.5) or all of q and all of k (MiniMax-M2) */
	size_t q_span = L->q_norm.ne0, k_span = L->k_norm.ne0;
	for (size_t t = lo; t < hi; t++) {
		float *q = s->q + t * s->q_dim, *k = s->k + t * s->k_dim;
		const float *c = s->rope_cos + t * half, *sn = s->rope_sin + t * half;
		for (size_t o = 0; L->q_norm.data && o < s->q_dim; o += q_span)
			arca_op_rmsnorm(q + o, q + o, L->q_norm.data, q_span, in->rms_eps);
		for (size_t o = 0; L->k_norm.data && o < s->k_dim; o += k_span)
			arca_op_rmsnorm(k + o, k + o, L->k_norm.data, k_span, in->rms_eps);
		for (size_t h = 0; h < in->n_head; h++)
			arca_op_rope(q + h * hd, c, sn, in->n_rot, in->rope_neox);
		for (size_t h = 0; h < in->n_head_kv; h++)
			arca_op_rope(k + h * hd, c, sn, in->n_rot, in->rope_neox);
		cache_write(s, j->layer, s->n_past + t, k, s->v + t * s->v_dim);
	}
}

/* MLA, per token: the latent normed, the shared rope key rotated, the query heads' rope
 * parts rotated into place after their (later absorbed) latent parts; the key (latent and
 * rope key) and value (the latent) into the cache. */
static void mla_qkv_worker(void *ctx, int ith, int nth)
{
	const step_job *j = ctx;
	arca_session *s = j->s;
	const arca_rt_layer *L = j->L;
	const arca_model_info *in = &s->m->info;
	const arca_rt_mla *a = &s->m->mla;
	size_t half = in->n_rot / 2, qh = a->nope + a->rope, lo, hi;
	arca_pool_split(j->nb, 1, ith, nth, &lo, &hi);
	for (size_t t = lo; t < hi; t++) {
		float *k = s->k + t * s->k_dim;
		const float *c = s->rope_cos + t * half, *sn = s->rope_sin + t * half;
		arca_op_rmsnorm(k, k, L->kv_a_norm.data, a->kv_lora, in->rms_eps);
		arca_op_rope(k + a->kv_lora, c, sn, in->n_rot, in->rope_neox);
		for (size_t h = 0; h < in->n_head; h++) {
			float *q = s->q + t * s->q_dim + h * in->head_dim + a->kv_lora;
			memcpy(q, s->mla_q + t * in->n_head * qh + h * qh + a->nope,
				a->rope * sizeof(float));
			arca_op_rope(q, c, sn, in->n_rot, in->rope_neox);
		}
		cache_write(s, j->layer, s->n_past + t, k, k);
	}
}

/* ------------------------------------------------------------------ the layers */

/* y[t][0, ne1) = w · x[t][off, off + w->ne0) for the nb tokens (rows x_stride and
 * y_stride apart), through the packed head_in / head_out buffers: one head's slice of
 * every token as one product. */
static void head_product(arca_session *s, const arca_rt_tensor *w, const float *x,
	size_t x_stride, float *y, size_t y_stride, size_t nb)
{
	for (size_t t = 0; t < nb; t++)
		memcpy(s->head_in + t * w->ne0, x + t * x_stride, w->ne0 * sizeof(float));
	arca_rt__act_invalidate(s);
	arca_rt__mul(s, w, s->head_in, nb, s->head_out);
	for (size_t t = 0; t < nb; t++)
		memcpy(y + t * y_stride, s->head_out + t * w->ne1, w->ne1 * sizeof(float));
}

/* Multi-head latent attention as llama.cpp runs DeepSeek's split k_b / v_b: each head's
 * nope query is mapped into the latent space (k_b), attention runs over the cached latent
 * and rope key as one shared kv head, and each head's output is mapped out of the latent
 * (v_b) before the output projection. */
static void mla_block(arca_session *s, const arca_rt_layer *L, uint32_t layer, size_t nb)
{
	const arca_model_info *in = &s->m->info;
	const arca_rt_mla *a = &s->m->mla;
	size_t H = in->n_head, qh = a->nope + a->rope;
	step_job steps = { .s = s, .L = L, .layer = layer, .nb = nb };
	if (L->wq_a.data) {
		arca_rt__mul(s, &L->wq_a, s->xn, nb, s->mla_lora);
		for (size_t t = 0; t < nb; t++)
			arca_op_rmsnorm(s->mla_lora + t * a->q_lora, s->mla_lora + t * a->q_lora,
				L->q_a_norm.data, a->q_lora, in->rms_eps);
		arca_rt__act_invalidate(s);
		arca_rt__mul(s, &L->wq_b, s->mla_lora, nb, s->mla_q);
	} else {
		arca_rt__mul(s, &L->wq, s->xn, nb, s->mla_q);
	}
	arca_rt__mul(s, &L->wkv_a, s->xn, nb, s->k);
	run_steps(&steps, mla_qkv_worker);
	for (size_t h = 0; h < H; h++) {
		arca_rt_tensor kb = arca_rt__expert(&L->wk_b, (uint32_t)h);
		head_product(s, &kb, s->mla_q + h * qh, H * qh, s->q + h * in->head_dim, s->q_dim, nb);
	}
	attend(s, layer, nb);
	for (size_t h = 0; h < H; h++) {
		arca_rt_tensor vb = arca_rt__expert(&L->wv_b, (uint32_t)h);
		head_product(s, &vb, s->att + h * a->kv_lora, s->att_dim, s->att_v + h * a->v,
			H * a->v, nb);
	}
	arca_rt__act_invalidate(s);
	arca_rt__mul(s, &L->wo, s->att_v, nb, s->ffn_out);
}

static void attention_block(arca_session *s, const arca_rt_layer *L, uint32_t layer, size_t nb)
{
	step_job steps = { .s = s, .L = L, .layer = layer, .nb = nb };
	norm_rows(s, L->attn_norm.data, s->x, s->xn, nb);
	if (s->m->mla.kv_lora) {
		mla_block(s, L, layer, nb);
	} else {
		arca_rt__mul(s, &L->wq, s->xn, nb, s->q);
		arca_rt__mul(s, &L->wk, s->xn, nb, s->k);
		arca_rt__mul(s, &L->wv, s->xn, nb, s->v);
		add_bias(s->q, &L->bq, nb);
		add_bias(s->k, &L->bk, nb);
		add_bias(s->v, &L->bv, nb);
		run_steps(&steps, qkv_worker);
		attend(s, layer, nb);
		arca_rt__act_invalidate(s);
		arca_rt__mul(s, &L->wo, s->att, nb, s->ffn_out);
	}
	if (L->post_attn_norm.data)   /* GLM4 */
		norm_rows(s, L->post_attn_norm.data, s->ffn_out, s->ffn_out, nb);
	run_steps(&steps, residual_worker);
}

static void ffn_block(arca_session *s, const arca_rt_layer *L, size_t nb)
{
	step_job steps = { .s = s, .L = L, .nb = nb };
	norm_rows(s, L->ffn_norm.data, s->x, s->xn, nb);
	if (L->moe) {
		arca_rt__moe_ffn(s, L, nb);
	} else {
		arca_rt__mul(s, &L->gate, s->xn, nb, s->gate);
		arca_rt__mul(s, &L->up, s->xn, nb, s->up);
		arca_rt__swiglu(s, s->gate, s->up, nb * s->m->info.n_ff);
		arca_rt__act_invalidate(s);
		arca_rt__mul(s, &L->down, s->gate, nb, s->ffn_out);
	}
	if (L->post_ffn_norm.data)
		norm_rows(s, L->post_ffn_norm.data, s->ffn_out, s->ffn_out, nb);
	run_steps(&steps, residual_worker);
}

arca_err arca_rt__forward(arca_session *s, const int32_t *ids, size_t n, int logits_mode)
{
	const arca_model *m = s->m;
	const arca_model_info *in = &m->info;
	size_t E = in->n_embd, half = in->n_rot / 2;
	for (size_t t = 0; t < n; t++) {
		const char *row = (const char *)m->tok_embd.data + (size_t)ids[t] * m->tok_embd.row_bytes;
		arca_dequantize(m->tok_embd.type, row, s->x + t * E, E);
		arca_op_rope_table(s->rope_cos + t * half, s->rope_sin + t * half,
			s->n_past + (uint32_t)t, &m->rope);
	}
	uint32_t first_layer = 0;
	if (s->gpu) {
		/* the device's layers (and, with all of them, the logits) */
		size_t rows = logits_mode == ARCA_RT_LOGITS_NONE ? 0 :
			logits_mode == ARCA_RT_LOGITS_ALL ? n : 1;
		arca_err err = arca_gpu_forward(s->gpu, s->x, n, s->n_past, rows, s->logits);
		if (err < 0)
			return err;
		first_layer = arca_gpu_layers(s->gpu);
		if (first_layer == in->n_layer) {
			s->n_past += (uint32_t)n;
			return ARCA_OK;
		}
	}
	for (uint32_t l = first_layer; l < in->n_layer; l++) {
		attention_block(s, &m->layers[l], l, n);
		ffn_block(s, &m->layers[l], n);
	}
	s->n_past += (uint32_t)n;
	if (logits_mode == ARCA_RT_LOGITS_NONE)
		return ARCA_OK;
	size_t first = logits_mode == ARCA_RT_LOGITS_ALL ? 0 : n - 1, rows = n - first;
	for (size_t t = first; t < n; t++)
		arca_op_rmsnorm(s->xn + (t - first) * E, s->x + t * E, m->out_norm.data, E,
			in->rms_eps);
	arca_rt__act_invalidate(s);
	arca_rt__mul(s, in->tied_embeddings ? &m->tok_embd : &m->output, s->xn, rows, s->logits);
	return ARCA_OK;
}
