/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/serve_api.c — arca serve's /api/models/{org}/{name}/... answers, shaped as the Hub's
 * (shared/spec/hub-protocol.md §1.3, §1.4): model info with siblings, the tree listing paged
 * by an absolute Link header with an opaque cursor, refs, and paths-info.
 *
 * Listings come from the snapshot's file rows (sorted by path); folders are derived from the
 * paths and carry their real git tree oid. Facts the store does not keep are answered the
 * way a public, ungated model with no statistics would be: private false, gated false,
 * downloads 0. lastCommit (expand=true) names the served commit, since the store knows the
 * files at that commit, not which earlier commit last changed each.
 */
#include "store/serve_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_MAX 1000
#define PAGE_EXPANDED 50
#define PATHS_INFO_MAX 1000

/* ------------------------------------------------------------------ shared pieces */

/* The hub's answer to "resolve revision" that a pull recorded, or NULL. Borrowed. */
static json_t *resolve_answer(json_t *evidence)
{
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(evidence, "answers"), i, a) {
		const char *what = json_string_value(json_object_get(a, "what"));
		if (what && !strcmp(what, "resolve revision"))
			return a;
	}
	return NULL;
}

static const char *last_modified(const serve_rev *rev, json_t *answer)
{
	const char *t = json_string_value(json_object_get(answer, "lastModified"));
	if (t)
		return t;
	return rev->snap.completed_at ? rev->snap.completed_at : rev->snap.created_at;
}

/* files[lo..hi): the files whose path starts with prefix (prefix_len bytes). */
static void find_range(const arca_file *files, size_t n, const char *prefix, size_t prefix_len,
	size_t *lo_out, size_t *hi_out)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strncmp(files[mid].path, prefix, prefix_len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < n && !strncmp(files[end].path, prefix, prefix_len))
		end++;
	*lo_out = lo;
	*hi_out = end;
}

/* files[*lo..*hi) under folder dir (dir_len bytes, no trailing '/'); 0 when it is none. */
static int folder_range(const arca_file *files, size_t n, const char *dir, size_t dir_len,
	size_t *lo, size_t *hi)
{
	char *prefix = malloc(dir_len + 2);
	if (!prefix)
		return 0;
	memcpy(prefix, dir, dir_len);
	prefix[dir_len] = '/';
	prefix[dir_len + 1] = '\0';
	find_range(files, n, prefix, dir_len + 1, lo, hi);
	free(prefix);
	return *hi > *lo;
}

static json_t *file_json(const arca_file *f, const serve_entry *e)
{
	json_t *j = json_pack("{s:s,s:s,s:I,s:s}", "type", "file", "oid", e->oid, "size",
		(json_int_t)f->size, "path", f->path);
	if (j && e->lfs)
		json_object_set_new(j, "lfs", json_pack("{s:s,s:I,s:I}", "oid", f->sha256, "size",
			(json_int_t)f->size, "pointerSize", (json_int_t)e->pointer_size));
	return j;
}

static void add_last_commit(json_t *entry, const serve_rev *rev, json_t *answer)
{
	json_object_set_new(entry, "lastCommit", json_pack("{s:s,s:s,s:s}", "id", rev->commit,
		"title", "", "date", last_modified(rev, answer)));
}

