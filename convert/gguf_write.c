/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/gguf_write.c — the GGUF v3 writer (arca/gguf.h). Metadata is encoded into a
 * buffer as pairs are added; tensor infos get their offsets when the header is written;
 * tensor bytes then stream through the caller's sink, each padded with zeros, so no
 * whole-model buffer ever exists. The file is only as durable as the sink: conversions
 * write into the store's blob writer (tmp + fsync + rename).
 */
#include "arca/gguf.h"

#include <stdlib.h>
#include <string.h>

#include "arca/quant.h"

typedef struct {
	char name[ARCA_GGUF_NAME_MAX + 1];
	uint32_t n_dims;
	uint64_t ne[ARCA_GGUF_MAX_DIMS];
	int type;
	uint64_t nbytes, offset;
} tensor_info;

struct arca_gguf_writer {
	uint32_t alignment;
	unsigned char *kv;      /* encoded pairs */
	size_t kv_len, kv_cap;
	char **keys;
	size_t n_keys;
	tensor_info *tensors;
	size_t n_tensors;
	int header_written;
	size_t current;         /* tensor being streamed, or n_tensors */
	uint64_t current_done;
	size_t next;            /* the tensor expected next */
};

arca_err arca_gguf_writer_new(arca_gguf_writer **out, uint32_t alignment)
{
	*out = NULL;
	if (alignment == 0 || (alignment & (alignment - 1)))
		return arca_error_set(ARCA_EINVALID, "GGUF alignment %u is not a power of two",
			alignment);
	arca_gguf_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return arca_error_set(ARCA_ENOMEM, "GGUF writer: out of memory");
	w->alignment = alignment;
	*out = w;
	return ARCA_OK;
}

void arca_gguf_writer_free(arca_gguf_writer *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_keys; i++)
		free(w->keys[i]);
	free(w->keys);
	free(w->kv);
	free(w->tensors);
	free(w);
}

static arca_err put(arca_gguf_writer *w, const void *data, size_t len)
{
	if (w->kv_len + len > w->kv_cap) {
		size_t cap = w->kv_cap ? w->kv_cap : 4096;
		while (cap < w->kv_len + len)
			cap *= 2;
		unsigned char *grown = realloc(w->kv, cap);
		if (!grown)
			return arca_error_set(ARCA_ENOMEM, "GGUF writer: out of memory");
		w->kv = grown;
		w->kv_cap = cap;
	}
	memcpy(w->kv + w->kv_len, data, len);
	w->kv_len += len;
	return ARCA_OK;
}

