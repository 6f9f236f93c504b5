/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/gguf_read.c — the bounded GGUF reader (arca/gguf.h). A cursor walks the buffer;
 * every length is checked against what remains before anything is allocated or read, so a
 * hostile file ends in an error naming the file and the key or tensor, never in a crash.
 */
#include "arca/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/quant.h"

#define MAX_STRING (1ull << 30)
#define MAX_ARRAY (1ull << 30)

struct arca_gguf {
	const unsigned char *base;
	size_t len;
	uint32_t version;
	uint32_t alignment;
	uint64_t data_offset;
	arca_gguf_kv *kvs;
	size_t n_kv;
	arca_gguf_tensor *tensors;
	size_t n_tensors;
};

typedef struct {
	const unsigned char *p;
	size_t len, pos;
	const char *what;
} cursor;

static const unsigned elem_sizes[ARCA_GGUF_VTYPE_COUNT] = {
	[ARCA_GGUF_U8] = 1, [ARCA_GGUF_I8] = 1, [ARCA_GGUF_U16] = 2, [ARCA_GGUF_I16] = 2,
	[ARCA_GGUF_U32] = 4, [ARCA_GGUF_I32] = 4, [ARCA_GGUF_F32] = 4, [ARCA_GGUF_BOOL] = 1,
	[ARCA_GGUF_STRING] = 0, [ARCA_GGUF_ARRAY] = 0, [ARCA_GGUF_U64] = 8, [ARCA_GGUF_I64] = 8,
	[ARCA_GGUF_F64] = 8,
};

static const char *const vtype_names[ARCA_GGUF_VTYPE_COUNT] = {
	"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
};

const char *arca_gguf_vtype_name(arca_gguf_vtype t)
{
	return (unsigned)t < ARCA_GGUF_VTYPE_COUNT ? vtype_names[t] : "?";
}

static size_t remaining(const cursor *c)
{
	return c->len - c->pos;
}

static arca_err need(const cursor *c, uint64_t n, const char *field)
{
	if (n > remaining(c))
		return arca_error_set(ARCA_ECORRUPT, "%s: %s at byte %zu needs %llu bytes, only %zu "
			"remain (truncated or a lying length)", c->what, field, c->pos,
			(unsigned long long)n, remaining(c));
	return ARCA_OK;
}

static uint64_t load_le(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

static arca_err read_uint(cursor *c, unsigned n, uint64_t *out, const char *field)
{
	arca_err err = need(c, n, field);
	if (err < 0)
		return err;
	*out = load_le(c->p + c->pos, n);
	c->pos += n;
	return ARCA_OK;
}

static arca_err read_str(cursor *c, arca_gguf_str *out, const char *field)
{
	uint64_t len;
	arca_err err = read_uint(c, 8, &len, field);
	if (err < 0)
		return err;
	if (len > MAX_STRING)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s is %llu bytes long (more than 2^30)",
			c->what, field, (unsigned long long)len);
	if ((err = need(c, len, field)) < 0)
		return err;
	out->ptr = (const char *)c->p + c->pos;
	out->len = len;
	c->pos += len;
	return ARCA_OK;
}

/* A scalar value of type t into kv->v. */
static arca_err read_scalar(cursor *c, arca_gguf_kv *kv, arca_gguf_vtype t, const char *field)
{
	uint64_t raw;
	arca_err err;
	if (t == ARCA_GGUF_STRING)
		return read_str(c, &kv->v.s, field);
	if ((err = read_uint(c, elem_sizes[t], &raw, field)) < 0)
		return err;
	switch (t) {
	case ARCA_GGUF_I8: kv->v.i = (int8_t)raw; break;
	case ARCA_GGUF_I16: kv->v.i = (int16_t)raw; break;
	case ARCA_GGUF_I32: kv->v.i = (int32_t)raw; break;
	case ARCA_GGUF_I64: kv->v.i = (int64_t)raw; break;
	case ARCA_GGUF_F32: {
		uint32_t bits = (uint32_t)raw;
		float f;
		memcpy(&f, &bits, 4);
		kv->v.f = f;
		break;
	}
	case ARCA_GGUF_F64: memcpy(&kv->v.f, &raw, 8); break;
	case ARCA_GGUF_BOOL: kv->v.u = raw != 0; break;
	default: kv->v.u = raw; break;
	}
	return ARCA_OK;
}

