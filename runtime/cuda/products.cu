// SPDX-License-Identifier: Apache-2.0
// runtime/cuda/products.cu — weight × activation products on the GPU, reading weights in
// their stored type (blocks.cuh decodes them in registers). One token: a warp per output
// row walks the row eight elements per lane and step (consecutive lanes, consecutive
// bytes), dots them with the float activations, and sums across the warp — a decode step
// reads every weight byte once, which is what bounds it (16-byte loads where the type's
// layout allows, two to four chunks in flight per lane; a decode step's q/k/v, and
// gate/up with their SiLU, as one launch). Several tokens, where cuBLAS does not take them
// (gemm.cu):
// 64 rows × 32 tokens per block through the tensor cores (wmma 16×16×16): weights decoded
// into a half (BF16 weights: bfloat16) tile in shared memory, activations converted the
// same way, float accumulators; grouped, each matrix (expert) takes its own list of rows.
// Results may take a bias and be added to what y holds (a residual).
#include "runtime/cuda/blocks.cuh"
#include "runtime/cuda/kernels.cuh"

namespace arca_cuda {

namespace {

constexpr int MV_WARPS = 4;             /* rows per matrix-vector block */
constexpr int BM = 64, BN = 32, BK = 32, PAD = 8;

__device__ __forceinline__ const uint8_t *matrix_of(const prod &p, int z)
{
	size_t which = p.index ? (size_t)p.index[z] : (size_t)z;
	return p.w + which * p.w_z;
}

/* Eight activations from x: two 16-byte loads where x is aligned to them (rows of a
 * multiple of 4 floats from an aligned buffer), else one by one. */
static __device__ __forceinline__ void load_x8(const float *x, bool x16, float *out)
{
	if (x16) {
		float4 u = load_aligned<float4>(x), v = load_aligned<float4>(x + 4);
		out[0] = u.x, out[1] = u.y, out[2] = u.z, out[3] = u.w;
		out[4] = v.x, out[5] = v.y, out[6] = v.z, out[7] = v.w;
	} else {
		for (int k = 0; k < 8; k++)
			out[k] = x[k];
	}
}

/* Products launched together: block x of a launch takes row block x − first[k] of ps[k]
 * (first[n] = the blocks in all); glu: ps[0] and ps[1] (gate, up) row by row. */
struct prod_set {
	prod ps[3];
	int first[4];
	int n;
	bool glu;
};

/* Chunks of eight weights a lane has in flight at once: a 16-bit chunk is 16 bytes, a
 * quantized one 4-9, so those take four to keep as many bytes on their way. */
template <int T> struct in_flight {
	static constexpr int chunks = block<T>::bytes * 8 / block<T>::qk >= 16 ? 2 : 4;
};

/* The dot of row `row` of matrix z with token t's activations, summed across the warp:
 * each lane takes chunks lane, lane + 32, ..., U at a time, so that U chunks' loads are in
 * flight before the first multiply. */
template <int T> __device__ __forceinline__ float row_dot(const prod &p, int row, int z, int t,
	int lane)
{
	constexpr int U = in_flight<T>::chunks, cpb = block<T>::qk / 8;
	const uint8_t *w = matrix_of(p, z) + (size_t)row * p.row_bytes;
	const float *x = p.x + (size_t)(z / p.x_div) * p.x_z + (size_t)t * p.x_stride;
	const bool x16 = ((uintptr_t)x & 15) == 0;
	const int chunks = p.n / 8;
	float acc = 0.0f;
	int i = lane;
	for (; i + 32 * (U - 1) < chunks; i += 32 * U) {
		float v[U][8], xs[U][8];
		ARCA_UNROLL
		for (int u = 0; u < U; u++) {
			const int c = i + 32 * u;
			decode8<T>(w + (size_t)(c / cpb) * block<T>::bytes, c % cpb, v[u]);
			load_x8(x + 8 * c, x16, xs[u]);
		}
		ARCA_UNROLL
		for (int u = 0; u < U; u++) {
			ARCA_UNROLL
			for (int k = 0; k < 8; k++)
				acc += v[u][k] * xs[u][k];
		}
	}
	for (; i < chunks; i += 32) {
		float v[8], xs[8];
		decode8<T>(w + (size_t)(i / cpb) * block<T>::bytes, i % cpb, v);
		load_x8(x + 8 * i, x16, xs);
		ARCA_UNROLL
		for (int k = 0; k < 8; k++)
			acc += v[k] * xs[k];
	}
	return warp_sum(acc);
}

/* Where a result goes: + bias, stored or added (prod's bias and accumulate). */
__device__ __forceinline__ void put(const prod &p, float *y, int row, float v)
{
	if (p.bias)
		v += p.bias[row];
	*y = p.accumulate ? *y + v : v;
}

template <int T> __global__ void __launch_bounds__(32 * MV_WARPS) matvec(prod_set s)
{
	const int warp = (int)threadIdx.x / 32, lane = (int)threadIdx.x % 32;
	const int z = (int)blockIdx.y, t = (int)blockIdx.z;
	int k = 0;
	while (k + 1 < s.n && (int)blockIdx.x >= s.first[k + 1])
		k++;
	const prod &p = s.ps[k];
	const int row = ((int)blockIdx.x - s.first[k]) * MV_WARPS + warp;
	if (row >= p.m)
		return;   /* the whole warp: no shuffle is left waiting */
	float v = row_dot<T>(p, row, z, t, lane);
	if (s.glu) {
		float u = row_dot<T>(s.ps[1], row, z, t, lane);
		v = v / (1.0f + expf(-v)) * u;   /* as swiglu_rows */
	}
	if (lane == 0)
		put(p, p.y + (size_t)z * p.y_z + (size_t)t * p.y_stride + row, row, v);
}

/* Block (bx, by, z): rows [64·bx, +64) × tokens [32·by, +32) of matrix z; 4 warps, each
 * 16 rows × 32 tokens (two accumulator tiles). n is a multiple of 32. */
template <int T, class A> __global__ void __launch_bounds__(128) matmul(prod p)
{
	namespace wm = nvcuda::wmma;
	__shared__ __align__(32) A ws[BM][BK + PAD];
	__shared__ __align__(32) A xs[BN][BK + PAD];
	__shared__ __align__(32) float cs[BN][BM + 4];
	const int tid = (int)threadIdx.x, warp = tid / 32;
	const int r0 = (int)blockIdx.x * BM, t0 = (int)blockIdx.y * BN, z = (int)blockIdx.z;
	const int count = p.list ? p.cnt[z] : p.nb;
	if (t0 >= count)
		return;   /* the whole block: a grouped matrix with fewer rows */
	const int32_t *slots = p.list ? p.list + p.off[z] : nullptr;
	const uint8_t *w = matrix_of(p, z);
	const float *x = p.x + (slots ? 0 : (size_t)(z / p.x_div) * p.x_z);
	constexpr int cpb = block<T>::qk / 8;
	wm::fragment<wm::accumulator, 16, 16, 16, float> acc[2];
	wm::fill_fragment(acc[0], 0.0f);
	wm::fill_fragment(acc[1], 0.0f);
	for (int k0 = 0; k0 < p.n; k0 += BK) {
		/* 64 rows × 4 chunks of 8 weights, 2 per thread; 32 tokens × 32 floats, 8 each */
		for (int j = tid; j < BM * (BK / 8); j += 128) {
			int r = j / (BK / 8), c = j % (BK / 8);
			float v[8];
			if (r0 + r < p.m) {
				int i = (k0 / 8) + c;
				decode8<T>(w + (size_t)(r0 + r) * p.row_bytes +
					(size_t)(i / cpb) * block<T>::bytes, i % cpb, v);
			} else {
				for (int e = 0; e < 8; e++)
					v[e] = 0.0f;
			}
			for (int e = 0; e < 8; e++)
				ws[r][8 * c + e] = to_16bit<A>(v[e]);
		}
		for (int j = tid; j < BN * BK; j += 128) {
			int t = j / BK, k = j % BK;
			float f = 0.0f;
			if (t0 + t < count) {
				size_t row = slots ? (size_t)(slots[t0 + t] / p.x_div) : (size_t)(t0 + t);
				f = x[row * p.x_stride + k0 + k];
			}
			xs[t][k] = to_16bit<A>(f);
		}
		__syncthreads();
		for (int kk = 0; kk < BK; kk += 16) {
			wm::fragment<wm::matrix_a, 16, 16, 16, A, wm::row_major> fa;
			wm::load_matrix_sync(fa, &ws[16 * warp][kk], BK + PAD);
			for (int n = 0; n < 2; n++) {
				wm::fragment<wm::matrix_b, 16, 16, 16, A, wm::col_major> fb;
				wm::load_matrix_sync(fb, &xs[16 * n][kk], BK + PAD);
				wm::mma_sync(acc[n], fa, fb, acc[n]);
			}
		}
		__syncthreads();
	}
	/* cs[token][row]: element (row r, token n) of a tile at cs[n][r] (column-major) */
	for (int n = 0; n < 2; n++)
		wm::store_matrix_sync(&cs[16 * n][16 * warp], acc[n], BM + 4, wm::mem_col_major);
	__syncthreads();
	for (int j = tid; j < BM * BN; j += 128) {
		int t = j / BM, r = j % BM;
		if (t0 + t >= count || r0 + r >= p.m)
			continue;
		if (slots)
			put(p, p.y + (size_t)slots[t0 + t] * p.y_stride + r0 + r, r0 + r, cs[t][r]);
		else
			put(p, p.y + (size_t)z * p.y_z + (size_t)(t0 + t) * p.y_stride + r0 + r, r0 + r,
				cs[t][r]);
	}
}

template <int T> void run(cudaStream_t st, const prod &p)
{
	/* tiles need whole 32-column steps; F32 weights keep float products (half tiles
	 * would round them) */
	if constexpr (T != T_F32) {
		if ((p.nb >= 2 || p.list) && p.n % BK == 0) {
			dim3 grid((unsigned)((p.m + BM - 1) / BM), (unsigned)((p.nb + BN - 1) / BN),
				(unsigned)p.nz);
			if (T == T_BF16)
				launch(matmul<T, __nv_bfloat16>, grid, dim3(128), 0, st, p);
			else
				launch(matmul<T, __half>, grid, dim3(128), 0, st, p);
			return;
		}
	}
	prod_set s = {};
	s.ps[0] = p;
	s.n = 1;
	s.first[1] = (p.m + MV_WARPS - 1) / MV_WARPS;
	dim3 grid((unsigned)s.first[1], (unsigned)p.nz, (unsigned)p.nb);
	launch(matvec<T>, grid, dim3(32 * MV_WARPS), 0, st, s);
}

template <int T> void run_set(cudaStream_t st, const prod_set &s)
{
	launch(matvec<T>, dim3((unsigned)s.first[s.n], (unsigned)s.ps[0].nz), dim3(32 * MV_WARPS),
		0, st, s);
}

} // namespace

int type_supported(int type)
{
	switch (type) {
	case T_F32: case T_F16: case T_BF16: case T_Q4_0: case T_Q4_1: case T_Q5_0: case T_Q5_1:
	case T_Q8_0: case T_Q4_K: case T_Q5_K: case T_Q6_K:
		return 1;
	default:
		return 0;
	}
}

int grouped_supported(int type, int n)
{
	return type_supported(type) && type != T_F32 && n % BK == 0;
}

void product_set(cudaStream_t st, const prod *ps, int n, bool glu)
{
	prod_set s = {};
	s.n = glu ? 1 : n;   /* glu: one row space, up read beside gate */
	s.glu = glu;
	for (int k = 0; k < n; k++)
		s.ps[k] = ps[k];
	for (int k = 0; k < s.n; k++)
		s.first[k + 1] = s.first[k] + (ps[k].m + MV_WARPS - 1) / MV_WARPS;
	by_type(ps[0].type, [&](auto t) { run_set<decltype(t)::value>(st, s); });
}

void product(cudaStream_t st, const prod &p)
{
	by_type(p.type, [&](auto t) { run<decltype(t)::value>(st, p); });
}

} // namespace arca_cuda
