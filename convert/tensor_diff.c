/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tensor_diff.c — see arca/diff.h: pairs two tensor views by name, cuts every pair
 * to compare into chunks of rows, runs the chunks on a thread pool (each chunk compares
 * bytes first and decodes only when they differ, or to sum ‖a‖² for the global cosine), then
 * adds the chunks' float64 sums up in order and gives each pair its verdict.
 */
#include "arca/diff.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arca/quant.h"
#include "common/pool.h"
#include "convert/tensor_view.h"

#define CHUNK_ELEMS (256u * 1024u)
#define OWN_ERROR_ROOM 1.5 /* requantized: within 1.5 x the type's own error on A */

static const char *const verdict_names[ARCA_DIFF_VERDICT_COUNT] = {
	"identical", "same values", "converted", "requantized", "changed", "reshaped", "added",
	"removed",
};

const char *arca_diff_verdict_name(arca_diff_verdict v)
{
	return (unsigned)v < ARCA_DIFF_VERDICT_COUNT ? verdict_names[v] : "?";
}

double arca_diff_bound(int type)
{
	switch (type) {
	case ARCA_GGML_F32: return 0;
	case ARCA_GGML_F16: return 1e-3;
	case ARCA_GGML_BF16: return 4e-3;
	case ARCA_GGML_Q8_0: case ARCA_GGML_Q8_1: case ARCA_GGML_Q8_K: return 1e-2;
	case ARCA_GGML_Q6_K: return 3e-2;
	case ARCA_GGML_Q5_0: case ARCA_GGML_Q5_1: case ARCA_GGML_Q5_K: return 6e-2;
	case ARCA_GGML_Q4_0: case ARCA_GGML_Q4_1: case ARCA_GGML_Q4_K: case ARCA_GGML_IQ4_NL:
	case ARCA_GGML_IQ4_XS: return 0.12;
	case ARCA_GGML_Q3_K: return 0.25;
	case ARCA_GGML_Q2_K: return 0.45;
	default: return -1;
	}
}

static int is_float_type(int type)
{
	return type == ARCA_GGML_F32 || type == ARCA_GGML_F16 || type == ARCA_GGML_BF16;
}

/* ------------------------------------------------------------------ sums */

/* LANES independent float64 accumulators: a single one is a chain of dependent adds (four
 * cycles each), slower than reading the bytes; lanes let the compiler vectorize. The lane
 * order is fixed, so results do not depend on threads. */
#define LANES 8

static double sum_squares(const float *x, uint64_t n)
{
	return arca_convert__dot(x, x, (size_t)n);
}

/* out: Σxy, Σx², Σy², Σ(x−y)²; *max_out: max |x−y|. */
static void row_sums(const float *x, const float *y, uint64_t n, double out[4],
	double *max_out)
{
	double xy[LANES] = { 0 }, xx[LANES] = { 0 }, yy[LANES] = { 0 }, dd[LANES] = { 0 };
	double mx[LANES] = { 0 };
	uint64_t i = 0;
	for (; i + LANES <= n; i += LANES) {
		for (int l = 0; l < LANES; l++) {
			double u = x[i + l], w = y[i + l], d = u - w;
			xy[l] += u * w;
			xx[l] += u * u;
			yy[l] += w * w;
			dd[l] += d * d;
			mx[l] = fmax(mx[l], fabs(d));
		}
	}
	double s[4] = { 0, 0, 0, 0 }, m = 0;
	for (; i < n; i++) {
		double u = x[i], w = y[i], d = u - w;
		s[0] += u * w;
		s[1] += u * u;
		s[2] += w * w;
		s[3] += d * d;
		m = fmax(m, fabs(d));
	}
	for (int l = 0; l < LANES; l++) {
		s[0] += xy[l];
		s[1] += xx[l];
		s[2] += yy[l];
		s[3] += dd[l];
		m = fmax(m, mx[l]);
	}
	memcpy(out, s, sizeof(s));
	*max_out = m;
}

/* ------------------------------------------------------------------ work */

typedef struct {
	const arca_tview_tensor *a, *b;
	arca_diff_tensor *out;
	uint64_t rows;          /* rows compared */
	int byte_cmp;           /* same dtype, raw bytes on both sides */
	double bound;
	/* one side quantized, the other float: the float side is quantized again with the
	 * other's type, to measure that type's own error and to see if the bytes come out the
	 * same (proof of "quantized from this") */
	int requant_type;       /* ggml type, or -1 */
	int requant_side;       /* 0: quantize A's rows (B is the quantized one); 1: B's */
	int requant_bytes;      /* the quantized side's rows are stored in HF order */
} pair;

