/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/bundle_apply.c — the catalog side of an import, inside the importer's transaction:
 * each snapshot of the manifest with its files and refs, its variants with their lineage
 * and validations, and every signature, each checked here against this store's trust
 * (an invalid one undoes the whole import).
 */
#include "store/bundle_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/signatures.h"

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* hub:org/name@commit[:variant] of a manifest snapshot, as a REF. */
static arca_ref ref_of(json_t *s, const char *variant)
{
	arca_ref ref;
	memset(&ref, 0, sizeof(ref));
	snprintf(ref.hub, sizeof(ref.hub), "%s", str(s, "hub"));
	snprintf(ref.repo_id, sizeof(ref.repo_id), "%s", str(s, "repo_id"));
	snprintf(ref.revision, sizeof(ref.revision), "%s", str(s, "commit"));
	snprintf(ref.variant, sizeof(ref.variant), "%s", variant ? variant : "");
	return ref;
}

/* A JSON value as catalog text (NULL for null or absent); malloc'ed. */
static char *text_of(json_t *v)
{
	return v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* Whether the manifest's list (objects with path and sha256) has this file. */
static int listed(json_t *list, const char *path, const char *sha256)
{
	size_t k;
	json_t *f;
	json_array_foreach(list, k, f)
		if (!strcmp(str(f, "path"), path) && !strcmp(str(f, "sha256"), sha256))
			return 1;
	return 0;
}

/* Whether the snapshot's files are exactly the manifest's (path and sha256). */
static arca_err same_files(int *same, arca_catalog *cat, int64_t snapshot, json_t *files)
{
	arca_file *have = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_files(&have, &n, cat, snapshot);
	*same = err == ARCA_OK && n == json_array_size(files);
	for (size_t i = 0; *same && i < n; i++)
		*same = listed(files, have[i].path, have[i].sha256);
	arca_files_free(have, n);
	return err;
}

static arca_err add_files(arca_catalog *cat, int64_t snapshot, json_t *files)
{
	size_t i;
	json_t *f;
	arca_err err = ARCA_OK;
	json_array_foreach(files, i, f) {
		if (err < 0)
			break;
		arca_file rec = { (char *)str(f, "path"), (uint64_t)json_integer_value(
			json_object_get(f, "size")), "", "", (char *)str(f, "hub_oid"),
			(char *)str(f, "oid_kind"), text_of(json_object_get(f, "evidence")) };
		snprintf(rec.sha256, sizeof(rec.sha256), "%s", str(f, "sha256"));
		snprintf(rec.git_sha1, sizeof(rec.git_sha1), "%s",
			str(f, "git_sha1") ? str(f, "git_sha1") : "");
		err = arca_catalog_add_file(cat, snapshot, &rec);
		free(rec.evidence_json);
	}
	return err;
}

static arca_err add_signatures(arca_catalog *cat, int64_t snapshot, int64_t artifact,
	json_t *sigs, size_t *n_out)
{
	arca_signature_record *have = NULL;
	size_t n_have = 0;
	arca_err err = arca_catalog_list_signatures(&have, &n_have, cat, snapshot, artifact);
	size_t i;
	json_t *s;
	json_array_foreach(sigs, i, s) {
		int known = 0;
		for (size_t k = 0; k < n_have; k++)
			known |= !strcmp(have[k].bundle_blob, str(s, "blob"));
		if (err < 0 || known)
			continue;
		arca_signature_record rec = { .snapshot = snapshot, .artifact = artifact,
			.bundle_blob = (char *)str(s, "blob"),
			.source = (char *)(str(s, "source") ? str(s, "source") : "bundle"),
			.state = "untrusted", .signer = (char *)str(s, "signer"), .details_json = "{}" };
		int64_t id;
		if ((err = arca_catalog_add_signature(cat, &rec, &id)) == ARCA_OK)
			(*n_out)++;
	}
	arca_signature_records_free(have, n_have);
	return err;
}

static arca_err add_lineage(arca_catalog *cat, int64_t artifact, json_t *v)
{
	arca_err err = ARCA_OK;
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(v, "inputs"), i, x)
		if (err == ARCA_OK)
			err = arca_catalog_add_artifact_input(cat, artifact, str(x, "sha256"),
				str(x, "path"));
	json_array_foreach(json_object_get(v, "outputs"), i, x)
		if (err == ARCA_OK)
			err = arca_catalog_add_artifact_output(cat, artifact, str(x, "sha256"),
				str(x, "path"));
	json_array_foreach(json_object_get(v, "validations"), i, x) {
		if (err < 0)
			break;
		char *tokens = text_of(json_object_get(x, "tokens"));
		char *metrics = text_of(json_object_get(x, "metrics"));
		err = arca_catalog_add_validation_at(cat, artifact, str(x, "prompt_set"),
			tokens ? tokens : "[]", str(x, "logits_digest"), metrics, str(x, "at"), NULL);
		free(tokens);
		free(metrics);
	}
	return err;
}

