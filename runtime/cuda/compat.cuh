/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/cuda/compat.cuh — what every file of the GPU backend includes: CUDA's headers,
 * or under ARCA_GPU_EMU the CPU emulation (emu.h); and the one way kernels are launched
 * (launch(): cudaLaunchKernelEx on a device, the emulator's block runner otherwise), so
 * the same kernel source runs in both.
 */
#ifndef ARCA_RUNTIME_CUDA_COMPAT_CUH
#define ARCA_RUNTIME_CUDA_COMPAT_CUH

#ifdef ARCA_GPU_EMU
#include "runtime/cuda/emu.h"
#else
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>
#endif

#include <utility>

namespace arca_cuda {

/* Launches kernel over grid × block with smem bytes of dynamic shared memory on stream. */
template <class... P, class... A>
static inline void launch(void (*kernel)(P...), dim3 grid, dim3 block, size_t smem,
	cudaStream_t stream, A... args)
{
#ifdef ARCA_GPU_EMU
	(void)stream;
	arca_emu::launch(grid, block, smem, [=] { kernel(args...); });
#else
	cudaLaunchConfig_t cfg = {};
	cfg.gridDim = grid;
	cfg.blockDim = block;
	cfg.dynamicSmemBytes = smem;
	cfg.stream = stream;
	cudaLaunchKernelEx(&cfg, kernel, static_cast<P>(args)...);
#endif
}

/* Before a loop of constant trip count: unrolled on a device (so that register arrays
 * are indexed by constants); nothing for the emulation's compiler. */
#ifdef ARCA_GPU_EMU
#define ARCA_UNROLL
#else
#define ARCA_UNROLL _Pragma("unroll")
#endif

/* A load of sizeof(V) bytes (2, 4, 8 or 16) from p, which must be aligned to them: a
 * device faults otherwise, and the emulation stops with the address. */
template <class V> static __device__ __forceinline__ V load_aligned(const void *p)
{
#ifdef ARCA_GPU_EMU
	arca_emu::check_aligned(p, sizeof(V));
#endif
	return *(const V *)p;
}

/* n rounded up to a multiple of 256 bytes (device allocations and their parts). */
static inline size_t align256(size_t n)
{
	return (n + 255) / 256 * 256;
}

/* The dynamic shared memory of the running block. */
#ifdef ARCA_GPU_EMU
#define ARCA_DYNAMIC_SHARED(type, name) type *name = (type *)arca_emu::dynamic_shared()
#else
#define ARCA_DYNAMIC_SHARED(type, name) \
	extern __shared__ __align__(16) unsigned char arca_dyn_smem_[]; \
	type *name = (type *)arca_dyn_smem_
#endif

/* Sum and max across the 32 lanes of a warp (every lane gets the result). */
static __device__ __forceinline__ float warp_sum(float v)
{
#ifdef ARCA_GPU_EMU
	return arca_emu::warp_sum(v);   /* the same butterfly, fewer barriers */
#endif
	for (int m = 16; m > 0; m >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, m);
	return v;
}

static __device__ __forceinline__ float warp_max(float v)
{
	for (int m = 16; m > 0; m >>= 1)
		v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, m));
	return v;
}

/* Sum and max over the block's threads (blockDim.x a multiple of 32); every thread calls
 * them and gets the result. */
static __device__ __forceinline__ float block_sum(float v)
{
	__shared__ float part[32];
	const int lane = (int)threadIdx.x % 32, warp = (int)threadIdx.x / 32;
	v = warp_sum(v);
	__syncthreads();   /* part[] may still be read by the previous call */
	if (lane == 0)
		part[warp] = v;
	__syncthreads();
	return warp_sum(lane < (int)blockDim.x / 32 ? part[lane] : 0.0f);
}

static __device__ __forceinline__ float block_max(float v)
{
	__shared__ float part[32];
	const int lane = (int)threadIdx.x % 32, warp = (int)threadIdx.x / 32;
	v = warp_max(v);
	__syncthreads();
	if (lane == 0)
		part[warp] = v;
	__syncthreads();
	return warp_max(lane < (int)blockDim.x / 32 ? part[lane] : -INFINITY);
}

} // namespace arca_cuda

#endif
