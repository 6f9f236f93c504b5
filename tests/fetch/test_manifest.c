/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fetch/test_manifest.c — manifests and locks: a table of accepted and refused
 * documents (each refusal names the entry and the reason), and a lock round trip.
 */
#include <stdlib.h>
#include <string.h>

#include "arca/manifest.h"
#include "support.h"

static const struct {
	const char *text;
	const char *reason; /* NULL: accepted */
} manifests[] = {
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\"}]}",
		NULL },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"description\":\"d\",\"models\":[{\"hub\":"
		"\"modelscope\",\"repo\":\"a/b\",\"revision\":\"master\",\"include\":[\"*.json\"],"
		"\"exclude\":[\"x/\"],\"note\":\"n\"}]}", NULL },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\","
		"\"arca\":{\"convert\":true,\"validate\":false,\"note\":\"n\"}}]}", NULL },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\","
		"\"arca\":{\"convert\":true}}]}", "\"convert\" and \"validate\" must be" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\","
		"\"arca\":{\"convert\":\"yes\",\"validate\":true}}]}", "must be true or false" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\","
		"\"arca\":{\"convert\":false,\"validate\":true}}]}", "\"validate\" is true but" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\","
		"\"arca\":{\"convert\":true,\"validate\":true,\"runs\":true}}]}",
		"models[0]: \"arca\": unknown key \"runs\"" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\","
		"\"arca\":true}]}", "\"arca\" must be an object" },
	{ "not json", "1:" },
	{ "[]", "not a JSON object" },
	{ "{\"manifest_version\":2,\"name\":\"x\",\"models\":[]}", "must be 1" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[]}", "non-empty list" },
	{ "{\"manifest_version\":1,\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\"}]}", "\"name\" is missing" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"extra\":1,\"models\":[{\"hub\":\"hf\",\"repo\":"
		"\"a/b\"}]}", "unknown key \"extra\"" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"gitlab\",\"repo\":\"a/b\"}]}",
		"models[0]: hub \"gitlab\"" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b@main\"}]}",
		"is not org/name" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\","
		"\"include\":\"*.json\"}]}", "must be a list of patterns" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\","
		"\"include\":[\"\"]}]}", "non-empty string" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"models\":[{\"hub\":\"hf\",\"repo\":\"a/b\"},"
		"{\"hub\":\"hf\",\"repo\":\"c/d\",\"revison\":\"main\"}]}", "models[1]: unknown key" },
	{ "{\"manifest_version\":1,\"name\":\"x\",\"name\":\"y\",\"models\":[]}", "duplicate" },
};

static void test_manifests(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	char *path = t_path(dir, "m.json");
	for (size_t i = 0; i < sizeof(manifests) / sizeof(manifests[0]); i++) {
		t_write_file(dir, "m.json", manifests[i].text, SIZE_MAX);
		arca_manifest m;
		arca_err err = arca_manifest_load(&m, path);
		if (!manifests[i].reason) {
			if (err != ARCA_OK)
				fail_msg("manifest %zu refused: %s", i, arca_error_last());
			assert_int_equal(m.n_models, 1);
			if (m.models[0].has_arca) {
				assert_true(m.models[0].arca_convert && !m.models[0].arca_validate);
				assert_string_equal(m.models[0].arca_note, "n");
			}
			arca_manifest_dispose(&m);
			continue;
		}
		if (err != ARCA_EINVALID)
			fail_msg("manifest %zu accepted", i);
		assert_error_mentions(path);
		assert_error_mentions(manifests[i].reason);
	}
	free(path);
	t_remove_tree(dir);
	free(dir);
}

static void test_lock_round_trip(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	char *path = t_path(dir, "m.json.lock");
	arca_lockfile lock;
	assert_int_equal(arca_lockfile_load(&lock, path), ARCA_ENOTFOUND);
	memset(&lock, 0, sizeof(lock));
	char sha[65];
	memset(sha, 'a', 64);
	sha[64] = 0;
	arca_pull_pin pins[] = { { "config.json", 10, sha }, { "sub/model.bin", 1ull << 33, sha } };
	const char *commit = "0123456789012345678901234567890123456789";
	assert_int_equal(arca_lockfile_set(&lock, "hf", "a/b", "main", commit, pins, 2), ARCA_OK);
	assert_int_equal(arca_lockfile_set(&lock, "modelscope", "a/b", "master", commit, pins, 1),
		ARCA_OK);
	assert_int_equal(arca_lockfile_set(&lock, "hf", "a/b", "main", commit, pins, 1), ARCA_OK);
	assert_int_equal(lock.n_entries, 2); /* replaced, not added */
	assert_int_equal(arca_lockfile_save(&lock, path, "test"), ARCA_OK);
	arca_lockfile_dispose(&lock);

	assert_int_equal(arca_lockfile_load(&lock, path), ARCA_OK);
	assert_int_equal(lock.n_entries, 2);
	const arca_lockfile_entry *e = arca_lockfile_find(&lock, "hf", "a/b", "main");
	assert_non_null(e);
	assert_string_equal(e->commit, commit);
	assert_int_equal(e->n_files, 1);
	assert_string_equal(e->files[0].path, "config.json");
	assert_null(arca_lockfile_find(&lock, "hf", "a/b", "dev"));
	arca_lockfile_dispose(&lock);

	/* a tampered lock is refused */
	t_write_file(dir, "m.json.lock", "{\"lock_version\":1,\"models\":[{\"hub\":\"hf\",\"repo\":"
		"\"a/b\",\"revision\":\"main\",\"commit\":\"xyz\",\"files\":[]}]}", SIZE_MAX);
	assert_int_equal(arca_lockfile_load(&lock, path), ARCA_EINVALID);
	assert_error_mentions("not 40 or 64 hex digits");
	t_write_file(dir, "m.json.lock", "{\"lock_version\":1,\"models\":[{\"hub\":\"hf\",\"repo\":"
		"\"a/b\",\"revision\":\"main\",\"commit\":\"0123456789012345678901234567890123456789\","
		"\"files\":[{\"path\":\"../../etc/passwd\",\"size\":1,\"sha256\":\"" "aaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}]}", SIZE_MAX);
	assert_int_equal(arca_lockfile_load(&lock, path), ARCA_EINVALID);
	assert_error_mentions("'..' segment");
	free(path);
	t_remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifests),
		cmocka_unit_test(test_lock_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
