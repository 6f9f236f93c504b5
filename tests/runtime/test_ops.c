/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/test_ops.c — the element-wise steps of the forward pass against their
 * definitions computed in double: RMSNorm, RoPE angles and both pairings (a rotation keeps
 * each pair's length and composes: rotating by pos a then b equals pos a + b), softmax,
 * SwiGLU.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops.h"
#include "support.h"

static float rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void near(double got, double want, double rtol, const char *what)
{
	double err = fabs(got - want), tol = rtol * (fabs(want) + 1e-30) + 1e-12;
	if (err > tol)
		fail_msg("%s: got %.9g, want %.9g", what, got, want);
}

static void test_rmsnorm(void **state)
{
	(void)state;
	uint64_t s = 1;
	float x[896], w[896], y[896];
	for (int i = 0; i < 896; i++) {
		x[i] = rnd(&s) * 3.0f;
		w[i] = 1.0f + 0.1f * rnd(&s);
	}
	double sum = 0;
	for (int i = 0; i < 896; i++)
		sum += (double)x[i] * x[i];
	double scale = 1.0 / sqrt(sum / 896 + 1e-6);
	arca_op_rmsnorm(y, x, w, 896, 1e-6f);
	for (int i = 0; i < 896; i++)
		near(y[i], x[i] * scale * w[i], 1e-6, "rmsnorm");
	/* in place, no weights */
	arca_op_rmsnorm(x, x, NULL, 896, 1e-6f);
	for (int i = 0; i < 896; i++)
		near(x[i], y[i] / w[i], 1e-5, "rmsnorm in place");
	/* an all-zero row stays zero (eps keeps the scale finite) */
	float z[8] = { 0 };
	arca_op_rmsnorm(z, z, NULL, 8, 1e-6f);
	for (int i = 0; i < 8; i++)
		assert_true(z[i] == 0.0f);
}

static const arca_op_rope_params *rope_params(uint32_t n_rot, float base, float freq_scale,
	const float *factors)
{
	static arca_op_rope_params r;
	r = (arca_op_rope_params){ .n_rot = n_rot, .base = base, .freq_scale = freq_scale,
		.mscale = 1.0f, .factors = factors };
	return &r;
}

static void test_rope(void **state)
{
	(void)state;
	enum { N = 64 };
	float c[N / 2], sn[N / 2];
	arca_op_rope_table(c, sn, 0, rope_params(N, 10000.0f, 1.0f, NULL));
	for (int i = 0; i < N / 2; i++) {
		assert_true(c[i] == 1.0f);
		assert_true(sn[i] == 0.0f);
	}
	arca_op_rope_table(c, sn, 37, rope_params(N, 1e6f, 1.0f, NULL));
	for (int i = 0; i < N / 2; i++) {
		double theta = 37.0 * pow(1e6, -2.0 * i / N);
		near(c[i], cos(theta), 2e-5, "cos");
		near(sn[i], sin(theta), 2e-5, "sin");
	}
	/* linear scaling and per-dimension factors divide the angles */
	float ff[N / 2], c2[N / 2], s2[N / 2];
	for (int i = 0; i < N / 2; i++)
		ff[i] = 1.0f + (float)i;
	arca_op_rope_table(c2, s2, 37, rope_params(N, 1e6f, 0.25f, ff));
	for (int i = 0; i < N / 2; i++) {
		double theta = 37.0 * pow(1e6, -2.0 * i / N) / (1.0 + i) * 0.25;
		near(c2[i], cos(theta), 2e-5, "scaled cos");
		near(s2[i], sin(theta), 2e-5, "scaled sin");
	}
	for (int neox = 0; neox <= 1; neox++) {
		uint64_t s = 7;
		float x[N], y[N];
		for (int i = 0; i < N; i++)
			x[i] = y[i] = rnd(&s);
		float ca[N / 2], sa[N / 2], cb[N / 2], sb[N / 2], cab[N / 2], sab[N / 2];
		arca_op_rope_table(ca, sa, 5, rope_params(N, 10000.0f, 1.0f, NULL));
		arca_op_rope_table(cb, sb, 9, rope_params(N, 10000.0f, 1.0f, NULL));
		arca_op_rope_table(cab, sab, 14, rope_params(N, 10000.0f, 1.0f, NULL));
		arca_op_rope(x, ca, sa, N, neox);
		arca_op_rope(x, cb, sb, N, neox);
		arca_op_rope(y, cab, sab, N, neox);
		for (int i = 0; i < N; i++)
			near(x[i], y[i], 1e-4, neox ? "neox composition" : "normal composition");
	}
	/* the pairing: NORMAL rotates (0,1), NEOX rotates (0, N/2) */
	float e[N] = { 0 }, cc[N / 2], ss[N / 2];
	arca_op_rope_table(cc, ss, 1, rope_params(N, 10000.0f, 1.0f, NULL));
	e[0] = 1.0f;
	arca_op_rope(e, cc, ss, N, 0);
	near(e[1], sin(1.0), 1e-6, "normal pair partner");
	assert_true(e[N / 2] == 0.0f);
	memset(e, 0, sizeof(e));
	e[0] = 1.0f;
	arca_op_rope(e, cc, ss, N, 1);
	near(e[N / 2], sin(1.0), 1e-6, "neox pair partner");
	assert_true(e[1] == 0.0f);
}

/* YaRN: pairs below corr_lo keep the original angle, pairs above corr_hi take the scaled
 * one, the ones between mix linearly; cos and sin carry mscale. */
static void test_rope_yarn(void **state)
{
	(void)state;
	enum { N = 32 };
	float c[N / 2], sn[N / 2];
	arca_op_rope_params r = { .n_rot = N, .base = 10000.0f, .freq_scale = 0.25f,
		.ext_factor = 1.0f, .corr_lo = 3.0f, .corr_hi = 9.0f, .mscale = 1.2f };
	arca_op_rope_table(c, sn, 50, &r);
	for (int i = 0; i < N / 2; i++) {
		double theta = 50.0 * pow(10000.0, -2.0 * i / N);
		double ramp = i <= 3 ? 1.0 : i >= 9 ? 0.0 : 1.0 - (i - 3) / 6.0;
		double t = theta * 0.25 * (1 - ramp) + theta * ramp;
		near(c[i], 1.2 * cos(t), 3e-5, "yarn cos");
		near(sn[i], 1.2 * sin(t), 3e-5, "yarn sin");
	}
	/* without extrapolation it is linear scaling times mscale */
	r.ext_factor = 0.0f;
	arca_op_rope_table(c, sn, 50, &r);
	for (int i = 0; i < N / 2; i++) {
		double t = 50.0 * pow(10000.0, -2.0 * i / N) * 0.25;
		near(c[i], 1.2 * cos(t), 3e-5, "scaled cos");
	}
}

static void test_softmax_swiglu(void **state)
{
	(void)state;
	float x[5] = { 1000.0f, 999.0f, -INFINITY, 998.0f, 1000.0f };
	arca_op_softmax(x, 5);
	double z = 2 + exp(-1.0) + exp(-2.0);
	near(x[0], 1 / z, 1e-6, "softmax");
	near(x[1], exp(-1.0) / z, 1e-6, "softmax");
	assert_true(x[2] == 0.0f);
	near(x[0] + x[1] + x[2] + x[3] + x[4], 1.0, 1e-6, "softmax sum");
	float g[4] = { -20.0f, -1.0f, 0.0f, 3.0f }, u[4] = { 2.0f, 2.0f, 2.0f, 0.5f };
	arca_op_swiglu(g, u, 4);
	const double in[4] = { -20, -1, 0, 3 }, uu[4] = { 2, 2, 2, 0.5 };
	for (int i = 0; i < 4; i++)
		near(g[i], in[i] / (1 + exp(-in[i])) * uu[i], 1e-6, "swiglu");
	float a[19], b[19];
	double d = 0;
	uint64_t s = 3;
	for (int i = 0; i < 19; i++) {
		a[i] = rnd(&s);
		b[i] = rnd(&s);
		d += (double)a[i] * b[i];
	}
	near(arca_op_dot_f32(a, b, 19), d, 1e-5, "dot");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rmsnorm),
		cmocka_unit_test(test_rope),
		cmocka_unit_test(test_rope_yarn),
		cmocka_unit_test(test_softmax_swiglu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
