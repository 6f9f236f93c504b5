// SPDX-License-Identifier: Apache-2.0
// tests/runtime/gpu_blocks.cc — the GPU's weight decoding (runtime/cuda/blocks.cuh) against
// the CPU's dequantization (arca_dequantize), value for value, for every type the GPU
// reads, through each path a product can take, over the CPU emulation of CUDA:
//
//   one token      a matrix × vector product with a one-hot activation: the result is the
//                  decoded weight of that column itself (every other product is 0 · w), so
//                  it must equal the CPU's value exactly;
//   tiles          a prompt of n tokens whose activations are the identity, through the
//                  wmma tiles (cuBLAS off): each result is one weight rounded to the tile's
//                  type (half; bfloat16 for BF16 weights) — exactly the CPU's value rounded;
//   cuBLAS         the same prompt through gemm.cu (the emulation's cublasGemmEx): quantized
//                  rows decoded to half in chunks (the emulation's chunk is 16,384 weights,
//                  so 40 rows of 1024 take three), F16/BF16 read in place, F32 as floats.
//
// Plain C++ (no cmocka): prints one line per failure and exits 1; 0 when all match.
#include "runtime/cuda/kernels.cuh"

extern "C" {
#include "arca/quant.h"
}

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace arca_cuda;

namespace {

int failures = 0;

struct type_case {
	int type;
	const char *name;
};

const type_case TYPES[] = {
	{ ARCA_GGML_F32, "F32" }, { ARCA_GGML_F16, "F16" }, { ARCA_GGML_BF16, "BF16" },
	{ ARCA_GGML_Q4_0, "Q4_0" }, { ARCA_GGML_Q4_1, "Q4_1" }, { ARCA_GGML_Q5_0, "Q5_0" },
	{ ARCA_GGML_Q5_1, "Q5_1" }, { ARCA_GGML_Q8_0, "Q8_0" }, { ARCA_GGML_Q4_K, "Q4_K" },
	{ ARCA_GGML_Q5_K, "Q5_K" }, { ARCA_GGML_Q6_K, "Q6_K" },
};

constexpr int N = 1024, M = 40;   /* columns (four K-quant super-blocks: 128 chunks of eight, so
                                  * the one-token kernel's unrolled loop runs), rows */

/* seeded N(0, 1)-ish values with a spread of magnitudes, so scales differ per block */
std::vector<float> weights(unsigned seed)
{
	std::vector<float> w((size_t)M * N);
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
	for (size_t i = 0; i < w.size(); i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		double u = (double)(s >> 11) / 9007199254740992.0 - 0.5;
		w[i] = (float)(u * (1.0 + (double)((i / 32) % 7)));
	}
	return w;
}

float to_tile(int type, float v)
{
	return type == ARCA_GGML_BF16 ? arca_bf16_to_fp32(arca_fp32_to_bf16(v))
	                              : arca_fp16_to_fp32(arca_fp32_to_fp16(v));
}

void check(const char *type, const char *path, int r, int c, float got, float want)
{
	if (got == want || failures > 20)
		return;
	fprintf(stderr, "FAIL %s, %s: row %d column %d: %.9g, the CPU %.9g\n", type, path, r, c,
		(double)got, (double)want);
	failures++;
}

template <class T> T *device(size_t n)
{
	void *p = nullptr;
	if (cudaMalloc(&p, n * sizeof(T)) != cudaSuccess) {
		fprintf(stderr, "gpu_blocks: cudaMalloc failed\n");
		exit(2);
	}
	return (T *)p;
}

prod product_of(int type, const uint8_t *w, size_t row_bytes, const float *x, float *y, int nb)
{
	prod p = {};
	p.w = w;
	p.type = type;
	p.row_bytes = row_bytes;
	p.w_z = row_bytes * M;
	p.n = N;
	p.m = M;
	p.x = x;
	p.x_stride = N;
	p.x_div = 1;
	p.y = y;
	p.y_stride = M;
	p.nb = nb;
	p.nz = 1;
	return p;
}

void one_type(const type_case &tc, cudaStream_t st, blas *bl)
{
	std::vector<float> src = weights((unsigned)tc.type + 7);
	size_t row_bytes = arca_ggml_row_size(tc.type, N);
	std::vector<uint8_t> q(row_bytes * M);
	std::vector<float> ref((size_t)M * N);
	if (arca_quantize_rows(tc.type, src.data(), q.data(), M, N) < 0 ||
	    arca_dequantize(tc.type, q.data(), ref.data(), (size_t)M * N) < 0) {
		fprintf(stderr, "FAIL %s: the CPU could not quantize it\n", tc.name);
		failures++;
		return;
	}
	uint8_t *w = device<uint8_t>(q.size());
	float *x = device<float>((size_t)N * N), *y = device<float>((size_t)N * M);
	cudaMemcpy(w, q.data(), q.size(), cudaMemcpyHostToDevice);

	/* one token: a one-hot activation per column */
	std::vector<float> onehot(N), out((size_t)N * M);
	for (int c = 0; c < N; c++) {
		std::fill(onehot.begin(), onehot.end(), 0.0f);
		onehot[c] = 1.0f;
		cudaMemcpy(x, onehot.data(), N * sizeof(float), cudaMemcpyHostToDevice);
		product(st, product_of(tc.type, w, row_bytes, x, y, 1));
		cudaStreamSynchronize(st);
		cudaMemcpy(out.data(), y, M * sizeof(float), cudaMemcpyDeviceToHost);
		for (int r = 0; r < M; r++)
			check(tc.name, "one token", r, c, out[r], ref[(size_t)r * N + c]);
	}

	/* a prompt of N tokens whose activations are the identity: token c reads column c */
	std::vector<float> eye((size_t)N * N, 0.0f);
	for (int c = 0; c < N; c++)
		eye[(size_t)c * N + c] = 1.0f;
	cudaMemcpy(x, eye.data(), eye.size() * sizeof(float), cudaMemcpyHostToDevice);
	const char *paths[2] = { "tiles", "cuBLAS" };
	void *scratch = nullptr;
	for (int path = 0; path < 2; path++) {
		prod p = product_of(tc.type, w, row_bytes, x, y, N);
		cudaMemsetAsync(y, 0xff, (size_t)N * M * sizeof(float), st);   /* NaN: unwritten shows */
		if (path == 0) {
			product(st, p);
		} else {
			size_t bytes = blas_scratch(tc.type, N, M, N);
			scratch = device<uint8_t>(bytes ? bytes : 1);
			if (!blas_product(bl, st, p, scratch, bytes)) {
				fprintf(stderr, "FAIL %s: cuBLAS did not take a %d-token product\n", tc.name, N);
				failures++;
				continue;
			}
			char msg[200];
			if (blas_failed(bl, msg, sizeof(msg))) {
				fprintf(stderr, "FAIL %s: %s\n", tc.name, msg);
				failures++;
			}
		}
		cudaStreamSynchronize(st);
		cudaMemcpy(out.data(), y, out.size() * sizeof(float), cudaMemcpyDeviceToHost);
		/* F32 weights keep float products in both paths */
		bool exact = tc.type == ARCA_GGML_F32;
		for (int c = 0; c < N; c++)
			for (int r = 0; r < M; r++) {
				float want = ref[(size_t)r * N + c];
				check(tc.name, paths[path], r, c, out[(size_t)c * M + r],
					exact ? want : to_tile(tc.type, want));
			}
	}
	cudaFree(scratch);
	cudaFree(w);
	cudaFree(x);
	cudaFree(y);
}

} // namespace

int main()
{
	cudaStream_t st;
	cudaStreamCreate(&st);
	char why[200];
	bool invalid;
	unsetenv("ARCA_GPU_BLAS");
	blas *bl = blas_open(st, why, sizeof(why), &invalid);
	if (!bl) {
		fprintf(stderr, "gpu_blocks: the emulated cuBLAS did not open: %s\n", why);
		return 1;
	}
	for (const type_case &tc : TYPES)
		one_type(tc, st, bl);
	blas_free(bl);
	cudaStreamDestroy(st);
	if (failures) {
		fprintf(stderr, "gpu_blocks: %d values differ from the CPU's\n", failures);
		return 1;
	}
	printf("gpu_blocks: %zu types, one token, tiles and cuBLAS: every value the CPU's\n",
		sizeof(TYPES) / sizeof(TYPES[0]));
	return 0;
}
