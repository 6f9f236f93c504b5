/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/chunk_hasher.h — a thread that hashes a file while it is being downloaded out of
 * order: chunks are marked complete as they land, the thread hashes the completed prefix
 * in order (reading back from the page cache) and finishes with sha256 (and the git blob
 * id when asked). It wakes the download loop when done.
 */
#ifndef ARCA_FETCH_CHUNK_HASHER_H
#define ARCA_FETCH_CHUNK_HASHER_H

#include <stddef.h>
#include <stdint.h>

#include "arca/digest.h"
#include "arca/error.h"

typedef struct arca_chunk_hasher arca_chunk_hasher;

typedef void (*arca_chunk_hasher_wake_fn)(void *payload);

/* Starts the thread over fd (size bytes in chunks of chunk_size; the last may be short). */
arca_err arca_chunk_hasher_start(arca_chunk_hasher **out, int fd, const char *what,
	uint64_t size, uint64_t chunk_size, int want_git_sha1, arca_chunk_hasher_wake_fn wake,
	void *payload);

/* Chunk i is complete on disk. */
void arca_chunk_hasher_mark(arca_chunk_hasher *h, size_t i);

/* Bytes hashed so far. */
uint64_t arca_chunk_hasher_progress(arca_chunk_hasher *h);

/* True once every chunk is hashed (or hashing failed). */
int arca_chunk_hasher_finished(arca_chunk_hasher *h);

/* After finished: the digests, or the error the thread hit (restored on this thread). */
arca_err arca_chunk_hasher_result(arca_chunk_hasher *h, arca_file_digests *out);

/* Stops the thread if it runs, joins and frees it. NULL is fine. */
void arca_chunk_hasher_free(arca_chunk_hasher *h);

#endif
