/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/http.c — libcurl setup shared by every request (see http.h), blocking requests with
 * retries, and the retry-delay rules of the Hugging Face client (RateLimit, Retry-After).
 */
#include "fetch/http.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct arca_http {
	arca_http_opts opts;
	CURLSH *share;
	CURL *easy;               /* reused by blocking requests, keeps its connection */
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	char user_agent[64];
	char *ca_bundle;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *ptr)
{
	(void)handle;
	(void)access;
	arca_http *http = ptr;
	pthread_mutex_lock(&http->locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *ptr)
{
	(void)handle;
	arca_http *http = ptr;
	pthread_mutex_unlock(&http->locks[data]);
}

arca_err arca_http_new(arca_http **out, const arca_http_opts *opts)
{
	*out = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return arca_error_set(ARCA_ENET, "libcurl failed to initialise: %s",
			curl_easy_strerror(global_rc));
	arca_http *http = calloc(1, sizeof(*http));
	if (!http)
		return arca_error_set(ARCA_ENOMEM, "http: out of memory");
	arca_http_opts defaults = ARCA_HTTP_OPTS_INIT;
	http->opts = opts ? *opts : defaults;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&http->locks[i], NULL);
	snprintf(http->user_agent, sizeof(http->user_agent), "arca/%s", ARCA_VERSION);
	const char *ca = getenv("SSL_CERT_FILE");
	if (!ca || !ca[0])
		ca = getenv("CURL_CA_BUNDLE");
	if (ca && ca[0])
		http->ca_bundle = strdup(ca);
	http->share = curl_share_init();
	http->easy = curl_easy_init();
	if (!http->share || !http->easy) {
		arca_http_free(http);
		return arca_error_set(ARCA_ENOMEM, "http: out of memory");
	}
	curl_share_setopt(http->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(http->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(http->share, CURLSHOPT_USERDATA, http);
	curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	*out = http;
	return ARCA_OK;
}

void arca_http_free(arca_http *http)
{
	if (!http)
		return;
	if (http->easy)
		curl_easy_cleanup(http->easy);
	if (http->share)
		curl_share_cleanup(http->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&http->locks[i]);
	free(http->ca_bundle);
	free(http);
}

const arca_http_opts *arca_http_options(const arca_http *http)
{
	return &http->opts;
}

void arca_http__setup_easy(arca_http *http, CURL *easy)
{
	curl_easy_setopt(easy, CURLOPT_SHARE, http->share);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, http->user_agent);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, http->opts.connect_timeout_s);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, http->opts.stall_timeout_s);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (http->ca_bundle)
		curl_easy_setopt(easy, CURLOPT_CAINFO, http->ca_bundle);
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	/* the hashed bytes must be the file: never let a server compress them */
	curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L);
	curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 512L * 1024L);
}

/* ------------------------------------------------------------------ responses */

void arca_http_response_dispose(arca_http_response *resp)
{
	for (size_t i = 0; i < resp->n_headers; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	free(resp->headers);
	free(resp->body);
	free(resp->redirect_url);
	free(resp->final_url);
	free(resp->content_type);
	memset(resp, 0, sizeof(*resp));
}

const char *arca_http_header_get(const arca_http_response *resp, const char *name)
{
	for (size_t i = resp->n_headers; i > 0; i--)
		if (strcasecmp(resp->headers[i - 1].name, name) == 0)
			return resp->headers[i - 1].value;
	return NULL;
}

typedef struct {
	arca_http_response *resp;
	size_t cap;
	size_t max;
	int too_big;
	int oom;
} collect_state;

static size_t collect_body(char *data, size_t size, size_t n, void *userdata)
{
	collect_state *c = userdata;
	size_t len = size * n;
	arca_http_response *r = c->resp;
	if (r->body_len + len > c->max) {
		c->too_big = 1;
		return 0;
	}
	if (r->body_len + len + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < r->body_len + len + 1)
			cap *= 2;
		char *grown = realloc(r->body, cap);
		if (!grown) {
			c->oom = 1;
			return 0;
		}
		r->body = grown;
		c->cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

size_t arca_http__collect_header(char *data, size_t size, size_t n, void *userdata)
{
	size_t len = size * n;
	arca_http_response *r = userdata;
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		for (size_t i = 0; i < r->n_headers; i++) {
			free(r->headers[i].name);
			free(r->headers[i].value);
		}
		r->n_headers = 0;
		return len;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon)
		return len;
	size_t name_len = (size_t)(colon - data);
	const char *v = colon + 1, *end = data + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	arca_http_header *grown = realloc(r->headers, (r->n_headers + 1) * sizeof(*grown));
	if (!grown)
		return 0;
	r->headers = grown;
	grown[r->n_headers].name = strndup(data, name_len);
	grown[r->n_headers].value = strndup(v, (size_t)(end - v));
	if (!grown[r->n_headers].name || !grown[r->n_headers].value) {
		free(grown[r->n_headers].name);
		free(grown[r->n_headers].value);
		return 0;
	}
	r->n_headers++;
	return len;
}

/* ------------------------------------------------------------------ retry rules */

int arca_http_status_retryable(long status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
		status == 504;
}

int arca_http_curl_retryable(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* Seconds from a RateLimit header ("resolvers";r=0;t=55) when its remaining count is 0. */
static long ratelimit_seconds(const char *value)
{
	const char *r = strstr(value, ";r=");
	const char *t = strstr(value, ";t=");
	if (!r || !t || atol(r + 3) != 0)
		return -1;
	return atol(t + 3) + 1;
}

long arca_http_retry_delay_ms(const arca_http *http, int attempt, const arca_http_response *resp)
{
	static const int factors[] = { 1, 2, 4, 8, 8 };
	long backoff = http->opts.backoff_base_ms * factors[attempt < 4 ? attempt : 4];
	if (!resp || resp->status != 429)
		return backoff;
	long seconds = -1;
	const char *v = arca_http_header_get(resp, "RateLimit");
	if (v)
		seconds = ratelimit_seconds(v);
	if (seconds < 0 && (v = arca_http_header_get(resp, "Retry-After"))) {
		char *end;
		long s = strtol(v, &end, 10);
		if (end != v && *end == '\0' && s >= 0)
			seconds = s; /* an HTTP-date is ignored, as the Python client does */
	}
	if (seconds < 0)
		return backoff;
	if (seconds > http->opts.max_wait_s)
		return -1;
	return seconds * 1000;
}

void arca_http_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ blocking requests */

static arca_err perform_once(arca_http *http, const arca_http_request *req,
	arca_http_response *out, CURLcode *rc_out, char *errbuf)
{
	CURL *easy = http->easy;
	curl_easy_reset(easy);
	arca_http__setup_easy(http, easy);
	struct curl_slist *headers = NULL;
	for (const char *const *h = req->headers; h && *h; h++) {
		struct curl_slist *next = curl_slist_append(headers, *h);
		if (!next) {
			curl_slist_free_all(headers);
			return arca_error_set(ARCA_ENOMEM, "http: out of memory");
		}
		headers = next;
	}
	collect_state c = { out, 0, req->max_body ? req->max_body : (64u << 20), 0, 0 };
	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, arca_http__collect_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, out);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, 300L);
	/* API answers may come compressed; curl decodes them (file bytes never take this path) */
	curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 1L);
	if (!strcmp(req->method, "HEAD"))
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	else if (!strcmp(req->method, "POST"))
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->post_body ? req->post_body : "");
	errbuf[0] = '\0';
	CURLcode rc = curl_easy_perform(easy);
	*rc_out = rc;
	curl_slist_free_all(headers);
	if (c.oom)
		return arca_error_set(ARCA_ENOMEM, "GET %s: out of memory", req->url);
	if (c.too_big)
		return arca_error_set(ARCA_ENET, "%s %s: the answer is larger than %zu bytes",
			req->method, req->url, c.max);
	if (rc != CURLE_OK)
		return ARCA_ENET;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &out->status);
	char *redirect = NULL, *type = NULL;
	curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &redirect);
	curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type);
	if (redirect && !(out->redirect_url = strdup(redirect)))
		return arca_error_set(ARCA_ENOMEM, "http: out of memory");
	if (type && !(out->content_type = strdup(type)))
		return arca_error_set(ARCA_ENOMEM, "http: out of memory");
	if (!out->body && !(out->body = calloc(1, 1)))
		return arca_error_set(ARCA_ENOMEM, "http: out of memory");
	return ARCA_OK;
}

