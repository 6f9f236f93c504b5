/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/transfer.c — the download engine (contract in transfer.h).
 *
 * A job moves through: PENDING → RESOLVING (the first request to the hub and the redirects
 * after it, one at a time, until an answer carries the hub's metadata for the file; the hub
 * checks that answer, see hub.h) → DATA (small: one GET; large: ranged chunk requests, at
 * the storage the metadata answer pointed to, wherever it lives) → HASHING (large only: the
 * hasher finishes the tail) → DONE. Any step may go back to an earlier one on a retryable
 * failure, with backoff, at most max_retries times in a row without new bytes; an expired
 * storage link sends the job back to RESOLVING, at most MAX_RESOLVES times in a row
 * without new bytes (a transfer that takes hours outlives many signed links).
 *
 * Which answers are checked is decided by the hop, never by comparing hosts: storage may
 * answer on the hub's own host (self-hosted mirrors, arca serve) and a mirror may redirect
 * the resolve request to another endpoint. The token goes only to the hub's own origin
 * (scheme, host and port of the endpoint).
 *
 * Large-file invariants:
 *   1. chunk_pos[i] is how far chunk i is written on disk; chunk i is done when it reaches
 *      the chunk's end, and only then is it marked for the hasher and saved in the state.
 *   2. At most one request covers a chunk; a request writes only inside its range.
 *   3. A 200 to a ranged request means the server ignores ranges: the job keeps one
 *      request, streaming from byte 0, and no other.
 */
#include "fetch/transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/io.h"
#include "fetch/chunk_hasher.h"

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

