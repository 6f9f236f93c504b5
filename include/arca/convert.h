/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/convert.h — converting stored models: a Hugging Face snapshot to GGUF (any listed
 * type, or a llama-quantize mix), a GGUF variant to another type, and a GGUF back to a
 * Hugging Face folder (safetensors, dequantized).
 *
 * Results are derived artifacts in the store, recorded with their lineage (the input blobs
 * by path, the parameters, arca's version) and named by their type: `REF:q4_k_m`. Output
 * is streamed into the store's blob writer (tmp + fsync + rename); no whole-model buffer
 * exists. Conversion is deterministic: the same inputs and parameters give the same bytes,
 * and a conversion already in the store is reused. NaN or Inf in a source tensor is an
 * error naming the tensor. The caller holds the store lock (shared). Nothing here prints.
 */
#ifndef ARCA_CONVERT_H
#define ARCA_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "arca/catalog.h"
#include "arca/digest.h"
#include "arca/error.h"
#include "arca/store.h"

/* What to produce. A type name (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k,
 * q4_k, q5_k, q6_k, iq4_nl, iq4_xs) puts every 2-D weight in that type, as llama-quantize
 * --pure does (norms, biases and routers stay F32; rows that do not fit the block size fall
 * back as llama-quantize does). A mix (q4_k_m, q4_k_s, q5_k_m, q5_k_s) chooses per tensor
 * the way llama-quantize does. */
typedef struct {
	const char *name;  /* canonical, lowercase */
	int default_type;  /* ggml type */
	int is_mix;
	uint32_t ftype;    /* general.file_type */
} arca_quant_plan;

arca_err arca_quant_plan_parse(arca_quant_plan *out, const char *name);

/* llama.cpp's name of a general.file_type ("Q4_K_M", "F16"); NULL for one it does not know. */
const char *arca_quant_file_type_name(uint32_t ftype);

/* The context llama-quantize's per-tensor rules look at. */
typedef struct {
	uint32_t n_layers;
	uint32_t n_expert;
	uint32_t n_attn_v;     /* tensors counted as attn_v */
	int has_output;        /* the file has output.weight (not tied) */
	int is_70b;            /* llama.cpp's "70B" model type */
} arca_quant_context;

/* The type a tensor gets under a plan. `source_type` is what it is now; tensors that are
 * never quantized keep it (or become F32 when converting from Hugging Face). */
int arca_quant_plan_type(const arca_quant_plan *plan, const arca_quant_context *ctx,
	const char *name, uint32_t n_dims, uint64_t ne0, int source_type, int *attn_v_index);

typedef int (*arca_convert_progress_cb)(const char *tensor, uint64_t done, uint64_t total,
	void *payload);

typedef struct {
	const char *quant;        /* plan name; NULL: bf16 for BF16 checkpoints, else f16 */
	int threads;              /* 0: all cores */
	arca_convert_progress_cb progress;
	void *payload;
} arca_convert_opts;

typedef struct {
	int64_t artifact;
	char name[32];                  /* the variant name (plan) */
	char sha256[ARCA_SHA256_HEX];   /* the output GGUF (or model.safetensors) */
	uint64_t size;
	size_t n_tensors;
	uint64_t input_bytes;
	double seconds;
	int existed;                    /* the same conversion was already stored */
	char arch[32];
} arca_convert_result;

/* Hugging Face snapshot → GGUF artifact. */
arca_err arca_convert_snapshot_to_gguf(arca_convert_result *out, arca_store *store,
	const arca_snapshot *snap, const arca_convert_opts *opts);

/* GGUF artifact `variant` of a snapshot → another GGUF type (dequantize, quantize). */
arca_err arca_convert_requantize(arca_convert_result *out, arca_store *store,
	const arca_snapshot *snap, const char *variant, const arca_convert_opts *opts);

/* GGUF artifact → Hugging Face folder (config.json, model.safetensors, tokenizer files),
 * tensors dequantized to F32 (F16/BF16/F32 kept as they are), stored as an artifact whose
 * outputs are those files; `name` is the new variant's name (e.g. "hf-q8_0"). */
arca_err arca_convert_gguf_to_safetensors(arca_convert_result *out, arca_store *store,
	const arca_snapshot *snap, const char *variant, const char *name,
	const arca_convert_opts *opts);

/* Writes a copy of an artifact's outputs: the single output to `dest` as a file, or, with
 * as_folder, every output under the folder `dest` by its path (folders created). Blobs are
 * verified on the way out; an existing file is replaced atomically. */
arca_err arca_convert_export(arca_store *store, int64_t artifact, const char *dest,
	int as_folder);

/* The output blob of a GGUF variant ("q4_k_m") of a snapshot: ARCA_ENOTFOUND (listing the
 * variants there are) when it was never converted. */
arca_err arca_convert_find_variant(char sha256_out[ARCA_SHA256_HEX], int64_t *artifact_out,
	arca_store *store, const arca_snapshot *snap, const char *variant);

#endif
