/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/digest.c — SHA-256, SHA-1 and git blob ids over OpenSSL's EVP interface, and hex.
 * EVP chooses the fastest code for this CPU (SHA-NI where present), so there is no
 * hand-written hash here.
 */
#include "arca/digest.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arca_digest {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
};

static arca_err digest_init(arca_digest *d)
{
	if (EVP_DigestInit_ex(d->ctx, d->md, NULL) != 1)
		return arca_error_set(ARCA_EIO, "digest: OpenSSL refused to initialise %s",
			EVP_MD_get0_name(d->md));
	return ARCA_OK;
}

arca_err arca_digest_new(arca_digest **out, arca_digest_kind kind)
{
	*out = NULL;
	arca_digest *d = calloc(1, sizeof(*d));
	if (!d || !(d->ctx = EVP_MD_CTX_new())) {
		free(d);
		return arca_error_set(ARCA_ENOMEM, "digest: out of memory");
	}
	d->md = kind == ARCA_DIGEST_SHA256 ? EVP_sha256() : EVP_sha1();
	arca_err err = digest_init(d);
	if (err < 0) {
		arca_digest_free(d);
		return err;
	}
	*out = d;
	return ARCA_OK;
}

arca_err arca_digest_new_gitblob(arca_digest **out, uint64_t len)
{
	arca_err err = arca_digest_new(out, ARCA_DIGEST_SHA1);
	if (err < 0)
		return err;
	char header[32];
	int n = snprintf(header, sizeof(header), "blob %" PRIu64, len);
	/* the header includes its terminating NUL */
	if ((err = arca_digest_update(*out, header, (size_t)n + 1)) < 0) {
		arca_digest_free(*out);
		*out = NULL;
	}
	return err;
}

arca_err arca_digest_update(arca_digest *d, const void *buf, size_t len)
{
	if (len && EVP_DigestUpdate(d->ctx, buf, len) != 1)
		return arca_error_set(ARCA_EIO, "digest: update failed");
	return ARCA_OK;
}

arca_err arca_digest_final(arca_digest *d, unsigned char *out)
{
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(d->ctx, out, &n) != 1)
		return arca_error_set(ARCA_EIO, "digest: final failed");
	return digest_init(d);
}

void arca_digest_free(arca_digest *d)
{
	if (!d)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

arca_err arca_sha256_buffer(unsigned char out[ARCA_SHA256_LEN], const void *buf, size_t len)
{
	if (EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL) != 1)
		return arca_error_set(ARCA_EIO, "sha256: OpenSSL failed");
	return ARCA_OK;
}

arca_err arca_sha256_buffer_hex(char out[ARCA_SHA256_HEX], const void *buf, size_t len)
{
	unsigned char raw[ARCA_SHA256_LEN];
	arca_err err = arca_sha256_buffer(raw, buf, len);
	if (err == ARCA_OK)
		arca_hex_encode(out, raw, ARCA_SHA256_LEN);
	return err;
}

arca_err arca_gitblob_buffer(unsigned char out[ARCA_SHA1_LEN], const void *buf, size_t len)
{
	arca_digest *d;
	arca_err err = arca_digest_new_gitblob(&d, len);
	if (err < 0)
		return err;
	if ((err = arca_digest_update(d, buf, len)) == ARCA_OK)
		err = arca_digest_final(d, out);
	arca_digest_free(d);
	return err;
}

void arca_hex_encode(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

arca_err arca_hex_decode(unsigned char *out, size_t n, const char *hex)
{
	size_t len = strnlen(hex, 2 * n + 1);
	if (len != 2 * n)
		return arca_error_set(ARCA_EINVALID, "'%.80s' is not %zu hex digits", hex, 2 * n);
	for (size_t i = 0; i < n; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return arca_error_set(ARCA_EINVALID, "'%.80s' is not hex", hex);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return ARCA_OK;
}

int arca_hex_is_lower(const char *s, size_t digits)
{
	for (size_t i = 0; i < digits; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return s[digits] == '\0';
}
