/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/ollama_model.c — reading what Ollama needs to know about a stored GGUF variant
 * (see arca/ollama_model.h): the GGUF's architecture, parameter count, file type, chat
 * template and end tokens, and the snapshot's licence. The GGUF is mapped only while it is
 * read; the result holds copies.
 */
#include "arca/ollama_model.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "convert/convert_internal.h"

int arca_ollama_human_number(char *buf, size_t cap, uint64_t n)
{
	static const struct {
		double scale;
		const char *suffix;
		int decimals;      /* when not a whole number */
	} units[] = { { 1e9, "B", 1 }, { 1e6, "M", 2 }, { 1e3, "K", 0 } };
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if ((double)n < units[i].scale)
			continue;
		double v = (double)n / units[i].scale;
		return snprintf(buf, cap, "%.*f%s", v == floor(v) ? 0 : units[i].decimals, v,
			units[i].suffix);
	}
	return snprintf(buf, cap, "%llu", (unsigned long long)n);
}

void arca_ollama_model_dispose(arca_ollama_model *model)
{
	free(model->chat_template);
	for (size_t i = 0; i < model->n_end_tokens; i++)
		free(model->end_tokens[i]);
	free(model->end_tokens);
	for (size_t i = 0; i < model->n_license_files; i++)
		free(model->license_files[i].path);
	free(model->license_files);
	free(model->license_text);
	memset(model, 0, sizeof(*model));
}

/* Ollama loads one GGUF per model; a variant written as several parts is refused. */
static arca_err refuse_split(arca_store *store, const arca_ollama_model *m, int64_t artifact,
	const arca_gguf *g)
{
	arca_artifact_file *files = NULL;
	size_t n = 0, n_gguf = 0;
	arca_err err = arca_catalog_artifact_outputs(&files, &n, arca_store_catalog(store),
		artifact);
	for (size_t i = 0; i < n; i++)
		n_gguf += strstr(files[i].path, ".gguf") != NULL;
	arca_artifact_files_free(files, n);
	if (err < 0)
		return err;
	uint32_t split = 1;
	if (arca_gguf_get_u32(g, "split.count", &split) < 0)
		arca_error_clear();
	if (n_gguf > 1 || split > 1)
		return arca_error_set(ARCA_EUNSUPPORTED, "%s is split into %u GGUF files; Ollama loads "
			"one (merge them with llama-gguf-split --merge and add the result)", m->what,
			n_gguf > 1 ? (unsigned)n_gguf : (unsigned)split);
	return ARCA_OK;
}