typedef struct {
	size_t pair;
	uint64_t r0, n;
	/* results */
	double dot, na, nb, nd, max_abs;
	double own2;            /* Σ(f − q(f))² of the requantized float side */
	uint64_t n_changed;
	int bytes_equal;
	int requant_equal;      /* q(f) has the quantized side's bytes */
} chunk;

typedef struct {
	const arca_tview *va, *vb;
	pair *pairs;
	chunk *chunks;
	size_t n_chunks;
	atomic_size_t next;
	atomic_uint_fast64_t done_bytes;
	atomic_int stop;
	uint64_t total_bytes;
	const arca_diff_opts *opts;
	pthread_mutex_t lock;
	arca_err err;
	arca_error_saved saved;
} job;

typedef struct {
	float *fa, *fb, *sa, *sb, *fq;
	uint64_t cap_a, cap_b, cap_sa, cap_sb, cap_fq;
	unsigned char *q;
	uint64_t cap_q;
} buffers;

static int grow(float **p, uint64_t *cap, uint64_t n)
{
	if (n <= *cap)
		return 0;
	float *q = realloc(*p, n * sizeof(float));
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Decodes rows of one side into dst (grown to fit) with scratch. */
static arca_err decode(const arca_tview *v, const arca_tview_tensor *t, const chunk *c,
	float **dst, uint64_t *cap, float **scratch, uint64_t *cap_scratch)
{
	if (grow(dst, cap, c->n * t->row_len) < 0 ||
	    grow(scratch, cap_scratch, arca_convert__tview_scratch(v, t) + 1) < 0)
		return arca_error_set(ARCA_ENOMEM, "diff %s: out of memory", t->name);
	arca_err err = arca_convert__tview_rows(v, t, c->r0, c->n, *dst, *scratch);
	return err < 0 ? arca_error_prefix(err, "%s", arca_convert__tview_what(v)) : err;
}

/* The float side's rows quantized with the other side's type: Σ(f − q(f))² and whether
 * q(f) is byte for byte what the quantized side stores. */
static arca_err requantize(const job *j, const pair *p, chunk *c, buffers *buf)
{
	const arca_tview_tensor *ft = p->requant_side ? p->b : p->a;
	const arca_tview_tensor *qt = p->requant_side ? p->a : p->b;
	const float *f = p->requant_side ? buf->fb : buf->fa;
	uint64_t len = ft->row_len, n = c->n * len;
	uint64_t row = arca_ggml_row_size(p->requant_type, len);
	if (n * 4 + 1 > buf->cap_q) {
		unsigned char *grown = realloc(buf->q, n * 4 + 1);
		if (!grown)
			return arca_error_set(ARCA_ENOMEM, "diff %s: out of memory", ft->name);
		buf->q = grown;
		buf->cap_q = n * 4 + 1;
	}
	if (grow(&buf->fq, &buf->cap_fq, n) < 0)
		return arca_error_set(ARCA_ENOMEM, "diff %s: out of memory", ft->name);
	arca_err err = arca_quantize_rows(p->requant_type, f, buf->q, (size_t)c->n, (size_t)len);
	if (err == ARCA_OK)
		err = arca_dequantize(p->requant_type, buf->q, buf->fq, (size_t)n);
	if (err < 0)
		return arca_error_prefix(err, "%s: quantizing again", ft->name);
	c->requant_equal = p->requant_bytes;
	const arca_tview *qv = p->requant_side ? j->va : j->vb;
	for (uint64_t r = 0; r < c->n && c->requant_equal; r++) {
		uint64_t stored = arca_convert__tview_stored_row(qv, qt, c->r0 + r);
		c->requant_equal = !memcmp(buf->q + r * row, qt->raw + stored * row, (size_t)row);
	}
	double s[4], m;
	row_sums(f, buf->fq, n, s, &m);
	c->own2 = s[3];
	return ARCA_OK;
}

/* One chunk: bytes first; equal bytes need only ‖a‖² (for the global cosine), else both
 * sides are decoded and compared row by row. */
static arca_err compare_chunk(job *j, chunk *c, buffers *buf)
{
	const pair *p = &j->pairs[c->pair];
	const arca_tview_tensor *a = p->a, *b = p->b;
	uint64_t len = a->row_len, n = c->n * len;
	if (p->byte_cmp) {
		uint64_t row_bytes = a->nbytes / a->n_rows;
		c->bytes_equal = !memcmp(a->raw + c->r0 * row_bytes, b->raw + c->r0 * row_bytes,
			(size_t)(c->n * row_bytes));
	}
	arca_err err = decode(j->va, a, c, &buf->fa, &buf->cap_a, &buf->sa, &buf->cap_sa);
	if (err < 0)
		return err;
	if (c->bytes_equal) {
		c->na = c->nb = c->dot = sum_squares(buf->fa, n);
		return ARCA_OK;
	}
	if ((err = decode(j->vb, b, c, &buf->fb, &buf->cap_b, &buf->sb, &buf->cap_sb)) < 0)
		return err;
	const float *fb = buf->fb;
	const float *fa = buf->fa;
	double dot = 0, na = 0, nb = 0, nd = 0, max_abs = 0;
	uint64_t changed = 0;
	for (uint64_t r = 0; r < c->n; r++) {
		const float *x = fa + r * len, *y = fb + r * len;
		double s[4], row_max;
		row_sums(x, y, len, s, &row_max);
		max_abs = fmax(max_abs, row_max);
		double tol = p->bound * sqrt(s[1] / (double)len);
		for (uint64_t i = 0; i < len; i++)
			changed += fabs((double)x[i] - (double)y[i]) > tol;
		dot += s[0];
		na += s[1];
		nb += s[2];
		nd += s[3];
	}
	if (p->requant_type >= 0 && (err = requantize(j, p, c, buf)) < 0)
		return err;
	c->dot = dot;
	c->na = na;
	c->nb = nb;
	c->nd = nd;
	c->max_abs = max_abs;
	c->n_changed = changed;
	return ARCA_OK;
}

static void worker(void *ctx, int ith, int nth)
{
	(void)nth;
	job *j = ctx;
	buffers buf;
	memset(&buf, 0, sizeof(buf));
	for (;;) {
		if (atomic_load(&j->stop))
			break;
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->n_chunks)
			break;
		chunk *c = &j->chunks[i];
		arca_err err = compare_chunk(j, c, &buf);
		if (err < 0) {
			pthread_mutex_lock(&j->lock);
			if (j->err == ARCA_OK) {
				j->err = err;
				arca_error_save(&j->saved);
			}
			pthread_mutex_unlock(&j->lock);
			atomic_store(&j->stop, 1);
			break;
		}
		const pair *p = &j->pairs[c->pair];
		uint64_t bytes = (p->a->nbytes / p->a->n_rows + p->b->nbytes / p->b->n_rows) * c->n;
		uint64_t done = atomic_fetch_add(&j->done_bytes, bytes) + bytes;
		if (ith == 0 && j->opts->progress &&
		    j->opts->progress(done, j->total_bytes, j->opts->payload)) {
			pthread_mutex_lock(&j->lock);
			if (j->err == ARCA_OK) {
				j->err = arca_error_set(ARCA_EINTERRUPTED, "diff interrupted");
				arca_error_save(&j->saved);
			}
			pthread_mutex_unlock(&j->lock);
			atomic_store(&j->stop, 1);
			break;
		}
	}
	free(buf.fa);
	free(buf.fb);
	free(buf.sa);
	free(buf.sb);
	free(buf.fq);
	free(buf.q);
}

