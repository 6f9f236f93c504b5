/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/catalog.h — the SQLite catalog: what the store holds and where it came from.
 *
 * Tables (schema version ARCA_CATALOG_SCHEMA; store/migrations.c has the SQL):
 *   blobs        every stored blob: sha256, size, git blob sha1, encoding
 *   repos        (hub, repo_id) pairs
 *   snapshots    one per (repo, commit): state, when, licence, card, hub evidence
 *   refs         branch/tag/revision names → snapshot, per repo
 *   files        the files of a snapshot: path, size, blob, hub oid
 *   artifacts    derived files (GGUF, ...) with artifact_inputs/_outputs as lineage
 *   validations, keys, signatures             for the runtime and signing
 *   tensors, tensor_index                     the tensor index of safetensors and GGUF
 *                                             blobs (arca/tensor_index.h), with a sketch
 *                                             of each whole file, for audits
 *
 * The database runs in WAL mode with foreign keys on and a busy timeout, so several arca
 * processes can use it at once. Migrations are applied in order when a store is opened; a
 * catalog whose version is newer than this arca knows is refused with ARCA_EVERSION.
 *
 * Strings in the records below are malloc'ed and owned by the record; free them with the
 * matching _dispose/_free. Nothing here prints or exits.
 */
#ifndef ARCA_CATALOG_H
#define ARCA_CATALOG_H

#include "arca/digest.h"
#include "arca/error.h"
#include "arca/ref.h"

#include <stddef.h>
#include <stdint.h>

typedef struct arca_catalog arca_catalog;

#define ARCA_CATALOG_SCHEMA 5

/* Opens (create = 1: creates) the catalog at path and applies pending migrations. */
arca_err arca_catalog_open(arca_catalog **out, const char *path, int create);
void arca_catalog_free(arca_catalog *cat);

int arca_catalog_schema_version(const arca_catalog *cat);

/* A write transaction (BEGIN IMMEDIATE). Nested begin/commit pairs are counted; only the
 * outermost commits. Rollback undoes the whole transaction. */
arca_err arca_catalog_begin(arca_catalog *cat);
arca_err arca_catalog_commit(arca_catalog *cat);
void arca_catalog_rollback(arca_catalog *cat);

/* PRAGMA quick_check and foreign_key_check; ARCA_ECORRUPT with the first problem. */
arca_err arca_catalog_check(arca_catalog *cat);

/* ------------------------------------------------------------------ blobs */

typedef struct {
	char sha256[ARCA_SHA256_HEX];
	uint64_t size;
	uint64_t stored_size;
	char git_sha1[ARCA_SHA1_HEX]; /* "" when not known */
	char encoding[16];            /* "raw" */
} arca_blob_record;

/* Records a blob (or fills in its git sha1 if it was missing). */
arca_err arca_catalog_put_blob(arca_catalog *cat, const arca_blob_record *blob);
arca_err arca_catalog_get_blob(arca_catalog *cat, const char *sha256, arca_blob_record *out);
arca_err arca_catalog_delete_blob(arca_catalog *cat, const char *sha256);

/* Calls cb for every blob in the catalog (sorted by hash); a non-zero return stops with
 * ARCA_EINTERRUPTED. */
typedef int (*arca_blob_record_cb)(const arca_blob_record *blob, void *payload);
arca_err arca_catalog_each_blob(arca_catalog *cat, arca_blob_record_cb cb, void *payload);

/* *out = 1 when a snapshot file, artifact output or signature refers to the blob. */
arca_err arca_catalog_blob_is_referenced(arca_catalog *cat, const char *sha256, int *out);

/* *out = 1 when a file of a complete snapshot is this blob (what arca serve may hand out). */
arca_err arca_catalog_blob_in_complete_snapshot(arca_catalog *cat, const char *sha256,
	int *out);

/* Finds a blob by its git blob id; ARCA_ENOTFOUND when none. */
arca_err arca_catalog_find_blob_by_git_sha1(arca_catalog *cat, const char *git_sha1,
	arca_blob_record *out);

/* Calls cb for every blob nothing refers to (the ones gc collects). */
arca_err arca_catalog_each_unreferenced_blob(arca_catalog *cat, arca_blob_record_cb cb,
	void *payload);

