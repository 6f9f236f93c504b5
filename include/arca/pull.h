/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/pull.h — mirroring a model revision from a hub into the store (`arca pull`).
 *
 * A pull resolves the revision to a commit first and fetches every file by that commit
 * (ModelScope, which has no commit URLs, is checked again at the end instead), verifies
 * every byte against the hub's hash, and records the snapshot with its licence, card and
 * the hub's answers as evidence. It is idempotent and resumable: files already verified
 * are never fetched again, and large downloads continue from the bytes already on disk.
 *
 * The caller holds the store lock (shared). Events reach a callback on the calling thread;
 * nothing here prints or exits. The token is never stored, logged or put in a message.
 */
#ifndef ARCA_PULL_H
#define ARCA_PULL_H

#include <stddef.h>
#include <stdint.h>

#include "arca/digest.h"
#include "arca/error.h"
#include "arca/ref.h"
#include "arca/store.h"

typedef enum {
	ARCA_PULL_RESOLVED,  /* commit known (revision, commit) */
	ARCA_PULL_LISTED,    /* n_files selected, total bytes, n_todo to download */
	ARCA_PULL_FILE_DONE, /* path, size, sha256, how ("downloaded", "resumed", "reused",
	                        "present"), or err/message when it failed */
	ARCA_PULL_PROGRESS,  /* done of total bytes; path, file_done of size: the largest file
	                        in flight */
	ARCA_PULL_RETRY,     /* message */
	ARCA_PULL_WARNING,   /* message */
} arca_pull_event_kind;

typedef struct {
	arca_pull_event_kind kind;
	const char *hub, *repo, *revision, *commit;
	const char *path, *sha256, *how, *message;
	uint64_t size, done, total, file_done;
	size_t n_files, n_todo;
	arca_err err;
} arca_pull_event;

/* Return non-zero to stop the pull (ARCA_EINTERRUPTED; work so far is kept). */
typedef int (*arca_pull_event_cb)(const arca_pull_event *event, void *payload);

/* A file as a lockfile pins it. */
typedef struct {
	const char *path;
	uint64_t size;
	const char *sha256;
} arca_pull_pin;

typedef struct {
	const arca_ref *ref;            /* hub "" means hf */
	const char *endpoint;           /* NULL: HF_ENDPOINT / MODELSCOPE_ENDPOINT / public hub */
	const char *token;              /* NULL: HF_TOKEN, ..., MODELSCOPE_API_TOKEN */
	const char *const *include;     /* globs: fnmatch, '*' crosses '/', "dir/" takes all under dir */
	size_t n_include;
	const char *const *exclude;
	size_t n_exclude;
	int require_hashes;             /* refuse files the hub lists without a hash */
	/* the repo's own model.sig: checked against the store's trust when present; with any of
	 * these, a signature that does not verify (or none) fails the pull with ARCA_EMISMATCH */
	const char *identity;           /* require this certificate/keyless signer identity */
	const char *issuer;             /* require this OIDC issuer */
	int require_signature;
	int jobs;                       /* files at once (default 4) */
	int connections;                /* ranged requests per large file (default 8) */
	uint64_t chunk_size;            /* default 32 MiB */
	/* From a lockfile: fetch exactly this commit and these files, or fail naming what
	 * changed upstream. */
	const char *locked_commit;
	const arca_pull_pin *locked_files;
	size_t n_locked_files;
	/* HTTP tuning (0: defaults): connect timeout and stall timeout in seconds, retries,
	 * first backoff in milliseconds. */
	long connect_timeout_s, stall_timeout_s, backoff_base_ms;
	int max_retries;
	arca_pull_event_cb on_event;
	void *payload;
} arca_pull_opts;

typedef struct {
	int64_t snapshot;
	char hub[16];
	char commit[ARCA_SHA256_HEX];
	char revision[256];
	size_t n_files;           /* selected */
	size_t n_downloaded;      /* fetched this run */
	size_t n_reused;          /* already in the store */
	uint64_t total_size;
	uint64_t bytes_received;
	double seconds;
	char *license_summary;    /* malloc'ed */
	arca_pull_pin *files;     /* every selected file with its sha256 (for a lockfile) */
	char **warnings;
	size_t n_warnings;
	/* the repo's model.sig, when it has one (else NULL): "verified", "untrusted",
	 * "keyless" (an invalid one fails the pull); who signed; why it is not verified */
	char *signature_state;
	char *signature_signer;
	char *signature_reason;
} arca_pull_result;

void arca_pull_result_dispose(arca_pull_result *result);

arca_err arca_pull(arca_pull_result *out, arca_store *store, const arca_pull_opts *opts);

/* The revision a REF without @revision means on the hub named hub_name ("": hf): "main",
 * "master" on ModelScope. NULL for a hub arca cannot pull from. */
const char *arca_hub_default_revision(const char *hub_name);

/* fnmatch-style selection as the Hub's client does it. Exposed for tests. */
int arca_pull_selects(const char *path, const char *const *include, size_t n_include,
	const char *const *exclude, size_t n_exclude);

#endif
