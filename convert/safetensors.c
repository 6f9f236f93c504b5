/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/safetensors.c — the safetensors reader and header writer (arca/safetensors.h).
 * Every check of the reference reader is here, plus a few of its gaps closed (duplicate
 * keys, a header that does not start with '{', dimension products that overflow).
 */
#include "arca/safetensors.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADER 100000000ull
#define MAX_TENSORS 10000000u

struct arca_safetensors {
	const unsigned char *data; /* start of the data section */
	uint64_t data_len;
	uint64_t header_len;
	arca_st_tensor *tensors;   /* sorted by offset */
	size_t n;
	char *metadata;
};

static const struct {
	const char *name;
	unsigned bits;
} dtypes[ARCA_ST_DTYPE_COUNT] = {
	[ARCA_ST_BOOL] = { "BOOL", 8 }, [ARCA_ST_U8] = { "U8", 8 }, [ARCA_ST_I8] = { "I8", 8 },
	[ARCA_ST_F8_E5M2] = { "F8_E5M2", 8 }, [ARCA_ST_F8_E4M3] = { "F8_E4M3", 8 },
	[ARCA_ST_F8_E8M0] = { "F8_E8M0", 8 }, [ARCA_ST_F8_E4M3FNUZ] = { "F8_E4M3FNUZ", 8 },
	[ARCA_ST_F8_E5M2FNUZ] = { "F8_E5M2FNUZ", 8 }, [ARCA_ST_I16] = { "I16", 16 },
	[ARCA_ST_U16] = { "U16", 16 }, [ARCA_ST_F16] = { "F16", 16 }, [ARCA_ST_BF16] = { "BF16", 16 },
	[ARCA_ST_I32] = { "I32", 32 }, [ARCA_ST_U32] = { "U32", 32 }, [ARCA_ST_F32] = { "F32", 32 },
	[ARCA_ST_C64] = { "C64", 64 }, [ARCA_ST_F64] = { "F64", 64 }, [ARCA_ST_I64] = { "I64", 64 },
	[ARCA_ST_U64] = { "U64", 64 }, [ARCA_ST_F4] = { "F4", 4 }, [ARCA_ST_F6_E2M3] = { "F6_E2M3", 6 },
	[ARCA_ST_F6_E3M2] = { "F6_E3M2", 6 },
};

const char *arca_st_dtype_name(arca_st_dtype dtype)
{
	return dtype < ARCA_ST_DTYPE_COUNT ? dtypes[dtype].name : "?";
}

unsigned arca_st_dtype_bits(arca_st_dtype dtype)
{
	return dtype < ARCA_ST_DTYPE_COUNT ? dtypes[dtype].bits : 0;
}

arca_err arca_st_dtype_from_name(arca_st_dtype *out, const char *name)
{
	for (int i = 0; i < ARCA_ST_DTYPE_COUNT; i++) {
		if (!strcmp(dtypes[i].name, name)) {
			*out = (arca_st_dtype)i;
			return ARCA_OK;
		}
	}
	return arca_error_set(ARCA_EINVALID, "unknown safetensors dtype '%.40s'", name);
}

/* ------------------------------------------------------------------ reading */

