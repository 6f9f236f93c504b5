/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/hf.c — the Hugging Face Hub client: revision → commit (/api/models/.../revision),
 * the file list with hashes (/tree, paginated by Link headers), resolve URLs by commit, and
 * the checks on each resolve answer (X-Repo-Commit, X-Linked-Etag, X-Linked-Size read on
 * the redirect itself, never on the CDN). Protocol facts: docs in shared/spec are restated
 * in docs/hub-protocol.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/io.h"
#include "common/path.h"
#include "fetch/hub.h"

#define MAX_PAGES 10000
#define MAX_FILES 1000000

static const char *const evidence_headers[] = {
	"X-Repo-Commit", "ETag", "X-Linked-Etag", "X-Linked-Size", "X-Xet-Hash", "Content-Length",
	"X-Request-Id", "X-HF-Warning", NULL,
};

/* ------------------------------------------------------------------ errors */

static arca_err hf_error(arca_hub *hub, const char *what, const arca_http_response *resp)
{
	const char *code = arca_http_header_get(resp, "X-Error-Code");
	const char *message = arca_http_header_get(resp, "X-Error-Message");
	long status = resp->status;
	if (message && strstr(message, "Invalid credentials"))
		return arca_error_set(ARCA_EDENIED, "%s: the hub refused the token (invalid "
			"credentials); check --token / HF_TOKEN", what);
	if (message && strstr(message, "disabled"))
		return arca_error_set(ARCA_EDENIED, "%s: access to this repository is disabled on the "
			"hub", what);
	if (code && !strcmp(code, "GatedRepo")) {
		if (status == 403 || hub->has_token)
			return arca_error_set(ARCA_EDENIED, "%s: gated repository, and this token has not "
				"been granted access (request access on the model's page)", what);
		return arca_error_set(ARCA_EDENIED, "%s: gated repository; accept its conditions on "
			"the hub, then pass a token (--token or HF_TOKEN)", what);
	}
	if (code && !strcmp(code, "RepoNotFound"))
		return arca_error_set(ARCA_ENOTFOUND, "%s: repository not found on %s%s", what,
			hub->endpoint, hub->has_token ? " (or this token cannot see it)" :
			" (if it is private, pass a token)");
	if (code && !strcmp(code, "RevisionNotFound"))
		return arca_error_set(ARCA_ENOTFOUND, "%s: revision not found", what);
	if (code && !strcmp(code, "EntryNotFound"))
		return arca_error_set(ARCA_ENOTFOUND, "%s: file not found at this commit", what);
	if (status == 401 && hub->has_token)
		return arca_error_set(ARCA_EDENIED, "%s: the hub refused the token (HTTP 401)", what);
	if (status == 401 || status == 403)
		return arca_error_set(ARCA_EDENIED, "%s: access denied (HTTP %ld)%s", what, status,
			hub->has_token ? "" : "; pass a token if the repository is private or gated");
	if (status == 404)
		return arca_error_set(ARCA_ENOTFOUND, "%s: not found (HTTP 404)", what);
	json_t *body = json_loads(resp->body ? resp->body : "", 0, NULL);
	const char *text = json_string_value(json_object_get(body, "error"));
	arca_err err = arca_error_set(ARCA_ENET, "%s: the hub answered HTTP %ld%s%s", what, status,
		text || message ? ": " : "", text ? text : message ? message : "");
	json_decref(body);
	return err;
}

/* ------------------------------------------------------------------ resolve */

static int is_commit(const char *s)
{
	return strlen(s) == 40 && arca_hex_is_lower(s, 40);
}

