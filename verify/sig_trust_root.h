/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_trust_root.h — Sigstore trusted roots (trusted_root.json) as the keyless check
 * uses them: transparency-log keys by key id and Fulcio CA chains, each with the window
 * in which it may be trusted. Parsed by verify/sig_trust_root.c, read by sig_keyless.c.
 */
#ifndef ARCA_VERIFY_SIG_TRUST_ROOT_H
#define ARCA_VERIFY_SIG_TRUST_ROOT_H

#include <openssl/x509.h>

#include "verify/sig_internal.h"

#define ARCA_SIG_TRUST_ROOT_MAX (1u << 20)

/* A validity window in unix seconds; [INT64_MIN, INT64_MAX] when the root gives none. */
typedef struct {
	int64_t start, end;
} arca_sig__window;

/* A transparency log (tlogs[]): Rekor, whose key signs SETs and checkpoints. */
typedef struct {
	unsigned char key_id[64];      /* logId.keyId, decoded */
	size_t key_id_len;
	EVP_PKEY *key;                 /* publicKey.rawBytes (DER SubjectPublicKeyInfo) */
	arca_sig__window valid;        /* publicKey.validFor */
	char *base_url;                /* "" when absent */
} arca_sig__tlog_key;

/* A certificate authority (certificateAuthorities[]): Fulcio, leaf-most first, root last. */
typedef struct {
	X509 **certs;
	size_t n_certs;
	arca_sig__window valid;        /* validFor */
	char *uri;                     /* "" when absent */
} arca_sig__ca;

/* Logs and CAs pooled from one or more trusted roots. Zero it before the first add. */
typedef struct {
	arca_sig__tlog_key *tlogs;
	size_t n_tlogs;
	arca_sig__ca *cas;
	size_t n_cas;
} arca_sig__trust;

/* Parses one trusted_root.json (at most ARCA_SIG_TRUST_ROOT_MAX bytes) and appends its logs
 * and CAs. ARCA_ECORRUPT naming `what` and the field when it is not one; ctlogs and
 * timestampAuthorities are only type-checked (arca does not use them). On error `trust`
 * may hold part of the root: dispose it all the same, and do not use it. */
arca_err arca_sig__trust_add(arca_sig__trust *trust, const char *text, size_t len,
	const char *what);
void arca_sig__trust_dispose(arca_sig__trust *trust);

/* Whether t lies in the window. */
int arca_sig__window_has(const arca_sig__window *w, int64_t t);

#endif
