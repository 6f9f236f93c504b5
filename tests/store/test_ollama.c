/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_ollama.c — Ollama's store as a layout (store/ollama_name.c,
 * store/checkout_ollama.c): names parsed, derived and shown as Ollama does; blobs and the
 * manifest written, kept on a second run, damaged blobs replaced, and a run stopped partway
 * leaving no manifest and no temporary file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arca/ollama.h"
#include "common/io.h"
#include "support.h"

/* ------------------------------------------------------------------ names */

static const struct {
	const char *text, *default_tag;
	const char *host, *namespace, *model, *tag, *shown;
} good_names[] = {
	{ "qwen2.5", "q4_k_m", "registry.ollama.ai", "library", "qwen2.5", "q4_k_m", "qwen2.5:q4_k_m" },
	{ "qwen2.5:7b", "x", "registry.ollama.ai", "library", "qwen2.5", "7b", "qwen2.5:7b" },
	{ "acme/Tiny_Model:V1.0", "x", "registry.ollama.ai", "acme", "tiny_model", "v1.0",
		"acme/tiny_model:v1.0" },
	{ "localhost:5000/acme/m", "q8_0", "localhost:5000", "acme", "m", "q8_0",
		"localhost:5000/acme/m:q8_0" },
	{ "hub.example.com/_ns/m-1:t_2", "x", "hub.example.com", "_ns", "m-1", "t_2",
		"hub.example.com/_ns/m-1:t_2" },
	{ "registry.ollama.ai/library/m:t", "x", "registry.ollama.ai", "library", "m", "t", "m:t" },
};

static const struct {
	const char *text;
	const char *mentions;
} bad_names[] = {
	{ "", "model is empty" },
	{ "m:", "tag is empty" },
	{ "/m", "namespace is empty" },
	{ "a/b/c/d", "more than host/namespace/model:tag" },
	{ "-m", "model must start with" },
	{ "m:.t", "tag must start with" },
	{ "dotted.ns/m", "'.' is not allowed in the namespace" },
	{ "m:t:u", "':' is not allowed in the tag" },
	{ "m o", "' ' is not allowed in the model" },
	{ "a..b", "\"..\" is not allowed in the model" },
	{ "h/n/m\xc3\xa9", "is not allowed in the model" },
};

static void test_name_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_names) / sizeof(good_names[0]); i++) {
		arca_ollama_name n;
		if (arca_ollama_name_parse(&n, good_names[i].text, good_names[i].default_tag) != ARCA_OK)
			fail_msg("'%s': %s", good_names[i].text, arca_error_last());
		assert_string_equal(n.host, good_names[i].host);
		assert_string_equal(n.namespace, good_names[i].namespace);
		assert_string_equal(n.model, good_names[i].model);
		assert_string_equal(n.tag, good_names[i].tag);
		char shown[512];
		arca_ollama_name_format(shown, sizeof(shown), &n);
		assert_string_equal(shown, good_names[i].shown);
	}
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		arca_ollama_name n;
		assert_int_equal(arca_ollama_name_parse(&n, bad_names[i].text, "t"), ARCA_EINVALID);
		assert_error_mentions(bad_names[i].mentions);
	}
	/* lengths: 80 for model, namespace and tag, 350 for the host */
	char text[400];
	memset(text, 'a', 81);
	text[81] = '\0';
	arca_ollama_name n;
	assert_int_equal(arca_ollama_name_parse(&n, text, "t"), ARCA_EINVALID);
	assert_error_mentions("longer than 80");
	text[80] = '\0';
	assert_int_equal(arca_ollama_name_parse(&n, text, "t"), ARCA_OK);
	memset(text, 'h', 350);
	strcpy(text + 350, "/n/m");
	assert_int_equal(arca_ollama_name_parse(&n, text, "t"), ARCA_OK);
	memset(text, 'h', 351);
	strcpy(text + 351, "/n/m");
	assert_int_equal(arca_ollama_name_parse(&n, text, "t"), ARCA_EINVALID);
	assert_error_mentions("host is longer than 350");
}

