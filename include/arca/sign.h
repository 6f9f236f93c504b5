/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/sign.h — OpenSSF model signing v1.x signatures: keys, writing a signature over a
 * list of files, and checking one (docs/signing.md).
 *
 * The file (`model.sig`) is a Sigstore bundle (v0.3) around a DSSE envelope whose payload
 * is an in-toto Statement v1 with the model-signing v1.0 predicate: one subject whose
 * sha256 is the root digest (SHA-256 over the raw digests of the resources in order), and
 * the resources, one per file (name relative to the model folder, sha256 of the file).
 * The DSSE signature is ECDSA over PAE("application/vnd.in-toto+json", payload) with the
 * curve's hash (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512), DER-encoded. arca writes key
 * mode (the public key named by its hint: the SHA-256 of its PEM SubjectPublicKeyInfo
 * text), the form `model_signing verify key` accepts; it checks key and certificate modes,
 * and Sigstore keyless bundles offline against pinned trusted roots (trusted_root.json).
 *
 * Checking follows the spec's order: the bundle's shape, the signature against a trusted
 * key or certificate chain, the statement, then the files. A signature that does not
 * verify, a signer nobody trusts, or files that differ are ARCA_EMISMATCH (exit 3); a
 * bundle that is not one (bad JSON, wrong types, too large) is ARCA_ECORRUPT (exit 1).
 * Private keys never appear in messages. Nothing here prints or exits.
 */
#ifndef ARCA_SIGN_H
#define ARCA_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "arca/digest.h"
#include "arca/error.h"

/* ------------------------------------------------------------------ keys */

typedef struct arca_key arca_key;

/* A new ECDSA P-256 key pair. */
arca_err arca_key_generate(arca_key **out);

/* A private key from PEM (PKCS#8, encrypted or not, or SEC1), with passphrase when it is
 * encrypted (NULL: none). Only EC keys on P-256, P-384 or P-521; anything else is
 * ARCA_EUNSUPPORTED naming the type. `what` names the source in messages. */
arca_err arca_key_from_private_pem(arca_key **out, const char *pem, size_t len,
	const char *passphrase, const char *what);

/* A public key from PEM (SubjectPublicKeyInfo; text before "-----BEGIN" is skipped). */
arca_err arca_key_from_public_pem(arca_key **out, const char *pem, size_t len,
	const char *what);

void arca_key_free(arca_key *key);

int arca_key_has_private(const arca_key *key);
/* "P-256", "P-384" or "P-521". */
const char *arca_key_curve(const arca_key *key);

/* The public key as PEM SubjectPublicKeyInfo text (what the hint is computed over). */
arca_err arca_key_public_pem(const arca_key *key, char **out);
/* The private key as PKCS#8 PEM, encrypted with AES-256-CBC when passphrase is given. */
arca_err arca_key_private_pem(const arca_key *key, const char *passphrase, char **out);

/* The key's hint: lowercase hex SHA-256 of its public PEM text. arca uses it as key id. */
arca_err arca_key_hint(const arca_key *key, char out[ARCA_SHA256_HEX]);

/* ------------------------------------------------------------------ writing */

/* One file of a model: its path relative to the model folder ('/' separated) and the hex
 * sha256 of its bytes. */
typedef struct {
	const char *name;
	char sha256[ARCA_SHA256_HEX];
} arca_sign_file;

/* Sorts files the way model signing orders resources: path component by component, each
 * component by bytes (so "a/b" comes before "a-b"). */
void arca_sign_sort_files(arca_sign_file *files, size_t n);
/* That order for two paths (<0, 0, >0). */
int arca_sign_compare_paths(const char *a, const char *b);

/* The root digest of files in their order (hex). */
arca_err arca_sign_root_digest(char out[ARCA_SHA256_HEX], const arca_sign_file *files,
	size_t n);

/* A model.sig (JSON text, malloc'ed) signing `files` (sorted here) as the model `name`,
 * with `ignore_paths` (may be NULL) recorded in the serialization (arca adds "model.sig"
 * and the git paths, as the reference signer does). The key must hold its private half. */
arca_err arca_sign_bundle(char **out, const arca_key *key, const char *name,
	arca_sign_file *files, size_t n, const char *const *ignore_paths, size_t n_ignore);

