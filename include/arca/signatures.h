/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/signatures.h — signatures in the store: its keys (`arca key`), signing a snapshot or
 * a variant (`arca sign`), checking recorded or given signatures against the store's blobs
 * (`arca verify`), and the check `arca pull` runs on a repo's own model.sig. The format and
 * the checks themselves are arca/sign.h; this is where trust comes from (the catalog's keys
 * table) and where results go (the signatures table, the snapshot's evidence).
 *
 * Keys: the store's own signing keys keep their private half in keys/<id>.pem (mode 0600,
 * optionally encrypted with a passphrase); public keys, root certificates (PEM) and Sigstore
 * trusted roots (JSON) are trusted by adding them. Private keys never appear in results,
 * messages or the catalog. Nothing here prints or exits. Callers hold the store lock:
 * exclusive for anything that records, shared for checks that do not.
 */
#ifndef ARCA_SIGNATURES_H
#define ARCA_SIGNATURES_H

#include "arca/catalog.h"
#include "arca/ref.h"
#include "arca/sign.h"
#include "arca/store.h"

/* ------------------------------------------------------------------ keys */

/* A new P-256 signing key named `name` (NULL: "default", or "key-<id>" when that is
 * taken), its private half encrypted when passphrase is given. */
arca_err arca_keys_new(arca_key_record *out, arca_store *store, const char *name,
	const char *passphrase);

/* Trusts what `text` holds: a public key PEM, root certificates PEM, or a Sigstore trusted
 * root JSON; `name` NULL: from `what` (a file name). A private key is refused (it says to
 * give the public half). Trusting a key the store knows again marks it trusted. */
arca_err arca_keys_trust(arca_key_record *out, arca_store *store, const char *text, size_t len,
	const char *name, const char *what);
/* The same for a file (at most 1 MiB). */
arca_err arca_keys_trust_file(arca_key_record *out, arca_store *store, const char *path,
	const char *name);
/* Marks a known key trusted again by name or id. */
arca_err arca_keys_retrust(arca_key_record *out, arca_store *store, const char *name);
arca_err arca_keys_untrust(arca_key_record *out, arca_store *store, const char *name);

/* Whether a key's private half is in this store's keys/ (an own key). */
int arca_keys_is_own(arca_store *store, const arca_key_record *key);

/* The own key to sign with: by name or id, or (NULL) the only own key. */
arca_err arca_keys_load_own(arca_key **out, arca_key_record *rec, arca_store *store,
	const char *name, const char *passphrase);

/* Every trusted (and distrusted) key and root of the store as anchors for arca_sig_judge.
 * The anchors point into the set; free it with arca_trust_set_dispose. */
typedef struct {
	arca_sig_anchor *anchors;
	size_t n;
	arca_key_record *records;
	size_t n_records;
	arca_key **keys;
} arca_trust_set;

arca_err arca_trust_set_load(arca_trust_set *out, arca_store *store);
/* Anchors from files (`arca verify DIR --key/--cert-chain/--trusted-root`): each file read,
 * parsed and kept in the set. */
arca_err arca_trust_set_add_file(arca_trust_set *set, arca_anchor_kind kind, const char *path);
void arca_trust_set_dispose(arca_trust_set *set);

/* ------------------------------------------------------------------ signing */

typedef struct {
	const arca_ref *ref;        /* REF[:VARIANT] */
	const char *key;            /* own key name or id; NULL: the only one */
	const char *passphrase;
	const char *out_path;       /* also write the bundle here (atomically), or NULL */
} arca_store_sign_opts;

typedef struct {
	char *bundle;               /* the model.sig text */
	size_t bundle_len;
	char bundle_sha256[ARCA_SHA256_HEX];
	char *key_name;
	char key_id[ARCA_SHA256_HEX];
	char root[ARCA_SHA256_HEX];
	char *subject;              /* what it was signed as: repo@commit[:variant] */
	size_t n_files;
	int64_t signature_id;
} arca_store_sign_result;

/* Signs every file of the snapshot (or the variant's outputs) but the git paths and
 * model.sig, keeps the bundle as a blob and records it (source "arca", verified). */
arca_err arca_store_sign(arca_store_sign_result *out, arca_store *store,
	const arca_store_sign_opts *opts);
void arca_store_sign_result_dispose(arca_store_sign_result *r);

/* ------------------------------------------------------------------ checking */

/* One signature checked. */
typedef struct {
	int64_t signature_id;       /* the catalog row (0: not recorded) */
	char *origin;               /* "arca", "upstream", or the file it was read from */
	char *created_at;           /* when it was recorded, or NULL */
	arca_sig sig;
	arca_sig_verdict verdict;
	arca_sign_file *on_hand;    /* the files it was compared with */
	size_t n_on_hand;
	arca_sig_file_result *files;
	size_t n_files;
	uint64_t bytes_hashed;      /* a folder: the bytes read */
} arca_sig_check;

void arca_sig_check_dispose(arca_sig_check *c);

typedef struct {
	const arca_ref *ref;        /* REF[:VARIANT] */
	const char *sig_path;       /* a model.sig to check instead of the recorded ones */
	const char *identity, *issuer;  /* policy for certificate and keyless signers */
	int no_rehash;              /* trust the catalog's digests (pull: just verified) */
	int record;                 /* record each result in the catalog */
	int threads;
	arca_sign_progress_cb progress;
	void *payload;
} arca_store_verify_opts;

typedef struct {
	char *subject;              /* repo@commit[:variant] */
	arca_sig_check *checks;
	size_t n_checks;
	uint64_t bytes_hashed;
	double seconds;
} arca_store_verify_result;

/* Checks the signatures recorded for a snapshot or variant (or the one given) against its
 * files, re-hashing their blobs. ARCA_OK when one signature verified and none is invalid;
 * ARCA_EMISMATCH when one is invalid or none verified (the result says which and why); ARCA_ENOTFOUND when
 * there is nothing to check. */
arca_err arca_store_verify(arca_store_verify_result *out, arca_store *store,
	const arca_store_verify_opts *opts);
void arca_store_verify_result_dispose(arca_store_verify_result *r);

/* A plain folder against a model.sig, the way the reference verifier does it: trust only
 * what the set holds. ARCA_OK when verified, ARCA_EMISMATCH otherwise. */
typedef struct {
	const char *dir;
	const char *sig_path;
	const arca_trust_set *trust;
	const char *identity, *issuer;
	const char *const *ignore_paths;   /* more paths to leave out, relative to dir */
	size_t n_ignore;
	int threads;
	arca_sign_progress_cb progress;
	void *payload;
} arca_folder_verify_opts;

arca_err arca_verify_folder(arca_sig_check *out, const arca_folder_verify_opts *opts);

/* ------------------------------------------------------------------ pull */

/* After a pull stored a snapshot's files: when the repo holds model.sig, check it against
 * the store's trust with the catalog's digests, record it (source "upstream") and return
 * the check (out->sig.mode etc.); ARCA_ENOTFOUND (and no message) when there is none. The
 * caller decides what an invalid or untrusted state means for the pull. */
arca_err arca_store_check_upstream_signature(arca_sig_check *out, arca_store *store,
	int64_t snapshot, const char *identity, const char *issuer);

#endif
