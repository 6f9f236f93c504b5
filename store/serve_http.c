/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/serve_http.c — the HTTP pieces of arca serve (serve_internal.h): splitting and
 * percent-decoding URL paths, query parameters, the Range header, the token, the base URL
 * clients reached us by, and every kind of answer (JSON, errors the way the Hub writes them,
 * file bytes by sendfile with ranges and conditional requests).
 *
 * Paths are split on '/' before decoding (a "%2F" inside a revision stays inside its
 * segment, as the Hub's clients expect); a segment that decodes to a NUL or backslash, or
 * to "." or ".." (alone or between decoded slashes), refuses the whole request.
 */
#include "store/serve_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_SEGMENTS 256

/* ------------------------------------------------------------------ URLs */

int arca_serve__percent_decode(char *s, size_t len, size_t *len_out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			s[o++] = s[i];
			continue;
		}
		char hex[3] = { i + 2 < len ? s[i + 1] : 0, i + 2 < len ? s[i + 2] : 0, 0 };
		unsigned char byte;
		if (arca_hex_decode(&byte, 1, hex) < 0) {
			arca_error_clear();
			return -1;
		}
		s[o++] = (char)byte;
		i += 2;
	}
	s[o] = '\0';
	*len_out = o;
	return 0;
}

/* 0 when a decoded segment is acceptable (see the top of the file). */
static int check_segment(const char *seg, size_t len)
{
	if (memchr(seg, '\0', len) || memchr(seg, '\\', len))
		return -1;
	const char *piece = seg, *end = seg + len;
	while (piece <= end) {
		const char *slash = memchr(piece, '/', (size_t)(end - piece));
		size_t n = (size_t)((slash ? slash : end) - piece);
		if ((n == 1 && piece[0] == '.') || (n == 2 && piece[0] == '.' && piece[1] == '.'))
			return -1;
		if (!slash)
			break;
		piece = slash + 1;
	}
	return 0;
}

int arca_serve__split_path(serve_req *r)
{
	size_t path_len = strcspn(r->target, "?#");
	const char *p = r->target;
	if (path_len == 0 || p[0] != '/')
		return 400;
	r->segs = calloc(MAX_SEGMENTS, sizeof(char *));
	if (!r->segs)
		return 500;
	size_t at = 1;
	while (at <= path_len) {
		if (r->n_segs == MAX_SEGMENTS)
			return 414;
		size_t n = strcspn(p + at, "/?#");
		if (at + n > path_len)
			n = path_len - at;
		char *seg = strndup(p + at, n);
		if (!seg)
			return 500;
		r->segs[r->n_segs++] = seg;
		size_t decoded;
		if (arca_serve__percent_decode(seg, n, &decoded) < 0 || check_segment(seg, decoded) < 0)
			return 400;
		at += n + 1;
	}
	return 0;
}

char *arca_serve__join(const serve_req *r, size_t lo, size_t hi)
{
	size_t len = 1;
	for (size_t i = lo; i < hi; i++)
		len += strlen(r->segs[i]) + 1;
	char *out = malloc(len);
	if (!out)
		return NULL;
	out[0] = '\0';
	size_t o = 0;
	for (size_t i = lo; i < hi; i++) {
		size_t n = strlen(r->segs[i]);
		if (i > lo)
			out[o++] = '/';
		memcpy(out + o, r->segs[i], n);
		o += n;
	}
	out[o] = '\0';
	return out;
}

char *arca_serve__query(const serve_req *r, const char *name)
{
	/* values arrive raw (serve.c turns libmicrohttpd's unescaping off), '+' already ' ' */
	const char *raw = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
	if (!raw)
		return NULL;
	char *value = strdup(raw);
	size_t len;
	if (value && arca_serve__percent_decode(value, strlen(value), &len) < 0)
		value[0] = '\0'; /* a malformed value counts as empty */
	return value;
}

int arca_serve__query_bool(const serve_req *r, const char *name, int fallback)
{
	char *v = arca_serve__query(r, name);
	if (!v)
		return fallback;
	int yes = !strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes");
	free(v);
	return yes;
}

/* ------------------------------------------------------------------ Range */

