/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/mapfile.c — read-only mappings of files outside the store (arca/mapfile.h).
 */
#include "arca/mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

arca_err arca_map_file(arca_mapped_file **out, const char *path)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return arca_error_errno(errno, "open %s", path);
	struct stat st;
	arca_err err = ARCA_OK;
	arca_mapped_file *m = NULL;
	if (fstat(fd, &st) != 0) {
		err = arca_error_errno(errno, "stat %s", path);
	} else if (!S_ISREG(st.st_mode)) {
		err = arca_error_set(ARCA_EINVALID, "%s: not a regular file", path);
	} else if (!(m = calloc(1, sizeof(*m)))) {
		err = arca_error_set(ARCA_ENOMEM, "map %s: out of memory", path);
	} else {
		m->size = (uint64_t)st.st_size;
		m->data = (const unsigned char *)"";
		if (m->size) {
			void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
			if (p == MAP_FAILED) {
				err = arca_error_errno(errno, "map %s", path);
				free(m);
				m = NULL;
			} else {
				m->data = p;
			}
		}
	}
	close(fd);
	*out = m;
	return err;
}

void arca_unmap_file(arca_mapped_file *map)
{
	if (!map)
		return;
	if (map->size)
		munmap((void *)map->data, map->size);
	free(map);
}