static int is_hub_origin(const engine *e, const char *url)
{
	char origin[300];
	arca_http_url_origin(origin, sizeof(origin), url);
	return origin[0] && strcmp(origin, e->hub_origin) == 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t chunk_start(const engine *e, size_t i)
{
	return (uint64_t)i * e->opts->chunk_size;
}

static uint64_t chunk_end(const engine *e, const job *j, size_t i)
{
	uint64_t end = chunk_start(e, i) + e->opts->chunk_size;
	return end < j->file->size ? end : j->file->size;
}

static int chunk_done(const engine *e, const job *j, size_t i)
{
	return j->chunk_pos[i] >= chunk_end(e, j, i);
}

/* ------------------------------------------------------------------ job results */

static void set_item_error(job *j, arca_err err)
{
	arca_transfer_item *it = j->item;
	it->err = err;
	free(it->message);
	it->message = strdup(arca_error_last());
}

static void save_state(engine *e, job *j)
{
	if (!j->part || !j->state_dirty)
		return;
	json_t *done = json_array();
	for (size_t i = 0; i < j->n_chunks; i++)
		if (chunk_done(e, j, i))
			json_array_append_new(done, json_integer((json_int_t)i));
	json_t *state = json_pack("{s:i,s:I,s:o}", "version", 1, "chunk_size",
		(json_int_t)e->opts->chunk_size, "done", done);
	char *text = state ? json_dumps(state, JSON_COMPACT) : NULL;
	/* best effort: losing the state costs a re-download, never correctness */
	if (text && arca_partial_save_state(j->part, text) < 0)
		arca_error_clear();
	free(text);
	json_decref(state);
	j->state_dirty = 0;
}

static void remove_requests_of(engine *e, job *j);

/* Ends a job: releases what it holds; for a failure the partial is kept (resumable) unless
 * its bytes proved wrong. */
static void finish_job(engine *e, job *j, int discard_partial)
{
	remove_requests_of(e, j);
	if (j->hasher) {
		arca_chunk_hasher_free(j->hasher);
		j->hasher = NULL;
	}
	if (j->part) {
		if (!discard_partial)
			save_state(e, j);
		arca_partial_close(j->part, discard_partial);
		j->part = NULL;
	}
	arca_blob_writer_free(j->writer);
	j->writer = NULL;
	j->state = J_DONE;
	e->active--;
	e->done_bytes += j->file->size;
	if (e->opts->on_item_done)
		e->opts->on_item_done(j->item, e->opts->payload);
}

static void fail_job(engine *e, job *j, arca_err err, int discard_partial)
{
	size_t n = strlen(j->file->path);
	const char *msg = arca_error_last();
	if (strncmp(msg, j->file->path, n) != 0 || msg[n] != ':')
		arca_error_prefix(err, "%s", j->file->path);
	set_item_error(j, err);
	finish_job(e, j, discard_partial);
}

/* ------------------------------------------------------------------ requests */

static void free_request(request *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	arca_http_response_dispose(&r->resp);
	free(r->url);
	free(r->wbuf);
	free(r);
}

/* Writes the buffered bytes of a large-file request at their offset. */
static arca_err flush_request(request *r)
{
	if (!r->wlen)
		return ARCA_OK;
	job *j = r->job;
	arca_err err = arca_io_pwrite_all(arca_partial_fd(j->part), r->wbuf, r->wlen, r->pos,
		j->file->path);
	if (err == ARCA_OK)
		r->pos += r->wlen;
	r->wlen = 0;
	return err;
}

static void detach_request(engine *e, request *r)
{
	for (request **p = &e->requests; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	curl_multi_remove_handle(e->multi, r->easy);
	job *j = r->job;
	j->busy--;
	if (j->stream == r)
		j->stream = NULL;
	if (j->big && r->ranged && r->chunk < j->n_chunks)
		j->chunk_busy[r->chunk] = 0;
	else if (j->big && !r->ranged)
		memset(j->chunk_busy, 0, j->n_chunks);
}

static void account_chunks(engine *e, request *r);

static void remove_requests_of(engine *e, job *j)
{
	request *r = e->requests;
	while (r) {
		request *next = r->next;
		if (r->job == j) {
			/* keep what a dropped request received: its chunk continues from there */
			if (flush_request(r) < 0)
				arca_error_clear(); /* not kept: fetched again */
			account_chunks(e, r);
			detach_request(e, r);
			free_request(r);
		}
		r = next;
	}
}

static void request_fail(request *r, arca_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void request_fail(request *r, arca_err err, const char *fmt, ...)
{
	if (r->fail < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->fail_msg, sizeof(r->fail_msg), fmt, ap);
	va_end(ap);
	r->fail = err;
}

/* "bytes a-b/total" → checks a == expected start and total == size. */
static int content_range_ok(const char *value, uint64_t start, uint64_t size)
{
	unsigned long long a, b, total;
	if (!value || sscanf(value, "bytes %llu-%llu/%llu", &a, &b, &total) != 3)
		return 0;
	return a == start && total == size && b >= a && b < total;
}

static void wake_loop(void *payload);

/* The server ignores ranges: start the file over as one stream from byte 0, with a fresh
 * hasher; the other requests of the job are dropped by the loop (not from inside curl). */
static int restart_as_stream(request *r)
{
	struct engine *e = r->engine;
	job *j = r->job;
	j->no_ranges = 1;
	j->stream = r;
	j->cancel_others = 1;
	r->ranged = 0;
	r->start = r->pos = 0;
	r->end = j->file->size;
	r->chunk = 0;
	memset(j->chunk_busy, 1, j->n_chunks);
	for (size_t i = 0; i < j->n_chunks; i++)
		j->chunk_pos[i] = (uint64_t)i * e->opts->chunk_size;
	arca_chunk_hasher_free(j->hasher);
	j->hasher = NULL;
	arca_err err = arca_partial_reset(j->part);
	if (err == ARCA_OK)
		err = arca_chunk_hasher_start(&j->hasher, arca_partial_fd(j->part), j->file->path,
			j->file->size, e->opts->chunk_size, j->file->git_sha1[0] != 0, wake_loop,
			e->multi);
	if (err < 0) {
		request_fail(r, err, "%s", arca_error_last());
		return 0;
	}
	j->item->resumed = 0;
	return 1;
}

/* The first body bytes of an answer: decide what they are. Returns 0 to abort. */
static int begin_body(request *r)
{
	job *j = r->job;
	r->body_started = 1;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status < 200 || r->status > 299)
		return 1; /* an error or redirect page: collected for messages */
	const char *encoding = arca_http_header_get(&r->resp, "Content-Encoding");
	if (encoding && strcasecmp(encoding, "identity") != 0) {
		request_fail(r, ARCA_ECORRUPT, "the server sent the file %s-compressed although "
			"arca asked for identity; compressed bytes cannot be checked", encoding);
		return 0;
	}
	const char *length = arca_http_header_get(&r->resp, "Content-Length");
	if (r->status == 200 && length && strtoull(length, NULL, 10) != j->file->size) {
		request_fail(r, ARCA_EMISMATCH, "the listing says %llu bytes but the server sends %s",
			(unsigned long long)j->file->size, length);
		return 0;
	}
	if (!j->big)
		return 1;
	if (r->status == 200)
		return r->ranged ? restart_as_stream(r) : 1;
	const char *range = arca_http_header_get(&r->resp, "Content-Range");
	if (!content_range_ok(range, r->start, j->file->size)) {
		request_fail(r, ARCA_EMISMATCH, "the server's Content-Range '%s' does not match the "
			"requested bytes %llu-%llu of the listed %llu", range ? range : "(none)",
			(unsigned long long)r->start, (unsigned long long)r->end - 1,
			(unsigned long long)j->file->size);
		return 0;
	}
	return 1;
}

static size_t keep_error_body(request *r, const char *data, size_t len)
{
	arca_http_response *resp = &r->resp;
	if (resp->body_len + len > ERROR_BODY_MAX)
		return len;
	char *grown = realloc(resp->body, resp->body_len + len + 1);
	if (!grown)
		return len;
	memcpy(grown + resp->body_len, data, len);
	resp->body = grown;
	resp->body_len += len;
	grown[resp->body_len] = '\0';
	return len;
}

static size_t on_write(char *data, size_t size, size_t n, void *userdata)
{
	request *r = userdata;
	job *j = r->job;
	size_t len = size * n;
	if (!r->body_started && !begin_body(r))
		return 0;
	if (r->status < 200 || r->status > 299)
		return keep_error_body(r, data, len);
	if (r->pos + r->wlen + len > r->end) {
		request_fail(r, ARCA_EMISMATCH, "the server sent more than the listed %llu bytes",
			(unsigned long long)j->file->size);
		return 0;
	}
	if (!j->big) {
		arca_err err = arca_blob_writer_write(j->writer, data, len);
		if (err < 0) {
			request_fail(r, err, "%s", arca_error_last());
			return 0;
		}
		r->pos += len;
		j->item->received += len;
		return len;
	}
	if (!r->wbuf && !(r->wbuf = malloc(WRITE_BLOCK))) {
		request_fail(r, ARCA_ENOMEM, "download: out of memory");
		return 0;
	}
	j->item->received += len;
	uint64_t chunk = r->engine->opts->chunk_size;
	for (size_t used = 0; used < len;) {
		/* fill up to the next block boundary of the file (or the request's end) */
		uint64_t at = r->pos + r->wlen;
		uint64_t boundary = (at / WRITE_BLOCK + 1) * WRITE_BLOCK;
		if (boundary > r->end)
			boundary = r->end;
		size_t take = len - used;
		if (take > boundary - at)
			take = (size_t)(boundary - at);
		if (r->wlen + take > WRITE_BLOCK)
			take = WRITE_BLOCK - r->wlen;
		memcpy(r->wbuf + r->wlen, data + used, take);
		r->wlen += take;
		used += take;
		if (r->pos + r->wlen < boundary && r->wlen < WRITE_BLOCK)
			continue;
		uint64_t before = r->pos;
		arca_err err = flush_request(r);
		if (err < 0) {
			request_fail(r, err, "%s", arca_error_last());
			return 0;
		}
		/* start the disk writing every few MiB: the fsync before the blob is committed then
		 * has little left to wait for (a hint: failures change nothing) */
		if (before / WRITEBACK_STEP != r->pos / WRITEBACK_STEP || r->pos == r->end) {
			uint64_t from = before / WRITEBACK_STEP * WRITEBACK_STEP;
			if (from < r->start)
				from = r->start;
			sync_file_range(arca_partial_fd(j->part), (off_t)from, (off_t)(r->pos - from),
				SYNC_FILE_RANGE_WRITE);
		}
		/* account as each chunk completes, so the hasher follows close behind */
		if (before / chunk != r->pos / chunk || r->pos == r->end)
			account_chunks(r->engine, r);
	}
	return len;
}

/* Records how far a large-file request has written, marking the chunks it completed. The
 * request wrote [start, pos) contiguously and started where its first chunk had reached,
 * so every chunk it touched is complete up to min(pos, chunk end). Main thread. */
static void account_chunks(engine *e, request *r)
{
	job *j = r->job;
	if (!j->big || r->status < 200 || r->status > 299 || (j->no_ranges && j->stream != r))
		return;
	for (size_t i = (size_t)(r->start / e->opts->chunk_size);
	     i < j->n_chunks && chunk_start(e, i) < r->pos; i++) {
		uint64_t end = chunk_end(e, j, i);
		uint64_t reached = r->pos < end ? r->pos : end;
		if (reached <= j->chunk_pos[i])
			continue;
		j->chunk_pos[i] = reached;
		if (reached == end) {
			arca_chunk_hasher_mark(j->hasher, i);
			j->state_dirty = 1;
		}
	}
}

static arca_err start_request(engine *e, job *j, const char *url, int to_hub, int resolving,
	size_t chunk)
{
	request *r = calloc(1, sizeof(*r));
	if (!r)
		return arca_error_set(ARCA_ENOMEM, "download: out of memory");
	r->engine = e;
	r->job = j;
	r->to_hub = to_hub;
	r->resolving = resolving;
	r->chunk = chunk;
	r->url = strdup(url);
	r->easy = curl_easy_init();
	if (!r->url || !r->easy) {
		free_request(r);
		return arca_error_set(ARCA_ENOMEM, "download: out of memory");
	}
	arca_http__setup_easy(e->opts->http, r->easy);
	r->start = 0;
	r->end = j->file->size;
	if (j->big && !j->no_ranges) {
		r->ranged = 1;
		r->start = j->chunk_pos[chunk];
		r->end = chunk_end(e, j, chunk);
		j->chunk_busy[chunk] = 1;
		/* separate TCP streams carry more than multiplexed HTTP/2 streams */
		curl_easy_setopt(r->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	} else if (j->big) {
		memset(j->chunk_busy, 1, j->n_chunks);
		j->stream = r;
	}
	r->pos = r->start;
	char range[80];
	snprintf(range, sizeof(range), "Range: bytes=%llu-%llu", (unsigned long long)r->start,
		(unsigned long long)r->end - 1);
	struct curl_slist *h = curl_slist_append(NULL, "Accept-Encoding: identity");
	if (h && r->ranged)
		h = curl_slist_append(h, range);
	for (char **a = e->opts->hub->auth_headers; h && to_hub && a && *a; a++)
		h = curl_slist_append(h, *a);
	if (!h) {
		free_request(r);
		return arca_error_set(ARCA_ENOMEM, "download: out of memory");
	}
	r->headers = h;
	curl_easy_setopt(r->easy, CURLOPT_URL, r->url);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, arca_http__collect_header);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, &r->resp);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	if (curl_multi_add_handle(e->multi, r->easy) != CURLM_OK) {
		free_request(r);
		return arca_error_set(ARCA_ENET, "download: curl refused a request");
	}
	r->next = e->requests;
	e->requests = r;
	j->busy++;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ starting work */

static void wake_loop(void *payload)
{
	curl_multi_wakeup(payload);
}

/* Drops the requests of jobs that switched to one stream (see restart_as_stream). */
static void cancel_superseded(engine *e)
{
	request *r = e->requests;
	while (r) {
		request *next = r->next;
		job *j = r->job;
		if (j->cancel_others && r != j->stream) {
			detach_request(e, r);
			free_request(r);
		}
		r = next;
	}
	for (size_t i = 0; i < e->next_job; i++)
		e->jobs[i].cancel_others = 0;
}

/* Loads a previous run's record of completed chunks. */
static void restore_chunks(engine *e, job *j)
{
	const char *saved = arca_partial_saved_state(j->part);
	json_t *state = saved ? json_loads(saved, 0, NULL) : NULL;
	json_t *chunk = json_object_get(state, "chunk_size");
	if (json_is_integer(chunk) && (uint64_t)json_integer_value(chunk) == e->opts->chunk_size) {
		size_t k;
		json_t *v;
		json_array_foreach(json_object_get(state, "done"), k, v) {
			json_int_t i = json_integer_value(v);
			if (json_is_integer(v) && i >= 0 && (size_t)i < j->n_chunks) {
				j->chunk_pos[i] = chunk_end(e, j, (size_t)i);
				arca_chunk_hasher_mark(j->hasher, (size_t)i);
				j->item->resumed = 1;
			}
		}
	}
	json_decref(state);
}

static arca_err open_job(engine *e, job *j)
{
	const arca_hub_file *f = j->file;
	arca_err err;
	if (!j->big) {
		arca_blob_writer_opts opts = ARCA_BLOB_WRITER_OPTS_INIT;
		opts.expect_size = (int64_t)f->size;
		opts.want_git_sha1 = 1;
		opts.expect_sha256 = f->sha256[0] ? f->sha256 : NULL;
		opts.expect_git_sha1 = f->git_sha1[0] ? f->git_sha1 : NULL;
		return arca_blob_writer_new(&j->writer, e->opts->store, &opts);
	}
	if (j->part)
		return ARCA_OK;
	const char *key = f->sha256[0] ? f->sha256 : f->git_sha1;
	char derived[ARCA_SHA256_HEX];
	if (!key[0]) {
		/* no hub hash to name the partial by: name it by what it is a download of */
		char *what = NULL;
		unsigned char raw[ARCA_SHA256_LEN];
		int len = asprintf(&what, "arca partial without hub hash%c%s%c%s%c%s%c%llu", 0,
			e->opts->repo, 0, e->opts->commit, 0, f->path, 0, (unsigned long long)f->size);
		if (len < 0)
			return arca_error_set(ARCA_ENOMEM, "download: out of memory");
		err = arca_sha256_buffer(raw, what, (size_t)len);
		free(what);
		if (err < 0)
			return err;
		arca_hex_encode(derived, raw, ARCA_SHA256_LEN);
		key = derived;
	}
	if ((err = arca_store_partial_open(&j->part, e->opts->store, key, f->size)) < 0)
		return err;
	if ((err = arca_chunk_hasher_start(&j->hasher, arca_partial_fd(j->part), f->path, f->size,
			e->opts->chunk_size, f->git_sha1[0] != 0, wake_loop, e->multi)) < 0)
		return err;
	restore_chunks(e, j);
	return ARCA_OK;
}

/* First undone chunk nobody is fetching, or n_chunks. */
static size_t next_chunk(const engine *e, const job *j)
{
	for (size_t i = 0; i < j->n_chunks; i++)
		if (!chunk_done(e, j, i) && !j->chunk_busy[i])
			return i;
	return j->n_chunks;
}

static int all_chunks_done(const engine *e, const job *j)
{
	for (size_t i = 0; i < j->n_chunks; i++)
		if (!chunk_done(e, j, i))
			return 0;
	return 1;
}

/* Issues the requests a job can make now. */
static void pump_job(engine *e, job *j)
{
	if (j->state == J_DONE || j->state == J_HASHING || now() < j->not_before)
		return;
	arca_err err = ARCA_OK;
	if (j->state == J_PENDING) {
		if ((err = open_job(e, j)) < 0) {
			fail_job(e, j, err, 0);
			return;
		}
		if (j->big && all_chunks_done(e, j)) {
			j->state = J_HASHING;
			return;
		}
		j->state = J_RESOLVING;
		j->hops = 0;
		j->metadata_seen = 0;
		err = start_request(e, j, j->item->url, is_hub_origin(e, j->item->url), 1,
			j->big ? next_chunk(e, j) : 0);
	} else if (j->state == J_RESOLVING) {
		/* the next hop of the resolve phase, once the previous answer is in */
		if (j->busy == 0 && j->data_url)
			err = start_request(e, j, j->data_url, j->data_to_hub, 1,
				j->big ? next_chunk(e, j) : 0);
	} else if (j->state == J_DATA && !j->big) {
		if (j->busy == 0)
			err = start_request(e, j, j->data_url, j->data_to_hub, 0, 0);
	} else if (j->state == J_DATA) {
		int limit = j->no_ranges ? 1 : e->opts->connections;
		while (err == ARCA_OK && j->busy < limit) {
			size_t i = j->no_ranges ? 0 : next_chunk(e, j);
			if (i >= j->n_chunks || (j->no_ranges && j->busy))
				break;
			err = start_request(e, j, j->data_url, j->data_to_hub, 0, i);
		}
	}
	if (err < 0)
		fail_job(e, j, err, 0);
}

static void start_jobs(engine *e)
{
	while (e->next_job < e->n_jobs && e->active < (size_t)e->opts->jobs) {
		job *j = &e->jobs[e->next_job++];
		e->active++;
		pump_job(e, j);
	}
	for (size_t i = 0; i < e->next_job; i++)
		if (e->jobs[i].state != J_DONE)
			pump_job(e, &e->jobs[i]);
}

/* ------------------------------------------------------------------ finished requests */

/* Schedules another try of what r was doing, or fails the job when tries run out. */
static void retry_later(engine *e, job *j, const arca_http_response *resp, const char *why)
{
	long delay = arca_http_retry_delay_ms(e->opts->http, j->failures, resp);
	int max = arca_http_options(e->opts->http)->max_retries;
	if (j->failures >= max || delay < 0) {
		arca_err err = resp && resp->status == 429 ?
			arca_error_set(ARCA_ENET, "rate limited by the hub (HTTP 429) %s; wait and try "
				"again, and pass a token", delay < 0 ? "for longer than arca waits" :
				"after every retry") :
			arca_error_set(ARCA_ENET, "%s (gave up after %d tries without progress)", why,
				j->failures + 1);
		fail_job(e, j, err, 0);
		return;
	}
	j->failures++;
	j->not_before = now() + (double)delay / 1000.0;
	if (e->opts->on_retry) {
		char msg[ARCA_ERROR_MAX + 300];
		snprintf(msg, sizeof(msg), "%s: %s; retrying in %.1f s", j->file->path, why,
			(double)delay / 1000.0);
		e->opts->on_retry(msg, e->opts->payload);
	}
	if (!j->big && j->writer) {
		/* a small file starts over in a fresh temporary blob */
		arca_blob_writer_free(j->writer);
		j->writer = NULL;
		arca_err err = open_job(e, j);
		if (err < 0) {
			fail_job(e, j, err, 0);
			return;
		}
	}
}

static void start_over_resolving(engine *e, job *j)
{
	remove_requests_of(e, j);
	j->state = J_PENDING;
	j->hops = 0;
	j->metadata_seen = 0;
	free(j->data_url);
	j->data_url = NULL;
	if (!j->big) {
		arca_blob_writer_free(j->writer);
		j->writer = NULL;
	}
}

/* A 3xx (already checked when it belonged to the resolve phase): go where it points. While
 * no answer has carried the hub's metadata, the next hop is still part of the resolve
 * phase (a renamed repo, a mirror sending the request to another endpoint); after that it
 * is storage. */
static void follow(engine *e, request *r)
{
	job *j = r->job;
	if (++j->hops > MAX_HOPS) {
		fail_job(e, j, arca_error_set(ARCA_ENET, "more than %d redirects (a loop?) starting at "
			"%.*s", MAX_HOPS, SHOWN(j->item->url)), 0);
		return;
	}
	char *location = NULL;
	curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &location);
	if (!location) {
		fail_job(e, j, arca_error_set(ARCA_ENET, "HTTP %ld from %.*s without a Location",
			r->status, SHOWN(r->url)), 0);
		return;
	}
	char *target = strdup(location);
	if (!target) {
		fail_job(e, j, arca_error_set(ARCA_ENOMEM, "download: out of memory"), 0);
		return;
	}
	free(j->data_url);
	j->data_url = target;
	j->data_to_hub = is_hub_origin(e, target);
	j->state = r->resolving && !j->metadata_seen ? J_RESOLVING : J_DATA;
}

static arca_err commit_small(job *j)
{
	arca_file_digests d;
	arca_err err = arca_blob_writer_commit(j->writer, &d);
	arca_blob_writer_free(j->writer);
	j->writer = NULL;
	if (err == ARCA_OK)
		j->item->digests = d;
	return err;
}

static void handle_answer(engine *e, request *r, CURLcode rc)
{
	job *j = r->job;
	if (!r->body_started)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (j->big && r->fail == ARCA_OK && flush_request(r) < 0)
		request_fail(r, arca_error_last_code(), "%s", arca_error_last());
	account_chunks(e, r);
	if (r->fail < 0) {
		arca_error_set(r->fail, "%s", r->fail_msg);
		int bad_bytes = r->fail == ARCA_EMISMATCH || r->fail == ARCA_ECORRUPT;
		fail_job(e, j, r->fail, bad_bytes);
		return;
	}
	/* a try that moved a real amount of data resets the count of fruitless tries (a server
	 * that cuts every answer after a few bytes must not keep us busy forever) */
	if (r->pos - r->start >= PROGRESS_BYTES || (r->pos == r->end && r->pos > r->start)) {
		j->failures = 0;
		j->resolves = 0;
	}
	if (rc != CURLE_OK) {
		char why[CURL_ERROR_SIZE + 300];
		snprintf(why, sizeof(why), "%.*s: %s", SHOWN(r->url), r->errbuf[0] ? r->errbuf :
			curl_easy_strerror(rc));
		if (arca_http_curl_retryable(rc)) {
			if (r->resolving || !j->big)
				start_over_resolving(e, j);
			retry_later(e, j, NULL, why);
		} else {
			fail_job(e, j, arca_error_set(ARCA_ENET, "%s", why), 0);
		}
		return;
	}
	long status = r->status;
	r->resp.status = status;
	char *location = NULL;
	curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_URL, &location);
	if (location && !r->resp.redirect_url)
		r->resp.redirect_url = strdup(location);
	if (r->resolving && !j->metadata_seen && status >= 200 && status < 400) {
		int carried = 0;
		arca_err err = e->opts->hub->ops->check_answer(e->opts->hub, e->opts->repo,
			e->opts->commit, j->file, r->url, &r->resp, j->item->evidence, &carried);
		if (err < 0) {
			fail_job(e, j, err, 0);
			return;
		}
		j->metadata_seen = carried;
		if (carried && arca_http_header_get(&r->resp, "X-Xet-Hash"))
			j->xet = 1;
	}
	if (status >= 300 && status < 400) {
		follow(e, r);
		return;
	}
	if (status >= 200 && status < 300) {
		if (!j->big) {
			arca_err err = commit_small(j);
			if (err < 0)
				fail_job(e, j, err, 0);
			else
				finish_job(e, j, 0);
			return;
		}
		if (r->resolving) {
			/* served where the metadata came from: keep fetching there */
			free(j->data_url);
			j->data_url = strdup(r->url);
			j->data_to_hub = r->to_hub;
			j->state = J_DATA;
			if (!j->data_url) {
				fail_job(e, j, arca_error_set(ARCA_ENOMEM, "download: out of memory"), 0);
				return;
			}
		}
		if (r->pos < r->end) {
			char why[300];
			snprintf(why, sizeof(why), "%.*s: the answer ended at byte %llu of %llu", SHOWN(r->url),
				(unsigned long long)r->pos, (unsigned long long)r->end);
			retry_later(e, j, NULL, why);
			return;
		}
		if (all_chunks_done(e, j))
			j->state = J_HASHING;
		return;
	}
	if (status == 416) {
		fail_job(e, j, arca_error_set(ARCA_EMISMATCH, "the server has fewer bytes than the "
			"listed %llu (HTTP 416: %s)", (unsigned long long)j->file->size,
			arca_http_header_get(&r->resp, "Content-Range") ?
				arca_http_header_get(&r->resp, "Content-Range") : "no Content-Range"), 1);
		return;
	}
	if (arca_http_status_retryable(status)) {
		char why[300];
		snprintf(why, sizeof(why), "%.*s: HTTP %ld", SHOWN(r->url), status);
		if (r->resolving)
			start_over_resolving(e, j);
		retry_later(e, j, &r->resp, why);
		return;
	}
	if (!r->resolving && status == 403 && j->resolves < MAX_RESOLVES) {
		/* a signed storage link expired: ask the hub again (the count starts over after
		 * progress, so only links that never deliver give out) */
		j->resolves++;
		if (e->opts->on_retry) {
			char msg[600];
			snprintf(msg, sizeof(msg), "%s: the storage link was refused (HTTP 403, "
				"expired?); asking the hub for a new one", j->file->path);
			e->opts->on_retry(msg, e->opts->payload);
		}
		start_over_resolving(e, j);
		return;
	}
	if (!r->resolving && status == 400 && (j->xet || j->file->xet_hash[0])) {
		/* the Hub's storage bridge refuses files it can serve only through Xet (hundreds of
		 * GB): say so rather than a bare 400 */
		char size[32];
		snprintf(size, sizeof(size), "%.1f GB", (double)j->file->size / 1e9);
		fail_job(e, j, arca_error_set(ARCA_EUNSUPPORTED, "the hub's storage refused it (HTTP "
			"400): at %s it is served only through the Xet protocol, which arca does not "
			"speak yet; fetch it with the hub's own client (hf download REPO FILE), then arca "
			"add the folder, or leave it out with --exclude", size), 0);
		return;
	}
	if (r->resolving) {
		char what[200];
		snprintf(what, sizeof(what), "GET %.*s", SHOWN(r->url));
		fail_job(e, j, e->opts->hub->ops->answer_error(e->opts->hub, what, &r->resp), 0);
		return;
	}
	fail_job(e, j, arca_error_set(ARCA_ENET, "%.*s answered HTTP %ld", SHOWN(r->url), status), 0);
}

