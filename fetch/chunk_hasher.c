/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/chunk_hasher.c — see chunk_hasher.h. The download loop and this thread share only
 * the `done` flags, the stop flag and the result, all under one mutex.
 */
#include "fetch/chunk_hasher.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/io.h"

/* Reads small enough to stay in the CPU's cache between the copy out of the page cache and
 * the hash that reads them again. */
#define READ_BLOCK (256u << 10)

struct arca_chunk_hasher {
	int fd;
	char *what;
	uint64_t size, chunk_size;
	size_t n_chunks;
	int want_git_sha1;
	arca_chunk_hasher_wake_fn wake;
	void *payload;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned char *done;   /* per chunk, under mu */
	int stop;              /* under mu */
	int finished;          /* under mu */
	uint64_t hashed;       /* under mu */
	arca_error_saved error;
	arca_file_digests result;
};

static int wait_for_chunk(arca_chunk_hasher *h, size_t i)
{
	pthread_mutex_lock(&h->mu);
	while (!h->done[i] && !h->stop)
		pthread_cond_wait(&h->cv, &h->mu);
	int go = !h->stop;
	pthread_mutex_unlock(&h->mu);
	return go;
}

static arca_err hash_all(arca_chunk_hasher *h)
{
	arca_digest *sha256 = NULL, *sha1 = NULL;
	unsigned char *buf = malloc(READ_BLOCK);
	arca_err err = buf ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "hash %s: out of memory", h->what);
	if (err == ARCA_OK)
		err = arca_digest_new(&sha256, ARCA_DIGEST_SHA256);
	if (err == ARCA_OK && h->want_git_sha1)
		err = arca_digest_new_gitblob(&sha1, h->size);
	for (size_t i = 0; err == ARCA_OK && i < h->n_chunks; i++) {
		if (!wait_for_chunk(h, i)) {
			err = arca_error_set(ARCA_EINTERRUPTED, "hash %s: stopped", h->what);
			break;
		}
		uint64_t start = (uint64_t)i * h->chunk_size;
		uint64_t end = start + h->chunk_size < h->size ? start + h->chunk_size : h->size;
		for (uint64_t off = start; err == ARCA_OK && off < end;) {
			size_t want = end - off < READ_BLOCK ? (size_t)(end - off) : READ_BLOCK;
			size_t got;
			if ((err = arca_io_pread_full(h->fd, buf, want, off, &got, h->what)) < 0)
				break;
			if (got != want) {
				err = arca_error_set(ARCA_EIO, "hash %s: file shorter than expected", h->what);
				break;
			}
			if ((err = arca_digest_update(sha256, buf, got)) == ARCA_OK && sha1)
				err = arca_digest_update(sha1, buf, got);
			off += got;
			pthread_mutex_lock(&h->mu);
			h->hashed = off;
			pthread_mutex_unlock(&h->mu);
		}
		/* start writing the hashed chunk to disk now, so the fsync before the blob is
		 * committed has little left to wait for (a hint: failures change nothing) */
		sync_file_range(h->fd, (off_t)start, (off_t)(end - start), SYNC_FILE_RANGE_WRITE);
	}
	unsigned char raw[ARCA_SHA256_LEN];
	if (err == ARCA_OK && (err = arca_digest_final(sha256, raw)) == ARCA_OK) {
		arca_hex_encode(h->result.sha256, raw, ARCA_SHA256_LEN);
		if (sha1 && (err = arca_digest_final(sha1, raw)) == ARCA_OK)
			arca_hex_encode(h->result.git_sha1, raw, ARCA_SHA1_LEN);
		h->result.size = h->size;
	}
	arca_digest_free(sha256);
	arca_digest_free(sha1);
	free(buf);
	return err;
}

static void *run(void *arg)
{
	arca_chunk_hasher *h = arg;
	arca_err err = hash_all(h);
	pthread_mutex_lock(&h->mu);
	if (err < 0)
		arca_error_save(&h->error);
	h->finished = 1;
	pthread_mutex_unlock(&h->mu);
	if (h->wake)
		h->wake(h->payload);
	return NULL;
}

arca_err arca_chunk_hasher_start(arca_chunk_hasher **out, int fd, const char *what,
	uint64_t size, uint64_t chunk_size, int want_git_sha1, arca_chunk_hasher_wake_fn wake,
	void *payload)
{
	*out = NULL;
	arca_chunk_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return arca_error_set(ARCA_ENOMEM, "hash %s: out of memory", what);
	h->fd = fd;
	h->size = size;
	h->chunk_size = chunk_size;
	h->n_chunks = size ? (size_t)((size + chunk_size - 1) / chunk_size) : 0;
	h->want_git_sha1 = want_git_sha1;
	h->wake = wake;
	h->payload = payload;
	h->what = strdup(what);
	h->done = calloc(h->n_chunks + 1, 1);
	if (!h->what || !h->done) {
		free(h->what);
		free(h->done);
		free(h);
		return arca_error_set(ARCA_ENOMEM, "hash %s: out of memory", what);
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (pthread_create(&h->thread, NULL, run, h) != 0) {
		pthread_mutex_destroy(&h->mu);
		pthread_cond_destroy(&h->cv);
		free(h->what);
		free(h->done);
		free(h);
		return arca_error_set(ARCA_EIO, "hash %s: cannot start a thread", what);
	}
	*out = h;
	return ARCA_OK;
}

void arca_chunk_hasher_mark(arca_chunk_hasher *h, size_t i)
{
	pthread_mutex_lock(&h->mu);
	if (i < h->n_chunks && !h->done[i]) {
		h->done[i] = 1;
		pthread_cond_signal(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
}

uint64_t arca_chunk_hasher_progress(arca_chunk_hasher *h)
{
	pthread_mutex_lock(&h->mu);
	uint64_t n = h->hashed;
	pthread_mutex_unlock(&h->mu);
	return n;
}

int arca_chunk_hasher_finished(arca_chunk_hasher *h)
{
	pthread_mutex_lock(&h->mu);
	int f = h->finished;
	pthread_mutex_unlock(&h->mu);
	return f;
}

arca_err arca_chunk_hasher_result(arca_chunk_hasher *h, arca_file_digests *out)
{
	pthread_mutex_lock(&h->mu);
	arca_err err = h->error.code;
	if (err < 0)
		arca_error_restore(&h->error);
	else
		*out = h->result;
	pthread_mutex_unlock(&h->mu);
	return err;
}

void arca_chunk_hasher_free(arca_chunk_hasher *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h->what);
	free(h->done);
	free(h);
}
