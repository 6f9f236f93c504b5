/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/source.c — a Hugging Face checkpoint as the converter sees it: config.json, the
 * safetensors shards mapped straight from their store blobs (zero copy), one sorted index
 * of every tensor, and rows decoded to float32 from F32, F16, BF16 or block-scaled FP8.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/quant.h"
#include "convert/convert_internal.h"

#define MAX_SMALL_FILE (64u << 20)

static const arca_file *find_file(const arca_convert__source *src, const char *path)
{
	for (size_t i = 0; i < src->n_files; i++)
		if (!strcmp(src->files[i].path, path))
			return &src->files[i];
	return NULL;
}

arca_err arca_convert__source_read_file(const arca_convert__source *src, const char *path,
	size_t max, char **out, size_t *len_out)
{
	*out = NULL;
	const arca_file *f = find_file(src, path);
	if (!f)
		return arca_error_set(ARCA_ENOTFOUND, "the snapshot has no %s", path);
	arca_blob_map *map;
	arca_err err = arca_store_map_blob(&map, src->store, f->sha256);
	if (err < 0)
		return arca_error_prefix(err, "%s", path);
	if (map->size > max) {
		err = arca_error_set(ARCA_EINVALID, "%s is %llu bytes, more than the %zu allowed", path,
			(unsigned long long)map->size, max);
	} else if (!(*out = malloc(map->size + 1))) {
		err = arca_error_set(ARCA_ENOMEM, "%s: out of memory", path);
	} else {
		memcpy(*out, map->data, map->size);
		(*out)[map->size] = '\0';
		if (len_out)
			*len_out = map->size;
	}
	arca_blob_map_free(map);
	return err;
}