/* ------------------------------------------------------------------ pairing */

static int layer_of(const char *name)
{
	const char *p = strstr(name, "layers.");
	if (!p || (p != name && p[-1] != '.'))
		return -1;
	p += 7;
	if (*p < '0' || *p > '9')
		return -1;
	return (int)strtol(p, NULL, 10);
}

static void fill_side(arca_diff_tensor *d, const arca_tview_tensor *t, int side_b)
{
	snprintf(side_b ? d->dtype_b : d->dtype_a, sizeof(d->dtype_a), "%s", t->dtype);
	if (side_b) {
		d->n_dims_b = t->n_dims;
		memcpy(d->shape_b, t->shape, sizeof(d->shape_b));
		d->bytes_b = t->nbytes;
	} else {
		d->n_dims_a = t->n_dims;
		memcpy(d->shape_a, t->shape, sizeof(d->shape_a));
		d->bytes_a = t->nbytes;
	}
}

static int same_shape(const arca_tview_tensor *a, const arca_tview_tensor *b)
{
	if (a->n_dims != b->n_dims)
		return 0;
	for (uint32_t d = 0; d < a->n_dims; d++)
		if (a->shape[d] != b->shape[d])
			return 0;
	return 1;
}

/* Same dims but the first: the shared leading rows can be compared. */
static int rows_compatible(const arca_tview_tensor *a, const arca_tview_tensor *b)
{
	if (a->n_dims != b->n_dims || a->n_dims < 2)
		return 0;
	for (uint32_t d = 1; d < a->n_dims; d++)
		if (a->shape[d] != b->shape[d])
			return 0;
	return 1;
}