/* A tree entry for path (len bytes): a file of files[], or a folder holding files[lo..hi). */
static arca_err entry_json(json_t **out, serve_req *r, const serve_rev *rev, arca_file *files,
	size_t n, const char *path, size_t len, int expand, json_t *answer)
{
	*out = NULL;
	size_t lo, hi;
	find_range(files, n, path, len, &lo, &hi);
	arca_err err = ARCA_OK;
	if (lo < hi && files[lo].path[len] == '\0') {
		serve_entry e;
		if ((err = arca_serve__describe(&e, r->store, rev, &files[lo])) < 0)
			return err;
		*out = file_json(&files[lo], &e);
	} else if (folder_range(files, n, path, len, &lo, &hi)) {
		char oid[ARCA_SHA1_HEX];
		if ((err = arca_serve__tree_oid(oid, r->store, rev, files, lo, hi, len)) < 0)
			return err;
		*out = json_pack("{s:s,s:s,s:i,s:s%}", "type", "directory", "oid", oid, "size", 0,
			"path", path, len);
	} else {
		return arca_error_set(ARCA_ENOTFOUND, "%.*s: no such file or folder at %s", (int)len,
			path, rev->commit);
	}
	if (!*out)
		return arca_error_set(ARCA_ENOMEM, "listing: out of memory");
	if (expand)
		add_last_commit(*out, rev, answer);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ model info */

/* The Hub's computed tags from a card, when the pull kept none. */
static json_t *card_tags(json_t *card)
{
	json_t *tags = json_array(), *t = json_object_get(card, "tags"), *v;
	size_t i;
	if (json_is_string(t))
		json_array_append(tags, t);
	json_array_foreach(t, i, v)
		if (json_is_string(v))
			json_array_append(tags, v);
	json_t *bases = json_object_get(card, "base_model");
	const char *relation = json_string_value(json_object_get(card, "base_model_relation"));
	for (size_t k = 0; k < (json_is_array(bases) ? json_array_size(bases) : 1); k++) {
		const char *b = json_string_value(json_is_array(bases) ? json_array_get(bases, k) : bases);
		if (!b)
			continue;
		json_array_append_new(tags, json_sprintf("base_model:%s", b));
		if (relation)
			json_array_append_new(tags, json_sprintf("base_model:%s:%s", relation, b));
	}
	const char *license = json_string_value(json_object_get(card, "license"));
	if (license)
		json_array_append_new(tags, json_sprintf("license:%s", license));
	return tags;
}

/* Whether expand= asked for key (no expand at all: every key). */
typedef struct {
	const char *keys[64];
	size_t n;
} expand_list;

static enum MHD_Result collect_expand(void *cls, enum MHD_ValueKind kind, const char *key,
	const char *value)
{
	(void)kind;
	expand_list *e = cls;
	if (value && (!strcmp(key, "expand") || !strcmp(key, "expand[]")) && e->n < 64)
		e->keys[e->n++] = value;
	return MHD_YES;
}

static void keep_expanded(json_t *info, const expand_list *e)
{
	if (e->n == 0)
		return;
	const char *key;
	json_t *value;
	void *tmp;
	json_object_foreach_safe(info, tmp, key, value) {
		int keep = !strcmp(key, "_id") || !strcmp(key, "id");
		for (size_t i = 0; i < e->n && !keep; i++)
			keep = !strcmp(e->keys[i], key);
		if (!keep)
			json_object_del(info, key);
	}
}

static arca_err siblings(json_t **out, serve_req *r, const serve_rev *rev, int blobs)
{
	arca_file *files = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_files(&files, &n, arca_store_catalog(r->store),
		rev->snap.id);
	json_t *list = json_array();
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		json_t *s = json_pack("{s:s}", "rfilename", files[i].path);
		serve_entry e;
		if (blobs && s && (err = arca_serve__describe(&e, r->store, rev, &files[i])) == ARCA_OK) {
			json_object_set_new(s, "size", json_integer((json_int_t)files[i].size));
			json_object_set_new(s, "blobId", json_string(e.oid));
			if (e.lfs)
				json_object_set_new(s, "lfs", json_pack("{s:s,s:I,s:I}", "sha256",
					files[i].sha256, "size", (json_int_t)files[i].size, "pointerSize",
					(json_int_t)e.pointer_size));
		}
		json_array_append_new(list, s);
	}
	arca_files_free(files, n);
	*out = list;
	return err;
}

enum MHD_Result arca_serve__model_info(serve_req *r, const char *org, const char *name,
	const char *rev_name)
{
	serve_rev rev;
	enum MHD_Result ret;
	if (!arca_serve__open_revision(&rev, r, org, name, rev_name, &ret))
		return ret;
	json_t *evidence = rev.snap.evidence_json ? json_loads(rev.snap.evidence_json, 0, NULL) : NULL;
	json_t *card = rev.snap.card_json ? json_loads(rev.snap.card_json, 0, NULL) : NULL;
	json_t *answer = resolve_answer(evidence), *list = NULL;
	json_t *tags = json_object_get(answer, "tags");
	char id[ARCA_SHA256_HEX];
	char name_key[260];
	snprintf(name_key, sizeof(name_key), "%s:%s", rev.hub, rev.repo_id);
	arca_sha256_buffer_hex(id, name_key, strlen(name_key));
	id[24] = '\0';
	arca_err err = siblings(&list, r, &rev, arca_serve__query_bool(r, "blobs", 0));
	json_t *info = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:i,s:i,s:o,s:o,s:o,"
		"s:[],s:I}", "_id", id, "id", rev.repo_id, "modelId", rev.repo_id, "author", rev.org,
		"sha", rev.commit, "lastModified", last_modified(&rev, answer), "createdAt",
		rev.snap.created_at, "private", 0, "gated", 0, "disabled", 0, "downloads", 0,
		"likes", 0, "tags", json_is_array(tags) ? json_incref(tags) : card_tags(card),
		"cardData", card ? json_incref(card) : json_object(), "siblings", list ? list :
		json_array(), "spaces", "usedStorage", (json_int_t)rev.snap.total_size);
	static const char *const from_card[] = { "pipeline_tag", "library_name" };
	for (size_t i = 0; info && i < 2; i++) {
		json_t *v = json_object_get(card, from_card[i]);
		if (json_is_string(v))
			json_object_set(info, from_card[i], v);
	}
	expand_list want = { { 0 }, 0 };
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_expand, &want);
	if (info)
		keep_expanded(info, &want);
	json_decref(evidence);
	json_decref(card);
	ret = arca_serve__reply_result(r, err, info, NULL);
	arca_serve__rev_dispose(&rev);
	return ret;
}

