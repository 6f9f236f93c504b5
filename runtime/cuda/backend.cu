// SPDX-License-Identifier: Apache-2.0
// runtime/cuda/backend.cu — runtime/gpu.h on CUDA: opening a device, uploading the layers'
// weights once in their stored types (one allocation; views such as ChatGLM's split q/k/v
// stay views), the F16 KV cache, the RoPE tables and the batch buffers; and the forward
// pass over the device's layers in the order runtime/forward.c and moe.c run them, on one
// stream. A one-token step is captured as a graph the first time and replayed after (the
// position is read from device memory, so the same graph serves every position). A
// prompt's dense products go through cuBLAS where it loads (gemm.cu), else the tiles.
#define restrict __restrict
extern "C" {
#include "arca/quant.h"
#include "runtime/gpu.h"
#include "runtime/model_internal.h"
#include "runtime/ops.h"
}
#include "runtime/cuda/kernels.cuh"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

using namespace arca_cuda;

/* arca_rt_layer is a run of tensors followed by the moe flag: the upload walks them all,
 * so a tensor added to the layer is uploaded without a change here. */
static_assert(offsetof(arca_rt_layer, moe) % sizeof(arca_rt_tensor) == 0,
	"arca_rt_layer: tensors first, then the moe flag");
static const size_t LAYER_TENSORS = offsetof(arca_rt_layer, moe) / sizeof(arca_rt_tensor);

struct arca_gpu {
	const arca_model *m = nullptr;
	int device = 0;
	char name[256] = "";
	uint32_t n_layers = 0, n_ctx = 0, n_batch = 0;
	bool all = false;   /* every layer and the output here */
	cudaStream_t st = nullptr;
	uint8_t *arena = nullptr;
	uint64_t weight_bytes = 0;
	std::vector<arca_rt_layer> layers;   /* data pointers into the arena */
	arca_rt_tensor out_norm = {}, output = {};
	size_t k_dim = 0, v_dim = 0, q_dim = 0, att_dim = 0, wide = 0, ff = 0;
	float *cos_t = nullptr, *sin_t = nullptr;
	__half *k_cache = nullptr, *v_cache = nullptr;
	float *x = nullptr, *xn = nullptr, *q = nullptr, *k = nullptr, *v = nullptr, *att = nullptr;
	float *gate = nullptr, *up = nullptr, *ffn_out = nullptr, *logits = nullptr;
	float *router = nullptr, *moe_w = nullptr, *moe_y = nullptr, *moe_gate = nullptr,
		*moe_up = nullptr;
	int32_t *moe_sel = nullptr;
	int32_t *moe_list = nullptr, *moe_off = nullptr, *moe_cnt = nullptr;   /* grouped */
	float *mla_q = nullptr, *mla_lora = nullptr, *att_v = nullptr;
	int n_split = 1;                 /* decode attention: blocks per head */
	float *att_part = nullptr;
	int *pos = nullptr;
	int *h_pos = nullptr;            /* pinned: what a graph's copies read and write */
	float *h_x = nullptr, *h_logits = nullptr;
	cudaGraphExec_t graph = nullptr;
	size_t graph_rows = 0;
	blas *bl = nullptr;              /* cuBLAS, when it loaded */
	void *bl_scratch = nullptr;      /* its converted activations and decoded weights */
	size_t bl_bytes = 0;
	char products[256] = "";         /* how a prompt's products run, in words */
	std::vector<void *> allocs;
};

static const char *type_name(int type)
{
	const arca_ggml_type_info *t = arca_ggml_type_info_get(type);
	return t ? t->name : "unknown";
}

static arca_err cuda_failed(cudaError_t e, const char *what)
{
	return arca_error_set(ARCA_EIO, "CUDA: %s: %s", what, cudaGetErrorString(e));
}

