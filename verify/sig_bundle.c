/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_bundle.c — the model.sig file: writing one (key mode, files serialization,
 * SHA-256) and reading one strictly. Reading checks the shape of every field, decodes the
 * envelope, parses the in-toto statement and recomputes the root digest from the listed
 * resources, so a tampered resource list is caught before any signature is looked at.
 * For keyless bundles it also keeps the first transparency-log entry, typed and decoded,
 * for verify/sig_keyless.c to check.
 */
#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "verify/sig_internal.h"

#define MEDIA_TYPE "application/vnd.dev.sigstore.bundle.v0.3+json"
#define MEDIA_TYPE_ALT "application/vnd.dev.sigstore.bundle+json;version=0.3"
#define STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define PREDICATE_TYPE "https://model_signing/signature/v1.0"
#define LEGACY_PREDICATE "https://model_signing/Digests/v0.1"
#define MAX_RESOURCES 1000000

/* What the reference signer always leaves out of a model folder. */
static const char *const default_ignores[] = { ".git", "model.sig", ".gitattributes",
	".gitignore", ".github" };
#define N_DEFAULT_IGNORES (sizeof(default_ignores) / sizeof(default_ignores[0]))

/* ------------------------------------------------------------------ order and root */

/* Path order of model signing: component by component, each compared by bytes. */
int arca_sign_compare_paths(const char *a, const char *b)
{
	for (;;) {
		size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
		size_t n = la < lb ? la : lb;
		int c = memcmp(a, b, n);
		if (c)
			return c;
		if (la != lb)
			return la < lb ? -1 : 1;
		a += la;
		b += lb;
		if (!*a || !*b)
			return *a ? 1 : *b ? -1 : 0;
		a++;
		b++;
	}
}

static int compare_files(const void *x, const void *y)
{
	return arca_sign_compare_paths(((const arca_sign_file *)x)->name,
		((const arca_sign_file *)y)->name);
}

void arca_sign_sort_files(arca_sign_file *files, size_t n)
{
	if (n > 1)
		qsort(files, n, sizeof(*files), compare_files);
}

arca_err arca_sign_root_digest(char out[ARCA_SHA256_HEX], const arca_sign_file *files,
	size_t n)
{
	arca_digest *d;
	arca_err err = arca_digest_new(&d, ARCA_DIGEST_SHA256);
	for (size_t i = 0; err == ARCA_OK && i < n; i++) {
		unsigned char raw[ARCA_SHA256_LEN];
		if ((err = arca_hex_decode(raw, ARCA_SHA256_LEN, files[i].sha256)) < 0)
			arca_error_prefix(err, "%s", files[i].name);
		else
			err = arca_digest_update(d, raw, sizeof(raw));
	}
	unsigned char root[ARCA_SHA256_LEN];
	if (err == ARCA_OK && (err = arca_digest_final(d, root)) == ARCA_OK)
		arca_hex_encode(out, root, ARCA_SHA256_LEN);
	arca_digest_free(d);
	return err;
}

/* ------------------------------------------------------------------ writing */

