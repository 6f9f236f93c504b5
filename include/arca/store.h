/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/store.h — the object store: a directory of immutable blobs named by the SHA-256 of
 * their bytes, with the SQLite catalog beside them.
 *
 *   $ARCA_HOME/catalog.db              the catalog (arca/catalog.h)
 *   $ARCA_HOME/objects/sha256/ab/cd…   one read-only file per blob
 *   $ARCA_HOME/tmp/                    in-flight writes; never read as content
 *   $ARCA_HOME/keys/                   signing keys (0700)
 *   $ARCA_HOME/lock                    flock: shared for adders, exclusive for removers
 *
 * Invariants:
 *   1. A blob file appears only by rename from tmp/ after its bytes were hashed, matched the
 *      expected hash (when one was given) and were fsync'ed; the directory is fsync'ed after.
 *   2. The name of a blob is the hash of its bytes; a blob is never modified in place.
 *   3. Callers never build blob paths: they open, read, map, stat, verify or export blobs
 *      through this API, so a blob may later be stored compressed or chunked.
 *   4. Processes that add take the lock shared and run side by side (content addressing and
 *      SQLite transactions keep them apart); processes that remove (gc) take it exclusive.
 *
 * An arca_store is used by one thread at a time, except the blob readers and maps it hands
 * out, which are independent. Nothing here prints or exits.
 */
#ifndef ARCA_STORE_H
#define ARCA_STORE_H

#include "arca/digest.h"
#include "arca/error.h"

#include <stdint.h>

typedef struct arca_store arca_store;
typedef struct arca_catalog arca_catalog;

/* $ARCA_HOME, else $XDG_DATA_HOME/arca, else $HOME/.local/share/arca. malloc'ed. */
arca_err arca_store_default_home(char **out);

/* Creates the layout and catalog at `home` (which may exist if empty or already a store).
 * *created_out is 1 when a new store was made, 0 when one was already there. */
arca_err arca_store_init(const char *home, int *created_out);

/* Opens an existing store. ARCA_ENOTFOUND when `home` is missing or is not a store,
 * ARCA_EVERSION when the catalog was written by a newer arca. */
arca_err arca_store_open(arca_store **out, const char *home);
void arca_store_free(arca_store *store);

const char *arca_store_home(const arca_store *store);

/* The store's catalog; borrowed, lives as long as the store. */
arca_catalog *arca_store_catalog(arca_store *store);

/* ------------------------------------------------------------------ locking */

typedef enum { ARCA_LOCK_SHARED, ARCA_LOCK_EXCLUSIVE } arca_lock_mode;

/* Called once when the lock is busy and the caller will wait. */
typedef void (*arca_lock_wait_cb)(const char *holder, void *payload);

/* Takes the store lock, waiting up to timeout_ms (-1: forever, 0: not at all).
 * ARCA_ELOCKED when the time runs out. Released by arca_store_unlock or arca_store_free. */
arca_err arca_store_lock(arca_store *store, arca_lock_mode mode, int timeout_ms,
	arca_lock_wait_cb on_wait, void *payload);
void arca_store_unlock(arca_store *store);

/* ------------------------------------------------------------------ writing blobs */

typedef struct arca_blob_writer arca_blob_writer;

typedef struct {
	const char *expect_sha256;   /* NULL: accept whatever arrives */
	int64_t expect_size;         /* -1: unknown; needed for want_git_sha1 */
	int want_git_sha1;           /* also compute the git blob id (needs expect_size) */
	const char *expect_git_sha1; /* NULL, or the git blob id the bytes must have */
} arca_blob_writer_opts;

#define ARCA_BLOB_WRITER_OPTS_INIT { NULL, -1, 0, NULL }

/* Starts a blob in tmp/. */
arca_err arca_blob_writer_new(arca_blob_writer **out, arca_store *store,
	const arca_blob_writer_opts *opts);

/* Appends bytes, hashing them on the way. */
arca_err arca_blob_writer_write(arca_blob_writer *w, const void *buf, size_t len);

/* Checks size and hash, fsyncs, renames into objects/ and records the blob in the catalog.
 * ARCA_EMISMATCH (nothing stored) when the bytes do not match the expectation. */
arca_err arca_blob_writer_commit(arca_blob_writer *w, arca_file_digests *out);

/* Frees the writer; an uncommitted blob's tmp file is removed. */
void arca_blob_writer_free(arca_blob_writer *w);

/* Progress while copying a file into the store: bytes done of this file. */
typedef int (*arca_copy_progress_cb)(uint64_t done, void *payload);