/* ------------------------------------------------------------------ tree */

typedef struct {
	const char *path;  /* a file's path, or the start of one holding the folder */
	size_t len;
} listing_item;

static int compare_items(const void *a, const void *b)
{
	const listing_item *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->path, y->path, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* The entries under base (base_len bytes; 0: the root), one level or all of them. */
static listing_item *list_items(const arca_file *files, size_t lo, size_t hi, size_t base_len,
	int recursive, size_t *n_out)
{
	size_t from = base_len ? base_len + 1 : 0, cap = 1, n = 0;
	for (size_t i = lo; i < hi; i++) /* each file and each folder above it, at most */
		for (const char *s = files[i].path + from; s; s = strchr(s + 1, '/'))
			cap++;
	listing_item *items = malloc(cap * sizeof(*items));
	if (!items)
		return NULL;
	for (size_t i = lo; i < hi; i++) {
		const char *path = files[i].path, *prev = i > lo ? files[i - 1].path : "";
		for (const char *s = strchr(path + from, '/'); s; s = strchr(s + 1, '/')) {
			size_t len = (size_t)(s - path);
			/* sorted paths: a folder already seen holds the previous file too */
			if (strncmp(prev, path, len + 1) != 0)
				items[n++] = (listing_item){ path, len };
			if (!recursive)
				break;
		}
		if (recursive || !strchr(path + from, '/'))
			items[n++] = (listing_item){ path, strlen(path) };
	}
	qsort(items, n, sizeof(*items), compare_items);
	*n_out = n;
	return items;
}

/* A whole number query parameter in [0, max]: *out (unchanged when absent); -1 when it is
 * there but not such a number. */
static int query_count(const serve_req *r, const char *name, size_t max, size_t *out)
{
	char *v = arca_serve__query(r, name), *end = NULL;
	if (!v)
		return 0;
	unsigned long long n = v[0] >= '0' && v[0] <= '9' ? strtoull(v, &end, 10) : 0;
	int ok = end && !*end && n <= max;
	free(v);
	if (ok)
		*out = (size_t)n;
	return ok ? 0 : -1;
}

/* A path as it goes into a URL: '/' kept, everything but unreserved characters escaped. */
static char *url_escape_path(const char *path)
{
	char *out = malloc(3 * strlen(path) + 1);
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)path; out && *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p))
			out[o++] = (char)*p;
		else
			o += (size_t)sprintf(out + o, "%%%02X", *p);
	}
	if (out)
		out[o] = '\0';
	return out;
}

