/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/mapfile.h — a whole file mapped read-only, for tools that read a model file outside
 * the store (`arca inspect FILE`). Store blobs are mapped through arca/store.h instead.
 */
#ifndef ARCA_MAPFILE_H
#define ARCA_MAPFILE_H

#include <stdint.h>

#include "arca/error.h"

typedef struct {
	const unsigned char *data;
	uint64_t size;
} arca_mapped_file;

/* ARCA_ENOTFOUND / ARCA_EDENIED / ARCA_EINVALID (not a regular file) naming the path. */
arca_err arca_map_file(arca_mapped_file **out, const char *path);
void arca_unmap_file(arca_mapped_file *map);

#endif