static json_t *statement_json(const char *name, const char *root, const arca_sign_file *files,
	size_t n, const char *const *ignore_paths, size_t n_ignore)
{
	json_t *ignores = json_array(), *resources = json_array();
	for (size_t i = 0; i < N_DEFAULT_IGNORES; i++)
		json_array_append_new(ignores, json_string(default_ignores[i]));
	for (size_t i = 0; i < n_ignore; i++) {
		int seen = 0;
		for (size_t k = 0; k < json_array_size(ignores) && !seen; k++)
			seen = !strcmp(json_string_value(json_array_get(ignores, k)), ignore_paths[i]);
		if (!seen)
			json_array_append_new(ignores, json_string(ignore_paths[i]));
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(resources, json_pack("{s:s,s:s,s:s}", "name", files[i].name,
			"algorithm", "sha256", "digest", files[i].sha256));
	return json_pack("{s:s,s:[{s:s,s:{s:s}}],s:s,s:{s:{s:s,s:s,s:b,s:o},s:o}}",
		"_type", STATEMENT_TYPE,
		"subject", "name", name, "digest", "sha256", root,
		"predicateType", PREDICATE_TYPE,
		"predicate", "serialization", "method", "files", "hash_type", "sha256",
		"allow_symlinks", 0, "ignore_paths", ignores, "resources", resources);
}

arca_err arca_sign_bundle(char **out, const arca_key *key, const char *name,
	arca_sign_file *files, size_t n, const char *const *ignore_paths, size_t n_ignore)
{
	*out = NULL;
	if (!key->has_private)
		return arca_error_set(ARCA_EINVALID, "sign: the key has no private half");
	arca_sign_sort_files(files, n);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(files[i].name, files[i - 1].name))
			return arca_error_set(ARCA_EINVALID, "sign: %s is listed twice", files[i].name);
	char root[ARCA_SHA256_HEX], hint[ARCA_SHA256_HEX];
	arca_err err;
	if ((err = arca_sign_root_digest(root, files, n)) < 0 ||
	    (err = arca_key_hint(key, hint)) < 0)
		return err;
	json_t *statement = statement_json(name, root, files, n, ignore_paths, n_ignore);
	char *payload = statement ? json_dumps(statement, JSON_INDENT(2) | JSON_PRESERVE_ORDER) :
		NULL;
	json_decref(statement);
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	char *payload64 = NULL, *sig64 = NULL;
	json_t *bundle = NULL;
	if (!payload) {
		err = arca_error_set(ARCA_ENOMEM, "sign: out of memory");
		goto cleanup;
	}
	if ((err = arca_sig__dsse_sign(&sig, &sig_len, key, (const unsigned char *)payload,
			strlen(payload))) < 0)
		goto cleanup;
	payload64 = arca_sig__base64((const unsigned char *)payload, strlen(payload));
	sig64 = arca_sig__base64(sig, sig_len);
	bundle = payload64 && sig64 ? json_pack("{s:s,s:{s:{s:s},s:[]},s:{s:s,s:s,s:[{s:s,s:s}]}}",
		"mediaType", MEDIA_TYPE,
		"verificationMaterial", "publicKey", "hint", hint, "tlogEntries",
		"dsseEnvelope", "payload", payload64, "payloadType", ARCA_SIG_PAYLOAD_TYPE,
		"signatures", "sig", sig64, "keyid", "") : NULL;
	if (!bundle || !(*out = json_dumps(bundle, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		err = arca_error_set(ARCA_ENOMEM, "sign: out of memory");
cleanup:
	json_decref(bundle);
	free(payload);
	free(payload64);
	free(sig64);
	free(sig);
	return err;
}

/* ------------------------------------------------------------------ reading */

/* The string at `key` of an object; NULL (and an error set) when absent or not a string. */
static const char *need_string(json_t *obj, const char *key, const char *what, arca_err *err)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (!s && *err == ARCA_OK)
		*err = arca_error_set(ARCA_ECORRUPT, "%s: \"%s\" is missing or not a string", what,
			key);
	return s;
}

static int is_hex64(const char *s)
{
	return s && strlen(s) == 64 && arca_hex_is_lower(s, 64);
}

static arca_err decode_field(unsigned char **out, size_t *len, const char *text,
	const char *what, const char *field)
{
	int bad;
	*out = arca_sig__unbase64(text, len, &bad);
	if (*out)
		return ARCA_OK;
	return bad ? arca_error_set(ARCA_ECORRUPT, "%s: %s is not standard base64", what, field) :
		arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
}

static arca_err push_cert(arca_sig *s, const char *b64text, const char *what)
{
	unsigned char **chain = realloc(s->chain, (s->n_chain + 1) * sizeof(*chain));
	size_t *lens = realloc(s->chain_len, (s->n_chain + 1) * sizeof(*lens));
	if (chain)
		s->chain = chain;
	if (lens)
		s->chain_len = lens;
	if (!chain || !lens)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	arca_err err = decode_field(&s->chain[s->n_chain], &s->chain_len[s->n_chain], b64text,
		what, "a certificate");
	if (err == ARCA_OK)
		s->n_chain++;
	return err;
}

/* The leaf's subject, e-mail or URI identity, and Sigstore's OIDC issuer extension. */
static void describe_leaf(arca_sig *s)
{
	const unsigned char *p = s->chain[0];
	X509 *leaf = d2i_X509(NULL, &p, (long)s->chain_len[0]);
	if (!leaf)
		return;
	char buf[512];
	X509_NAME_oneline(X509_get_subject_name(leaf), buf, sizeof(buf));
	free(s->signer);
	s->signer = strdup(buf);
	GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && !s->identity; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type == GEN_EMAIL || g->type == GEN_URI) {
			ASN1_IA5STRING *v = g->type == GEN_EMAIL ? g->d.rfc822Name :
				g->d.uniformResourceIdentifier;
			s->identity = strndup((const char *)ASN1_STRING_get0_data(v),
				(size_t)ASN1_STRING_length(v));
		}
	}
	GENERAL_NAMES_free(names);
	/* 1.3.6.1.4.1.57264.1.8 (the issuer, DER UTF8String) or .1.1 (legacy: raw text) */
	static const char *const oids[] = { "1.3.6.1.4.1.57264.1.8", "1.3.6.1.4.1.57264.1.1" };
	for (size_t k = 0; k < 2 && !s->issuer; k++) {
		ASN1_OBJECT *obj = OBJ_txt2obj(oids[k], 1);
		int at = obj ? X509_get_ext_by_OBJ(leaf, obj, -1) : -1;
		ASN1_OBJECT_free(obj);
		if (at < 0)
			continue;
		ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(leaf, at));
		const unsigned char *d = ASN1_STRING_get0_data(v);
		long len = ASN1_STRING_length(v);
		if (k == 0) {
			ASN1_UTF8STRING *u = d2i_ASN1_UTF8STRING(NULL, &d, len);
			if (u)
				s->issuer = strndup((const char *)ASN1_STRING_get0_data(u),
					(size_t)ASN1_STRING_length(u));
			ASN1_UTF8STRING_free(u);
		} else {
			s->issuer = strndup((const char *)d, (size_t)len);
		}
	}
	X509_free(leaf);
}

