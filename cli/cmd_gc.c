/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_gc.c — `arca gc [--dry-run]`: remove blobs nothing refers to.
 */
#include <stdio.h>

#include "arca/gc.h"
#include "cli.h"

static struct {
	int dry_run;
	int partials;
} opt;

static const cli_option options[] = {
	{ "dry-run", 'n', CLI_FLAG, NULL, "list what would be removed, remove nothing", &opt.dry_run },
	{ "partials", 0, CLI_FLAG, NULL, "also remove interrupted downloads a later pull could "
		"resume", &opt.partials },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_gc_spec = {
	.name = "gc",
	.args = "[--dry-run]",
	.summary = "remove blobs no snapshot or artifact uses",
	.description =
		"Removes blobs that no snapshot file, derived artifact or signature refers to, blob\n"
		"files the catalog does not know, and arca's leftover temporary files. It takes the\n"
		"store for itself: other arca commands wait until it is done.",
	.options = options,
	.min_args = 0,
	.max_args = 0,
};

int cmd_gc(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_gc_spec, argc, argv);
	if (rc >= 0)
		return rc;
	arca_store *store;
	arca_err err = cli_open_store(&store, &ctx, ARCA_LOCK_EXCLUSIVE);
	if (err < 0)
		return cli_fail(&ctx, err, "gc");
	arca_gc_opts go = { .dry_run = opt.dry_run, .partials = opt.partials };
	arca_gc_report rep;
	err = arca_store_gc(&rep, store, &go);
	arca_store_free(store);
	if (err < 0)
		return cli_fail(&ctx, err, "gc");
	rc = CLI_EXIT_OK;
	if (ctx.json) {
		json_t *removed = json_array();
		for (size_t i = 0; i < rep.n_removed; i++)
			json_array_append_new(removed, json_pack("{s:s,s:I,s:s}", "sha256",
				rep.removed[i].sha256, "bytes", (json_int_t)rep.removed[i].size, "why",
				rep.removed[i].orphan ? "not in the catalog" : "unused"));
		rc = cli_print_json(json_pack("{s:b,s:o,s:I,s:I,s:I}", "dry_run", opt.dry_run,
			"blobs", removed, "bytes", (json_int_t)rep.bytes, "tmp_files", (json_int_t)rep.n_tmp,
			"tmp_bytes", (json_int_t)rep.tmp_bytes));
	} else if (!ctx.quiet) {
		for (size_t i = 0; i < rep.n_removed; i++) {
			char size[32];
			cli_format_size(size, sizeof(size), rep.removed[i].size);
			printf("%s blob %s  %10s  %s\n", opt.dry_run ? "would remove" : "removed",
				rep.removed[i].sha256, size, rep.removed[i].orphan ? "not in the catalog" :
				"no snapshot, variant or signature uses it");
		}
		char size[32];
		cli_format_size(size, sizeof(size), rep.bytes + rep.tmp_bytes);
		printf("%s %zu blob%s and %zu temporary file%s, %s\n",
			opt.dry_run ? "would free" : "freed", rep.n_removed, rep.n_removed == 1 ? "" : "s",
			rep.n_tmp, rep.n_tmp == 1 ? "" : "s", size);
	}
	arca_gc_report_dispose(&rep);
	return rc;
}
