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
 *
 * arca_pull_manifest (fetch/mirror.c) pulls every model a manifest lists, pinned by its lock,
 * and keeps the lock; what happens to each model reaches a callback.
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
	/* "arca": {"convert": bool, "validate": bool, "note": "..."}: what arca can do with the
	 * model today (curated manifests all say; optional in others) */
	int has_arca;
	int arca_convert;   /* arca converts it to GGUF */
	int arca_validate;  /* and the conversion is validated (float64 reference, llama.cpp) */
	char *arca_note;    /* NULL when none */
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
} arca_lockfile_entry;

typedef struct {
	arca_lockfile_entry *entries;
	size_t n_entries;
} arca_lockfile;

/* ARCA_ENOTFOUND when there is no lock at path. */
arca_err arca_lockfile_load(arca_lockfile *out, const char *path);
/* Writes atomically. */
arca_err arca_lockfile_save(const arca_lockfile *lock, const char *path, const char *manifest_name);
void arca_lockfile_dispose(arca_lockfile *lock);

/* The entry for (hub, repo, revision), or NULL. Borrowed. */
const arca_lockfile_entry *arca_lockfile_find(const arca_lockfile *lock, const char *hub, const char *repo,
	const char *revision);

/* Adds or replaces the entry for (hub, repo, revision), copying everything. */
arca_err arca_lockfile_set(arca_lockfile *lock, const char *hub, const char *repo, const char *revision,
	const char *commit, const arca_pull_pin *files, size_t n_files);

/* ------------------------------------------------------------------ pulling a manifest */

typedef enum {
	ARCA_MANIFEST_MODEL_NEXT,   /* models[index] comes next: return non-zero to stop before
	                               it */
	ARCA_MANIFEST_MODEL_PULLED, /* ref, result: it was pulled */
	ARCA_MANIFEST_MODEL_FAILED, /* ref, err: its pull failed, arca_error_last() says why
	                               (during the call); the next model follows */
} arca_manifest_event_kind;

typedef struct {
	arca_manifest_event_kind kind;
	size_t index, n_models;
	const arca_manifest_model *model;
	const arca_ref *ref;              /* PULLED, FAILED: the REF the model was pulled as */
	const arca_lockfile_entry *locked;    /* PULLED, FAILED: the lock entry it was pinned by, or
	                                     NULL (none, or update_lock) */
	const arca_pull_result *result;   /* PULLED */
	arca_err err;                     /* FAILED */
} arca_manifest_event;

/* Return non-zero to stop: no further model is pulled and the lock is not written (the
 * pulls so far stay in the store). */
typedef int (*arca_manifest_event_cb)(const arca_manifest_event *event, void *payload);

typedef arca_err (*arca_pull_fn)(arca_pull_result *out, arca_store *store,
	const arca_pull_opts *opts);

typedef struct {
	const char *manifest_path;
	const char *lock_path;        /* NULL: manifest_path with ".lock" appended */
	int update_lock;              /* ignore the lock: pull the revisions as they are now and
	                                 write every model's entry anew */
	const arca_pull_opts *pull;   /* the settings of every pull (endpoint, token, jobs,
	                                 on_event, ...); ref, include/exclude and the locked_*
	                                 fields are set per model */
	arca_manifest_event_cb on_model;
	void *payload;
	arca_pull_fn pull_fn;         /* NULL: arca_pull (tests put a stand-in here) */
} arca_manifest_pull_opts;

/* Where arca_pull_manifest stopped when it returns an error. */
typedef enum {
	ARCA_MANIFEST_STEP_LOAD,  /* reading the manifest or its lock */
	ARCA_MANIFEST_STEP_ENTRY, /* a model whose hub, repo and revision make no REF to pull */
	ARCA_MANIFEST_STEP_LOCK,  /* adding a pulled model to the lock */
	ARCA_MANIFEST_STEP_WRITE, /* writing the lock */
} arca_manifest_step;

typedef struct {
	size_t n_models, n_pulled, n_failed;
	/* What the failed pulls amount to: ARCA_EMISMATCH when any model's content did not
	 * match (verification failures outrank the rest), else the first failure's error;
	 * ARCA_OK when none failed. */
	arca_err models_err;
	int stopped;                   /* the callback asked to stop */
	int lock_existed;              /* there was a lock to pin the pulls */
	int lock_written;              /* the lock was (re)written */
	char *lock_path;               /* malloc'ed */
	arca_manifest_step failed_step; /* when an error is returned */
} arca_manifest_pull_result;

void arca_manifest_pull_result_dispose(arca_manifest_pull_result *result);

/* Pulls every model of the manifest at opts->manifest_path, in order, with its include and
 * exclude patterns. Unless update_lock, a model the lock has an entry for (hub, repo, and
 * the revision: the manifest's, else the hub's default) is pulled exactly as locked; any
 * other model is pulled as it is now and added to the lock. The lock is written only when
 * something was added and every model came through (none failed, no stop), so it never
 * pins a mix.
 *
 * A model whose pull fails is reported (ARCA_MANIFEST_MODEL_FAILED) and counted, and the
 * next one follows: that is still ARCA_OK, with n_failed and models_err saying how it went.
 * An error is returned, with failed_step, when the manifest or the lock cannot be read, a
 * model makes no REF (ARCA_EINVALID), the lock cannot take an entry, or it cannot be
 * written; no model after it is pulled. The caller holds the store lock (shared). */
arca_err arca_pull_manifest(arca_manifest_pull_result *out, arca_store *store,
	const arca_manifest_pull_opts *opts);

#endif
