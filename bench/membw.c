/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/membw.c — this machine's memory read bandwidth, the roofline of decoding: THREADS
 * threads each sum their share of a SIZE_MIB buffer (much larger than the caches), best of
 * ten passes, half of them also prefetching 4 KiB ahead (here that read more with two
 * threads and less with one). Prints one JSON line {"gbps": best, "plain": ...,
 * "prefetch": ..., "threads": ..., "mib": ...}.
 *     cc -O3 -march=native -pthread bench/membw.c -o membw && ./membw [THREADS] [SIZE_MIB]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
	const uint64_t *p;
	size_t n;
	int prefetch;   /* also prefetch 4 KiB ahead (as arca's matrix × vector does) */
	uint64_t sum;
} share;

/* Eight 64-byte vectors summed per step (GCC/Clang vector extensions: AVX-512 loads with
 * -march=native here), so the loop issues loads as fast as the core can and measures the
 * memory, not the adds; a scalar loop read about 22 GB/s on one core where arca's decode
 * already read 28. */
typedef uint64_t v8u64 __attribute__((vector_size(64)));

static void *sum_share(void *arg)
{
	share *s = arg;
	const v8u64 *v = (const v8u64 *)s->p;
	size_t nv = s->n / 8;
	v8u64 a[8] = { { 0 } };
	for (size_t i = 0; i + 8 <= nv; i += 8) {
		if (s->prefetch)
			for (int k = 0; k < 8; k++)
				__builtin_prefetch((const char *)(v + i + k) + 4096);
		for (int k = 0; k < 8; k++)
			a[k] += v[i + k];
	}
	uint64_t sum = 0;
	for (int k = 0; k < 8; k++)
		for (int e = 0; e < 8; e++)
			sum += a[k][e];
	s->sum = sum;
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 1024;
	if (threads < 1 || threads > 256 || mib < 64) {
		fprintf(stderr, "usage: membw [THREADS] [SIZE_MIB >= 64]\n");
		return 2;
	}
	size_t n = mib * 1024 * 1024 / sizeof(uint64_t);
	uint64_t *buf = aligned_alloc(64, n * sizeof(uint64_t));
	if (!buf) {
		fprintf(stderr, "membw: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		buf[i] = i;
	double best[2] = { 0, 0 };
	uint64_t check = 0;
	for (int pass = 0; pass < 10; pass++) {
		int prefetch = pass % 2;
		pthread_t tid[256];
		share sh[256];
		double t0 = now();
		for (int t = 0; t < threads; t++) {
			sh[t] = (share){ buf + n / threads / 64 * 64 * t, n / threads / 64 * 64, prefetch,
				0 };
			pthread_create(&tid[t], NULL, sum_share, &sh[t]);
		}
		for (int t = 0; t < threads; t++) {
			pthread_join(tid[t], NULL);
			check += sh[t].sum;
		}
		double gbps = (double)(n / threads / 64 * 64 * threads) * sizeof(uint64_t) / (now() - t0) / 1e9;
		best[prefetch] = gbps > best[prefetch] ? gbps : best[prefetch];
	}
	printf("{\"gbps\": %.3f, \"plain\": %.3f, \"prefetch\": %.3f, \"threads\": %d, "
		"\"mib\": %zu, \"check\": %llu}\n", best[0] > best[1] ? best[0] : best[1], best[0],
		best[1], threads, mib, (unsigned long long)(check & 0xffff));
	free(buf);
	return 0;
}