/* ------------------------------------------------------------------ folders */

/* Whether a path is one of `paths` or lies under one. */
int arca_sign_path_ignored(const char *path, const char *const *paths, size_t n);

/* What the reference signer always leaves out: model.sig and the git paths. */
const char *const *arca_sign_default_ignores(size_t *n);

/* Bytes hashed so far out of the total, from the calling thread. */
typedef void (*arca_sign_progress_cb)(uint64_t done, uint64_t total, void *payload);

typedef struct {
	const char *dir;
	const char *const *ignore_paths;   /* relative to dir */
	size_t n_ignore;
	int allow_symlinks;                /* else a link is ARCA_EINVALID */
	int threads;                       /* 0: one per online CPU */
	arca_sign_progress_cb progress;
	void *payload;
} arca_sign_folder_opts;

/* Every regular file under opts->dir (hidden ones too) not under an ignore path, hashed
 * on all cores and sorted as model signing orders them; *bytes_out (may be NULL) gets the
 * bytes hashed. Free with arca_sign_files_free. */
arca_err arca_sign_folder_files(arca_sign_file **out, size_t *n_out, uint64_t *bytes_out,
	const arca_sign_folder_opts *opts);
void arca_sign_files_free(arca_sign_file *files, size_t n);

/* ------------------------------------------------------------------ checking */

typedef enum {
	ARCA_SIG_KEY,          /* verificationMaterial.publicKey (hint) */
	ARCA_SIG_CERTIFICATE,  /* x509CertificateChain */
	ARCA_SIG_KEYLESS,      /* Sigstore: a Fulcio certificate and transparency-log entries */
} arca_sig_mode;

/* The first transparency-log entry of a keyless bundle, as the bundle states it (nothing
 * here is checked by parsing). Protobuf JSON int64 fields arrive as strings or numbers;
 * bytes fields as standard base64, decoded here. */
#define ARCA_SIG_TLOG_MAX_HASHES 64
typedef struct {
	int present;                     /* 0: the bundle has no tlog entry */
	int64_t log_index;               /* the log's (global) index: what the SET signs */
	unsigned char *log_id;           /* logId.keyId: SHA-256 of the log's key, normally */
	size_t log_id_len;
	char kind[32], version[32];      /* kindVersion: "dsse", "0.0.1" */
	int64_t integrated_time;         /* unix seconds, as the log claims */
	unsigned char *set;              /* inclusionPromise.signedEntryTimestamp, DER ECDSA; */
	size_t set_len;                  /* NULL when the entry carries no promise */
	char *body64;                    /* canonicalizedBody as written (what the SET signs) */
	unsigned char *body;             /* ... and decoded: the log's dsse entry JSON */
	size_t body_len;
	int has_proof;                   /* inclusionProof present */
	int64_t proof_index, tree_size;  /* the shard-local index and tree size of the proof */
	unsigned char root_hash[32];
	unsigned char (*hashes)[32];     /* the audit path, leaf to root */
	size_t n_hashes;
	char *checkpoint;                /* checkpoint.envelope (signed note); NULL when absent */
} arca_sig_tlog;

/* A parsed bundle. Strings are owned by it. */
typedef struct {
	arca_sig_mode mode;
	char hint[ARCA_SHA256_HEX];      /* key mode: "" when the bundle names none */
	char root[ARCA_SHA256_HEX];      /* the subject's digest */
	char *subject;                   /* the model name it was signed as */
	arca_sign_file *files;           /* the resources, as listed */
	size_t n_files;
	char **ignore_paths;             /* the serialization's, plus the defaults */
	size_t n_ignore;
	int allow_symlinks;
	/* certificate and keyless modes: the leaf's subject, its e-mail or URI identity and
	 * (keyless) its OIDC issuer; "" when absent */
	char *signer;
	char *identity;
	char *issuer;
	int64_t integrated_time;         /* keyless: the log entry's time (unix), else 0 */
	arca_sig_tlog tlog;              /* keyless: tlogEntries[0] */
	size_t n_tlog_entries;
	size_t n_rfc3161;                /* keyless: RFC 3161 timestamps carried (not read) */
	/* internal: the envelope and chain */
	unsigned char *payload, *sig, **chain;
	size_t payload_len, sig_len, *chain_len, n_chain;
} arca_sig;

