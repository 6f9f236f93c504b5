/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/keys.c — the store's keys (arca/signatures.h): its own signing keys (private half in
 * keys/<id>.pem, mode 0600, written atomically), the public keys, root certificates and
 * Sigstore trusted roots it trusts, and the trust set checks are made against.
 */
#include "arca/signatures.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/io.h"
#include "common/util.h"

#define MAX_TRUST_FILE (1u << 20)
#define MAX_KEY_FILE (64u << 10)

/* ------------------------------------------------------------------ names and files */

static arca_err check_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64)
		return arca_error_set(ARCA_EINVALID, "key name '%s': 1 to 64 characters", name);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return arca_error_set(ARCA_EINVALID, "key name '%s': only letters, digits, '.', "
				"'_' and '-'", name);
	return ARCA_OK;
}

static char *private_path(arca_store *store, const char *key_id)
{
	char *path = NULL;
	if (asprintf(&path, "%s/keys/%s.pem", arca_store_home(store), key_id) < 0)
		return NULL;
	return path;
}

int arca_keys_is_own(arca_store *store, const arca_key_record *key)
{
	char *path = private_path(store, key->key_id);
	int own = path && access(path, F_OK) == 0;
	free(path);
	return own;
}

/* A name not yet taken: `base`, else base-<8 hex of id>. */
static arca_err free_name(char *out, size_t cap, arca_catalog *cat, const char *base,
	const char *key_id)
{
	arca_key_record other;
	arca_err err = arca_catalog_find_key(&other, cat, base);
	if (err == ARCA_ENOTFOUND) {
		arca_error_clear();
		snprintf(out, cap, "%s", base);
		return ARCA_OK;
	}
	if (err < 0)
		return err;
	int same = !strcmp(other.key_id, key_id);
	arca_key_record_dispose(&other);
	if (same)
		snprintf(out, cap, "%s", base);
	else
		snprintf(out, cap, "%s-%.8s", base, key_id);
	return ARCA_OK;
}

static arca_err reload(arca_key_record *out, arca_catalog *cat, const char *key_id)
{
	return arca_catalog_find_key(out, cat, key_id);
}

/* ------------------------------------------------------------------ own keys */

arca_err arca_keys_new(arca_key_record *out, arca_store *store, const char *name,
	const char *passphrase)
{
	memset(out, 0, sizeof(*out));
	arca_catalog *cat = arca_store_catalog(store);
	arca_key *key = NULL;
	char *pub = NULL, *priv = NULL, *path = NULL;
	char id[ARCA_SHA256_HEX], chosen[80];
	arca_err err;
	if (name && (err = check_name(name)) < 0)
		return err;
	if ((err = arca_key_generate(&key)) < 0 || (err = arca_key_hint(key, id)) < 0 ||
	    (err = arca_key_public_pem(key, &pub)) < 0 ||
	    (err = arca_key_private_pem(key, passphrase, &priv)) < 0)
		goto cleanup;
	if (name) {
		snprintf(chosen, sizeof(chosen), "%s", name);
	} else if ((err = free_name(chosen, sizeof(chosen), cat, "default", id)) < 0) {
		goto cleanup;
	}
	if (!(path = private_path(store, id))) {
		err = arca_error_set(ARCA_ENOMEM, "new key: out of memory");
		goto cleanup;
	}
	arca_key_record rec = { .key_id = id, .name = chosen, .algorithm = "ecdsa-p256",
		.public_pem = pub, .trust = "own" };
	/* the row first: a name already taken stops us before a file is written */
	if ((err = arca_catalog_put_key(cat, &rec)) < 0)
		goto cleanup;
	if ((err = arca_io_write_file(path, priv, strlen(priv), 0600)) < 0) {
		arca_catalog_set_key_trust(cat, id, "untrusted");
		goto cleanup;
	}
	err = reload(out, cat, id);
cleanup:
	if (priv) {
		explicit_bzero(priv, strlen(priv));
		free(priv);
	}
	free(pub);
	free(path);
	arca_key_free(key);
	return err;
}