static void collect_finished(engine *e)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(e->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		request *r = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		CURLcode rc = msg->data.result;
		job *j = r->job;
		detach_request(e, r);
		if (j->state != J_DONE)
			handle_answer(e, r, rc);
		free_request(r);
	}
}

static void finish_hashed(engine *e)
{
	for (size_t i = 0; i < e->next_job; i++) {
		job *j = &e->jobs[i];
		if (j->state == J_DONE || !j->big || !j->hasher ||
		    !arca_chunk_hasher_finished(j->hasher))
			continue;
		arca_file_digests d;
		arca_err err = arca_chunk_hasher_result(j->hasher, &d);
		if (err < 0) {
			fail_job(e, j, err, 0);
			continue;
		}
		const arca_hub_file *f = j->file;
		if (f->sha256[0] && strcmp(f->sha256, d.sha256) != 0) {
			fail_job(e, j, arca_error_set(ARCA_EMISMATCH, "sha256 mismatch (expected %s, got "
				"%s)", f->sha256, d.sha256), 1);
			continue;
		}
		if (f->git_sha1[0] && strcmp(f->git_sha1, d.git_sha1) != 0) {
			fail_job(e, j, arca_error_set(ARCA_EMISMATCH, "git blob id mismatch (expected %s, "
				"got %s)", f->git_sha1, d.git_sha1), 1);
			continue;
		}
		if ((err = arca_partial_commit(j->part, &d)) < 0) {
			fail_job(e, j, err, 0);
			continue;
		}
		j->item->digests = d;
		arca_partial_close(j->part, 0);
		j->part = NULL;
		finish_job(e, j, 0);
	}
}

