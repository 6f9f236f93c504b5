/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/verify/test_sign.c — model signatures (arca/sign.h) against the reference tool's
 * v1.1.0 vectors (tests/data/model-signing: key, certificate and keyless bundles made by
 * model_signing), arca's own signatures round-tripped, and a table of bad input: malformed
 * bundles, wrong types, altered statements, files that differ, keys nobody trusts or of
 * types model signing does not use, and a bundle too large to read. Keyless checks run
 * against a synthetic Sigstore instance (keyless-test-instance/) and its altered copies.
 */
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arca/sign.h"
#include "support.h"
#include "verify/sig_internal.h"

#define DATA ARCA_TEST_DATA "/model-signing"
/* made by tests/fixtures/make_keyless.py: a Sigstore instance whose trusted root we hold */
#define KEYLESS DATA "/keyless-test-instance"
#define KEYLESS_IDENTITY "keyless-test@arca.invalid"
#define KEYLESS_ISSUER "https://oidc.arca.invalid"
#define PUBLIC_REKOR_LOG "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static arca_key *public_key(const char *rel)
{
	size_t len;
	char *pem = slurp(rel, &len);
	arca_key *k;
	assert_int_equal(arca_key_from_public_pem(&k, pem, len, rel), ARCA_OK);
	free(pem);
	return k;
}

static void parse_file(arca_sig *sig, const char *path)
{
	size_t len;
	char *text = slurp(path, &len);
	arca_err err = arca_sig_parse(sig, text, len, path);
	if (err < 0)
		fail_msg("%s: %s", path, arca_error_last());
	free(text);
}

/* The fixture folder's files as sign files (sha256 by sha256sum, an independent tool). */
static size_t folder_files(arca_sign_file *out, const char *dir)
{
	static const char *const names[] = { "ignore-me", "signme-1", "signme-2" };
	for (size_t i = 0; i < 3; i++) {
		char *line = t_shell_line("sha256sum '%s/%s' | cut -d' ' -f1", dir, names[i]);
		out[i].name = names[i];
		snprintf(out[i].sha256, sizeof(out[i].sha256), "%s", line);
		free(line);
	}
	return 3;
}

/* ------------------------------------------------------------------ reference vectors */

static void test_reference_key(void **state)
{
	(void)state;
	arca_sig sig;
	parse_file(&sig, DATA "/elliptic-key/model.sig");
	assert_int_equal(sig.mode, ARCA_SIG_KEY);
	assert_string_equal(sig.hint,
		"e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e");
	assert_string_equal(sig.root,
		"92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4");
	assert_int_equal(sig.n_files, 2);
	/* the upstream key file has a text dump before its PEM block */
	arca_key *k = public_key(DATA "/keys/signing-key-pub.pem");
	assert_string_equal(arca_key_curve(k), "P-384");
	char hint[ARCA_SHA256_HEX];
	assert_int_equal(arca_key_hint(k, hint), ARCA_OK);
	assert_string_equal(hint, sig.hint);
	assert_int_equal(arca_sig_check_key(&sig, k), ARCA_OK);
	arca_sign_file files[3];
	size_t n = folder_files(files, DATA "/elliptic-key");
	assert_int_equal(arca_sig_check_files(&sig, files, n), ARCA_OK);
	assert_true(arca_sig_ignores(&sig, "ignore-me"));
	/* one changed byte in a file, one file gone, one file more */
	files[1].sha256[0] = files[1].sha256[0] == 'a' ? 'b' : 'a';
	assert_int_equal(arca_sig_check_files(&sig, files, n), ARCA_EMISMATCH);
	assert_error_mentions("changed: signme-1");
	files[1].sha256[0] = files[1].sha256[0] == 'a' ? 'b' : 'a';
	assert_int_equal(arca_sig_check_files(&sig, files, 2), ARCA_EMISMATCH);
	assert_error_mentions("missing: signme-2");
	arca_sign_file more[4];
	memcpy(more, files, sizeof(files));
	more[3].name = "new-file";
	memcpy(more[3].sha256, files[1].sha256, sizeof(more[3].sha256));
	assert_int_equal(arca_sig_check_files(&sig, more, 4), ARCA_EMISMATCH);
	assert_error_mentions("not signed: new-file");
	arca_key_free(k);
	arca_sig_dispose(&sig);
}

static void test_reference_certificate(void **state)
{
	(void)state;
	arca_sig sig;
	parse_file(&sig, DATA "/certificate/model.sig");
	assert_int_equal(sig.mode, ARCA_SIG_CERTIFICATE);
	assert_true(sig.n_chain >= 2);
	char *ca = slurp(DATA "/keys/ca-cert.pem", NULL);
	const char *roots[] = { ca };
	assert_int_equal(arca_sig_check_chain(&sig, roots, 1), ARCA_OK);
	arca_sign_file files[3];
	assert_int_equal(arca_sig_check_files(&sig, files, folder_files(files,
		DATA "/certificate")), ARCA_OK);
	/* no roots, or a root that is not its issuer: not trusted */
	assert_int_equal(arca_sig_check_chain(&sig, roots, 0), ARCA_EMISMATCH);
	assert_error_mentions("no trusted root");
	char *other = t_shell_line("cd '%s' && openssl req -x509 -newkey ec -pkeyopt "
		"ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=other -days 1 2>/dev/null "
		"| tr '\\n' '|'", ARCA_TEST_DATA);
	for (char *c = other; *c; c++)
		*c = *c == '|' ? '\n' : *c;
	const char *wrong[] = { other };
	assert_int_equal(arca_sig_check_chain(&sig, wrong, 1), ARCA_EMISMATCH);
	assert_error_mentions("does not chain to a trusted root");
	/* a certificate bundle is not a key signature */
	arca_key *k = public_key(DATA "/keys/signing-key-pub.pem");
	assert_int_equal(arca_sig_check_key(&sig, k), ARCA_EMISMATCH);
	arca_key_free(k);
	free(other);
	free(ca);
	arca_sig_dispose(&sig);
}

static void test_reference_keyless(void **state)
{
	(void)state;
	arca_sig sig;
	parse_file(&sig, DATA "/sigstore/model.sig");
	assert_int_equal(sig.mode, ARCA_SIG_KEYLESS);
	assert_non_null(sig.identity);
	assert_string_equal(sig.identity, "stefanb@us.ibm.com");
	assert_non_null(sig.issuer);
	assert_string_equal(sig.issuer, "https://sigstore.verify.ibm.com/oauth2");
	assert_true(sig.integrated_time > 1700000000);
	arca_sign_file files[3];
	assert_int_equal(arca_sig_check_files(&sig, files, folder_files(files, DATA "/sigstore")),
		ARCA_OK);
	arca_sig_dispose(&sig);
}

