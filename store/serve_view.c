/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/serve_view.c — the store seen as a hub, for arca serve: which stored model a URL's
 * org/name is (hf:, then local:, then modelscope:), which complete snapshot a revision is,
 * and how the Hub would list a file (git or LFS, its oid) or a folder (its git tree oid).
 *
 * What the store knows is used first: a Hugging Face pull recorded which files are LFS and
 * their hub oids; the blobs table has every git blob id `arca add` computed. A git file
 * whose blob id was never recorded is hashed once per request that needs it (small files
 * only: anything over the LFS threshold is listed as LFS).
 */
#include "store/serve_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/hub_view.h"

/* The hubs a name is looked up in, in order. */
static const char *const served_hubs[] = { "hf", "local", "modelscope" };

void arca_serve__rev_dispose(serve_rev *rev)
{
	arca_snapshot_dispose(&rev->snap);
}

int arca_serve__find_model(serve_rev *out, serve_req *r, const char *org, const char *name,
	enum MHD_Result *ret)
{
	memset(out, 0, sizeof(*out));
	arca_ref ref;
	char text[300];
	snprintf(text, sizeof(text), "%.100s/%.100s", org, name);
	/* a name that cannot be a model's is, to the client, one the store does not have */
	if (strlen(org) > 96 || strlen(name) > 96 || arca_ref_parse(&ref, text) < 0 ||
	    ref.revision[0] || ref.hub[0] || ref.variant[0]) {
		arca_error_clear();
		*ret = arca_serve__reply_error(r, 404, "RepoNotFound", NULL,
			"Repository not found: %s", text);
		return 0;
	}
	for (size_t i = 0; i < sizeof(served_hubs) / sizeof(served_hubs[0]); i++) {
		int found = 0;
		arca_err err = arca_catalog_has_repo(arca_store_catalog(r->store), served_hubs[i],
			ref.repo_id, &found);
		if (err < 0) {
			*ret = arca_serve__reply_failure(r, err);
			return 0;
		}
		if (found) {
			snprintf(out->hub, sizeof(out->hub), "%s", served_hubs[i]);
			snprintf(out->repo_id, sizeof(out->repo_id), "%s", ref.repo_id);
			snprintf(out->org, sizeof(out->org), "%s", org);
			return 1;
		}
	}
	*ret = arca_serve__reply_error(r, 404, "RepoNotFound", NULL, "Repository not found: %s",
		ref.repo_id);
	return 0;
}

int arca_serve__open_revision(serve_rev *out, serve_req *r, const char *org, const char *name,
	const char *rev, enum MHD_Result *ret)
{
	if (!arca_serve__find_model(out, r, org, name, ret))
		return 0;
	arca_ref ref;
	memset(&ref, 0, sizeof(ref));
	snprintf(ref.hub, sizeof(ref.hub), "%s", out->hub);
	snprintf(ref.repo_id, sizeof(ref.repo_id), "%s", out->repo_id);
	/* "HEAD" is what huggingface.js asks for when no revision is given */
	if (rev && strcmp(rev, "HEAD") != 0) {
		if (strlen(rev) >= sizeof(ref.revision)) {
			*ret = arca_serve__reply_error(r, 404, "RevisionNotFound", NULL,
				"Invalid rev id: revision too long");
			return 0;
		}
		snprintf(ref.revision, sizeof(ref.revision), "%s", rev);
	}
	const char *shown = ref.revision[0] ? ref.revision : "the default branch";
	arca_err err = arca_catalog_find_snapshot(&out->snap, arca_store_catalog(r->store), &ref);
	if (err == ARCA_OK && strcmp(out->snap.state, "complete") != 0) {
		arca_snapshot_dispose(&out->snap);
		*ret = arca_serve__reply_error(r, 404, "RevisionNotFound", NULL,
			"Invalid rev id: %s (the store's snapshot is incomplete)", shown);
		return 0;
	}
	if (err == ARCA_ENOTFOUND || err == ARCA_EINVALID) {
		arca_error_clear();
		*ret = arca_serve__reply_error(r, 404, "RevisionNotFound", NULL, "Invalid rev id: %s",
			shown);
		return 0;
	}
	if (err < 0) {
		*ret = arca_serve__reply_failure(r, err);
		return 0;
	}
	snprintf(out->commit, sizeof(out->commit), "%.40s", out->snap.commit);
	return 1;
}

/* The git blob id of a stored blob's bytes. */
static arca_err hash_git_blob(char out[ARCA_SHA1_HEX], arca_store *store, const arca_file *f)
{
	int fd;
	uint64_t size;
	arca_err err = arca_store_open_blob_fd(&fd, &size, store, f->sha256);
	if (err < 0)
		return err;
	arca_file_digests d;
	if ((err = arca_hash_fd(&d, fd, f->path, ARCA_HASH_GIT_SHA1, NULL, NULL)) == ARCA_OK)
		memcpy(out, d.git_sha1, ARCA_SHA1_HEX);
	close(fd);
	return err;
}

