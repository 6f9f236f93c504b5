/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/cuda/emu.h — the part of CUDA the GPU backend uses, run on the CPU, so that the
 * backend's kernels and its forward pass are tested on machines without a GPU (and under
 * the sanitizers). Built only for tests (ARCA_GPU_EMU); the real build includes CUDA's
 * own headers instead (compat.cuh chooses).
 *
 * A launch runs its blocks one after another; the threads of a block are fibers run in
 * turn on the launching thread, each until it reaches a barrier (__syncthreads, a warp
 * barrier) or returns, so barriers mean what they mean on a device and threads stuck at
 * different barriers abort with a message; the sanitizers see every access. `__shared__`
 * variables are function statics: one copy that all threads of the block share, reused by
 * the next block. Warp shuffles exchange through per-warp slots between two warp barriers,
 * so every lane of a warp must take part (as CUDA requires for a full mask).
 * Memory is host memory; copies are memcpy; streams are in order by construction; graph
 * capture records the launches and copies and a graph launch replays them.
 */
#ifndef ARCA_RUNTIME_CUDA_EMU_H
#define ARCA_RUNTIME_CUDA_EMU_H

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

struct dim3 {
	unsigned x, y, z;
	constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};
struct uint3 {
	unsigned x, y, z;
};
struct alignas(16) float4 {
	float x, y, z, w;
};
struct alignas(16) uint4 {
	unsigned x, y, z, w;
};
struct alignas(8) uint2 {
	unsigned x, y;
};

namespace arca_emu {
extern thread_local uint3 thread_idx, block_idx;
extern dim3 block_dim, grid_dim;

/* Runs fn on every thread of every block of grid × block (dynamic shared memory: smem
 * bytes at dynamic_shared()); recorded instead while a stream is capturing. */
void launch(dim3 grid, dim3 block, size_t smem, std::function<void()> fn);
/* Work that is not a kernel (copies, sets) in stream order: run now, or recorded. */
void submit(std::function<void()> fn);
void *dynamic_shared();
void sync_block();
void sync_warp();
/* Lane exchange: each lane offers `bits`, receives the bits lane `src` offered. */
uint64_t exchange(uint64_t bits, unsigned src);
unsigned lane();
/* The xor-butterfly sum of a warp's values (what compat.cuh's warp_sum computes with five
 * shuffles), in three barriers instead of ten, computed once per warp. */
float warp_sum(float v);
/* 256 floats the running warp shares (the matrix fragments' common tile). */
float *warp_scratch();
/* Aborts, naming the address, when p is not aligned to bytes (a device faults there). */
void check_aligned(const void *p, size_t bytes);
} // namespace arca_emu

#define threadIdx arca_emu::thread_idx
#define blockIdx arca_emu::block_idx
#define blockDim arca_emu::block_dim
#define gridDim arca_emu::grid_dim
#define warpSize 32

static inline void __syncthreads() { arca_emu::sync_block(); }
static inline void __syncwarp(unsigned mask = 0xffffffffu) { (void)mask; arca_emu::sync_warp(); }

template <class T> static inline T arca_emu_shfl(T v, unsigned src)
{
	static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
	uint64_t bits = 0;
	memcpy(&bits, &v, sizeof(T));
	bits = arca_emu::exchange(bits, src);
	T out;
	memcpy(&out, &bits, sizeof(T));
	return out;
}
template <class T> static inline T __shfl_xor_sync(unsigned, T v, int mask, int width = 32)
{
	unsigned l = arca_emu::lane();
	unsigned src = (unsigned)((int)l ^ mask);
	if (src / (unsigned)width != l / (unsigned)width)
		src = l;
	return arca_emu_shfl(v, src);
}
template <class T> static inline T __shfl_sync(unsigned, T v, int src, int width = 32)
{
	unsigned l = arca_emu::lane();
	return arca_emu_shfl(v, (l / (unsigned)width) * (unsigned)width + (unsigned)src % (unsigned)width);
}
template <class T> static inline T __shfl_down_sync(unsigned, T v, unsigned d, int width = 32)
{
	unsigned l = arca_emu::lane(), w = (unsigned)width;
	unsigned src = l + d;
	if (src / w != l / w)
		src = l;
	return arca_emu_shfl(v, src);
}