/* ------------------------------------------------------------------ keyless: the log entry */

#define MAX_TLOG_ENTRIES 16
#define MAX_TIMESTAMPS 64

/* A protobuf JSON int64 that must not be negative: a JSON integer, or a string of decimal
 * digits (how protobuf writes int64). 0 when it is neither or does not fit. */
static int read_count(json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return *out >= 0;
	}
	const char *t = json_string_value(v);
	if (!t || !t[0] || strlen(t) > 19)
		return 0;
	int64_t n = 0;
	for (const char *c = t; *c; c++) {
		if (*c < '0' || *c > '9' || n > (INT64_MAX - (*c - '0')) / 10)
			return 0;
		n = n * 10 + (*c - '0');
	}
	*out = n;
	return 1;
}

static arca_err need_count(int64_t *out, json_t *obj, const char *key, const char *what,
	const char *field)
{
	if (!read_count(json_object_get(obj, key), out))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.%s is missing or not a non-negative "
			"int64 (a number or a string of digits)", what, field, key);
	return ARCA_OK;
}

/* The base64 string at obj.key, decoded; `exact` > 0 demands that many bytes. */
static arca_err need_bytes(unsigned char **out, size_t *len, json_t *obj, const char *key,
	size_t exact, const char *what, const char *field)
{
	const char *text = json_string_value(json_object_get(obj, key));
	char name[96];
	snprintf(name, sizeof(name), "%s.%s", field, key);
	if (!text || !text[0])
		return arca_error_set(ARCA_ECORRUPT, "%s: %s is missing or not a string", what, name);
	arca_err err = decode_field(out, len, text, what, name);
	if (err == ARCA_OK && exact && *len != exact) {
		free(*out);
		*out = NULL;
		return arca_error_set(ARCA_ECORRUPT, "%s: %s holds %zu bytes, not %zu", what, name,
			*len, exact);
	}
	return err;
}

