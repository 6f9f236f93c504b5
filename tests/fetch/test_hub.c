/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fetch/test_hub.c — the hub clients' rules that need no server: which answer of a
 * resolve chain carries the file's metadata (and what is checked there), where the next
 * listing page is on endpoints with and without a path, how tokens and home-relative
 * paths from the environment are cleaned up, and the table of hubs.
 */
#include <stdlib.h>
#include <string.h>

#include "arca/pull.h"
#include "fetch/hub.h"
#include "support.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"
#define SHA256 "a3f5c1e6b1f0f5a5f3d7a3f4e1c0a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2"
#define GITSHA "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"

/* An answer with a status and up to three headers. */
static arca_http_response answer(long status, const char *const *pairs, const char *location)
{
	arca_http_response r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	size_t n = 0;
	while (pairs && pairs[2 * n])
		n++;
	r.headers = calloc(n ? n : 1, sizeof(*r.headers));
	for (size_t i = 0; i < n; i++) {
		r.headers[i].name = strdup(pairs[2 * i]);
		r.headers[i].value = strdup(pairs[2 * i + 1]);
	}
	r.n_headers = n;
	r.body = strdup("");
	r.redirect_url = location ? strdup(location) : NULL;
	return r;
}

typedef struct {
	const char *what;
	long status;
	const char *headers[8];
	const char *location;
	int lfs;
	arca_err want;
	int want_carried;
	const char *mentions;
} check_case;

static const check_case check_cases[] = {
	{ "LFS redirect with metadata", 302, { "X-Repo-Commit", COMMIT, "X-Linked-Etag",
		"\"" SHA256 "\"", "X-Linked-Size", "1000", NULL }, "https://cdn.example/x", 1,
		ARCA_OK, 1, NULL },
	{ "renamed repo: relative 307, nothing else", 307, { NULL }, "http://hub/new/name/resolve/x",
		1, ARCA_OK, 0, NULL },
	{ "resolve cache 307 with only the commit", 307, { "X-Repo-Commit", COMMIT, NULL },
		"http://hub/api/resolve-cache/models/a/b/x", 0, ARCA_OK, 0, NULL },
	{ "mirror 308 to another endpoint", 308, { NULL }, "https://other.example/a/b/resolve/x",
		1, ARCA_OK, 0, NULL },
	{ "regular file served with metadata", 200, { "X-Repo-Commit", COMMIT, "ETag",
		"\"" GITSHA "\"", NULL }, NULL, 0, ARCA_OK, 1, NULL },
	{ "weak ETag is fine", 200, { "X-Repo-Commit", COMMIT, "ETag", "W/\"" GITSHA "\"", NULL },
		NULL, 0, ARCA_OK, 1, NULL },
	{ "storage answer reached without any metadata", 200, { "ETag", "\"cdn\"", NULL }, NULL, 1,
		ARCA_ENET, 0, "X-Repo-Commit" },
	{ "another commit on a hop", 307, { "X-Repo-Commit",
		"ffffffffffffffffffffffffffffffffffffffff", NULL }, "http://hub/x", 0, ARCA_EMISMATCH,
		0, "ffffffffffff" },
	{ "another sha256", 302, { "X-Repo-Commit", COMMIT, "X-Linked-Etag", "\"" GITSHA "\"",
		"X-Linked-Size", "1000", NULL }, "https://cdn/x", 1, ARCA_EMISMATCH, 0,
		"X-Linked-Etag" },
	{ "another size", 302, { "X-Repo-Commit", COMMIT, "X-Linked-Etag", "\"" SHA256 "\"",
		"X-Linked-Size", "999", NULL }, "https://cdn/x", 1, ARCA_EMISMATCH, 0, "X-Linked-Size" },
	{ "another ETag on a direct answer", 200, { "X-Repo-Commit", COMMIT, "ETag",
		"\"" SHA256 "\"", NULL }, NULL, 0, ARCA_EMISMATCH, 0, "ETag" },
};

static void test_hf_resolve_chain(void **state)
{
	(void)state;
	arca_hub *hub;
	arca_hub_opts opts = { "http://hub.test", "tok" };
	assert_int_equal(arca_hub_open_hf(&hub, NULL, &opts), ARCA_OK);
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const check_case *c = &check_cases[i];
		arca_hub_file file;
		memset(&file, 0, sizeof(file));
		file.path = (char *)"model.safetensors";
		file.size = 1000;
		file.lfs = c->lfs;
		if (c->lfs)
			memcpy(file.sha256, SHA256, sizeof(file.sha256));
		else
			memcpy(file.git_sha1, GITSHA, sizeof(file.git_sha1));
		arca_http_response r = answer(c->status, c->headers, c->location);
		json_t *evidence = json_array();
		int carried = -1;
		arca_err err = hub->ops->check_answer(hub, "acme/model", COMMIT, &file,
			"http://hub.test/acme/model/resolve/" COMMIT "/model.safetensors", &r, evidence,
			&carried);
		if (err != c->want)
			fail_msg("%s: got %d (%s), expected %d", c->what, err, arca_error_last(), c->want);
		if (err == ARCA_OK) {
			assert_int_equal(carried, c->want_carried);
			assert_int_equal(json_array_size(evidence), 1);
		} else {
			assert_error_mentions("model.safetensors");
			assert_error_mentions(c->mentions);
		}
		json_decref(evidence);
		arca_http_response_dispose(&r);
	}
	arca_hub_free(hub);
}