static arca_err hf_resolve(arca_hub *hub, const char *repo, const char *revision,
	char commit_out[ARCA_SHA256_HEX], json_t *evidence)
{
	char *rev = arca_http_escape(revision, 0);
	char *url = NULL, what[400];
	if (!rev || asprintf(&url, "%s/api/models/%s/revision/%s", hub->endpoint, repo, rev) < 0) {
		free(rev);
		return arca_error_set(ARCA_ENOMEM, "resolve: out of memory");
	}
	free(rev);
	snprintf(what, sizeof(what), "resolve %s", revision);
	json_t *info = NULL;
	arca_http_response resp;
	arca_err err = arca_hub__get_json(hub, url, NULL, what, hf_error, &info, &resp);
	if (err < 0) {
		free(url);
		return err;
	}
	const char *sha = json_string_value(json_object_get(info, "sha"));
	if (!sha || !is_commit(sha)) {
		err = arca_error_set(ARCA_ENET, "%s: the hub's answer has no commit (\"sha\" missing or "
			"not 40 hex digits)", what);
	} else if (is_commit(revision) && strcmp(sha, revision) != 0) {
		err = arca_error_set(ARCA_EMISMATCH, "%s: the hub answered for commit %s", what, sha);
	} else {
		snprintf(commit_out, ARCA_SHA256_HEX, "%s", sha);
		json_t *e = arca_hub__evidence(resp.final_url ? resp.final_url : url, &resp,
			evidence_headers);
		if (resp.final_url)
			json_object_set_new(e, "asked_url", json_string(url));
		/* a renamed repo answers under its new name: keep both */
		const char *id = json_string_value(json_object_get(info, "id"));
		if (id && strcmp(id, repo) != 0)
			json_object_set_new(e, "moved_to", json_string(id));
		json_object_set_new(e, "what", json_string("resolve revision"));
		json_object_set_new(e, "sha", json_string(sha));
		static const char *const kept[] = { "id", "private", "gated", "disabled",
			"lastModified", "tags", "cardData" };
		for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
			json_t *v = json_object_get(info, kept[i]);
			if (v)
				json_object_set(e, kept[i], v);
		}
		json_array_append_new(evidence, e);
	}
	json_decref(info);
	arca_http_response_dispose(&resp);
	free(url);
	return err;
}

/* ------------------------------------------------------------------ listing */

/* The next page's URL from a Link header; NULL when there is no next page. A link on the
 * endpoint's own origin is followed as it is (it already carries any path prefix the
 * endpoint has); a link to another origin (a mirror's links may name huggingface.co) keeps
 * its path and query under our endpoint, whose prefix it lacks. */
char *arca_hub__next_page_url(const char *endpoint, const char *link)
{
	if (!link)
		return NULL;
	const char *rel = strstr(link, "rel=\"next\"");
	if (!rel)
		return NULL;
	const char *open = NULL;
	for (const char *p = link; p < rel; p++)
		if (*p == '<')
			open = p;
	const char *close = open ? strchr(open, '>') : NULL;
	if (!open || !close || close > rel)
		return NULL;
	char *url = strndup(open + 1, (size_t)(close - open - 1));
	if (!url)
		return NULL;
	char here[300], there[300];
	arca_http_url_origin(here, sizeof(here), endpoint);
	arca_http_url_origin(there, sizeof(there), url);
	if (there[0] && !strcmp(here, there))
		return url;
	const char *scheme = strstr(url, "://");
	const char *path = scheme ? strchr(scheme + 3, '/') : url;
	/* the path part of the endpoint ("" or "/prefix"), unless the link already has it */
	const char *ep_scheme = strstr(endpoint, "://");
	const char *prefix = ep_scheme ? strchr(ep_scheme + 3, '/') : NULL;
	size_t origin_len = prefix ? (size_t)(prefix - endpoint) : strlen(endpoint);
	size_t prefix_len = prefix ? strlen(prefix) : 0;
	int has_prefix = path && prefix_len && !strncmp(path, prefix, prefix_len) &&
		(path[prefix_len] == '/' || path[prefix_len] == '?' || !path[prefix_len]);
	char *out = NULL;
	if (path && asprintf(&out, "%.*s%s", (int)(has_prefix ? origin_len : strlen(endpoint)),
			endpoint, path) < 0)
		out = NULL;
	free(url);
	return out;
}

