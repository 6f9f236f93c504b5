/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_inspect.c — `arca inspect FILE | REF:VARIANT | REF --file PATH`: the header of a
 * safetensors or GGUF file (format, metadata, a tensor table), or why it is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arca/convert.h"
#include "arca/gguf.h"
#include "arca/mapfile.h"
#include "arca/quant.h"
#include "arca/ref.h"
#include "arca/safetensors.h"
#include "cli.h"

static struct {
	const char *file;
	int max_array;
	int no_tensors;
} opt = { NULL, 8, 0 };

static const cli_option options[] = {
	{ "file", 0, CLI_STRING, "PATH", "with REF: a file of that snapshot", &opt.file },
	{ "max-array", 0, CLI_INT, "N", "array elements shown per key (default 8; 0: all)",
		&opt.max_array },
	{ "no-tensors", 0, CLI_FLAG, NULL, "leave out the tensor table", &opt.no_tensors },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_inspect_spec = {
	.name = "inspect",
	.args = "FILE | REF:VARIANT | REF --file PATH",
	.summary = "show a safetensors or GGUF file's header and tensors",
	.description =
		"Prints the format version, metadata and a tensor table (name, type, shape, offset,\n"
		"bytes) of a safetensors or GGUF file: a path, a converted variant in the store\n"
		"(REF:q4_k_m), or a file of a stored snapshot (REF --file model.safetensors). The\n"
		"file is checked as strictly as arca reads it; a file arca refuses is an error that\n"
		"says why (exit 3).",
	.options = options,
	.min_args = 1,
	.max_args = 1,
};

/* ------------------------------------------------------------------ GGUF */

/* Strings as JSON, or a note when they are not valid UTF-8. */
static json_t *str_json(const char *p, uint64_t len)
{
	json_t *s = json_stringn(p, (size_t)len);
	return s ? s : json_sprintf("<%llu bytes, not UTF-8>", (unsigned long long)len);
}

static json_t *element_json(const arca_gguf_kv *kv, uint64_t i)
{
	const unsigned char *p = kv->elems;
	switch (kv->elem_type) {
	case ARCA_GGUF_U8: return json_integer(p[i]);
	case ARCA_GGUF_I8: return json_integer((int8_t)p[i]);
	case ARCA_GGUF_U16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return json_integer(v); }
	case ARCA_GGUF_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); return json_integer(v); }
	case ARCA_GGUF_U32: { uint32_t v; memcpy(&v, p + 4 * i, 4); return json_integer(v); }
	case ARCA_GGUF_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); return json_integer(v); }
	case ARCA_GGUF_F32: { float v; memcpy(&v, p + 4 * i, 4); return json_real(v); }
	case ARCA_GGUF_BOOL: return json_boolean(p[i]);
	case ARCA_GGUF_U64: { uint64_t v; memcpy(&v, p + 8 * i, 8); return json_integer((json_int_t)v); }
	case ARCA_GGUF_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); return json_integer(v); }
	case ARCA_GGUF_F64: { double v; memcpy(&v, p + 8 * i, 8); return json_real(v); }
	case ARCA_GGUF_STRING:
		return str_json(kv->strs[i].ptr, kv->strs[i].len);
	default: return json_null();
	}
}

static json_t *value_json(const arca_gguf_kv *kv)
{
	switch (kv->type) {
	case ARCA_GGUF_STRING: return str_json(kv->v.s.ptr, kv->v.s.len);
	case ARCA_GGUF_F32: case ARCA_GGUF_F64: return json_real(kv->v.f);
	case ARCA_GGUF_BOOL: return json_boolean(kv->v.u);
	case ARCA_GGUF_I8: case ARCA_GGUF_I16: case ARCA_GGUF_I32: case ARCA_GGUF_I64:
		return json_integer(kv->v.i);
	case ARCA_GGUF_ARRAY: {
		json_t *arr = json_array();
		uint64_t n = kv->n_elems;
		if (opt.max_array > 0 && n > (uint64_t)opt.max_array)
			n = (uint64_t)opt.max_array;
		for (uint64_t i = 0; i < n; i++)
			json_array_append_new(arr, element_json(kv, i));
		return json_pack("{s:s,s:I,s:o}", "type", arca_gguf_vtype_name(kv->elem_type),
			"count", (json_int_t)kv->n_elems, "values", arr);
	}
	default: return json_integer((json_int_t)kv->v.u);
	}
}

static void print_value_text(const arca_gguf_kv *kv)
{
	json_t *v = value_json(kv);
	if (kv->type == ARCA_GGUF_ARRAY) {
		char *vals = json_dumps(json_object_get(v, "values"), JSON_COMPACT | JSON_ENCODE_ANY);
		printf("[%s x %llu] %.300s%s", arca_gguf_vtype_name(kv->elem_type),
			(unsigned long long)kv->n_elems, vals ? vals : "",
			json_array_size(json_object_get(v, "values")) < kv->n_elems ? " ..." : "");
		free(vals);
	} else {
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%.300s%s", text ? text : "", text && strlen(text) > 300 ? " ..." : "");
		free(text);
	}
	json_decref(v);
}