static arca_err need_object(json_t **out, json_t *obj, const char *key, const char *what,
	const char *field)
{
	*out = json_object_get(obj, key);
	if (!json_is_object(*out))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.%s is missing or not an object", what,
			field, key);
	return ARCA_OK;
}

static arca_err copy_short(char *dst, size_t cap, json_t *obj, const char *key,
	const char *what, const char *field)
{
	const char *v = json_string_value(json_object_get(obj, key));
	if (!v || !v[0] || strlen(v) >= cap)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.%s is missing, not a string or longer "
			"than %zu bytes", what, field, key, cap - 1);
	memcpy(dst, v, strlen(v) + 1);
	return ARCA_OK;
}

/* inclusionProof: the audit path from this entry's leaf to a signed tree head. */
static arca_err parse_proof(arca_sig_tlog *t, json_t *proof, const char *what)
{
	static const char field[] = "tlogEntries[0].inclusionProof";
	json_t *hashes = json_object_get(proof, "hashes");
	json_t *checkpoint = json_object_get(proof, "checkpoint");
	unsigned char *root = NULL;
	size_t len;
	arca_err err;
	if ((err = need_count(&t->proof_index, proof, "logIndex", what, field)) < 0 ||
	    (err = need_count(&t->tree_size, proof, "treeSize", what, field)) < 0 ||
	    (err = need_bytes(&root, &len, proof, "rootHash", 32, what, field)) < 0)
		return err;
	memcpy(t->root_hash, root, 32);
	free(root);
	if (!json_is_array(hashes) || json_array_size(hashes) > ARCA_SIG_TLOG_MAX_HASHES)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.hashes is missing or not a list of at "
			"most %d hashes", what, field, ARCA_SIG_TLOG_MAX_HASHES);
	if (!(t->hashes = calloc(json_array_size(hashes) + 1, sizeof(*t->hashes))))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	size_t i;
	json_t *h;
	json_array_foreach(hashes, i, h) {
		unsigned char *raw;
		char name[96];
		snprintf(name, sizeof(name), "%s.hashes[%zu]", field, i);
		if (!json_is_string(h))
			return arca_error_set(ARCA_ECORRUPT, "%s: %s is not a string", what, name);
		if ((err = decode_field(&raw, &len, json_string_value(h), what, name)) < 0)
			return err;
		if (len == 32)
			memcpy(t->hashes[i], raw, 32);
		free(raw);
		if (len != 32)
			return arca_error_set(ARCA_ECORRUPT, "%s: %s holds %zu bytes, not 32", what, name,
				len);
		t->n_hashes++;
	}
	if (checkpoint) {
		const char *env = json_string_value(json_object_get(checkpoint, "envelope"));
		if (!json_is_object(checkpoint) || !env)
			return arca_error_set(ARCA_ECORRUPT, "%s: %s.checkpoint has no envelope string",
				what, field);
		if (!(t->checkpoint = strdup(env)))
			return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	}
	t->has_proof = 1;
	return ARCA_OK;
}

