/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/bundle_check.c — reading a bundle manifest from a volume, strictly: every field's
 * type, hashes, paths, names, the plan covering each blob exactly once in order, every blob
 * used by a file, variant output or signature. Anything else is ARCA_ECORRUPT naming the
 * field, before import writes a byte.
 */
#include "store/bundle_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"

typedef struct {
	const char *what;
	json_t *index;        /* sha256 → blob index */
	unsigned char *used;  /* per blob */
	arca_bundle__manifest *m;
} reader;

static arca_err bad(const reader *r, const char *fmt, const char *field)
{
	return arca_error_set(ARCA_ECORRUPT, "%s: not an arca bundle manifest: %s %s", r->what,
		field, fmt);
}

static int is_uint(json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Optional string: absent, null or a string. */
static int opt_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return !v || json_is_null(v) || json_is_string(v);
}

static int is_hex64(const char *s)
{
	return s && arca_hex_is_lower(s, ARCA_SHA256_HEX - 1);
}

/* A name we let into the catalog as a ref or a variant: printable, no spaces, bounded. */
static int is_name(const char *s, size_t max)
{
	if (!s || !s[0] || strlen(s) > max || s[0] == '-' || strstr(s, ".."))
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == ':' || *p == '@' || *p == '\\')
			return 0;
	return 1;
}

static arca_err check_blob_ref(reader *r, const char *sha256, json_int_t size, const char *field)
{
	if (!is_hex64(sha256))
		return bad(r, "is not a lowercase SHA-256", field);
	json_t *i = json_object_get(r->index, sha256);
	if (!i) {
		return arca_error_set(ARCA_ECORRUPT, "%s: %s names blob %.16s… that the bundle does "
			"not carry", r->what, field, sha256);
	}
	size_t k = (size_t)json_integer_value(i);
	if (size >= 0 && (uint64_t)size != r->m->blobs[k].size)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s says %" PRId64 " bytes for blob %.16s…, "
			"the blob list %" PRIu64, r->what, field, (int64_t)size, sha256,
			r->m->blobs[k].size);
	r->used[k] = 1;
	return ARCA_OK;
}

static arca_err check_signatures(reader *r, json_t *arr, const char *field)
{
	if (!json_is_array(arr))
		return bad(r, "is not an array", field);
	size_t i;
	json_t *s;
	json_array_foreach(arr, i, s) {
		if (!json_is_object(s) || !opt_str(s, "source") || !opt_str(s, "state") ||
		    !opt_str(s, "signer") || !opt_str(s, "created_at"))
			return bad(r, "has a malformed entry", field);
		arca_err err = check_blob_ref(r, str(s, "blob"), -1, field);
		if (err < 0)
			return err;
	}
	return ARCA_OK;
}

static arca_err check_path(reader *r, const char *path, const char *field)
{
	if (!path)
		return bad(r, "has an entry without a path", field);
	if (arca_path_check_relative(path, strlen(path)) < 0)
		return arca_error_prefix(ARCA_ECORRUPT, "%s: %s", r->what, field);
	return ARCA_OK;
}

static arca_err check_files(reader *r, json_t *arr, const char *field, int need_blob)
{
	if (!json_is_array(arr))
		return bad(r, "is not an array", field);
	json_t *seen = json_object();
	size_t i;
	json_t *f;
	arca_err err = seen ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "import: out of memory");
	json_array_foreach(arr, i, f) {
		if (err < 0)
			break;
		const char *path = str(f, "path");
		json_t *size = json_object_get(f, "size");
		if (!json_is_object(f) || !is_uint(size))
			err = bad(r, "has an entry without a size", field);
		else if ((err = check_path(r, path, field)) < 0)
			break;
		else if (json_object_get(seen, path))
			err = arca_error_set(ARCA_ECORRUPT, "%s: %s lists %s twice", r->what, field,
				path);
		else if (need_blob)
			err = check_blob_ref(r, str(f, "sha256"), json_integer_value(size), field);
		else if (!is_hex64(str(f, "sha256")))
			err = bad(r, "has an entry without a SHA-256", field);
		if (err == ARCA_OK && need_blob) {
			const char *git = str(f, "git_sha1");
			if ((git && git[0] && !arca_hex_is_lower(git, ARCA_SHA1_HEX - 1)) ||
			    !opt_str(f, "git_sha1") || !opt_str(f, "hub_oid") || !opt_str(f, "oid_kind"))
				err = bad(r, "has a malformed git_sha1, hub_oid or oid_kind", field);
		}
		if (err == ARCA_OK)
			json_object_set_new(seen, path, json_true());
	}
	json_decref(seen);
	return err;
}