static arca_err add_end_token(arca_ollama_model *m, const char *text, size_t len)
{
	for (size_t i = 0; i < m->n_end_tokens; i++)
		if (strlen(m->end_tokens[i]) == len && !memcmp(m->end_tokens[i], text, len))
			return ARCA_OK;
	char **grown = realloc(m->end_tokens, (m->n_end_tokens + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
	m->end_tokens = grown;
	if (!(m->end_tokens[m->n_end_tokens] = strndup(text, len)))
		return arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
	m->n_end_tokens++;
	return ARCA_OK;
}

/* The texts of the tokens the tokenizer ends a turn or the text with. */
static arca_err read_end_tokens(arca_ollama_model *m, const arca_gguf *g)
{
	static const char *const keys[] = { "tokenizer.ggml.eos_token_id",
		"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id" };
	const arca_gguf_kv *tokens;
	if (arca_gguf_get_arr(g, "tokenizer.ggml.tokens", ARCA_GGUF_STRING, &tokens) < 0) {
		arca_error_clear();
		return ARCA_OK; /* no vocabulary: no end tokens to name */
	}
	arca_err err = ARCA_OK;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && err == ARCA_OK; i++) {
		uint32_t id;
		if (arca_gguf_get_u32(g, keys[i], &id) < 0) {
			arca_error_clear();
			continue;
		}
		if (id < tokens->n_elems && tokens->strs[id].len > 0 &&
		    !memchr(tokens->strs[id].ptr, '\0', tokens->strs[id].len))
			err = add_end_token(m, tokens->strs[id].ptr, (size_t)tokens->strs[id].len);
	}
	return err;
}

static arca_err read_gguf(arca_ollama_model *m, const arca_gguf *g)
{
	char *arch = NULL;
	arca_err err = arca_gguf_get_str(g, "general.architecture", &arch);
	if (err < 0)
		return arca_error_prefix(err, "%s", m->what);
	snprintf(m->arch, sizeof(m->arch), "%s", arch);
	free(arch);
	for (size_t i = 0; i < arca_gguf_tensor_count(g); i++) {
		const arca_gguf_tensor *t = arca_gguf_tensor_at(g, i);
		uint64_t elems = 1;
		for (uint32_t d = 0; d < t->n_dims; d++)
			elems *= t->ne[d];
		m->n_params += elems;
	}
	arca_ollama_human_number(m->model_type, sizeof(m->model_type), m->n_params);
	uint32_t ftype;
	const char *name = NULL;
	if (arca_gguf_get_u32(g, "general.file_type", &ftype) == ARCA_OK)
		name = arca_quant_file_type_name(ftype);
	arca_error_clear();
	snprintf(m->file_type, sizeof(m->file_type), "%s", name ? name : "unknown");
	if (arca_gguf_get_str(g, "tokenizer.chat_template", &m->chat_template) < 0) {
		m->chat_template = NULL;
		arca_error_clear();
	}
	return read_end_tokens(m, g);
}

/* The snapshot's licence files as blobs, else its licence id as text (none if unknown). */
static arca_err read_license(arca_ollama_model *m, arca_store *store,
	const arca_snapshot *snap)
{
	json_t *lic = snap->license_json ? json_loads(snap->license_json, 0, NULL) : NULL;
	json_t *paths = json_object_get(lic, "files");
	arca_file *files = NULL;
	size_t n = 0;
	arca_err err = ARCA_OK;
	if (json_array_size(paths) > 0) {
		err = arca_catalog_list_files(&files, &n, arca_store_catalog(store), snap->id);
		m->license_files = calloc(json_array_size(paths), sizeof(*m->license_files));
		if (err == ARCA_OK && !m->license_files)
			err = arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
	}
	size_t i;
	json_t *p;
	json_array_foreach(paths, i, p) {
		for (size_t k = 0; err == ARCA_OK && k < n; k++) {
			if (!json_is_string(p) || strcmp(files[k].path, json_string_value(p)) != 0 ||
			    !files[k].sha256[0])
				continue;
			arca_ollama_license_file *f = &m->license_files[m->n_license_files];
			if (!(f->path = strdup(files[k].path))) {
				err = arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
				break;
			}
			memcpy(f->sha256, files[k].sha256, sizeof(f->sha256));
			m->n_license_files++;
		}
	}
	const char *summary = json_string_value(json_object_get(lic, "summary"));
	const char *link = json_string_value(json_object_get(lic, "link"));
	if (err == ARCA_OK && m->n_license_files == 0 && summary && strcmp(summary, "unknown") &&
	    asprintf(&m->license_text, "%s\n%s%s", summary, link ? link : "", link ? "\n" : "") < 0) {
		m->license_text = NULL;
		err = arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
	}
	arca_files_free(files, n);
	json_decref(lic);
	return err;
}

arca_err arca_ollama_model_open(arca_ollama_model *out, arca_store *store,
	const arca_snapshot *snap, const char *variant)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->variant, sizeof(out->variant), "%s", variant);
	snprintf(out->repo_id, sizeof(out->repo_id), "%s", snap->repo_id);
	snprintf(out->what, sizeof(out->what), "%s:%s@%.12s:%s", snap->hub, snap->repo_id,
		snap->commit, variant);
	arca_convert__variant v;
	arca_err err = arca_convert__open_variant(&v, store, snap, variant);
	if (err < 0)
		return err;
	memcpy(out->sha256, v.sha256, sizeof(out->sha256));
	out->size = v.map->size;
	if ((err = refuse_split(store, out, v.artifact, v.gguf)) == ARCA_OK)
		err = read_gguf(out, v.gguf);
	arca_convert__close_variant(&v);
	if (err == ARCA_OK)
		err = read_license(out, store, snap);
	if (err < 0)
		arca_ollama_model_dispose(out);
	return err;
}