/* Up to a few "hub:org/name@commit12: path" entries naming who uses a blob, into buf. */
arca_err arca_catalog_describe_blob_users(arca_catalog *cat, const char *sha256, char *buf,
	size_t cap);

/* ------------------------------------------------------------------ snapshots */

typedef struct {
	int64_t id;
	char *hub;
	char *repo_id;
	char *commit;
	char *revision;     /* the revision asked for when it was taken */
	char *state;        /* "complete" or "incomplete" */
	char *source;       /* "local", "hub", "bundle" */
	char *origin;       /* folder, endpoint URL or bundle it came from */
	char *created_at;   /* ISO-8601 UTC */
	char *completed_at; /* NULL while incomplete */
	char *license_json; /* {"id","name","link","files":[..],"detected"} or NULL */
	char *card_json;    /* README front matter as JSON, or NULL */
	char *evidence_json;
	char *refs_json;    /* JSON array of ref names pointing at this snapshot */
	uint64_t total_size;
	int64_t n_files;
	/* its signatures (not its variants'): the summary a check of all of them would give
	 * ("invalid" if one is, else "verified" if one is, else "keyless" or "untrusted"),
	 * NULL when it has none; and each as {source, state, signer, created_at, verified_at} */
	char *signature_state;
	char *signatures_json;
} arca_snapshot;

void arca_snapshot_dispose(arca_snapshot *snap);
void arca_snapshots_free(arca_snapshot *snaps, size_t n);

/* All snapshots, ordered by hub, repo and creation time. */
arca_err arca_catalog_list_snapshots(arca_snapshot **out, size_t *n_out, arca_catalog *cat);

/* Snapshots that are not complete. */
arca_err arca_catalog_list_incomplete(arca_snapshot **out, size_t *n_out, arca_catalog *cat);

/* *out = 1 when the store holds a model repo_id from this hub (any state). */
arca_err arca_catalog_has_repo(arca_catalog *cat, const char *hub, const char *repo_id, int *out);

/* Resolves a REF (variant ignored): the hub if given, else the only hub holding the repo;
 * the revision as a ref name, then as a commit or commit prefix; without a revision the
 * default branch (main, master), else the only snapshot. ARCA_ENOTFOUND or ARCA_EINVALID
 * (ambiguous) with a message listing what is there. */
arca_err arca_catalog_find_snapshot(arca_snapshot *out, arca_catalog *cat, const arca_ref *ref);

typedef struct {
	char *path;
	uint64_t size;
	char sha256[ARCA_SHA256_HEX]; /* "" while not yet verified */
	char git_sha1[ARCA_SHA1_HEX];
	char *hub_oid;   /* the hash the hub announced, or NULL */
	char *oid_kind;  /* "sha256" or "git-sha1", or NULL */
	char *evidence_json; /* the hub's answer for this file, or NULL */
} arca_file;

void arca_file_dispose(arca_file *file);
void arca_files_free(arca_file *files, size_t n);

/* One file of a snapshot by its path; ARCA_ENOTFOUND when the snapshot has no such file. */
arca_err arca_catalog_find_file(arca_file *out, arca_catalog *cat, int64_t snapshot,
	const char *path);

/* The files of a snapshot, sorted by path. */
arca_err arca_catalog_list_files(arca_file **out, size_t *n_out, arca_catalog *cat,
	int64_t snapshot);

typedef struct {
	const char *hub, *repo_id, *commit, *revision, *source, *origin;
	const char *license_json, *card_json, *evidence_json;
} arca_snapshot_new;

/* Creates an incomplete snapshot, or finds the existing one for (hub, repo, commit).
 * *existed_out tells which; an existing one keeps its files. */
arca_err arca_catalog_create_snapshot(arca_catalog *cat, const arca_snapshot_new *snap,
	int64_t *id_out, int *existed_out);

/* Adds or replaces one file of a snapshot. */
arca_err arca_catalog_add_file(arca_catalog *cat, int64_t snapshot, const arca_file *file);