static arca_err put_uint(arca_gguf_writer *w, uint64_t v, unsigned n)
{
	unsigned char b[8];
	for (unsigned i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return put(w, b, n);
}

static arca_err put_str(arca_gguf_writer *w, const char *s, size_t len)
{
	arca_err err = put_uint(w, len, 8);
	return err == ARCA_OK ? put(w, s, len) : err;
}

int arca_gguf_writer_has_key(const arca_gguf_writer *w, const char *key)
{
	for (size_t i = 0; i < w->n_keys; i++)
		if (!strcmp(w->keys[i], key))
			return 1;
	return 0;
}

/* Starts a pair: the key (checked new) and the type. */
static arca_err begin_kv(arca_gguf_writer *w, const char *key, arca_gguf_vtype type)
{
	if (!key[0])
		return arca_error_set(ARCA_EINVALID, "GGUF writer: empty key");
	if (arca_gguf_writer_has_key(w, key))
		return arca_error_set(ARCA_EINVALID, "GGUF writer: key %s added twice", key);
	char **grown = realloc(w->keys, (w->n_keys + 1) * sizeof(*grown));
	if (!grown || !(grown[w->n_keys] = strdup(key))) {
		if (grown)
			w->keys = grown;
		return arca_error_set(ARCA_ENOMEM, "GGUF writer: out of memory");
	}
	w->keys = grown;
	w->n_keys++;
	arca_err err = put_str(w, key, strlen(key));
	return err == ARCA_OK ? put_uint(w, (uint64_t)type, 4) : err;
}

arca_err arca_gguf_add_u32(arca_gguf_writer *w, const char *key, uint32_t v)
{
	arca_err err = begin_kv(w, key, ARCA_GGUF_U32);
	return err == ARCA_OK ? put_uint(w, v, 4) : err;
}

arca_err arca_gguf_add_i32(arca_gguf_writer *w, const char *key, int32_t v)
{
	arca_err err = begin_kv(w, key, ARCA_GGUF_I32);
	return err == ARCA_OK ? put_uint(w, (uint32_t)v, 4) : err;
}

arca_err arca_gguf_add_u64(arca_gguf_writer *w, const char *key, uint64_t v)
{
	arca_err err = begin_kv(w, key, ARCA_GGUF_U64);
	return err == ARCA_OK ? put_uint(w, v, 8) : err;
}

arca_err arca_gguf_add_f32(arca_gguf_writer *w, const char *key, float v)
{
	uint32_t bits;
	memcpy(&bits, &v, 4);
	arca_err err = begin_kv(w, key, ARCA_GGUF_F32);
	return err == ARCA_OK ? put_uint(w, bits, 4) : err;
}

arca_err arca_gguf_add_bool(arca_gguf_writer *w, const char *key, int v)
{
	arca_err err = begin_kv(w, key, ARCA_GGUF_BOOL);
	return err == ARCA_OK ? put_uint(w, v ? 1 : 0, 1) : err;
}

arca_err arca_gguf_add_strn(arca_gguf_writer *w, const char *key, const char *v, size_t len)
{
	arca_err err = begin_kv(w, key, ARCA_GGUF_STRING);
	return err == ARCA_OK ? put_str(w, v, len) : err;
}

arca_err arca_gguf_add_str(arca_gguf_writer *w, const char *key, const char *v)
{
	return arca_gguf_add_strn(w, key, v, strlen(v));
}

arca_err arca_gguf_add_arr_str(arca_gguf_writer *w, const char *key, const char *const *v,
	size_t n)
{
	arca_err err = begin_kv(w, key, ARCA_GGUF_ARRAY);
	if (err == ARCA_OK && (err = put_uint(w, ARCA_GGUF_STRING, 4)) == ARCA_OK)
		err = put_uint(w, n, 8);
	for (size_t i = 0; i < n && err == ARCA_OK; i++)
		err = put_str(w, v[i], strlen(v[i]));
	return err;
}

static unsigned elem_size(arca_gguf_vtype t)
{
	switch (t) {
	case ARCA_GGUF_U8: case ARCA_GGUF_I8: case ARCA_GGUF_BOOL: return 1;
	case ARCA_GGUF_U16: case ARCA_GGUF_I16: return 2;
	case ARCA_GGUF_U32: case ARCA_GGUF_I32: case ARCA_GGUF_F32: return 4;
	case ARCA_GGUF_U64: case ARCA_GGUF_I64: case ARCA_GGUF_F64: return 8;
	default: return 0;
	}
}

arca_err arca_gguf_add_arr(arca_gguf_writer *w, const char *key, arca_gguf_vtype elem,
	const void *data, size_t n)
{
	unsigned size = elem_size(elem);
	if (!size)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: %s: not a numeric element type",
			key);
	arca_err err = begin_kv(w, key, ARCA_GGUF_ARRAY);
	if (err == ARCA_OK && (err = put_uint(w, elem, 4)) == ARCA_OK &&
	    (err = put_uint(w, n, 8)) == ARCA_OK)
		err = put(w, data, n * size); /* this machine is little-endian, as GGUF */
	return err;
}

