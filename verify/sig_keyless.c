/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_keyless.c — checking a Sigstore keyless model signature offline, against
 * pinned trusted roots: the transparency-log entry (its SET, its inclusion proof and
 * checkpoint), that the entry is this envelope, the Fulcio certificate (chain, time, usage,
 * identity) and the DSSE signature. Each step is one function, run in the order of
 * arca/sign.h; the first that fails ends the check. The report says what held and,
 * as plainly, what an offline check cannot or does not establish.
 *
 * Why this order: the SET is what makes integratedTime the log's word rather than the
 * bundle's, and every later time check (the leaf's validity, the CA chain) uses that time.
 */
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify/sig_trust_root.h"

/* What the steps share. */
typedef struct {
	const arca_sig *sig;
	const arca_sig_tlog *entry;
	const arca_sig_policy *policy;
	arca_sig_report *report;
	arca_sig__trust trust;
	const arca_sig__tlog_key *log;   /* the trusted log that knows the entry */
	X509 *leaf;
	char log_hex[2 * 64 + 1];        /* the entry's log id, hex */
	char when[32];                   /* integratedTime, RFC 3339 */
} check;

/* ------------------------------------------------------------------ helpers */

#define CHECKED(c, ...) arca_sig__note((c)->report->checked, sizeof((c)->report->checked), __VA_ARGS__)
#define UNCHECKED(c, ...) arca_sig__note((c)->report->unchecked, sizeof((c)->report->unchecked), \
	__VA_ARGS__)

static void format_time(char out[32], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "@%lld", (long long)t);
}

static void hex(char *out, const unsigned char *raw, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[raw[i] >> 4];
		out[2 * i + 1] = digits[raw[i] & 15];
	}
	out[2 * len] = '\0';
}

static void sha256(unsigned char out[32], const void *data, size_t len)
{
	EVP_Digest(data, len, out, NULL, EVP_sha256(), NULL);
}

