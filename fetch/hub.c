/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/hub.c — what the hub clients share: JSON requests with strict answer checks,
 * evidence records, ETag cleanup, auth headers and endpoints.
 */
#include "fetch/hub.h"

#include "arca/pull.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ the hubs */

/* Every hub arca pulls from; the first is the default. */
static const arca_hub_ops *const hubs[] = { &arca_hub__hf_ops, &arca_hub__modelscope_ops };
#define N_HUBS (sizeof(hubs) / sizeof(hubs[0]))

const arca_hub_ops *arca_hub__find(const char *name)
{
	for (size_t i = 0; name && i < N_HUBS; i++)
		if (!strcmp(name, hubs[i]->name))
			return hubs[i];
	return NULL;
}

void arca_hub__names(char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < N_HUBS && used < cap; i++) {
		int n = snprintf(buf + used, cap - used, "%s%s", i == 0 ? "" : i + 1 < N_HUBS ?
			", " : " or ", hubs[i]->name);
		used += n > 0 ? (size_t)n : 0;
	}
}

const char *arca_hub_default_revision(const char *hub_name)
{
	const arca_hub_ops *ops = hub_name && hub_name[0] ? arca_hub__find(hub_name) : hubs[0];
	return ops ? ops->default_revision : NULL;
}

arca_err arca_hub_open(arca_hub **out, const char *name, arca_http *http,
	const arca_hub_opts *opts)
{
	*out = NULL;
	const arca_hub_ops *ops = name && name[0] ? arca_hub__find(name) : hubs[0];
	if (!ops) {
		char names[128];
		arca_hub__names(names, sizeof(names));
		return arca_error_set(ARCA_EINVALID, "cannot pull from hub '%s' (%s)", name, names);
	}
	return ops->open(out, http, opts);
}

/* ------------------------------------------------------------------ files */

void arca_hub_files_free(arca_hub_file *files, size_t n)
{
	for (size_t i = 0; files && i < n; i++)
		free(files[i].path);
	free(files);
}

static int compare_paths(const void *a, const void *b)
{
	return strcmp(((const arca_hub_file *)a)->path, ((const arca_hub_file *)b)->path);
}

arca_err arca_hub__sort_files(arca_hub_file *files, size_t n, const char *what)
{
	if (n > 1)
		qsort(files, n, sizeof(*files), compare_paths);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(files[i].path, files[i - 1].path))
			return arca_error_set(ARCA_ENET, "%s: %s is listed twice", what, files[i].path);
	return ARCA_OK;
}

void arca_hub_free(arca_hub *hub)
{
	if (!hub)
		return;
	for (char **h = hub->auth_headers; h && *h; h++) {
		/* scrub the token before the memory goes back */
		memset(*h, 0, strlen(*h));
		free(*h);
	}
	free(hub->auth_headers);
	free(hub->endpoint);
	if (hub->ops && hub->ops->free)
		hub->ops->free(hub);
	else
		free(hub);
}

arca_err arca_hub__new(arca_hub **out, const arca_hub_ops *ops, arca_http *http,
	char *endpoint, char *token, const char *const *prefixes)
{
	*out = NULL;
	arca_hub *hub = calloc(1, sizeof(*hub));
	arca_err err = hub && endpoint ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "hub: out of memory");
	if (hub) {
		hub->ops = ops;
		hub->http = http;
		hub->endpoint = endpoint;
		endpoint = NULL;
	}
	if (err == ARCA_OK)
		err = arca_hub__set_auth(hub, prefixes, token);
	if (token) {
		/* scrub the token before the memory goes back */
		memset(token, 0, strlen(token));
		free(token);
	}
	free(endpoint);
	if (err < 0) {
		arca_hub_free(hub);
		return err;
	}
	*out = hub;
	return ARCA_OK;
}

char *arca_hub__endpoint(const char *option, const char *env_name, const char *fallback)
{
	const char *e = option && option[0] ? option : getenv(env_name);
	if (!e || !e[0])
		e = fallback;
	char *out = strdup(e);
	if (!out)
		return NULL;
	size_t n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	return out;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *arca_hub__clean_token(const char *raw)
{
	if (!raw)
		return NULL;
	while (is_space(*raw))
		raw++;
	size_t n = strlen(raw);
	while (n > 0 && is_space(raw[n - 1]))
		n--;
	return n ? strndup(raw, n) : NULL;
}

char *arca_hub__expand_home(const char *path, const char *suffix)
{
	const char *home = "";
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
		home = getenv("HOME");
		if (!home || !home[0])
			return NULL;
		path++;
	}
	char *out;
	return asprintf(&out, "%s%s%s", home, path, suffix) < 0 ? NULL : out;
}

