/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_trust_root.c — reading a Sigstore trusted root (trusted_root.json, media type
 * application/vnd.dev.sigstore.trustedroot+json;version=0.1): the transparency logs' keys
 * and the Fulcio CA chains, with their validity windows. What the keyless check uses is
 * read strictly and bounded; ctlogs and timestampAuthorities are only type-checked, since
 * arca checks neither SCTs nor RFC 3161 timestamps. It is the trust decision of a keyless
 * check, so a malformed root is an error, never a root with fewer entries.
 */
#include <jansson.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify/sig_trust_root.h"

#define MEDIA_TYPE "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
#define MEDIA_TYPE_NEW "application/vnd.dev.sigstore.trustedroot.v0.1+json"
#define MAX_ENTRIES 64   /* logs, CAs, CT logs or TSAs per root */
#define MAX_CHAIN 10

/* ------------------------------------------------------------------ fields */

/* Two decimal digits at s, or -1. */
static int two_digits(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* RFC 3339 as protobuf writes a Timestamp: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM).
 * The fraction is dropped (windows are in whole seconds). 0 when it is not that. */
static int parse_time(const char *s, int64_t *out)
{
	int c = two_digits(s), y = two_digits(s + 2);
	if (strlen(s) < 20 || c < 0 || y < 0 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return 0;
	struct tm tm = { 0 };
	tm.tm_year = c * 100 + y - 1900;
	tm.tm_mon = two_digits(s + 5) - 1;
	tm.tm_mday = two_digits(s + 8);
	tm.tm_hour = two_digits(s + 11);
	tm.tm_min = two_digits(s + 14);
	tm.tm_sec = two_digits(s + 17);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
	    tm.tm_sec < 0 || tm.tm_sec > 60)
		return 0;
	const char *p = s + 19;
	if (*p == '.') {
		const char *digits = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == digits || p - digits > 9)
			return 0;
	}
	int64_t offset = 0;
	if (*p == 'Z') {
		p++;
	} else if ((*p == '+' || *p == '-') && two_digits(p + 1) >= 0 && p[3] == ':' &&
		   two_digits(p + 4) >= 0 && two_digits(p + 1) < 24 && two_digits(p + 4) < 60) {
		offset = (int64_t)(two_digits(p + 1) * 3600 + two_digits(p + 4) * 60);
		offset = *p == '+' ? offset : -offset;
		p += 6;
	} else {
		return 0;
	}
	if (*p)
		return 0;
	int mday = tm.tm_mday, mon = tm.tm_mon;
	time_t t = timegm(&tm);
	if (tm.tm_mday != mday || tm.tm_mon != mon)   /* normalized: February 30 and the like */
		return 0;
	*out = (int64_t)t - offset;
	return 1;
}

int arca_sig__window_has(const arca_sig__window *w, int64_t t)
{
	return t >= w->start && t <= w->end;
}

/* validFor {start, end}: absent means always; end absent means open-ended. */
static arca_err read_window(arca_sig__window *w, json_t *obj, const char *what,
	const char *path)
{
	w->start = INT64_MIN;
	w->end = INT64_MAX;
	if (!obj)
		return ARCA_OK;
	json_t *start = json_object_get(obj, "start"), *end = json_object_get(obj, "end");
	if (!json_is_object(obj) || !json_is_string(start) ||
	    !parse_time(json_string_value(start), &w->start))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.validFor.start is missing or not an RFC "
			"3339 time", what, path);
	if (end && (!json_is_string(end) || !parse_time(json_string_value(end), &w->end)))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.validFor.end is not an RFC 3339 time",
			what, path);
	if (w->end < w->start)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.validFor ends before it starts", what,
			path);
	return ARCA_OK;
}

/* The base64 string at obj.key, decoded (malloc'ed). */
static arca_err read_bytes(unsigned char **out, size_t *len, json_t *obj, const char *key,
	const char *what, const char *path)
{
	const char *text = json_string_value(json_object_get(obj, key));
	int bad;
	*out = NULL;
	if (!text || !text[0])
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.%s is missing or not a string", what,
			path, key);
	if (!(*out = arca_sig__unbase64(text, len, &bad)))
		return bad ? arca_error_set(ARCA_ECORRUPT, "%s: %s.%s is not standard base64", what,
			path, key) : arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	return ARCA_OK;
}

