/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_dsse.c — the DSSE layer of a model signature: standard base64 (strict on the
 * way in), the pre-authentication encoding "DSSEv1 SP len(type) SP type SP len(body) SP
 * body", and ECDSA over it with the curve's hash, DER-encoded (what OpenSSL's
 * EVP_DigestSign writes and the reference tool reads).
 */
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/digest.h"
#include "verify/sig_internal.h"

char *arca_sig__base64(const unsigned char *data, size_t len)
{
	return arca_base64_encode(data, len);
}

unsigned char *arca_sig__unbase64(const char *text, size_t *len_out, int *bad)
{
	return arca_base64_decode(text, strlen(text), len_out, bad);
}

unsigned char *arca_sig__pae(const char *type, const unsigned char *body, size_t len,
	size_t *len_out)
{
	char head[128];
	int k = snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ", strlen(type), type, len);
	if (k < 0 || (size_t)k >= sizeof(head) || len > SIZE_MAX - (size_t)k)
		return NULL;
	unsigned char *out = malloc((size_t)k + len + 1);
	if (!out)
		return NULL;
	memcpy(out, head, (size_t)k);
	if (len)
		memcpy(out + k, body, len);
	*len_out = (size_t)k + len;
	return out;
}

arca_err arca_sig__dsse_sign(unsigned char **sig_out, size_t *sig_len, const arca_key *key,
	const unsigned char *payload, size_t len)
{
	*sig_out = NULL;
	size_t pae_len;
	unsigned char *pae = arca_sig__pae(ARCA_SIG_PAYLOAD_TYPE, payload, len, &pae_len);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	arca_err err = ARCA_OK;
	size_t n = 0;
	if (!pae || !ctx) {
		err = arca_error_set(ARCA_ENOMEM, "sign: out of memory");
		goto cleanup;
	}
	if (EVP_DigestSignInit(ctx, NULL, key->md, NULL, key->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, pae, pae_len) != 1 ||
	    !(*sig_out = malloc(n)) ||
	    EVP_DigestSign(ctx, *sig_out, &n, pae, pae_len) != 1) {
		char why[256];
		free(*sig_out);
		*sig_out = NULL;
		err = arca_error_set(ARCA_EIO, "sign: ECDSA failed: %s",
			arca_sig__ssl_error(why, sizeof(why)));
		goto cleanup;
	}
	*sig_len = n;
cleanup:
	EVP_MD_CTX_free(ctx);
	free(pae);
	return err;
}

int arca_sig__dsse_verify(EVP_PKEY *pkey, const EVP_MD *md, const unsigned char *sig,
	size_t sig_len, const unsigned char *payload, size_t len)
{
	size_t pae_len;
	unsigned char *pae = arca_sig__pae(ARCA_SIG_PAYLOAD_TYPE, payload, len, &pae_len);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = pae && ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) == 1 &&
		EVP_DigestVerify(ctx, sig, sig_len, pae, pae_len) == 1;
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	free(pae);
	return ok;
}
