/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/modelscope.c — the ModelScope client. Its API differs from Hugging Face's in ways
 * that shape a pull: revisions are branch or tag names only (a commit id is refused, so a
 * pin is the head commit recorded from /commits, and a revision that moves during the pull
 * is detected by resolving again at the end); every file has a Sha256 in the listing; the
 * download answers carry no metadata; errors come in a JSON envelope
 * {"Code","Success","Message","Data"}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/path.h"
#include "fetch/hub.h"

#define MAX_FILES 1000000

static const char *const evidence_headers[] = { "Content-Length", "X-Request-Id", NULL };

static arca_err ms_error(arca_hub *hub, const char *what, const arca_http_response *resp)
{
	json_t *body = json_loads(resp->body ? resp->body : "", 0, NULL);
	const char *message = json_string_value(json_object_get(body, "Message"));
	char text[300];
	snprintf(text, sizeof(text), "%s%s", message ? ": " : "", message ? message : "");
	json_decref(body);
	switch (resp->status) {
	case 401:
	case 403:
		return arca_error_set(ARCA_EDENIED, "%s: access denied (HTTP %ld)%s%s", what,
			resp->status, text, hub->has_token ? "; check the token" :
			"; pass a token (--token or MODELSCOPE_API_TOKEN) for private repositories");
	case 404:
		return arca_error_set(ARCA_ENOTFOUND, "%s: not found on %s%s", what, hub->endpoint, text);
	default:
		return arca_error_set(ARCA_ENET, "%s: ModelScope answered HTTP %ld%s", what,
			resp->status, text);
	}
}

/* GET an envelope and hand back its Data; Code != 200 or Success false is an error. */
static arca_err get_data(arca_hub *hub, const char *url, const char *what, json_t **root_out,
	json_t **data_out, json_t *evidence)
{
	json_t *root;
	arca_http_response resp;
	arca_err err = arca_hub__get_json(hub, url, NULL, what, ms_error, &root, &resp);
	if (err < 0)
		return err;
	json_t *e = arca_hub__evidence(url, &resp, evidence_headers);
	json_object_set_new(e, "what", json_string(what));
	json_array_append_new(evidence, e);
	arca_http_response_dispose(&resp);
	json_t *code = json_object_get(root, "Code");
	json_t *success = json_object_get(root, "Success");
	const char *message = json_string_value(json_object_get(root, "Message"));
	if (!json_is_object(root) || !json_is_integer(code)) {
		err = arca_error_set(ARCA_ENET, "%s: the answer is not a ModelScope envelope", what);
	} else if (json_integer_value(code) != 200 || !json_is_true(success)) {
		long c = (long)json_integer_value(code);
		err = arca_error_set(c == 404 ? ARCA_ENOTFOUND : c == 403 || c == 401 ? ARCA_EDENIED :
			ARCA_ENET, "%s: ModelScope says %ld%s%s", what, c, message ? ": " : "",
			message ? message : "");
	}
	if (err < 0) {
		json_decref(root);
		return err;
	}
	*root_out = root;
	*data_out = json_object_get(root, "Data");
	return ARCA_OK;
}

static int looks_like_commit(const char *s)
{
	size_t n = strlen(s);
	return (n == 40 || n == 64) && arca_hex_is_lower(s, n);
}

/* Is `revision` a branch or tag of the repo? Answers ARCA_ENOTFOUND listing them if not. */
static arca_err check_revision(arca_hub *hub, const char *repo, const char *revision,
	json_t *evidence)
{
	char *url, what[400];
	if (asprintf(&url, "%s/api/v1/models/%s/revisions", hub->endpoint, repo) < 0)
		return arca_error_set(ARCA_ENOMEM, "resolve: out of memory");
	snprintf(what, sizeof(what), "list revisions");
	json_t *root, *data;
	arca_err err = get_data(hub, url, what, &root, &data, evidence);
	free(url);
	if (err < 0)
		return err;
	json_t *map = json_object_get(data, "RevisionMap");
	char names[512] = "";
	int found = 0;
	static const char *const kinds[] = { "Branches", "Tags" };
	for (size_t k = 0; k < 2; k++) {
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(map, kinds[k]), i, r) {
			const char *name = json_string_value(json_object_get(r, "Revision"));
			if (!name)
				continue;
			found |= !strcmp(name, revision);
			size_t used = strlen(names);
			snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "", name);
		}
	}
	json_decref(root);
	if (!found)
		return arca_error_set(ARCA_ENOTFOUND, "no branch or tag '%s' on ModelScope (has: %s)",
			revision, names[0] ? names : "none");
	return ARCA_OK;
}

