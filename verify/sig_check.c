/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_check.c — deciding whether a parsed model.sig holds: its signature with a
 * trusted key (key mode) or a leaf certificate that chains to a trusted root (certificate
 * mode, checked at the time the leaf was issued, as the reference verifier does, and only
 * for a certificate meant for signing), then the files on hand against the signed list.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify/sig_internal.h"

arca_err arca_sig_check_key(const arca_sig *sig, const arca_key *key)
{
	if (sig->mode != ARCA_SIG_KEY)
		return arca_error_set(ARCA_EMISMATCH, "the signature was made with a %s, not a key",
			sig->mode == ARCA_SIG_CERTIFICATE ? "certificate" : "Sigstore certificate");
	char hint[ARCA_SHA256_HEX];
	arca_err err = arca_key_hint(key, hint);
	if (err < 0)
		return err;
	if (sig->hint[0] && strcmp(sig->hint, hint) != 0)
		return arca_error_set(ARCA_EMISMATCH, "signed with another key (its hint %.16s…, this "
			"key's %.16s…)", sig->hint, hint);
	if (!arca_sig__dsse_verify(key->pkey, key->md, sig->sig, sig->sig_len, sig->payload,
			sig->payload_len))
		return arca_error_set(ARCA_EMISMATCH, "the signature does not verify with the %s key "
			"%.16s…", key->curve, hint);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ certificates */

static X509 *der_cert(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	return d2i_X509(NULL, &p, (long)len);
}

/* Every certificate in the PEM texts into a trust store. */
static arca_err load_roots(X509_STORE *store, const char *const *pems, size_t n, size_t *count)
{
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		BIO *bio = BIO_new_mem_buf(pems[i], -1);
		if (!bio)
			return arca_error_set(ARCA_ENOMEM, "trust roots: out of memory");
		X509 *x;
		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
			X509_STORE_add_cert(store, x);
			X509_free(x);
			(*count)++;
		}
		ERR_clear_error();
		BIO_free(bio);
	}
	return ARCA_OK;
}

arca_err arca_sig_describe_roots(const char *pem, size_t len, const char *what, size_t *n_out,
	char id[ARCA_SHA256_HEX], char *subject, size_t cap)
{
	*n_out = 0;
	subject[0] = '\0';
	if (len > INT32_MAX)
		return arca_error_set(ARCA_EINVALID, "%s: too large for certificates", what);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	arca_digest *d = NULL;
	arca_err err = bio ? arca_digest_new(&d, ARCA_DIGEST_SHA256) :
		arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	X509 *x;
	while (err == ARCA_OK && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		unsigned char *der = NULL;
		int n = i2d_X509(x, &der);
		if (n > 0)
			err = arca_digest_update(d, der, (size_t)n);
		if (!*n_out)
			X509_NAME_oneline(X509_get_subject_name(x), subject, (int)cap);
		OPENSSL_free(der);
		X509_free(x);
		(*n_out)++;
	}
	/* anything after the last certificate that looks like PEM but did not read */
	char why[256];
	arca_sig__ssl_error(why, sizeof(why));
	unsigned char raw[ARCA_SHA256_LEN];
	if (err == ARCA_OK && !*n_out)
		err = arca_error_set(ARCA_ECORRUPT, "%s: no PEM certificate in it (%s)", what, why);
	if (err == ARCA_OK && (err = arca_digest_final(d, raw)) == ARCA_OK)
		arca_hex_encode(id, raw, ARCA_SHA256_LEN);
	arca_digest_free(d);
	BIO_free(bio);
	return err;
}

