/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quant/quant.c — the public entry points of arca/quant.h: argument checks (type, whole
 * blocks, sizes), the choice between the scalar reference kernels and the best SIMD ones,
 * and splitting rows over threads.
 *
 * Threads: the rows are split over a thread pool (common/pool.h), each thread one
 * contiguous run of whole rows, and every share is done before the call returns. Kernels
 * cannot fail once the arguments are checked, so workers have no error to hand back.
 */
#include <unistd.h>

#include "common/pool.h"
#include "quant/quant_internal.h"

/* ARCA_OK, or ARCA_EINVALID naming the type and the reason. */
static arca_err check(int type, uint64_t n_per_row, int writing, uint64_t *row_bytes)
{
	const arca_ggml_type_info *info = arca_ggml_type_info_get(type);
	const char *verb = writing ? "quantize to" : "dequantize";
	if (!info)
		return arca_error_set(ARCA_EINVALID, "%s ggml type %d: no such type", verb, type);
	if (!(writing ? info->quantize : info->dequantize))
		return arca_error_set(ARCA_EINVALID, "%s %s: arca cannot %s this type", verb,
			info->name, writing ? "write" : "read");
	if (n_per_row % info->block_size)
		return arca_error_set(ARCA_EINVALID,
			"%s %s: %llu elements are not a whole number of %u-element blocks", verb,
			info->name, (unsigned long long)n_per_row, info->block_size);
	*row_bytes = arca_ggml_row_size(type, n_per_row);
	if (n_per_row && !*row_bytes)
		return arca_error_set(ARCA_EINVALID, "%s %s: %llu elements is too many", verb,
			info->name, (unsigned long long)n_per_row);
	return ARCA_OK;
}

static arca_err check_rows(int type, size_t nrows, size_t n_per_row, uint64_t *row_bytes)
{
	arca_err err = check(type, n_per_row, 1, row_bytes);
	if (err < 0)
		return err;
	if (nrows && (n_per_row > SIZE_MAX / nrows || *row_bytes > SIZE_MAX / nrows))
		return arca_error_set(ARCA_EINVALID, "quantize to %s: %zu rows of %zu elements "
			"is too many", arca_ggml_type_info_get(type)->name, nrows, n_per_row);
	return ARCA_OK;
}

static arca_err quantize_with(const arca_quant__kernels *k, int type, const float *src,
	void *dst, size_t nrows, size_t n_per_row)
{
	uint64_t row_bytes;
	arca_err err = check_rows(type, nrows, n_per_row, &row_bytes);
	if (err < 0)
		return err;
	if (nrows && n_per_row)
		k->quantize[type](src, dst, nrows * n_per_row);
	return ARCA_OK;
}

arca_err arca_quantize_rows(int type, const float *src, void *dst, size_t nrows,
	size_t n_per_row)
{
	return quantize_with(arca_quant__kernels_best(), type, src, dst, nrows, n_per_row);
}

arca_err arca_quantize_rows_ref(int type, const float *src, void *dst, size_t nrows,
	size_t n_per_row)
{
	return quantize_with(arca_quant__kernels_for(ARCA_QUANT__SCALAR), type, src, dst, nrows,
		n_per_row);
}

/* ------------------------------------------------------------------ threads */

typedef struct {
	arca_quant__quantize_fn fn;
	const float *src;
	uint8_t *dst;
	size_t nrows, n_per_row;
	uint64_t row_bytes;
} rows_job;

/* Each thread's share: one contiguous run of whole rows. */
static void quantize_share(void *payload, int ith, int nth)
{
	const rows_job *job = payload;
	size_t lo, hi;
	arca_pool_split(job->nrows, 1, ith, nth, &lo, &hi);
	if (hi > lo)
		job->fn(job->src + lo * job->n_per_row, job->dst + lo * job->row_bytes,
			(hi - lo) * job->n_per_row);
}

arca_err arca_quantize_rows_pool(int type, const float *src, void *dst, size_t nrows,
	size_t n_per_row, arca_pool *pool)
{
	uint64_t row_bytes;
	arca_err err = check_rows(type, nrows, n_per_row, &row_bytes);
	if (err < 0 || !nrows || !n_per_row)
		return err;
	rows_job job = { arca_quant__kernels_best()->quantize[type], src, dst, nrows, n_per_row,
		row_bytes };
	if (!pool || nrows < 2 || arca_pool_threads(pool) < 2)
		job.fn(src, dst, nrows * n_per_row);
	else
		arca_pool_run(pool, quantize_share, &job);
	return ARCA_OK;
}

#define MAX_THREADS 256

arca_err arca_quantize_rows_mt(int type, const float *src, void *dst, size_t nrows,
	size_t n_per_row, int n_threads)
{
	uint64_t row_bytes;
	arca_err err = check_rows(type, nrows, n_per_row, &row_bytes);
	if (err < 0)
		return err;
	if (n_threads < 0)
		return arca_error_set(ARCA_EINVALID, "quantize to %s: %d threads",
			arca_ggml_type_info_get(type)->name, n_threads);
	if (n_threads == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n_threads = cpus > 0 ? (int)(cpus < MAX_THREADS ? cpus : MAX_THREADS) : 1;
	}
	if (n_threads > MAX_THREADS)
		n_threads = MAX_THREADS;
	if ((size_t)n_threads > nrows)
		n_threads = nrows ? (int)nrows : 1;
	arca_pool *pool = NULL;
	/* no pool (a thread that cannot start) means the calling thread does all the rows:
	 * the same bytes, only slower */
	if (n_threads > 1 && arca_pool_new(&pool, n_threads) < 0)
		arca_error_clear();
	err = arca_quantize_rows_pool(type, src, dst, nrows, n_per_row, pool);
	arca_pool_free(pool);
	return err;
}

/* ------------------------------------------------------------------ dequantize */

static arca_err dequantize_with(const arca_quant__kernels *k, int type, const void *src,
	float *dst, size_t n)
{
	uint64_t bytes;
	arca_err err = check(type, n, 0, &bytes);
	if (err < 0)
		return err;
	if (n)
		k->dequantize[type](src, dst, n);
	return ARCA_OK;
}

arca_err arca_dequantize(int type, const void *src, float *dst, size_t n)
{
	return dequantize_with(arca_quant__kernels_best(), type, src, dst, n);
}

arca_err arca_dequantize_ref(int type, const void *src, float *dst, size_t n)
{
	return dequantize_with(arca_quant__kernels_for(ARCA_QUANT__SCALAR), type, src, dst, n);
}
