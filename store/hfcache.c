/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/hfcache.c — `arca checkout REF DIR --layout hf-cache`: a snapshot written as the
 * huggingface_hub cache lays it out, so tools load it with HF_HUB_OFFLINE=1:
 *
 *   DIR/CACHEDIR.TAG
 *   DIR/models--{org}--{name}/blobs/<etag>            hard link (or copy) of the store blob
 *   DIR/models--{org}--{name}/snapshots/<commit>/<path>  relative symlink to ../../blobs/<etag>
 *   DIR/models--{org}--{name}/refs/<ref>              the commit, no trailing newline
 *   DIR/models--{org}--{name}/trees/<commit>.json      the file list newer clients need offline
 *                                                      (only for a snapshot of the whole repo)
 *
 * The etag is the LFS sha256 for LFS files and the git blob id otherwise, as the Hub names
 * them; for snapshots that did not come from the Hub, files the Hub would keep in LFS (large
 * or weights) are named by sha256. Existing cache entries are kept when they match and
 * refused when they do not (unless forced). Every entry appears by rename. Clients treat a
 * revision as a commit only when it is 40 hex digits, so a local snapshot's 64-digit
 * content id appears in the cache by its first 40 digits.
 */
#include "arca/snapshot.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "common/path.h"
#include "store/hub_view.h"

static arca_err write_small(const char *path, const char *text)
{
	char *dir = arca_io_dirname(path);
	if (!dir)
		return arca_error_set(ARCA_ENOMEM, "hf-cache: out of memory");
	arca_err err = arca_io_mkdirs(dir, 0755);
	free(dir);
	if (err == ARCA_OK)
		err = arca_io_write_file(path, text, strlen(text), 0644);
	return err;
}

/* A relative symlink at `path` → target, replacing what is there. */
static arca_err put_symlink(const char *path, const char *target)
{
	char *tmp;
	if (asprintf(&tmp, "%s.arca-link-%d", path, (int)getpid()) < 0)
		return arca_error_set(ARCA_ENOMEM, "hf-cache: out of memory");
	unlink(tmp);
	arca_err err = ARCA_OK;
	if (symlink(target, tmp) != 0)
		err = arca_error_errno(errno, "symlink %s", path);
	else if (rename(tmp, path) != 0)
		err = arca_error_errno(errno, "rename %s to %s", tmp, path);
	if (err < 0)
		unlink(tmp);
	free(tmp);
	return err;
}

typedef struct {
	arca_store *store;
	char commit[41];       /* the commit as the cache names it */
	const arca_checkout_opts *opts;
	arca_checkout_result *out;
	char *repo_dir;
	uint64_t before, total;
} hf_ctx;

static int on_export(uint64_t done, void *payload)
{
	hf_ctx *c = payload;
	return c->opts->progress(NULL, done, 0, c->before + done, c->total, c->opts->payload);
}

static arca_err put_blob(hf_ctx *c, const arca_file *f, const char *etag)
{
	char *path;
	if (asprintf(&path, "%s/blobs/%s", c->repo_dir, etag) < 0)
		return arca_error_set(ARCA_ENOMEM, "hf-cache: out of memory");
	arca_err err = ARCA_OK;
	struct stat st;
	if (stat(path, &st) == 0 && !c->opts->force) {
		if ((uint64_t)st.st_size != f->size)
			err = arca_error_set(ARCA_EEXISTS, "%s exists with %llu bytes, not %llu (use "
				"--force to replace it)", path, (unsigned long long)st.st_size,
				(unsigned long long)f->size);
		free(path);
		return err; /* same name and size: the cache already holds it */
	}
	unsigned flags = (c->opts->copy ? ARCA_EXPORT_COPY : 0) |
		(c->opts->no_verify ? 0 : ARCA_EXPORT_VERIFY);
	arca_export_how how;
	err = arca_store_export_blob(c->store, f->sha256, path, flags,
		c->opts->progress ? on_export : NULL, c, &how);
	if (err == ARCA_OK) {
		if (how == ARCA_EXPORTED_LINK)
			c->out->n_linked++;
		else
			c->out->n_copied++;
	}
	free(path);
	return err;
}