/* 1 when `sig` (DER ECDSA) is the key's signature of msg under the hash md. */
static int verifies(EVP_PKEY *key, const EVP_MD *md, const unsigned char *sig, size_t sig_len,
	const void *msg, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1 &&
		EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* The hash of the trusted log's key (ECDSA only, as Rekor signs). */
static arca_err log_md(const check *c, const EVP_MD **md)
{
	const char *curve;
	if (!(*md = arca_sig__curve_md(c->log->key, &curve)))
		return arca_error_set(ARCA_EUNSUPPORTED, "the key of log %s is not ECDSA on P-256, "
			"P-384 or P-521; arca checks ECDSA log keys", c->log_hex);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ the log entry */

static arca_err check_entry(check *c)
{
	const arca_sig_tlog *e = c->entry;
	if (!e->present)
		return arca_error_set(ARCA_EMISMATCH, "the keyless bundle has no transparency-log "
			"entry: nothing attests when or that it was logged");
	if (strcmp(e->kind, "dsse") != 0)
		return arca_error_set(ARCA_EMISMATCH, "the log entry is of kind %s %s, not dsse (a "
			"model signature's entry)", e->kind, e->version);
	hex(c->log_hex, e->log_id, e->log_id_len);
	format_time(c->when, e->integrated_time);
	return ARCA_OK;
}

static arca_err find_log(check *c)
{
	int known = 0;
	for (size_t i = 0; i < c->trust.n_tlogs; i++) {
		const arca_sig__tlog_key *t = &c->trust.tlogs[i];
		if (t->key_id_len != c->entry->log_id_len ||
		    memcmp(t->key_id, c->entry->log_id, t->key_id_len) != 0)
			continue;
		known = 1;
		if (arca_sig__window_has(&t->valid, c->entry->integrated_time)) {
			c->log = t;
			return ARCA_OK;
		}
	}
	c->report->untrusted = 1;
	if (!known)
		return arca_error_set(ARCA_EMISMATCH, "no trusted Sigstore root knows log %s%s",
			c->log_hex, c->trust.n_tlogs ? "" : " (the trusted roots hold no logs)");
	return arca_error_set(ARCA_EMISMATCH, "log %s is trusted, but its key was not valid at "
		"the entry's integratedTime %s", c->log_hex, c->when);
}

/* The SET: the log's signature over the canonical JSON of body, integratedTime, logID and
 * logIndex (keys sorted, no spaces), which is what makes integratedTime the log's. */
static arca_err check_set(check *c)
{
	const arca_sig_tlog *e = c->entry;
	const EVP_MD *md;
	arca_err err;
	if (!e->set)
		return arca_error_set(ARCA_EMISMATCH, "the log entry has no signed entry timestamp "
			"(inclusionPromise): its integratedTime is not attested by the log");
	if ((err = log_md(c, &md)) < 0)
		return err;
	char *msg;
	int n = asprintf(&msg, "{\"body\":\"%s\",\"integratedTime\":%lld,\"logID\":\"%s\","
		"\"logIndex\":%lld}", e->body64, (long long)e->integrated_time, c->log_hex,
		(long long)e->log_index);
	if (n < 0)
		return arca_error_set(ARCA_ENOMEM, "keyless check: out of memory");
	int ok = verifies(c->log->key, md, e->set, e->set_len, msg, (size_t)n);
	free(msg);
	if (!ok)
		return arca_error_set(ARCA_EMISMATCH, "the signed entry timestamp (SET) of entry %lld "
			"does not verify with the key of log %s", (long long)e->log_index, c->log_hex);
	CHECKED(c, "SET by log %.16s… (%s) over entry %lld: integrated %s", c->log_hex,
		c->log->base_url[0] ? c->log->base_url : "trusted root", (long long)e->log_index,
		c->when);
	return ARCA_OK;
}

/* RFC 6962 / RFC 9162 2.1.3.2: the root that the audit path leads to from `leaf` at
 * `index` in a tree of `size` leaves. 0 when the path does not fit the tree. */
static int merkle_root(unsigned char out[32], const unsigned char leaf[32], uint64_t index,
	uint64_t size, const unsigned char (*path)[32], size_t n)
{
	if (index >= size)
		return 0;
	uint64_t fn = index, sn = size - 1;
	unsigned char node[1 + 64];
	memcpy(out, leaf, 32);
	node[0] = 0x01;
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			memcpy(node + 1, path[i], 32);
			memcpy(node + 33, out, 32);
			while (!(fn & 1) && fn) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			memcpy(node + 1, out, 32);
			memcpy(node + 33, path[i], 32);
		}
		sha256(out, node, sizeof(node));
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0;
}

/* The hint Rekor puts before a checkpoint signature: the first 4 bytes of SHA-256 of the
 * log's DER public key. */
static int key_hint(const check *c, unsigned char hint[4])
{
	unsigned char *der = NULL, digest[32];
	int len = i2d_PUBKEY(c->log->key, &der);
	if (len <= 0)
		return 0;
	sha256(digest, der, (size_t)len);
	OPENSSL_free(der);
	memcpy(hint, digest, 4);
	return 1;
}

/* The signature lines of a signed note ("— name base64(hint ‖ signature)"): 1 when one with
 * the log's hint verifies over `text`, 0 when one has the hint but does not verify, -1
 * when none has it. */
static int note_signed(const check *c, const EVP_MD *md, const char *text, size_t text_len,
	const char *lines)
{
	static const char dash[] = "\xe2\x80\x94 ";
	unsigned char hint[4];
	if (!key_hint(c, hint))
		return 0;
	for (const char *line = lines; *line; ) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		/* after the dash, the signer's name (no spaces), one space, the base64 */
		const char *space = len > 4 && !memcmp(line, dash, 4) ?
			memchr(line + 4, ' ', len - 4) : NULL;
		char *b64 = space ? strndup(space + 1, (size_t)(line + len - space - 1)) : NULL;
		size_t raw_len = 0;
		int bad;
		unsigned char *raw = b64 ? arca_sig__unbase64(b64, &raw_len, &bad) : NULL;
		int verdict = raw && raw_len > 4 && !memcmp(raw, hint, 4) ?
			verifies(c->log->key, md, raw + 4, raw_len - 4, text, text_len) : -1;
		free(raw);
		free(b64);
		if (verdict >= 0)
			return verdict;
		line += len + (end ? 1 : 0);
	}
	return -1;
}

/* The checkpoint: a note "origin\nsize\nbase64 root\n[other lines]\n\n— signatures", whose
 * size and root must be the proof's and whose signature must be the log's. */
