/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/runtime.h — running a GGUF on the CPU: a model bound to the tensors of a mapped GGUF
 * (zero copy; the caller keeps the GGUF and its mapping alive), and sessions that feed it
 * tokens and read back logits, with a KV cache and a thread pool of their own.
 *
 * The forward pass computes what llama.cpp computes for the architecture (formats
 * reference §9): RMSNorm, RoPE in the architecture's style (with linear, YaRN or llama3
 * scaling), grouped-query attention or DeepSeek's multi-head latent attention, SwiGLU,
 * mixtures of experts, tied embeddings, Qwen3's per-head q/k norms, Qwen2's biases, GLM-4's
 * post norms. Which tensors a
 * model needs comes from the converter's architecture tables (arca/arch.h). Activations
 * are quantized for quantized weights as llama.cpp's CPU backend does. A prompt is
 * evaluated as a batch (matrix × matrix), a generated token alone (matrix × vector).
 */
#ifndef ARCA_RUNTIME_H
#define ARCA_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"
#include "arca/gguf.h"
#include "arca/quant.h"

typedef struct {
	char arch[32];
	/* head_dim: the key width per kv head (MLA: the latent plus the rope key) */
	uint32_t n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim, n_vocab, n_ctx_train;
	uint32_t n_rot;            /* RoPE dimensions per head */
	uint32_t n_expert, n_expert_used, n_ff_exp; /* mixture of experts (0 when dense) */
	float rms_eps, rope_base;
	float rope_freq_scale;     /* 1 / linear or YaRN scaling factor; 1 without scaling */
	int rope_neox;             /* 1: pairs (i, i + n/2); 0: adjacent pairs */
	int tied_embeddings;       /* no output.weight: logits use token_embd */
	uint64_t weight_bytes;     /* bytes of every weight a decoded token reads */
	uint64_t n_params;
	char weight_types[128];    /* "Q4_K×144, Q6_K×25, F32×49" */
} arca_model_info;

typedef struct arca_model arca_model;

/* Binds a model to an opened GGUF. Every tensor the architecture needs must be there with
 * the right shape and a supported type; anything else is an error naming the tensor.
 * `what` names the file in errors. */
arca_err arca_model_load(arca_model **out, const arca_gguf *g, const char *what);
void arca_model_free(arca_model *m);
const arca_model_info *arca_model_get_info(const arca_model *m);

typedef struct arca_session arca_session;

/* n_ctx 0: the model's training context, at most 4096. n_threads <= 0: all cores. The KV
 * cache is F32, the exact one the float64 reference checks (ARCA_SESSION_OPTS_INIT's default
 * is F16; arca_session_new_opts chooses). */
arca_err arca_session_new(arca_session **out, const arca_model *m, uint32_t n_ctx,
	int n_threads);

/* How the KV cache stores keys and values, as llama.cpp's --cache-type-k/-v offer: F32
 * (exact, what the float64 reference is checked against), F16 (the default, as llama.cpp's;
 * half the memory, and the fastest attention), Q8_0 (blocks of 32 int8 with an fp16 scale:
 * 34 bytes per 32, a little over a quarter of F32; needs head widths that are multiples of
 * 32). Values are
 * ggml type ids (ARCA_GGML_F32, ARCA_GGML_F16, ARCA_GGML_Q8_0). */
typedef struct {
	uint32_t n_ctx;           /* 0: as arca_session_new */
	int n_threads;            /* <= 0: all cores */
	int cache_type;           /* ARCA_GGML_F16 (default), ARCA_GGML_F32 or ARCA_GGML_Q8_0 */
	int device;               /* -1: the CPU only; k: CUDA device k runs the first
	                           * gpu_layers layers (its KV cache is F16: cache_type must
	                           * be F16) */
	int32_t gpu_layers;       /* -1: every layer and the output */
} arca_session_opts;
#define ARCA_SESSION_OPTS_INIT { 0, 0, ARCA_GGML_F16, -1, -1 }

/* ARCA_EINVALID for another cache type, or Q8_0 with a head width not a multiple of 32;
 * with a device, ARCA_EUNSUPPORTED in a build without the GPU backend, ARCA_EIO when no
 * GPU is usable, ARCA_ENOMEM when the layers asked for do not fit on it. */
arca_err arca_session_new_opts(arca_session **out, const arca_model *m,
	const arca_session_opts *opts);

/* "f32", "f16", "q8_0" <-> the ggml type id; ARCA_EINVALID naming the text otherwise. */
arca_err arca_cache_type_parse(int *out, const char *name);
const char *arca_cache_type_name(int cache_type);   /* NULL for a type no cache has */
int arca_session_cache_type(const arca_session *s);
/* Bytes of KV cache one position takes over all layers: n_layer × (row(k_dim) + row(v_dim)),
 * a row of n elements being 4n bytes (F32), 2n (F16) or 34·n/32 (Q8_0). */
uint64_t arca_session_kv_bytes_per_token(const arca_session *s);
/* Bytes of KV cache the session holds in host memory for its whole context: the layers that
 * run on the CPU (with a GPU, the layers it runs keep theirs in device memory). */
uint64_t arca_session_kv_host_bytes(const arca_session *s);
void arca_session_free(arca_session *s);

/* Feeds n tokens at the next positions. *logits points at n_vocab floats for the last
 * token, or, with all_logits, n × n_vocab (token-major); valid until the next call.
 * A token beyond the context, or an id outside the vocabulary, is ARCA_EINVALID and
 * leaves the session as it was. */
arca_err arca_session_eval(arca_session *s, const int32_t *ids, size_t n, int all_logits,
	const float **logits);

uint32_t arca_session_n_past(const arca_session *s);
uint32_t arca_session_n_ctx(const arca_session *s);
int arca_session_threads(const arca_session *s);
const arca_model_info *arca_session_model_info(const arca_session *s);
/* Forgets positions from n on (0: all). */
void arca_session_truncate(arca_session *s, uint32_t n);
/* The GPU running the session's first layers: its name and how many layers it holds
 * (NULL and 0 on the CPU). */
const char *arca_session_device_name(const arca_session *s);
uint32_t arca_session_gpu_layers(const arca_session *s);
/* How a GPU session multiplies a prompt's dense weights, in words ("cuBLAS 13.1.0", or
 * "tile kernels (cuBLAS not used: WHY)"); NULL on the CPU. */
const char *arca_session_gpu_products(const arca_session *s);
/* The kernels a session's logits come from: arca_runtime_kernels() on the CPU, "cuda"
 * (with cuBLAS for prompts: "cuda+cublas") and the GPU's name otherwise (validation
 * digests are compared only between equal kernels). */
const char *arca_session_kernels(const arca_session *s);
/* "cuda" when this build has the GPU backend, NULL otherwise. */
const char *arca_runtime_gpu_backend(void);
/* The kernels in use, for reports ("avx512-vnni"). */
const char *arca_runtime_kernels(void);

#endif
