/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_internal.h — what the signature files share: the key record, standard base64,
 * the DSSE pre-authentication encoding and ECDSA over it, and OpenSSL's error text.
 */
#ifndef ARCA_VERIFY_SIG_INTERNAL_H
#define ARCA_VERIFY_SIG_INTERNAL_H

#include <openssl/evp.h>

#include "arca/sign.h"

struct arca_key {
	EVP_PKEY *pkey;
	int has_private;
	const char *curve;   /* "P-256", "P-384", "P-521" */
	const EVP_MD *md;    /* the curve's hash */
};

#define ARCA_SIG_PAYLOAD_TYPE "application/vnd.in-toto+json"

/* An arca_key around an EC key on a supported curve (takes pkey, also on error). */
arca_err arca_sig__wrap_pkey(arca_key **out, EVP_PKEY *pkey, int has_private, const char *what);

/* Standard base64 with padding, no line breaks (malloc'ed). */
char *arca_sig__base64(const unsigned char *data, size_t len);
/* Strict decoding: only the standard alphabet, length a multiple of 4, '=' only as the last
 * one or two characters. NULL when the text is not that (or out of memory: *bad tells). */
unsigned char *arca_sig__unbase64(const char *text, size_t *len_out, int *bad);

/* "DSSEv1 <len type> <type> <len body> <body>" (malloc'ed). */
unsigned char *arca_sig__pae(const char *type, const unsigned char *body, size_t len,
	size_t *len_out);

/* ECDSA (DER) over PAE(payload type, payload) with the key's curve hash. */
arca_err arca_sig__dsse_sign(unsigned char **sig_out, size_t *sig_len, const arca_key *key,
	const unsigned char *payload, size_t len);
/* 1 when it verifies, 0 when not. */
int arca_sig__dsse_verify(EVP_PKEY *pkey, const EVP_MD *md, const unsigned char *sig,
	size_t sig_len, const unsigned char *payload, size_t len);

/* The hash model signing pairs with an EC key's curve, and the curve's name; NULL when the
 * key is not EC on P-256, P-384 or P-521. */
const EVP_MD *arca_sig__curve_md(EVP_PKEY *pkey, const char **curve_out);

/* Appends "; <text>" (or "<text>" to an empty buffer) when it fits: the checked / not
 * checked lists of verdicts and reports. */
void arca_sig__note(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* OpenSSL's last error as text (drains its queue), for messages. */
const char *arca_sig__ssl_error(char *buf, size_t cap);

#endif