static enum MHD_Result tree_page(serve_req *r, const serve_rev *rev, arca_file *files,
	size_t n_files, const char *path)
{
	int recursive = arca_serve__query_bool(r, "recursive", 0);
	int expand = arca_serve__query_bool(r, "expand", 0);
	size_t base_len = strlen(path), lo = 0, hi = n_files;
	if (base_len && !folder_range(files, n_files, path, base_len, &lo, &hi))
		return arca_serve__reply_error(r, 404, "EntryNotFound", rev->commit,
			"Entry not found: %.300s is not a folder at %s", path, rev->commit);
	size_t limit = expand ? PAGE_EXPANDED : PAGE_MAX, cursor = 0, n = 0;
	if (query_count(r, "limit", SIZE_MAX, &limit) < 0 || limit == 0)
		return arca_serve__reply_error(r, 400, NULL, NULL, "Invalid limit");
	if (limit > (expand ? PAGE_EXPANDED : PAGE_MAX))
		limit = expand ? PAGE_EXPANDED : PAGE_MAX;
	listing_item *items = list_items(files, lo, hi, base_len, recursive, &n);
	if (!items)
		return arca_serve__reply_failure(r, ARCA_ENOMEM);
	if (query_count(r, "cursor", n, &cursor) < 0) {
		free(items);
		return arca_serve__reply_error(r, 400, NULL, NULL, "Invalid cursor");
	}
	json_t *page = json_array(), *evidence = NULL;
	if (expand && rev->snap.evidence_json)
		evidence = json_loads(rev->snap.evidence_json, 0, NULL);
	arca_err err = page ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "listing: out of memory");
	for (size_t i = cursor; i < n && i < cursor + limit && err == ARCA_OK; i++) {
		json_t *e;
		if ((err = entry_json(&e, r, rev, files, n_files, items[i].path, items[i].len, expand,
				resolve_answer(evidence))) == ARCA_OK)
			json_array_append_new(page, e);
	}
	json_decref(evidence);
	free(items);
	char base[300], *escaped = NULL, *link = NULL;
	serve_header headers[] = { { "Link", NULL }, { NULL, NULL } };
	if (err == ARCA_OK && cursor + limit < n) {
		/* by commit, so every page lists the same snapshot even if a ref moves meanwhile */
		arca_serve__base_url(base, sizeof(base), r);
		if (!(escaped = url_escape_path(path)) || asprintf(&link, "<%s/api/models/%s/tree/%s"
				"%s%s?recursive=%s&expand=%s&limit=%zu&cursor=%zu>; rel=\"next\"", base,
				rev->repo_id, rev->commit, base_len ? "/" : "", escaped, recursive ? "true" :
				"false", expand ? "true" : "false", limit, cursor + limit) < 0) {
			link = NULL;
			err = arca_error_set(ARCA_ENOMEM, "listing: out of memory");
		}
		headers[0].value = link;
	}
	enum MHD_Result ret = arca_serve__reply_result(r, err, page, headers);
	free(escaped);
	free(link);
	return ret;
}

enum MHD_Result arca_serve__tree(serve_req *r, const char *org, const char *name,
	const char *rev_name, const char *path)
{
	serve_rev rev;
	enum MHD_Result ret;
	if (!arca_serve__open_revision(&rev, r, org, name, rev_name, &ret))
		return ret;
	arca_file *files = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_files(&files, &n, arca_store_catalog(r->store),
		rev.snap.id);
	ret = err < 0 ? arca_serve__reply_failure(r, err) : tree_page(r, &rev, files, n, path);
	arca_files_free(files, n);
	arca_serve__rev_dispose(&rev);
	return ret;
}

/* ------------------------------------------------------------------ refs */

enum MHD_Result arca_serve__refs(serve_req *r, const char *org, const char *name)
{
	serve_rev model;
	enum MHD_Result ret;
	if (!arca_serve__find_model(&model, r, org, name, &ret))
		return ret;
	arca_snapshot *snaps = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_snapshots(&snaps, &n, arca_store_catalog(r->store));
	if (err < 0)
		return arca_serve__reply_failure(r, err);
	/* the store does not tell branches from tags: every ref is listed as a branch */
	json_t *branches = json_array();
	for (size_t i = 0; i < n && branches; i++) {
		if (strcmp(snaps[i].hub, model.hub) != 0 || strcmp(snaps[i].repo_id, model.repo_id) != 0 ||
		    strcmp(snaps[i].state, "complete") != 0)
			continue;
		json_t *refs = snaps[i].refs_json ? json_loads(snaps[i].refs_json, 0, NULL) : NULL, *ref;
		size_t k;
		json_array_foreach(refs, k, ref) {
			const char *ref_name = json_string_value(ref);
			if (ref_name)
				json_array_append_new(branches, json_pack("{s:s,s:s+,s:s%}", "name", ref_name,
					"ref", "refs/heads/", ref_name, "targetCommit", snaps[i].commit,
					strlen(snaps[i].commit) < 40 ? strlen(snaps[i].commit) : 40));
		}
		json_decref(refs);
	}
	arca_snapshots_free(snaps, n);
	return arca_serve__reply_json(r, 200, json_pack("{s:o,s:[],s:[]}", "branches",
		branches ? branches : json_array(), "tags", "converts"), NULL);
}

/* ------------------------------------------------------------------ paths-info */

typedef struct {
	char **paths;
	size_t n;
	int expand;
} paths_request;