/* ------------------------------------------------------------------ progress */

/* Bytes of an unfinished job on disk or in its blob writer. */
static uint64_t job_have(const engine *e, const job *j)
{
	uint64_t have = 0;
	for (size_t c = 0; j->big && c < j->n_chunks; c++)
		have += j->chunk_pos[c] - chunk_start(e, c);
	for (const request *r = e->requests; r; r = r->next) {
		if (r->job != j || r->status < 200 || r->status > 299)
			continue;
		if (!j->big) {
			have += r->pos;
			continue;
		}
		/* bytes written into a chunk not yet accounted (that happens per whole chunk) */
		size_t i = (size_t)(r->pos / e->opts->chunk_size);
		if (i < j->n_chunks && r->pos > j->chunk_pos[i])
			have += r->pos - j->chunk_pos[i];
	}
	return have;
}

static void fill_progress(const engine *e, arca_transfer_progress *p)
{
	memset(p, 0, sizeof(*p));
	p->total = e->total;
	p->done = e->done_bytes;
	p->path = "";
	for (size_t i = 0; i < e->next_job; i++) {
		const job *j = &e->jobs[i];
		if (j->state == J_DONE)
			continue;
		uint64_t have = job_have(e, j);
		p->done += have;
		if (!p->path[0]) {
			/* the first unfinished file is the largest in flight: the one worth naming */
			p->path = j->file->path;
			p->file_done = have;
			p->file_size = j->file->size;
		}
	}
}

