/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/forward.c — one batch of tokens through the dense decoder (qwen2, qwen3, llama):
 * embeddings, then per layer attention (q/k/v projections with optional biases, Qwen3's
 * per-head norms, RoPE, causal grouped-query attention over the KV cache, output
 * projection) and the SwiGLU FFN, each with its residual; then the output norm and the
 * logits. Matrix products and attention heads are split across the session's threads.
 */
#include <math.h>
#include <string.h>

#include "arca/quant.h"
#include "runtime/kernels.h"
#include "runtime/ops.h"
#include "runtime/session_internal.h"

#define ROW_GRAIN 16

/* ------------------------------------------------------------------ matrix products */

typedef struct {
	const arca_rt_tensor *w;
	const void *x;
	size_t x_stride, nb;
	float *y;
	size_t ldy;
} matmul_job;

static void matmul_worker(void *ctx, int ith, int nth)
{
	const matmul_job *j = ctx;
	size_t lo, hi;
	arca_pool_split(j->w->ne1, ROW_GRAIN, ith, nth, &lo, &hi);
	if (lo >= hi)
		return;
	if (j->nb == 1)
		arca_rt_matvec(j->w->type, j->w->data, j->w->row_bytes, j->w->ne0, j->x, j->y + lo,
			lo, hi);
	else
		arca_rt_matmul(j->w->type, j->w->data, j->w->row_bytes, j->w->ne0, j->x, j->x_stride,
			j->nb, j->y, j->ldy, lo, hi);
}

/* Converts nb rows of x (row length w->ne0) for w's type, reusing the last conversion
 * when it was of the same rows for the same type. */
static const void *activations(arca_session *s, const arca_rt_tensor *w, const float *x,
	size_t nb, size_t *stride)
{
	*stride = arca_rt_act_row_size(w->type, w->ne0);
	if (s->act_src == x && s->act_type == w->type && s->act_rows == nb)
		return s->act;
	/* s->act holds arca_rt_act_bytes(m, n_batch): every product of a batch fits */
	for (size_t b = 0; b < nb; b++)
		arca_rt_act_convert(w->type, x + b * w->ne0, (char *)s->act + b * *stride, w->ne0);
	s->act_src = x;
	s->act_type = w->type;
	s->act_rows = nb;
	return s->act;
}

static size_t tensor_act_bytes(const arca_rt_tensor *w, size_t nb)
{
	return w->data ? arca_rt_act_row_size(w->type, w->ne0) * nb : 0;
}

size_t arca_rt_act_bytes(const arca_model *m, size_t nb)
{
	size_t most = tensor_act_bytes(m->info.tied_embeddings ? &m->tok_embd : &m->output, nb);
	for (uint32_t l = 0; l < m->info.n_layer; l++) {
		const arca_rt_tensor *all[] = { &m->layers[l].wq, &m->layers[l].wk, &m->layers[l].wv,
			&m->layers[l].wo, &m->layers[l].gate, &m->layers[l].up, &m->layers[l].down };
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			size_t b = tensor_act_bytes(all[i], nb);
			most = b > most ? b : most;
		}
	}
	return most;
}

/* y[b][r] = w · x[b] for nb rows of x; y rows are w->ne1 apart. */
static void mul(arca_session *s, const arca_rt_tensor *w, const float *x, size_t nb, float *y)
{
	matmul_job j = { .w = w, .nb = nb, .y = y, .ldy = w->ne1 };
	j.x = activations(s, w, x, nb, &j.x_stride);
	arca_pool_run(s->pool, matmul_worker, &j);
}

/* x changes in place (norms, residuals): the cached conversion no longer holds */
static void invalidate(arca_session *s)
{
	s->act_src = NULL;
}

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

/* One work item is a token and a kv head with the query heads that share it: each key and
 * value row is read once for the whole group, not once per head. */
VECTOR_CLONES static void attn_worker(void *ctx, int ith, int nth)
{
	const attn_job *j = ctx;
	arca_session *s = j->s;
	const arca_model_info *in = &s->m->info;
	size_t G = in->n_head_kv, hd = in->head_dim, group = in->n_head / in->n_head_kv;
	size_t lo, hi;
	arca_pool_split(j->nb * G, 1, ith, nth, &lo, &hi);
	float *scores = s->scores + (size_t)ith * s->n_ctx * group;
	const float scale = 1.0f / sqrtf((float)hd);
	const float *kc = s->k_cache + (size_t)j->layer * s->n_ctx * s->kv_dim;
	const float *vc = s->v_cache + (size_t)j->layer * s->n_ctx * s->kv_dim;
	for (size_t item = lo; item < hi; item++) {
		size_t t = item / G, g = item % G;
		size_t n_keys = s->n_past + t + 1; /* causal: this token and all before it */
		const float *q = s->q + t * s->q_dim + g * group * hd;
		for (size_t p = 0; p < n_keys; p++) {
			const float *k = kc + p * s->kv_dim + g * hd;
			for (size_t h = 0; h < group; h++)
				scores[h * n_keys + p] = arca_op_dot_inline(q + h * hd, k, hd) * scale;
		}
		float *out = s->att + t * s->q_dim + g * group * hd;
		memset(out, 0, group * hd * sizeof(float));
		for (size_t h = 0; h < group; h++)
			arca_op_softmax(scores + h * n_keys, n_keys);
		for (size_t p = 0; p < n_keys; p++) {
			const float *v = vc + p * s->kv_dim + g * hd;
			for (size_t h = 0; h < group; h++)
				arca_op_axpy_inline(out + h * hd, scores[h * n_keys + p], v, hd);
		}
	}
}