arca_err arca_hub__set_auth(arca_hub *hub, const char *const *prefixes, const char *token)
{
	size_t n = 0;
	while (prefixes[n])
		n++;
	hub->auth_headers = calloc(n + 1, sizeof(char *));
	if (!hub->auth_headers)
		return arca_error_set(ARCA_ENOMEM, "hub: out of memory");
	if (!token || !token[0])
		return ARCA_OK;
	for (size_t i = 0; i < n; i++) {
		if (asprintf(&hub->auth_headers[i], "%s%s", prefixes[i], token) < 0) {
			hub->auth_headers[i] = NULL;
			return arca_error_set(ARCA_ENOMEM, "hub: out of memory");
		}
	}
	hub->has_token = 1;
	return ARCA_OK;
}

void arca_hub__clean_etag(char *out, size_t cap, const char *etag)
{
	out[0] = '\0';
	if (!etag)
		return;
	if (!strncmp(etag, "W/", 2))
		etag += 2;
	size_t n = strlen(etag);
	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
		etag++;
		n -= 2;
	}
	snprintf(out, cap, "%.*s", (int)n, etag);
}

json_t *arca_hub__evidence(const char *url, const arca_http_response *resp,
	const char *const *header_names)
{
	json_t *e = json_pack("{s:s,s:I}", "url", url, "status", (json_int_t)resp->status);
	if (!e)
		return NULL;
	const char *date = arca_http_header_get(resp, "Date");
	if (date)
		json_object_set_new(e, "date", json_string(date));
	for (const char *const *h = header_names; h && *h; h++) {
		const char *v = arca_http_header_get(resp, *h);
		if (!v)
			continue;
		char key[64];
		size_t k = 0;
		for (const char *c = *h; *c && k + 1 < sizeof(key); c++)
			key[k++] = *c == '-' ? '_' : (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		key[k] = '\0';
		json_object_set_new(e, key, json_string(v));
	}
	return e;
}

static int looks_like_json(const arca_http_response *resp)
{
	const char *type = resp->content_type;
	if (type && (strncasecmp(type, "application/json", 16) == 0 || strstr(type, "+json")))
		return 1;
	const char *p = resp->body;
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	return !type && (*p == '{' || *p == '[');
}

arca_err arca_hub__get_json(arca_hub *hub, const char *url, const char *post_body,
	const char *what, arca_hub_error_fn on_error, json_t **out, arca_http_response *resp_out)
{
	*out = NULL;
	arca_http_request req = {
		.method = post_body ? "POST" : "GET", .url = url,
		.headers = (const char *const *)hub->auth_headers, .post_body = post_body,
		.max_body = 256u << 20,
	};
	arca_http_response resp;
	arca_err err = arca_http_do(hub->http, &req, &resp);
	/* a renamed repository answers with a redirect to its new name on the same host; the
	 * token may follow it there, nowhere else */
	char *moved = NULL;
	for (int hops = 0; err == ARCA_OK && resp.status >= 300 && resp.status < 400 &&
	     resp.redirect_url && hops < 5; hops++) {
		char from[300], to[300];
		arca_http_url_origin(from, sizeof(from), hub->endpoint);
		arca_http_url_origin(to, sizeof(to), resp.redirect_url);
		if (strcmp(from, to) != 0)
			break;
		free(moved);
		moved = resp.redirect_url;
		resp.redirect_url = NULL;
		arca_http_response_dispose(&resp);
		req.url = moved;
		err = arca_http_do(hub->http, &req, &resp);
	}
	if (err == ARCA_OK && moved) {
		resp.final_url = moved;
		moved = NULL;
	}
	free(moved);
	if (err < 0)
		return arca_error_prefix(err, "%s", what);
	if (resp.status < 200 || resp.status > 299) {
		err = on_error(hub, what, &resp);
		goto cleanup;
	}
	if (!looks_like_json(&resp)) {
		err = arca_error_set(ARCA_ENET, "%s: %s answered %s instead of JSON (is the endpoint "
			"%s right?)", what, url, resp.content_type ? resp.content_type : "something else",
			hub->endpoint);
		goto cleanup;
	}
	json_error_t jerr;
	*out = json_loadb(resp.body, resp.body_len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
	if (!*out) {
		err = arca_error_set(ARCA_ENET, "%s: %s answered malformed JSON (%s at byte %d)", what,
			url, jerr.text, jerr.position);
		goto cleanup;
	}
cleanup:
	if (resp_out && err == ARCA_OK)
		*resp_out = resp;
	else
		arca_http_response_dispose(&resp);
	return err;
}