/* Reads a model.sig strictly (bounded: at most ARCA_SIG_MAX bytes; JSON without duplicate
 * keys; every field of its type; a v1.0 statement with exactly one subject whose digest is
 * the root digest of its resources). Does not check the signature. */
#define ARCA_SIG_MAX (64u << 20)
arca_err arca_sig_parse(arca_sig *out, const void *data, size_t len, const char *what);
void arca_sig_dispose(arca_sig *sig);

/* The DSSE signature checked with a key (key mode; the hint, when present, must be this
 * key's). ARCA_EMISMATCH when it does not verify. */
arca_err arca_sig_check_key(const arca_sig *sig, const arca_key *key);

/* Root certificates as a user gives them (one or more PEM certificates): how many, an id
 * (hex SHA-256 over their DER, in order) and the first one's subject. ARCA_ECORRUPT when
 * there is no certificate in the text. */
arca_err arca_sig_describe_roots(const char *pem, size_t len, const char *what, size_t *n_out,
	char id[ARCA_SHA256_HEX], char *subject, size_t cap);

/* The certificate chain checked against trusted roots (PEM texts, each one or more
 * certificates): the leaf must chain to one, at the time it was issued, with the bundle's
 * other certificates as intermediates, and be meant for signing (digitalSignature key usage
 * or codeSigning extended key usage); then the DSSE signature with the leaf's key. */
arca_err arca_sig_check_chain(const arca_sig *sig, const char *const *root_pems, size_t n_roots);

/* One file compared: signed and found digests (NULL when it is missing or not signed). */
typedef enum {
	ARCA_SIG_FILE_OK,
	ARCA_SIG_FILE_CHANGED,
	ARCA_SIG_FILE_MISSING,    /* signed, not on hand */
	ARCA_SIG_FILE_UNSIGNED,   /* on hand, not signed, not ignored */
} arca_sig_file_state;

typedef struct {
	const char *name;          /* points into the signature or the files given */
	const char *signed_sha256;
	const char *found_sha256;
	arca_sig_file_state state;
} arca_sig_file_result;

/* Every signed file and every file on hand, with its state (the array is malloc'ed; its
 * strings belong to sig and files). Ignored files are left out. */
arca_err arca_sig_compare_files(arca_sig_file_result **out, size_t *n_out, const arca_sig *sig,
	const arca_sign_file *files, size_t n);
/* "ok", "changed", "missing", "not signed". */
const char *arca_sig_file_state_name(arca_sig_file_state state);

/* " changed: a, b; missing: c; not signed: d and 4 more" into buf; returns how many files
 * are not ok (0: buf is ""). */
size_t arca_sig_describe_differences(char *buf, size_t cap, const arca_sig_file_result *r,
	size_t n);

/* Certificate and keyless modes: the DSSE signature with the key of the bundle's own leaf
 * certificate, trusting nothing: whether the statement is intact, not who made it. */
arca_err arca_sig_check_leaf(const arca_sig *sig);

/* What a keyless check must hold: NULL fields are not required (and said so in the
 * report). Both are compared exactly: identity with the leaf's e-mail or URI SAN, issuer
 * with its OIDC issuer extension (1.3.6.1.4.1.57264.1.8, or legacy .1.1). */
typedef struct {
	const char *identity;
	const char *issuer;
} arca_sig_policy;

/* What a keyless check verified and what it did not, as human text, "; "-separated.
 * Filled as far as the check got, also when it fails. */
typedef struct {
	char checked[768];
	char unchecked[512];
	int untrusted;   /* a failure for want of trust (no root knows the log or the CA, or
	                  * the policy names another signer), not a broken bundle */
} arca_sig_report;

