/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/catalog_keys.c — the keys and signatures tables (arca/catalog.h): the store's own
 * signing keys, the keys and root certificates it trusts, and every signature it has made,
 * received with a pull or checked, with what the last check found.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/catalog_internal.h"

/* ------------------------------------------------------------------ keys */

void arca_key_record_dispose(arca_key_record *k)
{
	free(k->key_id);
	free(k->name);
	free(k->algorithm);
	free(k->public_pem);
	free(k->trust);
	free(k->created_at);
	memset(k, 0, sizeof(*k));
}

void arca_key_records_free(arca_key_record *keys, size_t n)
{
	for (size_t i = 0; keys && i < n; i++)
		arca_key_record_dispose(&keys[i]);
	free(keys);
}

#define KEY_COLUMNS "key_id, name, algorithm, public_pem, trust, created_at"

static arca_err read_key_row(void *elem, sqlite3_stmt *st)
{
	arca_key_record *k = elem;
	k->key_id = arca_catalog__column_dup(st, 0);
	k->name = arca_catalog__column_dup(st, 1);
	k->algorithm = arca_catalog__column_dup(st, 2);
	k->public_pem = arca_catalog__column_dup(st, 3);
	k->trust = arca_catalog__column_dup(st, 4);
	k->created_at = arca_catalog__column_dup(st, 5);
	return ARCA_OK;
}

static void free_keys(void *items, size_t n)
{
	arca_key_records_free(items, n);
}

static const arca_catalog__rows key_rows = { "list keys", sizeof(arca_key_record),
	read_key_row, free_keys };

arca_err arca_catalog_put_key(arca_catalog *cat, const arca_key_record *key)
{
	if (key->name) {
		arca_key_record other;
		arca_err err = arca_catalog_find_key(&other, cat, key->name);
		if (err == ARCA_OK) {
			int same = !strcmp(other.key_id, key->key_id);
			arca_key_record_dispose(&other);
			if (!same)
				return arca_error_set(ARCA_EEXISTS, "a key named %s exists already (arca key "
					"ls)", key->name);
		} else if (err != ARCA_ENOTFOUND) {
			return err;
		}
		arca_error_clear();
	}
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "INSERT INTO keys(" KEY_COLUMNS ") "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(key_id) DO UPDATE SET "
		"name = coalesce(excluded.name, name), trust = excluded.trust, "
		"public_pem = excluded.public_pem");
	if (err < 0)
		return err;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_text(st, 1, key->key_id, -1, SQLITE_TRANSIENT);
	arca_catalog__bind_text_or_null(st, 2, key->name);
	sqlite3_bind_text(st, 3, key->algorithm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, key->public_pem, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, key->trust, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, key->created_at ? key->created_at : now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : arca_catalog__db_error(cat, rc, "record key");
}

arca_err arca_catalog_list_keys(arca_key_record **out, size_t *n_out, arca_catalog *cat)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "SELECT " KEY_COLUMNS " FROM keys "
		"ORDER BY name, key_id");
	if (err < 0)
		return err;
	void *items;
	err = arca_catalog__collect(&items, n_out, cat, st, &key_rows);
	*out = items;
	return err;
}

arca_err arca_catalog_find_key(arca_key_record *out, arca_catalog *cat, const char *name_or_id)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "SELECT " KEY_COLUMNS " FROM keys "
		"WHERE name = ?1 OR (length(?1) >= 8 AND substr(key_id, 1, length(?1)) = ?1) "
		"ORDER BY name = ?1 DESC LIMIT 2");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, name_or_id, -1, SQLITE_TRANSIENT);
	arca_key_record *found = NULL;
	size_t n = 0;
	void *items;
	err = arca_catalog__collect(&items, &n, cat, st, &key_rows);
	found = items;
	if (err < 0)
		return err;
	if (n == 0)
		err = arca_error_set(ARCA_ENOTFOUND, "no key named %s (arca key ls)", name_or_id);
	else if (n > 1 && strcmp(found[0].name ? found[0].name : "", name_or_id) != 0)
		err = arca_error_set(ARCA_EINVALID, "%s names more than one key; give more of its id",
			name_or_id);
	if (err == ARCA_OK) {
		*out = found[0];
		memset(&found[0], 0, sizeof(found[0]));
	}
	arca_key_records_free(found, n);
	return err;
}

arca_err arca_catalog_set_key_trust(arca_catalog *cat, const char *key_id, const char *trust)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "UPDATE keys SET trust = ? WHERE key_id = ?");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, trust, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, key_id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return arca_catalog__db_error(cat, rc, "set key trust");
	return ARCA_OK;
}

/* ------------------------------------------------------------------ signatures */