static json_t *shape_json(const uint64_t *dims, uint32_t n)
{
	json_t *a = json_array();
	for (uint32_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)dims[i]));
	return a;
}

static int inspect_gguf(const cli_ctx *ctx, const arca_gguf *g, const char *what, uint64_t size)
{
	if (ctx->json) {
		json_t *meta = json_object(), *tensors = json_array();
		for (size_t i = 0; i < arca_gguf_kv_count(g); i++) {
			const arca_gguf_kv *kv = arca_gguf_kv_at(g, i);
			char *key = strndup(kv->key.ptr, kv->key.len);
			json_object_set_new(meta, key, json_pack("{s:s,s:o}", "type",
				arca_gguf_vtype_name(kv->type), "value", value_json(kv)));
			free(key);
		}
		for (size_t i = 0; !opt.no_tensors && i < arca_gguf_tensor_count(g); i++) {
			const arca_gguf_tensor *t = arca_gguf_tensor_at(g, i);
			const arca_ggml_type_info *info = arca_ggml_type_info_get(t->type);
			json_array_append_new(tensors, json_pack("{s:s,s:s,s:o,s:I,s:I}", "name", t->name,
				"type", info ? info->name : "?", "ne", shape_json(t->ne, t->n_dims),
				"offset", (json_int_t)(arca_gguf_data_offset(g) + t->offset), "bytes",
				(json_int_t)t->nbytes));
		}
		return cli_print_json(json_pack("{s:s,s:s,s:I,s:i,s:i,s:I,s:I,s:o,s:o}", "file", what,
			"format", "gguf", "size", (json_int_t)size, "version", arca_gguf_version(g),
			"alignment", arca_gguf_alignment(g), "data_offset",
			(json_int_t)arca_gguf_data_offset(g), "tensor_count",
			(json_int_t)arca_gguf_tensor_count(g), "metadata", meta, "tensors", tensors));
	}
	printf("%s: GGUF v%u, %zu metadata keys, %zu tensors, alignment %u, data at %llu\n\n",
		what, arca_gguf_version(g), arca_gguf_kv_count(g), arca_gguf_tensor_count(g),
		arca_gguf_alignment(g), (unsigned long long)arca_gguf_data_offset(g));
	for (size_t i = 0; i < arca_gguf_kv_count(g); i++) {
		const arca_gguf_kv *kv = arca_gguf_kv_at(g, i);
		printf("%-44.*s %-7s ", (int)kv->key.len, kv->key.ptr, arca_gguf_vtype_name(kv->type));
		print_value_text(kv);
		putchar('\n');
	}
	if (opt.no_tensors)
		return CLI_EXIT_OK;
	printf("\n%-40s %-7s %-24s %14s %12s\n", "TENSOR", "TYPE", "NE", "OFFSET", "BYTES");
	for (size_t i = 0; i < arca_gguf_tensor_count(g); i++) {
		const arca_gguf_tensor *t = arca_gguf_tensor_at(g, i);
		const arca_ggml_type_info *info = arca_ggml_type_info_get(t->type);
		char ne[64];
		int n = 0;
		for (uint32_t d = 0; d < t->n_dims; d++)
			n += snprintf(ne + n, sizeof(ne) - (size_t)n, "%s%llu", d ? " x " : "",
				(unsigned long long)t->ne[d]);
		printf("%-40s %-7s %-24s %14llu %12llu\n", t->name, info ? info->name : "?", ne,
			(unsigned long long)(arca_gguf_data_offset(g) + t->offset),
			(unsigned long long)t->nbytes);
	}
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ safetensors */

static int inspect_safetensors(const cli_ctx *ctx, const arca_safetensors *st, const char *what,
	uint64_t size)
{
	const char *meta = arca_safetensors_metadata(st);
	if (ctx->json) {
		json_t *tensors = json_array();
		for (size_t i = 0; !opt.no_tensors && i < arca_safetensors_count(st); i++) {
			const arca_st_tensor *t = arca_safetensors_tensor(st, i);
			json_array_append_new(tensors, json_pack("{s:s,s:s,s:o,s:I,s:I}", "name", t->name,
				"dtype", arca_st_dtype_name(t->dtype), "shape", shape_json(t->shape, t->n_dims),
				"offset", (json_int_t)(8 + arca_safetensors_header_size(st) + t->begin),
				"bytes", (json_int_t)(t->end - t->begin)));
		}
		json_t *m = meta ? json_loads(meta, 0, NULL) : NULL;
		return cli_print_json(json_pack("{s:s,s:s,s:I,s:I,s:I,s:o,s:o}", "file", what, "format",
			"safetensors", "size", (json_int_t)size, "header_bytes",
			(json_int_t)arca_safetensors_header_size(st), "tensor_count",
			(json_int_t)arca_safetensors_count(st), "metadata", m ? m : json_null(),
			"tensors", tensors));
	}
	printf("%s: safetensors, %zu tensors, header %llu bytes, metadata %s\n", what,
		arca_safetensors_count(st), (unsigned long long)arca_safetensors_header_size(st),
		meta ? meta : "(none)");
	if (opt.no_tensors)
		return CLI_EXIT_OK;
	printf("\n%-52s %-8s %-24s %14s %12s\n", "TENSOR", "DTYPE", "SHAPE", "OFFSET", "BYTES");
	for (size_t i = 0; i < arca_safetensors_count(st); i++) {
		const arca_st_tensor *t = arca_safetensors_tensor(st, i);
		char shape[96];
		int n = 0;
		shape[0] = '\0';
		for (uint32_t d = 0; d < t->n_dims; d++)
			n += snprintf(shape + n, sizeof(shape) - (size_t)n, "%s%llu", d ? " x " : "",
				(unsigned long long)t->shape[d]);
		printf("%-52s %-8s %-24s %14llu %12llu\n", t->name, arca_st_dtype_name(t->dtype),
			t->n_dims ? shape : "scalar",
			(unsigned long long)(8 + arca_safetensors_header_size(st) + t->begin),
			(unsigned long long)(t->end - t->begin));
	}
	return CLI_EXIT_OK;
}

static int inspect_bytes(const cli_ctx *ctx, const unsigned char *data, uint64_t size,
	const char *what)
{
	if (size >= 4 && !memcmp(data, "GGUF", 4)) {
		arca_gguf *g;
		arca_err err = arca_gguf_open_buffer(&g, data, (size_t)size, what);
		if (err < 0)
			return cli_fail(ctx, err, "inspect");
		int rc = inspect_gguf(ctx, g, what, size);
		arca_gguf_free(g);
		return rc;
	}
	arca_safetensors *st;
	arca_err err = arca_safetensors_open_buffer(&st, data, (size_t)size, what);
	if (err < 0) {
		arca_error_prefix(err, "neither GGUF (no magic) nor safetensors");
		return cli_fail(ctx, err, "inspect");
	}
	int rc = inspect_safetensors(ctx, st, what, size);
	arca_safetensors_free(st);
	return rc;
}

/* REF:VARIANT or REF --file PATH: the blob to look at. */
static arca_err find_in_store(char sha256[ARCA_SHA256_HEX], arca_store *store, const arca_ref *ref)
{
	arca_snapshot snap;
	arca_err err = arca_catalog_find_snapshot(&snap, arca_store_catalog(store), ref);
	if (err < 0)
		return err;
	if (ref->variant[0]) {
		int64_t artifact;
		err = arca_convert_find_variant(sha256, &artifact, store, &snap, ref->variant);
	} else {
		arca_file *files;
		size_t n;
		err = arca_catalog_list_files(&files, &n, arca_store_catalog(store), snap.id);
		if (err == ARCA_OK) {
			err = arca_error_set(ARCA_ENOTFOUND, "%s:%s has no file %s", snap.hub, snap.repo_id,
				opt.file);
			for (size_t i = 0; i < n; i++) {
				if (!strcmp(files[i].path, opt.file)) {
					memcpy(sha256, files[i].sha256, ARCA_SHA256_HEX);
					arca_error_clear();
					err = ARCA_OK;
				}
			}
			arca_files_free(files, n);
		}
	}
	arca_snapshot_dispose(&snap);
	return err;
}

int cmd_inspect(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_inspect_spec, argc, argv);
	if (rc >= 0)
		return rc;
	const char *target = ctx.args[0];
	struct stat st;
	if (!opt.file && stat(target, &st) == 0) {
		arca_mapped_file *map;
		arca_err err = arca_map_file(&map, target);
		if (err < 0)
			return cli_fail(&ctx, err, "inspect");
		rc = inspect_bytes(&ctx, map->data, map->size, target);
		arca_unmap_file(map);
		return rc;
	}
	arca_ref ref;
	if (arca_ref_parse(&ref, target) < 0) {
		if (!strchr(target, ':'))
			return cli_fail(&ctx, arca_error_set(ARCA_ENOTFOUND, "%s: no such file", target),
				"inspect");
		return cli_usage_error(&ctx, "inspect: %s", arca_error_last());
	}
	if (!ref.variant[0] && !opt.file)
		return cli_usage_error(&ctx, "inspect: %s is neither a file nor REF:VARIANT; for a "
			"file of a snapshot add --file PATH", target);
	arca_store *store;
	arca_err err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "inspect %s", target);
	char sha256[ARCA_SHA256_HEX];
	arca_blob_map *map = NULL;
	if ((err = find_in_store(sha256, store, &ref)) < 0 ||
	    (err = arca_store_map_blob(&map, store, sha256)) < 0) {
		rc = cli_fail(&ctx, err, "inspect %s", target);
	} else {
		char what[600];
		snprintf(what, sizeof(what), "%s%s%s", target, opt.file ? " " : "",
			opt.file ? opt.file : "");
		rc = inspect_bytes(&ctx, map->data, map->size, what);
	}
	arca_blob_map_free(map);
	arca_store_free(store);
	return rc;
}
