/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/model_open.c — see model_open.h.
 */
#include "model_open.h"

#include <string.h>

arca_err cli_model_file_open(cli_model *out, const cli_ctx *ctx, const char *target)
{
	memset(out, 0, sizeof(*out));
	arca_err err;
	if (!arca_model_file_is_path(target) &&
	    (err = cli_open_store(&out->store, ctx, ARCA_LOCK_SHARED)) < 0)
		return err;
	if ((err = arca_model_file_open(&out->file, out->store, target)) < 0) {
		cli_model_close(out);
		return err;
	}
	return ARCA_OK;
}

arca_err cli_model_open(cli_model *out, const cli_ctx *ctx, const char *target)
{
	arca_err err = cli_model_file_open(out, ctx, target);
	if (err == ARCA_OK &&
	    (err = arca_model_load(&out->model, out->file.gguf, out->file.what)) < 0)
		cli_model_close(out);
	return err;
}

void cli_model_close(cli_model *m)
{
	arca_model_free(m->model);
	arca_model_file_close(&m->file);
	arca_store_free(m->store);
	memset(m, 0, sizeof(*m));
}