/* Removes one file row of a snapshot (its blob stays until gc); no row is not an error. */
arca_err arca_catalog_remove_file(arca_catalog *cat, int64_t snapshot, const char *path);

/* Marks a snapshot complete; ARCA_EINVALID if a file has no verified blob. */
arca_err arca_catalog_complete_snapshot(arca_catalog *cat, int64_t snapshot);

/* Replaces the licence, card and evidence of a snapshot (NULL leaves a field as it is). */
arca_err arca_catalog_update_snapshot(arca_catalog *cat, int64_t snapshot,
	const char *license_json, const char *card_json, const char *evidence_json);

/* Marks a snapshot incomplete again (files are being added to it). */
arca_err arca_catalog_mark_incomplete(arca_catalog *cat, int64_t snapshot);

/* Points ref `name` of the snapshot's repo at it. */
arca_err arca_catalog_set_ref(arca_catalog *cat, int64_t snapshot, const char *name);

/* Points ref `name` at the snapshot unless the repo already has that ref; *points_at gets
 * the snapshot the ref names afterwards (this one, or the one it already named). */
arca_err arca_catalog_add_ref(arca_catalog *cat, int64_t snapshot, const char *name,
	int64_t *points_at);

/* Removes a snapshot, its files and refs (the blobs stay until gc). */
arca_err arca_catalog_delete_snapshot(arca_catalog *cat, int64_t snapshot);

/* ------------------------------------------------------------------ lineage */

typedef struct {
	int64_t id;
	char *kind;
	char *name;
	char *params_json;
	char *tool_version;
	char *created_at;
} arca_artifact;

void arca_artifacts_free(arca_artifact *arts, size_t n);
void arca_artifact_dispose(arca_artifact *art);

/* Records a derived artifact of a snapshot (snapshot may be 0 for none). */
arca_err arca_catalog_add_artifact(arca_catalog *cat, const char *kind, const char *name,
	int64_t snapshot, const char *params_json, int64_t *id_out);
/* Lineage: a blob that went into it (path inside the source), a blob that came out. */
arca_err arca_catalog_add_artifact_input(arca_catalog *cat, int64_t artifact,
	const char *sha256, const char *path);
arca_err arca_catalog_add_artifact_output(arca_catalog *cat, int64_t artifact,
	const char *sha256, const char *path);

/* Removes an artifact with its lineage rows and validations (its output blobs stay until
 * gc); ARCA_ENOTFOUND when there is no such artifact. */
arca_err arca_catalog_delete_artifact(arca_catalog *cat, int64_t artifact);

/* The newest artifact of a snapshot with this name; ARCA_ENOTFOUND when none. */
arca_err arca_catalog_find_artifact(arca_artifact *out, arca_catalog *cat, int64_t snapshot,
	const char *name);

typedef struct {
	char *path;
	char sha256[ARCA_SHA256_HEX];
	uint64_t size;
} arca_artifact_file;

void arca_artifact_files_free(arca_artifact_file *files, size_t n);
/* Outputs (or inputs) of an artifact, sorted by path. */
arca_err arca_catalog_artifact_outputs(arca_artifact_file **out, size_t *n_out,
	arca_catalog *cat, int64_t artifact);
arca_err arca_catalog_artifact_inputs(arca_artifact_file **out, size_t *n_out,
	arca_catalog *cat, int64_t artifact);

/* Artifacts derived from a snapshot. */
arca_err arca_catalog_list_artifacts(arca_artifact **out, size_t *n_out, arca_catalog *cat,
	int64_t snapshot);

/* ------------------------------------------------------------------ validations */

/* A recorded `arca validate` run of a GGUF variant (see arca/validate.h for the fields). */
typedef struct {
	int64_t id;
	int64_t artifact;
	char *prompt_set;
	char *tokens_json;
	char *logits_digest;
	char *metrics_json;
	char *at;
} arca_validation;

void arca_validation_dispose(arca_validation *v);
arca_err arca_catalog_add_validation(arca_catalog *cat, int64_t artifact,
	const char *prompt_set, const char *tokens_json, const char *logits_digest,
	const char *metrics_json, int64_t *id_out);