static arca_err parse_entry(json_t *entry, arca_hub_file *out, int *is_file, const char *what)
{
	memset(out, 0, sizeof(*out));
	const char *type = json_string_value(json_object_get(entry, "type"));
	json_t *jpath = json_object_get(entry, "path");
	if (!json_is_object(entry) || !type || !json_is_string(jpath))
		return arca_error_set(ARCA_ENET, "%s: a tree entry lacks type or path", what);
	*is_file = !strcmp(type, "file");
	if (!*is_file)
		return ARCA_OK;
	const char *path = json_string_value(jpath);
	size_t len = json_string_length(jpath);
	arca_err err = arca_path_check_relative(path, len);
	if (err < 0)
		return arca_error_prefix(ARCA_ECORRUPT, "%s: the hub listed an unsafe file name, refused",
			what);
	json_t *size = json_object_get(entry, "size");
	const char *oid = json_string_value(json_object_get(entry, "oid"));
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return arca_error_set(ARCA_ENET, "%s: %s: no valid size in the listing", what, path);
	if (!oid || !arca_hex_is_lower(oid, 40))
		return arca_error_set(ARCA_ENET, "%s: %s: no valid git oid in the listing", what, path);
	out->size = (uint64_t)json_integer_value(size);
	json_t *lfs = json_object_get(entry, "lfs");
	if (lfs) {
		const char *sha = json_string_value(json_object_get(lfs, "oid"));
		json_t *lsize = json_object_get(lfs, "size");
		if (!sha || !arca_hex_is_lower(sha, 64))
			return arca_error_set(ARCA_ENET, "%s: %s: LFS entry without a sha256", what, path);
		if (!json_is_integer(lsize) || (uint64_t)json_integer_value(lsize) != out->size)
			return arca_error_set(ARCA_ENET, "%s: %s: LFS size disagrees with the listed size",
				what, path);
		memcpy(out->sha256, sha, ARCA_SHA256_HEX);
		out->lfs = 1;
		const char *xet = json_string_value(json_object_get(entry, "xetHash"));
		if (xet && arca_hex_is_lower(xet, 64))
			memcpy(out->xet_hash, xet, ARCA_SHA256_HEX);
	} else {
		memcpy(out->git_sha1, oid, ARCA_SHA1_HEX);
	}
	if (!(out->path = strdup(path)))
		return arca_error_set(ARCA_ENOMEM, "listing: out of memory");
	return ARCA_OK;
}

static arca_err hf_list(arca_hub *hub, const char *repo, const char *commit, const char *revision,
	arca_hub_file **files_out, size_t *n_out, json_t *evidence)
{
	(void)revision;
	*files_out = NULL;
	*n_out = 0;
	char *url = NULL, what[300];
	snprintf(what, sizeof(what), "list files at %.12s", commit);
	if (asprintf(&url, "%s/api/models/%s/tree/%s?recursive=true&expand=false", hub->endpoint,
			repo, commit) < 0)
		return arca_error_set(ARCA_ENOMEM, "listing: out of memory");
	arca_hub_file *files = NULL;
	size_t n = 0, cap = 0;
	arca_err err = ARCA_OK;
	for (int page = 0; url && err == ARCA_OK; page++) {
		if (page >= MAX_PAGES) {
			err = arca_error_set(ARCA_ENET, "%s: more than %d pages", what, MAX_PAGES);
			break;
		}
		json_t *list = NULL;
		arca_http_response resp;
		if ((err = arca_hub__get_json(hub, url, NULL, what, hf_error, &list, &resp)) < 0)
			break;
		json_t *e = arca_hub__evidence(url, &resp, evidence_headers);
		json_object_set_new(e, "what", json_string("list files"));
		json_array_append_new(evidence, e);
		if (!json_is_array(list))
			err = arca_error_set(ARCA_ENET, "%s: the listing is not a JSON array", what);
		size_t i;
		json_t *entry;
		json_array_foreach(list, i, entry) {
			if (err < 0)
				break;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				arca_hub_file *grown = cap > MAX_FILES ? NULL : realloc(files,
					cap * sizeof(*grown));
				if (!grown) {
					err = arca_error_set(cap > MAX_FILES ? ARCA_ENET : ARCA_ENOMEM,
						"%s: too many files", what);
					break;
				}
				files = grown;
			}
			int is_file = 0;
			if ((err = parse_entry(entry, &files[n], &is_file, what)) == ARCA_OK && is_file)
				n++;
		}
		json_decref(list);
		free(url);
		url = err == ARCA_OK ? arca_hub__next_page_url(hub->endpoint,
			arca_http_header_get(&resp, "Link")) : NULL;
		arca_http_response_dispose(&resp);
	}
	free(url);
	if (err == ARCA_OK)
		err = arca_hub__sort_files(files, n, what);
	if (err < 0) {
		arca_hub_files_free(files, n);
		return err;
	}
	*files_out = files;
	*n_out = n;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ files */

