/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_ls.c — `arca ls [PATTERN]`: the snapshots in the store, one line each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/card.h"
#include "cli.h"

const cli_spec cmd_ls_spec = {
	.name = "ls",
	.args = "[PATTERN]",
	.summary = "list stored models and revisions",
	.description =
		"One line per snapshot: model (hub:org/name), the refs that point at it, its commit,\n"
		"file count, size, licence and state. PATTERN keeps models whose name contains it.",
	.options = NULL,
	.min_args = 0,
	.max_args = 1,
};

/* Refs of a snapshot as "main,v1" (or "-"). */
static void refs_text(char *buf, size_t cap, const char *refs_json)
{
	json_t *refs = refs_json ? json_loads(refs_json, 0, NULL) : NULL;
	size_t used = 0, i;
	json_t *v;
	buf[0] = '\0';
	json_array_foreach(refs, i, v) {
		int n = snprintf(buf + used, cap - used, "%s%s", used ? "," : "", json_string_value(v));
		if (n < 0 || (size_t)n >= cap - used)
			break;
		used += (size_t)n;
	}
	json_decref(refs);
	if (!buf[0])
		snprintf(buf, cap, "-");
}

int cmd_ls(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_ls_spec, argc, argv);
	if (rc >= 0)
		return rc;
	const char *pattern = ctx.n_args ? ctx.args[0] : NULL;
	arca_store *store;
	arca_err err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "ls");
	arca_snapshot *snaps;
	size_t n;
	err = arca_catalog_list_snapshots(&snaps, &n, arca_store_catalog(store));
	arca_store_free(store);
	if (err < 0)
		return cli_fail(&ctx, err, "ls");

	rc = CLI_EXIT_OK;
	json_t *list = ctx.json ? json_array() : NULL;
	if (!ctx.json && !ctx.quiet && n > 0)
		printf("%-40s %-16s %-12s %6s %10s  %-24s %s\n", "MODEL", "REFS", "COMMIT", "FILES",
			"SIZE", "LICENCE", "STATE");
	for (size_t i = 0; i < n; i++) {
		const arca_snapshot *s = &snaps[i];
		char name[300];
		cli_snapshot_name(name, sizeof(name), s);
		if (pattern && !strstr(name, pattern))
			continue;
		if (ctx.json) {
			json_array_append_new(list, cli_snapshot_json(s));
			continue;
		}
		if (ctx.quiet)
			continue;
		char refs[256], size[32];
		refs_text(refs, sizeof(refs), s->refs_json);
		cli_format_size(size, sizeof(size), s->total_size);
		char *licence = arca_card_license_summary(s->license_json);
		printf("%-40s %-16s %-12.12s %6lld %10s  %-24s %s\n", name, refs, s->commit,
			(long long)s->n_files, size, licence ? licence : "unknown", s->state);
		free(licence);
	}
	if (ctx.json)
		rc = cli_print_json(json_pack("{s:o}", "snapshots", list));
	else if (!ctx.quiet && n == 0)
		printf("the store is empty (bring models in with arca add or arca pull)\n");
	arca_snapshots_free(snaps, n);
	return rc;
}