arca_err arca_gguf_add_kv_copy(arca_gguf_writer *w, const arca_gguf_kv *kv)
{
	char key[1024];
	if (kv->key.len >= sizeof(key))
		return arca_error_set(ARCA_EINVALID, "GGUF writer: key of %llu bytes is too long",
			(unsigned long long)kv->key.len);
	memcpy(key, kv->key.ptr, kv->key.len);
	key[kv->key.len] = '\0';
	arca_err err = begin_kv(w, key, kv->type);
	if (err < 0)
		return err;
	if (kv->type == ARCA_GGUF_STRING)
		return put_str(w, kv->v.s.ptr, kv->v.s.len);
	if (kv->type != ARCA_GGUF_ARRAY) {
		uint64_t raw = kv->v.u;
		if (kv->type == ARCA_GGUF_F32) {
			float f = (float)kv->v.f;
			uint32_t bits;
			memcpy(&bits, &f, 4);
			raw = bits;
		} else if (kv->type == ARCA_GGUF_F64) {
			memcpy(&raw, &kv->v.f, 8);
		}
		return put_uint(w, raw, elem_size(kv->type));
	}
	if ((err = put_uint(w, kv->elem_type, 4)) < 0 || (err = put_uint(w, kv->n_elems, 8)) < 0)
		return err;
	if (kv->elem_type != ARCA_GGUF_STRING)
		return put(w, kv->elems, kv->n_elems * elem_size(kv->elem_type));
	for (uint64_t i = 0; i < kv->n_elems && err == ARCA_OK; i++)
		err = put_str(w, kv->strs[i].ptr, kv->strs[i].len);
	return err;
}

arca_err arca_gguf_add_tensor(arca_gguf_writer *w, const char *name, uint32_t n_dims,
	const uint64_t *ne, int type)
{
	if (w->header_written)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: tensor %s added after the header",
			name);
	size_t len = strlen(name);
	if (len == 0 || len > ARCA_GGUF_NAME_MAX)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: tensor name '%s' is not 1 to %d bytes",
			name, ARCA_GGUF_NAME_MAX);
	if (n_dims < 1 || n_dims > ARCA_GGUF_MAX_DIMS)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: tensor %s has %u dimensions", name,
			n_dims);
	for (size_t i = 0; i < w->n_tensors; i++)
		if (!strcmp(w->tensors[i].name, name))
			return arca_error_set(ARCA_EINVALID, "GGUF writer: tensor %s added twice", name);
	const arca_ggml_type_info *info = arca_ggml_type_info_get(type);
	if (!info || !info->block_size || ne[0] % info->block_size)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: tensor %s: type %d does not fit "
			"ne[0] = %llu", name, type, (unsigned long long)ne[0]);
	tensor_info t = { .n_dims = n_dims, .type = type };
	memcpy(t.name, name, len + 1);
	uint64_t bytes = ne[0] / info->block_size * info->type_size;
	for (uint32_t d = 0; d < ARCA_GGUF_MAX_DIMS; d++) {
		t.ne[d] = d < n_dims ? ne[d] : 1;
		if (d > 0)
			bytes *= t.ne[d];
	}
	t.nbytes = bytes;
	tensor_info *grown = realloc(w->tensors, (w->n_tensors + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "GGUF writer: out of memory");
	w->tensors = grown;
	grown[w->n_tensors++] = t;
	return ARCA_OK;
}

static uint64_t pad(uint64_t n, uint32_t a)
{
	return (n + a - 1) / a * a;
}

static uint64_t header_size(const arca_gguf_writer *w)
{
	uint64_t n = 4 + 4 + 8 + 8 + w->kv_len;
	for (size_t i = 0; i < w->n_tensors; i++)
		n += 8 + strlen(w->tensors[i].name) + 4 + 8 * w->tensors[i].n_dims + 4 + 8;
	return n;
}

uint64_t arca_gguf_writer_file_size(const arca_gguf_writer *w)
{
	uint64_t n = pad(header_size(w), w->alignment);
	for (size_t i = 0; i < w->n_tensors; i++)
		n += pad(w->tensors[i].nbytes, w->alignment);
	return n;
}

size_t arca_gguf_writer_tensor_count(const arca_gguf_writer *w)
{
	return w->n_tensors;
}

uint64_t arca_gguf_writer_tensor_bytes(const arca_gguf_writer *w, size_t index)
{
	return index < w->n_tensors ? w->tensors[index].nbytes : 0;
}

