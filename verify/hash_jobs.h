/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/hash_jobs.h — hashing many files on all cores: fsck's re-hash of the store and
 * signature checks of a snapshot or a folder. Workers take the next job from a shared
 * counter, largest first, so one big file does not finish last; bytes done are summed
 * across threads and reported from the calling thread. Internal to libarca.
 */
#ifndef ARCA_VERIFY_HASH_JOBS_H
#define ARCA_VERIFY_HASH_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "arca/digest.h"
#include "arca/error.h"

/* One file to hash. `item` is the caller's; err and message (malloc'ed) are filled. */
typedef struct {
	void *item;
	uint64_t size;
	arca_err err;
	char *message;
} arca_hash_job;

/* Hashes one job's file, reporting bytes done through progress(done, payload). */
typedef arca_err (*arca_hash_job_fn)(void *ctx, void *item, arca_hash_progress_cb progress,
	void *payload);

/* Bytes done out of the total, from the calling thread, at most every 0.1 s. */
typedef void (*arca_hash_jobs_progress_cb)(uint64_t done, uint64_t total, void *payload);

/* Runs fn over every job (threads <= 0: one per online CPU). Jobs are reordered, largest
 * first. Returns an error only when the pool could not start; each job's result is in it. */
arca_err arca_hash_jobs_run(arca_hash_job *jobs, size_t n, int threads, arca_hash_job_fn fn,
	void *ctx, arca_hash_jobs_progress_cb progress, void *payload);

void arca_hash_jobs_dispose(arca_hash_job *jobs, size_t n);

#endif
