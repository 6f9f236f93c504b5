/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/cuda/kernels.cuh — the GPU backend's steps as backend.cu calls them, each one or
 * a few kernel launches on a stream: weight × activation products (products.cu), the
 * element-wise steps (steps.cu), RoPE with the cache write and attention over the F16 KV
 * cache (attention.cu), and expert routing (moe.cu). Positions come from device memory
 * (`pos`: n_past), so a captured decode graph replays at any position. Nothing here
 * allocates or synchronizes.
 */
#ifndef ARCA_RUNTIME_CUDA_KERNELS_CUH
#define ARCA_RUNTIME_CUDA_KERNELS_CUH

#include "runtime/cuda/compat.cuh"

#include <stddef.h>
#include <stdint.h>

namespace arca_cuda {

/* y = W_z · x (+ bias) for matrices z < nz and tokens t < nb:
 *   W_z   = w + (index ? index[z] : z) · w_z bytes, rows row_bytes apart, n columns, m rows
 *   x     = x + (z / x_div) · x_z + t · x_stride   (floats)
 *   y     = y + z · y_z + t · y_stride               (floats)
 * Experts chosen on the device pass their ids as index (x_div: experts per token). With
 * bias, bias[row] is added to each result; with accumulate, results are added to y (a
 * residual) instead of stored. */
struct prod {
	const uint8_t *w;
	int type;
	size_t row_bytes, w_z;
	const int32_t *index;
	/* grouped (a prompt's experts): matrix z multiplies the rows list[off[z] ..
	 * off[z] + cnt[z]) — slots s, reading x row s / x_div (x_stride apart), writing y row s
	 * (y_stride apart); nb is the most any matrix gets */
	const int32_t *list, *off, *cnt;
	int n, m;
	const float *x;
	size_t x_stride, x_z;
	int x_div;
	float *y;
	size_t y_stride, y_z;
	int nb, nz;
	const float *bias;
	int accumulate;
};

/* 1 when products of this weight type run on the GPU; 1 when a grouped product of these
 * weights runs in tiles (else the caller multiplies token by token). */
int type_supported(int type);
int grouped_supported(int type, int n);
/* The product: matrix × vector kernels for one token (and where tiles do not fit),
 * tensor-core tiles otherwise. */
void product(cudaStream_t st, const prod &p);
/* One token's products with the same activations and weight type, in one launch (a decode
 * step's q, k and v): each of ps[0 .. n) as product() would (n <= 3, nb = nz = 1). With
 * glu, n is 2 — gate and up, m rows each, nz matrices each (a token's chosen experts:
 * index) — and ps[0].y receives silu(gate) · up instead. */
void product_set(cudaStream_t st, const prod *ps, int n, bool glu);

/* A prompt's dense products through cuBLAS (gemm.cu). blas_open loads it for stream st,
 * or returns NULL with the reason in why (not installed; ARCA_GPU_BLAS=off), *invalid set
 * when the reason is a malformed ARCA_GPU_BLAS. */
struct blas;
blas *blas_open(cudaStream_t st, char *why, size_t cap, bool *invalid);
void blas_free(blas *b);
const char *blas_name(const blas *b);   /* "cuBLAS 13.1.0" */
/* Scratch bytes the products of n_batch tokens with an m × n matrix of type need. */
size_t blas_scratch(int type, int n, int m, int n_batch);
/* Queues p through cuBLAS when it is one for it (one matrix, no expert lists, enough
 * tokens for its weight type, scratch enough) and returns true; false leaves p to
 * product(). A failed call is kept for blas_failed: its status (0: none) and message,
 * cleared by reading. */
bool blas_product(blas *b, cudaStream_t st, const prod &p, void *scratch, size_t scratch_bytes);
int blas_failed(blas *b, char *msg, size_t cap);

/* y[t] = x[t] / rms(x[t]) · w for rows of n floats (x and y stride apart; y may be x). */
void rmsnorm(cudaStream_t st, float *y, const float *x, const float *w, int n, size_t stride,
	int rows, float eps);
/* y[i] += x[i] over n floats. */
void add(cudaStream_t st, float *y, const float *x, size_t n);
/* y[t][i] += b[i] for rows of n. */
void add_bias(cudaStream_t st, float *y, const float *b, int n, int rows);
/* g[i] = silu(g[i]) · u[i]. */
void swiglu(cudaStream_t st, float *g, const float *u, size_t n);

/* Per token t < nb at position pos[0] + t: q/k norms (spans of q_span / k_span floats,
 * none when the weights are NULL), RoPE of every query and key head (the first n_rot of
 * head_dim; neox pairing or adjacent) with the cos/sin tables [n_ctx][n_rot/2], and the
 * token's key and value rows into the layer's F16 cache ([n_ctx][k_dim], [n_ctx][v_dim]). */
struct qkv_args {
	float *q, *k;
	const float *v;
	const float *q_norm, *k_norm;
	int q_span, k_span;
	int n_head, n_head_kv, head_dim, q_dim, k_dim, v_dim, n_rot, neox;
	const float *cos_t, *sin_t;
	__half *k_cache, *v_cache;
	float eps;
};
void qkv_rope(cudaStream_t st, const qkv_args &a, const int *pos, int nb);

/* DeepSeek's latent attention, per token: the latent k[0, kv_lora) normed, the shared rope
 * key at k[kv_lora ..] rotated; each head's rope query part (mla_q + h·qh + nope) rotated
 * into q + h·head_dim + kv_lora; the key row (latent and rope key) and the value row (the
 * latent) into the cache. */
struct mla_args {
	float *q, *k;
	const float *mla_q, *kv_norm;
	int n_head, kv_lora, nope, rope, head_dim, q_dim, k_dim, n_rot, neox;
	const float *cos_t, *sin_t;
	__half *k_cache, *v_cache;
	float eps;
};
void mla_rope(cudaStream_t st, const mla_args &a, const int *pos, int nb);

/* Causal attention of nb queries (token t at position pos[0] + t sees keys 0..pos + t) over
 * the layer's F16 cache: query head h uses kv head h / (n_head / n_head_kv); keys
 * head_dim wide, values head_dim_v; out[t][h · head_dim_v ..]. Online softmax, so memory
 * does not grow with the context; one token's keys split n_split ways. */
struct attn_args {
	const float *q;
	const __half *k_cache, *v_cache;
	float *out;
	int n_head, n_head_kv, head_dim, head_dim_v, q_dim, k_dim, v_dim, out_dim;
	float scale;
	/* one token: the keys split n_split ways, partial sums in part
	 * ([n_head][n_split][head_dim_v + 2] floats); prompts run unsplit */
	int n_split;
	float *part;
	int k_vec;   /* set by attention(): key rows read 16 bytes at a time */
};
void attention(cudaStream_t st, const attn_args &a, const int *pos, int nb);

/* Mixture of experts: per token, the router logits (n_expert, in place) become
 * probabilities (gating 1 softmax, 2 sigmoid), the correction bias (may be NULL) steers
 * the choice within the best n_groups_used of n_groups groups, and the k best experts
 * (ties: lower id) with their weights (renormalized when norm, times scale) are written
 * to sel / w [nb][k]. */
struct route_args {
	float *logits;
	const float *bias;
	int32_t *sel;
	float *w;
	int n_expert, k, n_groups, n_groups_used, gating, norm;
	float scale;
};
void route(cudaStream_t st, const route_args &a, int nb);
/* The nb·k slots (token t's choice j is slot t·k + j) grouped by expert, in token order:
 * cnt[e], off[e] (prefix sums) and list (slots) for grouped products. */
void group_slots(cudaStream_t st, const int32_t *sel, int n_slots, int n_expert, int32_t *list,
	int32_t *off, int32_t *cnt);
/* out[t] = Σ_j w[t][j] · y[t·k + j] (rows of n), experts added in ascending id order as
 * the CPU path does; out is overwritten. */
void moe_combine(cudaStream_t st, float *out, const float *y, const int32_t *sel,
	const float *w, int n, int k, int nb);

} // namespace arca_cuda

#endif