static arca_err parse_tensor(arca_st_tensor *t, const char *name, json_t *v, const char *what)
{
	memset(t, 0, sizeof(*t));
	json_t *dtype = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape");
	json_t *offsets = json_object_get(v, "data_offsets");
	if (!json_is_object(v) || json_object_size(v) != 3 || !json_is_string(dtype) ||
	    !json_is_array(shape) || !json_is_array(offsets) || json_array_size(offsets) != 2)
		return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s' must have exactly dtype, shape "
			"and data_offsets [begin, end]", what, name);
	if (arca_st_dtype_from_name(&t->dtype, json_string_value(dtype)) < 0)
		return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s' has unknown dtype '%.40s'", what,
			name, json_string_value(dtype));
	if (json_array_size(shape) > ARCA_ST_MAX_DIMS)
		return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s' has %zu dimensions (at most %d)",
			what, name, json_array_size(shape), ARCA_ST_MAX_DIMS);
	t->n_dims = (uint32_t)json_array_size(shape);
	uint64_t n = 1;
	for (uint32_t d = 0; d < t->n_dims; d++) {
		json_t *dim = json_array_get(shape, d);
		if (!json_is_integer(dim) || json_integer_value(dim) < 0)
			return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s': shape[%u] is not a "
				"non-negative integer", what, name, d);
		uint64_t size = (uint64_t)json_integer_value(dim);
		if (size && n > UINT64_MAX / 64 / size)
			return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s': the shape's element count "
				"overflows", what, name);
		n *= size;
		t->shape[d] = size;
	}
	t->n_elements = n;
	json_t *b = json_array_get(offsets, 0), *e = json_array_get(offsets, 1);
	if (!json_is_integer(b) || !json_is_integer(e) || json_integer_value(b) < 0 ||
	    json_integer_value(e) < json_integer_value(b))
		return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s': data_offsets must be integers "
			"with 0 <= begin <= end", what, name);
	t->begin = (uint64_t)json_integer_value(b);
	t->end = (uint64_t)json_integer_value(e);
	uint64_t bits = n * arca_st_dtype_bits(t->dtype);
	if (bits % 8)
		return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s': %llu elements of %s do not fill "
			"whole bytes", what, name, (unsigned long long)n, dtypes[t->dtype].name);
	if (bits / 8 != t->end - t->begin)
		return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s': shape and dtype make %llu bytes "
			"but data_offsets span %llu", what, name, (unsigned long long)(bits / 8),
			(unsigned long long)(t->end - t->begin));
	if (!(t->name = strdup(name)))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	return ARCA_OK;
}

static int by_offset(const void *a, const void *b)
{
	const arca_st_tensor *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->name, y->name);
}

static arca_err parse_header(arca_safetensors *st, json_t *root, const char *what)
{
	size_t n = json_object_size(root);
	if (n > MAX_TENSORS)
		return arca_error_set(ARCA_ECORRUPT, "%s: more than %u tensors", what, MAX_TENSORS);
	st->tensors = calloc(n ? n : 1, sizeof(*st->tensors));
	if (!st->tensors)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	const char *key;
	json_t *v;
	arca_err err;
	json_object_foreach(root, key, v) {
		if (!strcmp(key, "__metadata__")) {
			const char *mk;
			json_t *mv;
			if (!json_is_object(v))
				return arca_error_set(ARCA_ECORRUPT, "%s: __metadata__ is not an object", what);
			json_object_foreach(v, mk, mv)
				if (!json_is_string(mv))
					return arca_error_set(ARCA_ECORRUPT, "%s: __metadata__ value '%s' is not "
						"a string", what, mk);
			if (!(st->metadata = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS)))
				return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
			continue;
		}
		if ((err = parse_tensor(&st->tensors[st->n], key, v, what)) < 0)
			return err;
		st->n++;
	}
	qsort(st->tensors, st->n, sizeof(*st->tensors), by_offset);
	uint64_t expect = 0;
	for (size_t i = 0; i < st->n; i++) {
		const arca_st_tensor *t = &st->tensors[i];
		if (t->begin != expect)
			return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s' starts at byte %llu of the "
				"data, expected %llu (%s)", what, t->name, (unsigned long long)t->begin,
				(unsigned long long)expect, t->begin < expect ? "overlapping tensors" :
				"a hole between tensors");
		expect = t->end;
	}
	if (expect != st->data_len)
		return arca_error_set(ARCA_ECORRUPT, "%s: the tensors cover %llu bytes of data but the "
			"file has %llu after the header (%s)", what, (unsigned long long)expect,
			(unsigned long long)st->data_len, expect > st->data_len ? "truncated" :
			"trailing bytes");
	return ARCA_OK;
}