/* Digits at *p into *out, clamped to UINT64_MAX; -1 when there is none. */
static int read_number(const char **p, uint64_t *out)
{
	const char *s = *p;
	if (!isdigit((unsigned char)*s))
		return -1;
	uint64_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

static void skip_spaces(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

serve_range arca_serve__parse_range(const char *value, uint64_t size, uint64_t *first,
	uint64_t *last)
{
	if (!value)
		return SERVE_RANGE_NONE;
	const char *p = value;
	skip_spaces(&p);
	if (strncasecmp(p, "bytes", 5) != 0)
		return SERVE_RANGE_NONE; /* a unit we do not know is ignored */
	p += 5;
	skip_spaces(&p);
	if (*p++ != '=')
		return SERVE_RANGE_NONE;
	skip_spaces(&p);
	uint64_t a = 0, b = 0;
	int has_first = read_number(&p, &a) == 0;
	skip_spaces(&p);
	if (*p++ != '-')
		return SERVE_RANGE_NONE;
	skip_spaces(&p);
	int has_last = read_number(&p, &b) == 0;
	skip_spaces(&p);
	if (*p != '\0' || (!has_first && !has_last))
		return SERVE_RANGE_NONE; /* several ranges or garbage: send the whole content */
	if (!has_first) { /* the last b bytes */
		if (b == 0 || size == 0)
			return SERVE_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return SERVE_RANGE_OK;
	}
	if (has_last && b < a)
		return SERVE_RANGE_NONE; /* invalid, so ignored */
	if (a >= size)
		return SERVE_RANGE_UNSATISFIABLE;
	*first = a;
	*last = !has_last || b >= size ? size - 1 : b;
	return SERVE_RANGE_OK;
}

/* ------------------------------------------------------------------ listen address */

static int copy_part(char *dst, size_t cap, const char *src, size_t len)
{
	if (len == 0 || len >= cap)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int arca_serve__parse_listen(const char *text, char *host, size_t host_cap, char *port,
	size_t port_cap)
{
	const char *port_text;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':' || copy_part(host, host_cap, text + 1,
				(size_t)(close - text - 1)) < 0)
			return -1;
		port_text = close + 2;
	} else {
		const char *colon = strrchr(text, ':');
		if (!colon) {
			if (copy_part(host, host_cap, "127.0.0.1", 9) < 0)
				return -1;
			port_text = text;
		} else {
			if (strchr(text, ':') != colon || copy_part(host, host_cap, text,
					(size_t)(colon - text)) < 0)
				return -1; /* an IPv6 address needs its brackets */
			port_text = colon + 1;
		}
	}
	size_t n = strlen(port_text);
	if (n == 0 || n > 5 || strspn(port_text, "0123456789") != n || atoi(port_text) > 65535)
		return -1;
	return copy_part(port, port_cap, port_text, n);
}

/* ------------------------------------------------------------------ token, host */

int arca_serve__authorized(const serve_req *r)
{
	const char *token = r->server->token;
	if (!token)
		return 1;
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	if (!h)
		return -1;
	while (*h == ' ')
		h++;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	size_t n = strcspn(h, " \t"), want = strlen(token);
	/* compare every byte whatever the first difference, so timing tells nothing */
	unsigned diff = n != want;
	for (size_t i = 0; i < want; i++)
		diff |= (unsigned char)token[i] ^ (unsigned char)(i < n ? h[i] : 0);
	return diff == 0;
}

void arca_serve__base_url(char *buf, size_t cap, const serve_req *r)
{
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Host");
	size_t n = host ? strlen(host) : 0;
	int plain = n > 0 && n < 256 && strspn(host, "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]") == n;
	if (plain)
		snprintf(buf, cap, "http://%s", host);
	else
		snprintf(buf, cap, "%s", r->server->url);
}

/* ------------------------------------------------------------------ answers */

static void add_headers(struct MHD_Response *resp, const serve_header *extra)
{
	for (const serve_header *h = extra; h && h->name; h++)
		if (h->value)
			MHD_add_response_header(resp, h->name, h->value);
}

/* Queues resp (destroying our reference) and records what was answered. */
static enum MHD_Result queue(serve_req *r, unsigned status, struct MHD_Response *resp,
	uint64_t body_bytes)
{
	if (!resp)
		return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES) {
		r->status = (int)status;
		r->bytes = r->head ? 0 : body_bytes;
	}
	return ret;
}

typedef struct {
	arca_server *server;
	char *text;
	size_t len;
} budget_buffer;

static void free_budget_buffer(void *cls)
{
	budget_buffer *b = cls;
	atomic_fetch_sub(&b->server->buffered, b->len);
	free(b->text);
	free(b);
}

enum MHD_Result arca_serve__reply_json(serve_req *r, unsigned status, json_t *doc,
	const serve_header *extra)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	budget_buffer *b = text ? malloc(sizeof(*b)) : NULL;
	if (!b) {
		free(text);
		return arca_serve__reply_failure(r, ARCA_ENOMEM);
	}
	*b = (budget_buffer){ r->server, text, strlen(text) };
	size_t before = atomic_fetch_add(&r->server->buffered, b->len);
	if (before + b->len > SERVE_BUFFER_BUDGET && before > 0) {
		free_budget_buffer(b);
		return arca_serve__reply_failure(r, ARCA_ELOCKED);
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(
		b->len, b->text, free_budget_buffer, b);
	if (!resp) {
		free_budget_buffer(b);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
	add_headers(resp, extra);
	return queue(r, status, resp, b->len);
}

enum MHD_Result arca_serve__reply_result(serve_req *r, arca_err err, json_t *doc,
	const serve_header *extra)
{
	if (err < 0) {
		json_decref(doc);
		return arca_serve__reply_failure(r, err);
	}
	return arca_serve__reply_json(r, 200, doc, extra);
}

enum MHD_Result arca_serve__reply_text(serve_req *r, unsigned status, const char *text,
	const serve_header *extra)
{
	size_t len = strlen(text);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)text,
		MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	add_headers(resp, extra);
	return queue(r, status, resp, len);
}

