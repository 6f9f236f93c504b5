/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_serve.c — the pieces of arca serve that decide on their own: Range
 * headers (one table), URL paths split and decoded, traversal refused, listen addresses,
 * and starting and stopping a server (the HTTP answers are tests/cli/t_serve*.sh).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/serve_internal.h"
#include "support.h"

static const struct {
	const char *header;
	uint64_t size;
	serve_range want;
	uint64_t first, last;
} ranges[] = {
	{ NULL, 100, SERVE_RANGE_NONE, 0, 0 },
	{ "bytes=0-9", 100, SERVE_RANGE_OK, 0, 9 },
	{ "bytes=10-", 100, SERVE_RANGE_OK, 10, 99 },
	{ "bytes=-10", 100, SERVE_RANGE_OK, 90, 99 },
	{ "bytes=-1000", 100, SERVE_RANGE_OK, 0, 99 },
	{ "bytes=50-1000", 100, SERVE_RANGE_OK, 50, 99 },
	{ "Bytes = 1 - 2", 100, SERVE_RANGE_OK, 1, 2 },
	{ "bytes=99-99", 100, SERVE_RANGE_OK, 99, 99 },
	{ "bytes=0-99999999999999999999999999", 100, SERVE_RANGE_OK, 0, 99 },
	{ "bytes=100-", 100, SERVE_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=99999999999999999999999999-", 100, SERVE_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=-0", 100, SERVE_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=0-0", 0, SERVE_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=-5", 0, SERVE_RANGE_UNSATISFIABLE, 0, 0 },
	{ "bytes=9-5", 100, SERVE_RANGE_NONE, 0, 0 },
	{ "bytes=0-1,5-6", 100, SERVE_RANGE_NONE, 0, 0 },
	{ "bytes=-", 100, SERVE_RANGE_NONE, 0, 0 },
	{ "bytes=abc", 100, SERVE_RANGE_NONE, 0, 0 },
	{ "bytes=--3", 100, SERVE_RANGE_NONE, 0, 0 },
	{ "bytes=1-2-3", 100, SERVE_RANGE_NONE, 0, 0 },
	{ "bytes 0-5", 100, SERVE_RANGE_NONE, 0, 0 },
	{ "items=0-5", 100, SERVE_RANGE_NONE, 0, 0 },
	{ "", 100, SERVE_RANGE_NONE, 0, 0 },
};

static void test_range(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		uint64_t first = 0, last = 0;
		serve_range got = arca_serve__parse_range(ranges[i].header, ranges[i].size, &first,
			&last);
		if (got != ranges[i].want)
			fail_msg("'%s' of %llu: kind %d, expected %d", ranges[i].header ? ranges[i].header :
				"(none)", (unsigned long long)ranges[i].size, got, ranges[i].want);
		if (got == SERVE_RANGE_OK && (first != ranges[i].first || last != ranges[i].last))
			fail_msg("'%s': %llu-%llu, expected %llu-%llu", ranges[i].header,
				(unsigned long long)first, (unsigned long long)last,
				(unsigned long long)ranges[i].first, (unsigned long long)ranges[i].last);
	}
}

static const struct {
	const char *target;
	int want;          /* 0, or the status the path is refused with */
	size_t n_segs;
	const char *last;  /* the last segment, decoded */
} paths[] = {
	{ "/org/name/resolve/main/config.json", 0, 5, "config.json" },
	{ "/org/name/resolve/refs%2Fpr%2F1/a%20b.txt?x=1", 0, 5, "a b.txt" },
	{ "/api/models/org/name/tree/main/", 0, 7, "" },
	{ "/", 0, 1, "" },
	{ "/org/name/resolve/main/%C3%A9", 0, 5, "\xc3\xa9" },
	{ "/org/name/resolve/main/../x", 400, 0, NULL },
	{ "/org/name/resolve/main/./x", 400, 0, NULL },
	{ "/org/name/resolve/main/%2e%2e/x", 400, 0, NULL },
	{ "/org/name/resolve/main/%2E%2E%2Fx", 400, 0, NULL },
	{ "/org/name/resolve/main/a%2f..%2fb", 400, 0, NULL },
	{ "/org/name/resolve/main/x%00.txt", 400, 0, NULL },
	{ "/org/name/resolve/main/..%5cx", 400, 0, NULL },
	{ "/org/name/resolve/main/a\\b", 400, 0, NULL },
	{ "/org/name/resolve/main/bad%zz", 400, 0, NULL },
	{ "/org/name/resolve/main/trailing%2", 400, 0, NULL },
	{ "relative/path", 400, 0, NULL },
	{ "", 400, 0, NULL },
};