/* tlogEntries[0], field by field; nothing here is trusted until sig_keyless.c checks it. */
static arca_err parse_tlog_entry(arca_sig_tlog *t, json_t *e, const char *what)
{
	static const char field[] = "tlogEntries[0]";
	json_t *log_id, *kind, *promise = json_object_get(e, "inclusionPromise");
	json_t *proof = json_object_get(e, "inclusionProof");
	const char *body = json_string_value(json_object_get(e, "canonicalizedBody"));
	arca_err err;
	if (!json_is_object(e))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s is not an object", what, field);
	if ((err = need_count(&t->log_index, e, "logIndex", what, field)) < 0 ||
	    (err = need_object(&log_id, e, "logId", what, field)) < 0 ||
	    (err = need_bytes(&t->log_id, &t->log_id_len, log_id, "keyId", 0, what,
			"tlogEntries[0].logId")) < 0 ||
	    (err = need_object(&kind, e, "kindVersion", what, field)) < 0 ||
	    (err = copy_short(t->kind, sizeof(t->kind), kind, "kind", what,
			"tlogEntries[0].kindVersion")) < 0 ||
	    (err = copy_short(t->version, sizeof(t->version), kind, "version", what,
			"tlogEntries[0].kindVersion")) < 0 ||
	    (err = need_count(&t->integrated_time, e, "integratedTime", what, field)) < 0)
		return err;
	if (t->log_id_len > 64)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.logId.keyId holds %zu bytes (a key id is "
			"a hash)", what, field, t->log_id_len);
	if (promise && !json_is_object(promise))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.inclusionPromise is not an object", what,
			field);
	if (promise && (err = need_bytes(&t->set, &t->set_len, promise, "signedEntryTimestamp", 0,
			what, "tlogEntries[0].inclusionPromise")) < 0)
		return err;
	if (!body || !body[0])
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.canonicalizedBody is missing or not a "
			"string", what, field);
	if (!(t->body64 = strdup(body)))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	if ((err = decode_field(&t->body, &t->body_len, body, what,
			"tlogEntries[0].canonicalizedBody")) < 0)
		return err;
	if (proof && !json_is_object(proof))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s.inclusionProof is not an object", what,
			field);
	if (proof && (err = parse_proof(t, proof, what)) < 0)
		return err;
	t->present = 1;
	return ARCA_OK;
}

static arca_err parse_tlog_entries(arca_sig *s, json_t *vm, const char *what)
{
	json_t *entries = json_object_get(vm, "tlogEntries");
	if (!entries)
		return ARCA_OK;
	if (!json_is_array(entries) || json_array_size(entries) > MAX_TLOG_ENTRIES)
		return arca_error_set(ARCA_ECORRUPT, "%s: tlogEntries is not a list of at most %d "
			"entries", what, MAX_TLOG_ENTRIES);
	s->n_tlog_entries = json_array_size(entries);
	return s->n_tlog_entries ? parse_tlog_entry(&s->tlog, json_array_get(entries, 0), what) :
		ARCA_OK;
}

/* timestampVerificationData.rfc3161Timestamps: counted (arca does not read them). */
static arca_err count_timestamps(arca_sig *s, json_t *vm, const char *what)
{
	json_t *tvd = json_object_get(vm, "timestampVerificationData");
	json_t *list = json_object_get(tvd, "rfc3161Timestamps");
	if (tvd && !json_is_object(tvd))
		return arca_error_set(ARCA_ECORRUPT, "%s: timestampVerificationData is not an object",
			what);
	if (!list)
		return ARCA_OK;
	if (!json_is_array(list) || json_array_size(list) > MAX_TIMESTAMPS)
		return arca_error_set(ARCA_ECORRUPT, "%s: timestampVerificationData.rfc3161Timestamps "
			"is not a list of at most %d timestamps", what, MAX_TIMESTAMPS);
	size_t i;
	json_t *ts;
	json_array_foreach(list, i, ts)
		if (!json_is_string(json_object_get(ts, "signedTimestamp")))
			return arca_error_set(ARCA_ECORRUPT, "%s: rfc3161Timestamps[%zu].signedTimestamp "
				"is missing or not a string", what, i);
	s->n_rfc3161 = json_array_size(list);
	return ARCA_OK;
}

