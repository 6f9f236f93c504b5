// SPDX-License-Identifier: Apache-2.0
// runtime/cuda/gemm.cu — a prompt's dense products through cuBLAS, where it is installed:
// the library is loaded when the backend opens (dlopen of the libcublas this build was
// compiled against), so a machine without it still runs, on the tile kernels of
// products.cu, and says so. F32 weights multiply float activations as they are (float
// products, no TF32); F16 and BF16 weights are read where they lie, the activations
// converted to the same type; quantized weights are decoded (blocks.cuh, the CPU's values)
// into a scratch buffer of half a bounded number of rows at a time, as the tile kernels
// decode them into shared memory. Float accumulation and float results throughout.
//
// The layout: weights are row-major m × n (rows row_bytes apart), activations nb rows of
// n, results nb rows of m. Column-major, as cuBLAS reads them, the weights are n × m (so
// op T gives m × n), the activations n × nb and the results m × nb:
//     y (m × nb, ld y_stride) = Wᵀ (m × n, ld n) · x (n × nb, ld x_stride).
// Under ARCA_GPU_EMU the emulation's cublasGemmEx (emu.cc) stands in, with a small chunk
// so that the tests walk the chunked path.
#include "runtime/cuda/blocks.cuh"
#include "runtime/cuda/kernels.cuh"

#ifndef ARCA_GPU_EMU
#include <cublas_v2.h>
#include <dlfcn.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace arca_cuda {

namespace {

#ifdef ARCA_GPU_EMU
constexpr size_t W_CHUNK = (size_t)1 << 14;   /* decoded weights per product step */
#else
constexpr size_t W_CHUNK = (size_t)1 << 24;   /* 32 MiB of half */
#endif

bool stored_as_is(int type)
{
	return type == T_F32 || type == T_F16 || type == T_BF16;
}

/* Rows of a matrix decoded per step: all, or as many as W_CHUNK elements hold, a multiple
 * of 8 where that leaves any (so each step's results start 32-byte aligned). */
size_t chunk_rows(int n, int m)
{
	size_t r = W_CHUNK / (size_t)n;
	if (r >= 16)
		r -= r % 8;
	return r < 1 ? 1 : r > (size_t)m ? (size_t)m : r;
}

size_t x_bytes(int type, int n, int nb)
{
	return type == T_F32 ? 0 : align256((size_t)nb * (size_t)n * 2);
}

size_t w_bytes(int type, int n, int m)
{
	return stored_as_is(type) ? 0 : align256(chunk_rows(n, m) * (size_t)n * 2);
}

/* The fewest tokens a product takes here, per weight type, until measured on a device:
 * float weights leave one matrix-vector pass per token; half weights the 64 × 32 tiles;
 * quantized ones first pay for decoding the matrix. ARCA_GPU_BLAS=N sets one for all. */
int min_tokens(int type, int forced)
{
	if (forced > 0)
		return forced;
	return type == T_F32 ? 4 : stored_as_is(type) ? 16 : 64;
}

/* rows × n weights from w (rows row_bytes apart) decoded into out (n apart), eight per
 * thread and step. */
template <int T> __global__ void __launch_bounds__(256) decode_rows(const uint8_t *w,
	size_t row_bytes, int n, size_t rows, __half *out)
{
	constexpr int cpb = block<T>::qk / 8;
	const size_t per_row = (size_t)n / 8, total = rows * per_row;
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
	     i += (size_t)gridDim.x * blockDim.x) {
		size_t r = i / per_row, c = i % per_row;
		float v[8];
		decode8<T>(w + r * row_bytes + (c / cpb) * block<T>::bytes, (int)(c % cpb), v);
		for (int e = 0; e < 8; e++)
			out[r * (size_t)n + 8 * c + (size_t)e] = to_16bit<__half>(v[e]);
	}
}

/* nb rows of n floats (stride apart) into nb rows of n values of A. */
template <class A> __global__ void __launch_bounds__(256) convert_rows(const float *x,
	size_t stride, int n, int nb, A *out)
{
	const size_t total = (size_t)nb * (size_t)n;
	for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < total;
	     i += (size_t)gridDim.x * blockDim.x)
		out[i] = to_16bit<A>(x[(i / (size_t)n) * stride + i % (size_t)n]);
}

