/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/common/test_pool.c — the thread pool: every thread index runs exactly once per
 * job, jobs follow each other without loss (thousands of tiny ones, as in decoding, and
 * after the workers have gone to sleep), the work split covers every item exactly once in
 * whole grains, and freeing stops the workers.
 */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "common/pool.h"
#include "support.h"

typedef struct {
	atomic_int calls[8];
	atomic_int total;
	int nth_seen;
} job;

static void count(void *ctx, int ith, int nth)
{
	job *j = ctx;
	atomic_fetch_add(&j->calls[ith], 1);
	atomic_fetch_add(&j->total, 1);
	j->nth_seen = nth;
}

static void test_every_thread_once(void **state)
{
	(void)state;
	for (int n = 1; n <= 4; n++) {
		arca_pool *p;
		assert_int_equal(arca_pool_new(&p, n), ARCA_OK);
		assert_int_equal(arca_pool_threads(p), n);
		job j;
		memset(&j, 0, sizeof(j));
		for (int round = 0; round < 3000; round++)
			arca_pool_run(p, count, &j);
		usleep(200000); /* the workers fall asleep; the next job must wake them */
		for (int round = 0; round < 5; round++)
			arca_pool_run(p, count, &j);
		for (int i = 0; i < n; i++)
			assert_int_equal(atomic_load(&j.calls[i]), 3005);
		assert_int_equal(atomic_load(&j.total), 3005 * n);
		assert_int_equal(j.nth_seen, n);
		arca_pool_free(p);
	}
	arca_pool *p;
	assert_int_equal(arca_pool_new(&p, 0), ARCA_OK); /* one per CPU */
	assert_true(arca_pool_threads(p) >= 1);
	arca_pool_free(p);
	assert_int_equal(arca_pool_new(&p, 100000), ARCA_EINVALID);
}

static void test_split(void **state)
{
	(void)state;
	static const size_t totals[] = { 0, 1, 15, 16, 17, 1000, 151936 };
	static const size_t grains[] = { 1, 16, 32 };
	for (size_t t = 0; t < sizeof(totals) / sizeof(totals[0]); t++)
		for (size_t g = 0; g < 3; g++)
			for (int nth = 1; nth <= 5; nth++) {
				size_t next = 0;
				for (int ith = 0; ith < nth; ith++) {
					size_t lo, hi;
					arca_pool_split(totals[t], grains[g], ith, nth, &lo, &hi);
					assert_int_equal(lo, next); /* contiguous, in order, no overlap */
					assert_true(hi >= lo);
					if (hi < totals[t])
						assert_int_equal(hi % grains[g], 0);
					next = hi;
				}
				assert_int_equal(next, totals[t]);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_thread_once),
		cmocka_unit_test(test_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
