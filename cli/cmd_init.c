/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_init.c — `arca init`: create a store (or confirm one is there).
 */
#include <stdio.h>
#include <stdlib.h>

#include "arca/catalog.h"
#include "cli.h"

const cli_spec cmd_init_spec = {
	.name = "init",
	.args = "[--store DIR]",
	.summary = "create a store",
	.description =
		"Creates the store folder: objects/ for blobs, tmp/ for writes in progress, keys/,\n"
		"the lock file and catalog.db. Running it on an existing store changes nothing;\n"
		"running it on a folder that holds anything else is refused.",
	.options = NULL,
	.min_args = 0,
	.max_args = 0,
};

int cmd_init(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_init_spec, argc, argv);
	if (rc >= 0)
		return rc;
	rc = CLI_EXIT_OK;
	char *home;
	arca_err err = cli_store_path(&home, &ctx);
	if (err < 0)
		return cli_fail(&ctx, err, "init");
	int created;
	if ((err = arca_store_init(home, &created)) < 0) {
		rc = cli_fail(&ctx, err, "init");
		free(home);
		return rc;
	}
	if (ctx.json)
		rc = cli_print_json(json_pack("{s:s,s:b,s:i}", "store", home, "created", created,
			"schema_version", ARCA_CATALOG_SCHEMA));
	else if (!ctx.quiet)
		printf(created ? "created an empty arca store in %s\n" :
			"%s is already an arca store; nothing changed\n", home);
	free(home);
	return rc;
}
