/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/http.h — arca's HTTP client on libcurl, for hub API calls and the transfer engine.
 *
 * One arca_http per pull. It owns a curl share handle (connection cache, DNS, TLS sessions)
 * so every request, blocking or in the transfer engine, reuses connections. TLS peer and
 * host verification are always on; SSL_CERT_FILE / CURL_CA_BUNDLE name another CA bundle.
 * Proxies come from the usual environment variables (libcurl reads them). Redirects are
 * never followed by curl: callers read the 3xx answer itself (the hub puts its metadata
 * there) and decide where to go next.
 *
 * Blocking requests retry network errors and 408/429/500/502/503/504 with backoff
 * (base, 2·base, 4·base, 8·base, 8·base); a 429 waits as its RateLimit (t+1 when r=0) or
 * Retry-After header says, capped at max_wait. Nothing here prints; events reach the
 * caller's log callback.
 */
#ifndef ARCA_FETCH_HTTP_H
#define ARCA_FETCH_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"

typedef struct arca_http arca_http;

/* Something worth telling the user (a retry and why). */
typedef void (*arca_http_log_cb)(const char *message, void *payload);

typedef struct {
	long connect_timeout_s; /* 10 */
	long stall_timeout_s;   /* abort a transfer that moves < 1 KiB/s for this long: 30 */
	int max_retries;        /* 5 */
	long backoff_base_ms;   /* 1000 */
	long max_wait_s;        /* longest 429 wait we accept: 300 */
	arca_http_log_cb log;
	void *payload;
} arca_http_opts;

#define ARCA_HTTP_OPTS_INIT { 10, 30, 5, 1000, 300, NULL, NULL }

arca_err arca_http_new(arca_http **out, const arca_http_opts *opts);
void arca_http_free(arca_http *http);
const arca_http_opts *arca_http_options(const arca_http *http);

typedef struct {
	char *name;
	char *value;
} arca_http_header;

typedef struct {
	long status;
	arca_http_header *headers; /* of the final answer, in order */
	size_t n_headers;
	char *body;                /* NUL-terminated; "" for HEAD */
	size_t body_len;
	char *redirect_url;        /* absolute Location of a 3xx, else NULL */
	char *final_url;           /* set by callers that followed redirects: who answered */
	char *content_type;
} arca_http_response;

void arca_http_response_dispose(arca_http_response *resp);

/* Case-insensitive header lookup; the value is borrowed from resp. NULL when absent. */
const char *arca_http_header_get(const arca_http_response *resp, const char *name);

typedef struct {
	const char *method;          /* "GET", "HEAD" or "POST" */
	const char *url;
	const char *const *headers;  /* NULL-terminated "Name: value" lines, or NULL */
	const char *post_body;       /* form body for POST */
	size_t max_body;             /* larger answers fail with ARCA_ENET; 0: 64 MiB */
	int no_retry;
} arca_http_request;

/* Performs a request, retrying as described above. Any final HTTP status is ARCA_OK (the
 * caller interprets 4xx); ARCA_ENET when the network or the retries gave out. */
arca_err arca_http_do(arca_http *http, const arca_http_request *req, arca_http_response *out);

/* Applies arca's common options (timeouts, TLS, share handle, user agent, no redirects)
 * to an easy handle the transfer engine drives itself. */
void arca_http__setup_easy(arca_http *http, CURL *easy);

/* A CURLOPT_HEADERFUNCTION that collects the final answer's headers into the
 * arca_http_response given as userdata (a new status line starts the list afresh). */
size_t arca_http__collect_header(char *data, size_t size, size_t n, void *userdata);

/* Whether a status / curl result is worth retrying. */
int arca_http_status_retryable(long status);
int arca_http_curl_retryable(CURLcode rc);

/* Milliseconds to wait before retry number `attempt` (0-based) after an answer with these
 * headers (429: RateLimit / Retry-After), or -1 when the server asks for longer than
 * max_wait_s. resp may be NULL (network error). */
long arca_http_retry_delay_ms(const arca_http *http, int attempt, const arca_http_response *resp);

/* "host:port" of a URL into buf; "" when it cannot be parsed. */
void arca_http_url_host(char *buf, size_t cap, const char *url);

/* "scheme://host:port" of a URL into buf (lowercase, default port filled in): what decides
 * whether credentials may go there. "" when it cannot be parsed. */
void arca_http_url_origin(char *buf, size_t cap, const char *url);

/* Percent-encodes s: keep_slash leaves '/' literal (file paths in resolve URLs). malloc'ed. */
char *arca_http_escape(const char *s, int keep_slash);

void arca_http_sleep_ms(long ms);

#endif
