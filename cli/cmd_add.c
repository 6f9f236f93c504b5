/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_add.c — `arca add DIR --as REF`: store a local model folder as a snapshot.
 */
#include <stdio.h>
#include <stdlib.h>

#include "arca/ref.h"
#include "arca/snapshot.h"
#include "cli.h"

static struct {
	const char *as;
	int no_index;
} opt;

static const cli_option options[] = {
	{ "as", 0, CLI_STRING, "REF", "name to store it under: [hub:]org/name[@revision] "
		"(hub defaults to local, revision to main)", &opt.as },
	{ "no-index", 0, CLI_FLAG, NULL, "do not index the tensors now (arca index does it "
		"later)", &opt.no_index },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_add_spec = {
	.name = "add",
	.args = "DIR --as REF",
	.summary = "store a local model folder as a snapshot",
	.description =
		"Copies every file under DIR into the store, recording its sha256 and git blob\n"
		"sha1, reads the licence and card fields from README.md front matter and\n"
		"LICENSE/NOTICE files, and records a snapshot with REF's revision pointing at it.\n"
		"The snapshot's commit is a content id: the same files always give the same id.\n"
		".git/ and .cache/huggingface/ are skipped; symbolic links to files are followed\n"
		"(so a Hugging Face cache snapshot folder can be added as it is).",
	.options = options,
	.min_args = 1,
	.max_args = 1,
};

typedef struct {
	cli_progress bar;
} add_state;

static int on_progress(const char *path, uint64_t file_done, uint64_t file_size,
	uint64_t total_done, uint64_t total_size, void *payload)
{
	(void)file_done;
	(void)file_size;
	add_state *s = payload;
	return cli_progress_update(&s->bar, path, total_done, total_size);
}

int cmd_add(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_add_spec, argc, argv);
	if (rc >= 0)
		return rc;
	if (!opt.as)
		return cli_usage_error(&ctx, "add: --as REF is required (for example --as acme/tiny@v1)");
	arca_ref ref;
	if (arca_ref_parse(&ref, opt.as) < 0)
		return cli_usage_error(&ctx, "add: --as %s", arca_error_last());
	if (ref.variant[0])
		return cli_usage_error(&ctx, "add: --as %s: a variant (:%s) cannot be added, only made "
			"by arca convert", opt.as, ref.variant);

	arca_store *store;
	arca_err err = cli_open_or_create_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "add %s", ctx.args[0]);
	add_state state;
	cli_progress_init(&state.bar, &ctx, "adding");
	arca_add_opts add = { .dir = ctx.args[0], .as = &ref, .progress = on_progress,
		.payload = &state };
	arca_add_result res;
	err = arca_snapshot_add_dir(&res, store, &add);
	cli_progress_finish(&state.bar);
	if (err == ARCA_OK && !opt.no_index)
		cli_index_new(&ctx, store, NULL, res.snapshot, 0);
	arca_store_free(store);
	if (err < 0)
		return cli_fail(&ctx, err, "add");

	for (size_t i = 0; i < res.n_warnings; i++)
		cli_warn(&ctx, "%s", res.warnings[i]);
	char name[600];
	snprintf(name, sizeof(name), "%s:%s@%s", res.hub, ref.repo_id, res.revision);
	rc = CLI_EXIT_OK;
	if (ctx.json) {
		json_t *warnings = json_array();
		for (size_t i = 0; i < res.n_warnings; i++)
			json_array_append_new(warnings, json_string(res.warnings[i]));
		rc = cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:s,s:o}",
			"ref", name, "hub", res.hub, "repo_id", ref.repo_id, "revision", res.revision,
			"commit", res.commit, "already_stored", res.existed, "files", (json_int_t)res.n_files,
			"size", (json_int_t)res.total_size, "license", res.license_summary,
			"warnings", warnings));
	} else if (!ctx.quiet) {
		char size[32];
		cli_format_size(size, sizeof(size), res.total_size);
		printf("%s %s (commit %.12s): %zu files, %s, licence %s\n",
			res.existed ? "already stored; ref updated:" : "added", name, res.commit,
			res.n_files, size, res.license_summary);
	}
	arca_add_result_dispose(&res);
	return rc;
}