/* The same with the time it was made (ISO-8601 UTC; NULL: now), for records carried over
 * from another store by a bundle. */
arca_err arca_catalog_add_validation_at(arca_catalog *cat, int64_t artifact,
	const char *prompt_set, const char *tokens_json, const char *logits_digest,
	const char *metrics_json, const char *at, int64_t *id_out);
/* Every validation recorded for a variant, oldest first. */
arca_err arca_catalog_list_validations(arca_validation **out, size_t *n_out, arca_catalog *cat,
	int64_t artifact);
void arca_validations_free(arca_validation *vals, size_t n);
/* The newest validation with this prompt set of the variant `variant` of any snapshot at
 * commit `commit_id` (so a re-pulled or imported copy finds the first one's record), or
 * ARCA_ENOTFOUND. `before` > 0: only records with a smaller id. */
arca_err arca_catalog_last_validation(arca_validation *out, arca_catalog *cat,
	const char *commit_id, const char *variant, const char *prompt_set, int64_t before);

/* A new fingerprint of a stored variant, as `arca validate` made it (store/validations.c).
 * Everything is borrowed. */
typedef struct {
	int64_t artifact;           /* the variant validated */
	const char *commit;         /* its snapshot's commit */
	const char *variant;        /* its name ("q4_k_m") */
	const char *prompt_set;
	const char *tokens_json;    /* the greedy tokens; compared as JSON values */
	const char *logits_digest;
	const char *kernels;        /* the kernels that made the digest */
	const char *metrics_json;   /* recorded as it is; carries "kernels" for later runs */
} arca_validation_run;

typedef enum {
	ARCA_VALIDATION_NOT_RECORDED = 0, /* nothing recorded before, nor now */
	ARCA_VALIDATION_RECORDED,         /* nothing recorded before: this run is the record */
	ARCA_VALIDATION_SAME,             /* behaves as recorded */
	ARCA_VALIDATION_DIFFERS,          /* the tokens differ, or (same kernels) the digest */
} arca_validation_status;

/* "not recorded", "recorded", "same", "differs". */
const char *arca_validation_status_name(arca_validation_status status);

/* How a run compares with the newest earlier record of the same commit, variant and prompt
 * set (of any snapshot at that commit). The logits digest counts only when the record was
 * made with the same kernels: other kernels round differently, the tokens must still agree.
 * A zeroed verdict is "not recorded", nothing compared. */
typedef struct {
	arca_validation_status status;
	int had_record;         /* the fields below describe the record compared with */
	int same_tokens;
	int same_digest;
	int digest_comparable;  /* the record's kernels are the run's */
	char at[40];            /* when it was made */
	int64_t id;             /* the new record's id (arca_validation_record) */
} arca_validation_verdict;

/* Compares without recording: status NOT_RECORDED, SAME or DIFFERS. */
arca_err arca_validation_check(arca_validation_verdict *out, arca_catalog *cat,
	const arca_validation_run *run);
/* Compares, then records the run (also when it differs, so the history shows it): status
 * RECORDED, SAME or DIFFERS. On error nothing was recorded. */
arca_err arca_validation_record(arca_validation_verdict *out, arca_catalog *cat,
	const arca_validation_run *run);

/* ------------------------------------------------------------------ keys and signatures */

/* A key the store knows: its own signing keys (trust "own"; the private half is a file in
 * the store's keys/), public keys it trusts, and root certificates it trusts (algorithm
 * "x509", public_pem holding the certificates). */
typedef struct {
	char *key_id;      /* the key's hint (sha256 of its public PEM), or of the certificates */
	char *name;
	char *algorithm;   /* "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "x509" */
	char *public_pem;
	char *trust;       /* "own", "trusted", "untrusted" */
	char *created_at;
} arca_key_record;

void arca_key_records_free(arca_key_record *keys, size_t n);
void arca_key_record_dispose(arca_key_record *key);

/* Adds a key, or updates the name, trust and PEM of the one with this id. A name another
 * key has is ARCA_EEXISTS. */