/* Whether the snapshot holds every file of its commit. A pull records how many files the
 * hub listed; older pulls recorded only their include/exclude patterns; snapshots from a
 * folder or a bundle hold what they hold. */
static int holds_whole_repo(json_t *evidence, size_t n_files)
{
	json_t *listed = json_object_get(evidence, "listed_files");
	if (json_is_integer(listed))
		return (uint64_t)json_integer_value(listed) == n_files;
	return json_array_size(json_object_get(evidence, "include")) == 0 &&
		json_array_size(json_object_get(evidence, "exclude")) == 0;
}

static arca_err put_file(hf_ctx *c, const arca_snapshot *snap, const arca_file *f, json_t *tree,
	json_t *xet_hashes)
{
	arca_err err = arca_path_check_relative(f->path, strlen(f->path));
	if (err < 0)
		return err;
	if (!f->sha256[0])
		return arca_error_set(ARCA_EINVALID, "%s has no stored content", f->path);
	int lfs = arca_store__hub_is_lfs(snap->hub, f);
	const char *etag = lfs ? f->sha256 : f->git_sha1;
	if (!etag[0])
		return arca_error_set(ARCA_EINVALID, "%s: no git blob id recorded", f->path);
	if ((err = put_blob(c, f, etag)) < 0)
		return err;
	char *link_path = NULL, *target = NULL;
	size_t depth = 2;
	for (const char *s = f->path; *s; s++)
		depth += *s == '/';
	size_t cap = depth * 3 + strlen(etag) + 8;
	if (asprintf(&link_path, "%s/snapshots/%s/%s", c->repo_dir, c->commit, f->path) < 0 ||
	    !(target = malloc(cap))) {
		free(link_path);
		return arca_error_set(ARCA_ENOMEM, "hf-cache: out of memory");
	}
	target[0] = '\0';
	for (size_t i = 0; i < depth; i++)
		strcat(target, "../");
	strcat(target, "blobs/");
	strcat(target, etag);
	char *parent = arca_io_dirname(link_path);
	if (!parent)
		err = arca_error_set(ARCA_ENOMEM, "hf-cache: out of memory");
	else if ((err = arca_io_mkdirs(parent, 0755)) == ARCA_OK)
		err = put_symlink(link_path, target);
	free(parent);
	free(link_path);
	free(target);
	if (err < 0)
		return err;
	json_t *entry = json_pack("{s:I,s:s}", "size", (json_int_t)f->size, "blob_id",
		lfs ? "" : f->git_sha1);
	if (lfs) {
		char oid[ARCA_SHA1_HEX];
		if ((err = arca_store__lfs_pointer_oid(oid, f->sha256, f->size)) < 0) {
			json_decref(entry);
			return err;
		}
		json_object_set_new(entry, "blob_id", json_string(oid));
		json_object_set_new(entry, "lfs_sha256", json_string(f->sha256));
		json_object_set_new(entry, "lfs_size", json_integer((json_int_t)f->size));
	}
	const char *xet = json_string_value(json_object_get(xet_hashes, f->path));
	if (xet)
		json_object_set_new(entry, "xet_hash", json_string(xet));
	json_object_set_new(tree, f->path, entry);
	c->out->n_files++;
	c->out->bytes += f->size;
	return ARCA_OK;
}

static arca_err write_refs(hf_ctx *c, const arca_snapshot *snap)
{
	json_t *refs = snap->refs_json ? json_loads(snap->refs_json, 0, NULL) : NULL;
	size_t i;
	json_t *r;
	arca_err err = ARCA_OK;
	json_array_foreach(refs, i, r) {
		const char *name = json_string_value(r);
		if (!name || arca_path_check_relative(name, strlen(name)) < 0) {
			arca_error_clear();
			continue; /* a ref that cannot be a file name is left out */
		}
		char *path;
		if (asprintf(&path, "%s/refs/%s", c->repo_dir, name) < 0) {
			err = arca_error_set(ARCA_ENOMEM, "hf-cache: out of memory");
			break;
		}
		err = write_small(path, c->commit);
		free(path);
		if (err < 0)
			break;
	}
	json_decref(refs);
	return err;
}

