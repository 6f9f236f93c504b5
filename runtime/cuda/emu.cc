// SPDX-License-Identifier: Apache-2.0
// runtime/cuda/emu.cc — the CPU emulation of CUDA that emu.h declares: each thread of a
// block is a fiber (ucontext) on the launching thread, run in turn until it reaches a
// barrier or returns; a barrier opens when every thread of the block (or warp) has reached
// it, and threads waiting at different barriers are reported as the bug they are. Also
// the lane exchange shuffles use,
// host memory behind the allocation calls (bounded, so running out of "device" memory can
// be tested: ARCA_GPU_EMU_MEMORY bytes, default 4 GiB; ARCA_GPU_EMU_CC another compute
// capability than 9.0), and graph capture as a recorded
// list of launches and copies.
#include "runtime/cuda/emu.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <algorithm>
#include <ucontext.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif
#include <vector>

namespace arca_emu {

thread_local uint3 thread_idx, block_idx;
dim3 block_dim, grid_dim;

namespace {

enum { RUN, WAIT_BLOCK, WAIT_WARP, DONE };
constexpr size_t STACK = 256 << 10;

/* Switching fibers: on x86-64 six callee-saved registers and the stack pointer (glibc's
 * swapcontext also makes a system call per switch, which was nine tenths of the time);
 * ucontext elsewhere. */
#if defined(__x86_64__)
extern "C" void arca_emu_switch(void **save_sp, void *sp);
asm(".text\n"
    ".globl arca_emu_switch\n"
    ".type arca_emu_switch,@function\n"
    "arca_emu_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size arca_emu_switch,.-arca_emu_switch\n");
struct context {
	void *sp = nullptr;
};
#else
struct context {
	ucontext_t uc;
};
#endif

struct fiber {
	context ctx;
	char *stack = nullptr;
	int state = DONE;
};

struct graph_item {
	bool kernel;
	dim3 grid, block;
	size_t smem;
	std::function<void()> fn;
};

struct state {
	std::recursive_mutex launch_mu;      /* one launch at a time, whatever the thread */
	std::vector<fiber> fibers;
	context sched;
	unsigned current = 0, n_threads = 0;
	const std::function<void()> *job = nullptr;
	std::vector<uint64_t> slots;
	std::vector<float> sums, scratch;   /* per warp: warp_sum's values, fragment tiles */
	std::vector<unsigned char> dyn;
	/* capture */
	bool capturing = false;
	std::vector<graph_item> recording;
	/* memory */
	std::mutex mem_mu;
	std::map<void *, size_t> allocations;
	size_t used = 0;

