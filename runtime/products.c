/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/products.c — the steps every layer kind shares, split across the session's
 * threads: y = W · x with the activations converted once to the weight type's dot type (and
 * the conversion reused while x is unchanged), and SwiGLU. forward.c (attention, dense FFN)
 * and moe.c (experts) both build on these; neither includes the other.
 */
#include "runtime/kernels.h"
#include "runtime/ops.h"
#include "runtime/session_internal.h"

#define ROW_GRAIN 16

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

typedef struct {
	const arca_rt_tensor *w;
	const float *x;
	void *out;
	size_t stride, nb;
} act_job;

static void act_worker(void *ctx, int ith, int nth)
{
	const act_job *j = ctx;
	size_t lo, hi;
	arca_pool_split(j->nb, 1, ith, nth, &lo, &hi);
	for (size_t b = lo; b < hi; b++)
		arca_rt_act_convert(j->w->type, j->x + b * j->w->ne0, (char *)j->out + b * j->stride,
			j->w->ne0);
}

/* Converts nb rows of x (row length w->ne0) for w's type, reusing the last conversion
 * when it was of the same rows for the same type. */
static const void *activations(arca_session *s, const arca_rt_tensor *w, const float *x,
	size_t nb, size_t *stride)
{
	*stride = arca_rt_act_row_size(w->type, w->ne0);
	if (s->act_src == x && s->act_type == w->type && s->act_rows == nb)
		return s->act;
	/* s->act holds arca_rt__act_bytes(m, n_batch): every product of a batch fits */
	act_job j = { w, x, s->act, *stride, nb };
	if (nb == 1)
		act_worker(&j, 0, 1);
	else
		arca_pool_run(s->pool, act_worker, &j);
	s->act_src = x;
	s->act_type = w->type;
	s->act_rows = nb;
	return s->act;
}

static size_t tensor_act_bytes(const arca_rt_tensor *w, size_t nb)
{
	return w->data ? arca_rt_act_row_size(w->type, w->ne0) * nb : 0;
}

size_t arca_rt__act_bytes(const arca_model *m, size_t nb)
{
	size_t most = tensor_act_bytes(m->info.tied_embeddings ? &m->tok_embd : &m->output, nb);
	for (uint32_t l = 0; l < m->info.n_layer; l++) {
		const arca_rt_layer *L = &m->layers[l];
		const arca_rt_tensor *all[] = { &L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up,
			&L->down, &L->gate_inp, &L->gate_exps, &L->up_exps, &L->down_exps, &L->wq_a,
			&L->wq_b, &L->wkv_a, &L->wk_b, &L->wv_b, &L->gate_shexp, &L->up_shexp,
			&L->down_shexp };
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			size_t b = tensor_act_bytes(all[i], nb);
			most = b > most ? b : most;
		}
	}
	return most;
}

void arca_rt__mul(arca_session *s, const arca_rt_tensor *w, const float *x, size_t nb,
	float *y)
{
	matmul_job j = { .w = w, .nb = nb, .y = y, .ldy = w->ne1 };
	j.x = activations(s, w, x, nb, &j.x_stride);
	arca_pool_run(s->pool, matmul_worker, &j);
}

/* x changes in place (norms, residuals): the cached conversion no longer holds */
void arca_rt__act_invalidate(arca_session *s)
{
	s->act_src = NULL;
}

/* ------------------------------------------------------------------ SwiGLU */

typedef struct {
	float *g;
	const float *u;
	size_t n;
} swiglu_job;

static void swiglu_worker(void *ctx, int ith, int nth)
{
	const swiglu_job *j = ctx;
	size_t lo, hi;
	arca_pool_split(j->n, 1024, ith, nth, &lo, &hi);
	if (lo < hi)
		arca_op_swiglu(j->g + lo, j->u + lo, hi - lo);
}

void arca_rt__swiglu(arca_session *s, float *g, const float *u, size_t n)
{
	swiglu_job sj = { g, u, n };
	if (n <= 1024)
		swiglu_worker(&sj, 0, 1);
	else
		arca_pool_run(s->pool, swiglu_worker, &sj);
}
