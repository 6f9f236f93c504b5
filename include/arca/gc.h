/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/gc.h — cleaning a store (`arca gc`): removing blobs no snapshot, variant or
 * signature refers to, blob files the catalog does not know, and arca's leftover temporary
 * files. The caller holds the store lock exclusively, so no writer is mid-put. Nothing
 * here prints or exits.
 */
#ifndef ARCA_GC_H
#define ARCA_GC_H

#include "arca/digest.h"
#include "arca/error.h"
#include "arca/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
	int dry_run;
	int partials; /* also remove interrupted downloads (tmp/partial-*) */
} arca_gc_opts;

typedef struct {
	char sha256[ARCA_SHA256_HEX];
	uint64_t size;
	int orphan;            /* a blob file the catalog did not know (else: catalogued, unused) */
} arca_gc_blob;

typedef struct {
	arca_gc_blob *removed; /* blobs removed (or that would be) */
	size_t n_removed;
	uint64_t bytes;
	size_t n_tmp;          /* leftover temporary files removed */
	uint64_t tmp_bytes;
} arca_gc_report;

/* Removes unreferenced and orphaned blobs and arca's leftover temporary files. The catalog
 * row goes first, then the file, so a crash leaves at worst an orphan for the next gc. */
arca_err arca_store_gc(arca_gc_report *out, arca_store *store, const arca_gc_opts *opts);
void arca_gc_report_dispose(arca_gc_report *report);

#endif
