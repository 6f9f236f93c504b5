/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/io.h — checked file I/O shared by every module, and the one atomic file writer.
 *
 * Every helper returns arca_err with a message naming the file. The atomic writer is how
 * arca creates any file a reader may see:
 *
 *   arca_atomic_open(&f, tmp_dir, final_path)   create a unique file in tmp_dir (same
 *                                               filesystem as final_path), mode 0600
 *   arca_atomic_write(&f, buf, len) ...         checked writes
 *   arca_atomic_commit(&f, mode)                fsync, close, chmod, rename onto final_path,
 *                                               fsync final_path's directory
 *   arca_atomic_dispose(&f)                     close and unlink the tmp if not committed,
 *                                               then free; always called, commit or not
 *
 * so a reader sees either the old file or the whole new one, never a part. The write and
 * fsync calls go through arca__io_hooks so tests can inject ENOSPC or short writes.
 */
#ifndef ARCA_COMMON_IO_H
#define ARCA_COMMON_IO_H

#include "arca/error.h"

#include <stdint.h>
#include <sys/types.h>

/* Test seam: replaced by fault-injection tests, NULL members mean the real call. */
typedef struct {
	ssize_t (*write)(int fd, const void *buf, size_t len);
	int (*fsync)(int fd);
} arca_io_hooks;
extern arca_io_hooks arca__io_hooks;

/* Writes all of buf or fails naming `what` (a path); retries EINTR and short writes. */
arca_err arca_io_write_all(int fd, const void *buf, size_t len, const char *what);

/* Reads until len bytes or end of file; *got_out = bytes read. */
arca_err arca_io_read_full(int fd, void *buf, size_t len, size_t *got_out, const char *what);

/* pread until len bytes or end of file. */
arca_err arca_io_pread_full(int fd, void *buf, size_t len, uint64_t offset, size_t *got_out,
	const char *what);

/* pwrite all of buf at offset or fail naming `what`. */
arca_err arca_io_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset,
	const char *what);

arca_err arca_io_fsync(int fd, const char *what);

/* fsync a directory so a rename or unlink inside it is durable. */
arca_err arca_io_fsync_dir(const char *dir);

/* mkdir -p; existing directories are fine. */
arca_err arca_io_mkdirs(const char *path, unsigned mode);

/* Reads a whole small file (at most max_len bytes, else ARCA_EINVALID). NUL-terminated. */
arca_err arca_io_read_file(char **out, size_t *len_out, const char *path, size_t max_len);

/* Opens an existing regular file read-only (close-on-exec); *size_out gets its size.
 * ARCA_EINVALID for anything that is not a regular file. */
arca_err arca_io_open_regular(int *fd_out, uint64_t *size_out, const char *path);

/* Reads fd from its position to its end in blocks of at most block_size bytes (a buffer of
 * that size is allocated), handing each to `consume`; after each block `progress` (may be
 * NULL) hears the bytes so far and may stop the stream (ARCA_EINTERRUPTED "<verb> <what>:
 * interrupted"). A consumer's error ends it. *done_out gets the bytes read. */
typedef arca_err (*arca_io_consume_fn)(void *ctx, const void *buf, size_t len);
arca_err arca_io_stream(int fd, size_t block_size, arca_io_consume_fn consume, void *ctx,
	int (*progress)(uint64_t done, void *payload), void *payload, const char *verb,
	const char *what, uint64_t *done_out);

/* Writes a whole small file atomically (tmp in the same directory). */
arca_err arca_io_write_file(const char *path, const void *buf, size_t len, unsigned mode);

/* *empty_out = 1 when the directory has no entries but "." and "..". */
arca_err arca_io_dir_is_empty(const char *path, int *empty_out);

/* Directory part of a path, malloc'ed ("." for a bare name). */
char *arca_io_dirname(const char *path);

typedef struct {
	int fd;
	char *tmp_path;
	char *final_path;
} arca_atomic_file;

#define ARCA_ATOMIC_FILE_INIT { -1, NULL, NULL }

arca_err arca_atomic_open(arca_atomic_file *f, const char *tmp_dir, const char *final_path);
arca_err arca_atomic_write(arca_atomic_file *f, const void *buf, size_t len);
arca_err arca_atomic_commit(arca_atomic_file *f, unsigned mode);
/* For writers that learn the final name only at the end (content-addressed blobs): opened
 * with final_path NULL, committed with the name. */
arca_err arca_atomic_commit_to(arca_atomic_file *f, const char *final_path, unsigned mode);
void arca_atomic_dispose(arca_atomic_file *f);

#endif
