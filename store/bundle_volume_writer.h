/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/bundle_volume_writer.h — writing one bundle volume: tar entries in, a zstd-compressed
 * pax tar out, appearing at its path only when committed. Internal to store/.
 */
#ifndef ARCA_STORE_BUNDLE_VOLUME_WRITER_H
#define ARCA_STORE_BUNDLE_VOLUME_WRITER_H

#include "arca/error.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct arca_volume_writer arca_volume_writer;

/* Starts a volume for `path` (a temporary file beside it until commit); zstd `level`,
 * `threads` workers (1: none); *threads_used says how many compress. Free it either way. */
arca_err arca_volume_writer_open(arca_volume_writer **out, const char *path, int level,
	int threads, int *threads_used);
/* A regular file entry of `size` bytes, then exactly that many bytes of data. */
arca_err arca_volume_writer_begin(arca_volume_writer *w, const char *name, uint64_t size,
	time_t mtime);
arca_err arca_volume_writer_data(arca_volume_writer *w, const void *buf, size_t len);
/* Both at once, for a small entry. */
arca_err arca_volume_writer_entry(arca_volume_writer *w, const char *name, const void *buf,
	size_t len, time_t mtime);
/* Ends the archive and the zstd frame, fsyncs and renames into place; *bytes_out (may be
 * NULL) gets the volume's size. */
arca_err arca_volume_writer_commit(arca_volume_writer *w, uint64_t *bytes_out);
/* Frees; an uncommitted volume's temporary file is removed. */
void arca_volume_writer_free(arca_volume_writer *w);

#endif
