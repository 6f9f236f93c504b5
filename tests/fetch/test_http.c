/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fetch/test_http.c — the HTTP layer's rules that need no server: which answers are
 * retried, how long a 429 waits (RateLimit, Retry-After, the cap), URL escaping and hosts.
 */
#include <stdlib.h>
#include <string.h>

#include "fetch/http.h"
#include "support.h"

static arca_http_response answer(long status, const char *name, const char *value)
{
	arca_http_response r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	if (name) {
		r.headers = calloc(1, sizeof(*r.headers));
		r.headers[0].name = strdup(name);
		r.headers[0].value = strdup(value);
		r.n_headers = 1;
	}
	return r;
}

static void test_retry_delays(void **state)
{
	(void)state;
	arca_http_opts opts = ARCA_HTTP_OPTS_INIT;
	opts.backoff_base_ms = 100;
	arca_http *http;
	assert_int_equal(arca_http_new(&http, &opts), ARCA_OK);
	/* exponential backoff, capped at 8x */
	static const long expect[] = { 100, 200, 400, 800, 800, 800 };
	for (int i = 0; i < 6; i++)
		assert_int_equal(arca_http_retry_delay_ms(http, i, NULL), expect[i]);
	arca_http_response r = answer(429, "Retry-After", "7");
	assert_int_equal(arca_http_retry_delay_ms(http, 0, &r), 7000);
	arca_http_response_dispose(&r);
	r = answer(429, "RateLimit", "\"resolvers\";r=0;t=55");
	assert_int_equal(arca_http_retry_delay_ms(http, 0, &r), 56000);
	arca_http_response_dispose(&r);
	r = answer(429, "RateLimit", "\"resolvers\";r=3;t=55"); /* requests left: plain backoff */
	assert_int_equal(arca_http_retry_delay_ms(http, 1, &r), 200);
	arca_http_response_dispose(&r);
	r = answer(429, "Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"); /* dates are ignored */
	assert_int_equal(arca_http_retry_delay_ms(http, 0, &r), 100);
	arca_http_response_dispose(&r);
	r = answer(429, "Retry-After", "3600"); /* longer than we wait */
	assert_int_equal(arca_http_retry_delay_ms(http, 0, &r), -1);
	arca_http_response_dispose(&r);
	r = answer(503, "Retry-After", "5"); /* only 429 waits as told */
	assert_int_equal(arca_http_retry_delay_ms(http, 2, &r), 400);
	arca_http_response_dispose(&r);
	arca_http_free(http);
}

static void test_retryable(void **state)
{
	(void)state;
	static const long yes[] = { 408, 429, 500, 502, 503, 504 };
	static const long no[] = { 200, 206, 302, 400, 401, 403, 404, 416, 501 };
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(arca_http_status_retryable(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(arca_http_status_retryable(no[i]));
	assert_true(arca_http_curl_retryable(CURLE_PARTIAL_FILE));
	assert_true(arca_http_curl_retryable(CURLE_OPERATION_TIMEDOUT));
	assert_false(arca_http_curl_retryable(CURLE_PEER_FAILED_VERIFICATION));
	assert_false(arca_http_curl_retryable(CURLE_WRITE_ERROR));
}

static void test_escape_and_host(void **state)
{
	(void)state;
	char *e = arca_http_escape("refs/pr/1", 0);
	assert_string_equal(e, "refs%2Fpr%2F1");
	free(e);
	e = arca_http_escape("sub dir/模型.bin", 1);
	assert_string_equal(e, "sub%20dir/%E6%A8%A1%E5%9E%8B.bin");
	free(e);
	char host[128];
	arca_http_url_host(host, sizeof(host), "http://127.0.0.1:8080/a/b?c");
	assert_string_equal(host, "127.0.0.1:8080");
	arca_http_url_host(host, sizeof(host), "https://cdn-lfs.hf.co/x");
	assert_string_equal(host, "cdn-lfs.hf.co:443");
	arca_http_url_host(host, sizeof(host), "not a url");
	assert_string_equal(host, "");
	/* origins: scheme, lowercase host and port decide where a token may go */
	arca_http_url_origin(host, sizeof(host), "HTTPS://Hub.Example.org/prefix/api?x=1");
	assert_string_equal(host, "https://hub.example.org:443");
	arca_http_url_origin(host, sizeof(host), "http://hub.example.org:443/");
	assert_string_equal(host, "http://hub.example.org:443");
	arca_http_url_origin(host, sizeof(host), "not a url");
	assert_string_equal(host, "");
}

static void test_headers_case_insensitive(void **state)
{
	(void)state;
	arca_http_response r = answer(200, "X-Repo-Commit", "abc");
	assert_string_equal(arca_http_header_get(&r, "x-repo-commit"), "abc");
	assert_null(arca_http_header_get(&r, "ETag"));
	arca_http_response_dispose(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_delays),
		cmocka_unit_test(test_retryable),
		cmocka_unit_test(test_escape_and_host),
		cmocka_unit_test(test_headers_case_insensitive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
