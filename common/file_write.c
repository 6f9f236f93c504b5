/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/file_write.c — arca/file_write.h: the public face of arca_io_write_file.
 */
#include "arca/file_write.h"

#include "common/io.h"

arca_err arca_file_write_atomic(const char *path, const void *buf, size_t len, unsigned mode)
{
	return arca_io_write_file(path, buf, len, mode);
}