/* An optional string field, copied ("" when absent). */
static arca_err read_optional_string(char **out, json_t *obj, const char *key,
	const char *what, const char *path)
{
	json_t *v = json_object_get(obj, key);
	if (v && !json_is_string(v))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.%s is not a string", what, path, key);
	if (!(*out = strdup(v ? json_string_value(v) : "")))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	return ARCA_OK;
}

/* A list of at most MAX_ENTRIES objects, or absent (NULL). */
static arca_err check_list(json_t *list, const char *what, const char *key)
{
	if (!list)
		return ARCA_OK;
	if (!json_is_array(list) || json_array_size(list) > MAX_ENTRIES)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s is not a list of at most %d entries",
			what, key, MAX_ENTRIES);
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
		if (!json_is_object(e))
			return arca_error_set(ARCA_ECORRUPT, "%s: %s[%zu] is not an object", what, key,
				i);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ logs */

static arca_err read_tlog(arca_sig__tlog_key *log, json_t *obj, const char *what,
	const char *path)
{
	json_t *pk = json_object_get(obj, "publicKey"), *id = json_object_get(obj, "logId");
	json_t *details = json_object_get(pk, "keyDetails");
	char sub[96];
	unsigned char *der = NULL, *key_id = NULL;
	size_t der_len, id_len;
	arca_err err;
	if (!json_is_object(pk) || !json_is_object(id))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s needs a publicKey and a logId object",
			what, path);
	if (details && !json_is_string(details))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.publicKey.keyDetails is not a string",
			what, path);
	snprintf(sub, sizeof(sub), "%s.publicKey", path);
	if ((err = read_window(&log->valid, json_object_get(pk, "validFor"), what, sub)) < 0 ||
	    (err = read_optional_string(&log->base_url, obj, "baseUrl", what, path)) < 0 ||
	    (err = read_bytes(&der, &der_len, pk, "rawBytes", what, sub)) < 0)
		return err;
	const unsigned char *p = der;
	log->key = d2i_PUBKEY(NULL, &p, (long)der_len);
	int whole = log->key && p == der + der_len;
	free(der);
	if (!whole)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.rawBytes is not a DER "
			"SubjectPublicKeyInfo", what, sub);
	snprintf(sub, sizeof(sub), "%s.logId", path);
	if ((err = read_bytes(&key_id, &id_len, id, "keyId", what, sub)) < 0)
		return err;
	if (id_len <= sizeof(log->key_id))
		memcpy(log->key_id, key_id, id_len);
	free(key_id);
	if (id_len > sizeof(log->key_id))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.keyId holds %zu bytes (a key id is a "
			"hash)", what, sub, id_len);
	log->key_id_len = id_len;
	return ARCA_OK;
}

static arca_err read_tlogs(arca_sig__trust *trust, json_t *list, const char *what)
{
	arca_err err = check_list(list, what, "tlogs");
	if (err < 0 || !list)
		return err;
	arca_sig__tlog_key *grown = realloc(trust->tlogs, (trust->n_tlogs + json_array_size(list)
		+ 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	trust->tlogs = grown;
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		char path[32];
		snprintf(path, sizeof(path), "tlogs[%zu]", i);
		arca_sig__tlog_key *log = &trust->tlogs[trust->n_tlogs++];
		memset(log, 0, sizeof(*log));
		if ((err = read_tlog(log, e, what, path)) < 0)
			return err;
	}
	return ARCA_OK;
}

/* ------------------------------------------------------------------ certificate authorities */

static arca_err read_ca(arca_sig__ca *ca, json_t *obj, const char *what, const char *path)
{
	json_t *certs = json_object_get(json_object_get(obj, "certChain"), "certificates");
	arca_err err;
	if (!json_is_array(certs) || !json_array_size(certs) ||
	    json_array_size(certs) > MAX_CHAIN)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.certChain.certificates must hold 1 to %d "
			"certificates", what, path, MAX_CHAIN);
	if ((err = read_window(&ca->valid, json_object_get(obj, "validFor"), what, path)) < 0 ||
	    (err = read_optional_string(&ca->uri, obj, "uri", what, path)) < 0)
		return err;
	if (!(ca->certs = calloc(json_array_size(certs), sizeof(*ca->certs))))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	size_t i;
	json_t *c;
	json_array_foreach(certs, i, c) {
		char sub[112];
		unsigned char *der;
		size_t len;
		snprintf(sub, sizeof(sub), "%s.certChain.certificates[%zu]", path, i);
		if ((err = read_bytes(&der, &len, c, "rawBytes", what, sub)) < 0)
			return err;
		const unsigned char *p = der;
		X509 *x = d2i_X509(NULL, &p, (long)len);
		int whole = x && p == der + len;
		free(der);
		if (!whole) {
			X509_free(x);
			return arca_error_set(ARCA_ECORRUPT, "%s: %s.rawBytes is not a DER X.509 "
				"certificate", what, sub);
		}
		ca->certs[ca->n_certs++] = x;
	}
	return ARCA_OK;
}

