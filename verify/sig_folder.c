/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_folder.c — a plain folder as model signing sees it (arca/sign.h): every
 * regular file under it, hidden ones too, minus the ignored paths; symbolic links refused
 * unless allowed (then the target's bytes under the link's name); each file's SHA-256,
 * hashed on all cores. `arca sign DIR` and `arca verify DIR` read models this way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/sign.h"
#include "common/walk.h"
#include "verify/hash_jobs.h"

#define MAX_FILES 1000000

typedef struct {
	const arca_sign_folder_opts *opts;
	arca_sign_file *files;
	uint64_t *sizes;
	size_t n, cap;
} folder_walk;

static int ignored(const arca_sign_folder_opts *o, const char *rel)
{
	return arca_sign_path_ignored(rel, o->ignore_paths, o->n_ignore);
}

static arca_err push(folder_walk *w, const char *rel, uint64_t size)
{
	if (w->n >= MAX_FILES)
		return arca_error_set(ARCA_EINVALID, "%s: more than %d files", w->opts->dir,
			MAX_FILES);
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		arca_sign_file *files = realloc(w->files, cap * sizeof(*files));
		if (files)
			w->files = files;
		uint64_t *sizes = realloc(w->sizes, cap * sizeof(*sizes));
		if (sizes)
			w->sizes = sizes;
		if (!files || !sizes)
			return arca_error_set(ARCA_ENOMEM, "%s: out of memory", w->opts->dir);
		w->cap = cap;
	}
	memset(&w->files[w->n], 0, sizeof(w->files[w->n]));
	if (!(w->files[w->n].name = strdup(rel)))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", w->opts->dir);
	w->sizes[w->n++] = size;
	return ARCA_OK;
}

static int visit(void *ctx, const char *rel, const char *abs, const struct stat *lst)
{
	folder_walk *w = ctx;
	if (ignored(w->opts, rel))
		return ARCA_WALK_SKIP;
	if (S_ISDIR(lst->st_mode))
		return ARCA_WALK_NEXT;
	if (S_ISREG(lst->st_mode))
		return push(w, rel, (uint64_t)lst->st_size);
	if (!S_ISLNK(lst->st_mode))
		return arca_error_set(ARCA_EINVALID, "%s: not a regular file or folder (device, pipe "
			"or socket)", abs);
	if (!w->opts->allow_symlinks)
		return arca_error_set(ARCA_EINVALID, "%s is a symbolic link, and symbolic links are "
			"not allowed (model signing's allow_symlinks is false)", abs);
	struct stat st;
	if (stat(abs, &st) != 0)
		return arca_error_errno(errno, "%s: broken symbolic link", abs);
	if (S_ISDIR(st.st_mode))
		return ARCA_WALK_ENTER;
	if (!S_ISREG(st.st_mode))
		return arca_error_set(ARCA_EINVALID, "%s: a link to something that is not a file",
			abs);
	return push(w, rel, (uint64_t)st.st_size);
}

typedef struct {
	const char *dir;
} hash_ctx;

static arca_err hash_one(void *ctx, void *item, arca_hash_progress_cb progress, void *payload)
{
	const hash_ctx *h = ctx;
	arca_sign_file *f = item;
	size_t len = strlen(h->dir) + strlen(f->name) + 2;
	char *path = malloc(len);
	if (!path)
		return arca_error_set(ARCA_ENOMEM, "hash %s: out of memory", f->name);
	snprintf(path, len, "%s/%s", h->dir, f->name);
	arca_file_digests d;
	arca_err err = arca_hash_file(&d, path, 0, progress, payload);
	free(path);
	if (err == ARCA_OK)
		memcpy(f->sha256, d.sha256, sizeof(f->sha256));
	return err;
}

arca_err arca_sign_folder_files(arca_sign_file **out, size_t *n_out, uint64_t *bytes_out,
	const arca_sign_folder_opts *opts)
{
	*out = NULL;
	*n_out = 0;
	if (bytes_out)
		*bytes_out = 0;
	struct stat st;
	if (stat(opts->dir, &st) != 0)
		return arca_error_errno(errno, "%s", opts->dir);
	if (!S_ISDIR(st.st_mode))
		return arca_error_set(ARCA_EINVALID, "%s is not a folder", opts->dir);
	folder_walk w = { .opts = opts };
	arca_hash_job *jobs = NULL;
	arca_err err = arca_walk(opts->dir, visit, &w);
	if (err == ARCA_OK && !(jobs = calloc(w.n ? w.n : 1, sizeof(*jobs))))
		err = arca_error_set(ARCA_ENOMEM, "%s: out of memory", opts->dir);
	if (err == ARCA_OK) {
		for (size_t i = 0; i < w.n; i++) {
			jobs[i] = (arca_hash_job){ .item = &w.files[i], .size = w.sizes[i] };
			if (bytes_out)
				*bytes_out += w.sizes[i];
		}
		hash_ctx h = { opts->dir };
		err = arca_hash_jobs_run(jobs, w.n, opts->threads, hash_one, &h, opts->progress,
			opts->payload);
		for (size_t i = 0; i < w.n && err == ARCA_OK; i++)
			if (jobs[i].err < 0)
				err = arca_error_set(jobs[i].err, "%s", jobs[i].message ?
					jobs[i].message : "hash failed");
	}
	arca_hash_jobs_dispose(jobs, w.n);
	free(jobs);
	free(w.sizes);
	if (err < 0) {
		arca_sign_files_free(w.files, w.n);
		return err;
	}
	arca_sign_sort_files(w.files, w.n);
	*out = w.files;
	*n_out = w.n;
	return ARCA_OK;
}

void arca_sign_files_free(arca_sign_file *files, size_t n)
{
	for (size_t i = 0; files && i < n; i++)
		free((char *)files[i].name);
	free(files);
}