static arca_err open_shard(arca_convert__source *src, const char *path)
{
	for (size_t i = 0; i < src->n_shards; i++)
		if (!strcmp(src->shards[i].path, path))
			return ARCA_OK;
	const arca_file *f = find_file(src, path);
	if (!f)
		return arca_error_set(ARCA_ENOTFOUND, "the snapshot has no %s", path);
	arca_convert__shard *grown = realloc(src->shards, (src->n_shards + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
	src->shards = grown;
	arca_convert__shard *s = &grown[src->n_shards];
	memset(s, 0, sizeof(*s));
	if (!(s->path = strdup(path)))
		return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
	memcpy(s->sha256, f->sha256, sizeof(s->sha256));
	src->n_shards++;
	arca_err err = arca_store_map_blob(&s->map, src->store, f->sha256);
	if (err == ARCA_OK)
		err = arca_safetensors_open_buffer(&s->st, s->map->data, (size_t)s->map->size, path);
	return err;
}

static int ref_order(const void *a, const void *b)
{
	return strcmp(((const arca_convert__ref *)a)->t->name,
		((const arca_convert__ref *)b)->t->name);
}

static arca_err build_index(arca_convert__source *src)
{
	size_t n = 0;
	for (size_t i = 0; i < src->n_shards; i++)
		n += arca_safetensors_count(src->shards[i].st);
	src->index = calloc(n ? n : 1, sizeof(*src->index));
	if (!src->index)
		return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
	for (size_t i = 0; i < src->n_shards; i++) {
		const arca_safetensors *st = src->shards[i].st;
		for (size_t k = 0; k < arca_safetensors_count(st); k++) {
			src->index[src->n_index].t = arca_safetensors_tensor(st, k);
			src->index[src->n_index++].shard = &src->shards[i];
		}
	}
	qsort(src->index, src->n_index, sizeof(*src->index), ref_order);
	for (size_t i = 1; i < src->n_index; i++)
		if (!strcmp(src->index[i].t->name, src->index[i - 1].t->name))
			return arca_error_set(ARCA_ECORRUPT, "tensor %s is in both %s and %s",
				src->index[i].t->name, src->index[i - 1].shard->path, src->index[i].shard->path);
	return ARCA_OK;
}

/* model.safetensors.index.json: open every shard it names; the tensors found must be
 * exactly the weight_map's keys. */
static arca_err open_sharded(arca_convert__source *src)
{
	char *text;
	arca_err err = arca_convert__source_read_file(src, "model.safetensors.index.json",
		MAX_SMALL_FILE, &text, NULL);
	if (err < 0)
		return err;
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	json_t *map = json_object_get(root, "weight_map");
	if (!json_is_object(map)) {
		json_decref(root);
		return arca_error_set(ARCA_ECORRUPT, "model.safetensors.index.json: no weight_map%s%s",
			root ? "" : ": ", root ? "" : jerr.text);
	}
	const char *name;
	json_t *file;
	json_object_foreach(map, name, file) {
		if (!json_is_string(file)) {
			err = arca_error_set(ARCA_ECORRUPT, "model.safetensors.index.json: %s maps to a "
				"non-string", name);
			break;
		}
		if ((err = open_shard(src, json_string_value(file))) < 0)
			break;
	}
	if (err == ARCA_OK)
		err = build_index(src);
	json_object_foreach(map, name, file) {
		if (err < 0)
			break;
		const arca_convert__ref *ref = arca_convert__source_find(src, name);
		if (!ref)
			err = arca_error_set(ARCA_ECORRUPT, "model.safetensors.index.json lists %s in %s, "
				"but no shard has it", name, json_string_value(file));
		else if (strcmp(ref->shard->path, json_string_value(file)) != 0)
			err = arca_error_set(ARCA_ECORRUPT, "model.safetensors.index.json puts %s in %s, "
				"but it is in %s", name, json_string_value(file), ref->shard->path);
	}
	if (err == ARCA_OK && json_object_size(map) != src->n_index) {
		for (size_t i = 0; i < src->n_index; i++) {
			if (!json_object_get(map, src->index[i].t->name)) {
				err = arca_error_set(ARCA_ECORRUPT, "%s holds %s, which the index does not "
					"list", src->index[i].shard->path, src->index[i].t->name);
				break;
			}
		}
	}
	json_decref(root);
	return err;
}

arca_err arca_convert__source_open(arca_convert__source *src, arca_store *store,
	const arca_snapshot *snap)
{
	memset(src, 0, sizeof(*src));
	src->store = store;
	src->snap = snap;
	src->fp8_block[0] = src->fp8_block[1] = 128;
	arca_err err = arca_catalog_list_files(&src->files, &src->n_files,
		arca_store_catalog(store), snap->id);
	if (err < 0)
		return err;
	char *text;
	if ((err = arca_convert__source_read_file(src, "config.json", MAX_SMALL_FILE, &text,
			NULL)) < 0)
		return arca_error_prefix(err, "not a Hugging Face model folder");
	json_error_t jerr;
	src->config = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	free(text);
	if (!json_is_object(src->config))
		return arca_error_set(ARCA_EINVALID, "config.json: %s", src->config ? "not an object" :
			jerr.text);
	json_t *block = json_object_get(json_object_get(src->config, "quantization_config"),
		"weight_block_size");
	if (json_array_size(block) == 2) {
		src->fp8_block[0] = (int)json_integer_value(json_array_get(block, 0));
		src->fp8_block[1] = (int)json_integer_value(json_array_get(block, 1));
		if (src->fp8_block[0] <= 0 || src->fp8_block[1] <= 0)
			return arca_error_set(ARCA_EINVALID, "config.json: bad weight_block_size");
	}
	if (find_file(src, "model.safetensors.index.json"))
		return open_sharded(src);
	if (!find_file(src, "model.safetensors"))
		return arca_error_set(ARCA_ENOTFOUND, "no safetensors weights (model.safetensors or "
			"model.safetensors.index.json)");
	if ((err = open_shard(src, "model.safetensors")) < 0)
		return err;
	return build_index(src);
}

void arca_convert__source_close(arca_convert__source *src)
{
	for (size_t i = 0; i < src->n_shards; i++) {
		arca_safetensors_free(src->shards[i].st);
		arca_blob_map_free(src->shards[i].map);
		free(src->shards[i].path);
	}
	free(src->shards);
	free(src->index);
	json_decref(src->config);
	arca_files_free(src->files, src->n_files);
	memset(src, 0, sizeof(*src));
}

const arca_convert__ref *arca_convert__source_find(const arca_convert__source *src,
	const char *name)
{
	size_t lo = 0, hi = src->n_index;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(src->index[mid].t->name, name);
		if (c == 0)
			return &src->index[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ------------------------------------------------------------------ decoding */

uint64_t arca_convert__row_len(const arca_st_tensor *t)
{
	return t->n_dims ? t->shape[t->n_dims - 1] : 1;
}

uint64_t arca_convert__n_rows(const arca_st_tensor *t)
{
	uint64_t len = arca_convert__row_len(t);
	return len ? t->n_elements / len : 0;
}

arca_err arca_convert__check_finite(const float *v, uint64_t n, uint64_t row_len,
	const char *tensor, uint64_t row0)
{
	uint32_t bad = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t bits;
		memcpy(&bits, &v[i], 4);
		bad |= (bits & 0x7f800000u) == 0x7f800000u;
	}
	if (!bad)
		return ARCA_OK;
	for (uint64_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return arca_error_set(ARCA_EINVALID, "tensor %s has a %s at row %llu, column "
				"%llu; refusing to convert it", tensor, isnan(v[i]) ? "NaN" : "infinity",
				(unsigned long long)(row0 + i / row_len), (unsigned long long)(i % row_len));
	return ARCA_OK;
}

/* E4M3 (no infinities; S.1111.111 is NaN), as DeepSeek-V3 and Kimi K2 ship weights. */
static float fp8_e4m3(uint8_t b)
{
	int sign = b >> 7, e = (b >> 3) & 15, m = b & 7;
	float v;
	if (e == 15 && m == 7)
		return NAN;
	if (e == 0)
		v = ldexpf((float)m / 8.0f, -6);
	else
		v = ldexpf(1.0f + (float)m / 8.0f, e - 7);
	return sign ? -v : v;
}

static arca_err read_fp8_rows(const arca_convert__source *src, const arca_convert__ref *ref,
	uint64_t row0, uint64_t n, float *dst)
{
	const arca_st_tensor *t = ref->t;
	char name[300];
	snprintf(name, sizeof(name), "%s_scale_inv", t->name);
	const arca_convert__ref *scale = arca_convert__source_find(src, name);
	uint64_t cols = arca_convert__row_len(t), rows = arca_convert__n_rows(t);
	uint64_t br = (uint64_t)src->fp8_block[0], bc = (uint64_t)src->fp8_block[1];
	uint64_t srows = (rows + br - 1) / br, scols = (cols + bc - 1) / bc;
	if (!scale || scale->t->n_dims != 2 || scale->t->shape[0] != srows ||
	    scale->t->shape[1] != scols ||
	    (scale->t->dtype != ARCA_ST_F32 && scale->t->dtype != ARCA_ST_BF16))
		return arca_error_set(ARCA_EINVALID, "FP8 tensor %s needs %s of shape [%llu, %llu] "
			"(F32 or BF16)", t->name, name, (unsigned long long)srows,
			(unsigned long long)scols);
	const uint8_t *q = arca_safetensors_data(ref->shard->st, t);
	const void *s = arca_safetensors_data(scale->shard->st, scale->t);
	for (uint64_t r = row0; r < row0 + n; r++) {
		for (uint64_t c = 0; c < cols; c++) {
			uint64_t k = (r / br) * scols + c / bc;
			float f;
			if (scale->t->dtype == ARCA_ST_F32)
				memcpy(&f, (const char *)s + 4 * k, 4);
			else
				f = arca_bf16_to_fp32(((const uint16_t *)s)[k]);
			dst[(r - row0) * cols + c] = fp8_e4m3(q[r * cols + c]) * f;
		}
	}
	return ARCA_OK;
}

arca_err arca_convert__read_rows(const arca_convert__source *src, const arca_convert__ref *ref,
	uint64_t row0, uint64_t n, float *dst)
{
	const arca_st_tensor *t = ref->t;
	uint64_t len = arca_convert__row_len(t);
	if (row0 + n > arca_convert__n_rows(t))
		return arca_error_set(ARCA_EINVALID, "tensor %s: rows %llu..%llu out of range", t->name,
			(unsigned long long)row0, (unsigned long long)(row0 + n));
	const unsigned char *base = arca_safetensors_data(ref->shard->st, t);
	uint64_t count = n * len;
	arca_err err;
	switch (t->dtype) {
	case ARCA_ST_F32:
		memcpy(dst, base + row0 * len * 4, count * 4);
		err = ARCA_OK;
		break;
	case ARCA_ST_F16:
		err = arca_dequantize(ARCA_GGML_F16, base + row0 * len * 2, dst, count);
		break;
	case ARCA_ST_BF16:
		err = arca_dequantize(ARCA_GGML_BF16, base + row0 * len * 2, dst, count);
		break;
	case ARCA_ST_F8_E4M3:
		err = read_fp8_rows(src, ref, row0, n, dst);
		break;
	default:
		return arca_error_set(ARCA_EUNSUPPORTED, "tensor %s is %s; arca converts F32, F16, BF16 "
			"and F8_E4M3 weights", t->name, arca_st_dtype_name(t->dtype));
	}
	if (err < 0)
		return arca_error_prefix(err, "tensor %s", t->name);
	return arca_convert__check_finite(dst, count, len ? len : 1, t->name, row0);
}

arca_err arca_convert__blob_sink(void *ctx, const void *buf, size_t len)
{
	return arca_blob_writer_write(ctx, buf, len);
}