static arca_err check_variant(reader *r, json_t *v)
{
	const char *name = str(v, "name");
	if (!json_is_object(v) || !is_name(name, 63) || !json_is_string(json_object_get(v, "kind")) ||
	    !opt_str(v, "tool_version") || !opt_str(v, "created_at"))
		return bad(r, "has a variant without a valid name or kind", "snapshots[].variants");
	arca_err err = check_files(r, json_object_get(v, "outputs"), "variants[].outputs", 1);
	if (err == ARCA_OK)
		err = check_files(r, json_object_get(v, "inputs"), "variants[].inputs", 0);
	if (err == ARCA_OK)
		err = check_signatures(r, json_object_get(v, "signatures"), "variants[].signatures");
	json_t *vals = json_object_get(v, "validations");
	if (err == ARCA_OK && !json_is_array(vals))
		err = bad(r, "is not an array", "variants[].validations");
	size_t i;
	json_t *x;
	json_array_foreach(vals, i, x)
		if (err == ARCA_OK && (!json_is_object(x) || !str(x, "prompt_set") ||
		    !str(x, "logits_digest") || !str(x, "at") || !json_object_get(x, "tokens")))
			err = bad(r, "has a malformed record", "variants[].validations");
	return err;
}

static arca_err check_snapshot(reader *r, json_t *s)
{
	if (!json_is_object(s))
		return bad(r, "has an entry that is not an object", "snapshots");
	char text[600];
	arca_ref ref;
	const char *hub = str(s, "hub"), *repo = str(s, "repo_id"), *commit = str(s, "commit");
	if (!hub || !repo || !commit || !is_name(commit, 200))
		return bad(r, "has an entry without hub, repo_id and commit", "snapshots");
	snprintf(text, sizeof(text), "%s:%s@%s", hub, repo, commit);
	if (arca_ref_parse(&ref, text) < 0 || strcmp(ref.repo_id, repo) != 0)
		return arca_error_prefix(ARCA_ECORRUPT, "%s: snapshots: %s", r->what, text);
	if (!opt_str(s, "revision") || !opt_str(s, "source") || !opt_str(s, "origin"))
		return bad(r, "has a malformed revision, source or origin", "snapshots");
	json_t *refs = json_object_get(s, "refs");
	size_t i;
	json_t *x;
	if (refs && !json_is_null(refs) && !json_is_array(refs))
		return bad(r, "is not an array", "snapshots[].refs");
	json_array_foreach(refs, i, x)
		if (!is_name(json_string_value(x), 255))
			return bad(r, "has a name arca does not accept", "snapshots[].refs");
	arca_err err = check_files(r, json_object_get(s, "files"), "snapshots[].files", 1);
	if (err == ARCA_OK)
		err = check_signatures(r, json_object_get(s, "signatures"), "snapshots[].signatures");
	json_t *vars = json_object_get(s, "variants");
	if (err == ARCA_OK && !json_is_array(vars))
		err = bad(r, "is not an array", "snapshots[].variants");
	json_array_foreach(vars, i, x)
		if (err == ARCA_OK)
			err = check_variant(r, x);
	return err;
}

