/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/ref.c — parsing and printing REFs (see arca/ref.h for the grammar).
 */
#include "arca/ref.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *spelling;
	const char *canonical;
} known_hubs[] = {
	{ "hf", "hf" },
	{ "huggingface", "hf" },
	{ "modelscope", "modelscope" },
	{ "ms", "modelscope" },
	{ "local", "local" },
};

arca_err arca_ref_canonical_hub(char out[16], const char *hub)
{
	for (size_t i = 0; i < sizeof(known_hubs) / sizeof(known_hubs[0]); i++) {
		if (strcmp(hub, known_hubs[i].spelling) == 0) {
			snprintf(out, 16, "%s", known_hubs[i].canonical);
			return ARCA_OK;
		}
	}
	return arca_error_set(ARCA_EINVALID, "unknown hub '%.40s' (known: hf, modelscope, local)",
		hub);
}

static int is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

static arca_err check_segment(const char *text, const char *seg, size_t len, const char *what)
{
	if (len == 0)
		return arca_error_set(ARCA_EINVALID, "'%s': empty %s", text, what);
	if (len > 96)
		return arca_error_set(ARCA_EINVALID, "'%s': %s longer than 96 characters", text, what);
	for (size_t i = 0; i < len; i++) {
		char c = seg[i];
		if (!is_word(c) && c != '-' && c != '.')
			return arca_error_set(ARCA_EINVALID,
				"'%s': %s may only contain letters, digits, '_', '-' and '.'", text, what);
		if (i > 0 && (c == '-' || c == '.') && seg[i - 1] == c)
			return arca_error_set(ARCA_EINVALID, "'%s': %s contains '%c%c'", text, what, c, c);
	}
	if (!is_word(seg[0]) || !is_word(seg[len - 1]))
		return arca_error_set(ARCA_EINVALID,
			"'%s': %s must start and end with a letter, digit or '_'", text, what);
	return ARCA_OK;
}

arca_err arca_ref_parse(arca_ref *out, const char *text)
{
	memset(out, 0, sizeof(*out));
	const char *p = text;
	size_t total = strlen(text);
	if (total == 0)
		return arca_error_set(ARCA_EINVALID, "empty model reference (expected org/name)");
	if (total > 600)
		return arca_error_set(ARCA_EINVALID, "model reference longer than 600 characters");

	/* hub prefix: a ':' before the first '/' */
	const char *colon = strchr(p, ':');
	const char *slash = strchr(p, '/');
	if (colon && (!slash || colon < slash)) {
		char hub[32];
		size_t n = (size_t)(colon - p);
		if (n == 0 || n >= sizeof(hub))
			return arca_error_set(ARCA_EINVALID, "'%s': bad hub prefix", text);
		memcpy(hub, p, n);
		hub[n] = '\0';
		arca_err err = arca_ref_canonical_hub(out->hub, hub);
		if (err < 0)
			return arca_error_prefix(err, "'%s'", text);
		p = colon + 1;
		slash = strchr(p, '/');
	}
	if (!slash)
		return arca_error_set(ARCA_EINVALID, "'%s': expected org/name", text);

	/* repo id ends at '@' or ':' */
	size_t id_len = strcspn(p, "@:");
	const char *name = slash + 1;
	if ((size_t)(slash - p) > id_len)
		return arca_error_set(ARCA_EINVALID, "'%s': expected org/name", text);
	arca_err err;
	if ((err = check_segment(text, p, (size_t)(slash - p), "organisation")) < 0)
		return err;
	size_t name_len = id_len - (size_t)(name - p);
	if (memchr(name, '/', name_len))
		return arca_error_set(ARCA_EINVALID, "'%s': expected org/name, found more than one '/'",
			text);
	if ((err = check_segment(text, name, name_len, "name")) < 0)
		return err;
	memcpy(out->repo_id, p, id_len);
	out->repo_id[id_len] = '\0';
	p += id_len;

	if (*p == '@') {
		p++;
		size_t rev_len = strcspn(p, ":");
		if (rev_len == 0)
			return arca_error_set(ARCA_EINVALID, "'%s': empty revision after '@'", text);
		if (rev_len >= sizeof(out->revision))
			return arca_error_set(ARCA_EINVALID, "'%s': revision longer than 255 characters",
				text);
		for (size_t i = 0; i < rev_len; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c <= 0x20 || c == 0x7f || c == '@' || c == '\\')
				return arca_error_set(ARCA_EINVALID,
					"'%s': revision contains a space, '@', '\\' or a control character", text);
		}
		if (strstr(p, "..") && (size_t)(strstr(p, "..") - p) < rev_len)
			return arca_error_set(ARCA_EINVALID, "'%s': revision contains '..'", text);
		memcpy(out->revision, p, rev_len);
		out->revision[rev_len] = '\0';
		p += rev_len;
	}
	if (*p == ':') {
		p++;
		size_t v_len = strlen(p);
		if (v_len == 0 || v_len >= sizeof(out->variant))
			return arca_error_set(ARCA_EINVALID, "'%s': bad variant after ':'", text);
		for (size_t i = 0; i < v_len; i++) {
			char c = (char)tolower((unsigned char)p[i]);
			if (!isalnum((unsigned char)c) && c != '_')
				return arca_error_set(ARCA_EINVALID,
					"'%s': variant may only contain letters, digits and '_'", text);
			out->variant[i] = c;
		}
		out->variant[v_len] = '\0';
		p += v_len;
	}
	if (*p != '\0')
		return arca_error_set(ARCA_EINVALID, "'%s': unexpected '%c'", text, *p);
	return ARCA_OK;
}

int arca_ref_format(char *buf, size_t cap, const arca_ref *ref)
{
	return snprintf(buf, cap, "%s%s%s%s%s%s%s", ref->hub, ref->hub[0] ? ":" : "",
		ref->repo_id, ref->revision[0] ? "@" : "", ref->revision,
		ref->variant[0] ? ":" : "", ref->variant);
}
