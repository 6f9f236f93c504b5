/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_rm.c — `arca rm REF[:VARIANT]`: forget exactly what was named, and say what that
 * was (the blobs stay until arca gc).
 */
#include <stdio.h>

#include "arca/ref.h"
#include "arca/snapshot.h"
#include "cli.h"

static struct {
	int with_variants;
	int dry_run;
} opt;

static const cli_option options[] = {
	{ "with-variants", 0, CLI_FLAG, NULL, "remove a snapshot together with the variants "
		"converted from it", &opt.with_variants },
	{ "dry-run", 'n', CLI_FLAG, NULL, "say what would be removed, remove nothing",
		&opt.dry_run },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_rm_spec = {
	.name = "rm",
	.args = "REF[:VARIANT]",
	.summary = "remove a snapshot or one of its variants from the catalog",
	.description =
		"REF:VARIANT removes that variant only (every conversion stored under the name,\n"
		"with its validations). REF removes the snapshot with its file list and the refs\n"
		"pointing at it; a snapshot that has variants is refused unless --with-variants\n"
		"names them too. Nothing else is touched: blobs another snapshot or variant uses\n"
		"stay in use, and no blob is deleted here. arca gc frees the space of blobs nothing\n"
		"uses any more; rm says how many and how much that is.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
};

static json_t *report_json(const arca_remove_report *r, const char *asked)
{
	json_t *variants = json_array();
	for (size_t i = 0; i < r->n_variants; i++) {
		const arca_removed_variant *v = &r->variants[i];
		json_array_append_new(variants, json_pack("{s:s,s:s,s:I,s:s,s:I,s:I}", "name", v->name,
			"kind", v->kind, "id", (json_int_t)v->id, "created_at", v->created_at, "files",
			(json_int_t)v->n_outputs, "bytes", (json_int_t)v->bytes));
	}
	json_t *snapshot = json_null();
	if (r->removed_snapshot)
		snapshot = json_pack("{s:s,s:s,s:s,s:o,s:I,s:I}", "hub", r->snapshot.hub, "repo_id",
			r->snapshot.repo_id, "commit", r->snapshot.commit, "refs",
			json_loads(r->snapshot.refs_json ? r->snapshot.refs_json : "[]", 0, NULL),
			"files", (json_int_t)r->snapshot_files, "bytes", (json_int_t)r->snapshot_bytes);
	return json_pack("{s:s,s:b,s:o,s:o,s:{s:I,s:I,s:I}}", "ref", asked, "dry_run",
		opt.dry_run, "snapshot", snapshot, "variants", variants, "blobs", "unused",
		(json_int_t)r->n_blobs_unused, "unused_bytes", (json_int_t)r->bytes_unused,
		"still_used", (json_int_t)r->n_blobs_kept);
}

static void print_report(const arca_remove_report *r)
{
	const char *verb = opt.dry_run ? "would remove" : "removed";
	char name[400], size[32];
	snprintf(name, sizeof(name), "%s:%s@%.12s", r->snapshot.hub, r->snapshot.repo_id,
		r->snapshot.commit);
	for (size_t i = 0; i < r->n_variants; i++) {
		const arca_removed_variant *v = &r->variants[i];
		cli_format_size(size, sizeof(size), v->bytes);
		printf("%s variant %s:%s (%s, %zu file%s, %s, made %s)\n", verb, name, v->name, v->kind,
			v->n_outputs, v->n_outputs == 1 ? "" : "s", size, v->created_at);
	}
	if (r->removed_snapshot) {
		cli_format_size(size, sizeof(size), r->snapshot_bytes);
		printf("%s snapshot %s: %zu file%s, %s, refs %s\n", verb, name, r->snapshot_files,
			r->snapshot_files == 1 ? "" : "s", size,
			r->snapshot.refs_json ? r->snapshot.refs_json : "[]");
	}
	cli_format_size(size, sizeof(size), r->bytes_unused);
	printf("%zu blob%s (%s) %s unused: arca gc frees %s", r->n_blobs_unused,
		r->n_blobs_unused == 1 ? "" : "s", size, opt.dry_run ? "would be left" : "left",
		r->n_blobs_unused == 1 ? "it" : "them");
	if (r->n_blobs_kept)
		printf("; %zu stay%s in use elsewhere", r->n_blobs_kept, r->n_blobs_kept == 1 ? "s" : "");
	printf("\n");
}

int cmd_rm(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_rm_spec, argc, argv);
	if (rc >= 0)
		return rc;
	arca_ref ref;
	if (arca_ref_parse(&ref, ctx.args[0]) < 0)
		return cli_usage_error(&ctx, "rm: %s", arca_error_last());
	if (ref.variant[0] && opt.with_variants)
		return cli_usage_error(&ctx, "rm: --with-variants goes with a snapshot, not a variant");
	arca_store *store;
	arca_err err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "rm %s", ctx.args[0]);
	arca_remove_opts ro = { .with_variants = opt.with_variants, .dry_run = opt.dry_run };
	arca_remove_report rep;
	err = arca_snapshot_remove(&rep, store, &ref, &ro);
	arca_store_free(store);
	if (err < 0)
		return cli_fail(&ctx, err, "rm %s", ctx.args[0]);
	rc = CLI_EXIT_OK;
	if (ctx.json)
		rc = cli_print_json(report_json(&rep, ctx.args[0]));
	else if (!ctx.quiet)
		print_report(&rep);
	arca_remove_report_dispose(&rep);
	return rc;
}