/* q/k norms, RoPE, and the new keys and values into the cache. */
static void prepare_qkv(arca_session *s, const arca_rt_layer *L, uint32_t layer, size_t nb)
{
	const arca_model_info *in = &s->m->info;
	size_t hd = in->head_dim, half = in->n_rot / 2;
	for (size_t t = 0; t < nb; t++) {
		float *q = s->q + t * s->q_dim, *k = s->k + t * s->kv_dim;
		const float *c = s->rope_cos + t * half, *sn = s->rope_sin + t * half;
		for (size_t h = 0; h < in->n_head; h++) {
			if (L->q_norm.data)
				arca_op_rmsnorm(q + h * hd, q + h * hd, L->q_norm.data, hd, in->rms_eps);
			arca_op_rope(q + h * hd, c, sn, in->n_rot, in->rope_neox);
		}
		for (size_t h = 0; h < in->n_head_kv; h++) {
			if (L->k_norm.data)
				arca_op_rmsnorm(k + h * hd, k + h * hd, L->k_norm.data, hd, in->rms_eps);
			arca_op_rope(k + h * hd, c, sn, in->n_rot, in->rope_neox);
		}
		size_t at = ((size_t)layer * s->n_ctx + s->n_past + t) * s->kv_dim;
		memcpy(s->k_cache + at, k, s->kv_dim * sizeof(float));
		memcpy(s->v_cache + at, s->v + t * s->kv_dim, s->kv_dim * sizeof(float));
	}
}

/* ------------------------------------------------------------------ the layers */

static void attention_block(arca_session *s, const arca_rt_layer *L, uint32_t layer, size_t nb)
{
	const arca_model_info *in = &s->m->info;
	size_t E = in->n_embd;
	for (size_t t = 0; t < nb; t++)
		arca_op_rmsnorm(s->xn + t * E, s->x + t * E, L->attn_norm.data, E, in->rms_eps);
	invalidate(s);
	mul(s, &L->wq, s->xn, nb, s->q);
	mul(s, &L->wk, s->xn, nb, s->k);
	mul(s, &L->wv, s->xn, nb, s->v);
	add_bias(s->q, &L->bq, nb);
	add_bias(s->k, &L->bk, nb);
	add_bias(s->v, &L->bv, nb);
	prepare_qkv(s, L, layer, nb);
	attn_job j = { s, layer, nb };
	arca_pool_run(s->pool, attn_worker, &j);
	invalidate(s);
	mul(s, &L->wo, s->att, nb, s->ffn_out);
	arca_op_add(s->x, s->ffn_out, nb * E);
}

static void ffn_block(arca_session *s, const arca_rt_layer *L, size_t nb)
{
	const arca_model_info *in = &s->m->info;
	size_t E = in->n_embd, F = in->n_ff;
	for (size_t t = 0; t < nb; t++)
		arca_op_rmsnorm(s->xn + t * E, s->x + t * E, L->ffn_norm.data, E, in->rms_eps);
	invalidate(s);
	mul(s, &L->gate, s->xn, nb, s->gate);
	mul(s, &L->up, s->xn, nb, s->up);
	arca_op_swiglu(s->gate, s->up, nb * F);
	invalidate(s);
	mul(s, &L->down, s->gate, nb, s->ffn_out);
	arca_op_add(s->x, s->ffn_out, nb * E);
}

void arca_rt_forward(arca_session *s, const int32_t *ids, size_t n, int logits_mode)
{
	const arca_model *m = s->m;
	const arca_model_info *in = &m->info;
	size_t E = in->n_embd, half = in->n_rot / 2;
	for (size_t t = 0; t < n; t++) {
		const char *row = (const char *)m->tok_embd.data + (size_t)ids[t] * m->tok_embd.row_bytes;
		arca_dequantize(m->tok_embd.type, row, s->x + t * E, E);
		arca_op_rope_table(s->rope_cos + t * half, s->rope_sin + t * half,
			s->n_past + (uint32_t)t, in->n_rot, in->rope_base, in->rope_freq_scale,
			m->rope_freqs.data);
	}
	for (uint32_t l = 0; l < in->n_layer; l++) {
		attention_block(s, &m->layers[l], l, n);
		ffn_block(s, &m->layers[l], n);
	}
	s->n_past += (uint32_t)n;
	if (logits_mode == ARCA_RT_LOGITS_NONE)
		return;
	size_t first = logits_mode == ARCA_RT_LOGITS_ALL ? 0 : n - 1, rows = n - first;
	for (size_t t = first; t < n; t++)
		arca_op_rmsnorm(s->xn + (t - first) * E, s->x + t * E, m->out_norm.data, E,
			in->rms_eps);
	invalidate(s);
	mul(s, in->tied_embeddings ? &m->tok_embd : &m->output, s->xn, rows, s->logits);
}
