/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fetch/test_mirror.c — pulling a manifest, with a stand-in for the pull itself: each
 * model pulled with its patterns, pinned by the lock where it has an entry (under the
 * hub's default revision when the manifest names none), the lock written only when every
 * model came through, failures reported and counted with a mismatch outranking the rest,
 * a stop from the callback, and each step that ends the run named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/manifest.h"
#include "support.h"

#define C1 "1111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222"
#define SHA "a3f5c1e6b1f0f5a5f3d7a3f4e1c0a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2"

/* What the stand-in hub holds and what it was asked. */
typedef struct {
	const char *commit;          /* every repo is at this commit now */
	const char *fail_repo[4];    /* pulls of these repos fail with fail_err[i] */
	arca_err fail_err[4];
	/* asked */
	char asked[8][128];          /* "hub:repo@revision locked=COMMIT include=N exclude=N" */
	size_t n_asked;
} stand_in;

static stand_in *hub;

static arca_err pull_stand_in(arca_pull_result *out, arca_store *store,
	const arca_pull_opts *opts)
{
	(void)store;
	memset(out, 0, sizeof(*out));
	const arca_ref *ref = opts->ref;
	assert_true(hub->n_asked < 8);
	snprintf(hub->asked[hub->n_asked++], sizeof(hub->asked[0]),
		"%s:%.40s@%.20s locked=%.4s include=%zu exclude=%zu", ref->hub,
		ref->repo_id, ref->revision[0] ? ref->revision : "-", opts->locked_commit ? opts->locked_commit :
		"none", opts->n_include, opts->n_exclude);
	for (size_t i = 0; i < 4 && hub->fail_repo[i]; i++)
		if (!strcmp(ref->repo_id, hub->fail_repo[i]))
			return arca_error_set(hub->fail_err[i], "%s: stand-in failure",
				ref->repo_id);
	const char *commit = opts->locked_commit ? opts->locked_commit : hub->commit;
	snprintf(out->commit, sizeof(out->commit), "%s", commit);
	snprintf(out->hub, sizeof(out->hub), "%s", ref->hub);
	out->files = calloc(1, sizeof(*out->files));
	out->files[0].path = strdup("config.json");
	out->files[0].sha256 = strdup(SHA);
	out->files[0].size = 10;
	out->n_files = 1;
	return ARCA_OK;
}

typedef struct {
	char log[16][160];
	size_t n;
	size_t stop_before;   /* NEXT of this index returns 1 */
} events;

static int on_model(const arca_manifest_event *ev, void *payload)
{
	events *e = payload;
	assert_true(e->n < 16);
	switch (ev->kind) {
	case ARCA_MANIFEST_MODEL_NEXT:
		snprintf(e->log[e->n++], sizeof(e->log[0]), "next %zu/%zu %s", ev->index,
			ev->n_models, ev->model->repo);
		return ev->index == e->stop_before;
	case ARCA_MANIFEST_MODEL_PULLED:
		snprintf(e->log[e->n++], sizeof(e->log[0]), "pulled %.40s %.4s%s", ev->ref->repo_id,
			ev->result->commit, ev->locked ? " (locked)" : "");
		break;
	case ARCA_MANIFEST_MODEL_FAILED:
		/* the message is the failure's, still current during the call */
		snprintf(e->log[e->n++], sizeof(e->log[0]), "failed %.40s %s: %.80s", ev->ref->repo_id,
			arca_error_name(ev->err), arca_error_last());
		break;
	}
	return 0;
}

#define MANIFEST(models) \
	"{\"manifest_version\":1,\"name\":\"t\",\"models\":[" models "]}"
#define HF_A "{\"hub\":\"hf\",\"repo\":\"o/a\",\"include\":[\"*.json\",\"*.txt\"]}"
#define MS_B "{\"hub\":\"modelscope\",\"repo\":\"o/b\",\"exclude\":[\"x/\"]}"
#define HF_C "{\"hub\":\"hf\",\"repo\":\"o/c\",\"revision\":\"v1\"}"

typedef struct {
	char *dir;
	char *manifest;
	char *lock;
} files;

static void files_new(files *f, const char *manifest_text)
{
	f->dir = t_tempdir();
	t_write_file(f->dir, "m.json", manifest_text, SIZE_MAX);
	f->manifest = t_path(f->dir, "m.json");
	f->lock = t_path(f->dir, "m.json.lock");
}

static void files_free(files *f)
{
	t_remove_tree(f->dir);
	free(f->dir);
	free(f->manifest);
	free(f->lock);
}

static arca_err run(arca_manifest_pull_result *r, const files *f, events *e, int update_lock)
{
	static const arca_pull_opts settings = { .jobs = 3 };
	arca_manifest_pull_opts mo = { .manifest_path = f->manifest, .update_lock = update_lock,
		.pull = &settings, .on_model = on_model, .payload = e, .pull_fn = pull_stand_in };
	return arca_pull_manifest(r, NULL, &mo);
}

static void expect_log(const events *e, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	for (size_t i = 0; i < n && i < e->n; i++)
		if (strcmp(e->log[i], want[i]) != 0)
			fail_msg("event %zu: '%s', want '%s'", i, e->log[i], want[i]);
	if (e->n != n)
		fail_msg("%zu events, want %zu", e->n, n);
}

static void expect_asked(const stand_in *s, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	for (size_t i = 0; i < n && i < s->n_asked; i++)
		if (strcmp(s->asked[i], want[i]) != 0)
			fail_msg("pull %zu: '%s', want '%s'", i, s->asked[i], want[i]);
	if (s->n_asked != n)
		fail_msg("%zu pulls, want %zu", s->n_asked, n);
}

static void test_lock_written_then_followed(void **state)
{
	(void)state;
	files f;
	files_new(&f, MANIFEST(HF_A "," MS_B "," HF_C));
	stand_in s = { .commit = C1 };
	hub = &s;
	events e = { .stop_before = SIZE_MAX };
	arca_manifest_pull_result r;
	assert_int_equal(run(&r, &f, &e, 0), ARCA_OK);
	expect_asked(&s, (const char *const[]){ "hf:o/a@- locked=none include=2 exclude=0",
		"modelscope:o/b@- locked=none include=0 exclude=1",
		"hf:o/c@v1 locked=none include=0 exclude=0", NULL });
	expect_log(&e, (const char *const[]){ "next 0/3 o/a", "pulled o/a 1111", "next 1/3 o/b",
		"pulled o/b 1111", "next 2/3 o/c", "pulled o/c 1111", NULL });
	assert_int_equal(r.n_models, 3);
	assert_int_equal(r.n_pulled, 3);
	assert_int_equal(r.n_failed, 0);
	assert_int_equal(r.models_err, ARCA_OK);
	assert_false(r.stopped);
	assert_false(r.lock_existed);
	assert_true(r.lock_written);
	assert_string_equal(r.lock_path, f.lock);
	arca_manifest_pull_result_dispose(&r);
	/* entries under the revision asked for, else the hub's default */
	arca_lockfile lock;
	assert_int_equal(arca_lockfile_load(&lock, f.lock), ARCA_OK);
	assert_int_equal(lock.n_entries, 3);
	assert_non_null(arca_lockfile_find(&lock, "hf", "o/a", "main"));
	assert_non_null(arca_lockfile_find(&lock, "modelscope", "o/b", "master"));
	const arca_lockfile_entry *c = arca_lockfile_find(&lock, "hf", "o/c", "v1");
	assert_non_null(c);
	assert_string_equal(c->commit, C1);
	assert_int_equal(c->n_files, 1);
	assert_string_equal(c->files[0].sha256, SHA);
	arca_lockfile_dispose(&lock);

	/* upstream moved: the lock pins every model, and nothing is rewritten */
	memset(&s, 0, sizeof(s));
	s.commit = C2;
	memset(&e, 0, sizeof(e));
	e.stop_before = SIZE_MAX;
	assert_int_equal(run(&r, &f, &e, 0), ARCA_OK);
	expect_asked(&s, (const char *const[]){ "hf:o/a@- locked=1111 include=2 exclude=0",
		"modelscope:o/b@- locked=1111 include=0 exclude=1",
		"hf:o/c@v1 locked=1111 include=0 exclude=0", NULL });
	assert_string_equal(e.log[1], "pulled o/a 1111 (locked)");
	assert_true(r.lock_existed);
	assert_false(r.lock_written);
	arca_manifest_pull_result_dispose(&r);

	/* --update-lock: as they are now, and the lock rewritten */
	memset(&s, 0, sizeof(s));
	s.commit = C2;
	memset(&e, 0, sizeof(e));
	e.stop_before = SIZE_MAX;
	assert_int_equal(run(&r, &f, &e, 1), ARCA_OK);
	assert_string_equal(s.asked[0], "hf:o/a@- locked=none include=2 exclude=0");
	assert_true(r.lock_existed);
	assert_true(r.lock_written);
	arca_manifest_pull_result_dispose(&r);
	assert_int_equal(arca_lockfile_load(&lock, f.lock), ARCA_OK);
	assert_int_equal(lock.n_entries, 3);
	assert_string_equal(arca_lockfile_find(&lock, "hf", "o/c", "v1")->commit, C2);
	arca_lockfile_dispose(&lock);
	files_free(&f);
}

static void test_failures_and_stops(void **state)
{
	(void)state;
	files f;
	files_new(&f, MANIFEST(HF_A "," MS_B "," HF_C));
	/* every model is tried; a mismatch outranks a failure that came first */
	stand_in s = { .commit = C1, .fail_repo = { "o/a", "o/b" },
		.fail_err = { ARCA_ENET, ARCA_EMISMATCH } };
	hub = &s;
	events e = { .stop_before = SIZE_MAX };
	arca_manifest_pull_result r;
	assert_int_equal(run(&r, &f, &e, 0), ARCA_OK);
	expect_log(&e, (const char *const[]){ "next 0/3 o/a",
		"failed o/a network error: o/a: stand-in failure", "next 1/3 o/b",
		"failed o/b mismatch: o/b: stand-in failure", "next 2/3 o/c",
		"pulled o/c 1111", NULL });
	assert_int_equal(r.n_failed, 2);
	assert_int_equal(r.n_pulled, 1);
	assert_int_equal(r.models_err, ARCA_EMISMATCH);
	assert_false(r.lock_written); /* never a lock that pins a mix */
	assert_false(t_count_entries(f.dir) > 1);
	arca_manifest_pull_result_dispose(&r);
	/* the first failure counts when none is a mismatch */
	memset(&s, 0, sizeof(s));
	s = (stand_in){ .commit = C1, .fail_repo = { "o/b", "o/c" },
		.fail_err = { ARCA_ENOTFOUND, ARCA_ENET } };
	memset(&e, 0, sizeof(e));
	e.stop_before = SIZE_MAX;
	assert_int_equal(run(&r, &f, &e, 0), ARCA_OK);
	assert_int_equal(r.models_err, ARCA_ENOTFOUND);
	arca_manifest_pull_result_dispose(&r);

	/* the callback stops before the second model: no lock */
	memset(&s, 0, sizeof(s));
	s.commit = C1;
	memset(&e, 0, sizeof(e));
	e.stop_before = 1;
	assert_int_equal(run(&r, &f, &e, 0), ARCA_OK);
	assert_int_equal(s.n_asked, 1);
	assert_true(r.stopped);
	assert_int_equal(r.models_err, ARCA_OK);
	assert_false(r.lock_written);
	arca_manifest_pull_result_dispose(&r);
	assert_int_equal(t_count_entries(f.dir), 1);
	files_free(&f);
}

static void test_steps_that_end_the_run(void **state)
{
	(void)state;
	stand_in s = { .commit = C1 };
	hub = &s;
	events e = { .stop_before = SIZE_MAX };
	arca_manifest_pull_result r;
	/* a revision that makes no REF: the models before it were pulled, none after */
	files f;
	files_new(&f, MANIFEST(HF_A ",{\"hub\":\"hf\",\"repo\":\"o/v\",\"revision\":\"v1:q4\"},"
		HF_C));
	assert_int_equal(run(&r, &f, &e, 0), ARCA_EINVALID);
	assert_int_equal(r.failed_step, ARCA_MANIFEST_STEP_ENTRY);
	assert_error_mentions("hf:o/v@v1:q4: variants are made by arca convert, not pulled");
	assert_int_equal(s.n_asked, 1);
	assert_false(r.lock_written);
	arca_manifest_pull_result_dispose(&r);
	files_free(&f);

	/* no manifest */
	files_new(&f, MANIFEST(HF_A));
	free(f.manifest);
	f.manifest = t_path(f.dir, "missing.json");
	assert_true(run(&r, &f, &e, 0) < 0);
	assert_int_equal(r.failed_step, ARCA_MANIFEST_STEP_LOAD);
	assert_error_mentions("missing.json");
	arca_manifest_pull_result_dispose(&r);
	files_free(&f);

	/* a lock that is not one */
	files_new(&f, MANIFEST(HF_A));
	t_write_file(f.dir, "m.json.lock", "{\"lock_version\": 7}", SIZE_MAX);
	s.n_asked = 0;
	assert_true(run(&r, &f, &e, 0) < 0);
	assert_int_equal(r.failed_step, ARCA_MANIFEST_STEP_LOAD);
	assert_error_mentions("m.json.lock");
	assert_int_equal(s.n_asked, 0);
	arca_manifest_pull_result_dispose(&r);
	files_free(&f);

	/* the lock cannot be written where it goes */
	files_new(&f, MANIFEST(HF_A));
	static const arca_pull_opts settings = { 0 };
	char *nowhere = t_path(f.dir, "no/such/dir/m.lock");
	arca_manifest_pull_opts mo = { .manifest_path = f.manifest, .lock_path = nowhere,
		.pull = &settings, .pull_fn = pull_stand_in };
	assert_true(arca_pull_manifest(&r, NULL, &mo) < 0);
	assert_int_equal(r.failed_step, ARCA_MANIFEST_STEP_WRITE);
	assert_int_equal(r.n_pulled, 1);
	assert_false(r.lock_written);
	arca_manifest_pull_result_dispose(&r);
	free(nowhere);
	files_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_written_then_followed),
		cmocka_unit_test(test_failures_and_stops),
		cmocka_unit_test(test_steps_that_end_the_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