static int add_path(paths_request *p, const char *path, size_t len)
{
	if (p->n == PATHS_INFO_MAX)
		return 0;
	if (!(p->paths[p->n] = strndup(path, len)))
		return -1;
	p->n++;
	return 0;
}

/* The body as JSON {"paths": [..] | "..", "expand": bool} or as a form
 * paths=a&paths=b&expand=true. -1: malformed or out of memory. */
static int parse_paths_body(paths_request *p, serve_req *r)
{
	const char *type = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	if (type && strstr(type, "json")) {
		json_t *doc = json_loadb(r->body ? r->body : "", r->body_len, 0, NULL), *paths, *v;
		if (!json_is_object(doc)) {
			json_decref(doc);
			return -1;
		}
		paths = json_object_get(doc, "paths");
		p->expand = json_is_true(json_object_get(doc, "expand"));
		size_t i;
		int rc = 0;
		if (json_is_string(paths))
			rc = add_path(p, json_string_value(paths), json_string_length(paths));
		json_array_foreach(paths, i, v)
			if (rc == 0 && json_is_string(v))
				rc = add_path(p, json_string_value(v), json_string_length(v));
		json_decref(doc);
		return rc;
	}
	for (char *field = r->body; field && field < r->body + r->body_len;) {
		char *amp = memchr(field, '&', (size_t)(r->body + r->body_len - field));
		size_t len = amp ? (size_t)(amp - field) : (size_t)(r->body + r->body_len - field);
		char *eq = memchr(field, '=', len);
		if (eq) {
			for (char *c = eq + 1; c < field + len; c++)
				if (*c == '+')
					*c = ' ';
			size_t key_len = (size_t)(eq - field), value_len;
			int paths = (key_len == 5 && !strncmp(field, "paths", 5)) ||
				(key_len == 7 && !strncmp(field, "paths[]", 7));
			char saved = field[len];
			if (arca_serve__percent_decode(eq + 1, len - key_len - 1, &value_len) < 0)
				return -1;
			if (paths && add_path(p, eq + 1, value_len) < 0)
				return -1;
			if (key_len == 6 && !strncmp(field, "expand", 6))
				p->expand = !strcmp(eq + 1, "true") || !strcmp(eq + 1, "1");
			field[len] = saved; /* decoding wrote a NUL over the next field's first byte */
		}
		field = amp ? amp + 1 : NULL;
	}
	return 0;
}

enum MHD_Result arca_serve__paths_info(serve_req *r, const char *org, const char *name,
	const char *rev_name)
{
	if (r->body_too_big)
		return arca_serve__reply_error(r, 413, NULL, NULL, "Request body too large");
	paths_request want = { calloc(PATHS_INFO_MAX, sizeof(char *)), 0, 0 };
	if (!want.paths)
		return arca_serve__reply_failure(r, ARCA_ENOMEM);
	serve_rev rev;
	enum MHD_Result ret;
	arca_file *files = NULL;
	size_t n = 0;
	if (parse_paths_body(&want, r) < 0) {
		ret = arca_serve__reply_error(r, 400, NULL, NULL, "Bad request body");
		goto cleanup;
	}
	if (!arca_serve__open_revision(&rev, r, org, name, rev_name, &ret))
		goto cleanup;
	arca_err err = arca_catalog_list_files(&files, &n, arca_store_catalog(r->store),
		rev.snap.id);
	json_t *out = json_array(), *evidence = NULL;
	if (want.expand && rev.snap.evidence_json)
		evidence = json_loads(rev.snap.evidence_json, 0, NULL);
	for (size_t i = 0; i < want.n && err == ARCA_OK; i++) {
		json_t *e;
		int seen = 0;
		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(want.paths[k], want.paths[i]);
		/* missing paths are left out, as the Hub does */
		if (seen || !want.paths[i][0])
			continue;
		err = entry_json(&e, r, &rev, files, n, want.paths[i], strlen(want.paths[i]),
			want.expand, resolve_answer(evidence));
		if (err == ARCA_OK)
			json_array_append_new(out, e);
		else if (err == ARCA_ENOTFOUND)
			err = ARCA_OK;
	}
	json_decref(evidence);
	ret = arca_serve__reply_result(r, err, out, NULL);
	arca_serve__rev_dispose(&rev);
cleanup:
	arca_files_free(files, n);
	for (size_t i = 0; i < want.n; i++)
		free(want.paths[i]);
	free(want.paths);
	return ret;
}