static double pair_bound(const arca_tview_tensor *a, const arca_tview_tensor *b)
{
	if (!strcmp(a->dtype, b->dtype))
		return 0;
	double ba = a->type >= 0 ? arca_diff_bound(a->type) : 0.07; /* FP8 E4M3: 3-bit mantissa */
	double bb = b->type >= 0 ? arca_diff_bound(b->type) : 0.07;
	return fmax(fmax(ba, bb), 0);
}

/* Adds a pair's chunks [c0, c1) up and gives it a verdict. */
static void finish_pair(const pair *p, const chunk *chunks, size_t c0, size_t c1,
	int reshaped)
{
	arca_diff_tensor *d = p->out;
	int all_bytes = p->byte_cmp, all_requant = p->requant_bytes && c1 > c0;
	double own2 = 0;
	uint64_t changed = 0;
	for (size_t i = c0; i < c1; i++) {
		const chunk *c = &chunks[i];
		d->dot += c->dot;
		d->norm2_a += c->na;
		d->norm2_b += c->nb;
		d->diff2 += c->nd;
		d->max_abs = fmax(d->max_abs, c->max_abs);
		changed += c->n_changed;
		all_bytes &= c->bytes_equal;
		all_requant &= c->requant_equal;
		own2 += c->own2;
	}
	d->n_compared = p->rows * p->a->row_len;
	d->bound = p->bound;
	double den = sqrt(d->norm2_a) * sqrt(d->norm2_b);
	d->cosine = den > 0 ? d->dot / den : (d->norm2_a == d->norm2_b ? 1 : 0);
	d->rel_l2 = d->norm2_a > 0 ? sqrt(d->diff2) / sqrt(d->norm2_a) : (d->diff2 > 0 ? 1 : 0);
	d->frac_changed = d->n_compared ? (double)changed / (double)d->n_compared : 0;
	int equal = all_bytes || d->diff2 == 0;
	if (p->requant_type >= 0) {
		/* the type's own error on these very weights, with room for another quantizer's
		 * rounding choices (imatrix, other tools) */
		double fnorm2 = p->requant_side ? d->norm2_b : d->norm2_a;
		d->own_rel_l2 = fnorm2 > 0 ? sqrt(own2) / sqrt(fnorm2) : 0;
		d->bound = fmax(OWN_ERROR_ROOM * d->own_rel_l2, 1e-6);
		d->reproduced = all_requant;
	}
	if (reshaped) {
		d->verdict = ARCA_DIFF_RESHAPED;
		d->shared_same = equal || (d->bound > 0 && d->rel_l2 <= d->bound);
		return;
	}
	if (all_bytes)
		d->verdict = ARCA_DIFF_IDENTICAL;
	else if (equal)
		d->verdict = ARCA_DIFF_SAME_VALUES;
	else if (d->reproduced || (d->bound > 0 && d->rel_l2 <= d->bound))
		d->verdict = is_float_type(p->a->type) && is_float_type(p->b->type) ?
			ARCA_DIFF_CONVERTED : ARCA_DIFF_REQUANTIZED;
	else
		d->verdict = ARCA_DIFF_CHANGED;
}

static int layer_order(const void *x, const void *y)
{
	int a = ((const arca_diff_layer *)x)->layer, b = ((const arca_diff_layer *)y)->layer;
	return (a > b) - (a < b);
}

