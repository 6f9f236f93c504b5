/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/card.c — model card front matter (YAML, through libyaml) to JSON (jansson), and the
 * licence record of a snapshot. See arca/card.h.
 *
 * Plain YAML scalars are typed the way YAML 1.2's core schema types them (null, true/false,
 * integers, floats); quoted scalars stay strings, so "license: '2.0'" keeps its quotes'
 * meaning. Aliases are expanded, counted against the node budget.
 */
#include "arca/card.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define MAX_FRONT_MATTER (1u << 20)
#define MAX_DEPTH 64
#define MAX_NODES 100000

/* Finds the front matter: the README must open with a "---" line; it ends at the next
 * "---" or "..." line. Returns 0 when there is none, 1 when found, -1 when unterminated. */
static int find_front_matter(const char *text, size_t len, size_t *start, size_t *end)
{
	size_t p = 0;
	if (len >= 3 && (unsigned char)text[0] == 0xef && (unsigned char)text[1] == 0xbb &&
	    (unsigned char)text[2] == 0xbf)
		p = 3; /* UTF-8 byte order mark */
	if (len - p < 3 || memcmp(text + p, "---", 3) != 0)
		return 0;
	p += 3;
	while (p < len && (text[p] == ' ' || text[p] == '\t' || text[p] == '\r'))
		p++;
	if (p < len && text[p] != '\n')
		return 0;
	*start = ++p;
	while (p < len) {
		size_t eol = p;
		while (eol < len && text[eol] != '\n')
			eol++;
		size_t n = eol - p;
		while (n > 0 && (text[p + n - 1] == '\r' || text[p + n - 1] == ' '))
			n--;
		if (n == 3 && (memcmp(text + p, "---", 3) == 0 || memcmp(text + p, "...", 3) == 0)) {
			*end = p;
			return 1;
		}
		p = eol + 1;
	}
	return -1;
}

typedef struct {
	yaml_document_t *doc;
	size_t nodes;
	const char *error;
	int error_line;
} converter;

