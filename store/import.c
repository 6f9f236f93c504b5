/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/import.c — `arca add`: bringing a local model folder into the store as a snapshot.
 *
 * Steps: walk the folder (bounded: depth 64, a million files), store every file as a blob
 * (sha256 + git blob sha1 in one pass), derive the snapshot's content id, read card and
 * licence back from the stored blobs (so they describe exactly the bytes kept), then record
 * snapshot, files and ref in one transaction: the snapshot is never visible half-recorded.
 */
#include "arca/card.h"
#include "arca/snapshot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/path.h"
#include "common/walk.h"

#define MAX_FILES 1000000

typedef struct {
	char **paths;  /* relative to the root */
	uint64_t *sizes;
	size_t n, cap;
	char **warnings;
	size_t n_warnings;
} walk_state;

static void walk_dispose(walk_state *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->paths[i]);
	free(w->paths);
	free(w->sizes);
}

static arca_err add_warning(char ***list, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static arca_err add_warning(char ***list, size_t *n, const char *fmt, ...)
{
	char **grown = realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "add: out of memory");
	*list = grown;
	va_list ap;
	va_start(ap, fmt);
	int rc = vasprintf(&grown[*n], fmt, ap);
	va_end(ap);
	if (rc < 0)
		return arca_error_set(ARCA_ENOMEM, "add: out of memory");
	(*n)++;
	return ARCA_OK;
}

static arca_err walk_push(walk_state *w, const char *rel, uint64_t size)
{
	if (w->n >= MAX_FILES)
		return arca_error_set(ARCA_EINVALID, "more than %d files", MAX_FILES);
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		char **paths = realloc(w->paths, cap * sizeof(*paths));
		if (paths)
			w->paths = paths;
		uint64_t *sizes = realloc(w->sizes, cap * sizeof(*sizes));
		if (sizes)
			w->sizes = sizes;
		if (!paths || !sizes)
			return arca_error_set(ARCA_ENOMEM, "add: out of memory");
		w->cap = cap;
	}
	if (!(w->paths[w->n] = strdup(rel)))
		return arca_error_set(ARCA_ENOMEM, "add: out of memory");
	w->sizes[w->n++] = size;
	return ARCA_OK;
}

static int skipped_dir(const char *rel)
{
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	return strcmp(base, ".git") == 0 || strcmp(rel, ".cache/huggingface") == 0;
}

/* Files are stored; links to files too (their target's bytes under the link's name);
 * .git and the hub cache's bookkeeping are left out. */
static int visit(void *ctx, const char *rel, const char *abs, const struct stat *lst)
{
	walk_state *w = ctx;
	struct stat st;
	if (S_ISDIR(lst->st_mode))
		return skipped_dir(rel) ? ARCA_WALK_SKIP : ARCA_WALK_NEXT;
	if (S_ISREG(lst->st_mode))
		return walk_push(w, rel, (uint64_t)lst->st_size);
	if (!S_ISLNK(lst->st_mode))
		return arca_error_set(ARCA_EINVALID,
			"%s: not a regular file or folder (device, pipe or socket)", abs);
	if (stat(abs, &st) != 0)
		return arca_error_errno(errno, "%s: broken symbolic link", abs);
	if (S_ISREG(st.st_mode))
		return walk_push(w, rel, (uint64_t)st.st_size);
	return add_warning(&w->warnings, &w->n_warnings,
		"skipped %s: a symbolic link to something that is not a file", rel);
}

static int compare_files(const void *a, const void *b)
{
	return strcmp(((const arca_file *)a)->path, ((const arca_file *)b)->path);
}

arca_err arca_snapshot_content_id(char out[ARCA_SHA256_HEX], const arca_file *files,
	size_t n_files)
{
	arca_digest *d;
	arca_err err = arca_digest_new(&d, ARCA_DIGEST_SHA256);
	if (err < 0)
		return err;
	for (size_t i = 0; i < n_files && err == ARCA_OK; i++) {
		if ((err = arca_digest_update(d, files[i].path, strlen(files[i].path) + 1)) == ARCA_OK &&
		    (err = arca_digest_update(d, files[i].sha256, 64)) == ARCA_OK)
			err = arca_digest_update(d, "\n", 1);
	}
	unsigned char raw[ARCA_SHA256_LEN];
	if (err == ARCA_OK && (err = arca_digest_final(d, raw)) == ARCA_OK)
		arca_hex_encode(out, raw, ARCA_SHA256_LEN);
	arca_digest_free(d);
	return err;
}

typedef struct {
	const arca_add_opts *opts;
	const char *path;
	uint64_t size;
	uint64_t total_before;
	uint64_t total;
} copy_progress;

static int on_copy(uint64_t done, void *payload)
{
	copy_progress *p = payload;
	return p->opts->progress(p->path, done, p->size, p->total_before + done, p->total,
		p->opts->payload);
}

