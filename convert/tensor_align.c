/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tensor_align.c — hidden units matched across two models, so that a fine-tune
 * whose units were permuted is still seen as one (convert/audit_internal.h).
 *
 * Permuting the residual stream (the columns of every input projection and of the
 * embedding, the rows of every output projection) and, per layer, the MLP's units (rows of
 * gate/up, columns of down) leaves the function unchanged but makes every tensor's cosine
 * with the original ≈ 0, which hides the relation from HuRef-style statistics. Undoing it:
 *   1. residual: each sampled embedding column of FORK (a vector over a sample of the shared
 *      vocabulary rows) is matched to the BASE column with the highest cosine;
 *   2. per layer: each sampled up_proj row of FORK, restricted to the matched residual
 *      coordinates, is matched to the BASE row with the highest cosine;
 *   3. the layer's matrices are compared again on the matched coordinates: q/k/v (rows as
 *      stored, matched columns), o (matched rows), gate/up (matched rows and columns), down
 *      (matched rows, matched unit columns).
 * A match counts when its cosine is ≥ 0.5 and no other unit took the same partner:
 * between independent models the best cosine of a column over n candidates stays near
 * √(2 ln n / d) (≈ 0.1 for the vocabulary sample, ≈ 0.4 for 64-dim tiny rows), while a
 * permuted copy with a small fine-tune matches at ≈ 1. Attention heads are compared in
 * their stored order (a permutation of heads is not undone).
 * Cost: (residual sample × hidden × vocab sample) + per layer (unit sample × units ×
 * matched coordinates) multiply-adds; samples are capped so a 7B model takes seconds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/audit_internal.h"

#define SAMPLE_VOCAB 2048 /* embedding rows the residual columns are compared over */
#define SAMPLE_RESIDUAL 512
#define SAMPLE_UNITS 256  /* MLP units per layer, and rows/columns of q/k/v/o */
#define MATCH_MIN 0.5

typedef struct {
	size_t n;
	uint64_t *fork;  /* unit index in FORK */
	uint64_t *base;  /* its match in BASE */
} matching;

static void matching_free(matching *m)
{
	free(m->fork);
	free(m->base);
	memset(m, 0, sizeof(*m));
}

/* n indices spread evenly over [0, total) (all of them when total <= n). */
static uint64_t *spread(uint64_t total, size_t *n)
{
	if (*n > total)
		*n = (size_t)total;
	uint64_t *idx = malloc((*n ? *n : 1) * sizeof(*idx));
	for (size_t i = 0; idx && i < *n; i++)
		idx[i] = (uint64_t)((unsigned __int128)i * total / *n);
	return idx;
}

static float dotf(const float *x, const float *y, size_t n)
{
	float acc[16] = { 0 };
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		for (int l = 0; l < 16; l++)
			acc[l] += x[i + l] * y[i + l];
	float s = 0;
	for (; i < n; i++)
		s += x[i] * y[i];
	for (int l = 0; l < 16; l++)
		s += acc[l];
	return s;
}

/* Scales each of n vectors of length d to unit norm (zero vectors stay zero). */
static void normalize(float *v, size_t n, size_t d)
{
	for (size_t i = 0; i < n; i++) {
		double s = arca_convert__dot(v + i * d, v + i * d, d);
		float k = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
		for (size_t j = 0; j < d; j++)
			v[i * d + j] *= k;
	}
}

/* For each of the nq unit vectors q (length d), the best of the nc candidates c: a match
 * when its cosine is ≥ MATCH_MIN and no other query took it. out gets the pairs
 * (query_ids[i], candidate index). */
