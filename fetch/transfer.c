/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/transfer.c — the download engine's job state machine (contract in transfer.h; one
 * HTTP exchange and its bytes are transfer_request.c).
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

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch/transfer_internal.h"

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

/* Ends a job: releases what it holds; for a failure the partial is kept (resumable) unless
 * its bytes proved wrong. */
static void finish_job(engine *e, job *j, int discard_partial)
{
	arca_transfer__remove_requests_of(e, j);
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

/* ------------------------------------------------------------------ starting work */

/* Drops the requests of jobs that switched to one stream (see restart_as_stream). */
static void cancel_superseded(engine *e)
{
	request *r = e->requests;
	while (r) {
		request *next = r->next;
		job *j = r->job;
		if (j->cancel_others && r != j->stream) {
			arca_transfer__detach_request(e, r);
			arca_transfer__free_request(r);
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
			e->opts->chunk_size, f->git_sha1[0] != 0, arca_transfer__wake_loop, e->multi)) < 0)
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
		err = arca_transfer__start_request(e, j, j->item->url, is_hub_origin(e, j->item->url), 1,
			j->big ? next_chunk(e, j) : 0);
	} else if (j->state == J_RESOLVING) {
		/* the next hop of the resolve phase, once the previous answer is in */
		if (j->busy == 0 && j->data_url)
			err = arca_transfer__start_request(e, j, j->data_url, j->data_to_hub, 1,
				j->big ? next_chunk(e, j) : 0);
	} else if (j->state == J_DATA && !j->big) {
		if (j->busy == 0)
			err = arca_transfer__start_request(e, j, j->data_url, j->data_to_hub, 0, 0);
	} else if (j->state == J_DATA) {
		int limit = j->no_ranges ? 1 : e->opts->connections;
		while (err == ARCA_OK && j->busy < limit) {
			size_t i = j->no_ranges ? 0 : next_chunk(e, j);
			if (i >= j->n_chunks || (j->no_ranges && j->busy))
				break;
			err = arca_transfer__start_request(e, j, j->data_url, j->data_to_hub, 0, i);
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
	arca_transfer__remove_requests_of(e, j);
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
	if (j->big && r->fail == ARCA_OK && arca_transfer__flush_request(r) < 0)
		arca_transfer__request_fail(r, arca_error_last_code(), "%s", arca_error_last());
	arca_transfer__account_chunks(e, r);
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
		arca_transfer__detach_request(e, r);
		if (j->state != J_DONE)
			handle_answer(e, r, rc);
		arca_transfer__free_request(r);
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
		arca_transfer__remove_requests_of(e, j);
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
		arca_transfer__detach_request(&e, r);
		arca_transfer__free_request(r);
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
