/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/file_write.h — writing a whole small file for tools outside the store (reports):
 * a temporary file in the same folder, fsync'ed, then renamed over the path, so a reader
 * sees the old file or the new one, never half of it.
 */
#ifndef ARCA_FILE_WRITE_H
#define ARCA_FILE_WRITE_H

#include <stddef.h>

#include "arca/error.h"

/* ARCA_EDENIED / ARCA_ENOTFOUND (no such folder) / ARCA_EIO naming the path. */
arca_err arca_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode);

#endif