static void test_name_from_repo(void **state)
{
	(void)state;
	static const struct {
		const char *repo, *model;
	} cases[] = {
		{ "Qwen/Qwen2.5-0.5B-Instruct", "qwen2.5-0.5b-instruct" },
		{ "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "deepseek-r1-distill-qwen-1.5b" },
		{ "org/.hidden", "_hidden" },
		{ "org/a+b", "a-b" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		arca_ollama_name n;
		if (arca_ollama_name_from_repo(&n, cases[i].repo, "q4_k_m") != ARCA_OK)
			fail_msg("'%s': %s", cases[i].repo, arca_error_last());
		assert_string_equal(n.model, cases[i].model);
		assert_string_equal(n.tag, "q4_k_m");
		assert_string_equal(n.namespace, "library");
	}
}

/* ------------------------------------------------------------------ writing */

typedef struct {
	char *home, *dir;
	arca_store *store;
	char weights[ARCA_SHA256_HEX];
	arca_ollama_name name;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->store = t_store_new(&f->home);
	f->dir = t_tempdir();
	arca_file_digests d;
	if (arca_store_put_buffer(f->store, "GGUF-weights", 12, &d) != ARCA_OK)
		fail_msg("put: %s", arca_error_last());
	memcpy(f->weights, d.sha256, sizeof(f->weights));
	arca_ollama_name_parse(&f->name, "acme/tiny:v1", "latest");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	arca_store_free(f->store);
	t_remove_tree(f->home);
	t_remove_tree(f->dir);
	free(f->home);
	free(f->dir);
	free(f);
	return 0;
}

static const char TEMPLATE[] = "{{ .Prompt }}";
static const arca_ollama_config CONFIG = { "qwen2", "1.5B", "Q8_0" };
#if defined(__aarch64__)
#define GOARCH "arm64"
#else
#define GOARCH "amd64"
#endif
static const char CONFIG_TEXT[] = "{\"model_format\":\"gguf\",\"model_family\":\"qwen2\","
	"\"model_families\":[\"qwen2\"],\"model_type\":\"1.5B\",\"file_type\":\"Q8_0\","
	"\"architecture\":\"" GOARCH "\",\"os\":\"linux\"}\n";

static arca_err write_model(arca_ollama_result *out, fixture *f, arca_snapshot_progress_cb cb)
{
	arca_ollama_layer layers[] = {
		{ ARCA_OLLAMA_MEDIA_MODEL, f->weights, NULL, 0 },
		{ ARCA_OLLAMA_MEDIA_TEMPLATE, NULL, TEMPLATE, strlen(TEMPLATE) },
	};
	arca_ollama_write_opts opts = { .dir = f->dir, .name = &f->name, .layers = layers,
		.n_layers = 2, .config = &CONFIG, .progress = cb };
	return arca_ollama_write(out, f->store, &opts);
}

static char *sha256_hex(const void *data, size_t len)
{
	unsigned char raw[ARCA_SHA256_LEN];
	char *hex = malloc(ARCA_SHA256_HEX);
	arca_sha256_buffer(raw, data, len);
	arca_hex_encode(hex, raw, ARCA_SHA256_LEN);
	return hex;
}

static char *read_text(const char *path)
{
	char *text;
	size_t len;
	if (arca_io_read_file(&text, &len, path, 1 << 20) != ARCA_OK)
		fail_msg("read %s: %s", path, arca_error_last());
	return text;
}

static void test_write_layout(void **state)
{
	fixture *f = *state;
	arca_ollama_result res;
	if (write_model(&res, f, NULL) != ARCA_OK)
		fail_msg("write: %s", arca_error_last());
	assert_int_equal(res.n_layers, 2);
	assert_int_equal(res.layers[0].how, ARCA_OLLAMA_LINKED);
	assert_int_equal(res.layers[1].how, ARCA_OLLAMA_WRITTEN);
	assert_int_equal(res.config.how, ARCA_OLLAMA_WRITTEN);
	assert_int_equal(res.bytes, 12 + strlen(TEMPLATE) + strlen(CONFIG_TEXT));
	char *manifest_path = t_path(f->dir, "manifests/registry.ollama.ai/acme/tiny/v1");
	assert_string_equal(res.manifest_path, manifest_path);
	/* the exact bytes Go's encoder would write */
	char *tmpl = sha256_hex(TEMPLATE, strlen(TEMPLATE)), *config = sha256_hex(CONFIG_TEXT,
		strlen(CONFIG_TEXT)), *want;
	assert_true(asprintf(&want, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{"
		"\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":[{"
		"\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":12},{\"mediaType\":\"%s\","
		"\"digest\":\"sha256:%s\",\"size\":%zu}]}\n", ARCA_OLLAMA_MEDIA_MANIFEST,
		ARCA_OLLAMA_MEDIA_CONFIG, config, strlen(CONFIG_TEXT), ARCA_OLLAMA_MEDIA_MODEL, f->weights,
		ARCA_OLLAMA_MEDIA_TEMPLATE, tmpl, strlen(TEMPLATE)) > 0);
	char *text = read_text(manifest_path);
	assert_string_equal(text, want);
	char *id = sha256_hex(text, strlen(text));
	assert_memory_equal(res.model_id, id, 12);
	char rel[100];
	snprintf(rel, sizeof(rel), "blobs/sha256-%s", tmpl);
	char *blob = t_path(f->dir, rel), *body = read_text(blob);
	assert_string_equal(body, TEMPLATE);
	struct stat st;
	assert_int_equal(stat(blob, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	free(body);
	free(blob);
	snprintf(rel, sizeof(rel), "blobs/sha256-%s", config);
	blob = t_path(f->dir, rel);
	body = read_text(blob);
	assert_string_equal(body, CONFIG_TEXT);
	free(body);
	free(blob);
	snprintf(rel, sizeof(rel), "blobs/sha256-%s", tmpl);
	blob = t_path(f->dir, rel);
	arca_ollama_result_dispose(&res);

	/* again: everything kept, the manifest untouched */
	assert_int_equal(write_model(&res, f, NULL), ARCA_OK);
	assert_int_equal(res.layers[0].how, ARCA_OLLAMA_KEPT);
	assert_int_equal(res.layers[1].how, ARCA_OLLAMA_KEPT);
	assert_int_equal(res.config.how, ARCA_OLLAMA_KEPT);
	assert_true(res.manifest_existed && res.manifest_unchanged);
	arca_ollama_result_dispose(&res);

	/* a damaged blob of the same size is replaced */
	t_write_file(f->dir, rel, "{{ .Broken }}", SIZE_MAX); /* same size */
	assert_int_equal(write_model(&res, f, NULL), ARCA_OK);
	assert_int_equal(res.layers[1].how, ARCA_OLLAMA_WRITTEN);
	assert_true(res.layers[1].replaced);
	assert_false(res.layers[0].replaced);
	body = read_text(blob);
	assert_string_equal(body, TEMPLATE);
	arca_ollama_result_dispose(&res);
	free(body);
	free(blob);
	free(id);
	free(text);
	free(want);
	free(tmpl);
	free(config);
	free(manifest_path);
}

static int stop_at_config(const char *path, uint64_t file_done, uint64_t file_size,
	uint64_t total_done, uint64_t total_size, void *payload)
{
	(void)file_done;
	(void)file_size;
	(void)total_done;
	(void)total_size;
	(void)payload;
	return !strcmp(path, ARCA_OLLAMA_MEDIA_CONFIG);
}

static void test_write_interrupted(void **state)
{
	fixture *f = *state;
	arca_ollama_result res;
	assert_int_equal(write_model(&res, f, stop_at_config), ARCA_EINTERRUPTED);
	arca_ollama_result_dispose(&res);
	char *manifests = t_path(f->dir, "manifests");
	struct stat st;
	assert_int_not_equal(stat(manifests, &st), 0);
	/* blobs only, by their names: no temporary file */
	char *line = t_shell_line("find '%s' -type f ! -name 'sha256-*' | wc -l", f->dir);
	assert_string_equal(line, "0");
	free(line);
	free(manifests);
}

static void test_write_refuses_folder_in_the_way(void **state)
{
	fixture *f = *state;
	char rel[100];
	snprintf(rel, sizeof(rel), "blobs/sha256-%s/x", f->weights);
	t_write_file(f->dir, rel, "x", SIZE_MAX);
	arca_ollama_result res;
	assert_int_equal(write_model(&res, f, NULL), ARCA_EEXISTS);
	assert_error_mentions(f->weights);
	assert_error_mentions("in the way");
	arca_ollama_result_dispose(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_parse),
		cmocka_unit_test(test_name_from_repo),
		cmocka_unit_test_setup_teardown(test_write_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_interrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_refuses_folder_in_the_way, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
