/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/store/test_import.c — `arca add` in the library: every file stored with both
 * hashes, card and licence read, content id stable, skipped and refused entries, refs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "arca/snapshot.h"
#include "support.h"

typedef struct {
	char *home;
	char *src;
	arca_store *store;
} fixture;

static void make_model(const char *dir)
{
	t_write_file(dir, "config.json", "{\"model_type\":\"qwen2\"}\n", SIZE_MAX);
	t_write_file(dir, "model.safetensors", "not really weights", SIZE_MAX);
	t_write_file(dir, "README.md", "---\nlicense: apache-2.0\nbase_model: Qwen/Qwen2.5-0.5B\n"
		"base_model_relation: finetune\n---\n# tiny\n", SIZE_MAX);
	t_write_file(dir, "LICENSE", "Apache License\nVersion 2.0, January 2004\n", SIZE_MAX);
	t_write_file(dir, "onnx/model.onnx", "onnx bytes", SIZE_MAX);
	t_write_file(dir, ".git/HEAD", "ref: refs/heads/main\n", SIZE_MAX);
	t_write_file(dir, ".cache/huggingface/download/config.json.metadata", "x\n", SIZE_MAX);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->store = t_store_new(&f->home);
	f->src = t_tempdir();
	make_model(f->src);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	arca_store_free(f->store);
	t_remove_tree(f->home);
	t_remove_tree(f->src);
	free(f->home);
	free(f->src);
	free(f);
	return 0;
}

static arca_err add(fixture *f, const char *as, arca_add_result *res)
{
	arca_ref ref;
	assert_int_equal(arca_ref_parse(&ref, as), ARCA_OK);
	arca_add_opts opts = { .dir = f->src, .as = &ref };
	return arca_snapshot_add_dir(res, f->store, &opts);
}

static void test_add_records_everything(void **state)
{
	fixture *f = *state;
	arca_add_result res;
	if (add(f, "acme/tiny@v1", &res) != ARCA_OK)
		fail_msg("add: %s", arca_error_last());
	assert_string_equal(res.hub, "local");
	assert_string_equal(res.revision, "v1");
	assert_false(res.existed);
	assert_int_equal(res.n_files, 5); /* .git and .cache/huggingface skipped */
	assert_string_equal(res.license_summary, "apache-2.0");
	assert_int_equal(res.n_warnings, 0);

	arca_catalog *cat = arca_store_catalog(f->store);
	arca_snapshot snap;
	arca_ref ref;
	arca_ref_parse(&ref, "local:acme/tiny@v1");
	assert_int_equal(arca_catalog_find_snapshot(&snap, cat, &ref), ARCA_OK);
	assert_string_equal(snap.commit, res.commit);
	assert_string_equal(snap.state, "complete");
	assert_string_equal(snap.source, "local");
	char *real = realpath(f->src, NULL);
	assert_string_equal(snap.origin, real);
	free(real);
	json_t *card = json_loads(snap.card_json, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(card, "base_model")),
		"Qwen/Qwen2.5-0.5B");
	json_decref(card);

	arca_file *files;
	size_t n;
	assert_int_equal(arca_catalog_list_files(&files, &n, cat, snap.id), ARCA_OK);
	assert_int_equal(n, 5);
	assert_string_equal(files[0].path, "LICENSE");
	assert_string_equal(files[3].path, "model.safetensors");
	assert_string_equal(files[4].path, "onnx/model.onnx");
	/* both hashes match independent tools */
	char *path = t_path(f->src, "model.safetensors");
	char *sha = t_shell_line("sha256sum '%s' | cut -d' ' -f1", path);
	char *git = t_git_blob_id(path);
	assert_string_equal(files[3].sha256, sha);
	assert_string_equal(files[3].git_sha1, git);
	free(sha);
	free(git);
	free(path);
	arca_files_free(files, n);
	arca_snapshot_dispose(&snap);
	arca_add_result_dispose(&res);
}

