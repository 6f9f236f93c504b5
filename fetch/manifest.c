/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/manifest.c — reading manifests and reading/writing lockfiles (arca/manifest.h).
 * Both are parsed strictly with jansson: duplicate keys, unknown keys, wrong types, bad
 * repo names, unsafe paths and malformed hashes are errors naming the file and entry.
 */
#include "arca/manifest.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/ref.h"
#include "common/io.h"
#include "common/path.h"
#include "common/util.h"
#include "fetch/hub.h"

#define MAX_FILE (64u << 20)

static arca_err load_json(json_t **out, const char *path)
{
	char *text;
	size_t len;
	arca_err err = arca_io_read_file(&text, &len, path, MAX_FILE);
	if (err < 0)
		return err;
	json_error_t jerr;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!*out)
		return arca_error_set(ARCA_EINVALID, "%s:%d:%d: %s", path, jerr.line, jerr.column,
			jerr.text);
	return ARCA_OK;
}

/* Every key of obj must be in allowed. */
static arca_err only_keys(json_t *obj, const char *const *allowed, const char *where)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int ok = 0;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, key);
		if (!ok)
			return arca_error_set(ARCA_EINVALID, "%s: unknown key \"%s\"", where, key);
	}
	return ARCA_OK;
}

static arca_err get_string(char **out, json_t *obj, const char *key, int required,
	const char *where)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v) {
		if (required)
			return arca_error_set(ARCA_EINVALID, "%s: \"%s\" is missing", where, key);
		*out = strdup("");
	} else if (!json_is_string(v)) {
		return arca_error_set(ARCA_EINVALID, "%s: \"%s\" must be a string", where, key);
	} else {
		*out = strdup(json_string_value(v));
	}
	return *out ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "manifest: out of memory");
}

static arca_err get_globs(char ***out, size_t *n_out, json_t *obj, const char *key,
	const char *where)
{
	*out = NULL;
	*n_out = 0;
	json_t *arr = json_object_get(obj, key);
	if (!arr)
		return ARCA_OK;
	if (!json_is_array(arr))
		return arca_error_set(ARCA_EINVALID, "%s: \"%s\" must be a list of patterns", where,
			key);
	*out = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (!*out)
		return arca_error_set(ARCA_ENOMEM, "manifest: out of memory");
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || !json_string_length(v))
			return arca_error_set(ARCA_EINVALID, "%s: \"%s\"[%zu] must be a non-empty string",
				where, key, i);
		if (!((*out)[(*n_out)++] = strdup(json_string_value(v))))
			return arca_error_set(ARCA_ENOMEM, "manifest: out of memory");
	}
	return ARCA_OK;
}

static arca_err check_hub_repo(const char *hub, const char *repo, const char *where)
{
	if (!arca_hub__find(hub)) {
		char names[128];
		arca_hub__names(names, sizeof(names));
		return arca_error_set(ARCA_EINVALID, "%s: hub \"%s\" is not %s", where, hub, names);
	}
	arca_ref ref;
	if (arca_ref_parse(&ref, repo) < 0 || ref.hub[0] || ref.revision[0] || ref.variant[0])
		return arca_error_set(ARCA_EINVALID, "%s: repo \"%s\" is not org/name", where, repo);
	return ARCA_OK;
}