static arca_err read_blobs(reader *r, json_t *arr)
{
	arca_bundle__manifest *m = r->m;
	size_t n = json_array_size(arr);
	if (!json_is_array(arr) || n > ARCA_BUNDLE_MAX_BLOBS)
		return bad(r, "is not an array of at most a million blobs", "blobs");
	if (!(m->blobs = calloc(n ? n : 1, sizeof(*m->blobs))) || !(r->used = calloc(n ? n : 1, 1)))
		return arca_error_set(ARCA_ENOMEM, "import: out of memory");
	size_t i;
	json_t *b;
	json_array_foreach(arr, i, b) {
		const char *sha = str(b, "sha256");
		json_t *size = json_object_get(b, "size");
		if (!is_hex64(sha) || !is_uint(size))
			return bad(r, "has an entry without a SHA-256 and a size", "blobs");
		if (json_object_get(r->index, sha))
			return arca_error_set(ARCA_ECORRUPT, "%s: blobs lists %.16s… twice", r->what, sha);
		memcpy(m->blobs[i].sha256, sha, ARCA_SHA256_HEX);
		m->blobs[i].size = (uint64_t)json_integer_value(size);
		json_object_set_new(r->index, sha, json_integer((json_int_t)i));
		m->n_blobs++;
	}
	return ARCA_OK;
}

/* The plan: every blob in pieces that follow each other from offset 0 to its size. */
static arca_err read_plan(reader *r, json_t *arr)
{
	arca_bundle__manifest *m = r->m;
	size_t n = json_array_size(arr);
	if (!json_is_array(arr) || n == 0 || n > ARCA_BUNDLE_MAX_VOLUMES)
		return bad(r, "is not a list of 1 to 9999 volumes", "volumes");
	uint64_t *next = calloc(m->n_blobs ? m->n_blobs : 1, sizeof(*next));
	if (!next || !(m->volumes = calloc(n, sizeof(*m->volumes)))) {
		free(next);
		return arca_error_set(ARCA_ENOMEM, "import: out of memory");
	}
	arca_err err = ARCA_OK;
	size_t k, i;
	json_t *vol, *e;
	json_array_foreach(arr, k, vol) {
		arca_bundle__volume *v = &m->volumes[m->n_volumes++];
		if (!json_is_array(vol) || json_array_size(vol) > ARCA_BUNDLE_MAX_BLOBS ||
		    !(v->entries = calloc(json_array_size(vol) + 1, sizeof(*v->entries)))) {
			err = json_is_array(vol) ? arca_error_set(ARCA_ENOMEM, "import: out of memory") :
				bad(r, "has a volume that is not a list", "volumes");
			break;
		}
		json_array_foreach(vol, i, e) {
			json_t *idx = json_object_get(r->index, str(e, "blob") ? str(e, "blob") : "");
			json_t *off = json_object_get(e, "offset"), *size = json_object_get(e, "size");
			if (!idx || !is_uint(off) || !is_uint(size)) {
				err = bad(r, "has an entry without a known blob, offset and size", "volumes");
				break;
			}
			size_t b = (size_t)json_integer_value(idx);
			uint64_t o = (uint64_t)json_integer_value(off), s = (uint64_t)json_integer_value(size);
			if (o != next[b] || s > m->blobs[b].size - o || (s == 0 && m->blobs[b].size != 0)) {
				err = arca_error_set(ARCA_ECORRUPT, "%s: volumes: blob %.16s… is not planned "
					"as consecutive pieces", r->what, m->blobs[b].sha256);
				break;
			}
			next[b] += s;
			v->entries[v->n++] = (arca_bundle__entry){ b, o, s };
			v->bytes += s;
		}
		if (err < 0)
			break;
	}
	for (size_t b = 0; err == ARCA_OK && b < m->n_blobs; b++) {
		size_t pieces = 0;
		for (k = 0; k < m->n_volumes; k++)
			for (i = 0; i < m->volumes[k].n; i++)
				pieces += m->volumes[k].entries[i].blob == b;
		if (next[b] != m->blobs[b].size || pieces == 0)
			err = arca_error_set(ARCA_ECORRUPT, "%s: volumes: blob %.16s… is not planned "
				"whole (%" PRIu64 " of %" PRIu64 " bytes)", r->what, m->blobs[b].sha256,
				next[b], m->blobs[b].size);
	}
	free(next);
	return err;
}