static inline int atomicAdd(int *p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
static inline unsigned atomicAdd(unsigned *p, unsigned v)
{
	return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline float __int_as_float(int i)
{
	float f;
	memcpy(&f, &i, 4);
	return f;
}
static inline float __fdividef(float a, float b) { return a / b; }
template <class T> static inline T __ldg(const T *p) { return *p; }
static inline int __dp4a(int a, int b, int c)
{
	for (int i = 0; i < 4; i++)
		c += (int8_t)(a >> (8 * i)) * (int8_t)(b >> (8 * i));
	return c;
}

/* half and bfloat16: storage only; arithmetic goes through float, as the kernels do. */
extern "C" float arca_fp16_to_fp32(uint16_t h);
extern "C" uint16_t arca_fp32_to_fp16(float f);
extern "C" float arca_bf16_to_fp32(uint16_t h);
extern "C" uint16_t arca_fp32_to_bf16(float f);
struct __half {
	uint16_t bits;
};
struct __nv_bfloat16 {
	uint16_t bits;
};
static inline float __half2float(__half h)
{
	/* exact: normals and infinities/NaN by shifting, subnormals by one multiply */
	uint32_t sign = (uint32_t)(h.bits & 0x8000u) << 16, em = h.bits & 0x7fffu, bits;
	if (em >= 0x7c00u)
		bits = sign | 0x7f800000u | (em & 0x3ffu) << 13;
	else if (em >= 0x400u)
		bits = sign | ((em << 13) + 0x38000000u);
	else {
		float f = (float)em * 5.9604644775390625e-8f;   /* 2^-24 */
		memcpy(&bits, &f, 4);
		bits |= sign;
	}
	float out;
	memcpy(&out, &bits, 4);
	return out;
}
static inline __half __float2half(float f) { return __half{ arca_fp32_to_fp16(f) }; }
static inline __half __float2half_rn(float f) { return __float2half(f); }
static inline float __bfloat162float(__nv_bfloat16 h) { return arca_bf16_to_fp32(h.bits); }
static inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16{ arca_fp32_to_bf16(f) }; }
static inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __float2bfloat16(f); }
static inline __half __ushort_as_half(unsigned short b) { return __half{ b }; }
static inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short b) { return __nv_bfloat16{ b }; }

/* Matrix fragments (nvcuda::wmma) for the 16×16×16 shapes the kernels use. A real fragment
 * spreads its tile over the warp's lanes in an undocumented layout that kernels never
 * index; here every lane holds the whole tile, so each lane's product is the full one and
 * stores write the same values. Products accumulate in float, as the tensor cores do. */
namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
template <class Use, int M, int N, int K, class T, class Layout = void> struct fragment {
	static constexpr int num_elements = 256;
	float x[256];
};
template <class Use, int M, int N, int K, class T, class Layout>
static inline void fill_fragment(fragment<Use, M, N, K, T, Layout> &f, float v)
{
	for (int i = 0; i < 256; i++)
		f.x[i] = v;
}
static inline float emu_to_float(const __half &h) { return __half2float(h); }
static inline float emu_to_float(const __nv_bfloat16 &h) { return __bfloat162float(h); }
static inline float emu_to_float(const float &f) { return f; }
/* A: element (r, c) at p[r·ld + c] row-major, p[c·ld + r] col-major; same for B (k, n).
 * Lanes 0-15 read a row each into the warp's scratch tile; then every lane takes a copy. */