static char *hf_file_url(arca_hub *hub, const char *repo, const char *commit,
	const char *revision, const arca_hub_file *file)
{
	(void)revision;
	char *path = arca_http_escape(file->path, 1), *url;
	if (!path)
		return NULL;
	if (asprintf(&url, "%s/%s/resolve/%s/%s", hub->endpoint, repo, commit, path) < 0)
		url = NULL;
	free(path);
	return url;
}

/* The repo a resolve URL names ("org/name" before "/resolve/"), when it is one. */
static void repo_of_resolve_url(char *out, size_t cap, const char *url)
{
	out[0] = '\0';
	const char *resolve = strstr(url, "/resolve/");
	if (!resolve)
		return;
	const char *name = resolve;
	int slashes = 0;
	while (name > url && slashes < 2)
		if (*--name == '/')
			slashes++;
	if (slashes == 2 && name + 1 < resolve)
		snprintf(out, cap, "%.*s", (int)(resolve - name - 1), name + 1);
}

static arca_err hf_check_answer(arca_hub *hub, const char *repo, const char *commit,
	const arca_hub_file *file, const char *url, const arca_http_response *resp,
	json_t *evidence, int *carried_out)
{
	(void)hub;
	*carried_out = 0;
	const char *got_commit = arca_http_header_get(resp, "X-Repo-Commit");
	const char *linked = arca_http_header_get(resp, "X-Linked-Etag");
	int redirect = resp->status >= 300 && resp->status < 400;
	if (got_commit && strcmp(got_commit, commit) != 0)
		return arca_error_set(ARCA_EMISMATCH, "%s: the hub served commit %s, expected %s",
			file->path, got_commit, commit);
	json_t *e = arca_hub__evidence(url, resp, evidence_headers);
	if (redirect && resp->redirect_url) {
		char host[256];
		arca_http_url_host(host, sizeof(host), resp->redirect_url);
		json_object_set_new(e, "location_host", json_string(host));
	}
	/* a redirect without the file's metadata (a renamed repo's relative 307, the resolve
	 * cache, a mirror's 308 to another endpoint) is a hop: the answer it leads to has them */
	if (redirect && !(got_commit && linked)) {
		json_object_set_new(e, "what", json_string("redirect"));
		json_array_append_new(evidence, e);
		return ARCA_OK;
	}
	if (!got_commit) {
		json_decref(e);
		return arca_error_set(ARCA_ENET, "%s: no answer on the way to the file carried "
			"X-Repo-Commit (the last: HTTP %ld from %.*s), so nothing proves which commit "
			"these bytes belong to; is the endpoint a Hugging Face hub or mirror?",
			file->path, resp->status, (int)strcspn(url, "?"), url);
	}
	char etag[128];
	if (redirect) {
		arca_hub__clean_etag(etag, sizeof(etag), linked);
		const char *want = file->lfs ? file->sha256 : file->git_sha1;
		if (strcmp(etag, want) != 0) {
			json_decref(e);
			return arca_error_set(ARCA_EMISMATCH, "%s: the hub's X-Linked-Etag is '%s', the "
				"listing said %s", file->path, etag, want);
		}
		const char *size = arca_http_header_get(resp, "X-Linked-Size");
		char *end = NULL;
		unsigned long long n = size ? strtoull(size, &end, 10) : 0;
		if (!size || *end || n != file->size) {
			json_decref(e);
			return arca_error_set(ARCA_EMISMATCH, "%s: the listing says %llu bytes, the hub's "
				"X-Linked-Size says %s", file->path, (unsigned long long)file->size,
				size ? size : "nothing");
		}
	} else {
		arca_hub__clean_etag(etag, sizeof(etag), arca_http_header_get(resp, "ETag"));
		const char *want = file->lfs ? file->sha256 : file->git_sha1;
		if (etag[0] && strcmp(etag, want) != 0) {
			json_decref(e);
			return arca_error_set(ARCA_EMISMATCH, "%s: the hub's ETag is '%s', the listing "
				"said %s", file->path, etag, want);
		}
	}
	/* the answer that carried the metadata names the repo as the hub knows it now */
	char answered_repo[512];
	repo_of_resolve_url(answered_repo, sizeof(answered_repo), url);
	if (answered_repo[0] && strcmp(answered_repo, repo) != 0)
		json_object_set_new(e, "repo", json_string(answered_repo));
	json_object_set_new(e, "what", json_string("file metadata"));
	json_array_append_new(evidence, e);
	*carried_out = 1;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ setup */

static int truthy(const char *v)
{
	return v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
		!strcasecmp(v, "true"));
}