unsigned blocks_for(size_t items)
{
	size_t b = (items + 255) / 256;
	return (unsigned)(b < 1 ? 1 : b > 65535 ? 65535 : b);
}

/* rows × n weights of a quantized type decoded into out (F32, F16 and BF16 are read in
 * place: no kernel is made for them). */
void decode(cudaStream_t st, int type, const uint8_t *w, size_t row_bytes, int n, size_t rows,
	__half *out)
{
	by_type(type, [&](auto t) {
		constexpr int T = decltype(t)::value;
		if constexpr (T != T_F32 && T != T_F16 && T != T_BF16)
			launch(decode_rows<T>, dim3(blocks_for(rows * (size_t)n / 8)), dim3(256), 0, st, w,
				row_bytes, n, rows, out);
	});
}

/* The cuBLAS entry points, found in the library (or the emulation's). */
typedef cublasStatus_t (*create_fn)(cublasHandle_t *);
typedef cublasStatus_t (*destroy_fn)(cublasHandle_t);
typedef cublasStatus_t (*stream_fn)(cublasHandle_t, cudaStream_t);
typedef cublasStatus_t (*version_fn)(cublasHandle_t, int *);
typedef cublasStatus_t (*gemm_fn)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int,
	int, int, const void *, const void *, cudaDataType, int, const void *, cudaDataType, int,
	const void *, void *, cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);

} // namespace

struct blas {
	void *lib = nullptr;
	create_fn create = nullptr;
	destroy_fn destroy = nullptr;
	stream_fn set_stream = nullptr;
	version_fn version = nullptr;
	gemm_fn gemm = nullptr;
	cublasHandle_t h = nullptr;
	int forced = 0;                 /* ARCA_GPU_BLAS=N */
	int status = 0;                 /* the first failed call's status and what it was */
	char failed[128] = "";
	char name[64] = "";
};

#ifdef ARCA_GPU_EMU
static const char *load(blas *b)
{
	b->create = cublasCreate_v2;
	b->destroy = cublasDestroy_v2;
	b->set_stream = cublasSetStream_v2;
	b->version = cublasGetVersion_v2;
	b->gemm = cublasGemmEx;
	return nullptr;
}
#else
#define ARCA_STR2(x) #x
#define ARCA_STR(x) ARCA_STR2(x)
static const char *load(blas *b)
{
	static char why[256];
	const char *file = "libcublas.so." ARCA_STR(CUBLAS_VER_MAJOR);
	b->lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!b->lib) {
		snprintf(why, sizeof(why), "%s", dlerror());
		return why;
	}
	b->create = (create_fn)dlsym(b->lib, "cublasCreate_v2");
	b->destroy = (destroy_fn)dlsym(b->lib, "cublasDestroy_v2");
	b->set_stream = (stream_fn)dlsym(b->lib, "cublasSetStream_v2");
	b->version = (version_fn)dlsym(b->lib, "cublasGetVersion_v2");
	b->gemm = (gemm_fn)dlsym(b->lib, "cublasGemmEx");
	if (!b->create || !b->destroy || !b->set_stream || !b->version || !b->gemm) {
		snprintf(why, sizeof(why), "%s lacks a function arca calls", file);
		return why;
	}
	return nullptr;
}
#endif

blas *blas_open(cudaStream_t st, char *why, size_t cap, bool *invalid)
{
	const char *env = getenv("ARCA_GPU_BLAS");
	*invalid = false;
	if (env && (!strcmp(env, "0") || !strcmp(env, "off"))) {
		snprintf(why, cap, "ARCA_GPU_BLAS=%s", env);
		return nullptr;
	}
	long forced = 0;
	if (env && *env) {
		char *end;
		forced = strtol(env, &end, 10);
		if (*end || forced < 2 || forced > 1 << 20) {
			snprintf(why, cap, "ARCA_GPU_BLAS=%s: give off, or the fewest tokens a product "
				"takes to cuBLAS (2 or more)", env);
			*invalid = true;
			return nullptr;
		}
	}
	blas *b = new blas();
	b->forced = (int)forced;
	const char *err = load(b);
	int version = 0;
	if (!err && b->create(&b->h) != CUBLAS_STATUS_SUCCESS)
		err = "cublasCreate failed";
	if (!err && (b->set_stream(b->h, st) != CUBLAS_STATUS_SUCCESS ||
	             b->version(b->h, &version) != CUBLAS_STATUS_SUCCESS))
		err = "cublasSetStream or cublasGetVersion failed";
	if (err) {
		snprintf(why, cap, "%s", err);
		blas_free(b);
		return nullptr;
	}
#ifdef ARCA_GPU_EMU
	snprintf(b->name, sizeof(b->name), "emulated cuBLAS");
#else
	snprintf(b->name, sizeof(b->name), "cuBLAS %d.%d.%d", version / 10000, version / 100 % 100,
		version % 100);
#endif
	return b;
}

