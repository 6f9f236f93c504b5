/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/safetensors.h — reading and writing safetensors files.
 *
 * Layout: u64 LE N | N bytes of UTF-8 JSON header | data. The header maps tensor names to
 * {"dtype", "shape", "data_offsets": [begin, end)} relative to the data start, plus an
 * optional "__metadata__" object of strings. Writers pad the header with spaces to a
 * multiple of 8.
 *
 * The reader is strict and bounded (every rule of the reference reader): header at most
 * 100 MB and inside the file, first byte '{', no duplicate keys, known dtypes, integer
 * shapes and offsets (never doubles), prod(shape) × bits computed with overflow checks and
 * equal to end − begin, tensors contiguous from 0 with no holes or overlaps, no trailing
 * bytes. Errors are ARCA_ECORRUPT naming the file and tensor. Data is not copied: tensors
 * point into the caller's buffer (an mmap'ed blob), which must outlive the handle.
 */
#ifndef ARCA_SAFETENSORS_H
#define ARCA_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"

typedef enum {
	ARCA_ST_BOOL, ARCA_ST_U8, ARCA_ST_I8, ARCA_ST_F8_E5M2, ARCA_ST_F8_E4M3, ARCA_ST_F8_E8M0,
	ARCA_ST_F8_E4M3FNUZ, ARCA_ST_F8_E5M2FNUZ, ARCA_ST_I16, ARCA_ST_U16, ARCA_ST_F16,
	ARCA_ST_BF16, ARCA_ST_I32, ARCA_ST_U32, ARCA_ST_F32, ARCA_ST_C64, ARCA_ST_F64, ARCA_ST_I64,
	ARCA_ST_U64, ARCA_ST_F4, ARCA_ST_F6_E2M3, ARCA_ST_F6_E3M2,
	ARCA_ST_DTYPE_COUNT
} arca_st_dtype;

#define ARCA_ST_MAX_DIMS 8

typedef struct {
	char *name;
	arca_st_dtype dtype;
	uint32_t n_dims;
	uint64_t shape[ARCA_ST_MAX_DIMS]; /* PyTorch order: shape[0] is the outermost */
	uint64_t n_elements;
	uint64_t begin, end;              /* byte offsets relative to the data section */
} arca_st_tensor;

typedef struct arca_safetensors arca_safetensors;

/* Parses a safetensors image of len bytes; `what` names it in errors (a path or blob). */
arca_err arca_safetensors_open_buffer(arca_safetensors **out, const void *data, size_t len,
	const char *what);
void arca_safetensors_free(arca_safetensors *st);

size_t arca_safetensors_count(const arca_safetensors *st);
/* Tensors in file order (by offset). Borrowed. */
const arca_st_tensor *arca_safetensors_tensor(const arca_safetensors *st, size_t i);
const arca_st_tensor *arca_safetensors_find(const arca_safetensors *st, const char *name);
/* The tensor's bytes inside the buffer. */
const void *arca_safetensors_data(const arca_safetensors *st, const arca_st_tensor *t);
/* "__metadata__" as compact JSON, or NULL. Borrowed. */
const char *arca_safetensors_metadata(const arca_safetensors *st);
/* Bytes of the JSON header (after the 8-byte length). */
uint64_t arca_safetensors_header_size(const arca_safetensors *st);

const char *arca_st_dtype_name(arca_st_dtype dtype);
/* Bits per element (BOOL and the 8-bit floats are 8). */
unsigned arca_st_dtype_bits(arca_st_dtype dtype);
/* ARCA_EINVALID for names safetensors does not define. */
arca_err arca_st_dtype_from_name(arca_st_dtype *out, const char *name);

/* ------------------------------------------------------------------ writing */

/* Where writers put bytes: a blob writer, an atomic file, a buffer in tests. */
typedef arca_err (*arca_sink_fn)(void *ctx, const void *buf, size_t len);

typedef struct {
	const char *name;
	arca_st_dtype dtype;
	uint32_t n_dims;
	uint64_t shape[ARCA_ST_MAX_DIMS];
} arca_st_spec;

/* Writes the 8-byte length and the header for tensors that will follow in the given order,
 * contiguous, each exactly its size; metadata_json is an object of strings or NULL.
 * *data_bytes_out = the number of data bytes the caller must write next. */
arca_err arca_safetensors_write_header(arca_sink_fn sink, void *ctx, const arca_st_spec *specs,
	size_t n, const char *metadata_json, uint64_t *data_bytes_out);

#endif