arca_err arca_sig_check_chain(const arca_sig *sig, const char *const *root_pems, size_t n_roots)
{
	if (sig->mode == ARCA_SIG_KEY)
		return arca_error_set(ARCA_EMISMATCH, "the signature was made with a key, not a "
			"certificate");
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *leaf = sig->n_chain ? der_cert(sig->chain[0], sig->chain_len[0]) : NULL;
	arca_err err = ARCA_OK;
	size_t n_certs = 0;
	if (!store || !untrusted || !ctx) {
		err = arca_error_set(ARCA_ENOMEM, "certificate check: out of memory");
		goto cleanup;
	}
	if (!leaf) {
		err = arca_error_set(ARCA_ECORRUPT, "the bundle's signing certificate is not DER "
			"X.509");
		goto cleanup;
	}
	if ((err = load_roots(store, root_pems, n_roots, &n_certs)) < 0)
		goto cleanup;
	if (!n_certs) {
		err = arca_error_set(ARCA_EMISMATCH, "no trusted root certificate to check the chain "
			"of %s against (arca key trust CA.pem)", sig->signer ? sig->signer : "the signer");
		goto cleanup;
	}
	for (size_t i = 1; i < sig->n_chain; i++) {
		X509 *c = der_cert(sig->chain[i], sig->chain_len[i]);
		if (c && !sk_X509_push(untrusted, c))
			X509_free(c);
	}
	/* checked when the leaf was issued: a signature outlives its short-lived certificate */
	struct tm tm;
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted) ||
	    !ASN1_TIME_to_tm(X509_get0_notBefore(leaf), &tm)) {
		err = arca_error_set(ARCA_ECORRUPT, "the signing certificate's validity cannot be read");
		goto cleanup;
	}
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, timegm(&tm));
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_verify_cert(ctx) != 1) {
		err = arca_error_set(ARCA_EMISMATCH, "the signing certificate (%s) does not chain to a "
			"trusted root: %s", sig->signer ? sig->signer : "?",
			X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto cleanup;
	}
	/* OpenSSL answers "any use" for an absent extension: only a present one counts */
	uint32_t flags = X509_get_extension_flags(leaf);
	int ku = (flags & EXFLAG_KUSAGE) && (X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE);
	int eku = (flags & EXFLAG_XKUSAGE) && (X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN);
	if (!ku && !eku) {
		err = arca_error_set(ARCA_EMISMATCH, "the signing certificate (%s) is not meant for "
			"signing (neither digitalSignature nor codeSigning)", sig->signer);
		goto cleanup;
	}
	EVP_PKEY *pkey = X509_get0_pubkey(leaf);
	const char *curve = NULL;
	const EVP_MD *md = pkey ? arca_sig__curve_md(pkey, &curve) : NULL;
	if (!md) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "the signing certificate's key is not ECDSA on "
			"P-256, P-384 or P-521");
		goto cleanup;
	}
	if (!arca_sig__dsse_verify(pkey, md, sig->sig, sig->sig_len, sig->payload,
			sig->payload_len))
		err = arca_error_set(ARCA_EMISMATCH, "the signature does not verify with the key of "
			"%s", sig->signer);
cleanup:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	X509_STORE_free(store);
	return err;
}

arca_err arca_sig_check_leaf(const arca_sig *sig)
{
	if (sig->mode == ARCA_SIG_KEY || !sig->n_chain)
		return arca_error_set(ARCA_EINVALID, "the signature carries no certificate");
	X509 *leaf = der_cert(sig->chain[0], sig->chain_len[0]);
	if (!leaf)
		return arca_error_set(ARCA_ECORRUPT, "the bundle's signing certificate is not DER "
			"X.509");
	EVP_PKEY *pkey = X509_get0_pubkey(leaf);
	const char *curve = NULL;
	const EVP_MD *md = pkey ? arca_sig__curve_md(pkey, &curve) : NULL;
	arca_err err = ARCA_OK;
	if (!md)
		err = arca_error_set(ARCA_EUNSUPPORTED, "the signing certificate's key is not ECDSA on "
			"P-256, P-384 or P-521");
	else if (!arca_sig__dsse_verify(pkey, md, sig->sig, sig->sig_len, sig->payload,
			sig->payload_len))
		err = arca_error_set(ARCA_EMISMATCH, "the signature does not verify with the key of "
			"its own certificate (%s): the statement or the signature was altered",
			sig->signer ? sig->signer : "?");
	ERR_clear_error();
	X509_free(leaf);
	return err;
}

/* ------------------------------------------------------------------ files */

/* The signed files are looked up through pointers sorted by name, so results point at the
 * signature's own entries. */
static int by_name(const void *a, const void *b)
{
	const arca_sign_file *x = *(const arca_sign_file *const *)a;
	const arca_sign_file *y = *(const arca_sign_file *const *)b;
	return strcmp(x->name, y->name);
}

static int push_result(arca_sig_file_result **list, size_t *n, size_t *cap,
	arca_sig_file_result r)
{
	if (*n == *cap) {
		size_t grown_cap = *cap ? 2 * *cap : 16;
		arca_sig_file_result *grown = realloc(*list, grown_cap * sizeof(*grown));
		if (!grown)
			return -1;
		*list = grown;
		*cap = grown_cap;
	}
	(*list)[(*n)++] = r;
	return 0;
}

