/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_signatures.c — signatures in the store (arca/signatures.h): own keys on
 * disk (mode 0600, named, ids that are the hint), trusting and untrusting, signing a
 * snapshot and checking it against re-hashed blobs, and what each check records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arca/signatures.h"
#include "arca/snapshot.h"
#include "support.h"

typedef struct {
	char *home;
	arca_store *store;
	arca_ref ref;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->store = t_store_new(&f->home);
	char *src = t_tempdir();
	t_write_file(src, "model.safetensors", "weights weights weights", SIZE_MAX);
	t_write_file(src, "config.json", "{}", SIZE_MAX);
	t_write_file(src, ".gitattributes", "*.safetensors filter=lfs", SIZE_MAX);
	arca_ref_parse(&f->ref, "acme/tiny");
	arca_add_opts opts = { .dir = src, .as = &f->ref };
	arca_add_result res;
	if (arca_snapshot_add_dir(&res, f->store, &opts) != ARCA_OK)
		fail_msg("add: %s", arca_error_last());
	arca_add_result_dispose(&res);
	t_remove_tree(src);
	free(src);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	arca_store_free(f->store);
	t_remove_tree(f->home);
	free(f->home);
	free(f);
	return 0;
}

static char *private_path(fixture *f, const char *key_id)
{
	char *p;
	assert_true(asprintf(&p, "%s/keys/%s.pem", f->home, key_id) > 0);
	return p;
}

static void test_own_keys(void **state)
{
	fixture *f = *state;
	arca_key_record a, b;
	assert_int_equal(arca_keys_new(&a, f->store, NULL, NULL), ARCA_OK);
	assert_string_equal(a.name, "default");
	assert_string_equal(a.trust, "own");
	/* the id is the hint: sha256 of the public PEM text */
	char *hint = t_shell_line("printf '%%s' '%s' | sha256sum | cut -c1-64", a.public_pem);
	assert_string_equal(a.key_id, hint);
	free(hint);
	char *path = private_path(f, a.key_id);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(path);
	/* a second unnamed key does not take the name; a named duplicate writes nothing */
	assert_int_equal(arca_keys_new(&b, f->store, NULL, "pw"), ARCA_OK);
	assert_int_equal(strncmp(b.name, "default-", 8), 0);
	arca_key_record c;
	assert_int_equal(arca_keys_new(&c, f->store, "default", NULL), ARCA_EEXISTS);
	assert_int_equal(arca_keys_new(&c, f->store, "bad name", NULL), ARCA_EINVALID);
	/* found by name or by 8+ hex digits of the id, not fewer */
	arca_key_record found;
	char prefix[9];
	snprintf(prefix, sizeof(prefix), "%s", b.key_id);
	assert_int_equal(arca_catalog_find_key(&found, arca_store_catalog(f->store), prefix),
		ARCA_OK);
	assert_string_equal(found.key_id, b.key_id);
	arca_key_record_dispose(&found);
	prefix[7] = '\0';
	assert_int_equal(arca_catalog_find_key(&found, arca_store_catalog(f->store), prefix),
		ARCA_ENOTFOUND);
	/* loading: the only own key is ambiguous now; the encrypted one needs its passphrase */
	arca_key *key;
	arca_key_record rec;
	assert_int_equal(arca_keys_load_own(&key, &rec, f->store, NULL, NULL), ARCA_EINVALID);
	assert_int_equal(arca_keys_load_own(&key, &rec, f->store, b.name, NULL), ARCA_EDENIED);
	assert_int_equal(arca_keys_load_own(&key, &rec, f->store, b.name, "pw"), ARCA_OK);
	assert_true(arca_key_has_private(key));
	arca_key_free(key);
	arca_key_record_dispose(&rec);
	arca_key_record_dispose(&a);
	arca_key_record_dispose(&b);
}

static void test_trust(void **state)
{
	fixture *f = *state;
	arca_key *k;
	char *pub;
	assert_int_equal(arca_key_generate(&k), ARCA_OK);
	assert_int_equal(arca_key_public_pem(k, &pub), ARCA_OK);
	char *priv;
	assert_int_equal(arca_key_private_pem(k, NULL, &priv), ARCA_OK);
	arca_key_record r;
	assert_int_equal(arca_keys_trust(&r, f->store, priv, strlen(priv), NULL, "x/alice.pem"),
		ARCA_EINVALID);
	assert_non_null(strstr(arca_error_last(), "holds a private key"));
	assert_null(strstr(arca_error_last(), "BEGIN"));
	assert_int_equal(arca_keys_trust(&r, f->store, pub, strlen(pub), NULL, "x/alice.pem"),
		ARCA_OK);
	assert_string_equal(r.name, "alice");
	assert_string_equal(r.trust, "trusted");
	assert_int_equal(arca_keys_is_own(f->store, &r), 0);
	arca_key_record_dispose(&r);
	assert_int_equal(arca_keys_untrust(&r, f->store, "alice"), ARCA_OK);
	assert_string_equal(r.trust, "untrusted");
	arca_key_record_dispose(&r);
	arca_trust_set set;
	assert_int_equal(arca_trust_set_load(&set, f->store), ARCA_OK);
	assert_int_equal(set.n, 1);
	assert_int_equal(set.anchors[0].distrusted, 1);
	assert_int_equal(set.anchors[0].kind, ARCA_ANCHOR_KEY);
	arca_trust_set_dispose(&set);
	assert_int_equal(arca_keys_retrust(&r, f->store, "alice"), ARCA_OK);
	assert_string_equal(r.trust, "trusted");
	arca_key_record_dispose(&r);
	free(pub);
	free(priv);
	arca_key_free(k);
}