/* Copies a regular file into the store (sha256 and git blob id computed in the same pass). */
arca_err arca_store_put_file(arca_store *store, const char *path, arca_file_digests *out,
	arca_copy_progress_cb progress, void *payload);

/* Stores a buffer. */
arca_err arca_store_put_buffer(arca_store *store, const void *buf, size_t len,
	arca_file_digests *out);

/* ------------------------------------------------------------------ partial downloads */

/*
 * A partial is a download that may take several runs: tmp/partial-<key> holds the bytes
 * at their offsets (a sparse file of the final size) and tmp/partial-<key>.state the
 * caller's record of which ranges are there. Both survive Ctrl-C and kill -9; the state
 * is rewritten atomically, the data is not fsync'ed until commit (a power cut can leave a
 * range recorded but unwritten, which the final hash check catches). A partial is locked
 * by the process using it: a second process gets ARCA_ELOCKED.
 */
typedef struct arca_partial arca_partial;

/* key: a hash naming the expected content (hex). Opens or creates the partial; its saved
 * state is dropped when the recorded size differs from `size`. */
arca_err arca_store_partial_open(arca_partial **out, arca_store *store, const char *key,
	uint64_t size);
int arca_partial_fd(const arca_partial *partial);
/* The state saved by an earlier run, or NULL. Borrowed. */
const char *arca_partial_saved_state(const arca_partial *partial);
arca_err arca_partial_save_state(arca_partial *partial, const char *state);
/* Forgets the saved state and empties the data (start over). */
arca_err arca_partial_reset(arca_partial *partial);
/* Turns the finished data into a blob. `digests` must have been computed from the file's
 * bytes by the caller; the data is fsync'ed, renamed into objects/ and recorded. */
arca_err arca_partial_commit(arca_partial *partial, const arca_file_digests *digests);
/* Closes, keeping data and state for the next run (or removing them when discard). */
void arca_partial_close(arca_partial *partial, int discard);

/* ------------------------------------------------------------------ reading blobs */

/* Size of a stored blob; ARCA_ENOTFOUND when absent. */
arca_err arca_store_stat_blob(arca_store *store, const char *sha256, uint64_t *size_out);

/* Opens a stored blob to send its bytes as they are (sendfile): a read-only descriptor at
 * offset 0 that the caller closes, and the blob's size. ARCA_ENOTFOUND when absent. */
arca_err arca_store_open_blob_fd(int *fd_out, uint64_t *size_out, arca_store *store,
	const char *sha256);

typedef struct arca_blob_reader arca_blob_reader;

arca_err arca_store_open_blob(arca_blob_reader **out, arca_store *store, const char *sha256);
/* Reads up to len bytes; *got_out = 0 at the end. */
arca_err arca_blob_read(arca_blob_reader *r, void *buf, size_t len, size_t *got_out);
arca_err arca_blob_pread(arca_blob_reader *r, void *buf, size_t len, uint64_t offset,
	size_t *got_out);
uint64_t arca_blob_reader_size(const arca_blob_reader *r);
void arca_blob_reader_free(arca_blob_reader *r);

/* A read-only mapping of a whole blob. */
typedef struct {
	const unsigned char *data;
	uint64_t size;
} arca_blob_map;

arca_err arca_store_map_blob(arca_blob_map **out, arca_store *store, const char *sha256);
void arca_blob_map_free(arca_blob_map *map);

/* The digests of a stored blob's bytes as they are now (ARCA_ENOTFOUND when missing). */
arca_err arca_store_hash_blob(arca_store *store, const char *sha256, arca_file_digests *out,
	arca_hash_progress_cb progress, void *payload);

/* Re-hashes a stored blob; ARCA_EMISMATCH when its bytes no longer match its name,
 * ARCA_ENOTFOUND when it is missing. */
arca_err arca_store_verify_blob(arca_store *store, const char *sha256,
	arca_hash_progress_cb progress, void *payload);

enum {
	ARCA_EXPORT_COPY = 1,   /* never hard-link */
	ARCA_EXPORT_VERIFY = 2, /* hash the blob on the way out; ARCA_EMISMATCH if it changed */
};

typedef enum { ARCA_EXPORTED_LINK, ARCA_EXPORTED_COPY } arca_export_how;

/* Puts a blob's bytes at dst_path (replacing what is there) by hard link when dst is on the
 * store's filesystem, else by copy; either way dst appears atomically. With
 * ARCA_EXPORT_VERIFY the blob is read once: hashed before linking, or while copying.
 * progress (may be NULL) sees the bytes hashed or copied. */
arca_err arca_store_export_blob(arca_store *store, const char *sha256, const char *dst_path,
	unsigned flags, arca_hash_progress_cb progress, void *payload, arca_export_how *how_out);

#endif