enum MHD_Result arca_serve__reply_error(serve_req *r, unsigned status, const char *code,
	const char *commit, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	/* a header value must not break the header: keep printable ASCII only */
	char header[512];
	size_t o = 0;
	for (const char *m = message; *m && o + 1 < sizeof(header); m++)
		header[o++] = (*m >= 0x20 && *m < 0x7f) ? *m : '?';
	header[o] = '\0';
	json_t *doc = json_pack("{s:s}", "error", message);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text)
		return MHD_NO;
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text,
		MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	serve_header headers[] = {
		{ "Content-Type", "application/json; charset=utf-8" },
		{ "X-Error-Code", code },
		{ "X-Error-Message", header },
		{ "X-Repo-Commit", commit },
		{ status == 401 ? "WWW-Authenticate" : NULL, "Bearer realm=\"arca serve\"" },
		{ status == 503 ? "Retry-After" : NULL, "1" },
		{ NULL, NULL },
	};
	add_headers(resp, headers);
	return queue(r, status, resp, strlen(text));
}

enum MHD_Result arca_serve__reply_failure(serve_req *r, arca_err err)
{
	/* the store's own messages name its files: they stay on this side */
	if (err == ARCA_ELOCKED)
		return arca_serve__reply_error(r, 503, NULL, NULL,
			"the server is busy; try again in a moment");
	if (err == ARCA_ENOMEM)
		return arca_serve__reply_error(r, 503, NULL, NULL, "the server is out of memory");
	return arca_serve__reply_error(r, 500, NULL, NULL, "the store could not be read (%s)",
		arca_error_name(err));
}

/* Whether a conditional header lists this ETag (or "*"); weak tags match too. */
static int etag_listed(const char *header, const char *etag)
{
	if (!header)
		return 0;
	size_t n = strlen(etag);
	for (const char *p = header; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (!strncmp(p, etag, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

enum MHD_Result arca_serve__reply_file(serve_req *r, int fd, uint64_t size, const char *etag,
	const char *content_type, const serve_header *extra)
{
	const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "If-None-Match");
	if (etag_listed(inm, etag)) {
		close(fd);
		struct MHD_Response *resp = MHD_create_response_from_buffer(0, "",
			MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "ETag", etag);
		add_headers(resp, extra);
		return queue(r, 304, resp, 0);
	}
	const char *range = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Range");
	const char *if_range = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "If-Range");
	if (range && if_range && strcmp(if_range, etag) != 0)
		range = NULL; /* the client's copy is another version: send it all */
	uint64_t first = 0, last = size ? size - 1 : 0;
	serve_range kind = arca_serve__parse_range(range, size, &first, &last);
	char content_range[96];
	if (kind == SERVE_RANGE_UNSATISFIABLE) {
		close(fd);
		static const char text[] = "Range Not Satisfiable\n";
		struct MHD_Response *resp = MHD_create_response_from_buffer(sizeof(text) - 1,
			(void *)text, MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		snprintf(content_range, sizeof(content_range), "bytes */%llu",
			(unsigned long long)size);
		MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
		MHD_add_response_header(resp, "Content-Range", content_range);
		MHD_add_response_header(resp, "ETag", etag);
		add_headers(resp, extra);
		return queue(r, 416, resp, sizeof(text) - 1);
	}
	uint64_t len = kind == SERVE_RANGE_OK ? last - first + 1 : size;
	struct MHD_Response *resp;
	if (len == 0) {
		close(fd);
		resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_fd_at_offset64(len, fd, first);
		if (!resp)
			close(fd);
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", content_type);
	MHD_add_response_header(resp, "Accept-Ranges", "bytes");
	MHD_add_response_header(resp, "ETag", etag);
	if (kind == SERVE_RANGE_OK) {
		snprintf(content_range, sizeof(content_range), "bytes %llu-%llu/%llu",
			(unsigned long long)first, (unsigned long long)last, (unsigned long long)size);
		MHD_add_response_header(resp, "Content-Range", content_range);
	}
	add_headers(resp, extra);
	return queue(r, kind == SERVE_RANGE_OK ? 206 : 200, resp, len);
}

const char *arca_serve__content_type(const char *path)
{
	static const char *const text[] = { ".txt", ".md", ".py", ".yaml", ".yml", ".jinja",
		NULL };
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	if (dot && !strcmp(dot, ".json"))
		return "application/json";
	for (const char *const *t = text; dot && *t; t++)
		if (!strcmp(dot, *t))
			return "text/plain; charset=utf-8";
	if (!dot || !strcmp(base, "LICENSE"))
		return "text/plain; charset=utf-8";
	return "application/octet-stream";
}