template <class Use, int M, int N, int K, class T, class Layout>
static inline void load_matrix_sync(fragment<Use, M, N, K, T, Layout> &f, const T *p, unsigned ld)
{
	bool col = std::is_same<Layout, col_major>::value;
	float *tile = arca_emu::warp_scratch();
	unsigned r = arca_emu::lane();
	if (r < 16)
		for (int c = 0; c < 16; c++)
			tile[r * 16 + c] = emu_to_float(col ? p[c * ld + r] : p[r * ld + c]);
	arca_emu::sync_warp();
	memcpy(f.x, tile, sizeof(f.x));
	arca_emu::sync_warp();
}
/* Lanes 0-15 compute a row each of the product; every lane takes the whole tile. */
template <int M, int N, int K, class TA, class LA, class TB, class LB>
static inline void mma_sync(fragment<accumulator, M, N, K, float> &d,
	const fragment<matrix_a, M, N, K, TA, LA> &a, const fragment<matrix_b, M, N, K, TB, LB> &b,
	const fragment<accumulator, M, N, K, float> &c)
{
	float *tile = arca_emu::warp_scratch();
	unsigned r = arca_emu::lane();
	if (r < 16)
		for (int n = 0; n < 16; n++) {
			float acc = c.x[r * 16 + n];
			for (int k = 0; k < 16; k++)
				acc += a.x[r * 16 + k] * b.x[k * 16 + n];
			tile[r * 16 + n] = acc;
		}
	arca_emu::sync_warp();
	memcpy(d.x, tile, sizeof(d.x));
	arca_emu::sync_warp();
}
static inline void store_matrix_sync(float *p, const fragment<accumulator, 16, 16, 16, float> &f,
	unsigned ld, layout_t layout)
{
	arca_emu::sync_warp();   /* every lane has its tile before any lane writes */
	for (int r = 0; r < 16; r++)
		for (int c = 0; c < 16; c++)
			if (arca_emu::lane() % 32 == 0)
				(layout == mem_col_major ? p[c * ld + r] : p[r * ld + c]) = f.x[r * 16 + c];
	arca_emu::sync_warp();
}
} // namespace wmma
} // namespace nvcuda

/* ------------------------------------------------------------------ runtime API */

typedef int cudaError_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2, cudaErrorInvalidValue = 1 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice,
	cudaMemcpyDefault };
typedef struct arca_emu_stream *cudaStream_t;
typedef struct arca_emu_event *cudaEvent_t;
typedef struct arca_emu_graph *cudaGraph_t;
typedef struct arca_emu_graph *cudaGraphExec_t;
enum { cudaStreamCaptureModeGlobal = 0, cudaStreamCaptureModeThreadLocal = 1 };
typedef int cudaStreamCaptureMode;
struct cudaDeviceProp {
	char name[256];
	size_t totalGlobalMem;
	int major, minor, multiProcessorCount;
	size_t sharedMemPerBlock, sharedMemPerBlockOptin;
};

cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaSetDevice(int d);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d);
cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total);
cudaError_t cudaMalloc(void **p, size_t n);
cudaError_t cudaFree(void *p);
cudaError_t cudaMallocHost(void **p, size_t n);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind k);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind k, cudaStream_t s);
cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t s);
cudaError_t cudaStreamCreate(cudaStream_t *s);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaGetLastError();
const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaEventCreate(cudaEvent_t *e);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b);
cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long flags);
cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s);
cudaError_t cudaGraphDestroy(cudaGraph_t g);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e);
cudaError_t cudaFuncSetAttribute(const void *f, int attr, int value);
enum { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };

/* ------------------------------------------------------------------ cuBLAS */

/* The part of cuBLAS runtime/cuda/gemm.cu calls (which it loads with dlopen on a device):
 * one handle, its stream, and cublasGemmEx over column-major matrices as cuBLAS defines
 * it — C = alpha · op(A) · op(B) + beta · C, op(X) = X or its transpose, A m × k (op N) or
 * k × m (op T) with leading dimension lda, likewise B, C m × n — for the types the backend
 * passes (A and B both half, both bfloat16 or both float; C float; float accumulation),
 * run in stream order. */
typedef int cublasStatus_t;
enum { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_INVALID_VALUE = 7,
	CUBLAS_STATUS_NOT_SUPPORTED = 15 };
typedef struct arca_emu_blas *cublasHandle_t;
typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 } cublasOperation_t;
typedef enum { CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14 } cudaDataType;
typedef enum { CUBLAS_COMPUTE_32F = 68 } cublasComputeType_t;
typedef enum { CUBLAS_GEMM_DEFAULT = -1 } cublasGemmAlgo_t;
cublasStatus_t cublasCreate_v2(cublasHandle_t *h);
cublasStatus_t cublasDestroy_v2(cublasHandle_t h);
cublasStatus_t cublasSetStream_v2(cublasHandle_t h, cudaStream_t s);
cublasStatus_t cublasGetVersion_v2(cublasHandle_t h, int *version);
cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m,
	int n, int k, const void *alpha, const void *a, cudaDataType at, int lda, const void *b,
	cudaDataType bt, int ldb, const void *beta, void *c, cudaDataType ct, int ldc,
	cublasComputeType_t compute, cublasGemmAlgo_t algo);

#endif
