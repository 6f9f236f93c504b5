/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_rm.c — `arca rm REF`: forget a snapshot (its blobs stay until arca gc).
 */
#include <stdio.h>

#include "arca/ref.h"
#include "cli.h"

const cli_spec cmd_rm_spec = {
	.name = "rm",
	.args = "REF",
	.summary = "remove a snapshot from the catalog",
	.description =
		"Removes the snapshot REF resolves to, with its file list and every ref pointing at\n"
		"it. Blobs are not deleted here: run arca gc to free the space of blobs nothing else\n"
		"uses. Artifacts derived from the snapshot keep their lineage record.",
	.options = NULL,
	.min_args = 1,
	.max_args = 1,
};

int cmd_rm(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_rm_spec, argc, argv);
	if (rc >= 0)
		return rc;
	arca_ref ref;
	if (arca_ref_parse(&ref, ctx.args[0]) < 0)
		return cli_usage_error(&ctx, "rm: %s", arca_error_last());
	arca_store *store;
	arca_err err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "rm %s", ctx.args[0]);
	arca_catalog *cat = arca_store_catalog(store);
	arca_snapshot snap;
	if ((err = arca_catalog_find_snapshot(&snap, cat, &ref)) < 0) {
		rc = cli_fail(&ctx, err, "rm %s", ctx.args[0]);
		arca_store_free(store);
		return rc;
	}
	err = arca_catalog_delete_snapshot(cat, snap.id);
	arca_store_free(store);
	if (err < 0) {
		rc = cli_fail(&ctx, err, "rm %s", ctx.args[0]);
	} else if (ctx.json) {
		rc = cli_print_json(json_pack("{s:s,s:s,s:s,s:o}", "hub", snap.hub, "repo_id",
			snap.repo_id, "commit", snap.commit, "refs", json_loads(snap.refs_json ?
				snap.refs_json : "[]", 0, NULL)));
	} else {
		rc = CLI_EXIT_OK;
		if (!ctx.quiet)
			printf("removed %s:%s@%.12s (refs %s); run arca gc to free its blobs\n", snap.hub,
				snap.repo_id, snap.commit, snap.refs_json ? snap.refs_json : "[]");
	}
	arca_snapshot_dispose(&snap);
	return rc;
}
