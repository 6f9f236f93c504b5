/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/pool.c — see pool.h. A job is published by bumping a generation counter; workers
 * spin on it for a while (a decoded token is hundreds of short jobs) and then sleep on a
 * condition variable. The caller runs share 0 itself and waits for the others to count
 * themselves done.
 */
#include "common/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define SPIN_ROUNDS 20000

struct arca_pool {
	int n;
	pthread_t *threads;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	atomic_uint generation;  /* a new job when it changes */
	atomic_int pending;      /* workers still running the current job */
	atomic_int sleepers;
	atomic_int stop;
	arca_pool_fn fn;
	void *ctx;
};

typedef struct {
	arca_pool *pool;
	int index;
} worker_arg;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Waits until the generation differs from `seen`; returns the new one. */
static unsigned wait_for_job(arca_pool *p, unsigned seen)
{
	for (int i = 0; i < SPIN_ROUNDS; i++) {
		unsigned g = atomic_load_explicit(&p->generation, memory_order_acquire);
		if (g != seen || atomic_load(&p->stop))
			return g;
		cpu_relax();
	}
	pthread_mutex_lock(&p->mu);
	atomic_fetch_add(&p->sleepers, 1);
	unsigned g;
	while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop))
		pthread_cond_wait(&p->wake, &p->mu);
	atomic_fetch_sub(&p->sleepers, 1);
	pthread_mutex_unlock(&p->mu);
	return g;
}

static void *worker_main(void *arg)
{
	worker_arg *w = arg;
	arca_pool *p = w->pool;
	int index = w->index;
	free(w);
	unsigned seen = 0;
	for (;;) {
		seen = wait_for_job(p, seen);
		if (atomic_load(&p->stop))
			return NULL;
		p->fn(p->ctx, index, p->n);
		atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
	}
}

arca_err arca_pool_new(arca_pool **out, int n_threads)
{
	*out = NULL;
	if (n_threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n_threads = cpus > 0 ? (int)cpus : 1;
	}
	if (n_threads > 512)
		return arca_error_set(ARCA_EINVALID, "%d threads is too many", n_threads);
	arca_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return arca_error_set(ARCA_ENOMEM, "thread pool: out of memory");
	p->n = n_threads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->threads = calloc((size_t)n_threads, sizeof(pthread_t));
	if (!p->threads) {
		arca_pool_free(p);
		return arca_error_set(ARCA_ENOMEM, "thread pool: out of memory");
	}
	for (int i = 1; i < n_threads; i++) {
		worker_arg *w = malloc(sizeof(*w));
		if (!w || pthread_create(&p->threads[i], NULL, worker_main,
				(*w = (worker_arg){ p, i }, w)) != 0) {
			free(w);
			p->n = i; /* only these exist */
			arca_pool_free(p);
			return arca_error_set(ARCA_ENOMEM, "thread pool: cannot start thread %d", i);
		}
	}
	*out = p;
	return ARCA_OK;
}

void arca_pool_free(arca_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->stop, 1);
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
	for (int i = 1; i < p->n && p->threads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p);
}

int arca_pool_threads(const arca_pool *p)
{
	return p->n;
}

void arca_pool_run(arca_pool *p, arca_pool_fn fn, void *ctx)
{
	if (p->n == 1) {
		fn(ctx, 0, 1);
		return;
	}
	p->fn = fn;
	p->ctx = ctx;
	atomic_store(&p->pending, p->n - 1);
	atomic_fetch_add(&p->generation, 1); /* seq_cst: ordered before reading sleepers */
	if (atomic_load(&p->sleepers)) {
		pthread_mutex_lock(&p->mu);
		pthread_cond_broadcast(&p->wake);
		pthread_mutex_unlock(&p->mu);
	}
	fn(ctx, 0, p->n);
	for (unsigned spins = 0; atomic_load_explicit(&p->pending, memory_order_acquire); spins++) {
		if (spins < SPIN_ROUNDS)
			cpu_relax();
		else
			sched_yield();
	}
}

void arca_pool_split(size_t total, size_t grain, int ith, int nth, size_t *lo, size_t *hi)
{
	if (!grain)
		grain = 1;
	size_t units = (total + grain - 1) / grain;
	size_t per = units / (size_t)nth, extra = units % (size_t)nth, i = (size_t)ith;
	size_t first = i * per + (i < extra ? i : extra);
	size_t count = per + (i < extra);
	*lo = first * grain < total ? first * grain : total;
	*hi = (first + count) * grain < total ? (first + count) * grain : total;
}