static void free_strings(char **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

/* "arca": {"convert": true, "validate": false, "note": "..."}; validating needs converting. */
static arca_err get_arca(arca_manifest_model *x, json_t *m, const char *where)
{
	json_t *a = json_object_get(m, "arca");
	if (!a)
		return ARCA_OK;
	static const char *const keys[] = { "convert", "validate", "note", NULL };
	char inner[640];
	snprintf(inner, sizeof(inner), "%s: \"arca\"", where);
	if (!json_is_object(a))
		return arca_error_set(ARCA_EINVALID, "%s must be an object", inner);
	arca_err err = only_keys(a, keys, inner);
	if (err < 0)
		return err;
	json_t *convert = json_object_get(a, "convert"), *validate = json_object_get(a, "validate");
	if (!json_is_boolean(convert) || !json_is_boolean(validate))
		return arca_error_set(ARCA_EINVALID, "%s: \"convert\" and \"validate\" must be "
			"true or false", inner);
	x->has_arca = 1;
	x->arca_convert = json_is_true(convert);
	x->arca_validate = json_is_true(validate);
	if (x->arca_validate && !x->arca_convert)
		return arca_error_set(ARCA_EINVALID, "%s: \"validate\" is true but \"convert\" is "
			"false", inner);
	return get_string(&x->arca_note, a, "note", 0, inner);
}

void arca_manifest_dispose(arca_manifest *m)
{
	for (size_t i = 0; m->models && i < m->n_models; i++) {
		arca_manifest_model *x = &m->models[i];
		free(x->hub);
		free(x->repo);
		free(x->revision);
		free(x->note);
		free(x->arca_note);
		free_strings(x->include, x->n_include);
		free_strings(x->exclude, x->n_exclude);
	}
	free(m->models);
	free(m->name);
	free(m->description);
	memset(m, 0, sizeof(*m));
}

arca_err arca_manifest_load(arca_manifest *out, const char *path)
{
	memset(out, 0, sizeof(*out));
	json_t *root;
	arca_err err = load_json(&root, path);
	if (err < 0)
		return err;
	static const char *const top_keys[] = { "manifest_version", "name", "description",
		"models", NULL };
	static const char *const model_keys[] = { "hub", "repo", "revision", "include", "exclude",
		"note", "arca", NULL };
	json_t *models = json_object_get(root, "models");
	if (!json_is_object(root))
		err = arca_error_set(ARCA_EINVALID, "%s: not a JSON object", path);
	else if (json_integer_value(json_object_get(root, "manifest_version")) != 1)
		err = arca_error_set(ARCA_EINVALID, "%s: \"manifest_version\" must be 1", path);
	else if (!json_is_array(models) || json_array_size(models) == 0)
		err = arca_error_set(ARCA_EINVALID, "%s: \"models\" must be a non-empty list", path);
	else if ((err = only_keys(root, top_keys, path)) == ARCA_OK &&
		 (err = get_string(&out->name, root, "name", 1, path)) == ARCA_OK)
		err = get_string(&out->description, root, "description", 0, path);
	if (err == ARCA_OK && !(out->models = calloc(json_array_size(models), sizeof(*out->models))))
		err = arca_error_set(ARCA_ENOMEM, "manifest: out of memory");
	size_t i;
	json_t *m;
	json_array_foreach(models, i, m) {
		if (err < 0)
			break;
		char where[600];
		snprintf(where, sizeof(where), "%s: models[%zu]", path, i);
		arca_manifest_model *x = &out->models[out->n_models++];
		if (!json_is_object(m)) {
			err = arca_error_set(ARCA_EINVALID, "%s: not an object", where);
			break;
		}
		if ((err = only_keys(m, model_keys, where)) < 0 ||
		    (err = get_string(&x->hub, m, "hub", 1, where)) < 0 ||
		    (err = get_string(&x->repo, m, "repo", 1, where)) < 0 ||
		    (err = get_string(&x->revision, m, "revision", 0, where)) < 0 ||
		    (err = get_string(&x->note, m, "note", 0, where)) < 0 ||
		    (err = get_globs(&x->include, &x->n_include, m, "include", where)) < 0 ||
		    (err = get_globs(&x->exclude, &x->n_exclude, m, "exclude", where)) < 0 ||
		    (err = get_arca(x, m, where)) < 0)
			break;
		err = check_hub_repo(x->hub, x->repo, where);
	}
	json_decref(root);
	if (err < 0)
		arca_manifest_dispose(out);
	return err;
}

/* ------------------------------------------------------------------ locks */

static void free_entry(arca_lockfile_entry *e)
{
	free(e->hub);
	free(e->repo);
	free(e->revision);
	free(e->commit);
	for (size_t i = 0; e->files && i < e->n_files; i++) {
		free((char *)e->files[i].path);
		free((char *)e->files[i].sha256);
	}
	free(e->files);
	memset(e, 0, sizeof(*e));
}

void arca_lockfile_dispose(arca_lockfile *lock)
{
	for (size_t i = 0; lock->entries && i < lock->n_entries; i++)
		free_entry(&lock->entries[i]);
	free(lock->entries);
	memset(lock, 0, sizeof(*lock));
}

static arca_err parse_pin(arca_pull_pin *pin, json_t *f, const char *where)
{
	static const char *const keys[] = { "path", "size", "sha256", NULL };
	json_t *path = json_object_get(f, "path"), *size = json_object_get(f, "size");
	const char *sha = json_string_value(json_object_get(f, "sha256"));
	arca_err err;
	if (!json_is_object(f) || (err = only_keys(f, keys, where)) < 0 ||
	    !json_is_string(path) || !json_is_integer(size) || json_integer_value(size) < 0 ||
	    !sha || !arca_hex_is_lower(sha, 64))
		return arca_error_set(ARCA_EINVALID, "%s: needs path, size and a 64-hex sha256", where);
	if (arca_path_check_relative(json_string_value(path), json_string_length(path)) < 0)
		return arca_error_prefix(ARCA_EINVALID, "%s", where);
	pin->size = (uint64_t)json_integer_value(size);
	pin->path = strdup(json_string_value(path));
	pin->sha256 = strdup(sha);
	if (!pin->path || !pin->sha256)
		return arca_error_set(ARCA_ENOMEM, "lock: out of memory");
	return ARCA_OK;
}

static arca_err parse_entry(arca_lockfile_entry *e, json_t *m, const char *where)
{
	static const char *const keys[] = { "hub", "repo", "revision", "commit", "files", NULL };
	json_t *files = json_object_get(m, "files");
	arca_err err;
	if (!json_is_object(m))
		return arca_error_set(ARCA_EINVALID, "%s: not an object", where);
	if ((err = only_keys(m, keys, where)) < 0 ||
	    (err = get_string(&e->hub, m, "hub", 1, where)) < 0 ||
	    (err = get_string(&e->repo, m, "repo", 1, where)) < 0 ||
	    (err = get_string(&e->revision, m, "revision", 1, where)) < 0 ||
	    (err = get_string(&e->commit, m, "commit", 1, where)) < 0 ||
	    (err = check_hub_repo(e->hub, e->repo, where)) < 0)
		return err;
	size_t n = strlen(e->commit);
	if ((n != 40 && n != 64) || !arca_hex_is_lower(e->commit, n))
		return arca_error_set(ARCA_EINVALID, "%s: commit \"%s\" is not 40 or 64 hex digits",
			where, e->commit);
	if (!json_is_array(files))
		return arca_error_set(ARCA_EINVALID, "%s: \"files\" must be a list", where);
	if (!(e->files = calloc(json_array_size(files) + 1, sizeof(*e->files))))
		return arca_error_set(ARCA_ENOMEM, "lock: out of memory");
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f) {
		char fwhere[700];
		snprintf(fwhere, sizeof(fwhere), "%s.files[%zu]", where, i);
		if ((err = parse_pin(&e->files[e->n_files++], f, fwhere)) < 0)
			return err;
	}
	return ARCA_OK;
}