	~state()
	{
		for (fiber &f : fibers)
			free(f.stack);
	}
};

state &st()
{
	static state s;
	return s;
}

void switch_to(context *save, context *to)
{
#if defined(__x86_64__)
	arca_emu_switch(&save->sp, to->sp);
#else
	swapcontext(&save->uc, &to->uc);
#endif
}

[[noreturn]] void fiber_entry()
{
	state &s = st();
	(*s.job)();
	fiber &f = s.fibers[s.current];
	f.state = DONE;
	switch_to(&f.ctx, &s.sched);   /* never resumed: the next block starts afresh */
	abort();
}

/* A fresh fiber whose first switch enters fiber_entry on its own stack. */
void fiber_reset(state &s, fiber &f)
{
#if defined(__SANITIZE_ADDRESS__)
	__asan_unpoison_memory_region(f.stack, STACK);   /* frames a previous block left */
#endif
#if defined(__x86_64__)
	/* 16-aligned top; the return address sits 16-aligned, so fiber_entry starts with the
	 * stack as a call leaves it; below it the six registers the switch pops */
	uintptr_t top = ((uintptr_t)f.stack + STACK) & ~(uintptr_t)15;
	void **sp = (void **)(top - 16);
	sp[0] = (void *)fiber_entry;
	sp -= 6;
	for (int i = 0; i < 6; i++)
		sp[i] = nullptr;
	f.ctx.sp = sp;
	(void)s;
#else
	getcontext(&f.ctx.uc);
	f.ctx.uc.uc_stack.ss_sp = f.stack;
	f.ctx.uc.uc_stack.ss_size = STACK;
	f.ctx.uc.uc_link = &s.sched.uc;
	makecontext(&f.ctx.uc, (void (*)())fiber_entry, 0);
#endif
	f.state = RUN;
}

void wait_at(int what)
{
	state &s = st();
	fiber &f = s.fibers[s.current];
	f.state = what;
	switch_to(&f.ctx, &s.sched);
}

/* Releases a barrier every waiter of which has arrived (threads that returned count as
 * arrived); false when none could be. */
bool release(state &s)
{
	unsigned n = s.n_threads, at_block = 0, gone = 0;
	for (unsigned i = 0; i < n; i++) {
		at_block += s.fibers[i].state == WAIT_BLOCK;
		gone += s.fibers[i].state == DONE;
	}
	bool any = false;
	if (at_block && at_block + gone == n) {
		for (unsigned i = 0; i < n; i++)
			if (s.fibers[i].state == WAIT_BLOCK)
				s.fibers[i].state = RUN;
		any = true;
	}
	for (unsigned w = 0; w * 32 < n; w++) {
		unsigned hi = std::min(n, 32 * w + 32), at_warp = 0, done = 0;
		for (unsigned i = 32 * w; i < hi; i++) {
			at_warp += s.fibers[i].state == WAIT_WARP;
			done += s.fibers[i].state == DONE;
		}
		if (at_warp && at_warp + done == hi - 32 * w) {
			for (unsigned i = 32 * w; i < hi; i++)
				if (s.fibers[i].state == WAIT_WARP)
					s.fibers[i].state = RUN;
			any = true;
		}
	}
	return any;
}

/* One block: every thread a fiber on this thread, run in turn until each waits or ends. */
void run_block(state &s)
{
	unsigned n = s.n_threads;
	for (unsigned i = 0; i < n; i++)
		fiber_reset(s, s.fibers[i]);
	for (;;) {
		bool ran = false;
		for (unsigned i = 0; i < n; i++) {
			if (s.fibers[i].state != RUN)
				continue;
			s.current = i;
			thread_idx = uint3{ i % block_dim.x, i / block_dim.x % block_dim.y,
				i / (block_dim.x * block_dim.y) };
			switch_to(&s.sched, &s.fibers[i].ctx);
			ran = true;
		}
		bool all_done = true;
		for (unsigned i = 0; i < n; i++)
			all_done &= s.fibers[i].state == DONE;
		if (all_done)
			return;
		if (!release(s) && !ran) {
			fprintf(stderr, "arca gpu emulator: block (%u, %u, %u): threads wait at "
				"different barriers (a __syncthreads or shuffle not every thread reaches)\n",
				block_idx.x, block_idx.y, block_idx.z);
			abort();
		}
	}
}

void run_launch(dim3 grid, dim3 block, size_t smem, const std::function<void()> &fn)
{
	state &s = st();
	std::lock_guard<std::recursive_mutex> one(s.launch_mu);
	unsigned n = block.x * block.y * block.z;
	if (!n || n > 1024 || !grid.x || !grid.y || !grid.z) {
		fprintf(stderr, "arca gpu emulator: bad launch (%u threads)\n", n);
		abort();
	}
	grid_dim = grid;
	block_dim = block;
	s.dyn.assign(smem ? smem : 1, 0xA5);   /* poisoned: kernels must write before reading */
	s.slots.assign((n + 31) / 32 * 32, 0);
	s.sums.assign((n + 31) / 32 * 32, 0.0f);
	s.scratch.assign((n + 31) / 32 * 256, 0.0f);
	while (s.fibers.size() < n) {
		s.fibers.emplace_back();
		s.fibers.back().stack = (char *)malloc(STACK);
		if (!s.fibers.back().stack)
			abort();
	}
	s.n_threads = n;
	s.job = &fn;
	for (unsigned z = 0; z < grid.z; z++)
		for (unsigned y = 0; y < grid.y; y++)
			for (unsigned x = 0; x < grid.x; x++) {
				block_idx = uint3{ x, y, z };
				run_block(s);
			}
	s.job = nullptr;
}

} // namespace

void launch(dim3 grid, dim3 block, size_t smem, std::function<void()> fn)
{
	state &s = st();
	if (s.capturing) {
		s.recording.push_back(graph_item{ true, grid, block, smem, std::move(fn) });
		return;
	}
	run_launch(grid, block, smem, fn);
}

void submit(std::function<void()> fn)
{
	state &s = st();
	if (s.capturing) {
		s.recording.push_back(graph_item{ false, dim3(), dim3(), 0, std::move(fn) });
		return;
	}
	fn();
}

void *dynamic_shared() { return st().dyn.data(); }

void check_aligned(const void *p, size_t bytes)
{
	if ((uintptr_t)p % bytes) {
		fprintf(stderr, "arca CUDA emulation: a %zu-byte load from %p, not aligned to it "
			"(a device faults here)\n", bytes, p);
		abort();
	}
}
void sync_block() { wait_at(WAIT_BLOCK); }
void sync_warp() { wait_at(WAIT_WARP); }
unsigned lane() { return st().current % 32; }

uint64_t exchange(uint64_t bits, unsigned src)
{
	state &s = st();
	unsigned base = s.current / 32 * 32;
	s.slots[s.current] = bits;
	sync_warp();
	uint64_t r = s.slots[base + src];
	sync_warp();
	return r;
}

float warp_sum(float v)
{
	state &s = st();
	unsigned base = s.current / 32 * 32;
	float *vals = s.sums.data() + base;
	vals[s.current - base] = v;
	sync_warp();
	/* the xor butterfly every lane computes on a device, replayed once for the warp: the
	 * same sums in the same order (partial warps: absent lanes add 0) */
	if (s.current == base) {
		float cur[32], next[32];
		for (unsigned l = 0; l < 32; l++)
			cur[l] = base + l < s.n_threads ? vals[l] : 0.0f;
		for (int m = 16; m > 0; m >>= 1) {
			for (int l = 0; l < 32; l++)
				next[l] = cur[l] + cur[l ^ m];
			memcpy(cur, next, sizeof(cur));
		}
		memcpy(vals, cur, sizeof(cur));
	}
	sync_warp();
	float r = vals[s.current - base];
	sync_warp();   /* the next call's writes wait for every lane's read */
	return r;
}

float *warp_scratch()
{
	state &s = st();
	return s.scratch.data() + (size_t)(s.current / 32) * 256;
}

} // namespace arca_emu