/* The variant's artifact here: the newest of that name when its outputs are the bundle's,
 * else a new one. *added says which. */
static arca_err add_variant(int64_t *artifact, int *added, arca_catalog *cat, int64_t snapshot,
	json_t *v)
{
	arca_artifact have;
	arca_err err = arca_catalog_find_artifact(&have, cat, snapshot, str(v, "name"));
	*added = 0;
	if (err == ARCA_OK) {
		arca_artifact_file *outs = NULL;
		size_t n = 0;
		json_t *want = json_object_get(v, "outputs");
		err = arca_catalog_artifact_outputs(&outs, &n, cat, have.id);
		int same = err == ARCA_OK && n == json_array_size(want);
		for (size_t i = 0; same && i < n; i++)
			same = listed(want, outs[i].path, outs[i].sha256);
		arca_artifact_files_free(outs, n);
		*artifact = have.id;
		arca_artifact_dispose(&have);
		if (err < 0 || same)
			return err;
	} else if (err != ARCA_ENOTFOUND) {
		return err;
	}
	arca_error_clear();
	char *params = text_of(json_object_get(v, "params"));
	err = arca_catalog_add_artifact(cat, str(v, "kind"), str(v, "name"), snapshot, params,
		artifact);
	free(params);
	if (err == ARCA_OK)
		err = add_lineage(cat, *artifact, v);
	*added = err == ARCA_OK;
	return err;
}

/* Checks the signatures of one target (snapshot or variant) with this store's trust and
 * records what it found; an invalid one is ARCA_EMISMATCH. */
static arca_err check_target(arca_store *store, json_t *s, const char *variant)
{
	arca_ref ref = ref_of(s, variant);
	arca_store_verify_opts vo = { .ref = &ref, .no_rehash = 1, .record = 1 };
	arca_store_verify_result res;
	arca_err err = arca_store_verify(&res, store, &vo);
	if (err == ARCA_ENOTFOUND && res.n_checks == 0) {
		arca_error_clear();
		err = ARCA_OK;
	} else if (err == ARCA_EMISMATCH) {
		err = ARCA_OK;
		arca_error_clear();
	}
	for (size_t i = 0; err == ARCA_OK && i < res.n_checks; i++)
		if (res.checks[i].verdict.state == ARCA_SIG_INVALID)
			err = arca_error_set(ARCA_EMISMATCH, "%s: a signature it carries is invalid: %s",
				res.subject ? res.subject : ref.repo_id, res.checks[i].verdict.reason);
	arca_store_verify_result_dispose(&res);
	return err;
}

/* The snapshot the manifest entry names, as this store has it now. */
static arca_err load(arca_snapshot *out, arca_catalog *cat, json_t *s)
{
	arca_ref ref = ref_of(s, NULL);
	return arca_catalog_find_snapshot(out, cat, &ref);
}

