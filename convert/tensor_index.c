/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tensor_index.c — computing the tensor index of one safetensors or GGUF image:
 * every tensor's byte range and sha256, its values decoded to float32 a chunk at a time
 * (the quant table's dequantizers; no decoder of its own), statistics and a count-sketch,
 * on all threads of a pool with one chunk buffer each. Which blobs to index and recording
 * the rows: convert/tensor_index_store.c.
 *
 * Per element the work is O(1): decode, five running sums, one sketch update whose bucket
 * and sign come from one byte of a 64-bit hash of the element's group of eight.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "arca/quant.h"
#include "arca/safetensors.h"
#include "arca/tensor_index.h"
#include "common/pool.h"
#include "convert/tensor_index_internal.h"

#define CHUNK_ELEMENTS (64u * 1024) /* a multiple of every block size (32, 256) */
#define SKETCH_SEED 0x61726361u      /* "arca": part of the index version */

/* One tensor to index: where its bytes are, how to decode them, and its results. */
typedef struct {
	arca_tensor_record *rec;       /* name, dtype, shape, offset, nbytes, n_elements set */
	const unsigned char *bytes;
	int type;                      /* ggml type to dequantize, ARCA_GGML_NONE: hash only */
	arca_err err;
	char message[256];
} task;

typedef struct {
	uint64_t nbytes;
	size_t task;
} order_entry;

typedef struct {
	task *tasks;
	size_t n_tasks;
	order_entry *order;            /* tasks by size, largest first */
	atomic_size_t next;
	atomic_int stop;
	atomic_uint_fast64_t done;     /* bytes hashed so far */
	arca_index_progress *progress; /* NULL: none */
} job;

/* ------------------------------------------------------------------ sketch */

static inline uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

typedef struct {
	double sum, sumsq, min, max;
	uint64_t n_finite, n_zero;
	double sketch[ARCA_TENSOR_SKETCH_DIM];
} accum;

static inline uint64_t group_hash(uint64_t i)
{
	return mix64((i >> 3) ^ ((uint64_t)SKETCH_SEED << 32));
}

/* One element, any value: the slow path for chunks holding NaN or infinity, and for the
 * elements before and after the whole groups of eight. */
static void accumulate_one(accum *a, float v, uint64_t i)
{
	if (!isfinite(v))
		return;
	unsigned byte = (unsigned)(group_hash(i) >> (8 * (i & 7))) & 0xff;
	double d = v;
	a->sketch[byte & 127] += (byte & 128) ? -d : d;
	a->sum += d;
	a->sumsq += d * d;
	if (d < a->min)
		a->min = d;
	if (d > a->max)
		a->max = d;
	a->n_zero += v == 0.0f;
	a->n_finite++;
}

/* Adds values x[0..n) that are elements first, first + 1, ... of the tensor. A chunk of
 * finite values (the usual case) takes two branch-free loops: statistics with four partial
 * sums, then the sketch, one hash per group of eight elements. */
static void accumulate(accum *a, const float *x, size_t n, uint64_t first)
{
	_Static_assert(ARCA_TENSOR_SKETCH_DIM == 128, "bucket = 7 bits of a hash byte");
	int finite = 1;
	for (size_t k = 0; k < n; k++)
		finite &= fabsf(x[k]) <= 3.4028234663852886e38f;
	if (!finite) {
		for (size_t k = 0; k < n; k++)
			accumulate_one(a, x[k], first + k);
		return;
	}
	double s[4] = { 0 }, q[4] = { 0 };
	float mn = INFINITY, mx = -INFINITY;
	uint64_t zeros = 0;
	size_t k = 0;
	for (; k + 4 <= n; k += 4)
		for (int l = 0; l < 4; l++) {
			float v = x[k + (size_t)l];
			s[l] += v;
			q[l] += (double)v * v;
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
			zeros += v == 0.0f;
		}
	for (; k < n; k++) {
		float v = x[k];
		s[0] += v;
		q[0] += (double)v * v;
		mn = v < mn ? v : mn;
		mx = v > mx ? v : mx;
		zeros += v == 0.0f;
	}
	a->sum += (s[0] + s[1]) + (s[2] + s[3]);
	a->sumsq += (q[0] + q[1]) + (q[2] + q[3]);
	if (n) {
		a->min = mn < a->min ? mn : a->min;
		a->max = mx > a->max ? mx : a->max;
	}
	a->n_zero += zeros;
	a->n_finite += n;

	/* the sketch: elements up to a group boundary one by one, whole groups, the rest */
	k = 0;
	for (; k < n && ((first + k) & 7); k++) {
		uint64_t i = first + k;
		unsigned byte = (unsigned)(group_hash(i) >> (8 * (i & 7))) & 0xff;
		a->sketch[byte & 127] += (byte & 128) ? -(double)x[k] : (double)x[k];
	}
	for (; k + 8 <= n; k += 8) {
		uint64_t h = group_hash(first + k);
		for (int e = 0; e < 8; e++, h >>= 8) {
			unsigned byte = (unsigned)h & 0xff;
			double d = x[k + (size_t)e];
			a->sketch[byte & 127] += (byte & 128) ? -d : d;
		}
	}
	for (; k < n; k++) {
		uint64_t i = first + k;
		unsigned byte = (unsigned)(group_hash(i) >> (8 * (i & 7))) & 0xff;
		a->sketch[byte & 127] += (byte & 128) ? -(double)x[k] : (double)x[k];
	}
}

static void finish_stats(arca_tensor_record *r, const accum *a)
{
	r->has_values = 1;
	double n = (double)a->n_finite;
	r->mean = n ? a->sum / n : 0;
	r->rms = n ? sqrt(a->sumsq / n) : 0;
	double var = n ? a->sumsq / n - r->mean * r->mean : 0;
	r->std = var > 0 ? sqrt(var) : 0;
	r->l2 = sqrt(a->sumsq);
	r->min = a->n_finite ? a->min : 0;
	r->max = a->n_finite ? a->max : 0;
	r->zero_frac = r->n_elements ? (double)a->n_zero / (double)r->n_elements : 0;
	for (size_t i = 0; i < ARCA_TENSOR_SKETCH_DIM; i++)
		r->sketch[i] = (float)a->sketch[i];
}

double arca_tensor_sketch_cosine(const float *a, const float *b)
{
	double ab = 0, aa = 0, bb = 0;
	for (size_t i = 0; i < ARCA_TENSOR_SKETCH_DIM; i++) {
		ab += (double)a[i] * b[i];
		aa += (double)a[i] * a[i];
		bb += (double)b[i] * b[i];
	}
	return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

/* ------------------------------------------------------------------ one tensor */

static void fail_task(task *t, arca_err err, const char *why)
{
	t->err = err;
	snprintf(t->message, sizeof(t->message), "tensor %s: %s", t->rec->name, why);
}

/* Hashes the tensor's bytes and, when its type decodes, accumulates its values, a chunk at
 * a time so the bytes hashed are still in cache when decoded. */
static void index_task(job *j, task *t, float *buf, int report)
{
	arca_tensor_record *r = t->rec;
	arca_digest *d;
	if (arca_digest_new(&d, ARCA_DIGEST_SHA256) < 0) {
		fail_task(t, arca_error_last_code(), arca_error_last());
		return;
	}
	const arca_ggml_type_info *info = t->type == ARCA_GGML_NONE ? NULL :
		arca_ggml_type_info_get(t->type);
	uint64_t block = info ? info->block_size : 1;
	uint64_t step = info ? CHUNK_ELEMENTS / block * block : 0;
	uint64_t step_bytes = info ? arca_ggml_row_size(t->type, step) : 4u << 20;
	accum *a = info ? calloc(1, sizeof(*a)) : NULL;
	if (info && !a) {
		fail_task(t, ARCA_ENOMEM, "out of memory");
		arca_digest_free(d);
		return;
	}
	if (a) {
		a->min = INFINITY;
		a->max = -INFINITY;
	}
	uint64_t elem = 0;
	for (uint64_t off = 0; off < r->nbytes; off += step_bytes) {
		if (atomic_load_explicit(&j->stop, memory_order_relaxed)) {
			fail_task(t, ARCA_EINTERRUPTED, "stopped");
			break;
		}
		uint64_t len = r->nbytes - off < step_bytes ? r->nbytes - off : step_bytes;
		if (arca_digest_update(d, t->bytes + off, (size_t)len) < 0) {
			fail_task(t, arca_error_last_code(), arca_error_last());
			break;
		}
		if (a) {
			uint64_t n = len == step_bytes ? step : r->n_elements - elem;
			if (arca_dequantize(t->type, t->bytes + off, buf, (size_t)n) < 0) {
				fail_task(t, arca_error_last_code(), arca_error_last());
				break;
			}
			accumulate(a, buf, (size_t)n, elem);
			elem += n;
		}
		uint64_t done = atomic_fetch_add(&j->done, len) + len;
		if (report && j->progress && j->progress->cb(j->progress->item,
			j->progress->base + done, j->progress->total, j->progress->payload))
			atomic_store(&j->stop, 1);
	}
	if (t->err == ARCA_OK) {
		unsigned char raw[ARCA_SHA256_LEN];
		if (arca_digest_final(d, raw) < 0)
			fail_task(t, arca_error_last_code(), arca_error_last());
		else
			arca_hex_encode(r->sha256, raw, sizeof(raw));
		if (a)
			finish_stats(r, a);
	}
	free(a);
	arca_digest_free(d);
}

static void worker(void *ctx, int ith, int nth)
{
	(void)nth;
	job *j = ctx;
	float *buf = malloc(CHUNK_ELEMENTS * sizeof(float));
	for (;;) {
		size_t k = atomic_fetch_add(&j->next, 1);
		if (k >= j->n_tasks)
			break;
		task *t = &j->tasks[j->order[k].task];
		if (!buf)
			fail_task(t, ARCA_ENOMEM, "out of memory");
		else
			index_task(j, t, buf, ith == 0);
		if (t->err < 0)
			atomic_store(&j->stop, 1);
	}
	free(buf);
}

/* ------------------------------------------------------------------ describing tensors */

static char *shape_json(const uint64_t *dims, uint32_t n)
{
	char *s = malloc(24 * (size_t)n + 3);
	if (!s)
		return NULL;
	size_t len = 0;
	s[len++] = '[';
	for (uint32_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s%llu", i ? "," : "", (unsigned long long)dims[i]);
	s[len++] = ']';
	s[len] = '\0';
	return s;
}

/* The ggml type that decodes a safetensors dtype, or ARCA_GGML_NONE. */
static int st_decode_type(arca_st_dtype dtype)
{
	switch (dtype) {
	case ARCA_ST_F32: return ARCA_GGML_F32;
	case ARCA_ST_F16: return ARCA_GGML_F16;
	case ARCA_ST_BF16: return ARCA_GGML_BF16;
	default: return ARCA_GGML_NONE;
	}
}

static arca_err describe_safetensors(arca_tensor_record *rows, task *tasks,
	const arca_safetensors *st, const unsigned char *data)
{
	uint64_t base = 8 + arca_safetensors_header_size(st);
	for (size_t i = 0; i < arca_safetensors_count(st); i++) {
		const arca_st_tensor *t = arca_safetensors_tensor(st, i);
		arca_tensor_record *r = &rows[i];
		r->name = strdup(t->name);
		r->shape_json = shape_json(t->shape, t->n_dims);
		if (!r->name || !r->shape_json)
			return arca_error_set(ARCA_ENOMEM, "index: out of memory");
		snprintf(r->dtype, sizeof(r->dtype), "%s", arca_st_dtype_name(t->dtype));
		r->offset = base + t->begin;
		r->nbytes = t->end - t->begin;
		r->n_elements = t->n_elements;
		tasks[i].rec = r;
		tasks[i].bytes = data + r->offset;
		tasks[i].type = st_decode_type(t->dtype);
	}
	return ARCA_OK;
}

static arca_err describe_gguf(arca_tensor_record *rows, task *tasks, const arca_gguf *g)
{
	uint64_t base = arca_gguf_data_offset(g);
	for (size_t i = 0; i < arca_gguf_tensor_count(g); i++) {
		const arca_gguf_tensor *t = arca_gguf_tensor_at(g, i);
		arca_tensor_record *r = &rows[i];
		r->name = strdup(t->name);
		r->shape_json = shape_json(t->ne, t->n_dims);
		if (!r->name || !r->shape_json)
			return arca_error_set(ARCA_ENOMEM, "index: out of memory");
		const arca_ggml_type_info *info = arca_ggml_type_info_get(t->type);
		if (info)
			snprintf(r->dtype, sizeof(r->dtype), "%s", info->name);
		else
			snprintf(r->dtype, sizeof(r->dtype), "type%d", t->type);
		r->offset = base + t->offset;
		r->nbytes = t->nbytes;
		r->n_elements = 1;
		for (uint32_t d = 0; d < t->n_dims; d++)
			r->n_elements *= t->ne[d];
		tasks[i].rec = r;
		tasks[i].bytes = arca_gguf_tensor_data(g, t);
		tasks[i].type = info && info->dequantize ? t->type : ARCA_GGML_NONE;
	}
	return ARCA_OK;
}

/* ------------------------------------------------------------------ one image */

static int by_size_desc(const void *a, const void *b)
{
	const order_entry *x = a, *y = b;
	if (x->nbytes != y->nbytes)
		return x->nbytes < y->nbytes ? 1 : -1;
	return x->task < y->task ? -1 : x->task > y->task;
}

arca_err arca_tensor_index__image(arca_tensor_record **out, size_t *n_out,
	const char **format_out, const void *data, size_t len, const char *what, arca_pool *pool,
	arca_index_progress *progress)
{
	*out = NULL;
	*n_out = 0;
	*format_out = NULL;
	arca_safetensors *st = NULL;
	arca_gguf *g = NULL;
	arca_tensor_record *rows = NULL;
	task *tasks = NULL;
	order_entry *order = NULL;
	size_t n = 0;
	arca_err err;
	int is_gguf = len >= 4 && !memcmp(data, "GGUF", 4);
	if (is_gguf)
		err = arca_gguf_open_buffer(&g, data, len, what);
	else
		err = arca_safetensors_open_buffer(&st, data, len, what);
	if (err < 0)
		return err;
	n = is_gguf ? arca_gguf_tensor_count(g) : arca_safetensors_count(st);
	rows = calloc(n ? n : 1, sizeof(*rows));
	tasks = calloc(n ? n : 1, sizeof(*tasks));
	order = calloc(n ? n : 1, sizeof(*order));
	if (!rows || !tasks || !order) {
		err = arca_error_set(ARCA_ENOMEM, "%s: out of memory for %zu tensors", what, n);
		goto cleanup;
	}
	err = is_gguf ? describe_gguf(rows, tasks, g) :
		describe_safetensors(rows, tasks, st, data);
	if (err < 0)
		goto cleanup;
	/* largest first, so one big tensor started last does not leave the others idle */
	for (size_t i = 0; i < n; i++)
		order[i] = (order_entry){ rows[i].nbytes, i };
	qsort(order, n, sizeof(*order), by_size_desc);
	job j = { .tasks = tasks, .n_tasks = n, .order = order, .progress = progress };
	atomic_init(&j.next, 0);
	atomic_init(&j.stop, 0);
	atomic_init(&j.done, 0);
	if (pool)
		arca_pool_run(pool, worker, &j);
	else
		worker(&j, 0, 1);
	/* an interruption is reported as such, not as the tensor it happened to stop */
	for (size_t i = 0; i < n && err == ARCA_OK; i++)
		if (tasks[i].err < 0 && tasks[i].err != ARCA_EINTERRUPTED)
			err = arca_error_set(tasks[i].err, "%s: %s", what, tasks[i].message);
	for (size_t i = 0; i < n && err == ARCA_OK; i++)
		if (tasks[i].err < 0)
			err = arca_error_set(ARCA_EINTERRUPTED, "%s: indexing stopped", what);
cleanup:
	free(order);
	free(tasks);
	arca_safetensors_free(st);
	arca_gguf_free(g);
	if (err < 0) {
		arca_tensor_records_free(rows, n);
		return err;
	}
	*out = rows;
	*n_out = n;
	*format_out = is_gguf ? "gguf" : "safetensors";
	return ARCA_OK;
}

arca_err arca_tensor_index_buffer(arca_tensor_record **out, size_t *n_out,
	const char **format_out, const void *data, size_t len, const char *what, int threads)
{
	arca_pool *pool = NULL;
	arca_err err = arca_pool_new(&pool, threads);
	if (err < 0)
		return err;
	err = arca_tensor_index__image(out, n_out, format_out, data, len, what, pool, NULL);
	arca_pool_free(pool);
	return err;
}