static arca_err sink_uint(arca_sink_fn sink, void *ctx, uint64_t v, unsigned n)
{
	unsigned char b[8];
	for (unsigned i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return sink(ctx, b, n);
}

static arca_err sink_zeros(arca_sink_fn sink, void *ctx, uint64_t n)
{
	static const unsigned char zeros[256];
	arca_err err = ARCA_OK;
	while (n > 0 && err == ARCA_OK) {
		size_t k = n < sizeof(zeros) ? (size_t)n : sizeof(zeros);
		err = sink(ctx, zeros, k);
		n -= k;
	}
	return err;
}

arca_err arca_gguf_write_header(arca_gguf_writer *w, arca_sink_fn sink, void *ctx)
{
	if (w->header_written)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: header written twice");
	uint64_t offset = 0;
	for (size_t i = 0; i < w->n_tensors; i++) {
		w->tensors[i].offset = offset;
		offset += pad(w->tensors[i].nbytes, w->alignment);
	}
	arca_err err = sink(ctx, "GGUF", 4);
	if (err == ARCA_OK)
		err = sink_uint(sink, ctx, 3, 4);
	if (err == ARCA_OK)
		err = sink_uint(sink, ctx, w->n_tensors, 8);
	if (err == ARCA_OK)
		err = sink_uint(sink, ctx, w->n_keys, 8);
	if (err == ARCA_OK && w->kv_len)
		err = sink(ctx, w->kv, w->kv_len);
	for (size_t i = 0; i < w->n_tensors && err == ARCA_OK; i++) {
		const tensor_info *t = &w->tensors[i];
		size_t len = strlen(t->name);
		if ((err = sink_uint(sink, ctx, len, 8)) < 0 || (err = sink(ctx, t->name, len)) < 0 ||
		    (err = sink_uint(sink, ctx, t->n_dims, 4)) < 0)
			break;
		for (uint32_t d = 0; d < t->n_dims && err == ARCA_OK; d++)
			err = sink_uint(sink, ctx, t->ne[d], 8);
		if (err == ARCA_OK && (err = sink_uint(sink, ctx, (uint32_t)t->type, 4)) == ARCA_OK)
			err = sink_uint(sink, ctx, t->offset, 8);
	}
	uint64_t size = header_size(w);
	if (err == ARCA_OK)
		err = sink_zeros(sink, ctx, pad(size, w->alignment) - size);
	if (err == ARCA_OK) {
		w->header_written = 1;
		w->current = w->n_tensors;
	}
	return err;
}

arca_err arca_gguf_tensor_begin(arca_gguf_writer *w, size_t index)
{
	if (!w->header_written || index != w->next || w->current != w->n_tensors)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: tensor %zu out of order", index);
	w->current = index;
	w->current_done = 0;
	return ARCA_OK;
}

arca_err arca_gguf_tensor_write(arca_gguf_writer *w, arca_sink_fn sink, void *ctx,
	const void *data, uint64_t len)
{
	if (w->current >= w->n_tensors)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: no tensor begun");
	const tensor_info *t = &w->tensors[w->current];
	if (w->current_done + len > t->nbytes)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: tensor %s: more than its %llu bytes",
			t->name, (unsigned long long)t->nbytes);
	w->current_done += len;
	return sink(ctx, data, (size_t)len);
}

arca_err arca_gguf_tensor_end(arca_gguf_writer *w, arca_sink_fn sink, void *ctx)
{
	if (w->current >= w->n_tensors)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: no tensor begun");
	const tensor_info *t = &w->tensors[w->current];
	if (w->current_done != t->nbytes)
		return arca_error_set(ARCA_EINVALID, "GGUF writer: tensor %s got %llu of its %llu bytes",
			t->name, (unsigned long long)w->current_done, (unsigned long long)t->nbytes);
	arca_err err = sink_zeros(sink, ctx, pad(t->nbytes, w->alignment) - t->nbytes);
	if (err == ARCA_OK) {
		w->current = w->n_tensors;
		w->next++;
	}
	return err;
}

arca_err arca_gguf_write_tensor_data(arca_gguf_writer *w, arca_sink_fn sink, void *ctx,
	size_t index, const void *data, uint64_t len)
{
	arca_err err = arca_gguf_tensor_begin(w, index);
	if (err == ARCA_OK)
		err = arca_gguf_tensor_write(w, sink, ctx, data, len);
	if (err == ARCA_OK)
		err = arca_gguf_tensor_end(w, sink, ctx);
	return err;
}