static arca_err read_array(cursor *c, arca_gguf_kv *kv, const char *field)
{
	uint64_t elem, n;
	arca_err err;
	if ((err = read_uint(c, 4, &elem, field)) < 0 || (err = read_uint(c, 8, &n, field)) < 0)
		return err;
	if (elem >= ARCA_GGUF_VTYPE_COUNT)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s: unknown array element type %llu", c->what,
			field, (unsigned long long)elem);
	if (elem == ARCA_GGUF_ARRAY)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s: arrays of arrays are not allowed",
			c->what, field);
	if (n > MAX_ARRAY)
		return arca_error_set(ARCA_ECORRUPT, "%s: %s: array of %llu elements (more than 2^30)",
			c->what, field, (unsigned long long)n);
	kv->elem_type = (arca_gguf_vtype)elem;
	kv->n_elems = n;
	if (elem != ARCA_GGUF_STRING) {
		if ((err = need(c, n * elem_sizes[elem], field)) < 0)
			return err;
		kv->elems = c->p + c->pos;
		c->pos += n * elem_sizes[elem];
		return ARCA_OK;
	}
	/* every string takes at least its 8-byte length: bound n before allocating */
	if ((err = need(c, n * 8, field)) < 0)
		return err;
	kv->strs = calloc(n ? n : 1, sizeof(*kv->strs));
	if (!kv->strs)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", c->what);
	for (uint64_t i = 0; i < n; i++)
		if ((err = read_str(c, &kv->strs[i], field)) < 0)
			return err;
	return ARCA_OK;
}

static int compare_strs(const arca_gguf_str *a, const arca_gguf_str *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->ptr, b->ptr, n);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int kv_key_order(const void *a, const void *b)
{
	return compare_strs(&(*(const arca_gguf_kv *const *)a)->key,
		&(*(const arca_gguf_kv *const *)b)->key);
}

static arca_err read_kvs(arca_gguf *g, cursor *c, uint64_t n)
{
	/* a pair takes at least 8 + 1 + 4 + 1 bytes */
	if (n > remaining(c) / 14)
		return arca_error_set(ARCA_ECORRUPT, "%s: %llu key-value pairs cannot fit in the "
			"file", c->what, (unsigned long long)n);
	g->kvs = calloc(n ? n : 1, sizeof(*g->kvs));
	if (!g->kvs)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", c->what);
	arca_err err;
	for (uint64_t i = 0; i < n; i++) {
		arca_gguf_kv *kv = &g->kvs[i];
		char field[96];
		snprintf(field, sizeof(field), "key %llu", (unsigned long long)i);
		if ((err = read_str(c, &kv->key, field)) < 0)
			return err;
		g->n_kv++;
		if (kv->key.len == 0)
			return arca_error_set(ARCA_ECORRUPT, "%s: key %llu is empty", c->what,
				(unsigned long long)i);
		snprintf(field, sizeof(field), "value of '%.*s'", (int)(kv->key.len > 60 ? 60 :
			kv->key.len), kv->key.ptr);
		uint64_t type;
		if ((err = read_uint(c, 4, &type, field)) < 0)
			return err;
		if (type >= ARCA_GGUF_VTYPE_COUNT)
			return arca_error_set(ARCA_ECORRUPT, "%s: %s has unknown type %llu", c->what, field,
				(unsigned long long)type);
		kv->type = (arca_gguf_vtype)type;
		err = kv->type == ARCA_GGUF_ARRAY ? read_array(c, kv, field) :
			read_scalar(c, kv, kv->type, field);
		if (err < 0)
			return err;
	}
	/* duplicate keys make llama.cpp refuse the file */
	arca_gguf_kv **sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (!sorted)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", c->what);
	for (uint64_t i = 0; i < n; i++)
		sorted[i] = &g->kvs[i];
	qsort(sorted, n, sizeof(*sorted), kv_key_order);
	err = ARCA_OK;
	for (uint64_t i = 1; i < n && err == ARCA_OK; i++)
		if (!compare_strs(&sorted[i]->key, &sorted[i - 1]->key))
			err = arca_error_set(ARCA_ECORRUPT, "%s: key '%.*s' appears twice", c->what,
				(int)(sorted[i]->key.len > 100 ? 100 : sorted[i]->key.len), sorted[i]->key.ptr);
	free(sorted);
	return err;
}