arca_err arca_keys_load_own(arca_key **out, arca_key_record *rec, arca_store *store,
	const char *name, const char *passphrase)
{
	*out = NULL;
	memset(rec, 0, sizeof(*rec));
	arca_catalog *cat = arca_store_catalog(store);
	arca_err err;
	if (name) {
		if ((err = arca_catalog_find_key(rec, cat, name)) < 0)
			return err;
		if (!arca_keys_is_own(store, rec)) {
			err = arca_error_set(ARCA_EINVALID, "key %s is not one of this store's own keys "
				"(its private half is not in keys/); make one with: arca key new", rec->name);
			arca_key_record_dispose(rec);
			return err;
		}
	} else {
		arca_key_record *all = NULL;
		size_t n = 0, n_own = 0, pick = 0;
		char names[300] = "", withdrawn[80] = "";
		if ((err = arca_catalog_list_keys(&all, &n, cat)) < 0)
			return err;
		for (size_t i = 0; i < n; i++) {
			if (!arca_keys_is_own(store, &all[i]))
				continue;
			if (strcmp(all[i].trust, "own") != 0) {
				snprintf(withdrawn, sizeof(withdrawn), "%s", all[i].name ? all[i].name :
					all[i].key_id);
				continue;
			}
			size_t used = strlen(names);
			snprintf(names + used, sizeof(names) - used, "%s%s", n_own ? ", " : "",
				all[i].name ? all[i].name : all[i].key_id);
			pick = i;
			n_own++;
		}
		if (n_own == 1) {
			*rec = all[pick];
			memset(&all[pick], 0, sizeof(all[pick]));
		}
		arca_key_records_free(all, n);
		if (n_own == 0 && withdrawn[0])
			return arca_error_set(ARCA_EINVALID, "this store's signing key %s is marked "
				"untrusted; trust it again with: arca key trust %s", withdrawn, withdrawn);
		if (n_own == 0)
			return arca_error_set(ARCA_ENOTFOUND, "this store has no signing key; make one "
				"with: arca key new");
		if (n_own > 1)
			return arca_error_set(ARCA_EINVALID, "this store has several signing keys (%s); "
				"say which with --key NAME", names);
	}
	if (strcmp(rec->trust, "own") != 0) {
		err = arca_error_set(ARCA_EINVALID, "key %s is marked %s; trust it again with: arca "
			"key trust %s", rec->name, rec->trust, rec->name);
		arca_key_record_dispose(rec);
		return err;
	}
	char *path = private_path(store, rec->key_id), *pem = NULL;
	size_t len = 0;
	char what[128];
	snprintf(what, sizeof(what), "key %s", rec->name ? rec->name : rec->key_id);
	err = path ? arca_io_read_file(&pem, &len, path, MAX_KEY_FILE) :
		arca_error_set(ARCA_ENOMEM, "load key: out of memory");
	if (err == ARCA_OK)
		err = arca_key_from_private_pem(out, pem, len, passphrase, what);
	if (pem) {
		explicit_bzero(pem, len);
		free(pem);
	}
	free(path);
	if (err < 0)
		arca_key_record_dispose(rec);
	return err;
}

/* ------------------------------------------------------------------ trusting */

/* "ecdsa-p256" for "P-256". */
static void algorithm_of(char *out, size_t cap, const arca_key *key)
{
	const char *curve = arca_key_curve(key);
	snprintf(out, cap, "ecdsa-p%s", curve + 2);
}

/* The default name for something trusted from a file: its base name without extension. */
static void name_from_file(char *out, size_t cap, const char *what)
{
	const char *base = strrchr(what, '/');
	base = base ? base + 1 : what;
	size_t n = 0;
	for (; base[n] && base[n] != '.' && n + 1 < cap; n++)
		out[n] = isalnum((unsigned char)base[n]) || base[n] == '-' || base[n] == '_' ?
			base[n] : '-';
	out[n] = '\0';
	if (!n)
		snprintf(out, cap, "trusted");
}

static arca_err trust_public_key(arca_key_record *rec, char **pem_out, const char *text,
	size_t len, const char *what)
{
	arca_key *key = NULL;
	char algo[16];
	arca_err err = arca_key_from_public_pem(&key, text, len, what);
	if (err == ARCA_OK && (err = arca_key_hint(key, rec->key_id)) == ARCA_OK &&
	    (err = arca_key_public_pem(key, pem_out)) == ARCA_OK) {
		algorithm_of(algo, sizeof(algo), key);
		rec->algorithm = strdup(algo);
	}
	arca_key_free(key);
	return err;
}