struct arca_emu_graph {
	std::vector<arca_emu::graph_item> items;
};
struct arca_emu_event {
	std::chrono::steady_clock::time_point at;
};

using arca_emu::st;

cudaError_t cudaGetDeviceCount(int *n) { *n = 1; return cudaSuccess; }
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidValue; }

static size_t emu_total()
{
	const char *e = getenv("ARCA_GPU_EMU_MEMORY");
	return e ? strtoull(e, nullptr, 10) : (size_t)4 << 30;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "arca CPU emulation of CUDA");
	p->totalGlobalMem = emu_total();
	/* ARCA_GPU_EMU_CC=MAJOR.MINOR: another compute capability (default 9.0, the H100's) */
	const char *cc = getenv("ARCA_GPU_EMU_CC");
	if (!cc || sscanf(cc, "%d.%d", &p->major, &p->minor) != 2) {
		p->major = 9;
		p->minor = 0;
	}
	p->multiProcessorCount = 2;
	p->sharedMemPerBlock = 48 << 10;
	p->sharedMemPerBlockOptin = 227 << 10;
	return d == 0 ? cudaSuccess : cudaErrorInvalidValue;
}

cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total)
{
	auto &s = st();
	std::lock_guard<std::mutex> lk(s.mem_mu);
	*total = emu_total();
	*free_b = *total > s.used ? *total - s.used : 0;
	return cudaSuccess;
}

cudaError_t cudaMalloc(void **p, size_t n)
{
	auto &s = st();
	std::lock_guard<std::mutex> lk(s.mem_mu);
	*p = nullptr;
	if (s.used + n > emu_total())
		return cudaErrorMemoryAllocation;
	void *q = aligned_alloc(256, (n + 255) / 256 * 256 + 256);
	if (!q)
		return cudaErrorMemoryAllocation;
	memset(q, 0xA5, (n + 255) / 256 * 256 + 256);   /* device memory starts as garbage */
	s.allocations[q] = n;
	s.used += n;
	*p = q;
	return cudaSuccess;
}

cudaError_t cudaFree(void *p)
{
	if (!p)
		return cudaSuccess;
	auto &s = st();
	std::lock_guard<std::mutex> lk(s.mem_mu);
	auto it = s.allocations.find(p);
	if (it == s.allocations.end())
		return cudaErrorInvalidValue;
	s.used -= it->second;
	s.allocations.erase(it);
	free(p);
	return cudaSuccess;
}

