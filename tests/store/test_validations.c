/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_validations.c — the verdict of `arca validate` on catalog data: the first
 * run is the record, later runs compare with the newest record of the same commit and
 * variant (also from another snapshot at that commit), tokens always count, the logits
 * digest only with the same kernels, a check records nothing, and other variants, commits
 * and prompt sets are not compared with.
 */
#include <stdlib.h>
#include <string.h>

#include "arca/catalog.h"
#include "support.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"
#define OTHER "89abcdef0123456789abcdef0123456789abcdef"
#define SET "arca-validate-v1"
#define TOKENS "{\"english\":[1,2,3]}"
#define DIGEST "aaaa"
#define METRICS "{\"kernels\":\"avx2\",\"threads\":4}"

typedef struct {
	char *dir;
	arca_catalog *cat;
	int64_t q4, q8, copy_q4, other_q4;
} fixture;

static int64_t variant(arca_catalog *cat, const char *hub, const char *repo,
	const char *commit, const char *name)
{
	arca_snapshot_new snap = { .hub = hub, .repo_id = repo, .commit = commit,
		.revision = "main", .source = "hub" };
	int64_t id, art;
	int existed;
	assert_int_equal(arca_catalog_create_snapshot(cat, &snap, &id, &existed), ARCA_OK);
	assert_int_equal(arca_catalog_add_artifact(cat, "gguf", name, id, "{}", &art), ARCA_OK);
	return art;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->dir = t_tempdir();
	char *path = t_path(f->dir, "catalog.db");
	if (arca_catalog_open(&f->cat, path, 1) != ARCA_OK)
		fail_msg("open: %s", arca_error_last());
	free(path);
	f->q4 = variant(f->cat, "hf", "o/m", COMMIT, "q4_k_m");
	f->q8 = variant(f->cat, "hf", "o/m", COMMIT, "q8_0");
	/* the same commit imported under another name */
	f->copy_q4 = variant(f->cat, "local", "o/m-copy", COMMIT, "q4_k_m");
	f->other_q4 = variant(f->cat, "hf", "o/m", OTHER, "q4_k_m");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	arca_catalog_free(f->cat);
	t_remove_tree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static arca_validation_run run_of(int64_t artifact, const char *commit, const char *name,
	const char *tokens, const char *digest, const char *kernels)
{
	return (arca_validation_run){ .artifact = artifact, .commit = commit, .variant = name,
		.prompt_set = SET, .tokens_json = tokens, .logits_digest = digest,
		.kernels = kernels, .metrics_json = METRICS };
}

static void test_verdicts(void **state)
{
	fixture *f = *state;
	arca_validation_verdict v;
	arca_validation_run first = run_of(f->q4, COMMIT, "q4_k_m", TOKENS, DIGEST, "avx2");
	/* nothing recorded: a check stays "not recorded" and records nothing */
	assert_int_equal(arca_validation_check(&v, f->cat, &first), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_NOT_RECORDED);
	assert_false(v.had_record);
	assert_int_equal(arca_validation_check(&v, f->cat, &first), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_NOT_RECORDED);
	assert_int_equal(arca_validation_record(&v, f->cat, &first), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_RECORDED);
	assert_string_equal(arca_validation_status_name(v.status), "recorded");
	assert_true(v.id > 0);
	int64_t first_id = v.id;

	static const struct {
		const char *what;
		const char *tokens, *digest, *kernels;
		arca_validation_status want;
		int same_tokens, digest_comparable, same_digest;
	} cases[] = {
		{ "identical", TOKENS, DIGEST, "avx2", ARCA_VALIDATION_SAME, 1, 1, 1 },
		{ "same tokens, spaced differently", "{ \"english\": [1, 2, 3] }", DIGEST, "avx2",
			ARCA_VALIDATION_SAME, 1, 1, 1 },
		{ "other tokens", "{\"english\":[1,2,4]}", DIGEST, "avx2", ARCA_VALIDATION_DIFFERS,
			0, 1, 1 },
		{ "other digest, same kernels", TOKENS, "bbbb", "avx2", ARCA_VALIDATION_DIFFERS, 1, 1,
			0 },
		{ "other digest, other kernels", TOKENS, "bbbb", "avx512", ARCA_VALIDATION_SAME, 1, 0,
			0 },
		{ "other tokens, other kernels", "{\"english\":[9]}", "bbbb", "avx512",
			ARCA_VALIDATION_DIFFERS, 0, 0, 0 },
		{ "tokens that are not JSON", "[1,2", DIGEST, "avx2", ARCA_VALIDATION_DIFFERS, 0, 1,
			1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		arca_validation_run r = run_of(f->q4, COMMIT, "q4_k_m", cases[i].tokens,
			cases[i].digest, cases[i].kernels);
		assert_int_equal(arca_validation_check(&v, f->cat, &r), ARCA_OK);
		if (v.status != cases[i].want || !v.had_record ||
		    v.same_tokens != cases[i].same_tokens ||
		    v.digest_comparable != cases[i].digest_comparable ||
		    v.same_digest != cases[i].same_digest)
			fail_msg("%s: status %s, tokens %d, comparable %d, digest %d", cases[i].what,
				arca_validation_status_name(v.status), v.same_tokens, v.digest_comparable,
				v.same_digest);
		assert_true(v.at[0] != '\0');
	}

	/* a copy of the same commit compares with the first record */
	arca_validation_run copy = run_of(f->copy_q4, COMMIT, "q4_k_m", TOKENS, DIGEST, "avx2");
	assert_int_equal(arca_validation_check(&v, f->cat, &copy), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_SAME);
	/* another variant or commit has no record yet */
	arca_validation_run q8 = run_of(f->q8, COMMIT, "q8_0", TOKENS, DIGEST, "avx2");
	assert_int_equal(arca_validation_check(&v, f->cat, &q8), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_NOT_RECORDED);
	arca_validation_run other = run_of(f->other_q4, OTHER, "q4_k_m", TOKENS, DIGEST, "avx2");
	assert_int_equal(arca_validation_record(&v, f->cat, &other), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_RECORDED);
	/* another prompt set neither */
	arca_validation_run v2 = first;
	v2.prompt_set = "arca-validate-v2";
	assert_int_equal(arca_validation_check(&v, f->cat, &v2), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_NOT_RECORDED);

	/* a differing run is recorded too, and the next run compares with it */
	arca_validation_run changed = run_of(f->q4, COMMIT, "q4_k_m", "{\"english\":[7]}",
		"cccc", "avx2");
	assert_int_equal(arca_validation_record(&v, f->cat, &changed), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_DIFFERS);
	assert_true(v.id > first_id);
	assert_int_equal(arca_validation_check(&v, f->cat, &changed), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_SAME);
	assert_int_equal(arca_validation_check(&v, f->cat, &first), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_DIFFERS);
	assert_string_equal(arca_validation_status_name(v.status), "differs");
}

static void test_record_failure_records_nothing(void **state)
{
	fixture *f = *state;
	arca_validation_verdict v;
	/* an artifact that does not exist: the catalog refuses the row */
	arca_validation_run bad = run_of(999999, OTHER, "q8_0", TOKENS, DIGEST, "avx2");
	assert_true(arca_validation_record(&v, f->cat, &bad) < 0);
	arca_validation_run q8 = run_of(f->q8, OTHER, "q8_0", TOKENS, DIGEST, "avx2");
	assert_int_equal(arca_validation_check(&v, f->cat, &q8), ARCA_OK);
	assert_int_equal(v.status, ARCA_VALIDATION_NOT_RECORDED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_failure_records_nothing, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
