// SPDX-License-Identifier: Apache-2.0
// runtime/cuda/moe.cu — mixture-of-experts routing on the GPU, as runtime/moe.c routes
// (softmax or sigmoid, correction bias for the choice only, the best expert groups, the k
// best experts with ties to the lower id, renormalized and scaled weights), one thread per
// token since a router row is a few hundred floats; and the weighted sum of the chosen
// experts' outputs, added in ascending expert order as the CPU path adds them. A prompt's
// choices are also grouped by expert, so each expert's weights are read once per tile of
// its tokens rather than once per token.
#include "runtime/cuda/kernels.cuh"

namespace arca_cuda {

namespace {

constexpr int MAX_EXPERTS = 1024, MAX_GROUPS = 64, MAX_USED = 64;

/* The index of the largest v[i] not yet taken (ties: the lower index); -1 when none. */
__device__ int best_free(const float *v, int n, const int *taken, int n_taken)
{
	int best = -1;
	for (int e = 0; e < n; e++) {
		bool used = false;
		for (int i = 0; i < n_taken; i++)
			used |= taken[i] == e;
		if (!used && v[e] > -INFINITY && (best < 0 || v[e] > v[best]))
			best = e;
	}
	return best;
}

__global__ void route_k(route_args a)
{
	if (threadIdx.x != 0)
		return;
	const int t = (int)blockIdx.x, n = a.n_expert;
	float *lg = a.logits + (size_t)t * n;
	float choose[MAX_EXPERTS];
	if (a.gating == 2) {
		for (int e = 0; e < n; e++)
			lg[e] = 1.0f / (1.0f + expf(-lg[e]));
	} else {
		float mx = -INFINITY, sum = 0.0f;
		for (int e = 0; e < n; e++)
			mx = fmaxf(mx, lg[e]);
		for (int e = 0; e < n; e++) {
			lg[e] = expf(lg[e] - mx);
			sum += lg[e];
		}
		for (int e = 0; e < n; e++)
			lg[e] /= sum;
	}
	for (int e = 0; e < n; e++)
		choose[e] = lg[e] + (a.bias ? a.bias[e] : 0.0f);
	if (a.n_groups) {
		int per = n / a.n_groups, keep[MAX_GROUPS], top2[2];
		float score[MAX_GROUPS];
		for (int g = 0; g < a.n_groups; g++) {
			top2[0] = best_free(choose + g * per, per, nullptr, 0);
			top2[1] = best_free(choose + g * per, per, top2, 1);
			score[g] = choose[g * per + top2[0]] + choose[g * per + top2[1]];
		}
		for (int j = 0; j < a.n_groups_used; j++)
			keep[j] = best_free(score, a.n_groups, keep, j);
		for (int g = 0; g < a.n_groups; g++) {
			bool kept = false;
			for (int j = 0; j < a.n_groups_used; j++)
				kept |= keep[j] == g;
			for (int e = 0; !kept && e < per; e++)
				choose[g * per + e] = -INFINITY;
		}
	}
	int sel[MAX_USED];
	float w[MAX_USED], sum = 0.0f;
	for (int j = 0; j < a.k; j++) {
		sel[j] = best_free(choose, n, sel, j);
		w[j] = lg[sel[j]];
		sum += w[j];
	}
	for (int j = 0; j < a.k; j++) {
		a.sel[(size_t)t * a.k + j] = sel[j];
		a.w[(size_t)t * a.k + j] = (a.norm ? w[j] / sum : w[j]) * a.scale;
	}
}

/* One thread: a counting sort of the slots by expert, stable (token order). */
__global__ void group_k(const int32_t *sel, int n_slots, int n_expert, int32_t *list,
	int32_t *off, int32_t *cnt)
{
	if (threadIdx.x != 0)
		return;
	for (int e = 0; e < n_expert; e++)
		cnt[e] = 0;
	for (int s = 0; s < n_slots; s++)
		cnt[sel[s]]++;
	int at = 0;
	for (int e = 0; e < n_expert; e++) {
		off[e] = at;
		at += cnt[e];
		cnt[e] = 0;
	}
	for (int s = 0; s < n_slots; s++) {
		int e = sel[s];
		list[off[e] + cnt[e]++] = s;
	}
}

__global__ void combine_k(float *out, const float *y, const int32_t *sel, const float *w, int n,
	int k)
{
	const int t = (int)blockIdx.y;
	const int i = (int)(blockIdx.x * blockDim.x + threadIdx.x);
	if (i >= n)
		return;
	const int32_t *s = sel + (size_t)t * k;
	float acc = 0.0f;
	int last = -1;
	for (int r = 0; r < k; r++) {   /* the chosen experts, smallest id first */
		int j = -1;
		for (int c = 0; c < k; c++)
			if (s[c] > last && (j < 0 || s[c] < s[j]))
				j = c;
		last = s[j];
		acc += w[(size_t)t * k + j] * y[((size_t)t * k + j) * n + i];
	}
	out[(size_t)t * n + i] = acc;
}

} // namespace

void route(cudaStream_t st, const route_args &a, int nb)
{
	launch(route_k, dim3((unsigned)nb), dim3(32), 0, st, a);
}

void group_slots(cudaStream_t st, const int32_t *sel, int n_slots, int n_expert, int32_t *list,
	int32_t *off, int32_t *cnt)
{
	launch(group_k, dim3(1), dim3(32), 0, st, sel, n_slots, n_expert, list, off, cnt);
}

void moe_combine(cudaStream_t st, float *out, const float *y, const int32_t *sel,
	const float *w, int n, int k, int nb)
{
	launch(combine_k, dim3((unsigned)((n + 255) / 256), (unsigned)nb), dim3(256), 0, st, out, y,
		sel, w, n, k);
}

} // namespace arca_cuda
