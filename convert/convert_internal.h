/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/convert_internal.h — what the conversion files share: a Hugging Face checkpoint
 * read from the store (config, tokenizer files, safetensors shards mapped from their blobs,
 * rows decoded to float32 whatever the source dtype), the store sink, and recording the
 * result as an artifact with its lineage.
 */
#ifndef ARCA_CONVERT_INTERNAL_H
#define ARCA_CONVERT_INTERNAL_H

#include <jansson.h>

#include "arca/arch.h"
#include "arca/convert.h"
#include "arca/gguf.h"
#include "arca/safetensors.h"

typedef struct {
	char *path;                     /* file in the snapshot */
	char sha256[ARCA_SHA256_HEX];
	arca_blob_map *map;
	arca_safetensors *st;
} arca_convert__shard;

typedef struct {
	const arca_st_tensor *t;
	const arca_convert__shard *shard;
} arca_convert__ref;

typedef struct {
	arca_store *store;
	const arca_snapshot *snap;
	arca_file *files;               /* the snapshot's files */
	size_t n_files;
	json_t *config;
	arca_convert__shard *shards;
	size_t n_shards;
	arca_convert__ref *index;       /* every tensor, sorted by name */
	size_t n_index;
	int fp8_block[2];               /* weight_block_size of FP8 checkpoints (rows, cols) */
} arca_convert__source;

/* Opens the snapshot's config.json and safetensors (model.safetensors, or the shards of
 * model.safetensors.index.json, whose weight_map must name exactly the tensors found). */
arca_err arca_convert__source_open(arca_convert__source *src, arca_store *store,
	const arca_snapshot *snap);
void arca_convert__source_close(arca_convert__source *src);

/* A tensor by name, or NULL. */
const arca_convert__ref *arca_convert__source_find(const arca_convert__source *src,
	const char *name);

/* A snapshot file's bytes (NUL-terminated copy, at most max bytes); ARCA_ENOTFOUND when
 * the snapshot has no such file. */
arca_err arca_convert__source_read_file(const arca_convert__source *src, const char *path,
	size_t max, char **out, size_t *len_out);

/* Rows [row0, row0 + n) of a tensor (rows = all dimensions but the last; a 1-D tensor is one
 * row) decoded to float32. FP8 weights are scaled by their `<name>_scale_inv` blocks.
 * Non-finite values are ARCA_EINVALID naming the tensor and row. */
arca_err arca_convert__read_rows(const arca_convert__source *src, const arca_convert__ref *ref,
	uint64_t row0, uint64_t n, float *dst);

/* Row geometry of a safetensors tensor. */
uint64_t arca_convert__row_len(const arca_st_tensor *t);
uint64_t arca_convert__n_rows(const arca_st_tensor *t);

/* A sink writing into a blob writer. */
arca_err arca_convert__blob_sink(void *ctx, const void *buf, size_t len);

/* Records an artifact: kind, name, params, every input (path → blob) and the outputs, in
 * one catalog transaction. */
typedef struct {
	const char *path;
	const char *sha256;
} arca_convert__file;

arca_err arca_convert__record(int64_t *artifact_out, arca_store *store,
	const arca_snapshot *snap, const char *kind, const char *name, json_t *params,
	const arca_convert__file *inputs, size_t n_inputs, const arca_convert__file *outputs,
	size_t n_outputs);

/* An existing artifact with the same name and parameters whose outputs are all present. */
int arca_convert__find_same(arca_convert_result *out, arca_store *store,
	const arca_snapshot *snap, const char *name, json_t *params);

/* Maps a snapshot's GGUF variant and parses it; close with arca_convert__close_variant. */
typedef struct {
	arca_blob_map *map;
	struct arca_gguf *gguf;
	char sha256[ARCA_SHA256_HEX];
	int64_t artifact;
	char path[300];
} arca_convert__variant;

arca_err arca_convert__open_variant(arca_convert__variant *v, arca_store *store,
	const arca_snapshot *snap, const char *name);
void arca_convert__close_variant(arca_convert__variant *v);

/* A GGUF's tensors under their Hugging Face names (convert/gguf_names.c): the architecture
 * table read backwards. Shapes in spec are PyTorch order; spec.dtype is what gguf_to_hf
 * writes (F16/BF16 kept, everything else F32). */
typedef struct {
	char hf[200];
	const arca_arch_tensor *rule;
	const arca_gguf_tensor *t;  /* the GGUF tensor (attn_k_b for kv_b, attn_q for wqkv) */
	const arca_gguf_tensor *t2; /* attn_v_b for kv_b, attn_k for wqkv */
	const arca_gguf_tensor *t3; /* attn_v for wqkv */
	int expert;                         /* STACK: which slice */
	arca_st_spec spec;
} arca_convert__hf_tensor;

typedef struct {
	const arca_gguf *g;
	const arca_arch *arch;
	uint32_t n_head, n_head_kv, nope, v_head, kv_lora;
	arca_convert__hf_tensor *ts;    /* sorted by hf name */
	size_t n;
} arca_convert__gguf_names;

/* Maps every tensor of g (which must outlive b) to its HF name; *arch_name (malloc'ed,
 * the caller's, even on error) is general.architecture. ARCA_EUNSUPPORTED for an
 * architecture or tensor the tables do not know. */
arca_err arca_convert__gguf_names_open(arca_convert__gguf_names *b, const arca_gguf *g,
	char **arch_name);
void arca_convert__gguf_names_free(arca_convert__gguf_names *b);
/* Rows [r0, r0 + n) of h in HF layout as float32; scratch holds
 * arca_convert__gguf_names_scratch(b, h) floats. Thread-safe (reads only). */
arca_err arca_convert__gguf_names_rows(const arca_convert__gguf_names *b,
	const arca_convert__hf_tensor *h, uint64_t r0, uint64_t n, float *dst, float *scratch);
uint64_t arca_convert__gguf_names_scratch(const arca_convert__gguf_names *b,
	const arca_convert__hf_tensor *h);
/* The GGUF row that holds HF row r of a 2-D tensor (r itself unless Q/K-permuted). */
uint64_t arca_convert__gguf_names_stored_row(const arca_convert__gguf_names *b,
	const arca_convert__hf_tensor *h, uint64_t r);

/* The u32 "<arch>.<key>" of a GGUF, or 0 when absent or of another type. */
uint32_t arca_convert__arch_u32(const struct arca_gguf *g, const char *arch, const char *key);

/* Checks a block of floats are finite; names the tensor and row on failure. */
arca_err arca_convert__check_finite(const float *v, uint64_t n, uint64_t row_len,
	const char *tensor, uint64_t row0);

#endif