/* ------------------------------------------------------------------ keyless, offline */

/* A keyless bundle (as text) checked against trusted root files, by path. */
static arca_err check_keyless_text(const char *text, const char *const *root_paths,
	size_t n_roots, const arca_sig_policy *policy, arca_sig_report *report)
{
	char *roots[4];
	size_t lens[4];
	assert_true(n_roots <= 4);
	for (size_t i = 0; i < n_roots; i++)
		roots[i] = slurp(root_paths[i], &lens[i]);
	arca_sig sig;
	arca_err err = arca_sig_parse(&sig, text, strlen(text), "keyless");
	if (err < 0)
		fail_msg("parse: %s", arca_error_last());
	err = arca_sig_check_keyless(&sig, (const char *const *)roots, lens, n_roots, policy,
		report);
	arca_sig_dispose(&sig);
	for (size_t i = 0; i < n_roots; i++)
		free(roots[i]);
	return err;
}

static arca_err check_keyless_file(const char *path, const char *root_path,
	const arca_sig_policy *policy, arca_sig_report *report)
{
	char *text = slurp(path, NULL);
	arca_err err = check_keyless_text(text, &root_path, root_path ? 1 : 0, policy, report);
	free(text);
	return err;
}

static const arca_sig_policy keyless_policy = { KEYLESS_IDENTITY, KEYLESS_ISSUER };

static void test_keyless_synthetic(void **state)
{
	(void)state;
	arca_sig sig;
	parse_file(&sig, KEYLESS "/model.sig");
	assert_int_equal(sig.mode, ARCA_SIG_KEYLESS);
	assert_string_equal(sig.identity, KEYLESS_IDENTITY);
	assert_string_equal(sig.issuer, KEYLESS_ISSUER);
	assert_true(sig.tlog.present);
	assert_int_equal(sig.tlog.log_index, 1000005);
	assert_int_equal(sig.tlog.proof_index, 5);
	assert_int_equal(sig.tlog.tree_size, 7);
	assert_int_equal(sig.tlog.n_hashes, 3);
	assert_int_equal(sig.tlog.log_id_len, 32);
	assert_string_equal(sig.tlog.kind, "dsse");
	assert_int_equal(sig.integrated_time, 1760000030);
	assert_non_null(sig.tlog.checkpoint);
	assert_int_equal(sig.n_rfc3161, 0);
	/* the statement covers the elliptic-key folder's files */
	arca_sign_file files[3];
	assert_int_equal(arca_sig_check_files(&sig, files, folder_files(files,
		DATA "/elliptic-key")), ARCA_OK);
	arca_sig_dispose(&sig);

	arca_sig_report r;
	arca_err err = check_keyless_file(KEYLESS "/model.sig", KEYLESS "/trusted_root.json",
		&keyless_policy, &r);
	if (err < 0)
		fail_msg("%s", arca_error_last());
	static const char *const checked[] = { "SET by log", "integrated 2025-10-09T08:53:50Z",
		"inclusion proof: leaf 5 of 7", "checkpoint \"rekor.arca.invalid - 4242\" signed",
		"payloadHash, signature, certificate", "envelopeHash matches",
		"certificate valid at that time",
		"chain to Fulcio CA https://fulcio.arca.invalid", "codeSigning EKU",
		"identity " KEYLESS_IDENTITY, "issuer " KEYLESS_ISSUER, "DSSE signature (ECDSA P-256)" };
	for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++)
		if (!strstr(r.checked, checked[i]))
			fail_msg("checked '%s' lacks '%s'", r.checked, checked[i]);
	assert_non_null(strstr(r.unchecked, "SCT (certificate transparency) not checked"));
	assert_non_null(strstr(r.unchecked, "not against the live log (offline)"));
	assert_null(strstr(r.unchecked, "identity not required"));
	/* no policy: still valid, and the report says what was not required */
	assert_int_equal(check_keyless_file(KEYLESS "/model.sig", KEYLESS "/trusted_root.json",
		NULL, &r), ARCA_OK);
	assert_non_null(strstr(r.unchecked, "identity not required (signed by " KEYLESS_IDENTITY));
	assert_non_null(strstr(r.unchecked, "issuer not required"));
}

static void test_keyless_policy(void **state)
{
	(void)state;
	arca_sig_policy only_identity = { KEYLESS_IDENTITY, NULL };
	assert_int_equal(check_keyless_file(KEYLESS "/model.sig", KEYLESS "/trusted_root.json",
		&only_identity, NULL), ARCA_OK);
	arca_sig_policy wrong_identity = { "someone-else@arca.invalid", KEYLESS_ISSUER };
	assert_int_equal(check_keyless_file(KEYLESS "/model.sig", KEYLESS "/trusted_root.json",
		&wrong_identity, NULL), ARCA_EMISMATCH);
	assert_error_mentions("not by someone-else@arca.invalid");
	/* a prefix of the identity is not the identity */
	arca_sig_policy prefix = { "keyless-test@arca", NULL };
	assert_int_equal(check_keyless_file(KEYLESS "/model.sig", KEYLESS "/trusted_root.json",
		&prefix, NULL), ARCA_EMISMATCH);
	arca_sig_policy wrong_issuer = { KEYLESS_IDENTITY, "https://accounts.google.com" };
	arca_sig_report r;
	assert_int_equal(check_keyless_file(KEYLESS "/model.sig", KEYLESS "/trusted_root.json",
		&wrong_issuer, &r), ARCA_EMISMATCH);
	assert_error_mentions("not by https://accounts.google.com (the required issuer)");
	/* the report holds what held before the failure */
	assert_non_null(strstr(r.checked, "codeSigning EKU"));
	assert_null(strstr(r.checked, "DSSE signature"));
}

/* The bundle's first tlog entry, inside a parsed model.sig. */
static json_t *entry_of(json_t *bundle)
{
	return json_array_get(json_object_get(json_object_get(bundle, "verificationMaterial"),
		"tlogEntries"), 0);
}

