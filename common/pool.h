/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/pool.h — a fixed pool of worker threads: the forward pass, quantization and fsck's
 * re-hashing run on it. One job at a time: arca_pool_run calls fn(ctx, i, n) on n threads
 * (the caller is thread 0) and returns when all have finished. Workers spin briefly and
 * then sleep between jobs, so the hundreds of small jobs of one decoded token do not pay a
 * futex wake-up each. Internal to libarca.
 */
#ifndef ARCA_COMMON_POOL_H
#define ARCA_COMMON_POOL_H

#include "arca/error.h"

typedef struct arca_pool arca_pool;
typedef void (*arca_pool_fn)(void *ctx, int ith, int nth);

/* n_threads <= 0: one per online CPU. */
arca_err arca_pool_new(arca_pool **out, int n_threads);
void arca_pool_free(arca_pool *pool);
int arca_pool_threads(const arca_pool *pool);
void arca_pool_run(arca_pool *pool, arca_pool_fn fn, void *ctx);

/* The share [*lo, *hi) of `total` items thread ith of nth takes, in multiples of `grain`. */
void arca_pool_split(size_t total, size_t grain, int ith, int nth, size_t *lo, size_t *hi);

#endif