arca_err arca_catalog_put_key(arca_catalog *cat, const arca_key_record *key);
/* Every key, by name. */
arca_err arca_catalog_list_keys(arca_key_record **out, size_t *n_out, arca_catalog *cat);
/* The key with this name, or whose id starts with it (8 hex digits or more). */
arca_err arca_catalog_find_key(arca_key_record *out, arca_catalog *cat, const char *name_or_id);
arca_err arca_catalog_set_key_trust(arca_catalog *cat, const char *key_id, const char *trust);

typedef struct {
	int64_t id;
	int64_t snapshot;
	int64_t artifact;     /* 0: the snapshot itself */
	char *key_id;         /* the trusted key or root that verified it, or NULL */
	char *bundle_blob;    /* sha256 of the model.sig kept as a blob */
	char *source;         /* "arca" (signed here), "upstream" (came with a pull), "file" */
	char *state;          /* "verified", "untrusted", "invalid", "keyless" */
	char *signer;         /* who: a key name, a certificate subject, an identity */
	char *details_json;
	char *created_at;
	char *verified_at;    /* when its last check passed, or NULL */
} arca_signature_record;

void arca_signature_records_free(arca_signature_record *sigs, size_t n);

arca_err arca_catalog_add_signature(arca_catalog *cat, const arca_signature_record *sig,
	int64_t *id_out);
/* The signatures of a snapshot (artifact 0) or of one variant, newest first. */
arca_err arca_catalog_list_signatures(arca_signature_record **out, size_t *n_out,
	arca_catalog *cat, int64_t snapshot, int64_t artifact);
/* Records a new check of a signature: its state, who, and (when verified) the time. */
arca_err arca_catalog_update_signature(arca_catalog *cat, int64_t id, const char *state,
	const char *key_id, const char *signer, const char *details_json);

/* ------------------------------------------------------------------ tensor index */

/* Floats in a tensor's sketch (arca/tensor_index.h says how it is made). */
#define ARCA_TENSOR_SKETCH_DIM 128

/* One tensor of an indexed blob. */
typedef struct {
	char *name;                   /* as the file stores it */
	char dtype[16];               /* "BF16", "Q8_0", ... as the format spells it */
	char *shape_json;             /* JSON array in the file's own order */
	uint64_t offset;              /* of its first byte, from the start of the blob */
	uint64_t nbytes;              /* its bytes (a GGUF's alignment padding not counted) */
	uint64_t n_elements;
	char sha256[ARCA_SHA256_HEX]; /* of those bytes */
	/* 0: a dtype arca does not decode (integers, FP8): no statistics, no sketch */
	int has_values;
	/* of the finite values, as float64 sums; std is the population deviation */
	double mean, std, rms, l2, min, max, zero_frac;
	float sketch[ARCA_TENSOR_SKETCH_DIM];
} arca_tensor_record;

void arca_tensor_record_dispose(arca_tensor_record *t);
void arca_tensor_records_free(arca_tensor_record *rows, size_t n);

/* Replaces the index of a blob (recorded in the blobs table) with these rows, in one
 * transaction: format "safetensors" or "gguf", the index version that made them. */
arca_err arca_catalog_put_tensor_index(arca_catalog *cat, const char *blob, const char *format,
	int version, const arca_tensor_record *rows, size_t n);

/* Removes a blob's index rows (none is not an error). */
arca_err arca_catalog_delete_tensor_index(arca_catalog *cat, const char *blob);

/* *version_out = the index version the blob was indexed with, 0 when it is not indexed. */
arca_err arca_catalog_tensor_index_version(arca_catalog *cat, const char *blob,
	int *version_out);

/* The tensors of an indexed blob, by offset (none when it is not indexed). */
arca_err arca_catalog_list_tensors(arca_tensor_record **out, size_t *n_out, arca_catalog *cat,
	const char *blob);

/* A safetensors or GGUF blob of the store (by file name: *.safetensors, *.gguf). */
typedef struct {
	char sha256[ARCA_SHA256_HEX];
	char *path;        /* its path in the snapshot, or in the variant's outputs */
	uint64_t size;
	int64_t snapshot;  /* 0: a variant of no snapshot */
	int64_t artifact;  /* 0: a snapshot file */
	int index_version; /* 0: not indexed */
	int64_t n_tensors; /* rows indexed */
} arca_weight_blob;