cudaError_t cudaMallocHost(void **p, size_t n)
{
	*p = malloc(n ? n : 1);
	return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFreeHost(void *p) { free(p); return cudaSuccess; }

cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind)
{
	memcpy(dst, src, n);
	return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind, cudaStream_t)
{
	arca_emu::submit([=] { memcpy(dst, src, n); });
	return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t)
{
	arca_emu::submit([=] { memset(p, v, n); });
	return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t *s) { *s = nullptr; return cudaSuccess; }
cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaGetLastError() { return cudaSuccess; }

const char *cudaGetErrorString(cudaError_t e)
{
	return e == cudaSuccess ? "no error" : e == cudaErrorMemoryAllocation ?
		"out of memory (emulated device)" : "invalid value";
}

cudaError_t cudaEventCreate(cudaEvent_t *e) { *e = new arca_emu_event(); return cudaSuccess; }
cudaError_t cudaEventDestroy(cudaEvent_t e) { delete e; return cudaSuccess; }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t)
{
	arca_emu::submit([=] { e->at = std::chrono::steady_clock::now(); });
	return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b)
{
	*ms = std::chrono::duration<float, std::milli>(b->at - a->at).count();
	return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode)
{
	auto &s = st();
	if (s.capturing)
		return cudaErrorInvalidValue;
	s.capturing = true;
	s.recording.clear();
	return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t *g)
{
	auto &s = st();
	if (!s.capturing)
		return cudaErrorInvalidValue;
	s.capturing = false;
	*g = new arca_emu_graph{ std::move(s.recording) };
	s.recording.clear();
	return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long)
{
	*e = new arca_emu_graph{ g->items };
	return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t)
{
	for (auto &it : e->items) {
		if (it.kernel)
			arca_emu::run_launch(it.grid, it.block, it.smem, it.fn);
		else
			it.fn();
	}
	return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t g) { delete g; return cudaSuccess; }
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e) { delete e; return cudaSuccess; }
cudaError_t cudaFuncSetAttribute(const void *, int, int) { return cudaSuccess; }

/* ------------------------------------------------------------------ cuBLAS */

struct arca_emu_blas {
	cudaStream_t stream = nullptr;
};

cublasStatus_t cublasCreate_v2(cublasHandle_t *h)
{
	*h = new arca_emu_blas();
	return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t h)
{
	delete h;
	return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t h, cudaStream_t s)
{
	h->stream = s;
	return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetVersion_v2(cublasHandle_t, int *version)
{
	*version = 0;   /* no cuBLAS: the emulation's own */
	return CUBLAS_STATUS_SUCCESS;
}

namespace {

float blas_at(const void *p, cudaDataType t, size_t i)
{
	switch (t) {
	case CUDA_R_16F: return __half2float(((const __half *)p)[i]);
	case CUDA_R_16BF: return __bfloat162float(((const __nv_bfloat16 *)p)[i]);
	default: return ((const float *)p)[i];
	}
}

} // namespace

cublasStatus_t cublasGemmEx(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m,
	int n, int k, const void *alpha, const void *a, cudaDataType at, int lda, const void *b,
	cudaDataType bt, int ldb, const void *beta, void *c, cudaDataType ct, int ldc,
	cublasComputeType_t compute, cublasGemmAlgo_t)
{
	if (m < 0 || n < 0 || k < 0 || lda < (ta == CUBLAS_OP_N ? m : k) ||
	    ldb < (tb == CUBLAS_OP_N ? k : n) || ldc < m || lda < 1 || ldb < 1 || ldc < 1)
		return CUBLAS_STATUS_INVALID_VALUE;
	if (at != bt || ct != CUDA_R_32F || compute != CUBLAS_COMPUTE_32F)
		return CUBLAS_STATUS_NOT_SUPPORTED;
	float al = *(const float *)alpha, be = *(const float *)beta;
	float *cf = (float *)c;
	arca_emu::submit([=] {
		for (int j = 0; j < n; j++)
			for (int i = 0; i < m; i++) {
				float acc = 0.0f;
				for (int l = 0; l < k; l++) {
					size_t ai = ta == CUBLAS_OP_N ? (size_t)l * lda + i : (size_t)i * lda + l;
					size_t bi = tb == CUBLAS_OP_N ? (size_t)j * ldb + l : (size_t)l * ldb + j;
					acc += blas_at(a, at, ai) * blas_at(b, bt, bi);
				}
				float &out = cf[(size_t)j * ldc + i];
				out = al * acc + (be == 0.0f ? 0.0f : be * out);
			}
	});
	return CUBLAS_STATUS_SUCCESS;
}
