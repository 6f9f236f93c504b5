/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/transfer.h — the download engine: many files at once, large files as parallel
 * ranged requests, every byte hashed on its way into the store.
 *
 * One thread drives all requests through a curl multi handle. A small file (below one
 * chunk) streams into a blob writer that hashes as it writes. A large file is a partial in
 * tmp/ (arca/store.h): chunks of `chunk_size` bytes are fetched by up to `connections`
 * ranged requests and written at their offsets; a hasher thread per file follows the
 * completed prefix, so hashing overlaps the download. Which chunks are complete is saved
 * after each one, so the next run resumes. A file becomes a blob only when its hash equals
 * the hub's (sha256, or the git blob id when that is all the hub lists).
 *
 * Redirects are followed here, one hop at a time: answers from the hub's host are checked
 * by the hub (commit, size, etag) and the token goes only to that host. Failed requests are
 * retried with backoff from where they stopped; a 200 to a ranged request switches the
 * file to one plain stream from the start; an expired CDN link (403) is resolved again.
 *
 * Memory is bounded: curl's buffers and one 8 MiB hashing buffer per large file.
 */
#ifndef ARCA_FETCH_TRANSFER_H
#define ARCA_FETCH_TRANSFER_H

#include <jansson.h>
#include <stdint.h>

#include "arca/store.h"
#include "fetch/hub.h"

typedef struct {
	const arca_hub_file *file;    /* what to fetch (borrowed) */
	char *url;                    /* first request, from the hub (owned, freed by the engine) */
	/* results */
	arca_err err;                 /* ARCA_OK once stored */
	char *message;                /* malloc'ed when err < 0 */
	arca_file_digests digests;    /* when stored */
	json_t *evidence;             /* array of the hub's answers for this file (owned) */
	uint64_t received;            /* bytes received this run */
	int resumed;                  /* continued a partial from an earlier run */
} arca_transfer_item;

typedef struct {
	uint64_t done, total;        /* bytes over every item */
	const char *path;            /* the largest file in flight ("" when none) */
	uint64_t file_done, file_size;
} arca_transfer_progress;

typedef struct {
	arca_store *store;
	arca_http *http;
	arca_hub *hub;
	const char *repo, *commit;
	int jobs;             /* files at once */
	int connections;      /* ranged requests per large file */
	uint64_t chunk_size;  /* bytes per ranged request; files below it are small */
	/* Main thread, once per finished item (stored or failed). */
	void (*on_item_done)(arca_transfer_item *item, void *payload);
	/* Main thread, about ten times a second. Non-zero stops. */
	int (*on_progress)(const arca_transfer_progress *progress, void *payload);
	/* A retry worth mentioning. */
	void (*on_retry)(const char *message, void *payload);
	void *payload;
} arca_transfer_opts;

/* Runs until every item is stored or failed (their err says which): ARCA_OK. Stopped by
 * on_progress: ARCA_EINTERRUPTED, with large files' partials kept for the next run. */
arca_err arca_transfer_run(arca_transfer_item *items, size_t n, const arca_transfer_opts *opts);

void arca_transfer_item_dispose(arca_transfer_item *item);

#endif