arca_err arca_safetensors_open_buffer(arca_safetensors **out, const void *data, size_t len,
	const char *what)
{
	*out = NULL;
	const unsigned char *p = data;
	if (len < 8)
		return arca_error_set(ARCA_ECORRUPT, "%s: %zu bytes, too small for a safetensors "
			"header", what, len);
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = n << 8 | p[i];
	if (n > MAX_HEADER)
		return arca_error_set(ARCA_ECORRUPT, "%s: header of %llu bytes is larger than the "
			"100 MB limit", what, (unsigned long long)n);
	if (n > len - 8)
		return arca_error_set(ARCA_ECORRUPT, "%s: header of %llu bytes runs past the end of "
			"the %zu-byte file", what, (unsigned long long)n, len);
	if (n == 0 || p[8] != '{')
		return arca_error_set(ARCA_ECORRUPT, "%s: the header is not a JSON object (does not "
			"start with '{')", what);
	arca_safetensors *st = calloc(1, sizeof(*st));
	if (!st)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	st->header_len = n;
	st->data = p + 8 + n;
	st->data_len = len - 8 - n;
	json_error_t jerr;
	json_t *root = json_loadb((const char *)p + 8, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
	arca_err err;
	if (!root)
		err = arca_error_set(ARCA_ECORRUPT, "%s: header JSON: %s (byte %d)", what, jerr.text,
			jerr.position);
	else if (!json_is_object(root))
		err = arca_error_set(ARCA_ECORRUPT, "%s: the header is not a JSON object", what);
	else
		err = parse_header(st, root, what);
	json_decref(root);
	if (err < 0) {
		arca_safetensors_free(st);
		return err;
	}
	*out = st;
	return ARCA_OK;
}

void arca_safetensors_free(arca_safetensors *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		free(st->tensors[i].name);
	free(st->tensors);
	free(st->metadata);
	free(st);
}

size_t arca_safetensors_count(const arca_safetensors *st)
{
	return st->n;
}

const arca_st_tensor *arca_safetensors_tensor(const arca_safetensors *st, size_t i)
{
	return i < st->n ? &st->tensors[i] : NULL;
}

const arca_st_tensor *arca_safetensors_find(const arca_safetensors *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->tensors[i].name, name))
			return &st->tensors[i];
	return NULL;
}

const void *arca_safetensors_data(const arca_safetensors *st, const arca_st_tensor *t)
{
	return st->data + t->begin;
}

const char *arca_safetensors_metadata(const arca_safetensors *st)
{
	return st->metadata;
}

uint64_t arca_safetensors_header_size(const arca_safetensors *st)
{
	return st->header_len;
}

/* ------------------------------------------------------------------ writing */

arca_err arca_safetensors_write_header(arca_sink_fn sink, void *ctx, const arca_st_spec *specs,
	size_t n, const char *metadata_json, uint64_t *data_bytes_out)
{
	json_t *root = json_object();
	if (!root)
		return arca_error_set(ARCA_ENOMEM, "safetensors: out of memory");
	arca_err err = ARCA_OK;
	if (metadata_json) {
		json_t *meta = json_loads(metadata_json, 0, NULL);
		if (!json_is_object(meta))
			err = arca_error_set(ARCA_EINVALID, "safetensors: metadata is not a JSON object");
		else
			json_object_set(root, "__metadata__", meta);
		json_decref(meta);
	}
	uint64_t offset = 0;
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		const arca_st_spec *s = &specs[i];
		json_t *shape = json_array();
		uint64_t elements = 1;
		for (uint32_t d = 0; d < s->n_dims && d < ARCA_ST_MAX_DIMS; d++) {
			json_array_append_new(shape, json_integer((json_int_t)s->shape[d]));
			elements *= s->shape[d];
		}
		uint64_t bytes = elements * arca_st_dtype_bits(s->dtype) / 8;
		json_t *t = json_pack("{s:s,s:o,s:[I,I]}", "dtype", arca_st_dtype_name(s->dtype),
			"shape", shape, "data_offsets", (json_int_t)offset, (json_int_t)(offset + bytes));
		if (!t || json_object_set_new(root, s->name, t) != 0)
			err = arca_error_set(ARCA_EINVALID, "safetensors: cannot add tensor '%s'", s->name);
		offset += bytes;
	}
	char *text = err == ARCA_OK ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (err == ARCA_OK && !text)
		err = arca_error_set(ARCA_ENOMEM, "safetensors: out of memory");
	if (err < 0)
		return err;
	size_t len = strlen(text), padded = (len + 7) / 8 * 8;
	unsigned char prefix[8];
	for (int i = 0; i < 8; i++)
		prefix[i] = (unsigned char)((uint64_t)padded >> (8 * i));
	static const char spaces[8] = "        ";
	if ((err = sink(ctx, prefix, 8)) == ARCA_OK && (err = sink(ctx, text, len)) == ARCA_OK)
		err = sink(ctx, spaces, padded - len);
	free(text);
	if (err == ARCA_OK && data_bytes_out)
		*data_bytes_out = offset;
	return err;
}
