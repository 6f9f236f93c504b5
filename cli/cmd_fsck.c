/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_fsck.c — `arca fsck`: re-hash every blob and report damage. Exit 3 when any.
 */
#include <stdio.h>

#include "arca/fsck.h"
#include "cli.h"

static struct {
	int threads;
	int quick;
} opt;

static const cli_option options[] = {
	{ "threads", 'j', CLI_INT, "N", "hashing threads (default: one per CPU)", &opt.threads },
	{ "quick", 0, CLI_FLAG, NULL, "check names and sizes only, do not re-hash", &opt.quick },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_fsck_spec = {
	.name = "fsck",
	.args = "[--threads N] [--quick]",
	.summary = "verify every blob and the catalog",
	.description =
		"Re-hashes every blob and compares the objects folder with the catalog. Damage\n"
		"(exit 3): corrupt or missing blobs, stray files in objects/, incomplete snapshots,\n"
		"a damaged catalog. Notes (exit 0): blobs nothing uses, intact blob files the\n"
		"catalog does not know (orphaned: left by an interrupted write; re-hashed, and\n"
		"corrupt if their bytes do not match their name) and leftovers in tmp/; arca gc\n"
		"removes them.",
	.options = options,
	.min_args = 0,
	.max_args = 0,
};

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
	cli_progress_update(payload, "", done, total);
}

int cmd_fsck(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_fsck_spec, argc, argv);
	if (rc >= 0)
		return rc;
	arca_store *store;
	arca_err err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "fsck");
	cli_progress bar;
	cli_progress_init(&bar, &ctx, "hashing");
	arca_fsck_opts fo = { .threads = opt.threads, .no_rehash = opt.quick,
		.progress = on_progress, .payload = &bar };
	arca_fsck_report rep;
	err = arca_store_fsck(&rep, store, &fo);
	cli_progress_finish(&bar);
	if (err < 0) {
		rc = cli_fail(&ctx, err, "fsck %s", arca_store_home(store));
		arca_store_free(store);
		return rc;
	}
	rc = rep.n_errors ? CLI_EXIT_VERIFY : CLI_EXIT_OK;
	double rate = rep.seconds > 0 ? (double)rep.bytes_checked / rep.seconds : 0;
	if (ctx.json) {
		json_t *problems = json_array();
		for (size_t i = 0; i < rep.n_problems; i++)
			json_array_append_new(problems, json_pack("{s:s,s:b,s:s,s:s}", "kind",
				arca_fsck_kind_name(rep.problems[i].kind), "error",
				arca_fsck_kind_is_error(rep.problems[i].kind), "subject",
				rep.problems[i].subject, "detail", rep.problems[i].detail));
		int print_rc = cli_print_json(json_pack("{s:s,s:b,s:I,s:I,s:I,s:f,s:f,s:o}", "store",
			arca_store_home(store), "ok", rep.n_errors == 0, "errors", (json_int_t)rep.n_errors,
			"blobs_checked", (json_int_t)rep.blobs_checked, "bytes_checked",
			(json_int_t)rep.bytes_checked, "seconds", rep.seconds, "bytes_per_second", rate,
			"problems", problems));
		if (print_rc)
			rc = print_rc;
	} else {
		for (size_t i = 0; i < rep.n_problems; i++) {
			const arca_fsck_problem *p = &rep.problems[i];
			if (ctx.quiet && !arca_fsck_kind_is_error(p->kind))
				continue;
			fprintf(arca_fsck_kind_is_error(p->kind) ? stderr : stdout, "%s %s: %s\n",
				arca_fsck_kind_name(p->kind), p->subject, p->detail);
		}
		if (!ctx.quiet) {
			char size[32], speed[32];
			cli_format_size(size, sizeof(size), rep.bytes_checked);
			cli_format_size(speed, sizeof(speed), (uint64_t)rate);
			printf("%s: %llu blobs, %s %s in %.2f s (%s/s); %zu problem%s\n",
				rep.n_errors ? "damaged" : "ok", (unsigned long long)rep.blobs_checked, size,
				opt.quick ? "checked by size" : "re-hashed", rep.seconds, speed, rep.n_errors,
				rep.n_errors == 1 ? "" : "s");
		}
	}
	arca_fsck_report_dispose(&rep);
	arca_store_free(store);
	return rc;
}
