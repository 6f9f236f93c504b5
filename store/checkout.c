/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/checkout.c — `arca checkout REF DIR`: a snapshot's files as a plain folder.
 *
 * Each file is re-hashed on its way out (unless asked not to), so a blob damaged on disk is
 * refused rather than handed to a user, then hard-linked when the folder is on the store's
 * filesystem (blobs are read-only, so an editor cannot change the store through the link)
 * or copied. Every file appears by rename: an interrupted checkout leaves whole files only.
 */
#include "arca/snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/io.h"
#include "common/path.h"

typedef struct {
	const arca_checkout_opts *opts;
	const char *path;
	uint64_t size, before, total;
} verify_progress;

static int on_export(uint64_t done, void *payload)
{
	verify_progress *p = payload;
	return p->opts->progress(p->path, done, p->size, p->before + done, p->total,
		p->opts->payload);
}

static arca_err prepare_dir(const arca_checkout_opts *opts)
{
	struct stat st;
	if (stat(opts->dir, &st) != 0) {
		if (errno != ENOENT)
			return arca_error_errno(errno, "checkout into %s", opts->dir);
		return arca_io_mkdirs(opts->dir, 0755);
	}
	if (!S_ISDIR(st.st_mode))
		return arca_error_set(ARCA_EEXISTS, "checkout into %s: exists and is not a folder",
			opts->dir);
	int empty;
	arca_err err = arca_io_dir_is_empty(opts->dir, &empty);
	if (err < 0)
		return err;
	if (!empty && !opts->force)
		return arca_error_set(ARCA_EEXISTS,
			"checkout into %s: the folder is not empty (use --force to replace files in it)",
			opts->dir);
	return ARCA_OK;
}

static arca_err checkout_file(arca_checkout_result *out, arca_store *store,
	const arca_checkout_opts *opts, const arca_file *file, uint64_t before, uint64_t total)
{
	arca_err err = arca_path_check_relative(file->path, strlen(file->path));
	if (err < 0)
		return err;
	if (!file->sha256[0])
		return arca_error_set(ARCA_EINVALID, "%s has no stored content", file->path);
	char *dst = arca_path_join(opts->dir, file->path);
	char *parent = dst ? arca_io_dirname(dst) : NULL;
	if (!dst || !parent) {
		err = arca_error_set(ARCA_ENOMEM, "checkout: out of memory");
		goto cleanup;
	}
	if ((err = arca_io_mkdirs(parent, 0755)) < 0)
		goto cleanup;
	struct stat st;
	if (lstat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
		err = arca_error_set(ARCA_EEXISTS, "%s: a folder is in the way", dst);
		goto cleanup;
	}
	unsigned flags = (opts->copy ? ARCA_EXPORT_COPY : 0) |
		(opts->no_verify ? 0 : ARCA_EXPORT_VERIFY);
	verify_progress p = { opts, file->path, file->size, before, total };
	arca_export_how how;
	if ((err = arca_store_export_blob(store, file->sha256, dst, flags,
			opts->progress ? on_export : NULL, &p, &how)) < 0)
		goto cleanup;
	if (how == ARCA_EXPORTED_LINK)
		out->n_linked++;
	else
		out->n_copied++;
	out->n_files++;
	out->bytes += file->size;
	if (opts->progress && opts->progress(file->path, file->size, file->size,
			before + file->size, total, opts->payload))
		err = arca_error_set(ARCA_EINTERRUPTED, "checkout: interrupted");
cleanup:
	free(dst);
	free(parent);
	return err;
}

arca_err arca_snapshot_checkout(arca_checkout_result *out, arca_store *store,
	const arca_snapshot *snap, const arca_checkout_opts *opts)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(snap->state, "complete") != 0)
		return arca_error_set(ARCA_EINVALID,
			"%s:%s@%.12s is incomplete; finish it (arca pull) before checking it out",
			snap->hub, snap->repo_id, snap->commit);
	arca_file *files = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_files(&files, &n, arca_store_catalog(store), snap->id);
	if (err < 0)
		return err;
	if ((err = prepare_dir(opts)) < 0)
		goto cleanup;
	uint64_t total = 0, before = 0;
	for (size_t i = 0; i < n; i++)
		total += files[i].size;
	for (size_t i = 0; i < n; i++) {
		if ((err = checkout_file(out, store, opts, &files[i], before, total)) < 0) {
			arca_error_prefix(err, "checkout %s", files[i].path);
			goto cleanup;
		}
		before += files[i].size;
	}
cleanup:
	arca_files_free(files, n);
	return err;
}
