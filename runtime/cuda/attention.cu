// SPDX-License-Identifier: Apache-2.0
// runtime/cuda/attention.cu — the attention steps on the GPU: per token, the q/k norms,
// RoPE from the session's cos/sin tables, and the key and value rows into the F16 cache
// (DeepSeek's latent form too); then causal attention of every query head over the cache
// with a running max and sum (online softmax), so nothing grows with the context but the
// loop: a prompt's queries 16 to a block sharing each step of keys and values in shared
// memory (heads up to 128 wide), else a block per (head, token), keys 128 at a time. A
// decode step splits the keys among several blocks per head (as flash-decoding does) and
// merges their partial sums, so a long context keeps every multiprocessor busy. Key rows
// are read 16 bytes at a time where the cache layout allows, value rows four positions at
// a time.
#include "runtime/cuda/blocks.cuh"
#include "runtime/cuda/kernels.cuh"

namespace arca_cuda {

namespace {

constexpr int THREADS = 128;

/* x[0, n) = rmsnorm(x) · w by one warp. */
__device__ void warp_rmsnorm(float *x, const float *w, int n, float eps)
{
	const int lane = (int)threadIdx.x % 32;
	float s = 0.0f;
	for (int i = lane; i < n; i += 32)
		s += x[i] * x[i];
	s = warp_sum(s);
	const float scale = 1.0f / sqrtf(s / (float)n + eps);
	__syncwarp();
	for (int i = lane; i < n; i += 32)
		x[i] = x[i] * scale * w[i];
}

/* Pair i of a head: (i, i + half) with neox, (2i, 2i + 1) otherwise; rotated from src
 * into dst (may be the same). */
__device__ __forceinline__ void rope_pair(float *dst, const float *src, int i, int half,
	int neox, float c, float s)
{
	int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
	float x0 = src[a], x1 = src[b];
	dst[a] = x0 * c - x1 * s;
	dst[b] = x0 * s + x1 * c;
}

__global__ void __launch_bounds__(THREADS) qkv_rope_k(qkv_args a, const int *pos)
{
	const int t = (int)blockIdx.x, p = pos[0] + t, tid = (int)threadIdx.x;
	const int warp = tid / 32, warps = (int)blockDim.x / 32, half = a.n_rot / 2;
	float *q = a.q + (size_t)t * a.q_dim, *k = a.k + (size_t)t * a.k_dim;
	if (a.q_norm)
		for (int o = warp * a.q_span; o < a.q_dim; o += warps * a.q_span)
			warp_rmsnorm(q + o, a.q_norm, a.q_span, a.eps);
	if (a.k_norm)
		for (int o = warp * a.k_span; o < a.k_dim; o += warps * a.k_span)
			warp_rmsnorm(k + o, a.k_norm, a.k_span, a.eps);
	__syncthreads();
	const float *c = a.cos_t + (size_t)p * half, *s = a.sin_t + (size_t)p * half;
	for (int i = tid; i < a.n_head * half; i += (int)blockDim.x) {
		float *h = q + (size_t)(i / half) * a.head_dim;
		rope_pair(h, h, i % half, half, a.neox, c[i % half], s[i % half]);
	}
	for (int i = tid; i < a.n_head_kv * half; i += (int)blockDim.x) {
		float *h = k + (size_t)(i / half) * a.head_dim;
		rope_pair(h, h, i % half, half, a.neox, c[i % half], s[i % half]);
	}
	__syncthreads();
	for (int i = tid; i < a.k_dim; i += (int)blockDim.x)
		a.k_cache[(size_t)p * a.k_dim + i] = __float2half(k[i]);
	for (int i = tid; i < a.v_dim; i += (int)blockDim.x)
		a.v_cache[(size_t)p * a.v_dim + i] = __float2half(a.v[(size_t)t * a.v_dim + i]);
}

__global__ void __launch_bounds__(THREADS) mla_rope_k(mla_args a, const int *pos)
{
	const int t = (int)blockIdx.x, p = pos[0] + t, tid = (int)threadIdx.x, half = a.n_rot / 2;
	const int qh = a.nope + a.rope;
	float *k = a.k + (size_t)t * a.k_dim;
	if (tid < 32)
		warp_rmsnorm(k, a.kv_norm, a.kv_lora, a.eps);
	const float *c = a.cos_t + (size_t)p * half, *s = a.sin_t + (size_t)p * half;
	for (int i = tid; i < half; i += (int)blockDim.x)   /* the rope key: after the latent */
		rope_pair(k + a.kv_lora, k + a.kv_lora, i, half, a.neox, c[i], s[i]);
	for (int i = tid; i < a.n_head * half; i += (int)blockDim.x) {
		int h = i / half;
		const float *src = a.mla_q + (size_t)t * a.n_head * qh + (size_t)h * qh + a.nope;
		float *dst = a.q + (size_t)t * a.q_dim + (size_t)h * a.head_dim + a.kv_lora;
		rope_pair(dst, src, i % half, half, a.neox, c[i % half], s[i % half]);
	}
	__syncthreads();
	for (int i = tid; i < a.k_dim; i += (int)blockDim.x)
		a.k_cache[(size_t)p * a.k_dim + i] = __float2half(k[i]);
	for (int i = tid; i < a.kv_lora; i += (int)blockDim.x)
		a.v_cache[(size_t)p * a.kv_lora + i] = __float2half(k[i]);
}

/* The dot of eight cached halves (one 16-byte load) with q[0, 8), in order. */
__device__ __forceinline__ float dot8_half(const __half *k, const float *q, float acc)
{
	float v[8];
	halves8(k, v, f16_bits);
	for (int i = 0; i < 8; i++)
		acc += q[i] * v[i];
	return acc;
}

/* Block (h, t, split): query head h of token t over its split's share of the keys
 * (n_split 1: all of them, written as the output; more: the unnormalized sum with its
 * running max and sum, for combine_k). */
__global__ void __launch_bounds__(THREADS) attention_k(attn_args a, const int *pos)
{
	const int h = (int)blockIdx.x, t = (int)blockIdx.y, split = (int)blockIdx.z;
	const int tid = (int)threadIdx.x;
	const int n_keys = pos[0] + t + 1, g = h / (a.n_head / a.n_head_kv);
	const int hd = a.head_dim, hv = a.head_dim_v;
	/* whole chunks of THREADS keys per split */
	const int chunks = (n_keys + THREADS - 1) / THREADS;
	const int per = (chunks + a.n_split - 1) / a.n_split;
	const int p_begin = split * per * THREADS;
	const int p_end = n_keys < (split + 1) * per * THREADS ? n_keys : (split + 1) * per * THREADS;
	ARCA_DYNAMIC_SHARED(float, sm);
	float *qs = sm, *acc = sm + hd, *pr = acc + hv;
	for (int d = tid; d < hd; d += THREADS)
		qs[d] = a.q[(size_t)t * a.q_dim + (size_t)h * hd + d];
	for (int d = tid; d < hv; d += THREADS)
		acc[d] = 0.0f;
	__syncthreads();
	float m = -INFINITY, l = 0.0f;
	for (int p0 = p_begin; p0 < p_end; p0 += THREADS) {
		const int p = p0 + tid;
		float s = -INFINITY;
		if (p < p_end) {
			const __half *kr = a.k_cache + (size_t)p * a.k_dim + (size_t)g * hd;
			float dot = 0.0f;
			if (a.k_vec)
				for (int d = 0; d < hd; d += 8)
					dot = dot8_half(kr + d, qs + d, dot);
			else
				for (int d = 0; d < hd; d++)
					dot += qs[d] * __half2float(kr[d]);
			s = dot * a.scale;
		}
		const float m_new = fmaxf(m, block_max(s));
		const float corr = expf(m - m_new);   /* 0 on the first chunk (m = −∞) */
		const float e = p < p_end ? expf(s - m_new) : 0.0f;
		pr[tid] = e;
		l = l * corr + block_sum(e);          /* its barriers publish pr[] */
		m = m_new;
		const int n = p_end - p0 < THREADS ? p_end - p0 : THREADS;
		for (int d = tid; d < hv; d += THREADS) {
			const __half *vc = a.v_cache + (size_t)p0 * a.v_dim + (size_t)g * hv + d;
			float v = acc[d] * corr;
			int i = 0;
			for (; i + 4 <= n; i += 4) {   /* four rows' loads in flight */
				float h0 = __half2float(vc[(size_t)i * a.v_dim]);
				float h1 = __half2float(vc[(size_t)(i + 1) * a.v_dim]);
				float h2 = __half2float(vc[(size_t)(i + 2) * a.v_dim]);
				float h3 = __half2float(vc[(size_t)(i + 3) * a.v_dim]);
				v += pr[i] * h0;
				v += pr[i + 1] * h1;
				v += pr[i + 2] * h2;
				v += pr[i + 3] * h3;
			}
			for (; i < n; i++)
				v += pr[i] * __half2float(vc[(size_t)i * a.v_dim]);
			acc[d] = v;
		}
		__syncthreads();   /* pr[] is rewritten by the next chunk */
	}
	if (a.n_split == 1) {
		for (int d = tid; d < hv; d += THREADS)
			a.out[(size_t)t * a.out_dim + (size_t)h * hv + d] = acc[d] / l;
		return;
	}
	/* partial: [t][h][split] rows of hv sums, then its max and sum */
	float *part = a.part + (((size_t)t * a.n_head + h) * a.n_split + split) * (size_t)(hv + 2);
	for (int d = tid; d < hv; d += THREADS)
		part[d] = acc[d];
	if (tid == 0) {
		part[hv] = m;
		part[hv + 1] = l;
	}
}

constexpr int QB = 16, KC = 32;   /* a prompt's tiles: queries per block, keys per step */
constexpr int TILE_DIM = 128;     /* the widest query/key and value heads they take */

/* A prompt's attention, block (h, b): queries t0 = QB·b .. of head h together, each key
 * and value row loaded once into shared memory for all of them (attention_k reads them
 * once per query). Thread (q, j) = (tid / 8, tid % 8) scores keys j, j + 8, ... of a step
 * for query q, the eight threads of a query reduce its running max and sum by shuffles,
 * and each accumulates output dimensions j, j + 8, ... in registers. Causal: query t sees
 * keys up to pos + t. */
__global__ void __launch_bounds__(THREADS) attention_tile_k(attn_args a, const int *pos, int nb)
{
	__shared__ float qs[QB][TILE_DIM + 1];   /* +1: the four queries of a warp, four banks */
	__shared__ __half ks[KC][TILE_DIM + 8];
	__shared__ __half vs[KC][TILE_DIM + 8];
	__shared__ float ps[QB][KC + 1];
	const int h = (int)blockIdx.x, t0 = (int)blockIdx.y * QB, tid = (int)threadIdx.x;
	const int q = tid / 8, j = tid % 8;
	const int g = h / (a.n_head / a.n_head_kv), hd = a.head_dim, hv = a.head_dim_v;
	const int nq = nb - t0 < QB ? nb - t0 : QB;
	const int last = pos[0] + t0 + q;          /* this thread's query's last key */
	const int n_keys = pos[0] + t0 + nq;       /* the block's last query's keys */
	for (int i = tid; i < QB * hd; i += THREADS) {
		int r = i / hd, d = i % hd;
		qs[r][d] = r < nq ? a.q[(size_t)(t0 + r) * a.q_dim + (size_t)h * hd + d] : 0.0f;
	}
	float acc[TILE_DIM / 8];   /* registers: indexed only in unrolled loops */
	ARCA_UNROLL
	for (int k = 0; k < TILE_DIM / 8; k++)
		acc[k] = 0.0f;
	float m = -INFINITY, l = 0.0f;
	for (int c0 = 0; c0 < n_keys; c0 += KC) {
		__syncthreads();   /* the last step's rows read (the first: qs written) */
		for (int i = tid; i < KC * hd; i += THREADS) {
			int r = i / hd, d = i % hd;
			ks[r][d] = c0 + r < n_keys ?
				a.k_cache[(size_t)(c0 + r) * a.k_dim + (size_t)g * hd + d] : __float2half(0.0f);
		}
		for (int i = tid; i < KC * hv; i += THREADS) {
			int r = i / hv, d = i % hv;
			vs[r][d] = c0 + r < n_keys ?
				a.v_cache[(size_t)(c0 + r) * a.v_dim + (size_t)g * hv + d] : __float2half(0.0f);
		}
		__syncthreads();
		float s[KC / 8], mc = -INFINITY;
		ARCA_UNROLL
		for (int u = 0; u < KC / 8; u++) {
			const int r = j + 8 * u;
			float dot = 0.0f;
			for (int d = 0; d < hd; d++)
				dot += qs[q][d] * __half2float(ks[r][d]);
			s[u] = q < nq && c0 + r <= last ? dot * a.scale : -INFINITY;
			mc = fmaxf(mc, s[u]);
		}
		for (int o = 1; o < 8; o <<= 1)   /* the eight threads of query q */
			mc = fmaxf(mc, __shfl_xor_sync(0xffffffffu, mc, o));
		const float m_new = fmaxf(m, mc);
		const float corr = m_new == -INFINITY ? 1.0f : expf(m - m_new);
		float sum = 0.0f;
		ARCA_UNROLL
		for (int u = 0; u < KC / 8; u++) {
			float e = s[u] == -INFINITY ? 0.0f : expf(s[u] - m_new);
			ps[q][j + 8 * u] = e;
			sum += e;
		}
		for (int o = 1; o < 8; o <<= 1)
			sum += __shfl_xor_sync(0xffffffffu, sum, o);
		l = l * corr + sum;
		m = m_new;
		__syncwarp();   /* ps[q][.] is written by the warp that reads it */
		ARCA_UNROLL
		for (int k = 0; k < TILE_DIM / 8; k++)
			acc[k] *= corr;
		for (int r = 0; r < KC; r++) {
			const float pr = ps[q][r];
			ARCA_UNROLL
			for (int k = 0; k < TILE_DIM / 8; k++)
				if (j + 8 * k < hv)
					acc[k] += pr * __half2float(vs[r][j + 8 * k]);
		}
	}
	ARCA_UNROLL
	for (int k = 0; k < TILE_DIM / 8; k++)
		if (q < nq && j + 8 * k < hv)
			a.out[(size_t)(t0 + q) * a.out_dim + (size_t)h * hv + j + 8 * k] = acc[k] / l;
}

/* The splits of (h, t) merged: each rescaled by e^(m_split − max m). */
__global__ void __launch_bounds__(THREADS) combine_k(attn_args a)
{
	const int h = (int)blockIdx.x, t = (int)blockIdx.y, hv = a.head_dim_v;
	const float *part = a.part + ((size_t)t * a.n_head + h) * a.n_split * (size_t)(hv + 2);
	float m = -INFINITY;
	for (int s = 0; s < a.n_split; s++)
		m = fmaxf(m, part[(size_t)s * (hv + 2) + hv]);
	float l = 0.0f;
	for (int s = 0; s < a.n_split; s++) {
		const float *ps = part + (size_t)s * (hv + 2);
		l += ps[hv + 1] > 0.0f ? ps[hv + 1] * expf(ps[hv] - m) : 0.0f;
	}
	for (int d = (int)threadIdx.x; d < hv; d += THREADS) {
		float v = 0.0f;
		for (int s = 0; s < a.n_split; s++) {
			const float *ps = part + (size_t)s * (hv + 2);
			if (ps[hv + 1] > 0.0f)
				v += ps[d] * expf(ps[hv] - m);
		}
		a.out[(size_t)t * a.out_dim + (size_t)h * hv + d] = v / l;
	}
}

} // namespace

void qkv_rope(cudaStream_t st, const qkv_args &a, const int *pos, int nb)
{
	launch(qkv_rope_k, dim3((unsigned)nb), dim3(THREADS), 0, st, a, pos);
}

void mla_rope(cudaStream_t st, const mla_args &a, const int *pos, int nb)
{
	launch(mla_rope_k, dim3((unsigned)nb), dim3(THREADS), 0, st, a, pos);
}

void attention(cudaStream_t st, const attn_args &a, const int *pos, int nb)
{
	if (nb > 1 && a.head_dim <= TILE_DIM && a.head_dim_v <= TILE_DIM) {   /* a prompt */
		launch(attention_tile_k, dim3((unsigned)a.n_head, (unsigned)((nb + QB - 1) / QB)),
			dim3(THREADS), 0, st, a, pos, nb);
		return;
	}
	size_t smem = (size_t)(a.head_dim + a.head_dim_v + THREADS) * sizeof(float);
	attn_args b = a;
	if (nb > 1 || !a.part)
		b.n_split = 1;
	b.k_vec = a.head_dim % 8 == 0 && a.k_dim % 8 == 0 && (uintptr_t)a.k_cache % 16 == 0;
	launch(attention_k, dim3((unsigned)a.n_head, (unsigned)nb, (unsigned)b.n_split),
		dim3(THREADS), smem, st, b, pos);
	if (b.n_split > 1)
		launch(combine_k, dim3((unsigned)a.n_head, (unsigned)nb), dim3(THREADS), 0, st, b);
}

} // namespace arca_cuda
