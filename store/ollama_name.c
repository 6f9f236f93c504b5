/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/ollama_name.c — Ollama model names (see arca/ollama.h): parsing what a user types
 * after --name, deriving a default from a repository name, and showing a name the way
 * `ollama list` does. A name becomes four folder names under manifests/, so the rules are
 * also what keeps a name inside that folder: no '/', no leading '.', no "..".
 */
#include "arca/ollama.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef enum { PART_HOST, PART_NAMESPACE, PART_MODEL, PART_TAG } part_kind;

static const char *const part_names[] = { "host", "namespace", "model", "tag" };

static int leading_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static int allowed_char(part_kind kind, char c)
{
	if (leading_char(c) || c == '-')
		return 1;
	if (c == '.')
		return kind != PART_NAMESPACE;
	return c == ':' && kind == PART_HOST;
}

/* Checks and copies (lowered) one part of len bytes into out (cap bytes). */
static arca_err put_part(char *out, size_t cap, part_kind kind, const char *text, size_t len,
	const char *whole)
{
	size_t max = kind == PART_HOST ? ARCA_OLLAMA_HOST_MAX : ARCA_OLLAMA_PART_MAX;
	const char *what = part_names[kind];
	if (len == 0)
		return arca_error_set(ARCA_EINVALID, "Ollama name '%.100s': the %s is empty", whole,
			what);
	if (len > max || len >= cap)
		return arca_error_set(ARCA_EINVALID, "Ollama name '%.100s': the %s is longer than %zu "
			"characters", whole, what, max);
	if (!leading_char(text[0]))
		return arca_error_set(ARCA_EINVALID, "Ollama name '%.100s': the %s must start with a "
			"letter, digit or '_'", whole, what);
	for (size_t i = 0; i < len; i++) {
		if (!allowed_char(kind, text[i]))
			return arca_error_set(ARCA_EINVALID, "Ollama name '%.100s': '%c' is not allowed in "
				"the %s (letters, digits, '_', '-'%s)", whole, text[i], what,
				kind == PART_NAMESPACE ? "" : kind == PART_HOST ? ", '.', ':'" : ", '.'");
		if (text[i] == '.' && i + 1 < len && text[i + 1] == '.')
			return arca_error_set(ARCA_EINVALID, "Ollama name '%.100s': \"..\" is not allowed "
				"in the %s", whole, what);
		out[i] = (char)tolower((unsigned char)text[i]);
	}
	out[len] = '\0';
	return ARCA_OK;
}

static void set_defaults(arca_ollama_name *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->host, sizeof(out->host), "%s", ARCA_OLLAMA_DEFAULT_HOST);
	snprintf(out->namespace, sizeof(out->namespace), "%s", ARCA_OLLAMA_DEFAULT_NAMESPACE);
}

arca_err arca_ollama_name_parse(arca_ollama_name *out, const char *text,
	const char *default_tag)
{
	set_defaults(out);
	const char *parts[3];
	size_t lens[3], n = 0;
	const char *start = text;
	for (const char *s = text;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (n == 3)
			return arca_error_set(ARCA_EINVALID, "Ollama name '%.100s': more than "
				"host/namespace/model:tag", text);
		parts[n] = start;
		lens[n++] = (size_t)(s - start);
		if (*s == '\0')
			break;
		start = s + 1;
	}
	/* the last part is model[:tag]; a ':' before it belongs to a host's port */
	const char *last = parts[n - 1];
	size_t last_len = lens[n - 1];
	const char *colon = memchr(last, ':', last_len);
	const char *tag = colon ? colon + 1 : default_tag;
	size_t tag_len = colon ? last_len - (size_t)(colon + 1 - last) : strlen(default_tag);
	arca_err err = put_part(out->model, sizeof(out->model), PART_MODEL, last,
		colon ? (size_t)(colon - last) : last_len, text);
	if (err == ARCA_OK)
		err = put_part(out->tag, sizeof(out->tag), PART_TAG, tag, tag_len, text);
	if (err == ARCA_OK && n >= 2)
		err = put_part(out->namespace, sizeof(out->namespace), PART_NAMESPACE, parts[n - 2],
			lens[n - 2], text);
	if (err == ARCA_OK && n == 3)
		err = put_part(out->host, sizeof(out->host), PART_HOST, parts[0], lens[0], text);
	return err;
}

arca_err arca_ollama_name_from_repo(arca_ollama_name *out, const char *repo_id,
	const char *tag)
{
	set_defaults(out);
	const char *slash = strrchr(repo_id, '/');
	const char *name = slash ? slash + 1 : repo_id;
	char model[ARCA_OLLAMA_PART_MAX + 1];
	size_t n = 0;
	for (const char *s = name; *s && n < ARCA_OLLAMA_PART_MAX; s++) {
		char c = *s;
		if (c == '.' && (n == 0 || model[n - 1] == '.'))
			c = '-';
		model[n++] = allowed_char(PART_MODEL, c) ? c : '-';
	}
	model[n] = '\0';
	if (n && !leading_char(model[0]))
		model[0] = '_';
	arca_err err = put_part(out->model, sizeof(out->model), PART_MODEL, model, n, repo_id);
	if (err == ARCA_OK)
		err = put_part(out->tag, sizeof(out->tag), PART_TAG, tag, strlen(tag), tag);
	return err;
}

int arca_ollama_name_format(char *buf, size_t cap, const arca_ollama_name *name)
{
	int default_host = !strcmp(name->host, ARCA_OLLAMA_DEFAULT_HOST);
	if (default_host && !strcmp(name->namespace, ARCA_OLLAMA_DEFAULT_NAMESPACE))
		return snprintf(buf, cap, "%s:%s", name->model, name->tag);
	if (default_host)
		return snprintf(buf, cap, "%s/%s:%s", name->namespace, name->model, name->tag);
	return snprintf(buf, cap, "%s/%s/%s:%s", name->host, name->namespace, name->model,
		name->tag);
}
