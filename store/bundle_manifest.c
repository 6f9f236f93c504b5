/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/bundle_manifest.c — the bundle manifest (arca-bundle.json): built from the catalog
 * for an export, planned into volumes, and read back strictly on import. docs/bundle.md
 * describes the fields; this file is the one place that writes and checks them.
 */
#include "store/bundle_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "common/util.h"

void arca_bundle__manifest_dispose(arca_bundle__manifest *m)
{
	json_decref(m->snapshots);
	free(m->blobs);
	for (size_t i = 0; m->volumes && i < m->n_volumes; i++)
		free(m->volumes[i].entries);
	free(m->volumes);
	free(m->text);
	memset(m, 0, sizeof(*m));
}

void arca_bundle__entry_name(char *buf, size_t cap, const arca_bundle__manifest *m,
	const arca_bundle__entry *e)
{
	const arca_bundle__blob *b = &m->blobs[e->blob];
	if (e->offset == 0 && e->size == b->size)
		snprintf(buf, cap, "blobs/%s", b->sha256);
	else
		snprintf(buf, cap, "blobs/%s@%" PRIu64, b->sha256, e->offset);
}

char *arca_bundle__volume_json(const arca_bundle__manifest *m, size_t k)
{
	json_t *o = json_pack("{s:s,s:I,s:I}", "bundle", m->id, "volume", (json_int_t)k,
		"volumes", (json_int_t)m->n_volumes);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	return text;
}

/* ------------------------------------------------------------------ building (export) */

typedef struct {
	arca_bundle__manifest *m;
	json_t *index;             /* sha256 → blob index */
	size_t cap;
} blob_set;

static arca_err add_blob(blob_set *set, const char *sha256, uint64_t size)
{
	if (json_object_get(set->index, sha256))
		return ARCA_OK;
	arca_bundle__manifest *m = set->m;
	if (m->n_blobs == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		arca_bundle__blob *grown = realloc(m->blobs, cap * sizeof(*grown));
		if (!grown)
			return arca_error_set(ARCA_ENOMEM, "export: out of memory");
		m->blobs = grown;
		set->cap = cap;
	}
	memcpy(m->blobs[m->n_blobs].sha256, sha256, ARCA_SHA256_HEX);
	m->blobs[m->n_blobs].size = size;
	if (json_object_set_new(set->index, sha256, json_integer((json_int_t)m->n_blobs)) < 0)
		return arca_error_set(ARCA_ENOMEM, "export: out of memory");
	m->n_blobs++;
	return ARCA_OK;
}

/* A JSON text from the catalog as a value (null when absent). */
static json_t *json_field(const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	return v ? v : json_null();
}

static json_t *signatures_json(blob_set *set, arca_store *store, int64_t snapshot,
	int64_t artifact, arca_err *err)
{
	arca_signature_record *sigs = NULL;
	size_t n = 0;
	json_t *arr = json_array();
	if ((*err = arca_catalog_list_signatures(&sigs, &n, arca_store_catalog(store), snapshot,
			artifact)) < 0)
		return arr;
	for (size_t i = 0; *err == ARCA_OK && i < n; i++) {
		uint64_t size = 0;
		if ((*err = arca_store_stat_blob(store, sigs[i].bundle_blob, &size)) < 0 ||
		    (*err = add_blob(set, sigs[i].bundle_blob, size)) < 0)
			break;
		json_array_append_new(arr, json_pack("{s:s,s:s?,s:s?,s:s?,s:s?}", "blob",
			sigs[i].bundle_blob, "source", sigs[i].source, "state", sigs[i].state, "signer",
			sigs[i].signer, "created_at", sigs[i].created_at));
	}
	arca_signature_records_free(sigs, n);
	return arr;
}

static json_t *artifact_files_json(const arca_artifact_file *files, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:I}", "path", files[i].path, "sha256",
			files[i].sha256, "size", (json_int_t)files[i].size));
	return arr;
}

static arca_err variant_json(json_t **out, blob_set *set, arca_store *store, int64_t snapshot,
	const arca_artifact *art)
{
	arca_catalog *cat = arca_store_catalog(store);
	arca_artifact_file *outs = NULL, *ins = NULL;
	arca_validation *vals = NULL;
	size_t n_outs = 0, n_ins = 0, n_vals = 0;
	arca_err err = arca_catalog_artifact_outputs(&outs, &n_outs, cat, art->id);
	if (err == ARCA_OK)
		err = arca_catalog_artifact_inputs(&ins, &n_ins, cat, art->id);
	if (err == ARCA_OK)
		err = arca_catalog_list_validations(&vals, &n_vals, cat, art->id);
	for (size_t i = 0; err == ARCA_OK && i < n_outs; i++)
		err = add_blob(set, outs[i].sha256, outs[i].size);
	json_t *v = json_pack("{s:s,s:s,s:o,s:s?,s:s?,s:o,s:o}", "name", art->name, "kind",
		art->kind, "params", json_field(art->params_json), "tool_version", art->tool_version,
		"created_at", art->created_at, "inputs", artifact_files_json(ins, n_ins), "outputs",
		artifact_files_json(outs, n_outs));
	json_t *va = json_array();
	for (size_t i = 0; i < n_vals; i++)
		json_array_append_new(va, json_pack("{s:s,s:o,s:s,s:o,s:s}", "prompt_set",
			vals[i].prompt_set, "tokens", json_field(vals[i].tokens_json), "logits_digest",
			vals[i].logits_digest ? vals[i].logits_digest : "", "metrics",
			json_field(vals[i].metrics_json), "at", vals[i].at ? vals[i].at : ""));
	json_object_set_new(v, "validations", va);
	if (err == ARCA_OK)
		json_object_set_new(v, "signatures", signatures_json(set, store, snapshot, art->id,
			&err));
	arca_artifact_files_free(outs, n_outs);
	arca_artifact_files_free(ins, n_ins);
	arca_validations_free(vals, n_vals);
	*out = v;
	return err;
}

