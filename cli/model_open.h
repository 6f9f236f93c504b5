/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/model_open.h — what run, bench and validate share: a TARGET (a .gguf path or
 * REF[:VARIANT]) opened as a runnable model, with the store held shared when it came from
 * there.
 */
#ifndef ARCA_CLI_MODEL_OPEN_H
#define ARCA_CLI_MODEL_OPEN_H

#include "arca/model_file.h"
#include "arca/runtime.h"
#include "cli.h"

typedef struct {
	arca_store *store;      /* NULL for a plain file */
	arca_model_file file;
	arca_model *model;
} cli_model;

arca_err cli_model_open(cli_model *out, const cli_ctx *ctx, const char *target);
/* Only the file (no model binding): for the tokenizer alone. */
arca_err cli_model_file_open(cli_model *out, const cli_ctx *ctx, const char *target);
void cli_model_close(cli_model *m);

#endif