arca_err arca_http_do(arca_http *http, const arca_http_request *req, arca_http_response *out)
{
	memset(out, 0, sizeof(*out));
	char errbuf[CURL_ERROR_SIZE];
	for (int attempt = 0;; attempt++) {
		CURLcode rc = CURLE_OK;
		arca_err err = perform_once(http, req, out, &rc, errbuf);
		int retryable;
		char why[CURL_ERROR_SIZE + 64];
		if (err == ARCA_OK) {
			retryable = arca_http_status_retryable(out->status);
			snprintf(why, sizeof(why), "HTTP %ld", out->status);
		} else if (err == ARCA_ENET && rc != CURLE_OK) {
			retryable = arca_http_curl_retryable(rc);
			snprintf(why, sizeof(why), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		} else {
			arca_http_response_dispose(out);
			return err;
		}
		if (!retryable || req->no_retry) {
			if (err == ARCA_OK)
				return ARCA_OK;
			arca_http_response_dispose(out);
			return arca_error_set(ARCA_ENET, "%s %s: %s", req->method, req->url, why);
		}
		long delay = arca_http_retry_delay_ms(http, attempt, err == ARCA_OK ? out : NULL);
		if (attempt >= http->opts.max_retries || delay < 0) {
			int rate_limited = err == ARCA_OK && out->status == 429;
			arca_http_response_dispose(out);
			if (rate_limited)
				return arca_error_set(ARCA_ENET, "%s %s: rate limited by the hub (HTTP 429) "
					"%s; wait and try again, and pass a token (rate limits are per IP without "
					"one)", req->method, req->url, delay < 0 ? "for longer than we wait" :
					"after every retry");
			return arca_error_set(ARCA_ENET, "%s %s: %s (gave up after %d attempts)",
				req->method, req->url, why, attempt + 1);
		}
		if (http->opts.log) {
			char msg[CURL_ERROR_SIZE + 512];
			snprintf(msg, sizeof(msg), "%s %s: %s; retrying in %.1f s", req->method, req->url,
				why, (double)delay / 1000);
			http->opts.log(msg, http->opts.payload);
		}
		arca_http_response_dispose(out);
		arca_http_sleep_ms(delay);
	}
}

/* ------------------------------------------------------------------ URLs */

void arca_http_url_host(char *buf, size_t cap, const char *url)
{
	buf[0] = '\0';
	CURLU *u = curl_url();
	if (!u)
		return;
	char *host = NULL, *port = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
		snprintf(buf, cap, "%s:%s", host, port ? port : "");
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

void arca_http_url_origin(char *buf, size_t cap, const char *url)
{
	buf[0] = '\0';
	CURLU *u = curl_url();
	if (!u)
		return;
	char *scheme = NULL, *host = NULL, *port = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
		snprintf(buf, cap, "%s://%s:%s", scheme, host, port ? port : "");
		for (char *c = buf; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

char *arca_http_escape(const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(3 * n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}