static arca_err ms_resolve(arca_hub *hub, const char *repo, const char *revision,
	char commit_out[ARCA_SHA256_HEX], json_t *evidence)
{
	if (looks_like_commit(revision))
		return arca_error_set(ARCA_EUNSUPPORTED, "ModelScope accepts only branch or tag names "
			"as revisions, not commit ids");
	arca_err err = check_revision(hub, repo, revision, evidence);
	if (err < 0)
		return err;
	char *rev = arca_http_escape(revision, 0), *url = NULL, what[400];
	if (!rev || asprintf(&url, "%s/api/v1/models/%s/commits?Ref=%s&PageNumber=1&PageSize=1",
			hub->endpoint, repo, rev) < 0) {
		free(rev);
		return arca_error_set(ARCA_ENOMEM, "resolve: out of memory");
	}
	free(rev);
	snprintf(what, sizeof(what), "resolve %s", revision);
	json_t *root, *data;
	err = get_data(hub, url, what, &root, &data, evidence);
	free(url);
	if (err < 0)
		return err;
	json_t *head = json_array_get(json_object_get(data, "Commit"), 0);
	const char *id = json_string_value(json_object_get(head, "Id"));
	if (!id || !looks_like_commit(id))
		err = arca_error_set(ARCA_ENET, "%s: no commit id in the answer", what);
	else
		snprintf(commit_out, ARCA_SHA256_HEX, "%s", id);
	json_decref(root);
	return err;
}

static int skipped_name(const char *name)
{
	return name && (!strcmp(name, ".gitignore") || !strcmp(name, ".gitattributes"));
}

static arca_err parse_file(json_t *entry, arca_hub_file *out, const char *what)
{
	memset(out, 0, sizeof(*out));
	json_t *jpath = json_object_get(entry, "Path");
	json_t *size = json_object_get(entry, "Size");
	const char *sha = json_string_value(json_object_get(entry, "Sha256"));
	if (!json_is_string(jpath))
		return arca_error_set(ARCA_ENET, "%s: a file entry has no Path", what);
	const char *path = json_string_value(jpath);
	if (arca_path_check_relative(path, json_string_length(jpath)) < 0)
		return arca_error_prefix(ARCA_ECORRUPT, "%s: ModelScope listed an unsafe file name, "
			"refused", what);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return arca_error_set(ARCA_ENET, "%s: %s: no valid Size", what, path);
	/* ModelScope lists some files without a Sha256 (absent, "" or null): they are fetched
	 * and hashed by arca, and recorded as having no hub hash; a Sha256 that is there must
	 * be one */
	json_t *jsha = json_object_get(entry, "Sha256");
	int no_hash = !jsha || json_is_null(jsha) || (sha && !sha[0]);
	if (!no_hash && (!sha || !arca_hex_is_lower(sha, 64)))
		return arca_error_set(ARCA_ENET, "%s: %s: Sha256 is not 64 lowercase hex digits",
			what, path);
	out->size = (uint64_t)json_integer_value(size);
	if (!no_hash)
		memcpy(out->sha256, sha, ARCA_SHA256_HEX);
	out->lfs = json_is_true(json_object_get(entry, "IsLFS"));
	if (!(out->path = strdup(path)))
		return arca_error_set(ARCA_ENOMEM, "listing: out of memory");
	return ARCA_OK;
}

