/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/hash_jobs.c — the parallel hashing behind fsck and signature checks
 * (verify/hash_jobs.h): a pool of threads pulling jobs from an atomic counter.
 */
#include "verify/hash_jobs.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/pool.h"
#include "common/util.h"

typedef struct {
	arca_hash_job *jobs;
	size_t n;
	atomic_size_t next;
	atomic_uint_fast64_t bytes_done;
	uint64_t total;
	arca_hash_job_fn fn;
	void *ctx;
	arca_hash_jobs_progress_cb progress;
	void *payload;
	double last_report;    /* thread 0 only */
} job_pool;

typedef struct {
	job_pool *pool;
	uint64_t last;
	int reporter;          /* thread 0 reports progress for everyone */
} worker_progress;

static int on_progress(uint64_t done, void *payload)
{
	worker_progress *w = payload;
	job_pool *pool = w->pool;
	atomic_fetch_add(&pool->bytes_done, done - w->last);
	w->last = done;
	if (!w->reporter || !pool->progress)
		return 0;
	double t = arca_time_monotonic();
	if (t - pool->last_report >= 0.1) {
		pool->last_report = t;
		pool->progress(atomic_load(&pool->bytes_done), pool->total, pool->payload);
	}
	return 0;
}

static void worker(void *payload, int ith, int nth)
{
	(void)nth;
	job_pool *pool = payload;
	for (;;) {
		size_t i = atomic_fetch_add(&pool->next, 1);
		if (i >= pool->n)
			break;
		arca_hash_job *job = &pool->jobs[i];
		worker_progress wp = { pool, 0, ith == 0 };
		job->err = pool->fn(pool->ctx, job->item, on_progress, &wp);
		if (job->err < 0)
			job->message = strdup(arca_error_last());
	}
}

static int larger_first(const void *a, const void *b)
{
	const arca_hash_job *x = a, *y = b;
	return x->size < y->size ? 1 : x->size > y->size ? -1 : 0;
}

arca_err arca_hash_jobs_run(arca_hash_job *jobs, size_t n, int threads, arca_hash_job_fn fn,
	void *ctx, arca_hash_jobs_progress_cb progress, void *payload)
{
	qsort(jobs, n, sizeof(*jobs), larger_first);
	job_pool pool = { .jobs = jobs, .n = n, .fn = fn, .ctx = ctx, .progress = progress,
		.payload = payload };
	for (size_t i = 0; i < n; i++) {
		pool.total += jobs[i].size;
		jobs[i].err = ARCA_OK;
		jobs[i].message = NULL;
	}
	if (threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		threads = cpus > 0 ? (int)cpus : 1;
	}
	if ((size_t)threads > n)
		threads = n ? (int)n : 1;
	atomic_init(&pool.next, 0);
	atomic_init(&pool.bytes_done, 0);
	arca_pool *workers;
	arca_err err = arca_pool_new(&workers, threads);
	if (err < 0)
		return err;
	if (progress)
		progress(0, pool.total, payload);
	arca_pool_run(workers, worker, &pool);
	arca_pool_free(workers);
	if (progress)
		progress(pool.total, pool.total, payload);
	return ARCA_OK;
}

void arca_hash_jobs_dispose(arca_hash_job *jobs, size_t n)
{
	for (size_t i = 0; jobs && i < n; i++) {
		free(jobs[i].message);
		jobs[i].message = NULL;
	}
}
