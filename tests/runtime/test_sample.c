/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/test_sample.c — token choice: greedy takes the largest logit and the lowest
 * id on ties; top-k 1 and a tiny top-p are greedy too; the same seed repeats the same
 * draws and another seed does not; draws follow softmax(logits / T) (checked by counting);
 * the top-logits report is sorted with ties by id; bad parameters are refused.
 */
#include <math.h>
#include <stdlib.h>

#include "arca/sample.h"
#include "support.h"

static arca_sampler *sampler(float temp, uint32_t k, float p, uint64_t seed, uint32_t n)
{
	arca_sampler *s;
	arca_sampling params = { temp, k, p, seed };
	assert_int_equal(arca_sampler_new(&s, &params, n), ARCA_OK);
	return s;
}

static void test_greedy(void **state)
{
	(void)state;
	float l[6] = { 0.5f, 2.0f, -1.0f, 2.0f, 1.9f, -INFINITY };
	arca_sampler *s = sampler(0.0f, 0, 1.0f, 1, 6);
	assert_int_equal(arca_sample(s, l), 1); /* tie with id 3: lower id */
	arca_sampler_free(s);
	s = sampler(0.8f, 1, 1.0f, 1, 6);
	assert_int_equal(arca_sample(s, l), 1);
	arca_sampler_free(s);
	s = sampler(0.8f, 0, 1e-6f, 99, 6); /* nucleus of one */
	for (int i = 0; i < 50; i++)
		assert_int_equal(arca_sample(s, l), 1);
	arca_sampler_free(s);
}

static void test_seeded_distribution(void **state)
{
	(void)state;
	enum { N = 4, DRAWS = 40000 };
	float l[N] = { 1.0f, 0.0f, 2.0f, -1.0f };
	const float T = 0.7f;
	arca_sampler *a = sampler(T, 0, 1.0f, 1234, N), *b = sampler(T, 0, 1.0f, 1234, N);
	arca_sampler *c = sampler(T, 0, 1.0f, 4321, N);
	int counts[N] = { 0 }, differ = 0;
	for (int i = 0; i < DRAWS; i++) {
		int32_t x = arca_sample(a, l);
		assert_int_equal(x, arca_sample(b, l));
		differ += x != arca_sample(c, l);
		assert_true(x >= 0 && x < N);
		counts[x]++;
	}
	assert_true(differ > 0);
	double z = 0;
	for (int i = 0; i < N; i++)
		z += exp(l[i] / T);
	for (int i = 0; i < N; i++) {
		double p = exp(l[i] / T) / z, sd = sqrt(p * (1 - p) / DRAWS);
		double got = (double)counts[i] / DRAWS;
		if (fabs(got - p) > 5 * sd)
			fail_msg("token %d drawn %.4f of the time, softmax says %.4f", i, got, p);
	}
	arca_sampler_free(a);
	arca_sampler_free(b);
	arca_sampler_free(c);
	/* top-k 2 never draws the others */
	arca_sampler *k = sampler(1.0f, 2, 1.0f, 5, N);
	for (int i = 0; i < 2000; i++) {
		int32_t x = arca_sample(k, l);
		assert_true(x == 0 || x == 2);
	}
	arca_sampler_free(k);
}

static void test_top_logits_and_refusals(void **state)
{
	(void)state;
	float l[7] = { 0.1f, 3.0f, 3.0f, -2.0f, 5.0f, 0.1f, 2.5f };
	int32_t ids[4];
	float v[4];
	arca_top_logits(l, 7, 4, ids, v);
	const int32_t want[4] = { 4, 1, 2, 6 };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ids[i], want[i]);
		assert_true(v[i] == l[want[i]]);
	}
	int32_t all_ids[7];
	float all_v[7];
	arca_top_logits(l, 7, 7, all_ids, all_v); /* k = n_vocab: a full sort */
	const int32_t order[7] = { 4, 1, 2, 6, 0, 5, 3 };
	for (int i = 0; i < 7; i++)
		assert_int_equal(all_ids[i], order[i]);
	arca_sampler *s;
	arca_sampling bad = { 1.0f, 0, 0.0f, 1 };
	assert_int_equal(arca_sampler_new(&s, &bad, 7), ARCA_EINVALID);
	bad.top_p = 1.5f;
	assert_int_equal(arca_sampler_new(&s, &bad, 7), ARCA_EINVALID);
	bad.top_p = 1.0f;
	bad.temperature = NAN;
	assert_int_equal(arca_sampler_new(&s, &bad, 7), ARCA_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greedy),
		cmocka_unit_test(test_seeded_distribution),
		cmocka_unit_test(test_top_logits_and_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
