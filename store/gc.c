/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/gc.c — `arca gc`: removing blobs nothing refers to, blob files the catalog does not
 * know, and arca's own leftover temporary files.
 *
 * The caller holds the store lock exclusively, so no writer is mid-put: every ".arca-tmp-"
 * file in tmp/ is a leftover. Interrupted downloads (partial-*) are kept for the next pull
 * to resume unless the caller asks for them to go too. Catalog
 * rows are deleted in one transaction before their files are unlinked: a crash in between
 * leaves orphans, which the next gc removes, never a catalogued blob without its file.
 */
#include "arca/gc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "common/path.h"
#include "store/store_internal.h"

static arca_err push_removed(arca_gc_report *r, const char *sha256, uint64_t size, int orphan)
{
	arca_gc_blob *grown = realloc(r->removed, (r->n_removed + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "gc: out of memory");
	r->removed = grown;
	snprintf(grown[r->n_removed].sha256, ARCA_SHA256_HEX, "%s", sha256);
	grown[r->n_removed].size = size;
	grown[r->n_removed].orphan = orphan;
	r->n_removed++;
	r->bytes += size;
	return ARCA_OK;
}

static int collect_unreferenced(const arca_blob_record *rec, void *payload)
{
	return push_removed(payload, rec->sha256, rec->stored_size, 0) < 0;
}

static arca_err collect_orphans(arca_gc_report *r, arca_store *store)
{
	arca_store__object *objects;
	size_t n;
	arca_err err = arca_store__list_objects(&objects, &n, store);
	if (err < 0)
		return err;
	arca_catalog *cat = arca_store_catalog(store);
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		if (!objects[i].sha256[0])
			continue; /* stray names are reported by fsck, not deleted */
		arca_blob_record rec;
		err = arca_catalog_get_blob(cat, objects[i].sha256, &rec);
		if (err == ARCA_ENOTFOUND)
			err = push_removed(r, objects[i].sha256, objects[i].size, 1);
	}
	arca_store__objects_free(objects, n);
	return err;
}

static int removable_tmp(const char *name, int partials)
{
	return strncmp(name, ".arca-tmp-", 10) == 0 || (partials && strncmp(name, "partial-", 8) == 0);
}

static arca_err clean_tmp(arca_gc_report *r, arca_store *store, int dry_run, int partials)
{
	DIR *dir = opendir(store->tmp_dir);
	if (!dir)
		return errno == ENOENT ? ARCA_OK : arca_error_errno(errno, "open %s", store->tmp_dir);
	arca_err err = ARCA_OK;
	struct dirent *e;
	while (err == ARCA_OK && (e = readdir(dir))) {
		if (!removable_tmp(e->d_name, partials))
			continue;
		char *path = arca_path_join(store->tmp_dir, e->d_name);
		if (!path) {
			err = arca_error_set(ARCA_ENOMEM, "gc: out of memory");
			break;
		}
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (!dry_run && unlink(path) != 0 && errno != ENOENT)
				err = arca_error_errno(errno, "remove %s", path);
			r->n_tmp++;
			r->tmp_bytes += (uint64_t)st.st_size;
		}
		free(path);
	}
	closedir(dir);
	return err;
}

arca_err arca_store_gc(arca_gc_report *out, arca_store *store, const arca_gc_opts *opts)
{
	memset(out, 0, sizeof(*out));
	arca_catalog *cat = arca_store_catalog(store);
	arca_err err;
	if ((err = arca_catalog_each_unreferenced_blob(cat, collect_unreferenced, out)) < 0)
		goto fail;
	size_t n_catalogued = out->n_removed;
	if ((err = collect_orphans(out, store)) < 0)
		goto fail;
	if (opts->dry_run)
		return clean_tmp(out, store, 1, opts->partials);

	if ((err = arca_catalog_begin(cat)) < 0)
		goto fail;
	for (size_t i = 0; i < n_catalogued; i++) {
		if ((err = arca_catalog_delete_blob(cat, out->removed[i].sha256)) < 0) {
			arca_catalog_rollback(cat);
			goto fail;
		}
	}
	if ((err = arca_catalog_commit(cat)) < 0)
		goto fail;
	for (size_t i = 0; i < out->n_removed; i++) {
		char *path = arca_store__blob_path(store, out->removed[i].sha256);
		if (!path) {
			err = arca_error_set(ARCA_ENOMEM, "gc: out of memory");
			goto fail;
		}
		int rc = unlink(path);
		int saved = errno;
		free(path);
		if (rc != 0 && saved != ENOENT) {
			err = arca_error_errno(saved, "remove blob %s", out->removed[i].sha256);
			goto fail;
		}
	}
	if ((err = arca_io_fsync_dir(store->objects_dir)) < 0)
		goto fail;
	if ((err = clean_tmp(out, store, 0, opts->partials)) < 0)
		goto fail;
	return ARCA_OK;
fail:
	arca_gc_report_dispose(out);
	return err;
}

void arca_gc_report_dispose(arca_gc_report *report)
{
	free(report->removed);
	memset(report, 0, sizeof(*report));
}