static arca_err tensor_bytes(const arca_gguf_tensor *t, const char *what, uint64_t *out)
{
	const arca_ggml_type_info *info = arca_ggml_type_info_get(t->type);
	if (!info || info->block_size == 0)
		return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s' has unknown or removed type %d",
			what, t->name, t->type);
	if (t->ne[0] % info->block_size)
		return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s': ne[0] = %llu is not a multiple "
			"of the %s block size %u", what, t->name, (unsigned long long)t->ne[0], info->name,
			info->block_size);
	uint64_t bytes = t->ne[0] / info->block_size * info->type_size;
	for (uint32_t d = 1; d < ARCA_GGUF_MAX_DIMS; d++) {
		if (t->ne[d] && bytes > (uint64_t)INT64_MAX / t->ne[d])
			return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s': its size overflows", what,
				t->name);
		bytes *= t->ne[d];
	}
	*out = bytes;
	return ARCA_OK;
}

static int tensor_name_order(const void *a, const void *b)
{
	return strcmp((*(const arca_gguf_tensor *const *)a)->name,
		(*(const arca_gguf_tensor *const *)b)->name);
}

static arca_err read_tensors(arca_gguf *g, cursor *c, uint64_t n)
{
	/* an info takes at least 8 + 1 + 4 + 8 + 4 + 8 bytes */
	if (n > remaining(c) / 33)
		return arca_error_set(ARCA_ECORRUPT, "%s: %llu tensors cannot fit in the file", c->what,
			(unsigned long long)n);
	g->tensors = calloc(n ? n : 1, sizeof(*g->tensors));
	if (!g->tensors)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", c->what);
	arca_err err;
	for (uint64_t i = 0; i < n; i++) {
		arca_gguf_tensor *t = &g->tensors[i];
		arca_gguf_str name;
		char field[64];
		snprintf(field, sizeof(field), "tensor %llu", (unsigned long long)i);
		if ((err = read_str(c, &name, field)) < 0)
			return err;
		if (name.len == 0 || name.len > ARCA_GGUF_NAME_MAX || memchr(name.ptr, 0, name.len))
			return arca_error_set(ARCA_ECORRUPT, "%s: tensor %llu: name of %llu bytes (1 to %d, "
				"no NUL)", c->what, (unsigned long long)i, (unsigned long long)name.len,
				ARCA_GGUF_NAME_MAX);
		memcpy(t->name, name.ptr, name.len);
		t->name[name.len] = '\0';
		g->n_tensors++;
		uint64_t n_dims, type;
		if ((err = read_uint(c, 4, &n_dims, t->name)) < 0)
			return err;
		if (n_dims < 1 || n_dims > ARCA_GGUF_MAX_DIMS)
			return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s' has %llu dimensions (1 to 4)",
				c->what, t->name, (unsigned long long)n_dims);
		t->n_dims = (uint32_t)n_dims;
		for (uint32_t d = 0; d < ARCA_GGUF_MAX_DIMS; d++) {
			t->ne[d] = 1;
			if (d >= t->n_dims)
				continue;
			uint64_t ne;
			if ((err = read_uint(c, 8, &ne, t->name)) < 0)
				return err;
			if ((int64_t)ne < 0)
				return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s': ne[%u] is negative",
					c->what, t->name, d);
			t->ne[d] = ne;
		}
		if ((err = read_uint(c, 4, &type, t->name)) < 0 ||
		    (err = read_uint(c, 8, &t->offset, t->name)) < 0)
			return err;
		t->type = (int)(int32_t)type;
		if ((err = tensor_bytes(t, c->what, &t->nbytes)) < 0)
			return err;
	}
	arca_gguf_tensor **sorted = malloc((n ? n : 1) * sizeof(*sorted));
	if (!sorted)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", c->what);
	for (uint64_t i = 0; i < n; i++)
		sorted[i] = &g->tensors[i];
	qsort(sorted, n, sizeof(*sorted), tensor_name_order);
	err = ARCA_OK;
	for (uint64_t i = 1; i < n && err == ARCA_OK; i++)
		if (!strcmp(sorted[i]->name, sorted[i - 1]->name))
			err = arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s' appears twice", c->what,
				sorted[i]->name);
	free(sorted);
	return err;
}

static arca_err read_alignment(arca_gguf *g, const char *what)
{
	g->alignment = 32;
	const arca_gguf_kv *kv = arca_gguf_find_kv(g, "general.alignment");
	if (!kv)
		return ARCA_OK;
	if (kv->type != ARCA_GGUF_U32)
		return arca_error_set(ARCA_ECORRUPT, "%s: general.alignment is %s, not u32", what,
			arca_gguf_vtype_name(kv->type));
	if (kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)))
		return arca_error_set(ARCA_ECORRUPT, "%s: general.alignment %llu is not a power of two",
			what, (unsigned long long)kv->v.u);
	g->alignment = (uint32_t)kv->v.u;
	return ARCA_OK;
}