static arca_err best_matches(matching *out, const float *q, const uint64_t *query_ids,
	size_t nq, const float *c, size_t nc, size_t d)
{
	int64_t *best = malloc((nq ? nq : 1) * sizeof(*best));
	int *taken = calloc(nc ? nc : 1, sizeof(*taken));
	out->fork = malloc((nq ? nq : 1) * sizeof(uint64_t));
	out->base = malloc((nq ? nq : 1) * sizeof(uint64_t));
	out->n = 0;
	if (!best || !taken || !out->fork || !out->base) {
		free(best);
		free(taken);
		matching_free(out);
		return arca_error_set(ARCA_ENOMEM, "audit: out of memory matching units");
	}
	for (size_t i = 0; i < nq; i++) {
		float top = -2;
		int64_t arg = -1;
		for (size_t j = 0; j < nc; j++) {
			float s = dotf(q + i * d, c + j * d, d);
			if (s > top) {
				top = s;
				arg = (int64_t)j;
			}
		}
		best[i] = top >= MATCH_MIN ? arg : -1;
		if (best[i] >= 0)
			taken[best[i]]++;
	}
	for (size_t i = 0; i < nq; i++) {
		if (best[i] < 0 || taken[best[i]] != 1)
			continue;
		out->fork[out->n] = query_ids[i];
		out->base[out->n] = (uint64_t)best[i];
		out->n++;
	}
	free(best);
	free(taken);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ residual stream */

/* Embedding columns as vectors over a sample of the shared vocabulary rows. */
static arca_err match_residual(matching *m, size_t *sampled, const arca_tview *base,
	const arca_tview_tensor *ea, const arca_tview *fork, const arca_tview_tensor *eb)
{
	uint64_t h = ea->row_len;
	size_t n_rows = SAMPLE_VOCAB, n_units = SAMPLE_RESIDUAL;
	uint64_t shared = ea->n_rows < eb->n_rows ? ea->n_rows : eb->n_rows;
	uint64_t *rows = spread(shared, &n_rows);
	uint64_t *units = spread(h, &n_units);
	float *ra = malloc(n_rows * h * sizeof(float) + 1), *rb = malloc(n_rows * h * sizeof(float) + 1);
	float *ca = malloc(h * n_rows * sizeof(float) + 1), *cb = malloc(n_units * n_rows * sizeof(float) + 1);
	arca_err err = ARCA_OK;
	if (!rows || !units || !ra || !rb || !ca || !cb)
		err = arca_error_set(ARCA_ENOMEM, "audit: out of memory reading embeddings");
	if (err == ARCA_OK)
		err = arca_convert__tview_gather(base, ea, rows, n_rows, NULL, h, ra);
	if (err == ARCA_OK)
		err = arca_convert__tview_gather(fork, eb, rows, n_rows, NULL, h, rb);
	if (err == ARCA_OK) {
		for (uint64_t j = 0; j < h; j++)
			for (size_t r = 0; r < n_rows; r++)
				ca[j * n_rows + r] = ra[r * h + j];
		for (size_t u = 0; u < n_units; u++)
			for (size_t r = 0; r < n_rows; r++)
				cb[u * n_rows + r] = rb[r * h + units[u]];
		normalize(ca, (size_t)h, n_rows);
		normalize(cb, n_units, n_rows);
		err = best_matches(m, cb, units, n_units, ca, (size_t)h, n_rows);
	}
	*sampled = n_units;
	free(rows);
	free(units);
	free(ra);
	free(rb);
	free(ca);
	free(cb);
	return err;
}

/* ------------------------------------------------------------------ one layer */

typedef struct {
	double dot, na, nb;
} sums;

static void add_sums(sums *s, const float *a, const float *b, size_t n)
{
	s->dot += arca_convert__dot(a, b, n);
	s->na += arca_convert__dot(a, a, n);
	s->nb += arca_convert__dot(b, b, n);
}

/* base[rows_a][cols_a] against fork[rows_b][cols_b], added to s. */
static arca_err compare_cut(sums *s, const arca_tview *base, const arca_tview_tensor *ta,
	const arca_tview *fork, const arca_tview_tensor *tb, const uint64_t *rows_a,
	const uint64_t *rows_b, size_t n_rows, const uint64_t *cols_a, const uint64_t *cols_b,
	size_t n_cols)
{
	float *a = malloc(n_rows * n_cols * sizeof(float) + 1);
	float *b = malloc(n_rows * n_cols * sizeof(float) + 1);
	arca_err err = a && b ? ARCA_OK :
		arca_error_set(ARCA_ENOMEM, "audit: out of memory comparing %s", tb->name);
	if (err == ARCA_OK)
		err = arca_convert__tview_gather(base, ta, rows_a, n_rows, cols_a, n_cols, a);
	if (err == ARCA_OK)
		err = arca_convert__tview_gather(fork, tb, rows_b, n_rows, cols_b, n_cols, b);
	if (err == ARCA_OK)
		add_sums(s, a, b, n_rows * n_cols);
	free(a);
	free(b);
	return err;
}

typedef struct {
	const arca_tview *base, *fork;
	const matching *res;     /* residual units: fork -> base */
	uint64_t fork_hidden;    /* the embedding's width: up_proj rows have this length */
	sums total;
} align_ctx;

static const arca_tview_tensor *pair_of(const arca_tview *v, int layer, const char *kind)
{
	char name[200];
	snprintf(name, sizeof(name), "model.layers.%d.%s.weight", layer, kind);
	return arca_convert__tview_find(v, name);
}

static int same_shape(const arca_tview_tensor *a, const arca_tview_tensor *b)
{
	return a && b && a->n_rows == b->n_rows && a->row_len == b->row_len;
}

static arca_err align_layer(align_ctx *c, int layer, arca_align_layer *out, int *found)
{
	*found = 0;
	const arca_tview_tensor *ua = pair_of(c->base, layer, "mlp.up_proj");
	const arca_tview_tensor *ub = pair_of(c->fork, layer, "mlp.up_proj");
	if (!same_shape(ua, ub) || ub->row_len != c->fork_hidden)
		return ARCA_OK;
	*found = 1;
	const matching *res = c->res;
	size_t m = res->n, n_units = SAMPLE_UNITS;
	uint64_t *units = spread(ub->n_rows, &n_units);
	float *qa = malloc((size_t)ua->n_rows * m * sizeof(float) + 1);
	float *qb = malloc(n_units * m * sizeof(float) + 1);
	matching mlp = { 0 };
	sums s = { 0 };
	arca_err err = units && qa && qb ? ARCA_OK :
		arca_error_set(ARCA_ENOMEM, "audit: out of memory aligning layer %d", layer);
	if (err == ARCA_OK)
		err = arca_convert__tview_gather(c->base, ua, NULL, (size_t)ua->n_rows, res->base, m, qa);
	if (err == ARCA_OK)
		err = arca_convert__tview_gather(c->fork, ub, units, n_units, res->fork, m, qb);
	if (err == ARCA_OK) {
		normalize(qa, (size_t)ua->n_rows, m);
		normalize(qb, n_units, m);
		err = best_matches(&mlp, qb, units, n_units, qa, (size_t)ua->n_rows, m);
	}
	out->layer = layer;
	out->units_sampled = n_units;
	out->units_matched = n_units ? (double)mlp.n / (double)n_units : 0;
	out->identity = 1;
	for (size_t i = 0; i < mlp.n; i++)
		out->identity &= mlp.fork[i] == mlp.base[i];
	/* the layer's matrices on the matched coordinates */
	static const char *const in_proj[] = { "self_attn.q_proj", "self_attn.k_proj",
		"self_attn.v_proj" };
	for (size_t k = 0; err == ARCA_OK && k < sizeof(in_proj) / sizeof(in_proj[0]); k++) {
		const arca_tview_tensor *ta = pair_of(c->base, layer, in_proj[k]);
		const arca_tview_tensor *tb = pair_of(c->fork, layer, in_proj[k]);
		if (!same_shape(ta, tb))
			continue;
		size_t n_rows = SAMPLE_UNITS;
		uint64_t *rows = spread(tb->n_rows, &n_rows);
		err = rows ? compare_cut(&s, c->base, ta, c->fork, tb, rows, rows, n_rows, res->base,
			res->fork, m) : arca_error_set(ARCA_ENOMEM, "audit: out of memory");
		free(rows);
	}
	const arca_tview_tensor *oa = pair_of(c->base, layer, "self_attn.o_proj");
	const arca_tview_tensor *ob = pair_of(c->fork, layer, "self_attn.o_proj");
	if (err == ARCA_OK && same_shape(oa, ob)) {
		size_t n_cols = SAMPLE_UNITS;
		uint64_t *cols = spread(ob->row_len, &n_cols);
		err = cols ? compare_cut(&s, c->base, oa, c->fork, ob, res->base, res->fork, m, cols,
			cols, n_cols) : arca_error_set(ARCA_ENOMEM, "audit: out of memory");
		free(cols);
	}
	static const char *const unit_rows[] = { "mlp.gate_proj", "mlp.up_proj" };
	for (size_t k = 0; err == ARCA_OK && mlp.n && k < 2; k++) {
		const arca_tview_tensor *ta = pair_of(c->base, layer, unit_rows[k]);
		const arca_tview_tensor *tb = pair_of(c->fork, layer, unit_rows[k]);
		if (same_shape(ta, tb))
			err = compare_cut(&s, c->base, ta, c->fork, tb, mlp.base, mlp.fork, mlp.n,
				res->base, res->fork, m);
	}
	const arca_tview_tensor *da = pair_of(c->base, layer, "mlp.down_proj");
	const arca_tview_tensor *db = pair_of(c->fork, layer, "mlp.down_proj");
	if (err == ARCA_OK && mlp.n && same_shape(da, db))
		err = compare_cut(&s, c->base, da, c->fork, db, res->base, res->fork, m, mlp.base,
			mlp.fork, mlp.n);
	out->cosine = s.na > 0 && s.nb > 0 ? s.dot / sqrt(s.na * s.nb) : 0;
	c->total.dot += s.dot;
	c->total.na += s.na;
	c->total.nb += s.nb;
	matching_free(&mlp);
	free(units);
	free(qa);
	free(qb);
	return err;
}

/* ------------------------------------------------------------------ the alignment */

void arca_convert__align_dispose(arca_align_result *r)
{
	free(r->layers);
	memset(r, 0, sizeof(*r));
}

arca_err arca_convert__align(arca_align_result *out, const arca_tview *base,
	const arca_tview *fork)
{
	memset(out, 0, sizeof(*out));
	const arca_tview_tensor *ea = arca_convert__tview_find(base, "model.embed_tokens.weight");
	const arca_tview_tensor *eb = arca_convert__tview_find(fork, "model.embed_tokens.weight");
	if (!ea || !eb || ea->row_len != eb->row_len) {
		snprintf(out->note, sizeof(out->note), "%s", !ea || !eb ?
			"no model.embed_tokens.weight on both sides" :
			"the hidden sizes differ");
		return ARCA_OK;
	}
	matching res = { 0 };
	arca_err err = match_residual(&res, &out->residual_sampled, base, ea, fork, eb);
	if (err < 0)
		return err;
	out->done = 1;
	out->residual_matched = out->residual_sampled ?
		(double)res.n / (double)out->residual_sampled : 0;
	out->residual_identity = 1;
	for (size_t i = 0; i < res.n; i++)
		out->residual_identity &= res.fork[i] == res.base[i];
	out->permuted = !out->residual_identity;
	if (res.n < 2) {
		snprintf(out->note, sizeof(out->note), "no embedding column of the fork matches one "
			"of the base (best cosines below %.1f)", MATCH_MIN);
		matching_free(&res);
		return ARCA_OK;
	}
	align_ctx c = { .base = base, .fork = fork, .res = &res, .fork_hidden = eb->row_len };
	for (int layer = 0; err == ARCA_OK; layer++) {
		arca_align_layer l = { 0 };
		int found;
		if ((err = align_layer(&c, layer, &l, &found)) < 0 || !found)
			break;
		arca_align_layer *grown = realloc(out->layers, (out->n_layers + 1) * sizeof(*grown));
		if (!grown) {
			err = arca_error_set(ARCA_ENOMEM, "audit: out of memory");
			break;
		}
		out->layers = grown;
		out->layers[out->n_layers++] = l;
		out->permuted |= !l.identity;
	}
	if (err == ARCA_OK && !out->n_layers)
		snprintf(out->note, sizeof(out->note), "no model.layers.N.mlp.up_proj.weight of the "
			"same shape on both sides (MoE and other layouts are not aligned)");
	out->cosine = c.total.na > 0 && c.total.nb > 0 ?
		c.total.dot / sqrt(c.total.na * c.total.nb) : 0;
	matching_free(&res);
	return err;
}
