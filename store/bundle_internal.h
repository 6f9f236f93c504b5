/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/bundle_internal.h — what the bundle files share: the manifest in memory (its JSON,
 * the blob list and the plan of volumes), entry names, and the zstd-compressed volume
 * writer. Internal to store/.
 */
#ifndef ARCA_STORE_BUNDLE_INTERNAL_H
#define ARCA_STORE_BUNDLE_INTERNAL_H

#include <jansson.h>

#include "arca/bundle.h"
#include "arca/catalog.h"

#define ARCA_BUNDLE_MANIFEST_NAME "arca-bundle.json"
#define ARCA_BUNDLE_SIG_NAME "arca-bundle.sig"
#define ARCA_BUNDLE_VOLUME_NAME "arca-volume.json"
#define ARCA_BUNDLE_MAX_VOLUMES 9999u
#define ARCA_BUNDLE_MAX_BLOBS 1000000u

typedef struct {
	char sha256[ARCA_SHA256_HEX];
	uint64_t size;
} arca_bundle__blob;

/* One tar entry of a volume: a whole blob, or bytes [offset, offset + size) of it. */
typedef struct {
	size_t blob;               /* index into blobs */
	uint64_t offset, size;
} arca_bundle__entry;

typedef struct {
	arca_bundle__entry *entries;
	size_t n;
	uint64_t bytes;
} arca_bundle__volume;

typedef struct {
	json_t *snapshots;         /* the manifest's "snapshots" array (owned) */
	char created_at[32];
	arca_bundle__blob *blobs;
	size_t n_blobs;
	arca_bundle__volume *volumes;
	size_t n_volumes;
	char *text;                /* the manifest's bytes, once serialized or read */
	size_t len;
	char id[ARCA_SHA256_HEX];  /* their SHA-256 */
} arca_bundle__manifest;

void arca_bundle__manifest_dispose(arca_bundle__manifest *m);

/* Export: the snapshots (and variants) the refs name, from the catalog, with every blob they
 * use listed once. */
arca_err arca_bundle__manifest_build(arca_bundle__manifest *m, arca_store *store,
	const arca_ref *refs, size_t n_refs);
/* Export: the plan (volumes of at most `capacity` blob bytes each; 0: one volume), then the
 * manifest's text and id. */
arca_err arca_bundle__manifest_plan(arca_bundle__manifest *m, uint64_t capacity);
/* Import: reads a manifest strictly (every field's type, hashes, paths, the plan covering
 * each blob exactly once, every blob used); ARCA_ECORRUPT naming what is wrong. Takes a
 * copy of the text. */
arca_err arca_bundle__manifest_parse(arca_bundle__manifest *m, const char *text, size_t len,
	const char *what);

/* "blobs/<sha256>" or "blobs/<sha256>@<offset>" into buf (at least 96 bytes). */
void arca_bundle__entry_name(char *buf, size_t cap, const arca_bundle__manifest *m,
	const arca_bundle__entry *e);
/* The JSON of arca-volume.json for volume k (1-based), malloc'ed. */
char *arca_bundle__volume_json(const arca_bundle__manifest *m, size_t k);

/* Import: the catalog records of the manifest's snapshots, in the caller's transaction,
 * with every signature checked against the store's trust (one that does not match is
 * ARCA_EMISMATCH). Fills out->snapshots. */
arca_err arca_bundle__apply(arca_bundle_import_result *out, arca_store *store,
	const arca_bundle__manifest *m, const char *origin);

#endif