/* llama.cpp requires each tensor exactly where the previous one's padded end is. */
static arca_err check_layout(arca_gguf *g, const char *what)
{
	uint64_t expect = 0, a = g->alignment;
	for (size_t i = 0; i < g->n_tensors; i++) {
		const arca_gguf_tensor *t = &g->tensors[i];
		if (t->offset != expect)
			return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s' is at data offset %llu, "
				"expected %llu (tensors must follow each other, each padded to %llu)", what,
				t->name, (unsigned long long)t->offset, (unsigned long long)expect,
				(unsigned long long)a);
		if (t->nbytes > g->len || g->data_offset + t->offset > g->len - t->nbytes)
			return arca_error_set(ARCA_ECORRUPT, "%s: tensor '%s' (%llu bytes at %llu) ends "
				"past the end of the %zu-byte file", what, t->name,
				(unsigned long long)t->nbytes, (unsigned long long)(g->data_offset + t->offset),
				g->len);
		expect = t->offset + (t->nbytes + a - 1) / a * a;
	}
	return ARCA_OK;
}

arca_err arca_gguf_open_buffer(arca_gguf **out, const void *data, size_t len, const char *what)
{
	*out = NULL;
	cursor c = { data, len, 0, what };
	uint64_t version, n_tensors, n_kv;
	arca_err err;
	if (len < 4 || memcmp(data, "GGUF", 4) != 0)
		return arca_error_set(ARCA_ECORRUPT, "%s: not a GGUF file (no GGUF magic)", what);
	c.pos = 4;
	if ((err = read_uint(&c, 4, &version, "version")) < 0)
		return err;
	if ((version & 0xffff) == 0)
		return arca_error_set(ARCA_ECORRUPT, "%s: GGUF version 0x%llx looks byte-swapped (a "
			"big-endian file)", what, (unsigned long long)version);
	if (version < 2 || version > 3)
		return arca_error_set(version > 3 ? ARCA_EVERSION : ARCA_ECORRUPT, "%s: GGUF version "
			"%llu is not supported (2 and 3 are)", what, (unsigned long long)version);
	if ((err = read_uint(&c, 8, &n_tensors, "tensor count")) < 0 ||
	    (err = read_uint(&c, 8, &n_kv, "key-value count")) < 0)
		return err;
	if ((int64_t)n_tensors < 0 || (int64_t)n_kv < 0)
		return arca_error_set(ARCA_ECORRUPT, "%s: negative tensor or key-value count", what);
	arca_gguf *g = calloc(1, sizeof(*g));
	if (!g)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	g->base = data;
	g->len = len;
	g->version = (uint32_t)version;
	if ((err = read_kvs(g, &c, n_kv)) < 0 || (err = read_alignment(g, what)) < 0 ||
	    (err = read_tensors(g, &c, n_tensors)) < 0)
		goto fail;
	g->data_offset = (c.pos + g->alignment - 1) / g->alignment * g->alignment;
	if (g->n_tensors > 0 && g->data_offset > len) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: the data section would start past the end of "
			"the file", what);
		goto fail;
	}
	if ((err = check_layout(g, what)) < 0)
		goto fail;
	*out = g;
	return ARCA_OK;
fail:
	arca_gguf_free(g);
	return err;
}

void arca_gguf_free(arca_gguf *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n_kv; i++)
		free(g->kvs[i].strs);
	free(g->kvs);
	free(g->tensors);
	free(g);
}

uint32_t arca_gguf_version(const arca_gguf *g) { return g->version; }
uint32_t arca_gguf_alignment(const arca_gguf *g) { return g->alignment; }
uint64_t arca_gguf_data_offset(const arca_gguf *g) { return g->data_offset; }
size_t arca_gguf_kv_count(const arca_gguf *g) { return g->n_kv; }
size_t arca_gguf_tensor_count(const arca_gguf *g) { return g->n_tensors; }

const arca_gguf_kv *arca_gguf_kv_at(const arca_gguf *g, size_t i)
{
	return i < g->n_kv ? &g->kvs[i] : NULL;
}

const arca_gguf_kv *arca_gguf_find_kv(const arca_gguf *g, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < g->n_kv; i++)
		if (g->kvs[i].key.len == n && !memcmp(g->kvs[i].key.ptr, key, n))
			return &g->kvs[i];
	return NULL;
}