arca_err arca_serve__describe(serve_entry *out, arca_store *store, const serve_rev *rev,
	arca_file *f)
{
	memset(out, 0, sizeof(*out));
	if (!arca_hex_is_lower(f->sha256, 64))
		return arca_error_set(ARCA_ECORRUPT, "%s has no stored content", f->path);
	/* a git file whose id is not known and too big to hash on demand is listed as LFS */
	out->lfs = arca_store__hub_is_lfs(rev->hub, f) ||
		(!f->git_sha1[0] && f->size > ARCA_HUB_LFS_THRESHOLD);
	if (out->lfs) {
		char pointer[200];
		out->pointer_size = arca_store__lfs_pointer(pointer, sizeof(pointer), f->sha256, f->size);
		memcpy(out->etag, f->sha256, ARCA_SHA256_HEX);
		return arca_store__lfs_pointer_oid(out->oid, f->sha256, f->size);
	}
	if (!f->git_sha1[0]) {
		if (f->hub_oid && f->oid_kind && !strcmp(f->oid_kind, "git-sha1") &&
		    arca_hex_is_lower(f->hub_oid, 40)) {
			memcpy(f->git_sha1, f->hub_oid, ARCA_SHA1_HEX);
		} else {
			arca_err err = hash_git_blob(f->git_sha1, store, f);
			if (err < 0)
				return err;
		}
	}
	memcpy(out->oid, f->git_sha1, ARCA_SHA1_HEX);
	memcpy(out->etag, f->git_sha1, ARCA_SHA1_HEX);
	return ARCA_OK;
}

/* Appends one git tree entry ("<mode> <name>\0" + 20 raw bytes) to the digest. */
static arca_err tree_entry(arca_digest *d, const char *mode, const char *name, size_t name_len,
	const char *oid_hex)
{
	unsigned char raw[ARCA_SHA1_LEN];
	arca_err err = arca_hex_decode(raw, ARCA_SHA1_LEN, oid_hex);
	if (err == ARCA_OK)
		err = arca_digest_update(d, mode, strlen(mode));
	if (err == ARCA_OK)
		err = arca_digest_update(d, " ", 1);
	if (err == ARCA_OK)
		err = arca_digest_update(d, name, name_len);
	if (err == ARCA_OK)
		err = arca_digest_update(d, "", 1);
	if (err == ARCA_OK)
		err = arca_digest_update(d, raw, ARCA_SHA1_LEN);
	return err;
}

/* The size of the tree object for files[lo..hi), which git needs before the content. */
static uint64_t tree_size(const arca_file *files, size_t lo, size_t hi, size_t prefix_len)
{
	uint64_t n = 0;
	for (size_t i = lo; i < hi;) {
		const char *name = files[i].path + prefix_len + 1;
		const char *slash = strchr(name, '/');
		size_t len = slash ? (size_t)(slash - name) : strlen(name);
		n += (slash ? 6 : 7) + len + 1 + ARCA_SHA1_LEN; /* "40000 " or "100644 " */
		size_t j = i + 1;
		while (slash && j < hi && !strncmp(files[j].path, files[i].path, prefix_len + 2 + len))
			j++;
		i = j;
	}
	return n;
}

arca_err arca_serve__tree_oid(char out[ARCA_SHA1_HEX], arca_store *store, const serve_rev *rev,
	arca_file *files, size_t lo, size_t hi, size_t prefix_len)
{
	/* paths sorted bytewise put a folder's files together, and in git's order: a folder
	 * "a" sorts as "a/", exactly where its files' paths "a/..." fall */
	uint64_t size = tree_size(files, lo, hi, prefix_len);
	arca_digest *d = NULL;
	arca_err err = arca_digest_new(&d, ARCA_DIGEST_SHA1);
	char header[48];
	int n = snprintf(header, sizeof(header), "tree %llu", (unsigned long long)size);
	if (err == ARCA_OK)
		err = arca_digest_update(d, header, (size_t)n + 1);
	for (size_t i = lo; i < hi && err == ARCA_OK;) {
		const char *name = files[i].path + prefix_len + 1;
		const char *slash = strchr(name, '/');
		if (!slash) {
			serve_entry e;
			if ((err = arca_serve__describe(&e, store, rev, &files[i])) == ARCA_OK)
				err = tree_entry(d, "100644", name, strlen(name), e.oid);
			i++;
			continue;
		}
		size_t len = (size_t)(slash - name), j = i + 1;
		while (j < hi && !strncmp(files[j].path, files[i].path, prefix_len + 2 + len))
			j++;
		char sub[ARCA_SHA1_HEX];
		if ((err = arca_serve__tree_oid(sub, store, rev, files, i, j,
				prefix_len + 1 + len)) == ARCA_OK)
			err = tree_entry(d, "40000", name, len, sub);
		i = j;
	}
	unsigned char raw[ARCA_SHA1_LEN];
	if (err == ARCA_OK && (err = arca_digest_final(d, raw)) == ARCA_OK)
		arca_hex_encode(out, raw, ARCA_SHA1_LEN);
	arca_digest_free(d);
	return err;
}