static arca_err trust_certificates(arca_key_record *rec, char **pem_out, const char *text,
	size_t len, const char *what)
{
	size_t n;
	char subject[256];
	arca_err err = arca_sig_describe_roots(text, len, what, &n, rec->key_id, subject,
		sizeof(subject));
	if (err < 0)
		return err;
	if (!(*pem_out = strndup(text, len)))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	rec->algorithm = strdup("x509");
	return ARCA_OK;
}

static arca_err trust_sigstore_root(arca_key_record *rec, char **json_out, const char *text,
	size_t len, const char *what)
{
	arca_err err = arca_sig_check_trusted_root(text, len, what);
	if (err < 0)
		return err;
	if ((err = arca_sha256_buffer_hex(rec->key_id, text, len)) < 0)
		return err;
	if (!(*json_out = strndup(text, len)))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	rec->algorithm = strdup("sigstore-root");
	return ARCA_OK;
}

arca_err arca_keys_trust(arca_key_record *out, arca_store *store, const char *text, size_t len,
	const char *name, const char *what)
{
	memset(out, 0, sizeof(*out));
	arca_catalog *cat = arca_store_catalog(store);
	char id[ARCA_SHA256_HEX] = "", chosen[80], base[64];
	char *material = NULL;
	arca_key_record rec = { .key_id = id };
	arca_err err;
	if (name && (err = check_name(name)) < 0)
		return err;
	if (memmem(text, len, "PRIVATE KEY-----", 16))
		return arca_error_set(ARCA_EINVALID, "%s holds a private key; trust its public half "
			"(arca key export NAME, or openssl pkey -in KEY -pubout)", what);
	if (memmem(text, len, "-----BEGIN PUBLIC KEY-----", 26))
		err = trust_public_key(&rec, &material, text, len, what);
	else if (memmem(text, len, "-----BEGIN CERTIFICATE-----", 27))
		err = trust_certificates(&rec, &material, text, len, what);
	else if (len && memchr(text, '{', len < 64 ? len : 64))
		err = trust_sigstore_root(&rec, &material, text, len, what);
	else
		err = arca_error_set(ARCA_EINVALID, "%s is neither a PEM public key, PEM certificates "
			"nor a Sigstore trusted root (JSON)", what);
	if (err == ARCA_OK && !rec.algorithm)
		err = arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	if (err < 0)
		goto cleanup;
	name_from_file(base, sizeof(base), what);
	if (name)
		snprintf(chosen, sizeof(chosen), "%s", name);
	else if ((err = free_name(chosen, sizeof(chosen), cat, base, id)) < 0)
		goto cleanup;
	arca_key_record known;
	const char *trust = "trusted";
	if (arca_catalog_find_key(&known, cat, id) == ARCA_OK) {
		/* a key of our own stays ours; its name stays unless a new one is given */
		if (arca_keys_is_own(store, &known))
			trust = "own";
		if (!name && known.name)
			snprintf(chosen, sizeof(chosen), "%s", known.name);
		arca_key_record_dispose(&known);
	}
	arca_error_clear();
	rec.name = chosen;
	rec.public_pem = material;
	rec.trust = (char *)trust;
	if ((err = arca_catalog_put_key(cat, &rec)) == ARCA_OK)
		err = reload(out, cat, id);
cleanup:
	free(material);
	free(rec.algorithm);
	return err;
}

arca_err arca_keys_trust_file(arca_key_record *out, arca_store *store, const char *path,
	const char *name)
{
	memset(out, 0, sizeof(*out));
	char *text = NULL;
	size_t len = 0;
	arca_err err = arca_io_read_file(&text, &len, path, MAX_TRUST_FILE);
	if (err < 0)
		return err;
	err = arca_keys_trust(out, store, text, len, name, path);
	explicit_bzero(text, len);
	free(text);
	return err;
}

static arca_err set_trust(arca_key_record *out, arca_store *store, const char *name, int trusted)
{
	arca_catalog *cat = arca_store_catalog(store);
	arca_err err = arca_catalog_find_key(out, cat, name);
	if (err < 0)
		return err;
	const char *trust = !trusted ? "untrusted" : arca_keys_is_own(store, out) ? "own" :
		"trusted";
	char id[ARCA_SHA256_HEX];
	snprintf(id, sizeof(id), "%s", out->key_id);
	arca_key_record_dispose(out);
	if ((err = arca_catalog_set_key_trust(cat, id, trust)) < 0)
		return err;
	return reload(out, cat, id);
}