const arca_gguf_tensor *arca_gguf_tensor_at(const arca_gguf *g, size_t i)
{
	return i < g->n_tensors ? &g->tensors[i] : NULL;
}

const arca_gguf_tensor *arca_gguf_find_tensor(const arca_gguf *g, const char *name)
{
	for (size_t i = 0; i < g->n_tensors; i++)
		if (!strcmp(g->tensors[i].name, name))
			return &g->tensors[i];
	return NULL;
}

const void *arca_gguf_tensor_data(const arca_gguf *g, const arca_gguf_tensor *t)
{
	return g->base + g->data_offset + t->offset;
}

/* ------------------------------------------------------------------ getters */

static arca_err find_typed(const arca_gguf *g, const char *key, const arca_gguf_kv **out)
{
	*out = arca_gguf_find_kv(g, key);
	if (!*out)
		return arca_error_set(ARCA_ENOTFOUND, "GGUF key %s is missing", key);
	return ARCA_OK;
}

static arca_err wrong_type(const char *key, const arca_gguf_kv *kv, const char *want)
{
	return arca_error_set(ARCA_EINVALID, "GGUF key %s is %s, expected %s", key,
		arca_gguf_vtype_name(kv->type), want);
}

arca_err arca_gguf_get_u32(const arca_gguf *g, const char *key, uint32_t *out)
{
	const arca_gguf_kv *kv;
	arca_err err = find_typed(g, key, &kv);
	if (err < 0)
		return err;
	if (kv->type != ARCA_GGUF_U32 && kv->type != ARCA_GGUF_U16 && kv->type != ARCA_GGUF_U8)
		return wrong_type(key, kv, "u32");
	*out = (uint32_t)kv->v.u;
	return ARCA_OK;
}

arca_err arca_gguf_get_u64(const arca_gguf *g, const char *key, uint64_t *out)
{
	const arca_gguf_kv *kv;
	arca_err err = find_typed(g, key, &kv);
	if (err < 0)
		return err;
	if (kv->type != ARCA_GGUF_U64 && kv->type != ARCA_GGUF_U32 && kv->type != ARCA_GGUF_U16 &&
	    kv->type != ARCA_GGUF_U8)
		return wrong_type(key, kv, "u64");
	*out = kv->v.u;
	return ARCA_OK;
}

arca_err arca_gguf_get_f32(const arca_gguf *g, const char *key, float *out)
{
	const arca_gguf_kv *kv;
	arca_err err = find_typed(g, key, &kv);
	if (err < 0)
		return err;
	if (kv->type != ARCA_GGUF_F32)
		return wrong_type(key, kv, "f32");
	*out = (float)kv->v.f;
	return ARCA_OK;
}

arca_err arca_gguf_get_bool(const arca_gguf *g, const char *key, int *out)
{
	const arca_gguf_kv *kv;
	arca_err err = find_typed(g, key, &kv);
	if (err < 0)
		return err;
	if (kv->type != ARCA_GGUF_BOOL)
		return wrong_type(key, kv, "bool");
	*out = (int)kv->v.u;
	return ARCA_OK;
}

arca_err arca_gguf_get_str(const arca_gguf *g, const char *key, char **out)
{
	const arca_gguf_kv *kv;
	arca_err err = find_typed(g, key, &kv);
	if (err < 0)
		return err;
	if (kv->type != ARCA_GGUF_STRING)
		return wrong_type(key, kv, "string");
	if (memchr(kv->v.s.ptr, 0, kv->v.s.len))
		return arca_error_set(ARCA_EINVALID, "GGUF key %s: the string contains a NUL", key);
	*out = strndup(kv->v.s.ptr, kv->v.s.len);
	return *out ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "GGUF key %s: out of memory", key);
}

arca_err arca_gguf_get_arr(const arca_gguf *g, const char *key, arca_gguf_vtype elem,
	const arca_gguf_kv **out)
{
	arca_err err = find_typed(g, key, out);
	if (err < 0)
		return err;
	if ((*out)->type != ARCA_GGUF_ARRAY || (*out)->elem_type != elem)
		return arca_error_set(ARCA_EINVALID, "GGUF key %s is %s%s%s, expected an array of %s",
			key, arca_gguf_vtype_name((*out)->type), (*out)->type == ARCA_GGUF_ARRAY ?
			" of " : "", (*out)->type == ARCA_GGUF_ARRAY ?
			arca_gguf_vtype_name((*out)->elem_type) : "", arca_gguf_vtype_name(elem));
	return ARCA_OK;
}
