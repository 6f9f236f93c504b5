/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/transfer_internal.h — what the two halves of the download engine share: the
 * request, job and engine records, the chunk arithmetic, and the request functions
 * (transfer_request.c: one HTTP exchange and the bytes it writes) that the job state
 * machine (transfer.c) drives. Nothing else includes it.
 */
#ifndef ARCA_FETCH_TRANSFER_INTERNAL_H
#define ARCA_FETCH_TRANSFER_INTERNAL_H

#include <string.h>
#include <time.h>

#include "fetch/chunk_hasher.h"
#include "fetch/transfer.h"

#define MAX_HOPS 10
#define MAX_RESOLVES 3
#define ERROR_BODY_MAX 65536
#define PROGRESS_BYTES (1u << 20)
#define WRITE_BLOCK (64u << 10) /* large files are written in aligned blocks of this size */
#define WRITEBACK_STEP (8u << 20) /* and handed to the disk every this many bytes */
/* A URL in a message, without its query: signed storage links carry their signature there */
#define SHOWN(url) (int)strcspn((url), "?"), (url)

typedef enum { J_PENDING, J_RESOLVING, J_DATA, J_HASHING, J_DONE } job_state;

struct job;

struct engine;

typedef struct request {
	struct engine *engine;
	struct job *job;
	CURL *easy;
	struct curl_slist *headers;
	char *url;
	int to_hub;          /* the hub's own origin: the token is sent */
	int resolving;       /* part of the resolve phase: the hub checks the answer */
	int ranged;
	size_t chunk;        /* large files: the chunk this request fills */
	uint64_t start, end; /* byte range [start, end) requested */
	uint64_t pos;        /* next offset to write: [start, pos) is in the file */
	unsigned char *wbuf; /* large files: received bytes for [pos, pos + wlen), written in
	                        whole aligned blocks so the file system never zero-fills */
	size_t wlen;
	int body_started;
	long status;
	arca_http_response resp;
	arca_err fail;       /* set by the write callback */
	char fail_msg[ARCA_ERROR_MAX];
	char errbuf[CURL_ERROR_SIZE];
	struct request *next;
} request;

typedef struct job {
	arca_transfer_item *item;
	const arca_hub_file *file;
	job_state state;
	int big;
	char *data_url;        /* RESOLVING: the next hop; DATA: where the bytes are */
	int data_to_hub;
	int metadata_seen;     /* an answer of this resolve phase carried the hub's metadata */
	int xet;               /* the hub named a Xet file id for it */
	int hops, resolves;
	int failures;          /* consecutive failures without new bytes */
	double not_before;     /* monotonic time of the next attempt */
	int busy;              /* requests in flight */
	/* small files */
	arca_blob_writer *writer;
	/* large files */
	arca_partial *part;
	arca_chunk_hasher *hasher;
	size_t n_chunks;
	uint64_t *chunk_pos;
	unsigned char *chunk_busy;
	int no_ranges;
	struct request *stream;  /* the one request when no_ranges */
	int cancel_others;       /* drop every request but `stream` (set inside callbacks) */
	int state_dirty;
} job;

typedef struct engine {
	const arca_transfer_opts *opts;
	CURLM *multi;
	job *jobs;
	size_t n_jobs;
	size_t next_job;     /* first job not yet started */
	size_t active;       /* jobs started and not done */
	request *requests;   /* in flight */
	uint64_t total;
	uint64_t done_bytes; /* bytes of finished jobs */
	char hub_origin[300];
} engine;

static inline int is_hub_origin(const engine *e, const char *url)
{
	char origin[300];
	arca_http_url_origin(origin, sizeof(origin), url);
	return origin[0] && strcmp(origin, e->hub_origin) == 0;
}

static inline double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline uint64_t chunk_start(const engine *e, size_t i)
{
	return (uint64_t)i * e->opts->chunk_size;
}

static inline uint64_t chunk_end(const engine *e, const job *j, size_t i)
{
	uint64_t end = chunk_start(e, i) + e->opts->chunk_size;
	return end < j->file->size ? end : j->file->size;
}

static inline int chunk_done(const engine *e, const job *j, size_t i)
{
	return j->chunk_pos[i] >= chunk_end(e, j, i);
}

/* ------------------------------------------------------------------ requests
 * (transfer_request.c) */

/* Starts a request for a job: resolving = part of its resolve phase, to_hub = send the
 * token; for a large file, chunk is the chunk it fills (from where that chunk stopped). */
arca_err arca_transfer__start_request(engine *e, job *j, const char *url, int to_hub,
	int resolving, size_t chunk);
void arca_transfer__free_request(request *r);
/* Takes a request out of the multi handle and its job's books. */
void arca_transfer__detach_request(engine *e, request *r);
/* Drops every request of a job, keeping what each wrote. */
void arca_transfer__remove_requests_of(engine *e, job *j);
/* Writes a large-file request's buffered bytes at their offset. */
arca_err arca_transfer__flush_request(request *r);
/* Records how far a large-file request has written, marking the chunks it completed. */
void arca_transfer__account_chunks(engine *e, request *r);
/* Marks a request failed (first failure wins); the loop turns it into the job's error. */
void arca_transfer__request_fail(request *r, arca_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Wakes the loop's poll (the hasher's finished callback). */
void arca_transfer__wake_loop(void *payload);

#endif