static void test_content_id_is_stable_and_refs_move(void **state)
{
	fixture *f = *state;
	arca_add_result a, b, c;
	assert_int_equal(add(f, "acme/tiny", &a), ARCA_OK);
	assert_int_equal(add(f, "acme/tiny@v2", &b), ARCA_OK);
	assert_true(b.existed);
	assert_string_equal(a.commit, b.commit);
	t_write_file(f->src, "config.json", "{\"model_type\":\"qwen3\"}\n", SIZE_MAX);
	assert_int_equal(add(f, "acme/tiny", &c), ARCA_OK);
	assert_false(c.existed);
	assert_string_not_equal(a.commit, c.commit);
	/* main moved to the new content; v2 still names the old */
	arca_catalog *cat = arca_store_catalog(f->store);
	arca_snapshot s;
	arca_ref ref;
	arca_ref_parse(&ref, "acme/tiny");
	assert_int_equal(arca_catalog_find_snapshot(&s, cat, &ref), ARCA_OK);
	assert_string_equal(s.commit, c.commit);
	arca_snapshot_dispose(&s);
	arca_ref_parse(&ref, "acme/tiny@v2");
	assert_int_equal(arca_catalog_find_snapshot(&s, cat, &ref), ARCA_OK);
	assert_string_equal(s.commit, a.commit);
	arca_snapshot_dispose(&s);
	arca_add_result_dispose(&a);
	arca_add_result_dispose(&b);
	arca_add_result_dispose(&c);

	/* the content id is defined by (path, sha256) pairs, nothing else */
	arca_file files[2];
	memset(files, 0, sizeof(files));
	files[0].path = "a";
	memset(files[0].sha256, '1', 64);
	files[1].path = "b";
	memset(files[1].sha256, '2', 64);
	char id1[65], id2[65];
	assert_int_equal(arca_snapshot_content_id(id1, files, 2), ARCA_OK);
	files[1].path = "c";
	assert_int_equal(arca_snapshot_content_id(id2, files, 2), ARCA_OK);
	assert_string_not_equal(id1, id2);
}

static void test_bad_card_is_a_warning(void **state)
{
	fixture *f = *state;
	t_write_file(f->src, "README.md", "---\nlicense: [mit\n---\n", SIZE_MAX);
	arca_add_result res;
	assert_int_equal(add(f, "acme/tiny", &res), ARCA_OK);
	assert_int_equal(res.n_warnings, 1);
	assert_non_null(strstr(res.warnings[0], "README.md"));
	/* without a card the licence still comes from the LICENSE file */
	assert_string_equal(res.license_summary, "apache-2.0 (from LICENSE)");
	arca_add_result_dispose(&res);
}

static void test_symlinks(void **state)
{
	fixture *f = *state;
	/* a Hugging Face cache snapshot: files are links into a blobs folder */
	char *blobs = t_tempdir();
	t_write_file(blobs, "abc", "linked weights", SIZE_MAX);
	char *target = t_path(blobs, "abc");
	char *link_path = t_path(f->src, "weights.bin");
	assert_int_equal(symlink(target, link_path), 0);
	char *dir_link = t_path(f->src, "elsewhere");
	assert_int_equal(symlink(blobs, dir_link), 0);
	arca_add_result res;
	assert_int_equal(add(f, "acme/tiny", &res), ARCA_OK);
	assert_int_equal(res.n_files, 6);
	assert_int_equal(res.n_warnings, 1);
	assert_non_null(strstr(res.warnings[0], "elsewhere"));
	arca_add_result_dispose(&res);

	unlink(target);
	assert_int_equal(add(f, "acme/tiny", &res), ARCA_ENOTFOUND);
	assert_error_mentions("broken symbolic link");
	free(target);
	free(link_path);
	free(dir_link);
	t_remove_tree(blobs);
	free(blobs);
}

/* Root reads every file, so as root the unreadable-file case runs in a child process that
 * becomes nobody (uid and gid 65534) with a store of its own, adding a copy of the model
 * whose config.json has mode 0. The child uses no cmocka (a failure there would go on
 * running the parent's tests); it exits 0 when the add failed with ARCA_EDENIED naming the
 * file, 10 or 11 when not, 12 when it could not set itself up. */