static arca_err read_cas(arca_sig__trust *trust, json_t *list, const char *what)
{
	arca_err err = check_list(list, what, "certificateAuthorities");
	if (err < 0 || !list)
		return err;
	arca_sig__ca *grown = realloc(trust->cas, (trust->n_cas + json_array_size(list) + 1) *
		sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	trust->cas = grown;
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		char path[48];
		snprintf(path, sizeof(path), "certificateAuthorities[%zu]", i);
		arca_sig__ca *ca = &trust->cas[trust->n_cas++];
		memset(ca, 0, sizeof(*ca));
		if ((err = read_ca(ca, e, what, path)) < 0)
			return err;
	}
	return ARCA_OK;
}

/* ------------------------------------------------------------------ the root */

arca_err arca_sig__trust_add(arca_sig__trust *trust, const char *text, size_t len,
	const char *what)
{
	if (len > ARCA_SIG_TRUST_ROOT_MAX)
		return arca_error_set(ARCA_ECORRUPT, "%s: %zu bytes, more than a trusted root may be "
			"(%u KiB)", what, len, ARCA_SIG_TRUST_ROOT_MAX >> 10);
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *media = json_string_value(json_object_get(root, "mediaType"));
	arca_err err = ARCA_OK;
	if (!json_is_object(root)) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: not a JSON object (%s at line %d)", what,
			root ? "another JSON value" : jerr.text, jerr.line);
		goto cleanup;
	}
	if (!media || (strcmp(media, MEDIA_TYPE) != 0 && strcmp(media, MEDIA_TYPE_NEW) != 0)) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: mediaType %s, not a Sigstore trusted root "
			"(%s)", what, media ? media : "missing", MEDIA_TYPE);
		goto cleanup;
	}
	if ((err = read_tlogs(trust, json_object_get(root, "tlogs"), what)) == ARCA_OK &&
	    (err = read_cas(trust, json_object_get(root, "certificateAuthorities"), what)) ==
		ARCA_OK && (err = check_list(json_object_get(root, "ctlogs"), what, "ctlogs")) ==
		ARCA_OK)
		err = check_list(json_object_get(root, "timestampAuthorities"), what,
			"timestampAuthorities");
cleanup:
	json_decref(root);
	return err;
}

void arca_sig__trust_dispose(arca_sig__trust *trust)
{
	for (size_t i = 0; i < trust->n_tlogs; i++) {
		EVP_PKEY_free(trust->tlogs[i].key);
		free(trust->tlogs[i].base_url);
	}
	for (size_t i = 0; i < trust->n_cas; i++) {
		for (size_t k = 0; k < trust->cas[i].n_certs; k++)
			X509_free(trust->cas[i].certs[k]);
		free(trust->cas[i].certs);
		free(trust->cas[i].uri);
	}
	free(trust->tlogs);
	free(trust->cas);
	memset(trust, 0, sizeof(*trust));
}

arca_err arca_sig_check_trusted_root(const char *text, size_t len, const char *what)
{
	arca_sig__trust trust = { 0 };
	arca_err err = arca_sig__trust_add(&trust, text, len, what);
	if (err == ARCA_OK && !trust.n_tlogs && !trust.n_cas)
		err = arca_error_set(ARCA_EINVALID, "%s: a trusted root with neither transparency "
			"logs nor certificate authorities trusts nothing", what);
	arca_sig__trust_dispose(&trust);
	return err;
}