static void test_split_path(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		serve_req r;
		memset(&r, 0, sizeof(r));
		r.target = (char *)paths[i].target;
		int got = arca_serve__split_path(&r);
		if (got != paths[i].want)
			fail_msg("'%s': %d, expected %d", paths[i].target, got, paths[i].want);
		if (got == 0) {
			assert_int_equal(r.n_segs, paths[i].n_segs);
			assert_string_equal(r.segs[r.n_segs - 1], paths[i].last);
		}
		for (size_t k = 0; k < r.n_segs; k++)
			free(r.segs[k]);
		free(r.segs);
	}
	/* a revision with an encoded slash stays one segment */
	serve_req r;
	memset(&r, 0, sizeof(r));
	r.target = "/org/name/resolve/refs%2Fpr%2F1/sub/f";
	assert_int_equal(arca_serve__split_path(&r), 0);
	assert_string_equal(r.segs[3], "refs/pr/1");
	char *joined = arca_serve__join(&r, 4, r.n_segs);
	assert_string_equal(joined, "sub/f");
	free(joined);
	for (size_t k = 0; k < r.n_segs; k++)
		free(r.segs[k]);
	free(r.segs);
}

static const struct {
	const char *text, *host, *port;
} listens[] = {
	{ "127.0.0.1:8080", "127.0.0.1", "8080" },
	{ "0.0.0.0:0", "0.0.0.0", "0" },
	{ "[::1]:9000", "::1", "9000" },
	{ "8081", "127.0.0.1", "8081" },
	{ "localhost:80", "localhost", "80" },
	{ "::1:80", NULL, NULL },
	{ "127.0.0.1:", NULL, NULL },
	{ "127.0.0.1:65536", NULL, NULL },
	{ "127.0.0.1:http", NULL, NULL },
	{ ":80", NULL, NULL },
	{ "[::1]80", NULL, NULL },
	{ "", NULL, NULL },
};

static void test_listen(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(listens) / sizeof(listens[0]); i++) {
		char host[64], port[8];
		int got = arca_serve__parse_listen(listens[i].text, host, sizeof(host), port,
			sizeof(port));
		if (!listens[i].host) {
			if (got == 0)
				fail_msg("'%s' accepted", listens[i].text);
			continue;
		}
		if (got != 0)
			fail_msg("'%s' refused", listens[i].text);
		assert_string_equal(host, listens[i].host);
		assert_string_equal(port, listens[i].port);
	}
}

static void test_content_type(void **state)
{
	(void)state;
	assert_string_equal(arca_serve__content_type("config.json"), "application/json");
	assert_string_equal(arca_serve__content_type("sub/README.md"), "text/plain; charset=utf-8");
	assert_string_equal(arca_serve__content_type("LICENSE"), "text/plain; charset=utf-8");
	assert_string_equal(arca_serve__content_type("model.safetensors"),
		"application/octet-stream");
	assert_string_equal(arca_serve__content_type("v1.0/tokenizer"), "text/plain; charset=utf-8");
}

static void test_start_stop(void **state)
{
	(void)state;
	char *home;
	arca_store *store = t_store_new(&home);
	arca_server *server;
	arca_serve_opts opts = ARCA_SERVE_OPTS_INIT;
	opts.listen = "127.0.0.1:0";
	opts.threads = 2;
	if (arca_server_start(&server, store, &opts) != ARCA_OK)
		fail_msg("start: %s", arca_error_last());
	assert_true(arca_server_is_loopback(server));
	assert_int_equal(arca_server_threads(server), 2);
	const char *url = arca_server_url(server);
	assert_true(!strncmp(url, "http://127.0.0.1:", 17) && strcmp(url + 17, "0") != 0);
	/* the port is taken while it serves */
	char busy[64];
	snprintf(busy, sizeof(busy), "%s", arca_server_address(server));
	arca_server *second;
	opts.listen = busy;
	assert_int_equal(arca_server_start(&second, store, &opts), ARCA_EIO);
	assert_error_mentions(busy);
	arca_server_stop(server);
	arca_server_stop(NULL);

	opts.listen = "nowhere:port";
	assert_int_equal(arca_server_start(&server, store, &opts), ARCA_EINVALID);
	assert_error_mentions("nowhere:port");
	arca_store_free(store);
	t_remove_tree(home);
	free(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_split_path),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_start_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