arca_err arca_keys_retrust(arca_key_record *out, arca_store *store, const char *name)
{
	return set_trust(out, store, name, 1);
}

arca_err arca_keys_untrust(arca_key_record *out, arca_store *store, const char *name)
{
	return set_trust(out, store, name, 0);
}

/* ------------------------------------------------------------------ trust sets */

static arca_err grow(arca_trust_set *set)
{
	arca_sig_anchor *a = realloc(set->anchors, (set->n + 1) * sizeof(*a));
	if (a)
		set->anchors = a;
	arca_key **k = realloc(set->keys, (set->n + 1) * sizeof(*k));
	if (k)
		set->keys = k;
	if (!a || !k)
		return arca_error_set(ARCA_ENOMEM, "trust: out of memory");
	memset(&set->anchors[set->n], 0, sizeof(set->anchors[set->n]));
	set->keys[set->n] = NULL;
	return ARCA_OK;
}

/* One anchor from a record (the set keeps the record). */
static arca_err add_anchor(arca_trust_set *set, const arca_key_record *r, int distrusted)
{
	arca_err err = grow(set);
	if (err < 0)
		return err;
	arca_sig_anchor *a = &set->anchors[set->n];
	a->name = r->name;
	a->id = r->key_id;
	a->distrusted = distrusted;
	a->text = r->public_pem;
	a->len = strlen(r->public_pem);
	if (!strcmp(r->algorithm, "x509")) {
		a->kind = ARCA_ANCHOR_CA;
	} else if (!strcmp(r->algorithm, "sigstore-root")) {
		a->kind = ARCA_ANCHOR_SIGSTORE;
	} else {
		a->kind = ARCA_ANCHOR_KEY;
		if ((err = arca_key_from_public_pem(&set->keys[set->n], r->public_pem, a->len,
				r->name ? r->name : r->key_id)) < 0)
			return err;
		a->key = set->keys[set->n];
	}
	set->n++;
	return ARCA_OK;
}

arca_err arca_trust_set_load(arca_trust_set *out, arca_store *store)
{
	memset(out, 0, sizeof(*out));
	arca_err err = arca_catalog_list_keys(&out->records, &out->n_records,
		arca_store_catalog(store));
	for (size_t i = 0; err == ARCA_OK && i < out->n_records; i++)
		err = add_anchor(out, &out->records[i], !strcmp(out->records[i].trust, "untrusted"));
	if (err < 0)
		arca_trust_set_dispose(out);
	return err;
}

arca_err arca_trust_set_add_file(arca_trust_set *set, arca_anchor_kind kind, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	arca_err err = arca_io_read_file(&text, &len, path, MAX_TRUST_FILE);
	if (err < 0)
		return err;
	arca_key_record *grown = realloc(set->records, (set->n_records + 1) * sizeof(*grown));
	if (!grown) {
		free(text);
		return arca_error_set(ARCA_ENOMEM, "trust: out of memory");
	}
	set->records = grown;
	arca_key_record *r = memset(&grown[set->n_records], 0, sizeof(*r));
	char id[ARCA_SHA256_HEX] = "";
	r->key_id = id;
	char *material = NULL;
	if (kind == ARCA_ANCHOR_KEY)
		err = trust_public_key(r, &material, text, len, path);
	else if (kind == ARCA_ANCHOR_CA)
		err = trust_certificates(r, &material, text, len, path);
	else
		err = trust_sigstore_root(r, &material, text, len, path);
	free(text);
	r->key_id = strdup(id);
	r->name = strdup(path);
	r->public_pem = material;
	r->trust = strdup("trusted");
	set->n_records++;
	if (err == ARCA_OK && (!r->key_id || !r->name || !r->trust || !r->algorithm))
		err = arca_error_set(ARCA_ENOMEM, "trust: out of memory");
	if (err == ARCA_OK)
		err = add_anchor(set, r, 0);
	return err;
}

void arca_trust_set_dispose(arca_trust_set *set)
{
	for (size_t i = 0; set->keys && i < set->n; i++)
		arca_key_free(set->keys[i]);
	free(set->keys);
	free(set->anchors);
	arca_key_records_free(set->records, set->n_records);
	memset(set, 0, sizeof(*set));
}
