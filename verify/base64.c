/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/base64.c — standard base64 (arca/digest.h) on OpenSSL's EVP block coder, with the
 * strictness OpenSSL leaves to the caller: EVP_DecodeBlock skips surrounding whitespace and
 * counts padding as zero bytes, so the text is checked first and the padding taken off.
 * Signature bundles and tiktoken vocabularies decode through here.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "arca/digest.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *arca_base64_encode(const void *data, size_t len)
{
	if (len > (size_t)INT_MAX / 4 * 3 - 3)
		return NULL;
	char *out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	out[n < 0 ? 0 : n] = '\0';
	return out;
}

unsigned char *arca_base64_decode(const char *text, size_t n, size_t *len_out,
	int *malformed)
{
	*len_out = 0;
	*malformed = 1;
	if (n % 4 || n > (size_t)INT_MAX)
		return NULL;
	size_t pad = n && text[n - 1] == '=' ? (text[n - 2] == '=' ? 2 : 1) : 0;
	for (size_t i = 0; i < n - pad; i++)
		if (!text[i] || !strchr(alphabet, text[i]))
			return NULL;
	unsigned char *out = malloc(n / 4 * 3 + 1);
	if (!out) {
		*malformed = 0;
		return NULL;
	}
	int got = n ? EVP_DecodeBlock(out, (const unsigned char *)text, (int)n) : 0;
	if (got < 0 || (size_t)got != n / 4 * 3) {
		free(out);
		return NULL;
	}
	*malformed = 0;
	*len_out = (size_t)got - pad;
	return out;
}