arca_err arca_bundle__manifest_parse(arca_bundle__manifest *m, const char *text, size_t len,
	const char *what)
{
	memset(m, 0, sizeof(*m));
	reader r = { what, json_object(), NULL, m };
	json_error_t jerr;
	json_t *doc = len > ARCA_BUNDLE_MANIFEST_MAX ? NULL :
		json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	arca_err err = ARCA_OK;
	if (!r.index)
		err = arca_error_set(ARCA_ENOMEM, "import: out of memory");
	else if (len > ARCA_BUNDLE_MANIFEST_MAX)
		err = arca_error_set(ARCA_ECORRUPT, "%s: the manifest is larger than %u MiB", what,
			ARCA_BUNDLE_MANIFEST_MAX >> 20);
	else if (!json_is_object(doc))
		err = arca_error_set(ARCA_ECORRUPT, "%s: the manifest is not a JSON object%s%s", what,
			doc ? "" : ": ", doc ? "" : jerr.text);
	const char *key;
	json_t *val;
	if (err == ARCA_OK)
		json_object_foreach(doc, key, val)
			if (err == ARCA_OK && strcmp(key, "format") && strcmp(key, "version") &&
			    strcmp(key, "created_at") && strcmp(key, "created_by") &&
			    strcmp(key, "snapshots") && strcmp(key, "blobs") && strcmp(key, "volumes"))
				err = arca_error_set(ARCA_ECORRUPT, "%s: the manifest has a field '%s' that "
					"format version %d does not have", what, key, ARCA_BUNDLE_VERSION);
	if (err == ARCA_OK && (!str(doc, "format") || strcmp(str(doc, "format"), ARCA_BUNDLE_FORMAT)))
		err = bad(&r, "is not \"" ARCA_BUNDLE_FORMAT "\"", "format");
	json_t *version = json_object_get(doc, "version");
	if (err == ARCA_OK && (!json_is_integer(version) || json_integer_value(version) != ARCA_BUNDLE_VERSION))
		err = arca_error_set(json_is_integer(version) && json_integer_value(version) > 1 ?
			ARCA_EVERSION : ARCA_ECORRUPT, "%s: bundle format version %s; this arca reads "
			"version %d", what, json_is_integer(version) ? "newer than 1" : "missing",
			ARCA_BUNDLE_VERSION);
	if (err == ARCA_OK)
		snprintf(m->created_at, sizeof(m->created_at), "%s",
			str(doc, "created_at") ? str(doc, "created_at") : "");
	if (err == ARCA_OK)
		err = read_blobs(&r, json_object_get(doc, "blobs"));
	if (err == ARCA_OK)
		err = read_plan(&r, json_object_get(doc, "volumes"));
	json_t *snaps = json_object_get(doc, "snapshots");
	if (err == ARCA_OK && (!json_is_array(snaps) || json_array_size(snaps) == 0))
		err = bad(&r, "is not a non-empty array", "snapshots");
	size_t i;
	json_array_foreach(snaps, i, val)
		if (err == ARCA_OK)
			err = check_snapshot(&r, val);
	for (i = 0; err == ARCA_OK && i < m->n_blobs; i++)
		if (!r.used[i])
			err = arca_error_set(ARCA_ECORRUPT, "%s: blob %.16s… is carried but no file, "
				"variant or signature uses it", what, m->blobs[i].sha256);
	if (err == ARCA_OK) {
		m->snapshots = json_incref(snaps);
		if (!(m->text = malloc(len + 1)))
			err = arca_error_set(ARCA_ENOMEM, "import: out of memory");
	}
	if (err == ARCA_OK) {
		memcpy(m->text, text, len);
		m->text[len] = 0;
		m->len = len;
		err = arca_sha256_buffer_hex(m->id, text, len);
	}
	json_decref(doc);
	json_decref(r.index);
	free(r.used);
	if (err < 0)
		arca_bundle__manifest_dispose(m);
	return err;
}