static void expect_unreadable_refused_as_nobody(void)
{
	char *src = t_tempdir();
	assert_int_equal(chmod(src, 0755), 0);
	make_model(src);
	char *secret = t_path(src, "config.json");
	assert_int_equal(chmod(secret, 0), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(12);
		const char *base = getenv("TMPDIR");
		char *home;
		if (asprintf(&home, "%s/arca-test-XXXXXX", base && base[0] ? base : "/tmp") < 0 ||
		    !mkdtemp(home))
			_exit(12);
		int created;
		arca_store *store;
		if (arca_store_init(home, &created) != ARCA_OK || arca_store_open(&store, home) != ARCA_OK) {
			fprintf(stderr, "as nobody: %s\n", arca_error_last());
			_exit(12);
		}
		arca_ref ref;
		arca_ref_parse(&ref, "acme/tiny");
		arca_add_opts opts = { .dir = src, .as = &ref };
		arca_add_result res;
		arca_err err = arca_snapshot_add_dir(&res, store, &opts);
		int code = err != ARCA_EDENIED ? 10 : !strstr(arca_error_last(), "config.json") ? 11 : 0;
		if (code)
			fprintf(stderr, "as nobody: add returned %d: %s\n", err, arca_error_last());
		arca_store_free(store);
		t_remove_tree(home);
		_exit(code);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 12)
		fail_msg("the child could not become nobody with a store of its own");
	assert_int_equal(WEXITSTATUS(status), 0);
	free(secret);
	t_remove_tree(src);
	free(src);
}

static void test_refused_inputs(void **state)
{
	fixture *f = *state;
	arca_add_result res;
	arca_ref ref;
	arca_ref_parse(&ref, "acme/tiny");
	char *missing = t_path(f->src, "nope");
	arca_add_opts opts = { .dir = missing, .as = &ref };
	assert_int_equal(arca_snapshot_add_dir(&res, f->store, &opts), ARCA_ENOTFOUND);
	assert_error_mentions(missing);
	free(missing);

	char *file = t_path(f->src, "config.json");
	opts.dir = file;
	assert_int_equal(arca_snapshot_add_dir(&res, f->store, &opts), ARCA_EINVALID);
	assert_error_mentions("not a folder");
	free(file);

	char *empty = t_tempdir();
	opts.dir = empty;
	assert_int_equal(arca_snapshot_add_dir(&res, f->store, &opts), ARCA_EINVALID);
	assert_error_mentions("no files");

	char *fifo = t_path(empty, "pipe");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	assert_int_equal(arca_snapshot_add_dir(&res, f->store, &opts), ARCA_EINVALID);
	assert_error_mentions("pipe");
	free(fifo);

	if (geteuid() != 0) {
		/* unreadable files are an error naming the file */
		char *secret = t_path(f->src, "config.json");
		chmod(secret, 0);
		opts.dir = f->src;
		assert_int_equal(arca_snapshot_add_dir(&res, f->store, &opts), ARCA_EDENIED);
		assert_error_mentions("config.json");
		chmod(secret, 0644);
		free(secret);
	} else {
		expect_unreadable_refused_as_nobody();
	}
	t_remove_tree(empty);
	free(empty);

	/* nothing of the failed adds became a snapshot */
	arca_snapshot *list;
	size_t n;
	assert_int_equal(arca_catalog_list_snapshots(&list, &n, arca_store_catalog(f->store)),
		ARCA_OK);
	assert_int_equal(n, 0);
	arca_snapshots_free(list, n);
}

static int interrupt_after_first(const char *path, uint64_t fd, uint64_t fs, uint64_t td,
	uint64_t ts, void *payload)
{
	(void)path;
	(void)fd;
	(void)fs;
	(void)td;
	(void)ts;
	return ++*(int *)payload > 1;
}

static void test_interrupted_add_records_nothing(void **state)
{
	fixture *f = *state;
	arca_ref ref;
	arca_ref_parse(&ref, "acme/tiny");
	int calls = 0;
	arca_add_opts opts = { .dir = f->src, .as = &ref, .progress = interrupt_after_first,
		.payload = &calls };
	arca_add_result res;
	assert_int_equal(arca_snapshot_add_dir(&res, f->store, &opts), ARCA_EINTERRUPTED);
	arca_snapshot *list;
	size_t n;
	assert_int_equal(arca_catalog_list_snapshots(&list, &n, arca_store_catalog(f->store)),
		ARCA_OK);
	assert_int_equal(n, 0);
	arca_snapshots_free(list, n);
	char *tmp = t_path(f->home, "tmp");
	assert_int_equal(t_count_entries(tmp), 0);
	free(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_records_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_id_is_stable_and_refs_move, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_bad_card_is_a_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_add_records_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
