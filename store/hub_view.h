/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/hub_view.h — how the Hugging Face Hub would describe a stored file: kept in LFS or in
 * git, the git oid its tree lists (the content's, or the LFS pointer's), and the pointer
 * itself. The hf-cache checkout (hfcache.c) and arca serve (serve_*.c) describe files the
 * same way through these; only files under store/ include this header.
 */
#ifndef ARCA_STORE_HUB_VIEW_H
#define ARCA_STORE_HUB_VIEW_H

#include "arca/catalog.h"

/* Files over this size go to LFS when nothing says otherwise (the Hub's own rule). */
#define ARCA_HUB_LFS_THRESHOLD (10u << 20)

/* Whether the Hub keeps the file in LFS. A Hugging Face snapshot's listing said so (its hub
 * oid is the sha256); for other snapshots decide as the Hub would: large files and weights. */
int arca_store__hub_is_lfs(const char *hub, const arca_file *f);

/* The LFS pointer text of content with this sha256 and size into buf (cap >= 200); returns
 * its length. */
size_t arca_store__lfs_pointer(char *buf, size_t cap, const char *sha256, uint64_t size);

/* The git oid of that pointer: what the Hub's tree lists as an LFS file's oid. */
arca_err arca_store__lfs_pointer_oid(char out[ARCA_SHA1_HEX], const char *sha256,
	uint64_t size);

#endif