arca_err arca_lockfile_load(arca_lockfile *out, const char *path)
{
	memset(out, 0, sizeof(*out));
	json_t *root;
	arca_err err = load_json(&root, path);
	if (err < 0)
		return err;
	static const char *const keys[] = { "lock_version", "manifest", "generated_by",
		"generated_at", "models", NULL };
	json_t *models = json_object_get(root, "models");
	if (!json_is_object(root) || json_integer_value(json_object_get(root, "lock_version")) != 1)
		err = arca_error_set(ARCA_EINVALID, "%s: not an arca lock (lock_version 1)", path);
	else if ((err = only_keys(root, keys, path)) == ARCA_OK && !json_is_array(models))
		err = arca_error_set(ARCA_EINVALID, "%s: \"models\" must be a list", path);
	if (err == ARCA_OK &&
	    !(out->entries = calloc(json_array_size(models) + 1, sizeof(*out->entries))))
		err = arca_error_set(ARCA_ENOMEM, "lock: out of memory");
	size_t i;
	json_t *m;
	json_array_foreach(models, i, m) {
		if (err < 0)
			break;
		char where[600];
		snprintf(where, sizeof(where), "%s: models[%zu]", path, i);
		err = parse_entry(&out->entries[out->n_entries++], m, where);
	}
	json_decref(root);
	if (err < 0)
		arca_lockfile_dispose(out);
	return err;
}