/* Replaces the base64 string obj[key] by itself with `edit` applied to its decoded bytes. */
static void edit_base64(json_t *obj, const char *key, void (*edit)(unsigned char *, size_t))
{
	size_t n;
	int bad;
	unsigned char *raw = arca_sig__unbase64(json_string_value(json_object_get(obj, key)), &n,
		&bad);
	assert_non_null(raw);
	edit(raw, n);
	char *text = arca_sig__base64(raw, n);
	json_object_set_new(obj, key, json_string(text));
	free(text);
	free(raw);
}

static void flip_last(unsigned char *raw, size_t n)
{
	raw[n - 1] ^= 0x01;
}

/* The payloadHash value's first hex digit, changed. */
static void edit_payload_hash(unsigned char *raw, size_t n)
{
	unsigned char *v = memmem(raw, n, "\"payloadHash\":{\"algorithm\":\"sha256\",\"value\":\"",
		45);
	assert_non_null(v);
	v[45] = v[45] == '0' ? '1' : '0';
}

static void tamper_set(json_t *b)
{
	edit_base64(json_object_get(entry_of(b), "inclusionPromise"), "signedEntryTimestamp",
		flip_last);
}

static void tamper_body(json_t *b)
{
	edit_base64(entry_of(b), "canonicalizedBody", edit_payload_hash);
}

static void tamper_root_hash(json_t *b)
{
	edit_base64(json_object_get(entry_of(b), "inclusionProof"), "rootHash", flip_last);
}

static void tamper_path(json_t *b)
{
	json_t *hashes = json_object_get(json_object_get(entry_of(b), "inclusionProof"), "hashes");
	size_t n;
	int bad;
	unsigned char *raw = arca_sig__unbase64(json_string_value(json_array_get(hashes, 1)), &n,
		&bad);
	raw[0] ^= 0x80;
	char *text = arca_sig__base64(raw, n);
	json_array_set_new(hashes, 1, json_string(text));
	free(text);
	free(raw);
}

static void tamper_checkpoint(json_t *b)
{
	json_t *cp = json_object_get(json_object_get(entry_of(b), "inclusionProof"), "checkpoint");
	char *text = strdup(json_string_value(json_object_get(cp, "envelope")));
	char *origin = strstr(text, "4242");
	origin[3] = '3';
	json_object_set_new(cp, "envelope", json_string(text));
	free(text);
}

static void tamper_time(json_t *b)
{
	json_object_set_new(entry_of(b), "integratedTime", json_string("1760000031"));
}

static void tamper_index(json_t *b)
{
	json_object_set_new(entry_of(b), "logIndex", json_integer(1000004));
}

static void drop_promise(json_t *b)
{
	json_object_del(entry_of(b), "inclusionPromise");
}

static void other_kind(json_t *b)
{
	json_object_set_new(json_object_get(entry_of(b), "kindVersion"), "kind",
		json_string("hashedrekord"));
}

static void other_envelope_sig(json_t *b)
{
	json_t *sig = json_array_get(json_object_get(json_object_get(b, "dsseEnvelope"),
		"signatures"), 0);
	edit_base64(sig, "sig", flip_last);
}

static void drop_entries(json_t *b)
{
	json_array_clear(json_object_get(json_object_get(b, "verificationMaterial"),
		"tlogEntries"));
}

static char *mutated(const char *path, void (*mutate)(json_t *))
{
	json_error_t jerr;
	json_t *b = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(b);
	mutate(b);
	char *text = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	assert_non_null(text);
	return text;
}

static void test_keyless_tampered(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		void (*mutate)(json_t *);
		const char *mention;
	} cases[] = {
		{ "SET altered", tamper_set, "signed entry timestamp (SET) of entry 1000005 does not "
			"verify" },
		{ "body altered (payloadHash)", tamper_body, "(SET) of entry 1000005 does not verify" },
		{ "integratedTime altered", tamper_time, "(SET) of entry 1000005 does not verify" },
		{ "logIndex altered", tamper_index, "(SET) of entry 1000004 does not verify" },
		{ "no SET", drop_promise, "no signed entry timestamp" },
		{ "inclusion proof hash altered", tamper_path, "inclusion proof does not lead to its "
			"rootHash" },
		{ "rootHash altered", tamper_root_hash, "inclusion proof does not lead to its "
			"rootHash" },
		{ "checkpoint altered", tamper_checkpoint, "checkpoint's signature by log" },
		{ "another kind", other_kind, "of kind hashedrekord" },
		{ "envelope signature altered", other_envelope_sig, "none of its 1 signatures" },
		{ "no log entry", drop_entries, "no transparency-log entry" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = mutated(KEYLESS "/model.sig", cases[i].mutate);
		const char *root = KEYLESS "/trusted_root.json";
		arca_err err = check_keyless_text(text, &root, 1, &keyless_policy, NULL);
		if (err != ARCA_EMISMATCH)
			fail_msg("%s: got %d (%s)", cases[i].what, err, arca_error_last());
		if (!strstr(arca_error_last(), cases[i].mention))
			fail_msg("%s: '%s' does not mention '%s'", cases[i].what, arca_error_last(),
				cases[i].mention);
		free(text);
	}
	/* entries the log signed honestly, but that do not hold */
	assert_int_equal(check_keyless_file(KEYLESS "/logged-other-payload.sig",
		KEYLESS "/trusted_root.json", &keyless_policy, NULL), ARCA_EMISMATCH);
	assert_error_mentions("the log entry is not this envelope: its payloadHash");
	assert_int_equal(check_keyless_file(KEYLESS "/expired-leaf.sig",
		KEYLESS "/trusted_root.json", &keyless_policy, NULL), ARCA_EMISMATCH);
	assert_error_mentions("outside the signing certificate's validity");
	assert_int_equal(check_keyless_file(KEYLESS "/no-code-signing.sig",
		KEYLESS "/trusted_root.json", &keyless_policy, NULL), ARCA_EMISMATCH);
	assert_error_mentions("no codeSigning extended key usage");
	arca_sig_report r;
	assert_int_equal(check_keyless_file(KEYLESS "/bad-dsse-signature.sig",
		KEYLESS "/trusted_root.json", &keyless_policy, &r), ARCA_EMISMATCH);
	assert_error_mentions("the DSSE signature does not verify");
	assert_non_null(strstr(r.checked, "issuer " KEYLESS_ISSUER));
}

/* ----- RFC 6962 trees built here, recursively, against the verifier's iterative walk */

