/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/fsck.c — `arca fsck`: is every blob the catalog promises there, whole and unchanged?
 *
 * Order: the catalog's own integrity; the objects folder against the catalog (missing,
 * orphaned, stray, wrong size); every remaining blob re-hashed by a pool of threads that
 * take blobs from a shared counter (largest first, so one big file does not finish last);
 * incomplete snapshots; unreferenced blobs and leftovers in tmp/ as housekeeping notes.
 */
#include "arca/fsck.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/path.h"
#include "common/util.h"
#include "store/store_internal.h"
#include "verify/hash_jobs.h"

static const struct {
	const char *name;
	int is_error;
} kinds[] = {
	[ARCA_FSCK_CATALOG] = { "catalog", 1 },
	[ARCA_FSCK_MISSING] = { "missing", 1 },
	[ARCA_FSCK_CORRUPT] = { "corrupt", 1 },
	[ARCA_FSCK_ORPHAN] = { "orphaned", 0 },
	[ARCA_FSCK_STRAY] = { "stray", 1 },
	[ARCA_FSCK_INCOMPLETE] = { "incomplete", 1 },
	[ARCA_FSCK_UNREFERENCED] = { "unreferenced", 0 },
	[ARCA_FSCK_TMP] = { "tmp", 0 },
};

const char *arca_fsck_kind_name(arca_fsck_kind kind)
{
	return kinds[kind].name;
}

int arca_fsck_kind_is_error(arca_fsck_kind kind)
{
	return kinds[kind].is_error;
}

static arca_err add_problem(arca_fsck_report *r, arca_fsck_kind kind, const char *subject,
	const char *detail)
{
	arca_fsck_problem *grown = realloc(r->problems, (r->n_problems + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "fsck: out of memory");
	r->problems = grown;
	arca_fsck_problem *p = &grown[r->n_problems];
	p->kind = kind;
	p->subject = strdup(subject);
	p->detail = strdup(detail ? detail : "");
	if (!p->subject || !p->detail) {
		free(p->subject);
		free(p->detail);
		return arca_error_set(ARCA_ENOMEM, "fsck: out of memory");
	}
	r->n_problems++;
	if (kinds[kind].is_error)
		r->n_errors++;
	return ARCA_OK;
}

void arca_fsck_report_dispose(arca_fsck_report *report)
{
	for (size_t i = 0; i < report->n_problems; i++) {
		free(report->problems[i].subject);
		free(report->problems[i].detail);
	}
	free(report->problems);
	memset(report, 0, sizeof(*report));
}

/* ------------------------------------------------------------------ catalog blobs */

typedef struct {
	arca_blob_record *items;
	size_t n, cap;
	int failed;
} record_list;

static int collect_record(const arca_blob_record *rec, void *payload)
{
	record_list *list = payload;
	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 256;
		arca_blob_record *grown = realloc(list->items, cap * sizeof(*grown));
		if (!grown) {
			list->failed = 1;
			return 1;
		}
		list->items = grown;
		list->cap = cap;
	}
	list->items[list->n++] = *rec;
	return 0;
}

/* ------------------------------------------------------------------ re-hashing */

typedef struct {
	char sha256[ARCA_SHA256_HEX];
	uint64_t size;
} hash_job;

static arca_err verify_one(void *ctx, void *item, arca_hash_progress_cb progress,
	void *payload)
{
	return arca_store_verify_blob(ctx, ((hash_job *)item)->sha256, progress, payload);
}