const arca_lockfile_entry *arca_lockfile_find(const arca_lockfile *lock, const char *hub, const char *repo,
	const char *revision)
{
	for (size_t i = 0; i < lock->n_entries; i++) {
		const arca_lockfile_entry *e = &lock->entries[i];
		if (!strcmp(e->hub, hub) && !strcmp(e->repo, repo) && !strcmp(e->revision, revision))
			return e;
	}
	return NULL;
}

arca_err arca_lockfile_set(arca_lockfile *lock, const char *hub, const char *repo, const char *revision,
	const char *commit, const arca_pull_pin *files, size_t n_files)
{
	arca_lockfile_entry e = { 0 };
	e.hub = strdup(hub);
	e.repo = strdup(repo);
	e.revision = strdup(revision);
	e.commit = strdup(commit);
	e.files = calloc(n_files + 1, sizeof(*e.files));
	int ok = e.hub && e.repo && e.revision && e.commit && e.files;
	for (size_t i = 0; ok && i < n_files; i++) {
		e.files[i].path = strdup(files[i].path);
		e.files[i].sha256 = strdup(files[i].sha256);
		e.files[i].size = files[i].size;
		e.n_files++;
		ok = e.files[i].path && e.files[i].sha256;
	}
	if (!ok) {
		free_entry(&e);
		return arca_error_set(ARCA_ENOMEM, "lock: out of memory");
	}
	for (size_t i = 0; i < lock->n_entries; i++) {
		arca_lockfile_entry *old = &lock->entries[i];
		if (!strcmp(old->hub, hub) && !strcmp(old->repo, repo) &&
		    !strcmp(old->revision, revision)) {
			free_entry(old);
			*old = e;
			return ARCA_OK;
		}
	}
	arca_lockfile_entry *grown = realloc(lock->entries, (lock->n_entries + 1) * sizeof(*grown));
	if (!grown) {
		free_entry(&e);
		return arca_error_set(ARCA_ENOMEM, "lock: out of memory");
	}
	lock->entries = grown;
	grown[lock->n_entries++] = e;
	return ARCA_OK;
}

arca_err arca_lockfile_save(const arca_lockfile *lock, const char *path, const char *manifest_name)
{
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	json_t *models = json_array();
	for (size_t i = 0; models && i < lock->n_entries; i++) {
		const arca_lockfile_entry *e = &lock->entries[i];
		json_t *files = json_array();
		for (size_t k = 0; files && k < e->n_files; k++)
			json_array_append_new(files, json_pack("{s:s,s:I,s:s}", "path", e->files[k].path,
				"size", (json_int_t)e->files[k].size, "sha256", e->files[k].sha256));
		json_array_append_new(models, json_pack("{s:s,s:s,s:s,s:s,s:o}", "hub", e->hub, "repo",
			e->repo, "revision", e->revision, "commit", e->commit, "files", files));
	}
	char generator[64];
	snprintf(generator, sizeof(generator), "arca %s", ARCA_VERSION);
	json_t *root = json_pack("{s:i,s:s,s:s,s:s,s:o}", "lock_version", 1, "manifest",
		manifest_name, "generated_by", generator, "generated_at", now, "models", models);
	char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (!text)
		return arca_error_set(ARCA_ENOMEM, "lock: out of memory");
	size_t len = strlen(text);
	text[len] = '\0';
	char *with_newline = realloc(text, len + 2);
	if (!with_newline) {
		free(text);
		return arca_error_set(ARCA_ENOMEM, "lock: out of memory");
	}
	with_newline[len] = '\n';
	with_newline[len + 1] = '\0';
	arca_err err = arca_io_write_file(path, with_newline, len + 1, 0644);
	free(with_newline);
	return err;
}
