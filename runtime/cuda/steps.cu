// SPDX-License-Identifier: Apache-2.0
// runtime/cuda/steps.cu — the element-wise steps between the products on the GPU: RMSNorm
// (a block per row, the sum of squares reduced across the block), residual and bias adds,
// and the SiLU-gated product, as runtime/ops.c computes them.
#include "runtime/cuda/kernels.cuh"

namespace arca_cuda {

namespace {

constexpr int NORM_THREADS = 256;

__global__ void rmsnorm_rows(float *y, const float *x, const float *w, int n, size_t stride,
	float eps)
{
	const float *xr = x + (size_t)blockIdx.x * stride;
	float *yr = y + (size_t)blockIdx.x * stride;
	float s = 0.0f;
	for (int i = (int)threadIdx.x; i < n; i += (int)blockDim.x)
		s += xr[i] * xr[i];
	s = block_sum(s);
	const float scale = 1.0f / sqrtf(s / (float)n + eps);
	for (int i = (int)threadIdx.x; i < n; i += (int)blockDim.x)
		yr[i] = w ? xr[i] * scale * w[i] : xr[i] * scale;
}

__global__ void add_rows(float *y, const float *x, size_t n)
{
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		y[i] += x[i];
}

__global__ void bias_rows(float *y, const float *b, int n, size_t total)
{
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < total)
		y[i] += b[i % (size_t)n];
}

__global__ void swiglu_rows(float *g, const float *u, size_t n)
{
	size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n)
		g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

unsigned blocks_for(size_t n, unsigned per)
{
	return (unsigned)((n + per - 1) / per);
}

} // namespace

void rmsnorm(cudaStream_t st, float *y, const float *x, const float *w, int n, size_t stride,
	int rows, float eps)
{
	launch(rmsnorm_rows, dim3((unsigned)rows), dim3(NORM_THREADS), 0, st, y, x, w, n, stride, eps);
}

void add(cudaStream_t st, float *y, const float *x, size_t n)
{
	launch(add_rows, dim3(blocks_for(n, 256)), dim3(256), 0, st, y, x, n);
}

void add_bias(cudaStream_t st, float *y, const float *b, int n, int rows)
{
	size_t total = (size_t)n * (size_t)rows;
	launch(bias_rows, dim3(blocks_for(total, 256)), dim3(256), 0, st, y, b, n, total);
}

void swiglu(cudaStream_t st, float *g, const float *u, size_t n)
{
	launch(swiglu_rows, dim3(blocks_for(n, 256)), dim3(256), 0, st, g, u, n);
}

} // namespace arca_cuda
