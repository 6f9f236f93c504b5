/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/fsck.h — checking a store (`arca fsck`).
 *
 * fsck re-hashes every blob (on all cores), compares the objects folder with the catalog,
 * checks the catalog's own integrity and lists incomplete snapshots. It wants the store
 * lock shared (the caller takes it). Nothing here prints or exits. Cleaning is arca/gc.h.
 */
#ifndef ARCA_FSCK_H
#define ARCA_FSCK_H

#include "arca/error.h"
#include "arca/store.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
	ARCA_FSCK_CATALOG,      /* the catalog database failed its integrity check */
	ARCA_FSCK_MISSING,      /* catalogued blob has no file */
	ARCA_FSCK_CORRUPT,      /* blob bytes do not hash to its name, or size differs */
	ARCA_FSCK_ORPHAN,       /* file in objects/ the catalog does not know */
	ARCA_FSCK_STRAY,        /* something in objects/ that is not a blob name */
	ARCA_FSCK_INCOMPLETE,   /* snapshot not marked complete */
	ARCA_FSCK_UNREFERENCED, /* catalogued blob nothing uses (gc collects it; not an error) */
	ARCA_FSCK_TMP,          /* leftover file in tmp/ (not an error) */
} arca_fsck_kind;

typedef struct {
	arca_fsck_kind kind;
	char *subject; /* blob hash, snapshot ref or path */
	char *detail;
} arca_fsck_problem;

typedef struct {
	arca_fsck_problem *problems;
	size_t n_problems;
	size_t n_errors;        /* problems that are damage, not housekeeping */
	uint64_t blobs_checked;
	uint64_t bytes_checked;
	double seconds;
} arca_fsck_report;

/* Bytes hashed so far out of the total; called from the calling thread. */
typedef void (*arca_fsck_progress_cb)(uint64_t done, uint64_t total, void *payload);

typedef struct {
	int threads;   /* 0: one per online CPU */
	int no_rehash; /* compare names and sizes only */
	arca_fsck_progress_cb progress;
	void *payload;
} arca_fsck_opts;

/* Fills a report (dispose it). Returns an error only when the check itself could not run;
 * damage found is in the report, with n_errors > 0. */
arca_err arca_store_fsck(arca_fsck_report *out, arca_store *store, const arca_fsck_opts *opts);
void arca_fsck_report_dispose(arca_fsck_report *report);

/* "missing", "corrupt", ... and whether the kind counts as damage. */
const char *arca_fsck_kind_name(arca_fsck_kind kind);
int arca_fsck_kind_is_error(arca_fsck_kind kind);

#endif