/* ------------------------------------------------------------------ the loop */

static void stop_all(engine *e)
{
	for (size_t i = 0; i < e->next_job; i++) {
		job *j = &e->jobs[i];
		if (j->state == J_DONE)
			continue;
		arca_error_set(ARCA_EINTERRUPTED, "interrupted");
		set_item_error(j, ARCA_EINTERRUPTED);
		remove_requests_of(e, j);
		if (j->hasher) {
			arca_chunk_hasher_free(j->hasher);
			j->hasher = NULL;
		}
		if (j->part) {
			save_state(e, j);
			arca_partial_close(j->part, 0);
			j->part = NULL;
		}
		arca_blob_writer_free(j->writer);
		j->writer = NULL;
		j->state = J_DONE;
	}
}

static int next_wait_ms(const engine *e)
{
	double soonest = 0.1;
	double t = now();
	for (size_t i = 0; i < e->next_job; i++) {
		const job *j = &e->jobs[i];
		if (j->state != J_DONE && j->not_before > t && j->not_before - t < soonest)
			soonest = j->not_before - t;
	}
	return (int)ceil(soonest * 1000);
}

static arca_err init_jobs(engine *e, arca_transfer_item *items, size_t n)
{
	e->jobs = calloc(n ? n : 1, sizeof(*e->jobs));
	if (!e->jobs)
		return arca_error_set(ARCA_ENOMEM, "download: out of memory");
	e->n_jobs = n;
	for (size_t i = 0; i < n; i++) {
		job *j = &e->jobs[i];
		j->item = &items[i];
		j->file = items[i].file;
		items[i].err = ARCA_OK;
		if (!items[i].evidence && !(items[i].evidence = json_array()))
			return arca_error_set(ARCA_ENOMEM, "download: out of memory");
		j->big = j->file->size > e->opts->chunk_size;
		if (j->big) {
			j->n_chunks = (size_t)((j->file->size + e->opts->chunk_size - 1) /
				e->opts->chunk_size);
			j->chunk_pos = calloc(j->n_chunks, sizeof(*j->chunk_pos));
			j->chunk_busy = calloc(j->n_chunks, 1);
			if (!j->chunk_pos || !j->chunk_busy)
				return arca_error_set(ARCA_ENOMEM, "download: out of memory");
			for (size_t c = 0; c < j->n_chunks; c++)
				j->chunk_pos[c] = chunk_start(e, c);
		}
		e->total += j->file->size;
	}
	return ARCA_OK;
}