static json_t *plain_scalar(const char *s, size_t len)
{
	if (len == 0 || (len == 1 && s[0] == '~') || !strcmp(s, "null") || !strcmp(s, "Null") ||
	    !strcmp(s, "NULL"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (strlen(s) != len)
		return json_stringn(s, len); /* embedded NUL: keep as text */
	char *end;
	size_t digits_from = (s[0] == '-' || s[0] == '+') ? 1 : 0;
	int all_digits = len > digits_from;
	for (size_t i = digits_from; i < len; i++)
		all_digits &= isdigit((unsigned char)s[i]) != 0;
	if (all_digits) {
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_integer(v);
	}
	int looks_numeric = isdigit((unsigned char)s[digits_from]) ||
		(s[digits_from] == '.' && isdigit((unsigned char)s[digits_from + 1]));
	if (looks_numeric) {
		errno = 0;
		double d = strtod(s, &end);
		if (errno == 0 && *end == '\0' && isfinite(d) && !strpbrk(s, "xXpP"))
			return json_real(d);
	}
	return json_stringn(s, len);
}

static json_t *convert_node(converter *c, yaml_node_t *node, int depth)
{
	if (!node)
		return json_null();
	if (depth > MAX_DEPTH) {
		c->error = "nesting deeper than 64 levels";
		c->error_line = (int)node->start_mark.line + 1;
		return NULL;
	}
	if (++c->nodes > MAX_NODES) {
		c->error = "more than 100000 nodes (alias expansion?)";
		c->error_line = (int)node->start_mark.line + 1;
		return NULL;
	}
	switch (node->type) {
	case YAML_SCALAR_NODE: {
		const char *s = (const char *)node->data.scalar.value;
		size_t len = node->data.scalar.length;
		if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return plain_scalar(s, len);
		return json_stringn(s, len);
	}
	case YAML_SEQUENCE_NODE: {
		json_t *arr = json_array();
		for (yaml_node_item_t *it = node->data.sequence.items.start;
		     arr && it < node->data.sequence.items.top; it++) {
			json_t *v = convert_node(c, yaml_document_get_node(c->doc, *it), depth + 1);
			if (!v || json_array_append_new(arr, v) != 0) {
				json_decref(arr);
				return NULL;
			}
		}
		return arr;
	}
	case YAML_MAPPING_NODE: {
		json_t *obj = json_object();
		for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
		     obj && pair < node->data.mapping.pairs.top; pair++) {
			yaml_node_t *key = yaml_document_get_node(c->doc, pair->key);
			if (!key || key->type != YAML_SCALAR_NODE) {
				c->error = "a mapping key is not a plain value";
				c->error_line = key ? (int)key->start_mark.line + 1 : 0;
				json_decref(obj);
				return NULL;
			}
			json_t *v = convert_node(c, yaml_document_get_node(c->doc, pair->value), depth + 1);
			if (!v) {
				json_decref(obj);
				return NULL;
			}
			const char *k = (const char *)key->data.scalar.value;
			if (json_object_setn_new(obj, k, key->data.scalar.length, v) != 0) {
				c->error = "a mapping key is not valid UTF-8";
				c->error_line = (int)key->start_mark.line + 1;
				json_decref(obj);
				return NULL;
			}
		}
		return obj;
	}
	default:
		return json_null();
	}
}

arca_err arca_card_parse(char **json_out, const char *readme, size_t len)
{
	*json_out = NULL;
	size_t start = 0, end = 0;
	int found = find_front_matter(readme, len, &start, &end);
	if (found == 0)
		return ARCA_OK;
	if (found < 0)
		return arca_error_set(ARCA_EINVALID, "card front matter has no closing '---' line");
	if (end - start > MAX_FRONT_MATTER)
		return arca_error_set(ARCA_EINVALID, "card front matter is larger than 1 MiB");

	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return arca_error_set(ARCA_ENOMEM, "card: out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)readme + start, end - start);
	arca_err err = ARCA_OK;
	if (!yaml_parser_load(&parser, &doc)) {
		err = arca_error_set(ARCA_EINVALID, "card front matter, line %d: %s%s%s",
			(int)parser.problem_mark.line + 2, parser.problem ? parser.problem : "bad YAML",
			parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return err;
	}
	converter c = { &doc, 0, NULL, 0 };
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	json_t *value = root ? convert_node(&c, root, 0) : json_object();
	if (!value) {
		err = c.error ? arca_error_set(ARCA_EINVALID, "card front matter, line %d: %s",
				c.error_line + 1, c.error) :
			arca_error_set(ARCA_ENOMEM, "card: out of memory");
	} else if (!json_is_object(value)) {
		err = arca_error_set(ARCA_EINVALID, "card front matter is not a mapping of fields");
	} else if (!(*json_out = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS))) {
		err = arca_error_set(ARCA_ENOMEM, "card: out of memory");
	}
	json_decref(value);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return err;
}

int arca_card_is_license_file(const char *path)
{
	if (strchr(path, '/'))
		return 0;
	static const char *const stems[] = { "license", "licence", "copying", "notice" };
	for (size_t i = 0; i < sizeof(stems) / sizeof(stems[0]); i++)
		if (strncasecmp(path, stems[i], strlen(stems[i])) == 0)
			return 1;
	/* "Tongyi Qianwen LICENSE AGREEMENT", "LLAMA 2 COMMUNITY LICENSE.txt", ... */
	return strcasestr(path, "license") != NULL || strcasestr(path, "licence") != NULL;
}

/* Licence texts we recognise by a phrase near their start, most specific first. */
static const struct {
	const char *phrase;
	const char *id;
} known_texts[] = {
	{ "Tongyi Qianwen LICENSE AGREEMENT", "tongyi-qianwen" },
	{ "Tongyi Qianwen RESEARCH LICENSE AGREEMENT", "tongyi-qianwen-research" },
	{ "DEEPSEEK LICENSE AGREEMENT", "deepseek" },
	{ "Yi Series Models Community License", "yi-license" },
	{ "Llama 3.3 Community License", "llama3.3" },
	{ "Llama 3.2 Community License", "llama3.2" },
	{ "Llama 3.1 Community License", "llama3.1" },
	{ "META LLAMA 3 COMMUNITY LICENSE", "llama3" },
	{ "LLAMA 2 COMMUNITY LICENSE", "llama2" },
	{ "Modified MIT License", "other" },
	{ "Apache License", "apache-2.0" },
	{ "MIT License", "mit" },
	{ "Permission is hereby granted, free of charge", "mit" },
	{ "GNU GENERAL PUBLIC LICENSE", "gpl" },
	{ "Creative Commons Attribution-NonCommercial", "cc-by-nc-4.0" },
	{ "BSD 3-Clause", "bsd-3-clause" },
};

static const char *detect_license(const char *text, size_t len)
{
	char head[8192];
	size_t n = len < sizeof(head) - 1 ? len : sizeof(head) - 1;
	memcpy(head, text, n);
	head[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (head[i] == '\0' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')
			head[i] = ' ';
	/* collapse runs of spaces so line breaks inside a phrase do not hide it */
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (!(head[i] == ' ' && o > 0 && head[o - 1] == ' '))
			head[o++] = head[i];
	head[o] = '\0';
	for (size_t i = 0; i < sizeof(known_texts) / sizeof(known_texts[0]); i++)
		if (strcasestr(head, known_texts[i].phrase))
			return known_texts[i].id;
	return NULL;
}

static const char *card_string(json_t *card, const char *key)
{
	json_t *v = card ? json_object_get(card, key) : NULL;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_array(v) && json_is_string(json_array_get(v, 0)))
		return json_string_value(json_array_get(v, 0));
	return NULL;
}

arca_err arca_card_license(char **json_out, const char *card_json,
	const arca_license_file *files, size_t n_files)
{
	*json_out = NULL;
	json_t *card = NULL;
	if (card_json) {
		json_error_t jerr;
		card = json_loads(card_json, 0, &jerr);
		if (!card)
			return arca_error_set(ARCA_EINVALID, "card JSON: %s", jerr.text);
	}
	json_t *out = json_object(), *paths = json_array(), *detected = json_array();
	arca_err err = ARCA_OK;
	if (!out || !paths || !detected) {
		err = arca_error_set(ARCA_ENOMEM, "licence: out of memory");
		goto cleanup;
	}
	const char *id = card_string(card, "license");
	const char *name = card_string(card, "license_name");
	const char *link = card_string(card, "license_link");
	json_object_set_new(out, "id", id ? json_string(id) : json_null());
	json_object_set_new(out, "name", name ? json_string(name) : json_null());
	json_object_set_new(out, "link", link ? json_string(link) : json_null());
	const char *first_detected = NULL, *first_file = NULL;
	for (size_t i = 0; i < n_files; i++) {
		json_array_append_new(paths, json_string(files[i].path));
		const char *found = detect_license(files[i].text, files[i].len);
		if (found) {
			json_array_append_new(detected, json_pack("{s:s,s:s}", "path", files[i].path,
				"id", found));
			if (!first_detected) {
				first_detected = found;
				first_file = files[i].path;
			}
		}
	}
	char summary[256];
	if (id && strcmp(id, "other") == 0 && name)
		snprintf(summary, sizeof(summary), "other: %s", name);
	else if (id)
		snprintf(summary, sizeof(summary), "%s", id);
	else if (first_detected)
		snprintf(summary, sizeof(summary), "%s (from %s)", first_detected, first_file);
	else
		snprintf(summary, sizeof(summary), "unknown");
	json_object_set_new(out, "summary", json_string(summary));
	json_object_set(out, "files", paths);
	json_object_set(out, "detected", detected);
	if (!(*json_out = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS)))
		err = arca_error_set(ARCA_ENOMEM, "licence: out of memory");
cleanup:
	json_decref(card);
	json_decref(out);
	json_decref(paths);
	json_decref(detected);
	return err;
}

char *arca_card_license_summary(const char *license_json)
{
	json_t *lic = license_json ? json_loads(license_json, 0, NULL) : NULL;
	const char *summary = json_string_value(json_object_get(lic, "summary"));
	char *copy = strdup(summary ? summary : "unknown");
	json_decref(lic);
	return copy;
}