static arca_err check_checkpoint(check *c, const EVP_MD *md)
{
	const arca_sig_tlog *e = c->entry;
	const char *note = e->checkpoint, *blank = strstr(note, "\n\n");
	const char *size_line = strchr(note, '\n');
	const char *root_line = size_line ? strchr(size_line + 1, '\n') : NULL;
	if (!blank || !root_line || root_line > blank)
		return arca_error_set(ARCA_EMISMATCH, "the inclusion proof's checkpoint is not a "
			"signed note (origin, size, root, blank line, signatures)");
	char size_text[24] = "", root64[64] = "";
	size_t root_len = (size_t)(strchrnul(root_line + 1, '\n') - root_line - 1);
	snprintf(size_text, sizeof(size_text), "%.*s", (int)(root_line - size_line - 1),
		size_line + 1);
	snprintf(root64, sizeof(root64), "%.*s", (int)(root_len < 63 ? root_len : 63),
		root_line + 1);
	size_t len = 0;
	int bad;
	char *size_end;
	long long size = strtoll(size_text, &size_end, 10);
	unsigned char *root = arca_sig__unbase64(root64, &len, &bad);
	int same = root && len == 32 && !memcmp(root, e->root_hash, 32) && size_text[0] >= '0' &&
		size_text[0] <= '9' && !*size_end && size == e->tree_size;
	free(root);
	if (!same)
		return arca_error_set(ARCA_EMISMATCH, "the checkpoint (tree size %s) is not the "
			"inclusion proof's tree head (size %lld)", size_text, (long long)e->tree_size);
	int verdict = note_signed(c, md, note, (size_t)(blank - note) + 1, blank + 2);
	if (verdict < 0)
		return arca_error_set(ARCA_EMISMATCH, "the checkpoint carries no signature by log %s",
			c->log_hex);
	if (!verdict)
		return arca_error_set(ARCA_EMISMATCH, "the checkpoint's signature by log %s does not "
			"verify", c->log_hex);
	CHECKED(c, "checkpoint \"%.*s\" signed by the log", (int)(size_line - note), note);
	return ARCA_OK;
}

static arca_err check_proof(check *c)
{
	const arca_sig_tlog *e = c->entry;
	if (!e->has_proof) {
		UNCHECKED(c, "no inclusion proof: inclusion rests on the SET (a promise) alone");
		return ARCA_OK;
	}
	unsigned char leaf[32], root[32];
	unsigned char *prefixed = malloc(e->body_len + 1);
	if (!prefixed)
		return arca_error_set(ARCA_ENOMEM, "keyless check: out of memory");
	prefixed[0] = 0x00;
	memcpy(prefixed + 1, e->body, e->body_len);
	sha256(leaf, prefixed, e->body_len + 1);
	free(prefixed);
	if (!merkle_root(root, leaf, (uint64_t)e->proof_index, (uint64_t)e->tree_size, e->hashes,
			e->n_hashes))
		return arca_error_set(ARCA_EMISMATCH, "the inclusion proof does not fit its tree: "
			"%zu hashes for leaf %lld of %lld", e->n_hashes, (long long)e->proof_index,
			(long long)e->tree_size);
	if (memcmp(root, e->root_hash, 32) != 0) {
		char want[65], got[65];
		hex(want, e->root_hash, 32);
		hex(got, root, 32);
		return arca_error_set(ARCA_EMISMATCH, "the inclusion proof does not lead to its "
			"rootHash %.16s… (it leads to %.16s…): the entry or the proof was altered", want,
			got);
	}
	char root_hex[65];
	hex(root_hex, root, 32);
	CHECKED(c, "inclusion proof: leaf %lld of %lld to root %.16s…", (long long)e->proof_index,
		(long long)e->tree_size, root_hex);
	if (!e->checkpoint) {
		UNCHECKED(c, "the proof's rootHash is not signed (no checkpoint)");
		return ARCA_OK;
	}
	const EVP_MD *md;
	arca_err err = log_md(c, &md);
	return err < 0 ? err : check_checkpoint(c, md);
}

/* ------------------------------------------------------------------ the entry is this envelope */

/* Whether the body's signature entry is this envelope's signature by this leaf. */
static int same_signature(const check *c, json_t *entry)
{
	const char *sig64 = json_string_value(json_object_get(entry, "signature"));
	const char *verifier64 = json_string_value(json_object_get(entry, "verifier"));
	size_t sig_len = 0, pem_len = 0;
	int bad;
	unsigned char *sig = sig64 ? arca_sig__unbase64(sig64, &sig_len, &bad) : NULL;
	unsigned char *pem = verifier64 ? arca_sig__unbase64(verifier64, &pem_len, &bad) : NULL;
	BIO *bio = pem ? BIO_new_mem_buf(pem, (int)pem_len) : NULL;
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	int same = sig && cert && sig_len == c->sig->sig_len &&
		!memcmp(sig, c->sig->sig, sig_len) && !X509_cmp(cert, c->leaf);
	X509_free(cert);
	BIO_free(bio);
	free(pem);
	free(sig);
	ERR_clear_error();
	return same;
}

