/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/hub_view.c — the Hub's description of a stored file (store/hub_view.h): LFS or git,
 * and the LFS pointer with its git oid.
 */
#include "store/hub_view.h"

#include <stdio.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Would the Hub keep this file in LFS? (for snapshots without hub oids) */
static int lfs_like(const arca_file *f)
{
	static const char *const weights[] = { ".safetensors", ".bin", ".gguf", ".pt", ".pth",
		".onnx", ".msgpack", ".h5", ".ckpt", ".model", ".npz", ".zst", ".tar", NULL };
	if (f->size > ARCA_HUB_LFS_THRESHOLD)
		return 1;
	for (const char *const *w = weights; *w; w++)
		if (ends_with(f->path, *w))
			return 1;
	return 0;
}

int arca_store__hub_is_lfs(const char *hub, const arca_file *f)
{
	if (!strcmp(hub, "hf") && f->oid_kind)
		return !strcmp(f->oid_kind, "sha256");
	return lfs_like(f);
}

size_t arca_store__lfs_pointer(char *buf, size_t cap, const char *sha256, uint64_t size)
{
	int n = snprintf(buf, cap, "version https://git-lfs.github.com/spec/v1\noid sha256:%s\n"
		"size %llu\n", sha256, (unsigned long long)size);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

arca_err arca_store__lfs_pointer_oid(char out[ARCA_SHA1_HEX], const char *sha256,
	uint64_t size)
{
	char pointer[200];
	size_t n = arca_store__lfs_pointer(pointer, sizeof(pointer), sha256, size);
	unsigned char raw[ARCA_SHA1_LEN];
	arca_err err = arca_gitblob_buffer(raw, pointer, n);
	if (err == ARCA_OK)
		arca_hex_encode(out, raw, ARCA_SHA1_LEN);
	return err;
}