static void tlog_dispose(arca_sig_tlog *t)
{
	free(t->log_id);
	free(t->set);
	free(t->body64);
	free(t->body);
	free(t->hashes);
	free(t->checkpoint);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------------ verification material */

static arca_err parse_material(arca_sig *s, json_t *vm, const char *what)
{
	arca_err err = ARCA_OK;
	json_t *pk = json_object_get(vm, "publicKey");
	json_t *chain = json_object_get(vm, "x509CertificateChain");
	json_t *cert = json_object_get(vm, "certificate");
	if (!json_is_object(vm))
		return arca_error_set(ARCA_ECORRUPT, "%s: verificationMaterial is missing", what);
	if (json_is_object(pk)) {
		s->mode = ARCA_SIG_KEY;
		json_t *hint = json_object_get(pk, "hint");
		if (hint && !json_is_string(hint))
			return arca_error_set(ARCA_ECORRUPT, "%s: publicKey.hint is not a string", what);
		const char *h = json_string_value(hint);
		if (h && h[0] && !is_hex64(h))
			return arca_error_set(ARCA_ECORRUPT, "%s: publicKey.hint is not a hex SHA-256", what);
		snprintf(s->hint, sizeof(s->hint), "%s", h ? h : "");
		return ARCA_OK;
	}
	if (json_is_object(chain)) {
		s->mode = ARCA_SIG_CERTIFICATE;
		json_t *certs = json_object_get(chain, "certificates");
		if (!json_is_array(certs) || !json_array_size(certs) || json_array_size(certs) > 16)
			return arca_error_set(ARCA_ECORRUPT, "%s: x509CertificateChain.certificates must "
				"hold 1 to 16 certificates", what);
		size_t i;
		json_t *c;
		json_array_foreach(certs, i, c) {
			const char *raw = need_string(c, "rawBytes", what, &err);
			if (err == ARCA_OK)
				err = push_cert(s, raw, what);
			if (err < 0)
				return err;
		}
	} else if (json_is_object(cert)) {
		s->mode = ARCA_SIG_KEYLESS;
		const char *raw = need_string(cert, "rawBytes", what, &err);
		if (err == ARCA_OK)
			err = push_cert(s, raw, what);
		if (err < 0 || (err = parse_tlog_entries(s, vm, what)) < 0 ||
		    (err = count_timestamps(s, vm, what)) < 0)
			return err;
		s->integrated_time = s->tlog.integrated_time;
	} else {
		return arca_error_set(ARCA_ECORRUPT, "%s: verificationMaterial holds no public key, "
			"certificate chain or certificate", what);
	}
	describe_leaf(s);
	if (!s->signer)
		return arca_error_set(ARCA_ECORRUPT, "%s: the signing certificate is not DER X.509",
			what);
	return ARCA_OK;
}

static arca_err parse_resources(arca_sig *s, json_t *list, const char *what)
{
	if (!json_is_array(list) || json_array_size(list) > MAX_RESOURCES)
		return arca_error_set(ARCA_ECORRUPT, "%s: predicate.resources is not a list (of at "
			"most %d files)", what, MAX_RESOURCES);
	s->files = calloc(json_array_size(list) + 1, sizeof(*s->files));
	if (!s->files)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	size_t i;
	json_t *r;
	arca_err err = ARCA_OK;
	json_array_foreach(list, i, r) {
		const char *name = need_string(r, "name", what, &err);
		const char *alg = need_string(r, "algorithm", what, &err);
		const char *digest = need_string(r, "digest", what, &err);
		if (err < 0)
			return err;
		if (strcmp(alg, "sha256") != 0)
			return arca_error_set(ARCA_EUNSUPPORTED, "%s: %s is hashed with %s; arca checks "
				"sha256 signatures (files mode)", what, name, alg);
		if (!is_hex64(digest))
			return arca_error_set(ARCA_ECORRUPT, "%s: %s: digest is not 64 hex digits", what,
				name);
		if (arca_path_check_relative(name, strlen(name)) < 0)
			return arca_error_prefix(ARCA_ECORRUPT, "%s: a resource name is unsafe", what);
		for (size_t k = 0; k < s->n_files; k++)
			if (!strcmp(s->files[k].name, name))
				return arca_error_set(ARCA_ECORRUPT, "%s: %s is listed twice", what, name);
		if (!(s->files[s->n_files].name = strdup(name)))
			return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
		memcpy(s->files[s->n_files].sha256, digest, ARCA_SHA256_HEX);
		s->n_files++;
	}
	return ARCA_OK;
}

static arca_err add_ignore(arca_sig *s, const char *path)
{
	for (size_t i = 0; i < s->n_ignore; i++)
		if (!strcmp(s->ignore_paths[i], path))
			return ARCA_OK;
	char **grown = realloc(s->ignore_paths, (s->n_ignore + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "signature: out of memory");
	s->ignore_paths = grown;
	if (!(grown[s->n_ignore] = strdup(path)))
		return arca_error_set(ARCA_ENOMEM, "signature: out of memory");
	s->n_ignore++;
	return ARCA_OK;
}

static arca_err parse_statement(arca_sig *s, const char *what)
{
	json_error_t jerr;
	json_t *st = json_loadb((const char *)s->payload, s->payload_len, JSON_REJECT_DUPLICATES,
		&jerr);
	arca_err err = ARCA_OK;
	if (!json_is_object(st)) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: the signed payload is not a JSON object (%s)",
			what, st ? "another JSON value" : jerr.text);
		goto cleanup;
	}
	const char *type = need_string(st, "_type", what, &err);
	const char *ptype = need_string(st, "predicateType", what, &err);
	if (err < 0)
		goto cleanup;
	if (strcmp(type, STATEMENT_TYPE) != 0) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: the payload is a %s, not an in-toto Statement "
			"v1", what, type);
		goto cleanup;
	}
	if (strcmp(ptype, PREDICATE_TYPE) != 0) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "%s: predicate type %s%s; arca checks %s", what,
			ptype, !strcmp(ptype, LEGACY_PREDICATE) ? " (model_signing 0.2, no root digest)" :
			"", PREDICATE_TYPE);
		goto cleanup;
	}
	json_t *subjects = json_object_get(st, "subject");
	json_t *subject = json_array_get(subjects, 0);
	const char *root = json_string_value(json_object_get(json_object_get(subject, "digest"),
		"sha256"));
	if (!json_is_array(subjects) || json_array_size(subjects) != 1 || !is_hex64(root)) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: the statement must have exactly one subject "
			"with a sha256 digest", what);
		goto cleanup;
	}
	memcpy(s->root, root, ARCA_SHA256_HEX);
	const char *name = json_string_value(json_object_get(subject, "name"));
	if (!(s->subject = strdup(name ? name : ""))) {
		err = arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
		goto cleanup;
	}
	json_t *pred = json_object_get(st, "predicate");
	json_t *ser = json_object_get(pred, "serialization");
	const char *method = json_string_value(json_object_get(ser, "method"));
	const char *hash = json_string_value(json_object_get(ser, "hash_type"));
	if (!json_is_object(ser) || !method || !hash) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: predicate.serialization needs a method and a "
			"hash_type", what);
		goto cleanup;
	}
	if (strcmp(method, "files") != 0 || strcmp(hash, "sha256") != 0) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "%s: serialized as %s with %s; arca checks "
			"files with sha256 (what the reference CLI writes)", what, method, hash);
		goto cleanup;
	}
	s->allow_symlinks = json_is_true(json_object_get(ser, "allow_symlinks"));
	for (size_t i = 0; err == ARCA_OK && i < N_DEFAULT_IGNORES; i++)
		err = add_ignore(s, default_ignores[i]);
	size_t i;
	json_t *ig;
	json_array_foreach(json_object_get(ser, "ignore_paths"), i, ig)
		if (err == ARCA_OK && json_is_string(ig))
			err = add_ignore(s, json_string_value(ig));
	if (err < 0 || (err = parse_resources(s, json_object_get(pred, "resources"), what)) < 0)
		goto cleanup;
	char computed[ARCA_SHA256_HEX];
	if ((err = arca_sign_root_digest(computed, s->files, s->n_files)) == ARCA_OK &&
	    strcmp(computed, s->root) != 0)
		err = arca_error_set(ARCA_EMISMATCH, "%s: the statement's subject digest %.16s… is not "
			"the root digest of its resources (%.16s…): the resource list was altered", what,
			s->root, computed);