static arca_err apply_snapshot(arca_bundle_imported *r, arca_store *store, json_t *s,
	const char *origin)
{
	arca_catalog *cat = arca_store_catalog(store);
	char *license = text_of(json_object_get(s, "license"));
	char *card = text_of(json_object_get(s, "card"));
	char *evidence = text_of(json_object_get(s, "evidence"));
	arca_snapshot_new sn = { str(s, "hub"), str(s, "repo_id"), str(s, "commit"),
		str(s, "revision") ? str(s, "revision") : str(s, "commit"), "bundle", origin, license,
		card, evidence };
	int64_t id;
	int existed = 0, same = 0;
	arca_err err = arca_catalog_create_snapshot(cat, &sn, &id, &existed);
	free(license);
	free(card);
	free(evidence);
	json_t *files = json_object_get(s, "files");
	if (err == ARCA_OK && existed)
		err = same_files(&same, cat, id, files);
	arca_snapshot snap;
	memset(&snap, 0, sizeof(snap));
	if (err == ARCA_OK && existed && (err = load(&snap, cat, s)) == ARCA_OK &&
	    !same && !strcmp(snap.state, "complete"))
		err = arca_error_set(ARCA_EMISMATCH, "%s:%s@%.12s is in this store with other files "
			"than the bundle has", snap.hub, snap.repo_id, snap.commit);
	int was_complete = existed && same && snap.state && !strcmp(snap.state, "complete");
	arca_snapshot_dispose(&snap);
	if (err == ARCA_OK && !was_complete && (err = add_files(cat, id, files)) == ARCA_OK)
		err = arca_catalog_complete_snapshot(cat, id);
	r->outcome = !existed ? ARCA_BUNDLE_IMPORTED : was_complete ? ARCA_BUNDLE_ALREADY :
		ARCA_BUNDLE_COMPLETED;
	r->n_files = json_array_size(files);
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(s, "refs"), i, x) {
		int64_t at = 0;
		if (err < 0 || (err = arca_catalog_add_ref(cat, id, json_string_value(x), &at)) < 0 ||
		    at == id)
			continue;
		char **grown = realloc(r->refs_kept, (r->n_refs_kept + 1) * sizeof(*grown));
		if (!grown || !(grown[r->n_refs_kept] = strdup(json_string_value(x))))
			err = arca_error_set(ARCA_ENOMEM, "import: out of memory");
		if (grown)
			r->refs_kept = grown;
		if (err == ARCA_OK)
			r->n_refs_kept++;
	}
	size_t n_sigs = 0;
	if (err == ARCA_OK)
		err = add_signatures(cat, id, 0, json_object_get(s, "signatures"), &n_sigs);
	if (err == ARCA_OK)
		err = check_target(store, s, NULL);
	json_array_foreach(json_object_get(s, "variants"), i, x) {
		int64_t art = 0;
		int added = 0;
		if (err < 0 || (err = add_variant(&art, &added, cat, id, x)) < 0)
			break;
		if (added && r->outcome == ARCA_BUNDLE_ALREADY)
			r->outcome = ARCA_BUNDLE_COMPLETED;
		size_t before = n_sigs;
		if ((err = add_signatures(cat, id, art, json_object_get(x, "signatures"), &n_sigs)) == ARCA_OK &&
		    n_sigs > before && r->outcome == ARCA_BUNDLE_ALREADY)
			r->outcome = ARCA_BUNDLE_COMPLETED;
		if (err == ARCA_OK)
			err = check_target(store, s, str(x, "name"));
		r->n_variants++;
	}
	r->n_signatures = n_sigs;
	if (err == ARCA_OK && asprintf(&r->subject, "%s:%s@%s", str(s, "hub"), str(s, "repo_id"),
			str(s, "commit")) < 0) {
		r->subject = NULL;
		err = arca_error_set(ARCA_ENOMEM, "import: out of memory");
	}
	if (err == ARCA_OK && (err = load(&snap, cat, s)) == ARCA_OK) {
		if (snap.signature_state && !(r->signature_state = strdup(snap.signature_state)))
			err = arca_error_set(ARCA_ENOMEM, "import: out of memory");
		arca_snapshot_dispose(&snap);
	}
	return err;
}

arca_err arca_bundle__apply(arca_bundle_import_result *out, arca_store *store,
	const arca_bundle__manifest *m, const char *origin)
{
	size_t n = json_array_size(m->snapshots);
	if (!(out->snapshots = calloc(n ? n : 1, sizeof(*out->snapshots))))
		return arca_error_set(ARCA_ENOMEM, "import: out of memory");
	arca_err err = ARCA_OK;
	for (size_t i = 0; err == ARCA_OK && i < n; i++) {
		out->n_snapshots++;
		err = apply_snapshot(&out->snapshots[i], store, json_array_get(m->snapshots, i),
			origin);
	}
	return err;
}
