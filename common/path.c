/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/path.c — path joining and the one check every untrusted relative path goes through
 * before arca creates anything from it (never write outside the store or checkout folder).
 */
#include "common/path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *arca_path_join(const char *a, const char *b)
{
	char *out;
	size_t la = strlen(a);
	const char *sep = (la > 0 && a[la - 1] == '/') ? "" : "/";
	if (asprintf(&out, "%s%s%s", a, sep, b) < 0)
		return NULL;
	return out;
}

static void quote_for_message(char *dst, size_t cap, const char *src, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

arca_err arca_path_check_relative(const char *path, size_t len)
{
	char shown[256];
	quote_for_message(shown, sizeof(shown), path, len);
	if (len == 0)
		return arca_error_set(ARCA_EINVALID, "empty path");
	if (len > 4096)
		return arca_error_set(ARCA_EINVALID, "path '%s...' is longer than 4096 bytes", shown);
	if (path[0] == '/')
		return arca_error_set(ARCA_EINVALID, "path '%s' is absolute", shown);
	if (len >= 2 && path[1] == ':')
		return arca_error_set(ARCA_EINVALID, "path '%s' starts with a drive letter", shown);
	size_t seg_start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len) {
			unsigned char c = (unsigned char)path[i];
			if (c == '\0')
				return arca_error_set(ARCA_EINVALID, "path '%s' contains a NUL byte", shown);
			if (c < 0x20 || c == 0x7f)
				return arca_error_set(ARCA_EINVALID,
					"path '%s' contains a control character", shown);
			if (c == '\\')
				return arca_error_set(ARCA_EINVALID, "path '%s' contains a backslash", shown);
			if (c != '/')
				continue;
		}
		size_t seg_len = i - seg_start;
		const char *seg = path + seg_start;
		if (seg_len == 0)
			return arca_error_set(ARCA_EINVALID, "path '%s' has an empty segment", shown);
		if ((seg_len == 1 && seg[0] == '.') || (seg_len == 2 && seg[0] == '.' && seg[1] == '.'))
			return arca_error_set(ARCA_EINVALID, "path '%s' has a '%.*s' segment", shown,
				(int)seg_len, seg);
		if (seg_len > 255)
			return arca_error_set(ARCA_EINVALID, "path '%s' has a segment over 255 bytes",
				shown);
		seg_start = i + 1;
	}
	return ARCA_OK;
}
