/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/checkout_ollama.c — see checkout_ollama.h: resolves the Ollama name, opens the variant,
 * recognises its chat form (the runtime's job, which the library part may not call), writes
 * the model and reports each layer.
 */
#include "checkout_ollama.h"

#include <stdio.h>
#include <string.h>

#include "arca/chat_template.h"
#include "arca/ollama_model.h"

static json_t *blob_json(const arca_ollama_blob *b)
{
	return json_pack("{s:s,s:s,s:I,s:s,s:b}", "mediaType", b->media_type, "digest", b->digest,
		"size", (json_int_t)b->size, "how", arca_ollama_blob_how_name(b->how), "replaced",
		b->replaced);
}

static json_t *report_json(const cli_checkout_ollama_args *args, const arca_snapshot *snap,
	const char *name, const arca_ollama_checkout_result *res)
{
	const arca_ollama_result *w = &res->written;
	json_t *layers = json_array();
	for (size_t i = 0; layers && i < w->n_layers; i++)
		json_array_append_new(layers, blob_json(&w->layers[i]));
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:I,s:b,s:b,s:b}",
		"ref", args->ref_text, "commit", snap->commit, "variant", args->ref->variant, "dir",
		args->dir, "layout", "ollama", "name", name, "manifest", w->manifest_path, "model_id",
		w->model_id, "config", blob_json(&w->config), "layers", layers, "bytes",
		(json_int_t)w->bytes, "manifest_existed", w->manifest_existed, "manifest_unchanged",
		w->manifest_unchanged, "verified", !args->no_verify);
	if (!doc)
		return NULL;
	json_object_set_new(doc, "template", res->template_form ?
		json_string(res->template_form) : json_null());
	if (res->no_template)
		json_object_set_new(doc, "template_note", json_string(res->no_template));
	if (res->no_license)
		json_object_set_new(doc, "license_note", json_string(res->no_license));
	return doc;
}

static void print_report(const cli_checkout_ollama_args *args, const arca_snapshot *snap,
	const char *name, const arca_ollama_checkout_result *res)
{
	const arca_ollama_result *w = &res->written;
	size_t count[4] = { 0 };
	for (size_t i = 0; i <= w->n_layers; i++)
		count[(i < w->n_layers ? w->layers[i] : w->config).how]++;
	char size[32];
	cli_format_size(size, sizeof(size), w->bytes);
	printf("checked out %s:%s@%.12s:%s into %s as %s (ID %s): %zu layers and a config, %s "
		"(%zu hard-linked, %zu copied, %zu written, %zu already there)%s\n", snap->hub,
		snap->repo_id, snap->commit, args->ref->variant, args->dir, name, w->model_id,
		w->n_layers, size, count[ARCA_OLLAMA_LINKED], count[ARCA_OLLAMA_COPIED],
		count[ARCA_OLLAMA_WRITTEN], count[ARCA_OLLAMA_KEPT],
		args->no_verify ? "" : ", all verified");
	printf("manifest %s%s\n", w->manifest_path, !w->manifest_existed ? "" :
		w->manifest_unchanged ? " (already there, unchanged)" : " (replaced the one there)");
	if (res->template_form)
		printf("template: %s\n", res->template_form);
	else
		printf("no template layer: %s\n", res->no_template);
	if (res->no_license)
		printf("no licence layer: %s\n", res->no_license);
	printf("run it with: OLLAMA_MODELS=%s ollama run %s\n", args->dir, name);
}

/* What was in DIR and is no more: said on stderr, also with --json. */
static void warn_replaced(const cli_ctx *ctx, const cli_checkout_ollama_args *args,
	const char *name, const arca_ollama_result *w)
{
	for (size_t i = 0; i <= w->n_layers; i++) {
		const arca_ollama_blob *b = i < w->n_layers ? &w->layers[i] : &w->config;
		if (b->replaced)
			cli_warn(ctx, "replaced %s/blobs/sha256-%s: its bytes did not match its name",
				args->dir, b->digest + strlen("sha256:"));
	}
	if (w->manifest_existed && !w->manifest_unchanged)
		cli_warn(ctx, "replaced the manifest of %s (%s)", name, w->manifest_path);
}

int cli_checkout_ollama(const cli_ctx *ctx, const cli_checkout_ollama_args *args)
{
	arca_ollama_name name;
	if (args->name && arca_ollama_name_parse(&name, args->name, args->ref->variant) < 0)
		return cli_usage_error(ctx, "checkout: --name: %s", arca_error_last());
	if (!args->name && arca_ollama_name_from_repo(&name, args->ref->repo_id,
			args->ref->variant) < 0)
		return cli_usage_error(ctx, "checkout: %s (give the model a name with --name)",
			arca_error_last());
	char shown[sizeof(name) + 8];
	arca_ollama_name_format(shown, sizeof(shown), &name);
	arca_store *store;
	arca_err err = cli_open_store(&store, ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(ctx, err, "checkout %s", args->ref_text);
	arca_snapshot snap;
	if ((err = arca_catalog_find_snapshot(&snap, arca_store_catalog(store), args->ref)) < 0) {
		int rc = cli_fail(ctx, err, "checkout %s", args->ref_text);
		arca_store_free(store);
		return rc;
	}
	arca_ollama_model model;
	arca_ollama_checkout_result res;
	memset(&res, 0, sizeof(res));
	int rc;
	if ((err = arca_ollama_model_open(&model, store, &snap, args->ref->variant)) < 0) {
		rc = cli_fail(ctx, err, "checkout %s", args->ref_text);
		goto cleanup;
	}
	arca_chat_form form;
	const char *form_name = NULL;
	if (arca_chat_detect(&form, model.chat_template) == ARCA_OK)
		form_name = arca_chat_form_name(form);
	arca_error_clear();
	cli_progress bar;
	cli_progress_init(&bar, ctx, "checking out");
	arca_ollama_checkout_opts opts = { args->dir, &name, form_name, args->copy,
		args->no_verify, args->progress, &bar };
	err = arca_ollama_model_checkout(&res, store, &model, &opts);
	cli_progress_finish(&bar);
	arca_ollama_model_dispose(&model);
	if (err < 0) {
		rc = cli_fail(ctx, err, "checkout %s into %s", args->ref_text, args->dir);
		goto cleanup;
	}
	warn_replaced(ctx, args, shown, &res.written);
	rc = CLI_EXIT_OK;
	if (ctx->json)
		rc = cli_print_json(report_json(args, &snap, shown, &res));
	else if (!ctx->quiet)
		print_report(args, &snap, shown, &res);
cleanup:
	arca_ollama_checkout_result_dispose(&res);
	arca_snapshot_dispose(&snap);
	arca_store_free(store);
	return rc;
}