static void free_jobs(engine *e)
{
	for (size_t i = 0; e->jobs && i < e->n_jobs; i++) {
		job *j = &e->jobs[i];
		arca_chunk_hasher_free(j->hasher);
		arca_partial_close(j->part, 0);
		arca_blob_writer_free(j->writer);
		free(j->chunk_pos);
		free(j->chunk_busy);
		free(j->data_url);
	}
	free(e->jobs);
}

arca_err arca_transfer_run(arca_transfer_item *items, size_t n, const arca_transfer_opts *opts)
{
	engine e;
	memset(&e, 0, sizeof(e));
	e.opts = opts;
	if (opts->jobs < 1 || opts->connections < 1 || opts->chunk_size < 65536)
		return arca_error_set(ARCA_EINVALID, "download: jobs and connections must be at least "
			"1 and chunks at least 64 KiB");
	if (!(e.multi = curl_multi_init()))
		return arca_error_set(ARCA_ENOMEM, "download: out of memory");
	arca_http_url_origin(e.hub_origin, sizeof(e.hub_origin), opts->hub->endpoint);
	arca_err err = init_jobs(&e, items, n);
	double last_progress = 0;
	while (err == ARCA_OK && (e.next_job < e.n_jobs || e.active > 0)) {
		start_jobs(&e);
		int running;
		curl_multi_perform(e.multi, &running);
		cancel_superseded(&e);
		collect_finished(&e);
		finish_hashed(&e);
		for (size_t i = 0; i < e.next_job; i++)
			if (e.jobs[i].state != J_DONE && e.jobs[i].state_dirty)
				save_state(&e, &e.jobs[i]);
		/* hand out the work that just freed up before sleeping, or every finished chunk
		 * would cost a poll timeout */
		start_jobs(&e);
		double t = now();
		if (opts->on_progress && t - last_progress >= 0.1) {
			last_progress = t;
			arca_transfer_progress p;
			fill_progress(&e, &p);
			if (opts->on_progress(&p, opts->payload)) {
				stop_all(&e);
				err = arca_error_set(ARCA_EINTERRUPTED, "download interrupted");
				break;
			}
		}
		if (e.next_job < e.n_jobs || e.active > 0)
			curl_multi_poll(e.multi, NULL, 0, next_wait_ms(&e), NULL);
	}
	if (err == ARCA_OK && opts->on_progress) {
		arca_transfer_progress p = { e.total, e.total, "", 0, 0 };
		opts->on_progress(&p, opts->payload);
	}
	while (e.requests) {
		request *r = e.requests;
		detach_request(&e, r);
		free_request(r);
	}
	free_jobs(&e);
	curl_multi_cleanup(e.multi);
	return err;
}

void arca_transfer_item_dispose(arca_transfer_item *item)
{
	free(item->url);
	free(item->message);
	json_decref(item->evidence);
	item->url = NULL;
	item->message = NULL;
	item->evidence = NULL;
}