static arca_err verify(fixture *f, arca_store_verify_result *r)
{
	arca_store_verify_opts o = { .ref = &f->ref, .record = 1 };
	return arca_store_verify(r, f->store, &o);
}

static void test_sign_and_verify(void **state)
{
	fixture *f = *state;
	arca_key_record k;
	assert_int_equal(arca_keys_new(&k, f->store, "signer", NULL), ARCA_OK);
	arca_store_verify_result r;
	assert_int_equal(verify(f, &r), ARCA_ENOTFOUND);
	arca_store_verify_result_dispose(&r);
	arca_store_sign_opts so = { .ref = &f->ref };
	arca_store_sign_result s;
	assert_int_equal(arca_store_sign(&s, f->store, &so), ARCA_OK);
	assert_int_equal(s.n_files, 2);   /* not .gitattributes */
	assert_null(strstr(s.bundle, "PRIVATE"));
	assert_non_null(strstr(s.bundle, k.key_id));   /* the hint */

	assert_int_equal(verify(f, &r), ARCA_OK);
	assert_int_equal(r.n_checks, 1);
	assert_int_equal(r.checks[0].verdict.state, ARCA_SIG_VERIFIED);
	assert_string_equal(r.checks[0].verdict.signer, "signer");
	assert_true(r.bytes_hashed > 0);
	arca_store_verify_result_dispose(&r);

	/* a blob changed on disk: invalid, naming the file; the row says so */
	char *blob;
	arca_file *files;
	size_t n;
	arca_snapshot snap;
	assert_int_equal(arca_catalog_find_snapshot(&snap, arca_store_catalog(f->store), &f->ref),
		ARCA_OK);
	assert_int_equal(arca_catalog_list_files(&files, &n, arca_store_catalog(f->store),
		snap.id), ARCA_OK);
	const char *sha = NULL;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(files[i].path, "config.json"))
			sha = files[i].sha256;
	assert_non_null(sha);
	assert_true(asprintf(&blob, "%s/objects/sha256/%.2s/%s", f->home, sha, sha + 2) > 0);
	chmod(blob, 0644);
	FILE *fp = fopen(blob, "w");
	fputs("{\"changed\": 1}", fp);
	fclose(fp);
	assert_int_equal(verify(f, &r), ARCA_EMISMATCH);
	assert_int_equal(r.checks[0].verdict.state, ARCA_SIG_INVALID);
	assert_non_null(strstr(r.checks[0].verdict.reason, "changed: config.json"));
	arca_store_verify_result_dispose(&r);
	arca_signature_record *sigs;
	size_t n_sigs;
	assert_int_equal(arca_catalog_list_signatures(&sigs, &n_sigs, arca_store_catalog(f->store),
		snap.id, 0), ARCA_OK);
	assert_int_equal(n_sigs, 1);
	assert_string_equal(sigs[0].state, "invalid");
	assert_string_equal(sigs[0].source, "arca");
	arca_signature_records_free(sigs, n_sigs);

	/* the signer no longer trusted: untrusted, even with the blob put back */
	fp = fopen(blob, "w");
	fputs("{}", fp);
	fclose(fp);
	arca_key_record u;
	assert_int_equal(arca_keys_untrust(&u, f->store, "signer"), ARCA_OK);
	arca_key_record_dispose(&u);
	assert_int_equal(verify(f, &r), ARCA_EMISMATCH);
	assert_int_equal(r.checks[0].verdict.state, ARCA_SIG_UNTRUSTED);
	arca_store_verify_result_dispose(&r);
	arca_store_sign_result_dispose(&s);
	assert_int_equal(arca_store_sign(&s, f->store, &so), ARCA_EINVALID);

	arca_files_free(files, n);
	arca_snapshot_dispose(&snap);
	free(blob);
	arca_store_sign_result_dispose(&s);
	arca_key_record_dispose(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_own_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sign_and_verify, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