/* envelopeHash is over the envelope as it was sent to the log; arca can rebuild that only
 * for the usual form (canonical JSON, one signature without keyid). */
static void note_envelope_hash(check *c, json_t *spec)
{
	const char *want = json_string_value(json_object_get(json_object_get(spec,
		"envelopeHash"), "value"));
	char *payload64 = arca_sig__base64(c->sig->payload, c->sig->payload_len);
	char *sig64 = arca_sig__base64(c->sig->sig, c->sig->sig_len), *env = NULL;
	int n = payload64 && sig64 ? asprintf(&env, "{\"payload\":\"%s\",\"payloadType\":\"%s\","
		"\"signatures\":[{\"sig\":\"%s\"}]}", payload64, ARCA_SIG_PAYLOAD_TYPE, sig64) : -1;
	unsigned char digest[32];
	char got[65] = "";
	if (n > 0) {
		sha256(digest, env, (size_t)n);
		hex(got, digest, 32);
	}
	if (want && !strcmp(want, got))
		CHECKED(c, "envelopeHash matches");
	else
		UNCHECKED(c, "envelopeHash not matched (arca rebuilds only the one-signature form; "
			"payloadHash and the signature tie the entry to the envelope)");
	free(env);
	free(sig64);
	free(payload64);
}

static arca_err check_body(check *c)
{
	const arca_sig_tlog *e = c->entry;
	json_error_t jerr;
	json_t *body = json_loadb((const char *)e->body, e->body_len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *spec = json_object_get(body, "spec");
	json_t *ph = json_object_get(spec, "payloadHash");
	json_t *sigs = json_object_get(spec, "signatures");
	const char *api = json_string_value(json_object_get(body, "apiVersion"));
	const char *kind = json_string_value(json_object_get(body, "kind"));
	const char *alg = json_string_value(json_object_get(ph, "algorithm"));
	const char *value = json_string_value(json_object_get(ph, "value"));
	arca_err err = ARCA_OK;
	if (!api || !kind || !alg || !value || !json_is_array(sigs)) {
		err = arca_error_set(ARCA_EMISMATCH, "the log entry's body is not a dsse entry "
			"(apiVersion, kind, spec.payloadHash, spec.signatures)%s%s", body ? "" : ": ",
			body ? "" : jerr.text);
		goto cleanup;
	}
	if (strcmp(kind, e->kind) != 0 || strcmp(api, e->version) != 0) {
		err = arca_error_set(ARCA_EMISMATCH, "the log entry's body is a %s %s entry, but the "
			"bundle says %s %s", kind, api, e->kind, e->version);
		goto cleanup;
	}
	unsigned char digest[32];
	char got[65];
	sha256(digest, c->sig->payload, c->sig->payload_len);
	hex(got, digest, 32);
	if (strcmp(alg, "sha256") != 0 || strcmp(value, got) != 0) {
		err = arca_error_set(ARCA_EMISMATCH, "the log entry is not this envelope: its "
			"payloadHash %s:%.16s… is not the payload's sha256:%.16s…", alg, value, got);
		goto cleanup;
	}
	size_t i;
	json_t *s;
	int found = 0;
	json_array_foreach(sigs, i, s)
		found = found || same_signature(c, s);
	if (!found) {
		err = arca_error_set(ARCA_EMISMATCH, "the log entry is not this envelope: none of its "
			"%zu signatures is the envelope's signature with this certificate",
			json_array_size(sigs));
		goto cleanup;
	}
	CHECKED(c, "the log entry is this envelope (payloadHash, signature, certificate)");
	note_envelope_hash(c, spec);
cleanup:
	json_decref(body);
	return err;
}

/* ------------------------------------------------------------------ the certificate */

static arca_err check_leaf_time(check *c)
{
	struct tm nb, na;
	if (!ASN1_TIME_to_tm(X509_get0_notBefore(c->leaf), &nb) ||
	    !ASN1_TIME_to_tm(X509_get0_notAfter(c->leaf), &na))
		return arca_error_set(ARCA_ECORRUPT, "the signing certificate's validity cannot be "
			"read");
	int64_t from = (int64_t)timegm(&nb), to = (int64_t)timegm(&na);
	if (c->entry->integrated_time < from || c->entry->integrated_time > to) {
		char a[32], b[32];
		format_time(a, from);
		format_time(b, to);
		return arca_error_set(ARCA_EMISMATCH, "the entry was logged at %s, outside the signing "
			"certificate's validity (%s to %s)", c->when, a, b);
	}
	CHECKED(c, "certificate valid at that time");
	return ARCA_OK;
}

/* 1 when the leaf chains to the CA's last certificate at `when`; *why: OpenSSL's reason. */
static int chains_to(X509 *leaf, const arca_sig__ca *ca, int64_t when, int *why)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = store && mid && ctx && X509_STORE_add_cert(store, ca->certs[ca->n_certs - 1]);
	for (size_t k = 0; ok && k + 1 < ca->n_certs; k++)
		ok = sk_X509_push(mid, ca->certs[k]) > 0;
	if (ok && X509_STORE_CTX_init(ctx, store, leaf, mid)) {
		X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
		X509_VERIFY_PARAM_set_time(param, (time_t)when);
		/* the trusted root's list is the anchor, even when it stops short of a self-signed
		 * certificate */
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
		ok = X509_verify_cert(ctx) == 1;
		*why = X509_STORE_CTX_get_error(ctx);
	} else {
		ok = 0;
		*why = X509_V_ERR_OUT_OF_MEM;
	}
	X509_STORE_CTX_free(ctx);
	sk_X509_free(mid);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

static arca_err check_chain(check *c)
{
	int why = X509_V_OK;
	size_t tried = 0;
	for (size_t i = 0; i < c->trust.n_cas; i++) {
		const arca_sig__ca *ca = &c->trust.cas[i];
		if (!arca_sig__window_has(&ca->valid, c->entry->integrated_time))
			continue;
		tried++;
		if (chains_to(c->leaf, ca, c->entry->integrated_time, &why)) {
			char name[256];
			X509_NAME_oneline(X509_get_subject_name(ca->certs[ca->n_certs - 1]), name,
				sizeof(name));
			CHECKED(c, "chain to Fulcio CA %s at %s", ca->uri[0] ? ca->uri : name, c->when);
			return ARCA_OK;
		}
	}
	c->report->untrusted = 1;
	if (!tried)
		return arca_error_set(ARCA_EMISMATCH, "no trusted Fulcio CA was valid at %s, when the "
			"entry was logged", c->when);
	return arca_error_set(ARCA_EMISMATCH, "the signing certificate (%s) does not chain to a "
		"trusted Fulcio CA at %s: %s", c->sig->identity ? c->sig->identity : "?", c->when,
		X509_verify_cert_error_string(why));
}

static arca_err check_usage(check *c)
{
	/* X509_get_extended_key_usage() answers "anything" when the extension is absent */
	if (!(X509_get_extension_flags(c->leaf) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(c->leaf) & XKU_CODE_SIGN))
		return arca_error_set(ARCA_EMISMATCH, "the signing certificate has no codeSigning "
			"extended key usage");
	CHECKED(c, "codeSigning EKU");
	return ARCA_OK;
}

/* Whether one of the leaf's e-mail or URI SANs is `want`. */
static int has_identity(X509 *leaf, const char *want)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	int found = 0;
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && !found; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type != GEN_EMAIL && g->type != GEN_URI)
			continue;
		ASN1_IA5STRING *v = g->type == GEN_EMAIL ? g->d.rfc822Name :
			g->d.uniformResourceIdentifier;
		found = (size_t)ASN1_STRING_length(v) == strlen(want) &&
			!memcmp(ASN1_STRING_get0_data(v), want, strlen(want));
	}
	GENERAL_NAMES_free(names);
	return found;
}