void blas_free(blas *b)
{
	if (!b)
		return;
	if (b->h)
		b->destroy(b->h);
#ifndef ARCA_GPU_EMU
	if (b->lib)
		dlclose(b->lib);
#endif
	delete b;
}

const char *blas_name(const blas *b)
{
	return b->name;
}

size_t blas_scratch(int type, int n, int m, int n_batch)
{
	return x_bytes(type, n, n_batch) + w_bytes(type, n, m);
}

bool blas_product(blas *b, cudaStream_t st, const prod &p, void *scratch, size_t scratch_bytes)
{
	/* never a single token: a decode step is captured into a graph and stays in kernels */
	if (!b || p.nz != 1 || p.index || p.list || p.bias || p.nb < 2 ||
	    p.nb < min_tokens(p.type, b->forced) ||
	    p.n % 8 || x_bytes(p.type, p.n, p.nb) + w_bytes(p.type, p.n, p.m) > scratch_bytes)
		return false;
	const float one = 1.0f, beta = p.accumulate ? 1.0f : 0.0f;
	cudaDataType at = p.type == T_F32 ? CUDA_R_32F : p.type == T_BF16 ? CUDA_R_16BF : CUDA_R_16F;
	/* the activations, in the weights' type (F32: as they are) */
	const void *x = p.x;
	int ldx = (int)p.x_stride;
	if (p.type != T_F32) {
		unsigned nblk = blocks_for((size_t)p.nb * (size_t)p.n);
		if (p.type == T_BF16)
			launch(convert_rows<__nv_bfloat16>, dim3(nblk), dim3(256), 0, st, p.x, p.x_stride,
				p.n, p.nb, (__nv_bfloat16 *)scratch);
		else
			launch(convert_rows<__half>, dim3(nblk), dim3(256), 0, st, p.x, p.x_stride, p.n,
				p.nb, (__half *)scratch);
		x = scratch;
		ldx = p.n;
	}
	__half *wdec = (__half *)((uint8_t *)scratch + x_bytes(p.type, p.n, p.nb));
	const size_t step = stored_as_is(p.type) ? (size_t)p.m : chunk_rows(p.n, p.m);
	for (size_t r0 = 0; r0 < (size_t)p.m; r0 += step) {
		const size_t rows = (size_t)p.m - r0 < step ? (size_t)p.m - r0 : step;
		const uint8_t *w = p.w + r0 * p.row_bytes;
		int ldw = (int)(p.row_bytes / (p.type == T_F32 ? 4 : 2));
		if (!stored_as_is(p.type)) {
			decode(st, p.type, w, p.row_bytes, p.n, rows, wdec);
			w = (const uint8_t *)wdec;
			ldw = p.n;
		}
		cublasStatus_t s = b->gemm(b->h, CUBLAS_OP_T, CUBLAS_OP_N, (int)rows, p.nb, p.n, &one,
			w, at, ldw, x, at, ldx, &beta, p.y + r0, CUDA_R_32F, (int)p.y_stride,
			CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
		if (s != CUBLAS_STATUS_SUCCESS && !b->status) {
			b->status = (int)s;
			snprintf(b->failed, sizeof(b->failed), "cublasGemmEx (%d × %d × %d, type %d) "
				"returned status %d", (int)rows, p.nb, p.n, p.type, (int)s);
		}
	}
	return true;
}

int blas_failed(blas *b, char *msg, size_t cap)
{
	int s = b ? b->status : 0;
	if (s) {
		snprintf(msg, cap, "%s", b->failed);
		b->status = 0;
	}
	return s;
}

} // namespace arca_cuda
