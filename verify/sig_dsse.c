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

#include "verify/sig_internal.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *arca_sig__base64(const unsigned char *data, size_t len)
{
	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;
	size_t i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = b64[(v >> 6) & 63];
		*o++ = b64[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

unsigned char *arca_sig__unbase64(const char *text, size_t *len_out, int *bad)
{
	*bad = 1;
	*len_out = 0;
	size_t n = strlen(text);
	if (n % 4)
		return NULL;
	size_t pad = n && text[n - 1] == '=' ? (text[n - 2] == '=' ? 2 : 1) : 0;
	unsigned char *out = malloc(n / 4 * 3 + 1), *o = out;
	if (!out) {
		*bad = 0;
		return NULL;
	}
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		for (int k = 0; k < 4; k++) {
			int last = i + 4 == n;
			v[k] = text[i + k] == '=' && last && k >= 4 - (int)pad ? 0 : b64_value(text[i + k]);
			if (v[k] < 0) {
				free(out);
				return NULL;
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | v[3];
		*o++ = (unsigned char)(w >> 16);
		*o++ = (unsigned char)(w >> 8);
		*o++ = (unsigned char)w;
	}
	*bad = 0;
	*len_out = (size_t)(o - out) - pad;
	return out;
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