/* A Sigstore keyless bundle checked offline against trusted roots (trusted_root.json texts,
 * `root_lens` bytes each, at most 1 MiB; their logs and CAs are pooled). In order: the
 * first tlog entry is a dsse entry; a trusted root knows its log (by key id, the key valid
 * at integratedTime); the SET verifies with that key (so integratedTime is the log's);
 * an inclusion proof, when present, leads from SHA-256(0x00 || body) to its rootHash, and
 * its checkpoint, when present, is signed by the log over that root; the log's body is
 * this envelope (payloadHash, signature and certificate); integratedTime lies within the
 * leaf's validity and the leaf chains to a trusted Fulcio CA valid then; the leaf is for
 * code signing; the policy's identity and issuer; the DSSE signature with the leaf's key.
 * ARCA_ECORRUPT when a trusted root is malformed, ARCA_EMISMATCH for any check that fails
 * (the message names it), ARCA_EUNSUPPORTED for a log or leaf key arca cannot use.
 * `policy` and `report` may be NULL. Does not check the files (arca_sig_check_files). */
arca_err arca_sig_check_keyless(const arca_sig *sig, const char *const *trusted_roots,
	const size_t *root_lens, size_t n_roots, const arca_sig_policy *policy,
	arca_sig_report *report);

/* The files on hand (any order) against the signed resources: every signed file present
 * with its digest, nothing else (files named by ignore paths are not counted). The
 * message names up to a few missing, extra and changed files. */
arca_err arca_sig_check_files(const arca_sig *sig, const arca_sign_file *files, size_t n);

/* Whether a path is covered by the signature's ignore paths (equal, or under one). */
int arca_sig_ignores(const arca_sig *sig, const char *path);

/* ------------------------------------------------------------------ verdicts */

/* Whether text is a Sigstore trusted root that trusts something (read whole, strictly, as
 * the keyless check reads it); ARCA_ECORRUPT naming the field when it is not. */
arca_err arca_sig_check_trusted_root(const char *text, size_t len, const char *what);

/* What a check of a signature found, in the words the catalog and --json use. */
typedef enum {
	ARCA_SIG_VERIFIED,   /* by a trusted key or root, over exactly these files */
	ARCA_SIG_UNTRUSTED,  /* intact, but nobody trusted here made it (or not the signer the
	                      * identity/issuer policy asks for) */
	ARCA_SIG_INVALID,    /* the signature, the statement or the files do not match */
	ARCA_SIG_UNCHECKED,  /* Sigstore keyless with no trusted Sigstore root to check it with:
	                      * intact, identity read from its certificate, not verified */
} arca_sig_state;

/* "verified", "untrusted", "invalid", "keyless". */
const char *arca_sig_state_name(arca_sig_state state);

/* Something a verifier trusts (or explicitly does not): a public key, root certificates
 * (PEM, one or more), or a Sigstore trusted root (JSON). */
typedef enum { ARCA_ANCHOR_KEY, ARCA_ANCHOR_CA, ARCA_ANCHOR_SIGSTORE } arca_anchor_kind;

typedef struct {
	arca_anchor_kind kind;
	const char *name;
	const char *id;        /* the key's hint; a root's id */
	int distrusted;        /* known and marked untrusted: names the signer, verifies nothing */
	const arca_key *key;   /* ARCA_ANCHOR_KEY */
	const char *text;      /* ARCA_ANCHOR_CA: PEM; ARCA_ANCHOR_SIGSTORE: JSON */
	size_t len;
} arca_sig_anchor;

typedef struct {
	arca_sig_state state;
	char signer[256];        /* a key's name or hint, a certificate's identity or subject */
	char anchor[128];        /* the trusted key or root that verified it, "" when none */
	char anchor_id[ARCA_SHA256_HEX];
	char reason[ARCA_ERROR_MAX];  /* why it is not verified; "" when it is */
	char checked[768];       /* what was checked, "; " separated */
	char unchecked[512];     /* what was not (keyless offline: the live transparency log) */
} arca_sig_verdict;

/* Judges the signature itself against the anchors, in the spec's order (the statement was
 * checked when it was parsed). identity/issuer (NULL: any) constrain certificate and keyless
 * signers. The files are the caller's next step: arca_sig_verdict_files. */
void arca_sig_judge(arca_sig_verdict *out, const arca_sig *sig, const arca_sig_anchor *anchors,
	size_t n_anchors, const char *identity, const char *issuer);

/* Folds the comparison of the files into a verdict: any file not ok makes it invalid. */
void arca_sig_verdict_files(arca_sig_verdict *v, const arca_sig_file_result *files, size_t n);

#endif
