/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/artifact.c — conversions as derived artifacts: recording their lineage (inputs,
 * outputs, parameters) in one transaction, finding an earlier identical conversion, and
 * finding a variant's GGUF by name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "common/io.h"
#include "common/path.h"
#include "convert/convert_internal.h"

arca_err arca_convert__record(int64_t *artifact_out, arca_store *store,
	const arca_snapshot *snap, const char *kind, const char *name, json_t *params,
	const arca_convert__file *inputs, size_t n_inputs, const arca_convert__file *outputs,
	size_t n_outputs)
{
	arca_catalog *cat = arca_store_catalog(store);
	char *text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
	arca_err err = arca_catalog_begin(cat);
	if (err == ARCA_OK)
		err = arca_catalog_add_artifact(cat, kind, name, snap->id, text, artifact_out);
	for (size_t i = 0; i < n_inputs && err == ARCA_OK; i++)
		err = arca_catalog_add_artifact_input(cat, *artifact_out, inputs[i].sha256,
			inputs[i].path);
	for (size_t i = 0; i < n_outputs && err == ARCA_OK; i++)
		err = arca_catalog_add_artifact_output(cat, *artifact_out, outputs[i].sha256,
			outputs[i].path);
	if (err == ARCA_OK)
		err = arca_catalog_commit(cat);
	else
		arca_catalog_rollback(cat);
	free(text);
	return err;
}

int arca_convert__find_same(arca_convert_result *out, arca_store *store,
	const arca_snapshot *snap, const char *name, json_t *params)
{
	arca_catalog *cat = arca_store_catalog(store);
	arca_artifact art;
	if (arca_catalog_find_artifact(&art, cat, snap->id, name) < 0) {
		arca_error_clear();
		return 0;
	}
	json_t *old = art.params_json ? json_loads(art.params_json, 0, NULL) : NULL;
	int same = old && json_equal(old, params);
	json_decref(old);
	arca_artifact_file *files = NULL;
	size_t n = 0;
	if (same && arca_catalog_artifact_outputs(&files, &n, cat, art.id) == ARCA_OK && n > 0) {
		for (size_t i = 0; i < n && same; i++) {
			uint64_t size;
			same = arca_store_stat_blob(store, files[i].sha256, &size) == ARCA_OK;
		}
		if (same) {
			out->artifact = art.id;
			out->existed = 1;
			/* the main output: the GGUF, or model.safetensors */
			size_t main = 0;
			for (size_t i = 0; i < n; i++)
				if (strstr(files[i].path, ".gguf") || !strcmp(files[i].path, "model.safetensors"))
					main = i;
			memcpy(out->sha256, files[main].sha256, sizeof(out->sha256));
			out->size = files[main].size;
		}
	} else {
		same = 0;
	}
	arca_error_clear();
	arca_artifact_files_free(files, n);
	arca_artifact_dispose(&art);
	return same;
}

arca_err arca_convert_find_variant(char sha256_out[ARCA_SHA256_HEX], int64_t *artifact_out,
	arca_store *store, const arca_snapshot *snap, const char *variant)
{
	arca_catalog *cat = arca_store_catalog(store);
	arca_artifact art;
	arca_err err = arca_catalog_find_artifact(&art, cat, snap->id, variant);
	if (err == ARCA_ENOTFOUND) {
		arca_artifact *all = NULL;
		size_t n = 0;
		char have[512] = "";
		if (arca_catalog_list_artifacts(&all, &n, cat, snap->id) == ARCA_OK) {
			size_t used = 0;
			for (size_t i = 0; i < n && used + 40 < sizeof(have); i++)
				used += (size_t)snprintf(have + used, sizeof(have) - used, "%s%s",
					used ? ", " : "", all[i].name);
		}
		arca_artifacts_free(all, n);
		return arca_error_set(ARCA_ENOTFOUND, "%s:%s@%.12s has no variant '%s' (%s%s); make it "
			"with: arca convert %s:%s --quant %s", snap->hub, snap->repo_id, snap->commit,
			variant, have[0] ? "has: " : "none converted yet", have, snap->hub, snap->repo_id,
			variant);
	}
	if (err < 0)
		return err;
	arca_artifact_file *files = NULL;
	size_t n = 0;
	err = arca_catalog_artifact_outputs(&files, &n, cat, art.id);
	if (err == ARCA_OK) {
		err = arca_error_set(ARCA_ENOTFOUND, "variant %s has no GGUF output", variant);
		for (size_t i = 0; i < n; i++) {
			if (strstr(files[i].path, ".gguf")) {
				memcpy(sha256_out, files[i].sha256, ARCA_SHA256_HEX);
				*artifact_out = art.id;
				arca_error_clear();
				err = ARCA_OK;
				break;
			}
		}
	}
	arca_artifact_files_free(files, n);
	arca_artifact_dispose(&art);
	return err;
}

arca_err arca_convert__open_variant(arca_convert__variant *v, arca_store *store,
	const arca_snapshot *snap, const char *name)
{
	memset(v, 0, sizeof(*v));
	arca_err err = arca_convert_find_variant(v->sha256, &v->artifact, store, snap, name);
	if (err < 0)
		return err;
	snprintf(v->path, sizeof(v->path), "%s:%s:%s", snap->hub, snap->repo_id, name);
	if ((err = arca_store_map_blob(&v->map, store, v->sha256)) < 0)
		return err;
	err = arca_gguf_open_buffer(&v->gguf, v->map->data, (size_t)v->map->size, v->path);
	if (err < 0)
		arca_convert__close_variant(v);
	return err;
}

void arca_convert__close_variant(arca_convert__variant *v)
{
	arca_gguf_free(v->gguf);
	arca_blob_map_free(v->map);
	v->gguf = NULL;
	v->map = NULL;
}

uint32_t arca_convert__arch_u32(const arca_gguf *g, const char *arch, const char *key)
{
	char full[128];
	uint32_t v = 0;
	snprintf(full, sizeof(full), "%s.%s", arch, key);
	if (arca_gguf_get_u32(g, full, &v) < 0)
		arca_error_clear();
	return v;
}

arca_err arca_convert_export(arca_store *store, int64_t artifact, const char *dest,
	int as_folder)
{
	arca_artifact_file *files;
	size_t n;
	arca_err err = arca_catalog_artifact_outputs(&files, &n, arca_store_catalog(store),
		artifact);
	if (err < 0)
		return err;
	if (!as_folder && n != 1)
		err = arca_error_set(ARCA_EINVALID, "the variant has %zu files; write it to a folder", n);
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		if ((err = arca_path_check_relative(files[i].path, strlen(files[i].path))) < 0)
			break;
		char *dst = as_folder ? arca_path_join(dest, files[i].path) : strdup(dest);
		char *dir = dst ? arca_io_dirname(dst) : NULL;
		if (!dst || !dir)
			err = arca_error_set(ARCA_ENOMEM, "export: out of memory");
		else if ((err = arca_io_mkdirs(dir, 0755)) == ARCA_OK)
			err = arca_store_export_blob(store, files[i].sha256, dst,
				ARCA_EXPORT_COPY | ARCA_EXPORT_VERIFY, NULL, NULL, NULL);
		free(dst);
		free(dir);
	}
	arca_artifact_files_free(files, n);
	return err;
}