/* HF_TOKEN, then HUGGING_FACE_HUB_TOKEN, then the token file the Python client writes
 * ($HF_TOKEN_PATH, else $HF_HOME/token, else $XDG_CACHE_HOME/huggingface/token, else
 * ~/.cache/huggingface/token), all trimmed as the Python client trims them. With
 * HF_HUB_DISABLE_IMPLICIT_TOKEN set none of them is sent: only --token is. */
static char *token_from_environment(void)
{
	if (truthy(getenv("HF_HUB_DISABLE_IMPLICIT_TOKEN")))
		return NULL;
	const char *names[] = { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN" };
	for (size_t i = 0; i < 2; i++) {
		char *token = arca_hub__clean_token(getenv(names[i]));
		if (token)
			return token;
	}
	char *path = NULL;
	const char *p = getenv("HF_TOKEN_PATH"), *home = getenv("HF_HOME");
	const char *xdg = getenv("XDG_CACHE_HOME"), *user = getenv("HOME");
	if (p && p[0])
		path = arca_hub__expand_home(p, "");
	else if (home && home[0])
		path = arca_hub__expand_home(home, "/token");
	else if (xdg && xdg[0])
		path = arca_hub__expand_home(xdg, "/huggingface/token");
	else if (user && user[0])
		path = arca_hub__expand_home(user, "/.cache/huggingface/token");
	if (!path)
		return NULL;
	char *text = NULL;
	if (arca_io_read_file(&text, NULL, path, 4096) < 0) {
		arca_error_clear();
		free(path);
		return NULL;
	}
	free(path);
	char *token = arca_hub__clean_token(text);
	memset(text, 0, strlen(text));
	free(text);
	return token;
}

const arca_hub_ops arca_hub__hf_ops = {
	.name = "hf",
	.title = "Hugging Face",
	.default_revision = "main",
	.fetches_old_commits = 1,
	.resolve_again_after_download = 0,
	.open = arca_hub_open_hf,
	.resolve = hf_resolve,
	.list = hf_list,
	.file_url = hf_file_url,
	.check_answer = hf_check_answer,
	.answer_error = hf_error,
	.free = NULL,
};

arca_err arca_hub_open_hf(arca_hub **out, arca_http *http, const arca_hub_opts *opts)
{
	static const char *const prefixes[] = { "Authorization: Bearer ", NULL };
	char *endpoint = arca_hub__endpoint(opts ? opts->endpoint : NULL, "HF_ENDPOINT",
		"https://huggingface.co");
	char *token = opts && opts->token ? arca_hub__clean_token(opts->token) :
		token_from_environment();
	return arca_hub__new(out, &arca_hub__hf_ops, http, endpoint, token, prefixes);
}