static arca_err ms_list(arca_hub *hub, const char *repo, const char *commit,
	const char *revision, arca_hub_file **files_out, size_t *n_out, json_t *evidence)
{
	(void)commit;
	*files_out = NULL;
	*n_out = 0;
	char *rev = arca_http_escape(revision, 0), *url = NULL, what[400];
	if (!rev || asprintf(&url, "%s/api/v1/models/%s/repo/files?Revision=%s&Recursive=True",
			hub->endpoint, repo, rev) < 0) {
		free(rev);
		return arca_error_set(ARCA_ENOMEM, "listing: out of memory");
	}
	free(rev);
	snprintf(what, sizeof(what), "list files at %s", revision);
	json_t *root, *data;
	arca_err err = get_data(hub, url, what, &root, &data, evidence);
	free(url);
	if (err < 0)
		return err;
	json_t *list = json_object_get(data, "Files");
	if (json_is_null(list)) {
		/* an empty repository lists null, not [] */
		json_decref(root);
		return ARCA_OK;
	}
	if (!json_is_array(list) || json_array_size(list) > MAX_FILES) {
		json_decref(root);
		return arca_error_set(ARCA_ENET, "%s: Data.Files is missing or too long", what);
	}
	arca_hub_file *files = calloc(json_array_size(list) + 1, sizeof(*files));
	size_t n = 0, i;
	json_t *entry;
	if (!files)
		err = arca_error_set(ARCA_ENOMEM, "listing: out of memory");
	json_array_foreach(list, i, entry) {
		if (err < 0)
			break;
		const char *type = json_string_value(json_object_get(entry, "Type"));
		const char *name = json_string_value(json_object_get(entry, "Name"));
		if ((type && strcmp(type, "blob") != 0) || skipped_name(name))
			continue;
		if ((err = parse_file(entry, &files[n], what)) == ARCA_OK)
			n++;
	}
	json_decref(root);
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

static char *ms_file_url(arca_hub *hub, const char *repo, const char *commit,
	const char *revision, const arca_hub_file *file)
{
	(void)commit;
	char *rev = arca_http_escape(revision, 0), *path = arca_http_escape(file->path, 0), *url;
	if (!rev || !path || asprintf(&url, "%s/api/v1/models/%s/repo?Revision=%s&FilePath=%s",
			hub->endpoint, repo, rev, path) < 0)
		url = NULL;
	free(rev);
	free(path);
	return url;
}

static arca_err ms_check_answer(arca_hub *hub, const char *repo, const char *commit,
	const arca_hub_file *file, const char *url, const arca_http_response *resp,
	json_t *evidence, int *carried_out)
{
	(void)hub;
	(void)repo;
	(void)commit;
	(void)file;
	/* ModelScope's answers carry no metadata: the listing's size and sha256 are all there
	 * is, so the first answer ends the resolve phase */
	*carried_out = 1;
	json_t *e = arca_hub__evidence(url, resp, evidence_headers);
	if (resp->redirect_url) {
		char host[256];
		arca_http_url_host(host, sizeof(host), resp->redirect_url);
		json_object_set_new(e, "location_host", json_string(host));
	}
	json_array_append_new(evidence, e);
	return ARCA_OK;
}

const arca_hub_ops arca_hub__modelscope_ops = {
	.name = "modelscope",
	.title = "ModelScope",
	.default_revision = "master",
	.fetches_old_commits = 0,
	.resolve_again_after_download = 1,
	.open = arca_hub_open_modelscope,
	.resolve = ms_resolve,
	.list = ms_list,
	.file_url = ms_file_url,
	.check_answer = ms_check_answer,
	.answer_error = ms_error,
	.free = NULL,
};

arca_err arca_hub_open_modelscope(arca_hub **out, arca_http *http, const arca_hub_opts *opts)
{
	static const char *const prefixes[] = { "Cookie: m_session_id=",
		"Authorization: Bearer ", NULL };
	const char *domain = getenv("MODELSCOPE_DOMAIN");
	char *fallback = NULL;
	if (domain && domain[0] && asprintf(&fallback, "https://%s", domain) < 0)
		fallback = NULL;
	char *endpoint = arca_hub__endpoint(opts ? opts->endpoint : NULL, "MODELSCOPE_ENDPOINT",
		fallback ? fallback : "https://www.modelscope.cn");
	free(fallback);
	/* trimmed: a CI secret often ends in a newline, which would break every request */
	char *token = arca_hub__clean_token(opts && opts->token ? opts->token :
		getenv("MODELSCOPE_API_TOKEN"));
	return arca_hub__new(out, &arca_hub__modelscope_ops, http, endpoint, token, prefixes);
}