static arca_err check_policy(check *c)
{
	const char *identity = c->policy ? c->policy->identity : NULL;
	const char *issuer = c->policy ? c->policy->issuer : NULL;
	c->report->untrusted = 1;
	if (identity && !has_identity(c->leaf, identity))
		return arca_error_set(ARCA_EMISMATCH, "signed by %s, not by %s (the required identity)",
			c->sig->identity ? c->sig->identity : "an unnamed identity", identity);
	if (issuer && (!c->sig->issuer || strcmp(c->sig->issuer, issuer) != 0))
		return arca_error_set(ARCA_EMISMATCH, "the identity was issued by %s, not by %s (the "
			"required issuer)", c->sig->issuer ? c->sig->issuer : "an unnamed issuer", issuer);
	c->report->untrusted = 0;
	if (identity)
		CHECKED(c, "identity %s", identity);
	if (issuer)
		CHECKED(c, "issuer %s", issuer);
	return ARCA_OK;
}

static arca_err check_dsse(check *c)
{
	EVP_PKEY *key = X509_get0_pubkey(c->leaf);
	const char *curve = NULL;
	const EVP_MD *md = key ? arca_sig__curve_md(key, &curve) : NULL;
	if (!md)
		return arca_error_set(ARCA_EUNSUPPORTED, "the signing certificate's key is not ECDSA "
			"on P-256, P-384 or P-521");
	if (!arca_sig__dsse_verify(key, md, c->sig->sig, c->sig->sig_len, c->sig->payload,
			c->sig->payload_len))
		return arca_error_set(ARCA_EMISMATCH, "the DSSE signature does not verify with the key "
			"of the signing certificate (%s)", c->sig->identity ? c->sig->identity : "?");
	CHECKED(c, "DSSE signature (ECDSA %s)", curve);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ the check */

/* What no step of an offline check establishes, said before the steps run. */
static void note_limits(check *c)
{
	UNCHECKED(c, "SCT (certificate transparency) not checked%s",
		X509_get_ext_by_NID(c->leaf, NID_ct_precert_scts, -1) < 0 ?
		" (the certificate carries none)" : "");
	UNCHECKED(c, "log inclusion checked against the entry's own proof, not against the live "
		"log (offline)");
	if (c->sig->n_rfc3161)
		UNCHECKED(c, "%zu RFC 3161 timestamp%s not checked (the log's integratedTime is "
			"used)", c->sig->n_rfc3161, c->sig->n_rfc3161 == 1 ? "" : "s");
	if (c->sig->n_tlog_entries > 1)
		UNCHECKED(c, "%zu more log entries not checked", c->sig->n_tlog_entries - 1);
	if (!c->policy || !c->policy->identity)
		UNCHECKED(c, "identity not required (signed by %s)",
			c->sig->identity ? c->sig->identity : "an unnamed identity");
	if (!c->policy || !c->policy->issuer)
		UNCHECKED(c, "issuer not required (%s)", c->sig->issuer ? c->sig->issuer : "none");
}

static arca_err (*const steps[])(check *) = {
	check_entry, find_log, check_set, check_proof, check_body, check_leaf_time,
	check_chain, check_usage, check_policy, check_dsse,
};

arca_err arca_sig_check_keyless(const arca_sig *sig, const char *const *trusted_roots,
	const size_t *root_lens, size_t n_roots, const arca_sig_policy *policy,
	arca_sig_report *report)
{
	arca_sig_report scratch;
	check c = { .sig = sig, .entry = &sig->tlog, .policy = policy,
		.report = report ? report : &scratch };
	c.report->checked[0] = c.report->unchecked[0] = '\0';
	c.report->untrusted = 0;
	if (sig->mode != ARCA_SIG_KEYLESS)
		return arca_error_set(ARCA_EMISMATCH, "the signature was made with a %s, not a "
			"Sigstore (keyless) certificate", sig->mode == ARCA_SIG_KEY ? "key" :
			"certificate chain");
	const unsigned char *p = sig->n_chain ? sig->chain[0] : NULL;
	if (!p || !(c.leaf = d2i_X509(NULL, &p, (long)sig->chain_len[0])))
		return arca_error_set(ARCA_ECORRUPT, "the bundle's signing certificate is not DER "
			"X.509");
	arca_err err = ARCA_OK;
	for (size_t i = 0; err == ARCA_OK && i < n_roots; i++) {
		char what[48];
		snprintf(what, sizeof(what), "trusted root %zu", i + 1);
		err = arca_sig__trust_add(&c.trust, trusted_roots[i], root_lens[i], what);
	}
	if (err == ARCA_OK)
		note_limits(&c);
	for (size_t i = 0; err == ARCA_OK && i < sizeof(steps) / sizeof(steps[0]); i++)
		err = steps[i](&c);
	arca_sig__trust_dispose(&c.trust);
	X509_free(c.leaf);
	ERR_clear_error();
	return err;
}