cleanup:
	json_decref(st);
	return err;
}

arca_err arca_sig_parse(arca_sig *out, const void *data, size_t len, const char *what)
{
	memset(out, 0, sizeof(*out));
	if (len > ARCA_SIG_MAX)
		return arca_error_set(ARCA_ECORRUPT, "%s: %zu bytes, more than a signature may be (%u "
			"MiB)", what, len, ARCA_SIG_MAX >> 20);
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	arca_err err = ARCA_OK;
	if (!json_is_object(root)) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: not a JSON object (%s at line %d)", what,
			root ? "another JSON value" : jerr.text, jerr.line);
		goto done;
	}
	const char *media = need_string(root, "mediaType", what, &err);
	if (err < 0)
		goto done;
	if (strcmp(media, MEDIA_TYPE) != 0 && strcmp(media, MEDIA_TYPE_ALT) != 0) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: media type %s, not a Sigstore bundle v0.3",
			what, media);
		goto done;
	}
	json_t *env = json_object_get(root, "dsseEnvelope");
	if (!json_is_object(env)) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: no dsseEnvelope (a message signature is not "
			"a model signature)", what);
		goto done;
	}
	const char *ptype = need_string(env, "payloadType", what, &err);
	const char *payload = need_string(env, "payload", what, &err);
	json_t *sigs = json_object_get(env, "signatures");
	const char *sig = json_string_value(json_object_get(json_array_get(sigs, 0), "sig"));
	if (err < 0)
		goto done;
	if (strcmp(ptype, ARCA_SIG_PAYLOAD_TYPE) != 0) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: payloadType %s, not %s", what, ptype,
			ARCA_SIG_PAYLOAD_TYPE);
		goto done;
	}
	if (!json_is_array(sigs) || !sig || !sig[0]) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: the envelope has no signature", what);
		goto done;
	}
	if ((err = decode_field(&out->payload, &out->payload_len, payload, what, "the payload")) < 0 ||
	    (err = decode_field(&out->sig, &out->sig_len, sig, what, "the signature")) < 0 ||
	    (err = parse_material(out, json_object_get(root, "verificationMaterial"), what)) < 0)
		goto done;
	err = parse_statement(out, what);
