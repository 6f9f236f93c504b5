/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/bundle.h — bundles: snapshots, their variants and every blob they use, in one file
 * (or numbered volumes) to carry to a machine with no network, and back into a store there.
 *
 * A volume is a pax tar compressed with zstd. Each volume holds, in this order:
 *   arca-bundle.json     the manifest (the same bytes in every volume); its SHA-256 is the
 *                        bundle's id
 *   arca-bundle.sig      optional: a model-signing signature over arca-bundle.json
 *   arca-volume.json     {"bundle": id, "volume": k, "volumes": n}
 *   blobs/<sha256>       the blobs the manifest's plan puts in volume k, in the plan's order;
 *   blobs/<sha256>@<off> a piece of a blob split across volumes
 * and nothing else. docs/bundle.md describes the manifest field by field.
 *
 * Import checks the manifest and the signature before it writes anything; stores each blob
 * through the store's blob writer (hash checked, fsync'ed, renamed), and records snapshots,
 * refs, variants, validations and signatures in one catalog transaction once every blob is
 * there and every signature checked. Until then nothing is visible: a failed import leaves
 * only the blobs it verified, unreferenced (gc frees them, a later import reuses them: that
 * is how a bundle given in several runs, volume by volume, resumes).
 *
 * Nothing here prints or exits; progress goes through the callback.
 */
#ifndef ARCA_BUNDLE_H
#define ARCA_BUNDLE_H

#include "arca/digest.h"
#include "arca/error.h"
#include "arca/ref.h"
#include "arca/store.h"

#include <stddef.h>
#include <stdint.h>

#define ARCA_BUNDLE_FORMAT "arca-bundle"
#define ARCA_BUNDLE_VERSION 1
/* The largest manifest (and signature) a reader accepts. */
#define ARCA_BUNDLE_MANIFEST_MAX (64u << 20)

/* Bytes done of the total, the item being worked on; non-zero stops (ARCA_EINTERRUPTED). */
typedef int (*arca_bundle_progress_cb)(const char *item, uint64_t done, uint64_t total,
	void *payload);

/* ------------------------------------------------------------------ export */

typedef struct {
	const arca_ref *refs;        /* REF (the snapshot and all its variants) or REF:VARIANT */
	size_t n_refs;
	const char *out_path;        /* FILE.arca; with split_size, FILE.arca.001, .002, ... */
	uint64_t split_size;         /* 0: one file; else no volume is larger than this */
	int sign;                    /* sign the manifest with an own key */
	const char *key;             /* that key (NULL: the only own key) */
	const char *passphrase;
	int level;                   /* zstd level (0: 3) */
	int threads;                 /* zstd workers (0: one per CPU) */
	arca_bundle_progress_cb progress;
	void *payload;
} arca_bundle_export_opts;

typedef struct {
	char id[ARCA_SHA256_HEX];    /* the manifest's SHA-256 */
	char **volumes;              /* the files written */
	size_t n_volumes;
	size_t n_snapshots, n_variants, n_blobs;
	uint64_t blob_bytes;         /* the blobs' bytes */
	uint64_t bytes_written;      /* the volumes' bytes */
	char *key_name;              /* the key it was signed with, or NULL */
	char key_id[ARCA_SHA256_HEX];
	int threads;                 /* zstd workers used */
} arca_bundle_export_result;

/* Writes the bundle. Each volume appears only complete (tmp + fsync + rename); on error
 * none of this run's volumes are left. ARCA_ENOTFOUND for a ref the store lacks, ARCA_EINVALID
 * for an incomplete snapshot or a split size too small for the manifest. */
arca_err arca_bundle_export(arca_bundle_export_result *out, arca_store *store,
	const arca_bundle_export_opts *opts);
void arca_bundle_export_result_dispose(arca_bundle_export_result *r);

/* ------------------------------------------------------------------ import */

typedef struct {
	const char *const *paths;    /* volumes, any order; one volume of a split set named
	                              * NAME.NNN brings its siblings NAME.001... when they exist */
	size_t n_paths;
	int trust_signer;            /* accept a signer this store does not trust */
	int allow_unsigned;          /* accept a bundle without arca-bundle.sig */
	unsigned max_ratio;          /* decompression bound (0: 1000:1) */
	arca_bundle_progress_cb progress;
	void *payload;
} arca_bundle_import_opts;

typedef enum {
	ARCA_BUNDLE_IMPORTED,        /* new in this store */
	ARCA_BUNDLE_COMPLETED,       /* was there, incomplete or without some variants */
	ARCA_BUNDLE_ALREADY,         /* was there with everything the bundle has */
} arca_bundle_outcome;

typedef struct {
	char *subject;               /* hub:org/name@commit */
	arca_bundle_outcome outcome;
	size_t n_files, n_variants, n_signatures;
	char *signature_state;       /* after checking here: "verified", ..., or NULL */
	char **refs_kept;            /* refs the bundle names that point elsewhere here */
	size_t n_refs_kept;
} arca_bundle_imported;

typedef struct {
	char id[ARCA_SHA256_HEX];
	char *signature;             /* "verified", "accepted" (--trust-signer), "unsigned" */
	char *signer;                /* who signed it, or NULL */
	size_t n_volumes;            /* in the bundle */
	size_t n_volumes_read;       /* read in this run */
	arca_bundle_imported *snapshots;
	size_t n_snapshots;
	size_t n_blobs, n_blobs_new; /* in the bundle; stored by this run */
	uint64_t bytes_read;         /* compressed bytes read */
	uint64_t blob_bytes_new;
} arca_bundle_import_result;

/* Imports a bundle. ARCA_EMISMATCH when a blob, the manifest or a signature does not match;
 * ARCA_ECORRUPT for anything not in the format; ARCA_EINVALID when an untrusted or missing
 * signature is not allowed, or a volume is missing (the message names it; the blobs read so
 * far stay for the next run). */
arca_err arca_bundle_import(arca_bundle_import_result *out, arca_store *store,
	const arca_bundle_import_opts *opts);
void arca_bundle_import_result_dispose(arca_bundle_import_result *r);

/* "imported", "completed", "already stored". */
const char *arca_bundle_outcome_name(arca_bundle_outcome outcome);

#endif