static arca_err describe(arca_add_result *out, arca_store *store, const arca_file *files,
	size_t n, char **card_json, char **license_json)
{
	char *warning = NULL;
	arca_err err = arca_snapshot_describe(store, files, n, card_json, license_json, &warning);
	if (err == ARCA_OK && warning)
		err = add_warning(&out->warnings, &out->n_warnings, "%s", warning);
	free(warning);
	return err;
}

static arca_err record(arca_add_result *out, arca_store *store, const arca_add_opts *opts,
	const arca_file *files, size_t n, const char *card_json, const char *license_json)
{
	arca_catalog *cat = arca_store_catalog(store);
	char *origin = realpath(opts->dir, NULL);
	arca_snapshot_new snap = {
		.hub = out->hub, .repo_id = opts->as->repo_id, .commit = out->commit,
		.revision = out->revision, .source = "local", .origin = origin ? origin : opts->dir,
		.license_json = license_json, .card_json = card_json, .evidence_json = NULL,
	};
	arca_err err;
	if ((err = arca_catalog_begin(cat)) < 0) {
		free(origin);
		return err;
	}
	if ((err = arca_catalog_create_snapshot(cat, &snap, &out->snapshot, &out->existed)) < 0)
		goto fail;
	if (!out->existed) {
		for (size_t i = 0; i < n; i++)
			if ((err = arca_catalog_add_file(cat, out->snapshot, &files[i])) < 0)
				goto fail;
		if ((err = arca_catalog_complete_snapshot(cat, out->snapshot)) < 0)
			goto fail;
	}
	if ((err = arca_catalog_set_ref(cat, out->snapshot, out->revision)) < 0)
		goto fail;
	free(origin);
	return arca_catalog_commit(cat);
fail:
	free(origin);
	arca_catalog_rollback(cat);
	return err;
}

void arca_add_result_dispose(arca_add_result *result)
{
	for (size_t i = 0; i < result->n_warnings; i++)
		free(result->warnings[i]);
	free(result->warnings);
	free(result->license_summary);
	result->warnings = NULL;
	result->n_warnings = 0;
	result->license_summary = NULL;
}

arca_err arca_snapshot_add_dir(arca_add_result *out, arca_store *store,
	const arca_add_opts *opts)
{
	memset(out, 0, sizeof(*out));
	arca_err err;
	snprintf(out->hub, sizeof(out->hub), "%s", opts->as->hub[0] ? opts->as->hub : "local");
	snprintf(out->revision, sizeof(out->revision), "%s",
		opts->as->revision[0] ? opts->as->revision : "main");
	struct stat st;
	if (stat(opts->dir, &st) != 0)
		return arca_error_errno(errno, "add %s", opts->dir);
	if (!S_ISDIR(st.st_mode))
		return arca_error_set(ARCA_EINVALID, "add %s: not a folder", opts->dir);

	walk_state w = { 0 };
	arca_file *files = NULL;
	char *card_json = NULL, *license_json = NULL;
	if ((err = arca_walk(opts->dir, visit, &w)) < 0)
		goto cleanup;
	out->warnings = w.warnings;
	out->n_warnings = w.n_warnings;
	w.warnings = NULL;
	if (w.n == 0) {
		err = arca_error_set(ARCA_EINVALID, "add %s: the folder has no files", opts->dir);
		goto cleanup;
	}
	if (!(files = calloc(w.n, sizeof(*files)))) {
		err = arca_error_set(ARCA_ENOMEM, "add: out of memory");
		goto cleanup;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < w.n; i++)
		total += w.sizes[i];
	out->total_size = 0;
	for (size_t i = 0; i < w.n; i++) {
		char *abs = arca_path_join(opts->dir, w.paths[i]);
		if (!abs) {
			err = arca_error_set(ARCA_ENOMEM, "add: out of memory");
			goto cleanup;
		}
		copy_progress p = { opts, w.paths[i], w.sizes[i], out->total_size, total };
		arca_file_digests d;
		err = arca_store_put_file(store, abs, &d, opts->progress ? on_copy : NULL, &p);
		free(abs);
		if (err < 0)
			goto cleanup;
		files[i].path = w.paths[i];
		files[i].size = d.size;
		memcpy(files[i].sha256, d.sha256, sizeof(files[i].sha256));
		memcpy(files[i].git_sha1, d.git_sha1, sizeof(files[i].git_sha1));
		out->total_size += d.size;
	}
	out->n_files = w.n;
	qsort(files, w.n, sizeof(*files), compare_files);
	if ((err = arca_snapshot_content_id(out->commit, files, w.n)) < 0 ||
	    (err = describe(out, store, files, w.n, &card_json, &license_json)) < 0 ||
	    (err = record(out, store, opts, files, w.n, card_json, license_json)) < 0)
		goto cleanup;
	out->license_summary = arca_card_license_summary(license_json);
cleanup:
	if (err < 0) {
		arca_error_prefix(err, "add %s", opts->dir);
		arca_add_result_dispose(out);
	}
	free(files); /* paths belong to the walk */
	free(card_json);
	free(license_json);
	for (size_t i = 0; i < w.n_warnings && w.warnings; i++)
		free(w.warnings[i]);
	free(w.warnings);
	walk_dispose(&w);
	return err;
}