void arca_weight_blobs_free(arca_weight_blob *blobs, size_t n);

/* The weight blobs, each once (by hash): snapshot 0: of every snapshot and variant in the
 * store; else artifact 0: the snapshot's files and its variants' outputs; artifact > 0:
 * only that variant's outputs. Sorted by path, then hash. */
arca_err arca_catalog_list_weight_blobs(arca_weight_blob **out, size_t *n_out,
	arca_catalog *cat, int64_t snapshot, int64_t artifact);

/* A stored file that shares tensors (by the sha256 of their bytes) with a set of blobs. */
typedef struct {
	char blob[ARCA_SHA256_HEX];
	char *owner;        /* "hub:org/name@commit12" or "hub:org/name@commit12:variant" */
	char *path;         /* the file in that snapshot or variant */
	int64_t snapshot;
	int64_t artifact;   /* 0: a snapshot file */
	int64_t n_shared;   /* distinct tensor hashes in common with the set */
	uint64_t bytes_shared;
} arca_tensor_overlap;

void arca_tensor_overlaps_free(arca_tensor_overlap *o, size_t n);

/* Every indexed blob holding a tensor whose hash a tensor of `blobs` has (the same blob
 * too), once per snapshot file or variant output that uses it, leaving out the files and
 * variants of snapshot exclude_snapshot (0: none), most shared first. Uses the
 * tensors_by_sha256 index. */
arca_err arca_catalog_tensor_overlaps(arca_tensor_overlap **out, size_t *n_out,
	arca_catalog *cat, const char *const *blobs, size_t n_blobs, int64_t exclude_snapshot);

/* A stored file or variant output whose blob is indexed. */
typedef struct {
	char blob[ARCA_SHA256_HEX];
	int64_t snapshot, artifact;   /* artifact 0: a snapshot file */
	char *owner;                  /* "hub:org/name@commit12" or "...:variant" */
} arca_blob_owner;

void arca_blob_owners_free(arca_blob_owner *owners, size_t n);

/* Every indexed blob with each snapshot or variant using it, outside exclude_snapshot (0:
 * none), sorted by blob. */
arca_err arca_catalog_indexed_owners(arca_blob_owner **out, size_t *n_out, arca_catalog *cat,
	int64_t exclude_snapshot);

/* Floats in a whole file's sketch. */
#define ARCA_FILE_SKETCH_DIM 1024

/* The sketch of a whole indexed file: each matrix's sketch (≥ 2 dims, not constant) spread
 * over ARCA_FILE_SKETCH_DIM buckets with signs keyed by the tensor's name, so that the inner
 * product of two files' sketches estimates Σ over same-name matrices of ⟨a, b⟩ (what the
 * global cosine needs) and sketches of several files of a model add up. norm2 = Σ ‖a‖² over
 * those matrices. */
typedef struct {
	char blob[ARCA_SHA256_HEX];
	float sketch[ARCA_FILE_SKETCH_DIM];
	double norm2;
	int64_t n_matrices;
} arca_file_sketch;

/* Computes the file sketch of a blob's rows (what the catalog stores with them). */
void arca_file_sketch_of(arca_file_sketch *out, const arca_tensor_record *rows, size_t n);

/* The file sketch of every indexed blob, sorted by blob (blobs indexed before schema 5
 * get theirs computed from their rows here). */
arca_err arca_catalog_file_sketches(arca_file_sketch **out, size_t *n_out, arca_catalog *cat);

/* Records the file sketch of every indexed blob that has none yet (indexed before schema
 * 5), from its rows; one transaction. */
arca_err arca_catalog_fill_file_sketches(arca_catalog *cat);

/* Blobs holding tensors with one of these hashes: per blob, how many such rows and their
 * bytes. Uses the tensors_by_sha256 index. */
typedef struct {
	char blob[ARCA_SHA256_HEX];
	int64_t n_tensors;
	uint64_t bytes;
} arca_hash_hits;

arca_err arca_catalog_hash_hits(arca_hash_hits **out, size_t *n_out, arca_catalog *cat,
	const char *const *sha256s, size_t n);

#endif