arca_err arca_snapshot_checkout_hfcache(arca_checkout_result *out, arca_store *store,
	const arca_snapshot *snap, const arca_checkout_opts *opts)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(snap->state, "complete") != 0)
		return arca_error_set(ARCA_EINVALID, "%s:%s@%.12s is incomplete; finish it (arca pull) "
			"before checking it out", snap->hub, snap->repo_id, snap->commit);
	hf_ctx c = { store, "", opts, out, NULL, 0, 0 };
	snprintf(c.commit, sizeof(c.commit), "%.40s", snap->commit);
	arca_file *files = NULL;
	size_t n = 0;
	json_t *tree = json_object(), *evidence = NULL;
	char *repo_name = strdup(snap->repo_id);
	arca_err err = tree && repo_name ? ARCA_OK :
		arca_error_set(ARCA_ENOMEM, "hf-cache: out of memory");
	if (err < 0)
		goto cleanup;
	char *slash = strchr(repo_name, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&c.repo_dir, "%s/models--%s--%s", opts->dir, repo_name,
			slash ? slash + 1 : "") < 0) {
		c.repo_dir = NULL;
		err = arca_error_set(ARCA_ENOMEM, "hf-cache: out of memory");
		goto cleanup;
	}
	if ((err = arca_catalog_list_files(&files, &n, arca_store_catalog(store), snap->id)) < 0)
		goto cleanup;
	char *blobs;
	if (asprintf(&blobs, "%s/blobs", c.repo_dir) < 0) {
		err = arca_error_set(ARCA_ENOMEM, "hf-cache: out of memory");
		goto cleanup;
	}
	err = arca_io_mkdirs(blobs, 0755);
	free(blobs);
	if (err < 0)
		goto cleanup;
	char *tag = arca_path_join(opts->dir, "CACHEDIR.TAG");
	if (tag && access(tag, F_OK) != 0)
		err = write_small(tag, "Signature: 8a477f597d28d172789f06886806bc55\n"
			"# This file is a cache directory tag created by huggingface_hub (written by "
			"arca).\n");
	free(tag);
	if (err < 0)
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		c.total += files[i].size;
	evidence = snap->evidence_json ? json_loads(snap->evidence_json, 0, NULL) : NULL;
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		if ((err = put_file(&c, snap, &files[i], tree,
				json_object_get(evidence, "xet_hashes"))) < 0)
			arca_error_prefix(err, "checkout %s", files[i].path);
		c.before += files[i].size;
	}
	if (err < 0)
		goto cleanup;
	if ((err = write_refs(&c, snap)) < 0)
		goto cleanup;
	if (!holds_whole_repo(evidence, n)) {
		out->tree_skipped = "the snapshot holds only part of the repository (a filtered "
			"pull), and clients trust a tree file over the hub";
		goto cleanup;
	}
	/* the tree file makes offline clients require every file: write it only now, whole */
	json_t *doc = json_pack("{s:i,s:O}", "format_version", 1, "files", tree);
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(doc);
	char *tree_path = NULL;
	if (!text || asprintf(&tree_path, "%s/trees/%s.json", c.repo_dir, c.commit) < 0) {
		tree_path = NULL;
		err = arca_error_set(ARCA_ENOMEM, "hf-cache: out of memory");
	} else {
		err = write_small(tree_path, text);
	}
	free(text);
	free(tree_path);
	out->tree_written = err == ARCA_OK;
cleanup:
	arca_files_free(files, n);
	json_decref(evidence);
	json_decref(tree);
	free(repo_name);
	free(c.repo_dir);
	return err;
}