static arca_err summarize(arca_diff_result *r)
{
	double dot = 0, na = 0, nb = 0;
	for (size_t i = 0; i < r->n_tensors; i++) {
		const arca_diff_tensor *d = &r->tensors[i];
		r->count[d->verdict]++;
		r->bytes[d->verdict] += d->verdict == ARCA_DIFF_ADDED ? d->bytes_b : d->bytes_a;
		/* matrices only: norms start at 1 in every model and would make any two look
		 * related */
		if (d->verdict <= ARCA_DIFF_CHANGED && d->n_dims_a >= 2) {
			dot += d->dot;
			na += d->norm2_a;
			nb += d->norm2_b;
			r->global_elements += d->n_compared;
		}
		if (d->layer < 0)
			continue;
		arca_diff_layer *l = NULL;
		for (size_t k = 0; k < r->n_layers && !l; k++)
			if (r->layers[k].layer == d->layer)
				l = &r->layers[k];
		if (!l) {
			arca_diff_layer *grown = realloc(r->layers, (r->n_layers + 1) * sizeof(*grown));
			if (!grown)
				return arca_error_set(ARCA_ENOMEM, "diff: out of memory");
			r->layers = grown;
			l = &grown[r->n_layers++];
			memset(l, 0, sizeof(*l));
			l->layer = d->layer;
			l->min_cosine = 1;
		}
		l->n_tensors++;
		if (d->verdict >= ARCA_DIFF_CHANGED)
			l->n_changed++;
		if (d->n_compared && d->cosine < l->min_cosine)
			l->min_cosine = d->cosine;
	}
	qsort(r->layers, r->n_layers, sizeof(*r->layers), layer_order);
	double den = sqrt(na) * sqrt(nb);
	r->global_cosine = den > 0 ? dot / den : 0;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ entry point */

arca_err arca_diff_models(arca_diff_result *out, arca_store *store, const char *a,
	const char *b, const arca_diff_opts *opts)
{
	memset(out, 0, sizeof(*out));
	arca_diff_opts defaults = ARCA_DIFF_OPTS_INIT;
	if (!opts)
		opts = &defaults;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	arca_tview *va = NULL, *vb = NULL;
	pair *pairs = NULL;
	chunk *chunks = NULL;
	arca_pool *pool = NULL;
	size_t n_pairs = 0, n_chunks = 0;
	arca_err err = arca_convert__tview_open(&va, store, a);
	if (err < 0)
		goto done;
	if ((err = arca_convert__tview_open(&vb, store, b)) < 0)
		goto done;
	snprintf(out->what_a, sizeof(out->what_a), "%s", arca_convert__tview_what(va));
	snprintf(out->what_b, sizeof(out->what_b), "%s", arca_convert__tview_what(vb));
	snprintf(out->format_a, sizeof(out->format_a), "%s", arca_convert__tview_format(va));
	snprintf(out->format_b, sizeof(out->format_b), "%s", arca_convert__tview_format(vb));
	size_t na = arca_convert__tview_count(va), nb = arca_convert__tview_count(vb);
	out->tensors = calloc(na + nb + 1, sizeof(*out->tensors));
	pairs = calloc(na + nb + 1, sizeof(*pairs));
	if (!out->tensors || !pairs) {
		err = arca_error_set(ARCA_ENOMEM, "diff: out of memory");
		goto done;
	}
	/* merge the two sorted name lists */
	size_t i = 0, k = 0;
	while (i < na || k < nb) {
		const arca_tview_tensor *ta = i < na ? arca_convert__tview_at(va, i) : NULL;
		const arca_tview_tensor *tb = k < nb ? arca_convert__tview_at(vb, k) : NULL;
		int c = !ta ? 1 : !tb ? -1 : strcmp(ta->name, tb->name);
		arca_diff_tensor *d = &out->tensors[out->n_tensors++];
		snprintf(d->name, sizeof(d->name), "%s", c <= 0 ? ta->name : tb->name);
		d->layer = layer_of(d->name);
		if (c < 0) {
			fill_side(d, ta, 0);
			d->verdict = ARCA_DIFF_REMOVED;
			i++;
			continue;
		}
		if (c > 0) {
			fill_side(d, tb, 1);
			d->verdict = ARCA_DIFF_ADDED;
			k++;
			continue;
		}
		i++;
		k++;
		fill_side(d, ta, 0);
		fill_side(d, tb, 1);
		int same = same_shape(ta, tb);
		if (!same) {
			d->verdict = ARCA_DIFF_RESHAPED;
			d->new_rows = (int64_t)tb->n_rows - (int64_t)ta->n_rows;
			if (!rows_compatible(ta, tb))
				continue;
		}
		pair *p = &pairs[n_pairs++];
		p->a = ta;
		p->b = tb;
		p->out = d;
		p->rows = ta->n_rows < tb->n_rows ? ta->n_rows : tb->n_rows;
		/* permuted rows compare as stored when both sides permute them alike: the same
		 * rows, another order, so all chunks equal iff all bytes equal */
		p->byte_cmp = ta->raw && tb->raw && !strcmp(ta->dtype, tb->dtype) && ta->n_rows &&
			tb->n_rows && ta->nbytes / ta->n_rows == tb->nbytes / tb->n_rows &&
			ta->layout == tb->layout && (!ta->layout || same);
		p->bound = pair_bound(ta, tb);
		p->requant_type = -1;
		int qa = !is_float_type(ta->type), qb = !is_float_type(tb->type);
		const arca_ggml_type_info *ia = arca_ggml_type_info_get(ta->type);
		const arca_ggml_type_info *ib = arca_ggml_type_info_get(tb->type);
		if (ta->type >= 0 && tb->type >= 0 && qa != qb && (qa ? ia : ib) &&
		    (qa ? ia : ib)->quantize && !(ta->row_len % (qa ? ia : ib)->block_size)) {
			p->requant_type = qa ? ta->type : tb->type;
			p->requant_side = qa;
			const arca_tview_tensor *qt = qa ? ta : tb;
			/* permuted rows are found through tview_stored_row */
			p->requant_bytes = qt->raw && same && !(qt->layout && qt->n_dims == 1);
		}
	}
	/* chunks of rows, in pair order */
	uint64_t total = 0;
	for (size_t q = 0; q < n_pairs; q++) {
		uint64_t per = CHUNK_ELEMS / (pairs[q].a->row_len ? pairs[q].a->row_len : 1);
		n_chunks += per ? (pairs[q].rows + per - 1) / per : pairs[q].rows;
	}
	if (!(chunks = calloc(n_chunks + 1, sizeof(*chunks)))) {
		err = arca_error_set(ARCA_ENOMEM, "diff: out of memory");
		goto done;
	}
	size_t *first = calloc(n_pairs + 1, sizeof(*first));
	if (!first) {
		err = arca_error_set(ARCA_ENOMEM, "diff: out of memory");
		goto done;
	}
	size_t nc = 0;
	for (size_t q = 0; q < n_pairs; q++) {
		const pair *p = &pairs[q];
		uint64_t per = CHUNK_ELEMS / (p->a->row_len ? p->a->row_len : 1);
		if (!per)
			per = 1;
		first[q] = nc;
		for (uint64_t r = 0; r < p->rows; r += per) {
			chunks[nc].pair = q;
			chunks[nc].r0 = r;
			chunks[nc].n = p->rows - r < per ? p->rows - r : per;
			nc++;
		}
		if (p->rows) /* then both sides have rows */
			total += (p->a->nbytes / p->a->n_rows + p->b->nbytes / p->b->n_rows) * p->rows;
	}
	first[n_pairs] = nc;
	if ((err = arca_pool_new(&pool, opts->threads)) < 0) {
		free(first);
		goto done;
	}
	out->threads = arca_pool_threads(pool);
	job j;
	memset(&j, 0, sizeof(j));
	j.va = va;
	j.vb = vb;
	j.pairs = pairs;
	j.chunks = chunks;
	j.n_chunks = nc;
	j.total_bytes = total;
	j.opts = opts;
	atomic_init(&j.next, 0);
	atomic_init(&j.done_bytes, 0);
	atomic_init(&j.stop, 0);
	pthread_mutex_init(&j.lock, NULL);
	arca_pool_run(pool, worker, &j);
	pthread_mutex_destroy(&j.lock);
	if (j.err < 0) {
		err = arca_error_restore(&j.saved);
		free(first);
		goto done;
	}
	for (size_t q = 0; q < n_pairs; q++)
		finish_pair(&pairs[q], chunks, first[q], first[q + 1],
			pairs[q].out->verdict == ARCA_DIFF_RESHAPED);
	free(first);
	out->bytes_read = total;
	err = summarize(out);
done:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	arca_pool_free(pool);
	free(chunks);
	free(pairs);
	arca_convert__tview_free(va);
	arca_convert__tview_free(vb);
	return err;
}

void arca_diff_result_dispose(arca_diff_result *r)
{
	free(r->tensors);
	free(r->layers);
	memset(r, 0, sizeof(*r));
}