static void test_next_page(void **state)
{
	(void)state;
	static const struct {
		const char *endpoint, *link, *want;
	} cases[] = {
		/* the Hub itself */
		{ "https://huggingface.co", "<https://huggingface.co/api/models/a/b/tree/c?cursor=x>; "
			"rel=\"next\"", "https://huggingface.co/api/models/a/b/tree/c?cursor=x" },
		/* an endpoint with a path: its own links already carry the prefix */
		{ "https://proxy.corp/artifactory/api/hf/remote", "<https://proxy.corp/artifactory/api/"
			"hf/remote/api/models/a/b/tree/c?cursor=x>; rel=\"next\"",
			"https://proxy.corp/artifactory/api/hf/remote/api/models/a/b/tree/c?cursor=x" },
		/* a mirror whose links name huggingface.co */
		{ "https://mirror.example/hf", "<https://huggingface.co/api/models/a/b/tree/c?cursor=y>; "
			"rel=\"next\"", "https://mirror.example/hf/api/models/a/b/tree/c?cursor=y" },
		{ "http://127.0.0.1:8080", "<https://huggingface.co/api/models/a/b/tree/c?cursor=y>; "
			"rel=\"next\"", "http://127.0.0.1:8080/api/models/a/b/tree/c?cursor=y" },
		/* another host that already has the prefix */
		{ "https://mirror.example/hf", "<https://cdn.mirror.example/hf/api/models/a/b/tree/c>; "
			"rel=\"next\"", "https://mirror.example/hf/api/models/a/b/tree/c" },
		/* a prefix that is only a prefix of a longer segment is not the prefix */
		{ "https://mirror.example/hf", "<https://other.example/hfx/api/models/a>; rel=\"next\"",
			"https://mirror.example/hf/hfx/api/models/a" },
		{ "https://huggingface.co", "<https://huggingface.co/x>; rel=\"prev\"", NULL },
		{ "https://huggingface.co", "garbage", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = arca_hub__next_page_url(cases[i].endpoint, cases[i].link);
		if (!cases[i].want)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
		free(got);
	}
	assert_null(arca_hub__next_page_url("https://h", NULL));
}

static void test_tokens_and_paths(void **state)
{
	(void)state;
	static const struct {
		const char *raw, *want;
	} cases[] = {
		{ "hf_abc\n", "hf_abc" }, { "  hf_abc \r\n", "hf_abc" }, { "\thf_abc", "hf_abc" },
		{ "\n", NULL }, { "", NULL }, { NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = arca_hub__clean_token(cases[i].raw);
		if (!cases[i].want)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
		free(got);
	}
	setenv("HOME", "/home/u", 1);
	char *p = arca_hub__expand_home("~/hf", "/token");
	assert_string_equal(p, "/home/u/hf/token");
	free(p);
	p = arca_hub__expand_home("~", "/token");
	assert_string_equal(p, "/home/u/token");
	free(p);
	p = arca_hub__expand_home("/abs/~x", "");
	assert_string_equal(p, "/abs/~x");
	free(p);
	p = arca_hub__expand_home("~other/x", "");
	assert_string_equal(p, "~other/x");
	free(p);
	unsetenv("HOME");
	assert_null(arca_hub__expand_home("~/x", ""));
}

/* The table of hubs: what each one is, as pull.c asks it, and opening by name. */
static void test_hub_table(void **state)
{
	(void)state;
	static const struct {
		const char *name, *title, *default_revision;
		int old_commits, again;
	} cases[] = {
		{ "hf", "Hugging Face", "main", 1, 0 },
		{ "modelscope", "ModelScope", "master", 0, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const arca_hub_ops *ops = arca_hub__find(cases[i].name);
		assert_non_null(ops);
		assert_string_equal(ops->name, cases[i].name);
		assert_string_equal(ops->title, cases[i].title);
		assert_string_equal(ops->default_revision, cases[i].default_revision);
		assert_string_equal(arca_hub_default_revision(cases[i].name),
			cases[i].default_revision);
		assert_int_equal(ops->fetches_old_commits, cases[i].old_commits);
		assert_int_equal(ops->resolve_again_after_download, cases[i].again);
		arca_hub *hub;
		arca_hub_opts opts = { "http://127.0.0.1:9/", NULL };
		assert_int_equal(arca_hub_open(&hub, cases[i].name, NULL, &opts), ARCA_OK);
		assert_ptr_equal(hub->ops, ops);
		assert_string_equal(hub->endpoint, "http://127.0.0.1:9");
		arca_hub_free(hub);
	}
	/* no name: Hugging Face */
	assert_string_equal(arca_hub_default_revision(""), "main");
	arca_hub *hub;
	arca_hub_opts opts = { "http://127.0.0.1:9", "t" };
	assert_int_equal(arca_hub_open(&hub, "", NULL, &opts), ARCA_OK);
	assert_ptr_equal(hub->ops, &arca_hub__hf_ops);
	arca_hub_free(hub);
	/* aliases are the REF parser's business; the table knows canonical names only */
	assert_null(arca_hub__find("ms"));
	assert_null(arca_hub_default_revision("local"));
	assert_int_equal(arca_hub_open(&hub, "local", NULL, &opts), ARCA_EINVALID);
	assert_null(hub);
	assert_error_mentions("cannot pull from hub 'local' (hf or modelscope)");
	char names[64];
	arca_hub__names(names, sizeof(names));
	assert_string_equal(names, "hf or modelscope");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hf_resolve_chain),
		cmocka_unit_test(test_next_page),
		cmocka_unit_test(test_tokens_and_paths),
		cmocka_unit_test(test_hub_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