arca_err arca_sig_compare_files(arca_sig_file_result **out, size_t *n_out, const arca_sig *sig,
	const arca_sign_file *files, size_t n)
{
	*out = NULL;
	*n_out = 0;
	const arca_sign_file **signed_files = malloc((sig->n_files + 1) * sizeof(*signed_files));
	unsigned char *seen = calloc(sig->n_files + 1, 1);
	arca_sig_file_result *list = NULL;
	size_t n_list = 0, cap = 0;
	int failed = !signed_files || !seen;
	if (!failed) {
		for (size_t i = 0; i < sig->n_files; i++)
			signed_files[i] = &sig->files[i];
		qsort(signed_files, sig->n_files, sizeof(*signed_files), by_name);
	}
	for (size_t i = 0; i < n && !failed; i++) {
		if (arca_sig_ignores(sig, files[i].name))
			continue;
		const arca_sign_file *key = &files[i];
		const arca_sign_file **hit = bsearch(&key, signed_files, sig->n_files,
			sizeof(*signed_files), by_name);
		arca_sig_file_result r = { files[i].name, hit ? (*hit)->sha256 : NULL,
			files[i].sha256, !hit ? ARCA_SIG_FILE_UNSIGNED :
			strcmp((*hit)->sha256, files[i].sha256) ? ARCA_SIG_FILE_CHANGED :
			ARCA_SIG_FILE_OK };
		if (hit)
			seen[hit - signed_files] = 1;
		failed = push_result(&list, &n_list, &cap, r) < 0;
	}
	for (size_t i = 0; i < sig->n_files && !failed; i++)
		if (!seen[i])
			failed = push_result(&list, &n_list, &cap, (arca_sig_file_result){
				signed_files[i]->name, signed_files[i]->sha256, NULL,
				ARCA_SIG_FILE_MISSING }) < 0;
	free(signed_files);
	free(seen);
	if (failed) {
		free(list);
		return arca_error_set(ARCA_ENOMEM, "check files: out of memory");
	}
	*out = list;
	*n_out = n_list;
	return ARCA_OK;
}

const char *arca_sig_file_state_name(arca_sig_file_state state)
{
	switch (state) {
	case ARCA_SIG_FILE_OK: return "ok";
	case ARCA_SIG_FILE_CHANGED: return "changed";
	case ARCA_SIG_FILE_MISSING: return "missing";
	case ARCA_SIG_FILE_UNSIGNED: return "not signed";
	}
	return "?";
}

/* Appends "; <state>: a, b, c and 4 more" for the files in one state. */
static void list_state(char *buf, size_t cap, const arca_sig_file_result *r, size_t n,
	arca_sig_file_state state)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (r[i].state != state)
			continue;
		size_t used = strlen(buf);
		if (count == 0)
			snprintf(buf + used, cap - used, "%s%s: %s", used ? "; " : " ",
				arca_sig_file_state_name(state), r[i].name);
		else if (count < 3)
			snprintf(buf + used, cap - used, ", %s", r[i].name);
		count++;
	}
	size_t used = strlen(buf);
	if (count > 3)
		snprintf(buf + used, cap - used, " and %zu more", count - 3);
}

size_t arca_sig_describe_differences(char *buf, size_t cap, const arca_sig_file_result *r,
	size_t n)
{
	buf[0] = '\0';
	list_state(buf, cap, r, n, ARCA_SIG_FILE_CHANGED);
	list_state(buf, cap, r, n, ARCA_SIG_FILE_MISSING);
	list_state(buf, cap, r, n, ARCA_SIG_FILE_UNSIGNED);
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += r[i].state != ARCA_SIG_FILE_OK;
	return bad;
}

arca_err arca_sig_check_files(const arca_sig *sig, const arca_sign_file *files, size_t n)
{
	arca_sig_file_result *r;
	size_t n_r;
	arca_err err = arca_sig_compare_files(&r, &n_r, sig, files, n);
	if (err < 0)
		return err;
	char msg[900];
	if (arca_sig_describe_differences(msg, sizeof(msg), r, n_r))
		err = arca_error_set(ARCA_EMISMATCH, "the files differ from what was signed:%s", msg);
	free(r);
	return err;
}
