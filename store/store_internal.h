/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/store_internal.h — the store handle and the one place blob paths are built. Only
 * files under store/ include this; everything else goes through arca/store.h.
 */
#ifndef ARCA_STORE_INTERNAL_H
#define ARCA_STORE_INTERNAL_H

#include "arca/catalog.h"
#include "arca/store.h"
#include "common/io.h"

struct arca_store {
	char *home;
	char *objects_dir; /* home/objects/sha256 */
	char *tmp_dir;     /* home/tmp */
	arca_catalog *catalog;
	int lock_fd;       /* -1 while unlocked */
};

/* home/objects/sha256/ab/cdef…; malloc'ed. sha256 must be 64 lowercase hex digits. */
char *arca_store__blob_path(const arca_store *store, const char *sha256);

/* ARCA_EINVALID unless s is 64 lowercase hex digits. */
arca_err arca_store__check_hash(const char *sha256);

/* Commits an atomic file holding a blob's bytes (digests computed from them) into
 * objects/ and records it in the catalog. */
arca_err arca_store__install_blob(arca_store *store, arca_atomic_file *file,
	const arca_file_digests *d);

/* One entry of the objects folder as found on disk. */
typedef struct {
	char sha256[ARCA_SHA256_HEX]; /* "" when the name is not a blob name */
	char *path;                   /* relative to objects/sha256, for stray entries */
	uint64_t size;
} arca_store__object;

/* Lists objects/sha256 sorted by hash (stray entries last). */
arca_err arca_store__list_objects(arca_store__object **out, size_t *n_out, arca_store *store);
void arca_store__objects_free(arca_store__object *objects, size_t n);

#endif
