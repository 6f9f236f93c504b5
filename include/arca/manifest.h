/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/manifest.h — manifests (which models to mirror) and lockfiles (exactly what was
 * mirrored: commit and per-file sha256), for `arca pull -m FILE`.
 *
 * Manifest (strict: unknown keys and wrong types are errors):
 *   {"manifest_version": 1, "name": "qwen", "description": "...",
 *    "models": [{"hub": "hf"|"modelscope", "repo": "org/name", "revision": "main",
 *                "include": ["*.json"], "exclude": [], "note": "..."}]}
 * Lock (written next to the manifest as FILE.lock):
 *   {"lock_version": 1, "manifest": "qwen", "generated_by": "arca 0.1.0",
 *    "generated_at": "...", "models": [{"hub", "repo", "revision", "commit",
 *                                       "files": [{"path", "size", "sha256"}]}]}
 * Records own their strings; dispose them. Nothing here prints or exits.
 */
#ifndef ARCA_MANIFEST_H
#define ARCA_MANIFEST_H

#include <stddef.h>

#include "arca/error.h"
#include "arca/pull.h"

typedef struct {
	char *hub;
	char *repo;
	char *revision; /* "" when the manifest gives none */
	char **include;
	size_t n_include;
	char **exclude;
	size_t n_exclude;
	char *note;
} arca_manifest_model;

typedef struct {
	char *name;
	char *description;
	arca_manifest_model *models;
	size_t n_models;
} arca_manifest;

/* Reads and checks a manifest; errors name the file and the entry. */
arca_err arca_manifest_load(arca_manifest *out, const char *path);
void arca_manifest_dispose(arca_manifest *manifest);

typedef struct {
	char *hub, *repo, *revision, *commit;
	arca_pull_pin *files;
	size_t n_files;
} arca_lock_entry;

typedef struct {
	arca_lock_entry *entries;
	size_t n_entries;
} arca_lock;

/* ARCA_ENOTFOUND when there is no lock at path. */
arca_err arca_lock_load(arca_lock *out, const char *path);
/* Writes atomically. */
arca_err arca_lock_save(const arca_lock *lock, const char *path, const char *manifest_name);
void arca_lock_dispose(arca_lock *lock);

/* The entry for (hub, repo, revision), or NULL. Borrowed. */
const arca_lock_entry *arca_lock_find(const arca_lock *lock, const char *hub, const char *repo,
	const char *revision);

/* Adds or replaces the entry for (hub, repo, revision), copying everything. */
arca_err arca_lock_set(arca_lock *lock, const char *hub, const char *repo, const char *revision,
	const char *commit, const arca_pull_pin *files, size_t n_files);

#endif