static json_t *files_json(blob_set *set, const arca_file *files, size_t n, arca_err *err)
{
	json_t *arr = json_array();
	for (size_t i = 0; *err == ARCA_OK && i < n; i++) {
		const arca_file *f = &files[i];
		*err = add_blob(set, f->sha256, f->size);
		json_array_append_new(arr, json_pack("{s:s,s:I,s:s,s:s,s:s?,s:s?,s:o}", "path",
			f->path, "size", (json_int_t)f->size, "sha256", f->sha256, "git_sha1",
			f->git_sha1, "hub_oid", f->hub_oid, "oid_kind", f->oid_kind, "evidence",
			json_field(f->evidence_json)));
	}
	return arr;
}

/* The snapshot's object in the manifest, made on first sight. */
static arca_err snapshot_json(json_t **out, blob_set *set, arca_store *store,
	const arca_snapshot *snap)
{
	arca_file *files = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_files(&files, &n, arca_store_catalog(store), snap->id);
	if (err < 0)
		return err;
	json_t *o = json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:o,s:o,s:o,s:o}", "hub",
		snap->hub, "repo_id", snap->repo_id, "commit", snap->commit, "revision", snap->revision,
		"source", snap->source, "origin", snap->origin, "created_at", snap->created_at,
		"completed_at", snap->completed_at, "refs", json_field(snap->refs_json), "license",
		json_field(snap->license_json), "card", json_field(snap->card_json), "evidence",
		json_field(snap->evidence_json));
	json_object_set_new(o, "files", files_json(set, files, n, &err));
	arca_files_free(files, n);
	if (err == ARCA_OK)
		json_object_set_new(o, "signatures", signatures_json(set, store, snap->id, 0, &err));
	json_object_set_new(o, "variants", json_array());
	*out = o;
	return err;
}

/* Adds the variants a ref names (all, or one) that the snapshot's object lacks. */
static arca_err add_variants(json_t *snap_obj, blob_set *set, arca_store *store,
	int64_t snapshot, const char *only)
{
	arca_artifact *arts = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_artifacts(&arts, &n, arca_store_catalog(store), snapshot);
	json_t *variants = json_object_get(snap_obj, "variants");
	int found = 0;
	for (size_t i = n; err == ARCA_OK && i-- > 0;) { /* newest first: it wins a name */
		const char *name = arts[i].name;
		if (!name || (only[0] && strcmp(name, only) != 0))
			continue;
		found = 1;
		size_t k;
		json_t *v;
		int have = 0;
		json_array_foreach(variants, k, v)
			have |= !strcmp(json_string_value(json_object_get(v, "name")), name);
		if (have)
			continue;
		if ((err = variant_json(&v, set, store, snapshot, &arts[i])) == ARCA_OK)
			json_array_append(variants, v);
		json_decref(v);
	}
	arca_artifacts_free(arts, n);
	if (err == ARCA_OK && only[0] && !found)
		err = arca_error_set(ARCA_ENOTFOUND, "no variant %s (arca show lists the variants)",
			only);
	return err;
}

arca_err arca_bundle__manifest_build(arca_bundle__manifest *m, arca_store *store,
	const arca_ref *refs, size_t n_refs)
{
	memset(m, 0, sizeof(*m));
	arca_time_now_iso(m->created_at, sizeof(m->created_at));
	blob_set set = { m, json_object(), 0 };
	json_t *by_id = json_object();
	m->snapshots = json_array();
	arca_err err = ARCA_OK;
	if (!set.index || !by_id || !m->snapshots)
		err = arca_error_set(ARCA_ENOMEM, "export: out of memory");
	for (size_t i = 0; err == ARCA_OK && i < n_refs; i++) {
		char name[600];
		arca_ref_format(name, sizeof(name), &refs[i]);
		arca_snapshot snap;
		if ((err = arca_catalog_find_snapshot(&snap, arca_store_catalog(store), &refs[i])) < 0) {
			arca_error_prefix(err, "export %s", name);
			break;
		}
		char key[32];
		snprintf(key, sizeof(key), "%" PRId64, snap.id);
		json_t *obj = json_object_get(by_id, key);
		if (strcmp(snap.state, "complete") != 0)
			err = arca_error_set(ARCA_EINVALID, "export %s: the snapshot is incomplete (arca "
				"pull it again to finish it)", name);
		if (err == ARCA_OK && !obj && (err = snapshot_json(&obj, &set, store, &snap)) == ARCA_OK) {
			json_object_set(by_id, key, obj);
			json_array_append_new(m->snapshots, obj);
		}
		if (err == ARCA_OK)
			err = add_variants(obj, &set, store, snap.id, refs[i].variant);
		if (err < 0 && err != ARCA_ENOMEM && !strstr(arca_error_last(), "export "))
			arca_error_prefix(err, "export %s", name);
		arca_snapshot_dispose(&snap);
	}
	json_decref(set.index);
	json_decref(by_id);
	if (err < 0)
		arca_bundle__manifest_dispose(m);
	return err;
}