static arca_err rehash(arca_fsck_report *r, arca_store *store, hash_job *blobs, size_t n,
	const arca_fsck_opts *opts)
{
	arca_hash_job *jobs = calloc(n ? n : 1, sizeof(*jobs));
	if (!jobs)
		return arca_error_set(ARCA_ENOMEM, "fsck: out of memory");
	for (size_t i = 0; i < n; i++)
		jobs[i] = (arca_hash_job){ .item = &blobs[i], .size = blobs[i].size };
	arca_err err = arca_hash_jobs_run(jobs, n, opts->threads, verify_one, store,
		opts->progress, opts->payload);
	if (err < 0)
		err = arca_error_prefix(err, "fsck");
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		const arca_hash_job *job = &jobs[i];
		const hash_job *blob = job->item;
		if (job->err == ARCA_OK) {
			r->blobs_checked++;
			r->bytes_checked += blob->size;
			continue;
		}
		arca_fsck_kind kind = job->err == ARCA_ENOTFOUND ? ARCA_FSCK_MISSING : ARCA_FSCK_CORRUPT;
		char users[512];
		arca_catalog_describe_blob_users(arca_store_catalog(store), blob->sha256, users,
			sizeof(users));
		char detail[1200];
		snprintf(detail, sizeof(detail), "%s%s%s", job->message ? job->message : "",
			users[0] ? "; used by " : "", users);
		err = add_problem(r, kind, blob->sha256, detail);
	}
	arca_hash_jobs_dispose(jobs, n);
	free(jobs);
	return err;
}

/* ------------------------------------------------------------------ the check */

static arca_err compare_with_disk(arca_fsck_report *r, arca_store *store, record_list *cat,
	hash_job **jobs_out, size_t *n_jobs_out)
{
	arca_store__object *objects = NULL;
	size_t n_objects = 0;
	arca_err err = arca_store__list_objects(&objects, &n_objects, store);
	if (err < 0)
		return err;
	hash_job *jobs = calloc(cat->n + n_objects + 1, sizeof(*jobs));
	size_t n_jobs = 0;
	if (!jobs) {
		arca_store__objects_free(objects, n_objects);
		return arca_error_set(ARCA_ENOMEM, "fsck: out of memory");
	}
	size_t i = 0, j = 0;
	char users[512], detail[1024];
	while (err == ARCA_OK && (i < cat->n || j < n_objects)) {
		const arca_blob_record *rec = i < cat->n ? &cat->items[i] : NULL;
		const arca_store__object *obj = j < n_objects ? &objects[j] : NULL;
		if (obj && !obj->sha256[0]) {
			snprintf(detail, sizeof(detail), "objects/sha256/%s is not a blob", obj->path);
			err = add_problem(r, ARCA_FSCK_STRAY, obj->path, detail);
			j++;
			continue;
		}
		int cmp = !rec ? 1 : !obj ? -1 : strcmp(rec->sha256, obj->sha256);
		if (cmp < 0) {
			arca_catalog_describe_blob_users(arca_store_catalog(store), rec->sha256, users,
				sizeof(users));
			snprintf(detail, sizeof(detail), "in the catalog but not on disk%s%s",
				users[0] ? "; used by " : "", users);
			err = add_problem(r, ARCA_FSCK_MISSING, rec->sha256, detail);
			i++;
		} else if (cmp > 0) {
			/* what an interrupted write leaves (the rename came, the catalog row did not):
			 * not damage when its bytes match its name, which the re-hash checks */
			snprintf(detail, sizeof(detail), "%llu bytes on disk, unknown to the catalog; "
				"left by an interrupted write (arca gc removes it)",
				(unsigned long long)obj->size);
			err = add_problem(r, ARCA_FSCK_ORPHAN, obj->sha256, detail);
			memcpy(jobs[n_jobs].sha256, obj->sha256, ARCA_SHA256_HEX);
			jobs[n_jobs++].size = obj->size;
			j++;
		} else {
			if (rec->stored_size != obj->size) {
				snprintf(detail, sizeof(detail), "%llu bytes on disk, the catalog says %llu",
					(unsigned long long)obj->size, (unsigned long long)rec->stored_size);
				err = add_problem(r, ARCA_FSCK_CORRUPT, rec->sha256, detail);
			} else {
				memcpy(jobs[n_jobs].sha256, rec->sha256, ARCA_SHA256_HEX);
				jobs[n_jobs++].size = obj->size;
			}
			i++;
			j++;
		}
	}
	arca_store__objects_free(objects, n_objects);
	if (err < 0) {
		free(jobs);
		return err;
	}
	*jobs_out = jobs;
	*n_jobs_out = n_jobs;
	return ARCA_OK;
}