done:
	json_decref(root);
	if (err < 0)
		arca_sig_dispose(out);
	return err;
}

void arca_sig_dispose(arca_sig *sig)
{
	for (size_t i = 0; sig->files && i < sig->n_files; i++)
		free((char *)sig->files[i].name);
	free(sig->files);
	for (size_t i = 0; i < sig->n_ignore; i++)
		free(sig->ignore_paths[i]);
	free(sig->ignore_paths);
	for (size_t i = 0; i < sig->n_chain; i++)
		free(sig->chain[i]);
	free(sig->chain);
	free(sig->chain_len);
	free(sig->subject);
	free(sig->signer);
	free(sig->identity);
	free(sig->issuer);
	free(sig->payload);
	free(sig->sig);
	tlog_dispose(&sig->tlog);
	memset(sig, 0, sizeof(*sig));
}

int arca_sign_path_ignored(const char *path, const char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(paths[i]);
		if (len && !strncmp(path, paths[i], len) && (path[len] == '\0' || path[len] == '/'))
			return 1;
	}
	return 0;
}

const char *const *arca_sign_default_ignores(size_t *n)
{
	*n = N_DEFAULT_IGNORES;
	return default_ignores;
}

int arca_sig_ignores(const arca_sig *sig, const char *path)
{
	return arca_sign_path_ignored(path, (const char *const *)sig->ignore_paths, sig->n_ignore);
}