void arca_signature_records_free(arca_signature_record *sigs, size_t n)
{
	for (size_t i = 0; sigs && i < n; i++) {
		arca_signature_record *s = &sigs[i];
		free(s->key_id);
		free(s->bundle_blob);
		free(s->source);
		free(s->state);
		free(s->signer);
		free(s->details_json);
		free(s->created_at);
		free(s->verified_at);
	}
	free(sigs);
}

#define SIGNATURE_COLUMNS "id, snapshot, coalesce(artifact, 0), key_id, bundle_blob, source, " \
	"state, signer, details_json, created_at, verified_at"

static arca_err read_signature_row(void *elem, sqlite3_stmt *st)
{
	arca_signature_record *s = elem;
	s->id = sqlite3_column_int64(st, 0);
	s->snapshot = sqlite3_column_int64(st, 1);
	s->artifact = sqlite3_column_int64(st, 2);
	s->key_id = arca_catalog__column_dup(st, 3);
	s->bundle_blob = arca_catalog__column_dup(st, 4);
	s->source = arca_catalog__column_dup(st, 5);
	s->state = arca_catalog__column_dup(st, 6);
	s->signer = arca_catalog__column_dup(st, 7);
	s->details_json = arca_catalog__column_dup(st, 8);
	s->created_at = arca_catalog__column_dup(st, 9);
	s->verified_at = arca_catalog__column_dup(st, 10);
	return ARCA_OK;
}

static void free_signatures(void *items, size_t n)
{
	arca_signature_records_free(items, n);
}

static const arca_catalog__rows signature_rows = { "list signatures",
	sizeof(arca_signature_record), read_signature_row, free_signatures };

/* A key id that names no row is kept out: the foreign key would refuse it. */
static void bind_key_id(arca_catalog *cat, sqlite3_stmt *st, int i, const char *key_id)
{
	arca_key_record k;
	if (key_id && arca_catalog_find_key(&k, cat, key_id) == ARCA_OK) {
		sqlite3_bind_text(st, i, k.key_id, -1, SQLITE_TRANSIENT);
		arca_key_record_dispose(&k);
		return;
	}
	arca_error_clear();
	sqlite3_bind_null(st, i);
}

arca_err arca_catalog_add_signature(arca_catalog *cat, const arca_signature_record *sig,
	int64_t *id_out)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "INSERT INTO signatures(snapshot, artifact, "
		"key_id, bundle_blob, source, state, signer, details_json, created_at, verified_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CASE WHEN ?6 = 'verified' THEN ?9 END)");
	if (err < 0)
		return err;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_int64(st, 1, sig->snapshot);
	if (sig->artifact > 0)
		sqlite3_bind_int64(st, 2, sig->artifact);
	else
		sqlite3_bind_null(st, 2);
	bind_key_id(cat, st, 3, sig->key_id);
	sqlite3_bind_text(st, 4, sig->bundle_blob, -1, SQLITE_TRANSIENT);
	arca_catalog__bind_text_or_null(st, 5, sig->source);
	arca_catalog__bind_text_or_null(st, 6, sig->state);
	arca_catalog__bind_text_or_null(st, 7, sig->signer);
	arca_catalog__bind_text_or_null(st, 8, sig->details_json);
	sqlite3_bind_text(st, 9, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return arca_catalog__db_error(cat, rc, "record signature");
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(cat->db);
	return ARCA_OK;
}

arca_err arca_catalog_list_signatures(arca_signature_record **out, size_t *n_out,
	arca_catalog *cat, int64_t snapshot, int64_t artifact)
{
	*out = NULL;
	*n_out = 0;
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "SELECT " SIGNATURE_COLUMNS
		" FROM signatures WHERE snapshot = ? AND coalesce(artifact, 0) = ? ORDER BY id DESC");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_int64(st, 2, artifact);
	void *items;
	err = arca_catalog__collect(&items, n_out, cat, st, &signature_rows);
	*out = items;
	return err;
}

arca_err arca_catalog_update_signature(arca_catalog *cat, int64_t id, const char *state,
	const char *key_id, const char *signer, const char *details_json)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "UPDATE signatures SET state = ?2, "
		"key_id = ?3, signer = coalesce(?4, signer), details_json = coalesce(?5, details_json), "
		"verified_at = CASE WHEN ?2 = 'verified' THEN ?6 ELSE verified_at END WHERE id = ?1");
	if (err < 0)
		return err;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_TRANSIENT);
	bind_key_id(cat, st, 3, key_id);
	arca_catalog__bind_text_or_null(st, 4, signer);
	arca_catalog__bind_text_or_null(st, 5, details_json);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? ARCA_OK : arca_catalog__db_error(cat, rc, "update signature");
}