#define CK(call) \
	do { \
		cudaError_t ck_ = (call); \
		if (ck_ != cudaSuccess) \
			return cuda_failed(ck_, #call); \
	} while (0)

/* ------------------------------------------------------------------ weights */

namespace {

struct range {
	const uint8_t *lo, *hi;
	size_t dev;   /* offset in the arena */
};

/* Vectors (norms, biases) are F32 and may be views of a longer one (ChatGLM's q/k/v
 * biases): their own ne0 floats. */
size_t tensor_bytes(const arca_rt_tensor &t, bool vector)
{
	if (!t.data)
		return 0;
	return vector ? t.ne0 * sizeof(float) : t.row_bytes * t.ne1 * t.ne2;
}

bool is_vector(const arca_rt_layer &L, const arca_rt_tensor *t)
{
	const arca_rt_tensor *v[] = { &L.attn_norm, &L.bq, &L.bk, &L.bv, &L.q_norm, &L.k_norm,
		&L.q_a_norm, &L.kv_a_norm, &L.post_attn_norm, &L.post_ffn_norm, &L.bqkv,
		&L.ffn_norm, &L.exp_probs_b };
	for (const arca_rt_tensor *p : v)
		if (p == t)
			return true;
	return false;
}

arca_rt_tensor *layer_tensor(arca_rt_layer &L, size_t i)
{
	return reinterpret_cast<arca_rt_tensor *>(&L) + i;
}

} // namespace

/* The host ranges the device needs (merged where tensors overlap: views), each tensor's
 * type checked. */
static arca_err plan_ranges(const arca_gpu *g, std::vector<range> &out, size_t *total)
{
	const arca_model *m = g->m;
	std::vector<range> rs;
	auto need = [&](const arca_rt_tensor &t, bool vector) {
		if (t.data)
			rs.push_back(range{ (const uint8_t *)t.data,
				(const uint8_t *)t.data + tensor_bytes(t, vector), 0 });
	};
	for (uint32_t l = 0; l < g->n_layers; l++) {
		arca_rt_layer L = m->layers[l];
		for (size_t i = 0; i < LAYER_TENSORS; i++) {
			const arca_rt_tensor *t = layer_tensor(L, i);
			if (!t->data)
				continue;
			bool vec = is_vector(L, t);
			if ((vec && t->type != ARCA_GGML_F32) || (!vec && !type_supported(t->type)))
				return arca_error_set(ARCA_EINVALID, "the GPU backend does not read %s "
					"weights (layer %u): convert with --quant q8_0, q4_k_m, f16 or bf16, or "
					"run on the CPU", type_name(t->type), l);
			/* the kernels step through rows eight weights at a time (blocks.cuh) */
			if (!vec && t->ne0 % 8)
				return arca_error_set(ARCA_EINVALID, "layer %u: rows of %llu %s weights: "
					"the GPU backend reads rows in steps of 8; run on the CPU", l,
					(unsigned long long)t->ne0, type_name(t->type));
			need(*t, vec);
		}
	}
	if (g->all) {
		const arca_rt_tensor &o = m->info.tied_embeddings ? m->tok_embd : m->output;
		if (!type_supported(o.type) || o.ne0 % 8)
			return arca_error_set(ARCA_EINVALID, "the GPU backend does not read %s weights "
				"with rows of %llu (output)", type_name(o.type), (unsigned long long)o.ne0);
		need(m->out_norm, true);
		need(o, false);
	}
	std::sort(rs.begin(), rs.end(), [](const range &a, const range &b) { return a.lo < b.lo; });
	out.clear();
	for (const range &r : rs) {
		if (!out.empty() && r.lo < out.back().hi)
			out.back().hi = std::max(out.back().hi, r.hi);
		else
			out.push_back(r);
	}
	size_t at = 0;
	for (range &r : out) {
		r.dev = at;
		at += align256((size_t)(r.hi - r.lo));
	}
	*total = at;
	return ARCA_OK;
}

static void to_device(const arca_gpu *g, const std::vector<range> &rs, arca_rt_tensor &t)
{
	if (!t.data)
		return;
	const uint8_t *p = (const uint8_t *)t.data;
	auto it = std::upper_bound(rs.begin(), rs.end(), p,
		[](const uint8_t *a, const range &r) { return a < r.lo; });
	const range &r = *(it - 1);   /* plan_ranges put every tensor in a range */
	t.data = g->arena + r.dev + (size_t)(p - r.lo);
}

/* ------------------------------------------------------------------ open / free */

static arca_err alloc(arca_gpu *g, void **p, size_t bytes, const char *what)
{
	cudaError_t e = cudaMalloc(p, bytes ? bytes : 1);
	if (e != cudaSuccess) {
		*p = nullptr;
		return arca_error_set(ARCA_ENOMEM, "GPU: no room for %s (%zu MiB): %s", what,
			bytes >> 20, cudaGetErrorString(e));
	}
	g->allocs.push_back(*p);
	return ARCA_OK;
}

template <class T> static arca_err alloc_n(arca_gpu *g, T **p, size_t n, const char *what)
{
	return alloc(g, (void **)p, n * sizeof(T), what);
}

/* Bytes of the KV cache and batch buffers for n layers. */
static size_t state_bytes(const arca_gpu *g, uint32_t n_layers)
{
	const arca_model_info *i = &g->m->info;
	size_t B = g->n_batch, K = i->n_expert_used ? i->n_expert_used : 1;
	size_t kv = (size_t)n_layers * g->n_ctx * (g->k_dim + g->v_dim) * 2;
	size_t buf = B * (2 * i->n_embd + g->wide + g->q_dim + g->k_dim + g->v_dim + g->att_dim +
		2 * g->ff + (size_t)i->n_vocab + K * (i->n_embd + 2 * (size_t)i->n_ff_exp));
	return kv + buf * 4 + (size_t)g->n_ctx * i->n_rot * 4 + g->bl_bytes;
}

static arca_err alloc_state(arca_gpu *g)
{
	const arca_model *m = g->m;
	const arca_model_info *i = &m->info;
	const arca_rt_mla *a = &m->mla;
	size_t B = g->n_batch, E = i->n_embd, K = i->n_expert_used ? i->n_expert_used : 1;
	size_t half = i->n_rot / 2;
	arca_err err;
	if ((err = alloc_n(g, &g->k_cache, (size_t)g->n_layers * g->n_ctx * g->k_dim, "the KV cache")) < 0 ||
	    (err = alloc_n(g, &g->v_cache, (size_t)g->n_layers * g->n_ctx * g->v_dim, "the KV cache")) < 0 ||
	    (err = alloc_n(g, &g->cos_t, (size_t)g->n_ctx * half + 1, "RoPE tables")) < 0 ||
	    (err = alloc_n(g, &g->sin_t, (size_t)g->n_ctx * half + 1, "RoPE tables")) < 0 ||
	    (err = alloc_n(g, &g->x, B * E, "activations")) < 0 ||
	    (err = alloc_n(g, &g->xn, B * g->wide, "activations")) < 0 ||
	    (err = alloc_n(g, &g->q, B * g->q_dim, "activations")) < 0 ||
	    (err = alloc_n(g, &g->k, B * g->k_dim, "activations")) < 0 ||
	    (err = alloc_n(g, &g->v, B * g->v_dim, "activations")) < 0 ||
	    (err = alloc_n(g, &g->att, B * g->att_dim, "activations")) < 0 ||
	    (err = alloc_n(g, &g->gate, B * g->ff, "activations")) < 0 ||
	    (err = alloc_n(g, &g->up, B * g->ff, "activations")) < 0 ||
	    (err = alloc_n(g, &g->ffn_out, B * E, "activations")) < 0 ||
	    (err = alloc_n(g, &g->logits, g->all ? B * i->n_vocab : 1, "logits")) < 0 ||
	    (err = alloc_n(g, &g->pos, 1, "the position")) < 0 ||
	    (err = alloc_n(g, &g->att_part, (size_t)i->n_head * g->n_split * (m->head_dim_v + 2),
		"attention partial sums")) < 0 ||
	    (g->bl && (err = alloc(g, &g->bl_scratch, g->bl_bytes, "cuBLAS's scratch")) < 0))
		return err;
	if (i->n_expert &&
	    ((err = alloc_n(g, &g->router, B * i->n_expert, "router logits")) < 0 ||
	     (err = alloc_n(g, &g->moe_w, B * K, "expert weights")) < 0 ||
	     (err = alloc_n(g, &g->moe_sel, B * K, "expert choices")) < 0 ||
	     (err = alloc_n(g, &g->moe_list, B * K, "expert choices")) < 0 ||
	     (err = alloc_n(g, &g->moe_off, i->n_expert, "expert choices")) < 0 ||
	     (err = alloc_n(g, &g->moe_cnt, i->n_expert, "expert choices")) < 0 ||
	     (err = alloc_n(g, &g->moe_y, B * K * E, "expert outputs")) < 0 ||
	     (err = alloc_n(g, &g->moe_gate, B * K * i->n_ff_exp, "expert activations")) < 0 ||
	     (err = alloc_n(g, &g->moe_up, B * K * i->n_ff_exp, "expert activations")) < 0))
		return err;
	if (a->kv_lora &&
	    ((err = alloc_n(g, &g->mla_q, B * i->n_head * (a->nope + a->rope), "MLA queries")) < 0 ||
	     (err = alloc_n(g, &g->mla_lora, B * (a->q_lora ? a->q_lora : 1), "MLA queries")) < 0 ||
	     (err = alloc_n(g, &g->att_v, B * i->n_head * a->v, "MLA outputs")) < 0))
		return err;
	CK(cudaMallocHost((void **)&g->h_pos, sizeof(int)));
	CK(cudaMallocHost((void **)&g->h_x, B * E * sizeof(float)));
	CK(cudaMallocHost((void **)&g->h_logits, (g->all ? B * i->n_vocab : 1) * sizeof(float)));
	/* RoPE tables as the CPU path makes them, for every position of the context */
	std::vector<float> c((size_t)g->n_ctx * half + 1), s((size_t)g->n_ctx * half + 1);
	for (uint32_t p = 0; p < g->n_ctx && half; p++)
		arca_op_rope_table(&c[(size_t)p * half], &s[(size_t)p * half], p, &m->rope);
	CK(cudaMemcpy(g->cos_t, c.data(), c.size() * sizeof(float), cudaMemcpyHostToDevice));
	CK(cudaMemcpy(g->sin_t, s.data(), s.size() * sizeof(float), cudaMemcpyHostToDevice));
	return ARCA_OK;
}

extern "C" const char *arca_gpu_backend(void)
{
#ifdef ARCA_GPU_EMU
	return "cuda-emulator";
#else
	return "cuda";
#endif
}

extern "C" void arca_gpu_free(arca_gpu *g)
{
	if (!g)
		return;
	if (g->graph)
		cudaGraphExecDestroy(g->graph);
	for (void *p : g->allocs)
		cudaFree(p);
	cudaFree(g->arena);
	cudaFreeHost(g->h_pos);
	cudaFreeHost(g->h_x);
	cudaFreeHost(g->h_logits);
	blas_free(g->bl);
	if (g->st)
		cudaStreamDestroy(g->st);
	delete g;
}

static arca_err open_device(arca_gpu *g, const arca_model *m, const arca_gpu_opts *o)
{
	const arca_model_info *i = &m->info;
	int count = 0;
	cudaError_t e = cudaGetDeviceCount(&count);
	if (e != cudaSuccess)
		return arca_error_set(ARCA_EIO, "no usable GPU: %s", cudaGetErrorString(e));
	if (o->device < 0 || o->device >= count)
		return arca_error_set(ARCA_EINVALID, "no GPU cuda:%d (this machine has %d)", o->device,
			count);
	CK(cudaSetDevice(o->device));
	cudaDeviceProp prop;
	CK(cudaGetDeviceProperties(&prop, o->device));
	snprintf(g->name, sizeof(g->name), "%s", prop.name);
	if (prop.major < 8)   /* bfloat16 tiles, the build's PTX (80-virtual) */
		return arca_error_set(ARCA_EIO, "no usable GPU: %s has compute capability %d.%d; "
			"arca's GPU kernels need 8.0 or newer (Ampere, Ada, Hopper and later)", g->name,
			prop.major, prop.minor);
	CK(cudaStreamCreate(&g->st));
	g->m = m;
	g->device = o->device;
	g->n_ctx = o->n_ctx;
	g->n_batch = o->n_batch;
	if (o->n_layers < -1 || o->n_layers > (int32_t)i->n_layer)
		return arca_error_set(ARCA_EINVALID, "--gpu-layers %d: the model has %u layers",
			o->n_layers, i->n_layer);
	g->n_layers = o->n_layers < 0 ? i->n_layer : (uint32_t)o->n_layers;
	g->all = g->n_layers == i->n_layer;
	/* a decode step's keys in up to 32 splits, one per 128 positions of the longest
	 * context: the splits share the keys cached so far, so a few hundred positions in, the
	 * heads × splits blocks already outnumber the multiprocessors (a block per head alone
	 * leaves most of them idle and walks every key in turn) */
	g->n_split = (int)std::min<uint32_t>(32, std::max<uint32_t>(1, (g->n_ctx + 127) / 128));
	const arca_rt_mla *a = &m->mla;
	g->k_dim = (size_t)i->n_head_kv * i->head_dim;
	g->v_dim = (size_t)i->n_head_kv * m->head_dim_v;
	g->q_dim = (size_t)i->n_head * i->head_dim;
	g->att_dim = (size_t)i->n_head * m->head_dim_v;
	g->wide = std::max<size_t>(g->q_dim, i->n_embd);
	g->ff = std::max<size_t>(i->n_ff, (size_t)i->n_ff_exp * std::max<uint32_t>(1, m->moe.n_shared));
	if (a->kv_lora)
		g->wide = std::max<size_t>(g->wide, (size_t)i->n_head * (a->nope + a->rope));
	return ARCA_OK;
}

/* cuBLAS for prompts, and the scratch its products need: the widest of the device's
 * matrices (expert stacks excepted: they run grouped in tiles) for a whole batch. */
static arca_err open_blas(arca_gpu *g)
{
	char why[200] = "";
	bool invalid;
	g->bl = blas_open(g->st, why, sizeof(why), &invalid);
	if (invalid)
		return arca_error_set(ARCA_EINVALID, "%s", why);
	if (!g->bl) {
		snprintf(g->products, sizeof(g->products), "tile kernels (cuBLAS not used: %s)", why);
		return ARCA_OK;
	}
	size_t most = 0;
	auto need = [&](const arca_rt_tensor &t) {
		if (t.data && t.ne2 <= 1)
			most = std::max(most, blas_scratch(t.type, (int)t.ne0, (int)t.ne1, (int)g->n_batch));
	};
	for (uint32_t l = 0; l < g->n_layers; l++) {
		arca_rt_layer L = g->m->layers[l];
		for (size_t i = 0; i < LAYER_TENSORS; i++)
			if (!is_vector(L, layer_tensor(L, i)))
				need(*layer_tensor(L, i));
	}
	if (g->all)
		need(g->m->info.tied_embeddings ? g->m->tok_embd : g->m->output);
	g->bl_bytes = most;
	snprintf(g->products, sizeof(g->products), "%s", blas_name(g->bl));
	return ARCA_OK;
}

extern "C" arca_err arca_gpu_open(arca_gpu **out, const arca_model *m, const arca_gpu_opts *o)
{
	*out = nullptr;
	arca_gpu *g = new arca_gpu();
	arca_err err = open_device(g, m, o);
	std::vector<range> rs;
	size_t weights = 0;
	if (err >= 0)
		err = plan_ranges(g, rs, &weights);
	if (err >= 0)
		err = open_blas(g);
	if (err >= 0) {
		size_t free_b = 0, total = 0;
		size_t need = weights + state_bytes(g, g->n_layers);
		if (cudaMemGetInfo(&free_b, &total) == cudaSuccess && need > free_b) {
			/* how many layers would fit, to say so */
			uint32_t fit = 0;
			size_t per = weights / std::max<uint32_t>(1, g->n_layers) + 1;   /* per layer */
			while (fit < m->info.n_layer && (size_t)(fit + 1) * per + state_bytes(g, fit + 1) < free_b)
				fit++;
			err = arca_error_set(ARCA_ENOMEM, "the %u layers asked for need %.1f MiB on %s, "
				"%.1f MiB is free: about %u layers fit (--gpu-layers %u)", g->n_layers,
				(double)need / (1 << 20), g->name, (double)free_b / (1 << 20), fit, fit);
		}
	}
	if (err >= 0 && (err = alloc(g, (void **)&g->arena, weights, "the weights")) >= 0)
		g->allocs.pop_back();   /* the arena is freed on its own */
	for (size_t r = 0; err >= 0 && r < rs.size(); r++) {
		cudaError_t e = cudaMemcpy(g->arena + rs[r].dev, rs[r].lo, (size_t)(rs[r].hi - rs[r].lo),
			cudaMemcpyHostToDevice);
		if (e != cudaSuccess)
			err = cuda_failed(e, "uploading the weights");
	}
	if (err >= 0) {
		g->weight_bytes = weights;
		g->layers.assign(m->layers, m->layers + g->n_layers);
		for (uint32_t l = 0; l < g->n_layers; l++) {
			arca_rt_layer &L = g->layers[l];
			for (size_t i = 0; i < LAYER_TENSORS; i++) {
				arca_rt_tensor *t = layer_tensor(L, i);
				to_device(g, rs, *t);
				/* blocks.cuh loads up to 16 bytes at once from rows that start aligned */
				if (err >= 0 && t->data && !is_vector(L, t) && (uintptr_t)t->data % 16)
					err = arca_error_set(ARCA_EINVALID, "layer %u: a weight matrix whose "
						"data is not 16-byte aligned (a GGUF written with general.alignment "
						"below 16?): the GPU cannot read it; convert the model again", l);
			}
		}
		if (g->all) {
			g->out_norm = m->out_norm;
			g->output = m->info.tied_embeddings ? m->tok_embd : m->output;
			to_device(g, rs, g->out_norm);
			to_device(g, rs, g->output);
			if (err >= 0 && (uintptr_t)g->output.data % 16)
				err = arca_error_set(ARCA_EINVALID, "the output matrix's data is not 16-byte "
					"aligned: the GPU cannot read it; convert the model again");
		}
		if (err >= 0)
			err = alloc_state(g);
	}
	if (err < 0) {
		arca_gpu_free(g);
		return err;
	}
	*out = g;
	return ARCA_OK;
}

extern "C" uint32_t arca_gpu_layers(const arca_gpu *g) { return g->n_layers; }
extern "C" const char *arca_gpu_device_name(const arca_gpu *g) { return g->name; }
extern "C" uint64_t arca_gpu_weight_bytes(const arca_gpu *g) { return g->weight_bytes; }
extern "C" int arca_gpu_blas(const arca_gpu *g) { return g->bl != nullptr; }
extern "C" const char *arca_gpu_products(const arca_gpu *g) { return g->products; }

/* ------------------------------------------------------------------ the forward pass */

/* A product of w (its stacked matrices w_z apart) with x into y; the caller sets the rest. */
static prod prod_of(const arca_rt_tensor &w, const float *x, float *y)
{
	prod p = {};
	p.w = (const uint8_t *)w.data;
	p.type = w.type;
	p.row_bytes = w.row_bytes;
	p.w_z = w.row_bytes * w.ne1;
	p.n = (int)w.ne0;
	p.m = (int)w.ne1;
	p.x = x;
	p.x_div = 1;
	p.y = y;
	p.nb = 1;
	p.nz = 1;
	return p;
}

/* The product of w with nb rows of x (w->ne0 apart) into y (w->ne1 apart). */
static prod rows_of(const arca_rt_tensor &w, const float *x, int nb, float *y)
{
	prod p = prod_of(w, x, y);
	p.x_stride = w.ne0;
	p.y_stride = w.ne1;
	p.nb = nb;
	return p;
}

static void run_product(const arca_gpu *g, const prod &p)
{
	if (!blas_product(g->bl, g->st, p, g->bl_scratch, g->bl_bytes))
		product(g->st, p);
}

/* y = w · x for nb rows, as arca_rt__mul. */
static void mul(const arca_gpu *g, const arca_rt_tensor &w, const float *x, int nb, float *y)
{
	run_product(g, rows_of(w, x, nb, y));
}

/* y += w · x: a residual added by the product itself. */
static void mul_add(const arca_gpu *g, const arca_rt_tensor &w, const float *x, int nb, float *y)
{
	prod p = rows_of(w, x, nb, y);
	p.accumulate = 1;
	run_product(g, p);
}

/* Products of one x with matrices of the same type and width, as one launch for a single
 * token (a decode step's gaps between launches cost as much as its small products). */
static bool fusable(const arca_rt_tensor *const *ws, int n, int nb)
{
	for (int k = 1; k < n; k++)
		if (ws[k]->type != ws[0]->type || ws[k]->ne0 != ws[0]->ne0)
			return false;
	return nb == 1;
}

/* q, k and v (and their biases) from x. */
static void mul_qkv(const arca_gpu *g, const arca_rt_layer &L, const float *x, int nb)
{
	const arca_rt_tensor *ws[3] = { &L.wq, &L.wk, &L.wv }, *bs[3] = { &L.bq, &L.bk, &L.bv };
	float *ys[3] = { g->q, g->k, g->v };
	prod ps[3];
	for (int k = 0; k < 3; k++)
		ps[k] = rows_of(*ws[k], x, nb, ys[k]);
	if (fusable(ws, 3, nb)) {
		for (int k = 0; k < 3; k++)
			ps[k].bias = (const float *)bs[k]->data;
		product_set(g->st, ps, 3, false);
		return;
	}
	for (int k = 0; k < 3; k++) {
		run_product(g, ps[k]);
		if (bs[k]->data)
			add_bias(g->st, ys[k], (const float *)bs[k]->data, (int)bs[k]->ne0, nb);
	}
}

/* ps[0].y = silu(ps[0]) · ps[1] (n values; ps[1].y: the second product's room), for
 * products with gate and up (a dense layer's, or the chosen experts'). */
static void glu(const arca_gpu *g, const arca_rt_tensor &gate, const arca_rt_tensor &up,
	const prod *ps, int nb, size_t n)
{
	const arca_rt_tensor *ws[2] = { &gate, &up };
	if (fusable(ws, 2, nb) && gate.ne1 == up.ne1) {
		product_set(g->st, ps, 2, true);
		return;
	}
	run_product(g, ps[0]);
	run_product(g, ps[1]);
	swiglu(g->st, ps[0].y, ps[1].y, n);
}

/* gate = silu(gate · x) · (up · x), into gate_y (up_y: the second product's room). */
static void mul_glu(const arca_gpu *g, const arca_rt_tensor &gate, const arca_rt_tensor &up,
	const float *x, int nb, float *gate_y, float *up_y)
{
	prod ps[2] = { rows_of(gate, x, nb, gate_y), rows_of(up, x, nb, up_y) };
	glu(g, gate, up, ps, nb, (size_t)nb * gate.ne1);
}

/* One product per stacked matrix z < nz (MLA's per-head maps). */
static void mul_heads(const arca_gpu *g, const arca_rt_tensor &w, int nz, const float *x,
	size_t x_z, size_t x_stride, float *y, size_t y_z, size_t y_stride, int nb)
{
	prod p = prod_of(w, x, y);
	p.x_stride = x_stride;
	p.x_z = x_z;
	p.y_stride = y_stride;
	p.y_z = y_z;
	p.nb = nb;
	p.nz = nz;
	product(g->st, p);
}

/* Expert products: for token t and choice j (slot z = t·k + j), matrix sel[z] of w; x row
 * z / x_div (x_z floats apart), y row z (y_z apart). A prompt's slots go grouped by
 * expert (group_slots ran) when the weights allow tiles. */
static prod experts_of(const arca_gpu *g, const arca_rt_tensor &w, int nb, int k,
	const float *x, size_t x_z, int x_div, float *y, size_t y_z)
{
	prod p = prod_of(w, x, y);
	p.x_div = x_div;
	if (nb > 1 && grouped_supported(w.type, (int)w.ne0)) {
		p.list = g->moe_list;
		p.off = g->moe_off;
		p.cnt = g->moe_cnt;
		p.x_stride = x_z;
		p.y_stride = y_z;
		p.nb = nb;   /* an expert gets each token at most once */
		p.nz = (int)w.ne2;
	} else {
		p.index = g->moe_sel;
		p.x_z = x_z;
		p.y_z = y_z;
		p.nz = nb * k;
	}
	return p;
}

static void mul_experts(const arca_gpu *g, const arca_rt_tensor &w, int nb, int k,
	const float *x, size_t x_z, int x_div, float *y, size_t y_z)
{
	product(g->st, experts_of(g, w, nb, k, x, x_z, x_div, y, y_z));
}

/* Attention of layer l over its cache slice, with n_head_kv kv heads (MLA: 1). */
static attn_args attn_of(const arca_gpu *g, uint32_t l, int n_head_kv)
{
	const arca_model_info *i = &g->m->info;
	attn_args at = {};
	at.q = g->q;
	at.k_cache = g->k_cache + (size_t)l * g->n_ctx * g->k_dim;
	at.v_cache = g->v_cache + (size_t)l * g->n_ctx * g->v_dim;
	at.out = g->att;
	at.n_head = (int)i->n_head;
	at.n_head_kv = n_head_kv;
	at.head_dim = (int)i->head_dim;
	at.head_dim_v = (int)g->m->head_dim_v;
	at.q_dim = (int)g->q_dim;
	at.k_dim = (int)g->k_dim;
	at.v_dim = (int)g->v_dim;
	at.out_dim = (int)g->att_dim;
	at.scale = g->m->attn_scale;
	at.n_split = g->n_split;
	at.part = g->att_part;
	return at;
}

static void mla_block(arca_gpu *g, const arca_rt_layer &L, uint32_t l, int nb)
{
	const arca_model *m = g->m;
	const arca_model_info *i = &m->info;
	const arca_rt_mla *a = &m->mla;
	const int H = (int)i->n_head, qh = (int)(a->nope + a->rope);
	if (L.wq_a.data) {
		mul(g, L.wq_a, g->xn, nb, g->mla_lora);
		rmsnorm(g->st, g->mla_lora, g->mla_lora, (const float *)L.q_a_norm.data, (int)a->q_lora,
			a->q_lora, nb, i->rms_eps);
		mul(g, L.wq_b, g->mla_lora, nb, g->mla_q);
	} else {
		mul(g, L.wq, g->xn, nb, g->mla_q);
	}
	mul(g, L.wkv_a, g->xn, nb, g->k);
	mla_args ma = {};
	ma.q = g->q;
	ma.k = g->k;
	ma.mla_q = g->mla_q;
	ma.kv_norm = (const float *)L.kv_a_norm.data;
	ma.n_head = H;
	ma.kv_lora = (int)a->kv_lora;
	ma.nope = (int)a->nope;
	ma.rope = (int)a->rope;
	ma.head_dim = (int)i->head_dim;
	ma.q_dim = (int)g->q_dim;
	ma.k_dim = (int)g->k_dim;
	ma.n_rot = (int)i->n_rot;
	ma.neox = i->rope_neox;
	ma.cos_t = g->cos_t;
	ma.sin_t = g->sin_t;
	ma.k_cache = g->k_cache + (size_t)l * g->n_ctx * g->k_dim;
	ma.v_cache = g->v_cache + (size_t)l * g->n_ctx * g->v_dim;
	ma.eps = i->rms_eps;
	mla_rope(g->st, ma, g->pos, nb);
	/* each head's nope query into the latent space (k_b), after the rope part */
	mul_heads(g, L.wk_b, H, g->mla_q, (size_t)qh, (size_t)H * qh, g->q, i->head_dim, g->q_dim, nb);
	attn_args at = attn_of(g, l, 1);
	attention(g->st, at, g->pos, nb);
	mul_heads(g, L.wv_b, H, g->att, a->kv_lora, g->att_dim, g->att_v, a->v, (size_t)H * a->v, nb);
}

static void attention_block(arca_gpu *g, const arca_rt_layer &L, uint32_t l, int nb)
{
	const arca_model *m = g->m;
	const arca_model_info *i = &m->info;
	const int E = (int)i->n_embd;
	rmsnorm(g->st, g->xn, g->x, (const float *)L.attn_norm.data, E, (size_t)E, nb, i->rms_eps);
	if (m->mla.kv_lora) {
		mla_block(g, L, l, nb);
	} else {
		mul_qkv(g, L, g->xn, nb);
		qkv_args qa = {};
		qa.q = g->q;
		qa.k = g->k;
		qa.v = g->v;
		qa.q_norm = (const float *)L.q_norm.data;
		qa.k_norm = (const float *)L.k_norm.data;
		qa.q_span = (int)L.q_norm.ne0;
		qa.k_span = (int)L.k_norm.ne0;
		qa.n_head = (int)i->n_head;
		qa.n_head_kv = (int)i->n_head_kv;
		qa.head_dim = (int)i->head_dim;
		qa.q_dim = (int)g->q_dim;
		qa.k_dim = (int)g->k_dim;
		qa.v_dim = (int)g->v_dim;
		qa.n_rot = (int)i->n_rot;
		qa.neox = i->rope_neox;
		qa.cos_t = g->cos_t;
		qa.sin_t = g->sin_t;
		qa.k_cache = g->k_cache + (size_t)l * g->n_ctx * g->k_dim;
		qa.v_cache = g->v_cache + (size_t)l * g->n_ctx * g->v_dim;
		qa.eps = i->rms_eps;
		qkv_rope(g->st, qa, g->pos, nb);
		attn_args at = attn_of(g, l, (int)i->n_head_kv);
		attention(g->st, at, g->pos, nb);
	}
	const float *heads = m->mla.kv_lora ? g->att_v : g->att;
	if (L.post_attn_norm.data) {
		mul(g, L.wo, heads, nb, g->ffn_out);
		rmsnorm(g->st, g->ffn_out, g->ffn_out, (const float *)L.post_attn_norm.data, E,
			(size_t)E, nb, i->rms_eps);
		add(g->st, g->x, g->ffn_out, (size_t)nb * E);
	} else {
		mul_add(g, L.wo, heads, nb, g->x);
	}
}

static void moe_ffn(arca_gpu *g, const arca_rt_layer &L, int nb)
{
	const arca_model *m = g->m;
	const arca_model_info *i = &m->info;
	const int E = (int)i->n_embd, K = (int)i->n_expert_used, F = (int)i->n_ff_exp;
	mul(g, L.gate_inp, g->xn, nb, g->router);
	route_args ra = {};
	ra.logits = g->router;
	ra.bias = (const float *)L.exp_probs_b.data;
	ra.sel = g->moe_sel;
	ra.w = g->moe_w;
	ra.n_expert = (int)i->n_expert;
	ra.k = K;
	ra.n_groups = (int)m->moe.n_groups;
	ra.n_groups_used = (int)m->moe.n_groups_used;
	ra.gating = m->moe.gating;
	ra.norm = m->moe.norm;
	ra.scale = m->moe.scale;
	route(g->st, ra, nb);
	if (nb > 1)
		group_slots(g->st, g->moe_sel, nb * K, (int)i->n_expert, g->moe_list, g->moe_off,
			g->moe_cnt);
	prod ps[2] = { experts_of(g, L.gate_exps, nb, K, g->xn, (size_t)E, K, g->moe_gate, (size_t)F),
		experts_of(g, L.up_exps, nb, K, g->xn, (size_t)E, K, g->moe_up, (size_t)F) };
	glu(g, L.gate_exps, L.up_exps, ps, nb, (size_t)nb * K * F);
	mul_experts(g, L.down_exps, nb, K, g->moe_gate, (size_t)F, 1, g->moe_y, (size_t)E);
	moe_combine(g->st, g->ffn_out, g->moe_y, g->moe_sel, g->moe_w, E, K, nb);
	if (L.gate_shexp.data) {   /* DeepSeek's shared experts, added last */
		mul_glu(g, L.gate_shexp, L.up_shexp, g->xn, nb, g->gate, g->up);
		mul_add(g, L.down_shexp, g->gate, nb, g->ffn_out);
	}
}

static void ffn_block(arca_gpu *g, const arca_rt_layer &L, int nb)
{
	const arca_model_info *i = &g->m->info;
	const int E = (int)i->n_embd;
	rmsnorm(g->st, g->xn, g->x, (const float *)L.ffn_norm.data, E, (size_t)E, nb, i->rms_eps);
	if (L.moe) {
		moe_ffn(g, L, nb);
	} else {
		mul_glu(g, L.gate, L.up, g->xn, nb, g->gate, g->up);
		if (!L.post_ffn_norm.data) {
			mul_add(g, L.down, g->gate, nb, g->x);   /* the residual added by the product */
			return;
		}
		mul(g, L.down, g->gate, nb, g->ffn_out);
	}
	if (L.post_ffn_norm.data)
		rmsnorm(g->st, g->ffn_out, g->ffn_out, (const float *)L.post_ffn_norm.data, E,
			(size_t)E, nb, i->rms_eps);
	add(g->st, g->x, g->ffn_out, (size_t)nb * E);
}

/* Everything one step puts on the stream, from the pinned inputs to the pinned outputs. */
static void enqueue(arca_gpu *g, int nb, size_t rows)
{
	const arca_model_info *i = &g->m->info;
	const size_t E = i->n_embd;
	cudaMemcpyAsync(g->pos, g->h_pos, sizeof(int), cudaMemcpyHostToDevice, g->st);
	cudaMemcpyAsync(g->x, g->h_x, (size_t)nb * E * sizeof(float), cudaMemcpyHostToDevice, g->st);
	for (uint32_t l = 0; l < g->n_layers; l++) {
		attention_block(g, g->layers[l], l, nb);
		ffn_block(g, g->layers[l], nb);
	}
	if (!g->all) {
		cudaMemcpyAsync(g->h_x, g->x, (size_t)nb * E * sizeof(float), cudaMemcpyDeviceToHost,
			g->st);
		return;
	}
	if (!rows)
		return;
	rmsnorm(g->st, g->xn, g->x + (size_t)(nb - (int)rows) * E, (const float *)g->out_norm.data,
		(int)E, E, (int)rows, i->rms_eps);
	mul(g, g->output, g->xn, (int)rows, g->logits);
	cudaMemcpyAsync(g->h_logits, g->logits, rows * i->n_vocab * sizeof(float),
		cudaMemcpyDeviceToHost, g->st);
}

extern "C" arca_err arca_gpu_forward(arca_gpu *g, float *x, size_t n, uint32_t n_past,
	size_t rows, float *logits)
{
	const arca_model_info *i = &g->m->info;
	if (!n || n > g->n_batch || n_past + n > g->n_ctx || rows > n)
		return arca_error_set(ARCA_EINVALID, "GPU step of %zu tokens at %u does not fit "
			"(batch %u, context %u)", n, n_past, g->n_batch, g->n_ctx);
	if (!g->all)
		rows = 0;
	*g->h_pos = (int)n_past;
	memcpy(g->h_x, x, n * i->n_embd * sizeof(float));
	cudaGetLastError();   /* start from a clean error state */
	if (n == 1) {
		/* a decode step: captured once per output shape, replayed after */
		if (!g->graph || g->graph_rows != rows) {
			if (g->graph)
				cudaGraphExecDestroy(g->graph);
			g->graph = nullptr;
			cudaGraph_t graph;
			CK(cudaStreamBeginCapture(g->st, cudaStreamCaptureModeThreadLocal));
			enqueue(g, 1, rows);
			CK(cudaStreamEndCapture(g->st, &graph));
			cudaError_t e = cudaGraphInstantiate(&g->graph, graph, 0);
			cudaGraphDestroy(graph);
			if (e != cudaSuccess)
				return cuda_failed(e, "instantiating the decode graph");
			g->graph_rows = rows;
		}
		CK(cudaGraphLaunch(g->graph, g->st));
	} else {
		enqueue(g, (int)n, rows);
	}
	CK(cudaGetLastError());
	CK(cudaStreamSynchronize(g->st));
	char failed[160];
	if (blas_failed(g->bl, failed, sizeof(failed)))
		return arca_error_set(ARCA_EIO, "cuBLAS: %s", failed);
	if (rows)
		memcpy(logits, g->h_logits, rows * i->n_vocab * sizeof(float));
	else if (!g->all)
		memcpy(x, g->h_x, n * i->n_embd * sizeof(float));
	return ARCA_OK;
}
