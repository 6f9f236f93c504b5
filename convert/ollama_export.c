/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/ollama_export.c — turning what arca_ollama_model_open read into Ollama's layers
 * (model, template, licences, params) and config blob, in the order Ollama's own library
 * manifests use, and handing them to the layout writer (store/checkout_ollama.c).
 */
#include "arca/ollama_model.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LICENSE_LAYERS 8

void arca_ollama_checkout_result_dispose(arca_ollama_checkout_result *result)
{
	arca_ollama_result_dispose(&result->written);
	memset(result, 0, sizeof(*result));
}

static void add_stop(json_t *stops, const char *text)
{
	size_t i;
	json_t *s;
	json_array_foreach(stops, i, s)
		if (!strcmp(json_string_value(s), text))
			return;
	json_array_append_new(stops, json_string(text));
}

/* {"stop":[...]}: the form's turn markers, then the tokenizer's end tokens; NULL when there
 * are none (*text_out NULL too). */
static arca_err params_text(char **text_out, size_t *n_out, const arca_ollama_model *m,
	const arca_ollama_template *tmpl)
{
	*text_out = NULL;
	*n_out = 0;
	json_t *stops = json_array();
	for (const char *const *s = tmpl ? tmpl->stops : NULL; stops && s && *s; s++)
		add_stop(stops, *s);
	for (size_t i = 0; stops && i < m->n_end_tokens; i++)
		add_stop(stops, m->end_tokens[i]);
	if (!stops)
		return arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
	*n_out = json_array_size(stops);
	if (*n_out == 0) {
		json_decref(stops);
		return ARCA_OK;
	}
	json_t *doc = json_pack("{s:o}", "stop", stops);
	*text_out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return *text_out ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
}

arca_err arca_ollama_model_checkout(arca_ollama_checkout_result *out, arca_store *store,
	const arca_ollama_model *model, const arca_ollama_checkout_opts *opts)
{
	memset(out, 0, sizeof(*out));
	const arca_ollama_template *tmpl = arca_ollama_template_for(opts->chat_form);
	arca_ollama_layer layers[3 + MAX_LICENSE_LAYERS];
	size_t n = 0;
	layers[n++] = (arca_ollama_layer){ ARCA_OLLAMA_MEDIA_MODEL, model->sha256, NULL, 0 };
	if (tmpl) {
		out->template_form = tmpl->form;
		layers[n++] = (arca_ollama_layer){ ARCA_OLLAMA_MEDIA_TEMPLATE, NULL, tmpl->text,
			strlen(tmpl->text) };
	} else {
		out->no_template = model->chat_template ? "arca has no Ollama template for the "
			"model's chat template; Ollama applies the GGUF's own tokenizer.chat_template" :
			"the GGUF has no chat template; Ollama passes prompts through as they are";
	}
	for (size_t i = 0; i < model->n_license_files && i < MAX_LICENSE_LAYERS; i++)
		layers[n++] = (arca_ollama_layer){ ARCA_OLLAMA_MEDIA_LICENSE,
			model->license_files[i].sha256, NULL, 0 };
	if (!model->n_license_files && model->license_text)
		layers[n++] = (arca_ollama_layer){ ARCA_OLLAMA_MEDIA_LICENSE, NULL,
			model->license_text, strlen(model->license_text) };
	else if (!model->n_license_files)
		out->no_license = "the snapshot's licence is unknown";
	char *params = NULL;
	arca_err err = params_text(&params, &out->n_stops, model, tmpl);
	if (err == ARCA_OK) {
		if (params)
			layers[n++] = (arca_ollama_layer){ ARCA_OLLAMA_MEDIA_PARAMS, NULL, params,
				strlen(params) };
		arca_ollama_config config = { model->arch, model->model_type, model->file_type };
		arca_ollama_write_opts w = { opts->dir, opts->name, layers, n, &config, opts->copy,
			opts->no_verify, opts->progress, opts->payload };
		err = arca_ollama_write(&out->written, store, &w);
	}
	free(params);
	return err;
}