/* ------------------------------------------------------------------ planning */

static arca_err push_entry(arca_bundle__manifest *m, size_t *cap, size_t blob, uint64_t offset,
	uint64_t size)
{
	arca_bundle__volume *v = &m->volumes[m->n_volumes - 1];
	if (v->n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		arca_bundle__entry *grown = realloc(v->entries, *cap * sizeof(*grown));
		if (!grown)
			return arca_error_set(ARCA_ENOMEM, "export: out of memory");
		v->entries = grown;
	}
	v->entries[v->n++] = (arca_bundle__entry){ blob, offset, size };
	v->bytes += size;
	return ARCA_OK;
}

static arca_err new_volume(arca_bundle__manifest *m, size_t *cap)
{
	if (m->n_volumes == ARCA_BUNDLE_MAX_VOLUMES)
		return arca_error_set(ARCA_EINVALID, "export: more than %u volumes; give a larger "
			"--split", ARCA_BUNDLE_MAX_VOLUMES);
	arca_bundle__volume *grown = realloc(m->volumes, (m->n_volumes + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "export: out of memory");
	m->volumes = grown;
	m->volumes[m->n_volumes++] = (arca_bundle__volume){ NULL, 0, 0 };
	*cap = 0;
	return ARCA_OK;
}

static json_t *plan_json(const arca_bundle__manifest *m)
{
	json_t *vols = json_array();
	for (size_t k = 0; k < m->n_volumes; k++) {
		json_t *ents = json_array();
		for (size_t i = 0; i < m->volumes[k].n; i++) {
			const arca_bundle__entry *e = &m->volumes[k].entries[i];
			json_array_append_new(ents, json_pack("{s:s,s:I,s:I}", "blob",
				m->blobs[e->blob].sha256, "offset", (json_int_t)e->offset, "size",
				(json_int_t)e->size));
		}
		json_array_append_new(vols, ents);
	}
	return vols;
}

arca_err arca_bundle__manifest_plan(arca_bundle__manifest *m, uint64_t capacity)
{
	for (size_t i = 0; m->volumes && i < m->n_volumes; i++)
		free(m->volumes[i].entries);
	free(m->volumes);
	m->volumes = NULL;
	m->n_volumes = 0;
	size_t cap = 0;
	arca_err err = new_volume(m, &cap);
	for (size_t b = 0; err == ARCA_OK && b < m->n_blobs; b++) {
		uint64_t size = m->blobs[b].size, off = 0;
		do {
			uint64_t room = capacity ? capacity - m->volumes[m->n_volumes - 1].bytes : size;
			if (capacity && room == 0) {
				if ((err = new_volume(m, &cap)) < 0)
					break;
				room = capacity;
			}
			uint64_t take = size - off < room ? size - off : room;
			if ((err = push_entry(m, &cap, b, off, take)) < 0)
				break;
			off += take;
		} while (off < size);
	}
	if (err < 0)
		return err;
	json_t *doc = json_pack("{s:s,s:i,s:s,s:s,s:O}", "format", ARCA_BUNDLE_FORMAT, "version",
		ARCA_BUNDLE_VERSION, "created_at", m->created_at, "created_by", "arca " ARCA_VERSION,
		"snapshots", m->snapshots);
	json_t *blobs = json_array();
	for (size_t i = 0; i < m->n_blobs; i++)
		json_array_append_new(blobs, json_pack("{s:s,s:I}", "sha256", m->blobs[i].sha256,
			"size", (json_int_t)m->blobs[i].size));
	json_object_set_new(doc, "blobs", blobs);
	json_object_set_new(doc, "volumes", plan_json(m));
	free(m->text);
	m->text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(doc);
	if (!m->text)
		return arca_error_set(ARCA_ENOMEM, "export: out of memory");
	m->len = strlen(m->text);
	if (m->len > ARCA_BUNDLE_MANIFEST_MAX)
		return arca_error_set(ARCA_EINVALID, "export: the manifest would be %zu bytes, more "
			"than a bundle reader accepts (%u MiB); export fewer snapshots at once", m->len,
			ARCA_BUNDLE_MANIFEST_MAX >> 20);
	return arca_sha256_buffer_hex(m->id, m->text, m->len);
}
