/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/snapshot.h — snapshots in and out of the store: adding a local model folder
 * (`arca add`), writing a snapshot's files into a folder (`arca checkout`) and forgetting
 * a snapshot or one of its variants (`arca rm`).
 *
 * All expect the caller to hold the store lock (shared). Progress is reported through a
 * callback; nothing here prints or exits.
 */
#ifndef ARCA_SNAPSHOT_H
#define ARCA_SNAPSHOT_H

#include "arca/catalog.h"
#include "arca/error.h"
#include "arca/ref.h"
#include "arca/store.h"

#include <stddef.h>
#include <stdint.h>

/* Progress: the file being worked on, bytes done of it, and totals over the whole job.
 * Return non-zero to stop (the call then fails with ARCA_EINTERRUPTED, leaving nothing
 * half-written). */
typedef int (*arca_snapshot_progress_cb)(const char *path, uint64_t file_done,
	uint64_t file_size, uint64_t total_done, uint64_t total_size, void *payload);

/* ------------------------------------------------------------------ add */

typedef struct {
	const char *dir;           /* the folder to bring in */
	const arca_ref *as;        /* name; hub defaults to "local", revision to "main" */
	arca_snapshot_progress_cb progress;
	void *payload;
} arca_add_opts;

typedef struct {
	int64_t snapshot;
	char hub[16];
	char commit[ARCA_SHA256_HEX]; /* content id: sha256 over the sorted (path, sha256) list */
	char revision[256];
	int existed;                  /* the same content was already stored */
	size_t n_files;
	uint64_t total_size;
	char *license_summary;        /* malloc'ed */
	char **warnings;              /* malloc'ed messages (unreadable card, skipped links) */
	size_t n_warnings;
} arca_add_result;

void arca_add_result_dispose(arca_add_result *result);

/* Stores every file under opts->dir (both sha256 and git blob sha1 recorded), reads the
 * card and licence, and records a complete snapshot with the ref pointing at it, all in one
 * catalog transaction. Skips .git/ and .cache/huggingface/; follows symlinks to files (as in
 * a Hugging Face cache snapshot) but not to folders. */
arca_err arca_snapshot_add_dir(arca_add_result *out, arca_store *store,
	const arca_add_opts *opts);

/* Content id of a list of (path, sha256) pairs sorted by path: sha256 over
 * "<path>\0<sha256>\n" for each. Exposed for tests. */
arca_err arca_snapshot_content_id(char out[ARCA_SHA256_HEX], const arca_file *files,
	size_t n_files);

/* Reads the card (README.md front matter) and the licence (card fields plus LICENSE,
 * NOTICE, ... files) of stored files, from their blobs. A card that cannot be read is not
 * an error: *warning_out says why (malloc'ed), *card_json is NULL. */
arca_err arca_snapshot_describe(arca_store *store, const arca_file *files, size_t n_files,
	char **card_json, char **license_json, char **warning_out);

/* ------------------------------------------------------------------ checkout */

typedef struct {
	const char *dir;
	int force;    /* write into a non-empty folder, replacing files of the same name */
	int copy;     /* never hard-link */
	int no_verify; /* skip re-hashing blobs on the way out */
	arca_snapshot_progress_cb progress;
	void *payload;
} arca_checkout_opts;

typedef struct {
	size_t n_files;
	size_t n_linked;
	size_t n_copied;
	uint64_t bytes;
	/* hf-cache: whether trees/<commit>.json was written, and when not, why (static text) */
	int tree_written;
	const char *tree_skipped;
} arca_checkout_result;

/* Writes the snapshot's files under opts->dir (plain layout). Refuses an incomplete
 * snapshot (ARCA_EINVALID), a non-empty folder without force (ARCA_EEXISTS) and a blob whose
 * bytes changed on disk (ARCA_EMISMATCH). Hard links share the store's read-only inode. */
arca_err arca_snapshot_checkout(arca_checkout_result *out, arca_store *store,
	const arca_snapshot *snap, const arca_checkout_opts *opts);

/* Writes the snapshot into a huggingface_hub cache folder (opts->dir is the cache root,
 * e.g. ~/.cache/huggingface/hub): blobs, snapshots/<commit>/ relative symlinks, refs and
 * trees/<commit>.json, so clients load it with HF_HUB_OFFLINE=1. Existing matching entries
 * are kept; a blob of the same name but another size is refused unless opts->force.
 * The tree file lists every file of the commit as the hub listed it (with Xet ids); clients
 * trust it over the hub, so for a snapshot that holds only part of the repo (a filtered
 * pull) none is written, and out->tree_skipped says so. */
arca_err arca_snapshot_checkout_hfcache(arca_checkout_result *out, arca_store *store,
	const arca_snapshot *snap, const arca_checkout_opts *opts);

/* ------------------------------------------------------------------ remove */

typedef struct {
	int with_variants; /* a snapshot with derived variants: remove them too */
	int dry_run;       /* report what would go, change nothing */
} arca_remove_opts;

typedef struct {
	int64_t id;
	char *name, *kind, *created_at;
	size_t n_outputs;
	uint64_t bytes;
} arca_removed_variant;

typedef struct {
	arca_snapshot snapshot;        /* the snapshot REF named */
	int removed_snapshot;          /* the snapshot itself went (not only variants) */
	size_t snapshot_files;
	uint64_t snapshot_bytes;
	arca_removed_variant *variants; /* variants removed */
	size_t n_variants;
	size_t n_blobs_unused;         /* blobs nothing uses any more: arca gc frees them */
	uint64_t bytes_unused;
	size_t n_blobs_kept;           /* blobs still used by another snapshot or variant */
} arca_remove_report;

void arca_remove_report_dispose(arca_remove_report *report);

/* Removes exactly what REF names from the catalog, in one transaction: REF:VARIANT the
 * variant's artifacts (with their lineage and validations), a plain REF the snapshot with
 * its files and refs. A snapshot with variants is refused (ARCA_EINVALID naming them)
 * unless opts->with_variants. Blobs stay until gc; the report says how many are now unused.
 * ARCA_ENOTFOUND when REF or the variant is not there. */
arca_err arca_snapshot_remove(arca_remove_report *out, arca_store *store, const arca_ref *ref,
	const arca_remove_opts *opts);

#endif
