/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_keys.c — signing keys for model signing: ECDSA on P-256 (made here), P-384 or
 * P-521 (read), as PEM; the hint that names a public key in a bundle. Other key types are
 * refused by name: the reference tool does not interoperate with them.
 */
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/sig_internal.h"

const char *arca_sig__ssl_error(char *buf, size_t cap)
{
	unsigned long e = ERR_get_error();
	if (!e) {
		snprintf(buf, cap, "no detail from OpenSSL");
		return buf;
	}
	ERR_error_string_n(e, buf, cap);
	ERR_clear_error();
	return buf;
}

const EVP_MD *arca_sig__curve_md(EVP_PKEY *pkey, const char **curve_out)
{
	char group[64] = "";
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
			NULL))
		return NULL;
	static const struct {
		const char *group, *curve;
		const EVP_MD *(*md)(void);
	} curves[] = {
		{ "prime256v1", "P-256", EVP_sha256 }, { "P-256", "P-256", EVP_sha256 },
		{ "secp384r1", "P-384", EVP_sha384 }, { "P-384", "P-384", EVP_sha384 },
		{ "secp521r1", "P-521", EVP_sha512 }, { "P-521", "P-521", EVP_sha512 },
	};
	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (strcmp(curves[i].group, group) != 0)
			continue;
		if (curve_out)
			*curve_out = curves[i].curve;
		return curves[i].md();
	}
	return NULL;
}

static const char *key_type_name(EVP_PKEY *pkey)
{
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA: return "an RSA key";
	case EVP_PKEY_ED25519: return "an Ed25519 key";
	case EVP_PKEY_ED448: return "an Ed448 key";
	case EVP_PKEY_DSA: return "a DSA key";
	case EVP_PKEY_EC: return "an EC key on another curve";
	default: return "a key of another type";
	}
}

arca_err arca_sig__wrap_pkey(arca_key **out, EVP_PKEY *pkey, int has_private, const char *what)
{
	*out = NULL;
	const char *curve = NULL;
	const EVP_MD *md = arca_sig__curve_md(pkey, &curve);
	if (!md) {
		arca_err err = arca_error_set(ARCA_EUNSUPPORTED, "%s: %s; model signing uses ECDSA "
			"keys on P-256, P-384 or P-521", what, key_type_name(pkey));
		EVP_PKEY_free(pkey);
		return err;
	}
	arca_key *k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pkey);
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	}
	k->pkey = pkey;
	k->has_private = has_private;
	k->curve = curve;
	k->md = md;
	*out = k;
	return ARCA_OK;
}

arca_err arca_key_generate(arca_key **out)
{
	*out = NULL;
	EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!pkey) {
		char why[256];
		return arca_error_set(ARCA_EIO, "key generation failed: %s",
			arca_sig__ssl_error(why, sizeof(why)));
	}
	return arca_sig__wrap_pkey(out, pkey, 1, "new key");
}

/* Passphrase callback: the given one, or none (an encrypted key then fails clearly). */
static int give_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)rwflag;
	const char *pass = u;
	if (!pass)
		return -1;
	size_t n = strlen(pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pass, n);
	return (int)n;
}

arca_err arca_key_from_private_pem(arca_key **out, const char *pem, size_t len,
	const char *passphrase, const char *what)
{
	*out = NULL;
	if (len > INT32_MAX)
		return arca_error_set(ARCA_EINVALID, "%s: too large for a key", what);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, give_passphrase, (void *)passphrase);
	BIO_free(bio);
	if (!pkey) {
		char why[256];
		arca_sig__ssl_error(why, sizeof(why));
		/* an encrypted key that does not open: the passphrase, not the file, is at fault */
		if (memmem(pem, len, "ENCRYPTED", 9))
			return arca_error_set(ARCA_EDENIED, "%s: the key is encrypted and the passphrase "
				"is %s", what, passphrase ? "wrong" : "missing");
		return arca_error_set(ARCA_ECORRUPT, "%s: not a PEM private key (%s)", what, why);
	}
	return arca_sig__wrap_pkey(out, pkey, 1, what);
}

arca_err arca_key_from_public_pem(arca_key **out, const char *pem, size_t len, const char *what)
{
	*out = NULL;
	if (len > INT32_MAX)
		return arca_error_set(ARCA_EINVALID, "%s: too large for a key", what);
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey) {
		char why[256];
		arca_sig__ssl_error(why, sizeof(why));
		return arca_error_set(ARCA_ECORRUPT, "%s: no PEM public key (BEGIN PUBLIC KEY) in it "
			"(%s)", what, why);
	}
	return arca_sig__wrap_pkey(out, pkey, 0, what);
}

void arca_key_free(arca_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	free(key);
}

int arca_key_has_private(const arca_key *key)
{
	return key->has_private;
}

const char *arca_key_curve(const arca_key *key)
{
	return key->curve;
}

/* A memory BIO's contents as a NUL-terminated string. */
static arca_err bio_text(BIO *bio, char **out, const char *what)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	*out = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (!*out)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	memcpy(*out, data, (size_t)n);
	(*out)[n] = '\0';
	return ARCA_OK;
}

arca_err arca_key_public_pem(const arca_key *key, char **out)
{
	*out = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio || !PEM_write_bio_PUBKEY(bio, key->pkey)) {
		BIO_free(bio);
		return arca_error_set(ARCA_ENOMEM, "public key: cannot write PEM");
	}
	arca_err err = bio_text(bio, out, "public key");
	BIO_free(bio);
	return err;
}

arca_err arca_key_private_pem(const arca_key *key, const char *passphrase, char **out)
{
	*out = NULL;
	if (!key->has_private)
		return arca_error_set(ARCA_EINVALID, "this is a public key only");
	BIO *bio = BIO_new(BIO_s_mem());
	const EVP_CIPHER *cipher = passphrase && passphrase[0] ? EVP_aes_256_cbc() : NULL;
	if (!bio || !PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, cipher, NULL, 0,
			give_passphrase, (void *)passphrase)) {
		BIO_free(bio);
		return arca_error_set(ARCA_EIO, "private key: cannot write PEM");
	}
	arca_err err = bio_text(bio, out, "private key");
	BIO_free(bio);
	return err;
}

arca_err arca_key_hint(const arca_key *key, char out[ARCA_SHA256_HEX])
{
	char *pem;
	arca_err err = arca_key_public_pem(key, &pem);
	if (err < 0)
		return err;
	unsigned char raw[ARCA_SHA256_LEN];
	if ((err = arca_sha256_buffer(raw, pem, strlen(pem))) == ARCA_OK)
		arca_hex_encode(out, raw, ARCA_SHA256_LEN);
	free(pem);
	return err;
}
