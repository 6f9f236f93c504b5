/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/gguf.h — reading and writing GGUF v3, the file llama.cpp loads.
 *
 *   magic "GGUF" | u32 version (3; 2 read too) | i64 n_tensors | i64 n_kv
 *   kv[n_kv]:   string key | i32 type | value
 *   tinfo[n]:   string name | u32 n_dims | i64 ne[n_dims] | i32 ggml type | u64 offset
 *   zero padding to `general.alignment` (u32 power of two, default 32)
 *   data: each tensor's bytes in tinfo order, each padded with zeros to the alignment
 *
 * string = u64 length + bytes (no NUL). Value types: 0 u8, 1 i8, 2 u16, 3 i16, 4 u32,
 * 5 i32, 6 f32, 7 bool, 8 string, 9 array (i32 elem type, u64 count, elements; no arrays
 * of arrays), 10 u64, 11 i64, 12 f64. ne[0] is the innermost dimension (the reverse of a
 * safetensors shape).
 *
 * The reader checks every count, length and offset against the bytes that remain before
 * it allocates or reads (strings ≤ 2^30 bytes, arrays ≤ 2^30 elements, keys non-empty
 * and unique, tensor names ≤ 63 bytes and unique, ≤ 4 dims, known live types, ne[0] whole
 * blocks, offsets exactly where llama.cpp expects them, data inside the file). Getters check
 * the value type and return ARCA_EINVALID instead of asserting. Data is not copied: the
 * buffer (an mmap'ed blob) must outlive the handle.
 */
#ifndef ARCA_GGUF_H
#define ARCA_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"
#include "arca/safetensors.h" /* arca_sink_fn */

typedef enum {
	ARCA_GGUF_U8 = 0, ARCA_GGUF_I8 = 1, ARCA_GGUF_U16 = 2, ARCA_GGUF_I16 = 3,
	ARCA_GGUF_U32 = 4, ARCA_GGUF_I32 = 5, ARCA_GGUF_F32 = 6, ARCA_GGUF_BOOL = 7,
	ARCA_GGUF_STRING = 8, ARCA_GGUF_ARRAY = 9, ARCA_GGUF_U64 = 10, ARCA_GGUF_I64 = 11,
	ARCA_GGUF_F64 = 12,
	ARCA_GGUF_VTYPE_COUNT
} arca_gguf_vtype;

#define ARCA_GGUF_MAX_DIMS 4
#define ARCA_GGUF_NAME_MAX 63

typedef struct {
	const char *ptr; /* not NUL-terminated */
	uint64_t len;
} arca_gguf_str;

typedef struct {
	arca_gguf_str key;
	arca_gguf_vtype type;
	/* scalar value (integers widened, floats as double, bool 0/1, strings as a view) */
	union {
		uint64_t u;
		int64_t i;
		double f;
		arca_gguf_str s;
	} v;
	/* arrays */
	arca_gguf_vtype elem_type;
	uint64_t n_elems;
	const unsigned char *elems;  /* packed numeric elements */
	arca_gguf_str *strs;         /* string elements (owned by the reader) */
} arca_gguf_kv;

typedef struct {
	char name[ARCA_GGUF_NAME_MAX + 1];
	uint32_t n_dims;
	uint64_t ne[ARCA_GGUF_MAX_DIMS]; /* unused dims are 1 */
	int type;                        /* ggml type id (arca/quant.h) */
	uint64_t offset;                 /* from the start of the data section */
	uint64_t nbytes;
} arca_gguf_tensor;

typedef struct arca_gguf arca_gguf;

arca_err arca_gguf_open_buffer(arca_gguf **out, const void *data, size_t len, const char *what);
void arca_gguf_free(arca_gguf *g);

uint32_t arca_gguf_version(const arca_gguf *g);
uint32_t arca_gguf_alignment(const arca_gguf *g);
uint64_t arca_gguf_data_offset(const arca_gguf *g);
size_t arca_gguf_kv_count(const arca_gguf *g);
const arca_gguf_kv *arca_gguf_kv_at(const arca_gguf *g, size_t i);
const arca_gguf_kv *arca_gguf_find_kv(const arca_gguf *g, const char *key);
size_t arca_gguf_tensor_count(const arca_gguf *g);
const arca_gguf_tensor *arca_gguf_tensor_at(const arca_gguf *g, size_t i);
const arca_gguf_tensor *arca_gguf_find_tensor(const arca_gguf *g, const char *name);
const void *arca_gguf_tensor_data(const arca_gguf *g, const arca_gguf_tensor *t);

/* Typed getters: ARCA_ENOTFOUND when the key is absent, ARCA_EINVALID when its type is not
 * the one asked for (unsigned getters also accept narrower unsigned types). */
arca_err arca_gguf_get_u32(const arca_gguf *g, const char *key, uint32_t *out);
arca_err arca_gguf_get_u64(const arca_gguf *g, const char *key, uint64_t *out);
arca_err arca_gguf_get_f32(const arca_gguf *g, const char *key, float *out);
arca_err arca_gguf_get_bool(const arca_gguf *g, const char *key, int *out);
/* A string value, malloc'ed and NUL-terminated (refused if it contains a NUL). */
arca_err arca_gguf_get_str(const arca_gguf *g, const char *key, char **out);
/* An array of the given element type. */
arca_err arca_gguf_get_arr(const arca_gguf *g, const char *key, arca_gguf_vtype elem,
	const arca_gguf_kv **out);

const char *arca_gguf_vtype_name(arca_gguf_vtype t);

/* ------------------------------------------------------------------ writing */

typedef struct arca_gguf_writer arca_gguf_writer;

arca_err arca_gguf_writer_new(arca_gguf_writer **out, uint32_t alignment);
void arca_gguf_writer_free(arca_gguf_writer *w);

/* Key-value pairs, in the order they are added. Keys must be new. */
arca_err arca_gguf_add_u32(arca_gguf_writer *w, const char *key, uint32_t v);
arca_err arca_gguf_add_i32(arca_gguf_writer *w, const char *key, int32_t v);
arca_err arca_gguf_add_u64(arca_gguf_writer *w, const char *key, uint64_t v);
arca_err arca_gguf_add_f32(arca_gguf_writer *w, const char *key, float v);
arca_err arca_gguf_add_bool(arca_gguf_writer *w, const char *key, int v);
arca_err arca_gguf_add_str(arca_gguf_writer *w, const char *key, const char *v);
arca_err arca_gguf_add_strn(arca_gguf_writer *w, const char *key, const char *v, size_t len);
arca_err arca_gguf_add_arr_str(arca_gguf_writer *w, const char *key, const char *const *v,
	size_t n);
/* Numeric arrays: elem is the element type, data is packed little-endian. */
arca_err arca_gguf_add_arr(arca_gguf_writer *w, const char *key, arca_gguf_vtype elem,
	const void *data, size_t n);
/* Copies a pair read from another file (requantization keeps metadata as it was). */
arca_err arca_gguf_add_kv_copy(arca_gguf_writer *w, const arca_gguf_kv *kv);
int arca_gguf_writer_has_key(const arca_gguf_writer *w, const char *key);

/* Tensors, in file order; ne as GGUF orders it. */
arca_err arca_gguf_add_tensor(arca_gguf_writer *w, const char *name, uint32_t n_dims,
	const uint64_t *ne, int type);

/* Writes everything up to the data section. Then each tensor's bytes go through
 * arca_gguf_write_tensor_data in the order they were added (it adds the padding). */
arca_err arca_gguf_write_header(arca_gguf_writer *w, arca_sink_fn sink, void *ctx);
arca_err arca_gguf_write_tensor_data(arca_gguf_writer *w, arca_sink_fn sink, void *ctx,
	size_t index, const void *data, uint64_t len);
/* Streaming form: begin, any number of writes adding up to the tensor's size, end. */
arca_err arca_gguf_tensor_begin(arca_gguf_writer *w, size_t index);
arca_err arca_gguf_tensor_write(arca_gguf_writer *w, arca_sink_fn sink, void *ctx,
	const void *data, uint64_t len);
arca_err arca_gguf_tensor_end(arca_gguf_writer *w, arca_sink_fn sink, void *ctx);

/* Size of the whole file once written. */
uint64_t arca_gguf_writer_file_size(const arca_gguf_writer *w);
size_t arca_gguf_writer_tensor_count(const arca_gguf_writer *w);
uint64_t arca_gguf_writer_tensor_bytes(const arca_gguf_writer *w, size_t index);

#endif
