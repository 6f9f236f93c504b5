/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/verify/test_sign.c — model signatures (arca/sign.h) against the reference tool's
 * v1.1.0 vectors (tests/data/model-signing: key, certificate and keyless bundles made by
 * model_signing), arca's own signatures round-tripped, and a table of bad input: malformed
 * bundles, wrong types, altered statements, files that differ, keys nobody trusts or of
 * types model signing does not use, and a bundle too large to read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/sign.h"
#include "support.h"
#include "verify/sig_internal.h"

#define DATA ARCA_TEST_DATA "/model-signing"

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
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_base64_and_pae),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
