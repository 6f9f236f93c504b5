/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/transfer_request.c — one HTTP exchange of the download engine (transfer.c drives
 * them): setting up the curl handle (token only for the hub's origin, Range for a chunk),
 * deciding what the first body bytes are (an error page, the file, a 200 to a ranged
 * request that restarts the file as one stream, a Content-Range that does not fit), and
 * writing the bytes: small files into a blob writer, large ones at their offsets in whole
 * aligned blocks, handed to the disk as they go, with the completed chunks marked for the
 * hasher.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "common/io.h"
#include "fetch/transfer_internal.h"

void arca_transfer__free_request(request *r)
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
arca_err arca_transfer__flush_request(request *r)
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

void arca_transfer__detach_request(engine *e, request *r)
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

void arca_transfer__remove_requests_of(engine *e, job *j)
{
	request *r = e->requests;
	while (r) {
		request *next = r->next;
		if (r->job == j) {
			/* keep what a dropped request received: its chunk continues from there */
			if (arca_transfer__flush_request(r) < 0)
				arca_error_clear(); /* not kept: fetched again */
			arca_transfer__account_chunks(e, r);
			arca_transfer__detach_request(e, r);
			arca_transfer__free_request(r);
		}
		r = next;
	}
}

void arca_transfer__request_fail(request *r, arca_err err, const char *fmt, ...)
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
			j->file->size, e->opts->chunk_size, j->file->git_sha1[0] != 0, arca_transfer__wake_loop,
			e->multi);
	if (err < 0) {
		arca_transfer__request_fail(r, err, "%s", arca_error_last());
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
		arca_transfer__request_fail(r, ARCA_ECORRUPT, "the server sent the file %s-compressed although "
			"arca asked for identity; compressed bytes cannot be checked", encoding);
		return 0;
	}
	const char *length = arca_http_header_get(&r->resp, "Content-Length");
	if (r->status == 200 && length && strtoull(length, NULL, 10) != j->file->size) {
		arca_transfer__request_fail(r, ARCA_EMISMATCH, "the listing says %llu bytes but the server sends %s",
			(unsigned long long)j->file->size, length);
		return 0;
	}
	if (!j->big)
		return 1;
	if (r->status == 200)
		return r->ranged ? restart_as_stream(r) : 1;
	const char *range = arca_http_header_get(&r->resp, "Content-Range");
	if (!content_range_ok(range, r->start, j->file->size)) {
		arca_transfer__request_fail(r, ARCA_EMISMATCH, "the server's Content-Range '%s' does not match the "
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
		arca_transfer__request_fail(r, ARCA_EMISMATCH, "the server sent more than the listed %llu bytes",
			(unsigned long long)j->file->size);
		return 0;
	}
	if (!j->big) {
		arca_err err = arca_blob_writer_write(j->writer, data, len);
		if (err < 0) {
			arca_transfer__request_fail(r, err, "%s", arca_error_last());
			return 0;
		}
		r->pos += len;
		j->item->received += len;
		return len;
	}
	if (!r->wbuf && !(r->wbuf = malloc(WRITE_BLOCK))) {
		arca_transfer__request_fail(r, ARCA_ENOMEM, "download: out of memory");
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
		arca_err err = arca_transfer__flush_request(r);
		if (err < 0) {
			arca_transfer__request_fail(r, err, "%s", arca_error_last());
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
			arca_transfer__account_chunks(r->engine, r);
	}
	return len;
}

/* Records how far a large-file request has written, marking the chunks it completed. The
 * request wrote [start, pos) contiguously and started where its first chunk had reached,
 * so every chunk it touched is complete up to min(pos, chunk end). Main thread. */
void arca_transfer__account_chunks(engine *e, request *r)
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

arca_err arca_transfer__start_request(engine *e, job *j, const char *url, int to_hub, int resolving,
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
		arca_transfer__free_request(r);
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
		arca_transfer__free_request(r);
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
		arca_transfer__free_request(r);
		return arca_error_set(ARCA_ENET, "download: curl refused a request");
	}
	r->next = e->requests;
	e->requests = r;
	j->busy++;
	return ARCA_OK;
}

void arca_transfer__wake_loop(void *payload)
{
	curl_multi_wakeup(payload);
}