static int note_unreferenced(const arca_blob_record *rec, void *payload)
{
	char detail[128];
	snprintf(detail, sizeof(detail), "%llu bytes no snapshot or artifact uses (arca gc removes it)",
		(unsigned long long)rec->size);
	return add_problem(payload, ARCA_FSCK_UNREFERENCED, rec->sha256, detail) < 0;
}

static arca_err check_snapshots(arca_fsck_report *r, arca_catalog *cat)
{
	arca_snapshot *snaps;
	size_t n;
	arca_err err = arca_catalog_list_incomplete(&snaps, &n, cat);
	if (err < 0)
		return err;
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		char subject[512], detail[256];
		snprintf(subject, sizeof(subject), "%s:%s@%.12s", snaps[i].hub, snaps[i].repo_id,
			snaps[i].commit);
		snprintf(detail, sizeof(detail), "snapshot started %s was never completed; pull it "
			"again to finish", snaps[i].created_at);
		err = add_problem(r, ARCA_FSCK_INCOMPLETE, subject, detail);
	}
	arca_snapshots_free(snaps, n);
	return err;
}

static arca_err check_tmp(arca_fsck_report *r, arca_store *store)
{
	DIR *dir = opendir(store->tmp_dir);
	if (!dir)
		return ARCA_OK;
	arca_err err = ARCA_OK;
	struct dirent *e;
	while (err == ARCA_OK && (e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		const char *detail = strncmp(e->d_name, "partial-", 8) == 0 ?
			"a download in progress or interrupted; the next pull of its model resumes it" :
			"left by an interrupted write (arca gc removes it)";
		char subject[300];
		snprintf(subject, sizeof(subject), "tmp/%s", e->d_name);
		err = add_problem(r, ARCA_FSCK_TMP, subject, detail);
	}
	closedir(dir);
	return err;
}

arca_err arca_store_fsck(arca_fsck_report *out, arca_store *store, const arca_fsck_opts *opts)
{
	memset(out, 0, sizeof(*out));
	arca_fsck_opts defaults = { 0 };
	if (!opts)
		opts = &defaults;
	double start = arca_time_monotonic();
	arca_catalog *cat = arca_store_catalog(store);
	arca_err err;
	if (arca_catalog_check(cat) < 0)
		return add_problem(out, ARCA_FSCK_CATALOG, "catalog.db", arca_error_last());

	record_list records = { 0 };
	hash_job *jobs = NULL;
	size_t n_jobs = 0;
	if ((err = arca_catalog_each_blob(cat, collect_record, &records)) < 0) {
		if (records.failed)
			err = arca_error_set(ARCA_ENOMEM, "fsck: out of memory");
		goto cleanup;
	}
	if ((err = compare_with_disk(out, store, &records, &jobs, &n_jobs)) < 0)
		goto cleanup;
	if (opts->no_rehash) {
		for (size_t i = 0; i < n_jobs; i++)
			out->blobs_checked++;
	} else if ((err = rehash(out, store, jobs, n_jobs, opts)) < 0) {
		goto cleanup;
	}
	if ((err = check_snapshots(out, cat)) < 0)
		goto cleanup;
	if ((err = arca_catalog_each_unreferenced_blob(cat, note_unreferenced, out)) < 0)
		goto cleanup;
	err = check_tmp(out, store);
cleanup:
	free(jobs);
	free(records.items);
	out->seconds = arca_time_monotonic() - start;
	if (err < 0)
		arca_fsck_report_dispose(out);
	return err;
}