static void leaf_of(unsigned char out[32], const void *data, size_t len)
{
	unsigned char *buf = malloc(len + 1);
	buf[0] = 0x00;
	memcpy(buf + 1, data, len);
	EVP_Digest(buf, len + 1, out, NULL, EVP_sha256(), NULL);
	free(buf);
}

static size_t split_point(size_t n)
{
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

static void tree_hash(unsigned char out[32], unsigned char (*leaves)[32], size_t n)
{
	if (n == 1) {
		memcpy(out, leaves[0], 32);
		return;
	}
	size_t k = split_point(n);
	unsigned char node[65];
	node[0] = 0x01;
	tree_hash(node + 1, leaves, k);
	tree_hash(node + 33, leaves + k, n - k);
	EVP_Digest(node, sizeof(node), out, NULL, EVP_sha256(), NULL);
}

/* RFC 6962 PATH(m, D[n]), bottom up. */
static void tree_path(unsigned char (*out)[32], size_t *n_out, size_t m,
	unsigned char (*leaves)[32], size_t n)
{
	if (n == 1)
		return;
	size_t k = split_point(n);
	if (m < k) {
		tree_path(out, n_out, m, leaves, k);
		tree_hash(out[(*n_out)++], leaves + k, n - k);
	} else {
		tree_path(out, n_out, m - k, leaves + k, n - k);
		tree_hash(out[(*n_out)++], leaves, k);
	}
}

/* model.sig with its entry placed at `index` of a tree of `size` leaves (no checkpoint: it
 * would name another tree). */
static char *bundle_in_tree(size_t index, size_t size, int path_trim)
{
	json_error_t jerr;
	json_t *b = json_load_file(KEYLESS "/model.sig", JSON_REJECT_DUPLICATES, &jerr);
	json_t *proof = json_object_get(entry_of(b), "inclusionProof");
	size_t body_len;
	int bad;
	unsigned char *body = arca_sig__unbase64(json_string_value(json_object_get(entry_of(b),
		"canonicalizedBody")), &body_len, &bad);
	unsigned char (*leaves)[32] = calloc(size, 32), path[64][32], root[32];
	for (size_t i = 0; i < size; i++) {
		char other[32];
		snprintf(other, sizeof(other), "leaf %zu", i);
		if (i == index)
			leaf_of(leaves[i], body, body_len);
		else
			leaf_of(leaves[i], other, strlen(other));
	}
	size_t n = 0;
	tree_path(path, &n, index, leaves, size);
	tree_hash(root, leaves, size);
	json_t *hashes = json_array();
	for (size_t i = 0; i + (size_t)path_trim < n; i++) {
		char *h = arca_sig__base64(path[i], 32);
		json_array_append_new(hashes, json_string(h));
		free(h);
	}
	char *root64 = arca_sig__base64(root, 32), *text;
	json_object_set_new(proof, "hashes", hashes);
	json_object_set_new(proof, "rootHash", json_string(root64));
	json_object_set_new(proof, "logIndex", json_integer((json_int_t)index));
	json_object_set_new(proof, "treeSize", json_integer((json_int_t)size));
	json_object_del(proof, "checkpoint");
	text = json_dumps(b, JSON_COMPACT);
	free(root64);
	free(leaves);
	free(body);
	json_decref(b);
	return text;
}

static void test_keyless_merkle(void **state)
{
	(void)state;
	const char *root = KEYLESS "/trusted_root.json";
	for (size_t size = 1; size <= 17; size++)
		for (size_t index = 0; index < size; index++) {
			char *text = bundle_in_tree(index, size, 0);
			arca_sig_report r;
			if (check_keyless_text(text, &root, 1, &keyless_policy, &r) != ARCA_OK)
				fail_msg("leaf %zu of %zu: %s", index, size, arca_error_last());
			assert_non_null(strstr(r.unchecked, "not signed (no checkpoint)"));
			free(text);
			if (size > 1) {   /* one hash short: the path does not reach the root */
				text = bundle_in_tree(index, size, 1);
				assert_int_equal(check_keyless_text(text, &root, 1, &keyless_policy, NULL),
					ARCA_EMISMATCH);
				free(text);
			}
		}
	/* a path that reaches the root, but too short for the tree it claims */
	char *longer = bundle_in_tree(5, 7, 0);
	json_t *lb = json_loads(longer, 0, NULL);
	json_object_set_new(json_object_get(entry_of(lb), "inclusionProof"), "treeSize",
		json_integer(9));
	free(longer);
	longer = json_dumps(lb, JSON_COMPACT);
	assert_int_equal(check_keyless_text(longer, &root, 1, &keyless_policy, NULL),
		ARCA_EMISMATCH);
	assert_error_mentions("does not fit its tree: 3 hashes for leaf 5 of 9");
	json_decref(lb);
	free(longer);
	/* a leaf past the end of its tree */
	longer = bundle_in_tree(6, 7, 0);
	lb = json_loads(longer, 0, NULL);
	json_object_set_new(json_object_get(entry_of(lb), "inclusionProof"), "logIndex",
		json_integer(7));
	free(longer);
	longer = json_dumps(lb, JSON_COMPACT);
	assert_int_equal(check_keyless_text(longer, &root, 1, &keyless_policy, NULL),
		ARCA_EMISMATCH);
	assert_error_mentions("does not fit its tree");
	json_decref(lb);
	free(longer);
	/* the right path for another position of the leaf */
	char *text = bundle_in_tree(2, 7, 0);
	json_t *b = json_loads(text, 0, NULL);
	json_object_set_new(json_object_get(entry_of(b), "inclusionProof"), "logIndex",
		json_integer(3));
	free(text);
	text = json_dumps(b, JSON_COMPACT);
	assert_int_equal(check_keyless_text(text, &root, 1, &keyless_policy, NULL), ARCA_EMISMATCH);
	assert_error_mentions("inclusion proof does not lead to its rootHash");
	json_decref(b);
	free(text);
}

/* A trusted root built from the vendored one with one change. */
static char *root_with(const char *key, json_t *value)
{
	json_error_t jerr;
	json_t *t = json_load_file(KEYLESS "/trusted_root.json", JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(t);
	json_t *at = t;
	char path[128];
	snprintf(path, sizeof(path), "%s", key);
	/* a dotted path; numbers index lists */
	char *part = strtok(path, "."), *next;
	while ((next = strtok(NULL, "."))) {
		at = json_is_array(at) ? json_array_get(at, strtoul(part, NULL, 10)) :
			json_object_get(at, part);
		part = next;
	}
	if (json_is_array(at))
		json_array_set_new(at, strtoul(part, NULL, 10), value);
	else if (value)
		json_object_set_new(at, part, value);
	else
		json_object_del(at, part);
	char *text = json_dumps(t, JSON_COMPACT);
	json_decref(t);
	return text;
}

static void test_keyless_trust(void **state)
{
	(void)state;
	assert_int_equal(check_keyless_file(KEYLESS "/model.sig",
		KEYLESS "/trusted_root_other_log.json", &keyless_policy, NULL), ARCA_EMISMATCH);
	assert_error_mentions("no trusted Sigstore root knows log ");
	assert_int_equal(check_keyless_file(KEYLESS "/model.sig",
		KEYLESS "/trusted_root_other_ca.json", &keyless_policy, NULL), ARCA_EMISMATCH);
	assert_error_mentions("does not chain to a trusted Fulcio CA at 2025-10-09T08:53:50Z");
	assert_int_equal(check_keyless_file(KEYLESS "/model.sig", NULL, &keyless_policy, NULL),
		ARCA_EMISMATCH);
	assert_error_mentions("the trusted roots hold no logs");
	/* roots are pooled: the log from one, the CA from the other */
	const char *pooled[] = { KEYLESS "/trusted_root_other_ca.json",
		KEYLESS "/trusted_root_other_log.json" };
	char *text = slurp(KEYLESS "/model.sig", NULL);
	assert_int_equal(check_keyless_text(text, pooled, 2, &keyless_policy, NULL), ARCA_OK);
	free(text);
	/* a CA trusted only from later on */
	char *later = root_with("certificateAuthorities.0.validFor.start",
		json_string("2026-01-01T00:00:00Z"));
	size_t later_len = strlen(later);
	const char *later_roots[] = { later };
	arca_sig sig;
	parse_file(&sig, KEYLESS "/model.sig");
	assert_int_equal(arca_sig_check_keyless(&sig, later_roots, &later_len, 1, &keyless_policy,
		NULL), ARCA_EMISMATCH);
	assert_error_mentions("no trusted Fulcio CA was valid at 2025-10-09T08:53:50Z");
	arca_sig_dispose(&sig);
	free(later);
	/* a key-mode signature is not a keyless one */
	assert_int_equal(check_keyless_file(DATA "/elliptic-key/model.sig",
		KEYLESS "/trusted_root.json", NULL, NULL), ARCA_EMISMATCH);
	assert_error_mentions("not a Sigstore (keyless) certificate");
}

/* The upstream keyless vector: the public-good log's entry, whose trusted root arca does not
 * carry, so it stays parse-only. */
static void test_keyless_upstream(void **state)
{
	(void)state;
	arca_sig sig;
	parse_file(&sig, DATA "/sigstore/model.sig");
	assert_int_equal(sig.tlog.log_index, 598151086);
	assert_int_equal(sig.tlog.proof_index, 476246824);
	assert_int_equal(sig.tlog.tree_size, 476246825);
	assert_int_equal(sig.tlog.n_hashes, 14);
	assert_int_equal(sig.n_rfc3161, 1);
	assert_non_null(sig.tlog.set);
	assert_true(!strncmp(sig.tlog.checkpoint, "rekor.sigstore.dev - ", 21));
	arca_sig_dispose(&sig);
	arca_sig_report r;
	assert_int_equal(check_keyless_file(DATA "/sigstore/model.sig", KEYLESS "/trusted_root.json",
		NULL, &r), ARCA_EMISMATCH);
	assert_error_mentions("no trusted Sigstore root knows log " PUBLIC_REKOR_LOG);
	assert_non_null(strstr(r.unchecked, "1 RFC 3161 timestamp not checked"));
}

static void test_keyless_bad_trust_root(void **state)
{
	(void)state;
	struct {
		char *text;
		const char *mention;
	} cases[] = {
		{ strdup("{\"mediaType\":"), "trusted root 1: not a JSON object" },
		{ strdup("[]"), "not a JSON object" },
		{ root_with("mediaType", json_string("application/json")), "not a Sigstore trusted "
			"root" },
		{ root_with("tlogs", json_string("x")), "tlogs is not a list" },
		{ root_with("tlogs.0.publicKey.rawBytes", json_string("***")),
			"tlogs[0].publicKey.rawBytes is not standard base64" },
		{ root_with("tlogs.0.publicKey.rawBytes", json_string("AAAA")),
			"tlogs[0].publicKey.rawBytes is not a DER SubjectPublicKeyInfo" },
		{ root_with("tlogs.0.publicKey.keyDetails", json_integer(1)),
			"tlogs[0].publicKey.keyDetails is not a string" },
		{ root_with("tlogs.0.publicKey.validFor.start", json_string("2025-13-01T00:00:00Z")),
			"tlogs[0].publicKey.validFor.start is missing or not an RFC 3339 time" },
		{ root_with("tlogs.0.publicKey.validFor.start", json_string("2025-02-30T00:00:00Z")),
			"validFor.start" },
		{ root_with("tlogs.0.logId", NULL), "tlogs[0] needs a publicKey and a logId" },
		{ root_with("tlogs.0.baseUrl", json_true()), "tlogs[0].baseUrl is not a string" },
		{ root_with("certificateAuthorities.0.certChain.certificates", json_array()),
			"certificateAuthorities[0].certChain.certificates must hold 1 to" },
		{ root_with("certificateAuthorities.0.certChain.certificates.0.rawBytes",
			json_string("MAA=")), "certificates[0].rawBytes is not a DER X.509" },
		{ root_with("certificateAuthorities.0.validFor.end", json_string("2024-01-01T00:00:00Z")),
			"validFor ends before it starts" },
		{ root_with("ctlogs", json_integer(5)), "ctlogs is not a list" },
		{ root_with("timestampAuthorities", json_pack("[i]", 1)),
			"timestampAuthorities[0] is not an object" },
		{ strdup("{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\","
			"\"tlogs\":[],\"tlogs\":[]}"), "duplicate" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[] = "/tmp/arca-test-root-XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, cases[i].text, strlen(cases[i].text)),
			(ssize_t)strlen(cases[i].text));
		close(fd);
		arca_err err = check_keyless_file(KEYLESS "/model.sig", path, &keyless_policy, NULL);
		unlink(path);
		if (err != ARCA_ECORRUPT)
			fail_msg("case %zu: got %d (%s)", i, err, arca_error_last());
		if (!strstr(arca_error_last(), cases[i].mention))
			fail_msg("case %zu: '%s' does not mention '%s'", i, arca_error_last(),
				cases[i].mention);
		free(cases[i].text);
	}
	/* the newer media type spelling, and a root with an offset time, are accepted */
	char *ok = root_with("mediaType", json_string(
		"application/vnd.dev.sigstore.trustedroot.v0.1+json"));
	json_t *t = json_loads(ok, 0, NULL);
	free(ok);
	json_object_set_new(json_object_get(json_object_get(json_array_get(json_object_get(t,
		"tlogs"), 0), "publicKey"), "validFor"), "start",
		json_string("2025-10-09T10:53:50.5+02:00"));
	ok = json_dumps(t, JSON_COMPACT);
	json_decref(t);
	size_t len = strlen(ok);
	arca_sig sig;
	parse_file(&sig, KEYLESS "/model.sig");
	const char *roots[] = { ok };
	assert_int_equal(arca_sig_check_keyless(&sig, roots, &len, 1, &keyless_policy, NULL),
		ARCA_OK);
	/* one second later it starts after the entry was logged */
	char *late = strstr(ok, "10:53:50");
	assert_non_null(late);
	late[7] = '1';
	assert_int_equal(arca_sig_check_keyless(&sig, roots, &len, 1, &keyless_policy, NULL),
		ARCA_EMISMATCH);
	assert_error_mentions("its key was not valid at the entry's integratedTime");
	/* too large to be a trusted root */
	size_t big = (1u << 20) + 1;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	const char *hroots[] = { huge };
	assert_int_equal(arca_sig_check_keyless(&sig, hroots, &big, 1, NULL, NULL), ARCA_ECORRUPT);
	assert_error_mentions("more than a trusted root may be");
	free(huge);
	free(ok);
	arca_sig_dispose(&sig);
}

/* Bundles whose log entry is not typed as the format says: refused when read. */
static void set_entry(json_t *b, const char *key, json_t *value)
{
	json_object_set_new(entry_of(b), key, value);
}

static void bad_index_sign(json_t *b) { set_entry(b, "logIndex", json_string("-1")); }
static void bad_index_text(json_t *b) { set_entry(b, "logIndex", json_string("12a")); }
static void bad_index_big(json_t *b)
{
	set_entry(b, "logIndex", json_string("99999999999999999999"));
}
static void bad_time_real(json_t *b) { set_entry(b, "integratedTime", json_real(1.5)); }
static void bad_kind(json_t *b) { json_object_del(entry_of(b), "kindVersion"); }
static void bad_body(json_t *b) { set_entry(b, "canonicalizedBody", json_string("e30")); }
static void bad_log_id(json_t *b) { set_entry(b, "logId", json_string("abc")); }
static void bad_promise(json_t *b) { set_entry(b, "inclusionPromise", json_array()); }

static void bad_root_hash(json_t *b)
{
	json_object_set_new(json_object_get(entry_of(b), "inclusionProof"), "rootHash",
		json_string("AAAA"));
}

static void bad_hash_count(json_t *b)
{
	json_t *hashes = json_array();
	for (int i = 0; i < 65; i++)
		json_array_append_new(hashes, json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
	json_object_set_new(json_object_get(entry_of(b), "inclusionProof"), "hashes", hashes);
}

static void bad_hash_item(json_t *b)
{
	json_array_set_new(json_object_get(json_object_get(entry_of(b), "inclusionProof"),
		"hashes"), 0, json_integer(7));
}

static void bad_checkpoint(json_t *b)
{
	json_object_set_new(json_object_get(entry_of(b), "inclusionProof"), "checkpoint",
		json_string("x"));
}

static void bad_timestamps(json_t *b)
{
	json_object_set_new(json_object_get(json_object_get(b, "verificationMaterial"),
		"timestampVerificationData"), "rfc3161Timestamps", json_pack("[{s:i}]",
		"signedTimestamp", 1));
}

static void bad_entries(json_t *b)
{
	json_object_set_new(json_object_get(b, "verificationMaterial"), "tlogEntries",
		json_object());
}

static void test_keyless_bad_entry(void **state)
{
	(void)state;
	static const struct {
		void (*mutate)(json_t *);
		const char *mention;
	} cases[] = {
		{ bad_index_sign, "tlogEntries[0].logIndex is missing or not a non-negative int64" },
		{ bad_index_text, "tlogEntries[0].logIndex" },
		{ bad_index_big, "tlogEntries[0].logIndex" },
		{ bad_time_real, "tlogEntries[0].integratedTime" },
		{ bad_kind, "tlogEntries[0].kindVersion is missing or not an object" },
		{ bad_body, "tlogEntries[0].canonicalizedBody is not standard base64" },
		{ bad_log_id, "tlogEntries[0].logId is missing or not an object" },
		{ bad_promise, "tlogEntries[0].inclusionPromise is not an object" },
		{ bad_root_hash, "inclusionProof.rootHash holds 3 bytes, not 32" },
		{ bad_hash_count, "inclusionProof.hashes is missing or not a list of at most 64" },
		{ bad_hash_item, "inclusionProof.hashes[0] is not a string" },
		{ bad_checkpoint, "inclusionProof.checkpoint has no envelope string" },
		{ bad_timestamps, "rfc3161Timestamps[0].signedTimestamp" },
		{ bad_entries, "tlogEntries is not a list" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = mutated(KEYLESS "/model.sig", cases[i].mutate);
		arca_sig sig;
		arca_err err = arca_sig_parse(&sig, text, strlen(text), "bundle");
		if (err != ARCA_ECORRUPT)
			fail_msg("case %zu: got %d (%s)", i, err, arca_error_last());
		if (!strstr(arca_error_last(), cases[i].mention))
			fail_msg("case %zu: '%s' does not mention '%s'", i, arca_error_last(),
				cases[i].mention);
		free(text);
	}
}

/* ------------------------------------------------------------------ arca's own */

static void test_round_trip(void **state)
{
	(void)state;
	arca_key *k;
	assert_int_equal(arca_key_generate(&k), ARCA_OK);
	assert_string_equal(arca_key_curve(k), "P-256");
	arca_sign_file files[] = {
		{ "b.txt", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" },
		{ "a-b", "486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7" },
		{ "a/b", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	};
	char *bundle;
	assert_int_equal(arca_sign_bundle(&bundle, k, "tiny", files, 3, NULL, 0), ARCA_OK);
	/* sorted component by component: a/b before a-b */
	assert_string_equal(files[0].name, "a/b");
	assert_string_equal(files[1].name, "a-b");
	arca_sig sig;
	assert_int_equal(arca_sig_parse(&sig, bundle, strlen(bundle), "bundle"), ARCA_OK);
	assert_int_equal(arca_sig_check_key(&sig, k), ARCA_OK);
	assert_int_equal(arca_sig_check_files(&sig, files, 3), ARCA_OK);
	assert_string_equal(sig.subject, "tiny");
	/* another key: refused by its hint */
	arca_key *other;
	assert_int_equal(arca_key_generate(&other), ARCA_OK);
	assert_int_equal(arca_sig_check_key(&sig, other), ARCA_EMISMATCH);
	assert_error_mentions("another key");
	arca_sig_dispose(&sig);
	/* the private key survives PEM with and without a passphrase; wrong ones are refused */
	char *pem, *enc;
	assert_int_equal(arca_key_private_pem(k, NULL, &pem), ARCA_OK);
	assert_int_equal(arca_key_private_pem(k, "s3cret", &enc), ARCA_OK);
	assert_non_null(strstr(enc, "ENCRYPTED"));
	arca_key *back;
	assert_int_equal(arca_key_from_private_pem(&back, pem, strlen(pem), NULL, "pem"), ARCA_OK);
	arca_key_free(back);
	assert_int_equal(arca_key_from_private_pem(&back, enc, strlen(enc), "s3cret", "enc"),
		ARCA_OK);
	char h1[ARCA_SHA256_HEX], h2[ARCA_SHA256_HEX];
	arca_key_hint(k, h1);
	arca_key_hint(back, h2);
	assert_string_equal(h1, h2);
	arca_key_free(back);
	assert_int_equal(arca_key_from_private_pem(&back, enc, strlen(enc), "wrong", "enc"),
		ARCA_EDENIED);
	assert_null(strstr(arca_error_last(), "PRIVATE"));
	assert_int_equal(arca_key_from_private_pem(&back, enc, strlen(enc), NULL, "enc"),
		ARCA_EDENIED);
	assert_error_mentions("passphrase is missing");
	/* the upstream private test key (P-384) signs what its public key verifies */
	size_t len;
	char *upstream = slurp(DATA "/keys/signing-key.pem", &len);
	arca_key *p384, *p384_pub = public_key(DATA "/keys/signing-key-pub.pem");
	assert_int_equal(arca_key_from_private_pem(&p384, upstream, len, NULL, "upstream"), ARCA_OK);
	char *b384;
	assert_int_equal(arca_sign_bundle(&b384, p384, "m", files, 3, NULL, 0), ARCA_OK);
	assert_int_equal(arca_sig_parse(&sig, b384, strlen(b384), "b384"), ARCA_OK);
	assert_int_equal(arca_sig_check_key(&sig, p384_pub), ARCA_OK);
	arca_sig_dispose(&sig);
	free(b384);
	free(upstream);
	arca_key_free(p384);
	arca_key_free(p384_pub);
	free(pem);
	free(enc);
	free(bundle);
	arca_key_free(other);
	arca_key_free(k);
}

/* ------------------------------------------------------------------ bad input */

/* A bundle whose envelope carries `payload` (plain text), signed by k unless sign == 0. */
static char *bundle_with_payload(const arca_key *k, const char *payload, int sign,
	const char *payload_type)
{
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	char hint[ARCA_SHA256_HEX];
	arca_key_hint(k, hint);
	if (sign)
		assert_int_equal(arca_sig__dsse_sign(&sig, &sig_len, k, (const unsigned char *)payload,
			strlen(payload)), ARCA_OK);
	char *p64 = arca_sig__base64((const unsigned char *)payload, strlen(payload));
	char *s64 = sign ? arca_sig__base64(sig, sig_len) : strdup("MEUCIQ==");
	char *out;
	assert_true(asprintf(&out, "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
		"\"verificationMaterial\":{\"publicKey\":{\"hint\":\"%s\"},\"tlogEntries\":[]},"
		"\"dsseEnvelope\":{\"payload\":\"%s\",\"payloadType\":\"%s\",\"signatures\":[{\"sig\":"
		"\"%s\",\"keyid\":\"\"}]}}", hint, p64, payload_type, s64) > 0);
	free(p64);
	free(s64);
	free(sig);
	return out;
}

#define ROOT_A "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
/* sha256 of the raw bytes of ROOT_A: the root digest of one resource with that digest */
#define STATEMENT(root, predicate, resources) \
	"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"m\",\"digest\":" \
	"{\"sha256\":\"" root "\"}}],\"predicateType\":\"" predicate "\",\"predicate\":{" \
	"\"serialization\":{\"method\":\"files\",\"hash_type\":\"sha256\",\"allow_symlinks\":false}," \
	"\"resources\":" resources "}}"

static void test_bad_input(void **state)
{
	(void)state;
	arca_key *k;
	assert_int_equal(arca_key_generate(&k), ARCA_OK);
	char root[ARCA_SHA256_HEX];
	arca_sign_file one[] = { { "f", ROOT_A } };
	assert_int_equal(arca_sign_root_digest(root, one, 1), ARCA_OK);
	char good[1024], res[200];
	snprintf(res, sizeof(res), "[{\"name\":\"f\",\"algorithm\":\"sha256\",\"digest\":\"%s\"}]",
		ROOT_A);
	snprintf(good, sizeof(good), STATEMENT("%s", "https://model_signing/signature/v1.0", "%s"),
		root, res);
	/* the well-formed one verifies: the cases below differ from it in one thing */
	char *b = bundle_with_payload(k, good, 1, "application/vnd.in-toto+json");
	arca_sig sig;
	assert_int_equal(arca_sig_parse(&sig, b, strlen(b), "good"), ARCA_OK);
	assert_int_equal(arca_sig_check_key(&sig, k), ARCA_OK);
	arca_sig_dispose(&sig);
	free(b);

	char other_root[1024], legacy[1024], twice[1024];
	snprintf(other_root, sizeof(other_root), STATEMENT(ROOT_A,
		"https://model_signing/signature/v1.0", "%s"), res);
	snprintf(legacy, sizeof(legacy), STATEMENT("%s", "https://model_signing/Digests/v0.1", "%s"),
		root, res);
	snprintf(twice, sizeof(twice), STATEMENT("%s", "https://model_signing/signature/v1.0",
		"[{\"name\":\"f\",\"algorithm\":\"sha256\",\"digest\":\"" ROOT_A "\"},{\"name\":\"f\","
		"\"algorithm\":\"sha256\",\"digest\":\"" ROOT_A "\"}]"), root);
	struct {
		const char *what, *payload, *type;
		int sign;
		arca_err want;
		const char *mention;
	} cases[] = {
		{ "unknown predicate", legacy, "application/vnd.in-toto+json", 1, ARCA_EUNSUPPORTED,
			"Digests/v0.1" },
		{ "subject over another root", other_root, "application/vnd.in-toto+json", 1,
			ARCA_EMISMATCH, "resource list was altered" },
		{ "a file listed twice", twice, "application/vnd.in-toto+json", 1, ARCA_ECORRUPT,
			"listed twice" },
		{ "wrong payload type", good, "text/plain", 1, ARCA_ECORRUPT, "payloadType" },
		{ "payload not JSON", "not json", "application/vnd.in-toto+json", 1, ARCA_ECORRUPT,
			"not a JSON object" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = bundle_with_payload(k, cases[i].payload, cases[i].sign, cases[i].type);
		arca_err err = arca_sig_parse(&sig, b, strlen(b), cases[i].what);
		if (err != cases[i].want)
			fail_msg("%s: got %d (%s)", cases[i].what, err, arca_error_last());
		assert_error_mentions(cases[i].mention);
		free(b);
	}
	/* an unsigned (garbage) signature parses and does not verify */
	b = bundle_with_payload(k, good, 0, "application/vnd.in-toto+json");
	assert_int_equal(arca_sig_parse(&sig, b, strlen(b), "unsigned"), ARCA_OK);
	assert_int_equal(arca_sig_check_key(&sig, k), ARCA_EMISMATCH);
	assert_error_mentions("does not verify");
	arca_sig_dispose(&sig);
	free(b);

	/* shapes that are not a bundle at all */
	static const struct {
		const char *text;
		const char *mention;
	} shapes[] = {
		{ "{\"mediaType\": ", "not a JSON object" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"mediaType\":\"application/json\"}", "not a Sigstore bundle" },
		{ "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}", "no dsseEnvelope" },
		{ "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"dsseEnvelope\":"
			"{\"payload\":\"***\",\"payloadType\":\"application/vnd.in-toto+json\","
			"\"signatures\":[{\"sig\":\"AAAA\"}]},\"verificationMaterial\":{\"publicKey\":{}}}",
			"not standard base64" },
		{ "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"mediaType\":\"x\"}",
			"duplicate" },
	};
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		if (arca_sig_parse(&sig, shapes[i].text, strlen(shapes[i].text), "shape") !=
				ARCA_ECORRUPT)
			fail_msg("shape %zu accepted: %s", i, shapes[i].text);
		assert_error_mentions(shapes[i].mention);
	}
	/* far larger than any signature: refused before parsing */
	size_t big = 100u << 20;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, ' ', big);
	assert_int_equal(arca_sig_parse(&sig, huge, big, "huge"), ARCA_ECORRUPT);
	assert_error_mentions("more than a signature may be");
	free(huge);
	arca_key_free(k);
}

static void test_bad_keys(void **state)
{
	(void)state;
	arca_key *k;
	char *rsa = t_shell_line("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
		"2>/dev/null | openssl pkey -pubout 2>/dev/null | tr '\\n' '|'");
	char *ed = t_shell_line("openssl genpkey -algorithm ED25519 2>/dev/null | tr '\\n' '|'");
	for (char *c = rsa; *c; c++)
		*c = *c == '|' ? '\n' : *c;
	for (char *c = ed; *c; c++)
		*c = *c == '|' ? '\n' : *c;
	assert_int_equal(arca_key_from_public_pem(&k, rsa, strlen(rsa), "rsa.pem"),
		ARCA_EUNSUPPORTED);
	assert_error_mentions("an RSA key");
	assert_int_equal(arca_key_from_private_pem(&k, ed, strlen(ed), NULL, "ed.pem"),
		ARCA_EUNSUPPORTED);
	assert_error_mentions("an Ed25519 key");
	size_t len;
	char *pub = slurp(DATA "/keys/signing-key-pub.clean.pem", &len);
	assert_int_equal(arca_key_from_public_pem(&k, pub, len / 2, "cut.pem"), ARCA_ECORRUPT);
	assert_error_mentions("cut.pem");
	assert_int_equal(arca_key_from_public_pem(&k, "", 0, "empty.pem"), ARCA_ECORRUPT);
	free(pub);
	free(rsa);
	free(ed);
}

static void test_base64_and_pae(void **state)
{
	(void)state;
	static const struct {
		const char *raw, *b64;
	} v[] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" } };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *e = arca_sig__base64((const unsigned char *)v[i].raw, strlen(v[i].raw));
		assert_string_equal(e, v[i].b64);
		free(e);
		size_t n;
		int bad;
		unsigned char *d = arca_sig__unbase64(v[i].b64, &n, &bad);
		assert_non_null(d);
		assert_int_equal(n, strlen(v[i].raw));
		assert_memory_equal(d, v[i].raw, n);
		free(d);
	}
	static const char *const bad_texts[] = { "Zg=", "Z===", "Zm9v\n", "Zm=v", "Zm9-" };
	for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
		size_t n;
		int bad;
		assert_null(arca_sig__unbase64(bad_texts[i], &n, &bad));
		assert_true(bad);
	}
	size_t n;
	unsigned char *pae = arca_sig__pae("application/vnd.in-toto+json",
		(const unsigned char *)"{}", 2, &n);
	const char want[] = "DSSEv1 28 application/vnd.in-toto+json 2 {}";
	assert_int_equal(n, strlen(want));
	assert_memory_equal(pae, want, n);
	free(pae);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_key),
		cmocka_unit_test(test_reference_certificate),
		cmocka_unit_test(test_reference_keyless),
		cmocka_unit_test(test_keyless_synthetic),
		cmocka_unit_test(test_keyless_policy),
		cmocka_unit_test(test_keyless_tampered),
		cmocka_unit_test(test_keyless_merkle),
		cmocka_unit_test(test_keyless_trust),
		cmocka_unit_test(test_keyless_upstream),
		cmocka_unit_test(test_keyless_bad_trust_root),
		cmocka_unit_test(test_keyless_bad_entry),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_base64_and_pae),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
