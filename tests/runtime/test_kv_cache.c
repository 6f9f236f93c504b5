/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/test_kv_cache.c — the KV cache types (runtime/kv_cache.c): a session with
 * an F16 or Q8_0 cache gives logits close to the exact F32 cache (bounds justified below),
 * the same greedy choice, the same bits whether a prompt is a batch or token by token and
 * on any thread count, for short prompts and for ones of many tiles and chunks; the F32 cache asked for by option is the default's bits; memory per
 * token is the formula; names parse and bad ones are refused; validation fingerprints are
 * keyed by cache type. GGUFs are built in memory (a small qwen3 shape, seeded weights).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "arca/quant.h"
#include "arca/runtime.h"
#include "arca/validate.h"
#include "runtime/kernels.h"
#include "support.h"

enum { E = 256, H = 4, KV = 2, F = 512, V = 96, LAYERS = 2, CTX = 64, N = 40 };

static float rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* A qwen3-shaped GGUF: head width hd, matrices of `type`, norms F32. */
static t_buffer build(int type, uint32_t hd)
{
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	assert_int_equal(arca_gguf_add_str(w, "general.architecture", "qwen3"), ARCA_OK);
	const struct { const char *k; uint32_t v; } u32s[] = {
		{ "qwen3.block_count", LAYERS }, { "qwen3.embedding_length", E },
		{ "qwen3.feed_forward_length", F }, { "qwen3.attention.head_count", H },
		{ "qwen3.attention.head_count_kv", KV }, { "qwen3.attention.key_length", hd },
		{ "qwen3.context_length", 128 },
	};
	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		assert_int_equal(arca_gguf_add_u32(w, u32s[i].k, u32s[i].v), ARCA_OK);
	arca_gguf_add_f32(w, "qwen3.attention.layer_norm_rms_epsilon", 1e-6f);
	arca_gguf_add_f32(w, "qwen3.rope.freq_base", 10000.0f);
	struct { char name[64]; uint64_t ne0, ne1; int norm; } t[64];
	size_t n = 0;
	snprintf(t[n].name, 64, "token_embd.weight");
	t[n].ne0 = E, t[n].ne1 = V, t[n++].norm = 0;
	snprintf(t[n].name, 64, "output_norm.weight");
	t[n].ne0 = E, t[n].ne1 = 1, t[n++].norm = 1;
	for (int l = 0; l < LAYERS; l++) {
		const struct { const char *suffix; uint64_t ne0, ne1; int norm; } layer[] = {
			{ "attn_norm.weight", E, 1, 1 }, { "attn_q.weight", E, H * hd, 0 },
			{ "attn_k.weight", E, KV * hd, 0 }, { "attn_v.weight", E, KV * hd, 0 },
			{ "attn_q_norm.weight", hd, 1, 1 }, { "attn_k_norm.weight", hd, 1, 1 },
			{ "attn_output.weight", H * hd, E, 0 }, { "ffn_norm.weight", E, 1, 1 },
			{ "ffn_gate.weight", E, F, 0 }, { "ffn_up.weight", E, F, 0 },
			{ "ffn_down.weight", F, E, 0 },
		};
		for (size_t i = 0; i < sizeof(layer) / sizeof(layer[0]); i++, n++) {
			snprintf(t[n].name, 64, "blk.%d.%s", l, layer[i].suffix);
			t[n].ne0 = layer[i].ne0, t[n].ne1 = layer[i].ne1, t[n].norm = layer[i].norm;
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t ne[2] = { t[i].ne0, t[i].ne1 };
		assert_int_equal(arca_gguf_add_tensor(w, t[i].name, t[i].ne1 > 1 ? 2 : 1, ne,
			t[i].norm ? ARCA_GGML_F32 : type), ARCA_OK);
	}
	t_buffer b = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &b), ARCA_OK);
	uint64_t seed = 7;
	for (size_t i = 0; i < n; i++) {
		int ty = t[i].norm ? ARCA_GGML_F32 : type;
		size_t count = (size_t)(t[i].ne0 * t[i].ne1);
		float *v = malloc(count * sizeof(float));
		for (size_t j = 0; j < count; j++)
			v[j] = t[i].norm ? 1.0f + 0.1f * rnd(&seed) : 0.2f * rnd(&seed);
		uint64_t bytes = arca_ggml_row_size(ty, t[i].ne0) * t[i].ne1;
		void *q = malloc(bytes);
		assert_int_equal(arca_quantize_rows(ty, v, q, t[i].ne1, t[i].ne0), ARCA_OK);
		assert_int_equal(arca_gguf_write_tensor_data(w, t_buffer_sink, &b, i, q, bytes),
			ARCA_OK);
		free(v);
		free(q);
	}
	arca_gguf_writer_free(w);
	return b;
}

typedef struct {
	t_buffer b;
	arca_gguf *g;
	arca_model *m;
} model;

static void model_open(model *out, int type, uint32_t hd)
{
	out->b = build(type, hd);
	assert_int_equal(arca_gguf_open_buffer(&out->g, out->b.data, out->b.len, "m.gguf"),
		ARCA_OK);
	assert_int_equal(arca_model_load(&out->m, out->g, "m.gguf"), ARCA_OK);
}

static void model_close(model *m)
{
	arca_model_free(m->m);
	arca_gguf_free(m->g);
	free(m->b.data);
}

static arca_session *session(const model *m, int cache_type, int threads)
{
	arca_session_opts o = ARCA_SESSION_OPTS_INIT;
	o.n_ctx = CTX;
	o.n_threads = threads;
	o.cache_type = cache_type;
	arca_session *s;
	assert_int_equal(arca_session_new_opts(&s, m->m, &o), ARCA_OK);
	assert_int_equal(arca_session_cache_type(s), cache_type);
	return s;
}

/* The logits of every position of a fixed prompt of N tokens (caller frees). */
static float *all_logits(arca_session *s, int one_by_one)
{
	int32_t ids[N];
	uint64_t seed = 3;
	for (int t = 0; t < N; t++)
		ids[t] = (int32_t)((rnd(&seed) + 1.0f) * 0.5f * (V - 1));
	float *out = malloc((size_t)N * V * sizeof(float));
	const float *l;
	arca_session_truncate(s, 0);
	if (!one_by_one) {
		assert_int_equal(arca_session_eval(s, ids, N, 1, &l), ARCA_OK);
		memcpy(out, l, (size_t)N * V * sizeof(float));
		return out;
	}
	for (int t = 0; t < N; t++) {
		assert_int_equal(arca_session_eval(s, &ids[t], 1, 0, &l), ARCA_OK);
		memcpy(out + (size_t)t * V, l, V * sizeof(float));
	}
	return out;
}

static int argmax(const float *x)
{
	int best = 0;
	for (int i = 1; i < V; i++)
		best = x[i] > x[best] ? i : best;
	return best;
}

/* Largest |a − b| over all logits, relative to the largest |a| of the same position, and
 * the number of positions whose greedy choice differs where a's top two are further apart
 * than `margin` (a near-tie may go either way under any rounding). */
static double max_rel_diff(const float *a, const float *b, double margin, int *flips)
{
	double worst = 0.0;
	*flips = 0;
	for (int t = 0; t < N; t++) {
		const float *pa = a + (size_t)t * V, *pb = b + (size_t)t * V;
		double amax = 0.0, d = 0.0;
		for (int v = 0; v < V; v++) {
			amax = fabs(pa[v]) > amax ? fabs(pa[v]) : amax;
			d = fabs(pa[v] - pb[v]) > d ? fabs(pa[v] - pb[v]) : d;
		}
		worst = d / amax > worst ? d / amax : worst;
		int top = argmax(pa);
		double second = -INFINITY;
		for (int v = 0; v < V; v++)
			if (v != top && pa[v] > second)
				second = pa[v];
		if (argmax(pb) != top && pa[top] - second > margin * amax)
			(*flips)++;
	}
	return worst;
}

/* F16 and Q8_0 caches against the exact F32 one, measured by the largest logit change
 * relative to the position's largest logit. The yardstick is the change Q8_0 *weights* make
 * (F32 cache): the rounding arca's q8_0 variants are accepted with. A Q8_0 cache applies the
 * same rounding (a step of amax/127 per block of 32) to fewer values — the keys and values
 * only, not the seven products of every layer — so it may move logits at most as far
 * (measured: 2.7% against 5.3%). F16 rounds to 2^-11 relative, at least 16 times finer than
 * Q8_0's step of 1/127 of the block maximum, so its change is bounded by a sixteenth of the
 * yardstick (measured: 0.08%, a 68th). Greedy choices agree wherever the top two logits are
 * apart by more than twice the bound (each may move by the bound). A cache read wrongly — another head's offset, position,
 * block scale or layer — moves logits by tens of percent, past both bounds. */
static void test_close_to_f32(void **state)
{
	(void)state;
	model m;
	model_open(&m, ARCA_GGML_F32, 64);
	arca_session *s32 = session(&m, ARCA_GGML_F32, 2);
	arca_session *s16 = session(&m, ARCA_GGML_F16, 2);
	arca_session *s8 = session(&m, ARCA_GGML_Q8_0, 2);
	float *l32 = all_logits(s32, 0), *l16 = all_logits(s16, 0), *l8 = all_logits(s8, 0);
	/* the yardstick: the same rounding applied to the weights instead (Q8_0 weights, F32
	 * cache), the accuracy arca's q8_0 variants are held to */
	model mq;
	model_open(&mq, ARCA_GGML_Q8_0, 64);
	arca_session *sw = session(&mq, ARCA_GGML_F32, 2);
	float *lw = all_logits(sw, 0);
	int flips_w, flips16, flips8, flips8_16;
	double dw = max_rel_diff(l32, lw, 0.0, &flips_w);
	/* a greedy choice may flip only where the top two are within twice the bound */
	double d16 = max_rel_diff(l32, l16, 2 * dw / 16, &flips16);
	double d8 = max_rel_diff(l32, l8, 2 * dw, &flips8);
	double d8_16 = max_rel_diff(l16, l8, 2 * dw, &flips8_16);
	print_message("vs the F32 cache: f16 cache %.2e, q8_0 cache %.2e (q8_0 vs f16 %.2e), "
		"q8_0 weights %.2e of the largest logit\n", d16, d8, d8_16, dw);
	free(lw);
	arca_session_free(sw);
	model_close(&mq);
	assert_true(d16 > 0.0 && d16 <= dw / 16);    /* > 0: the F16 cache is really used */
	assert_true(d8 > 0.0 && d8 <= dw);
	assert_true(d8_16 <= dw);
	assert_int_equal(flips16, 0);
	assert_int_equal(flips8, 0);
	assert_int_equal(flips8_16, 0);
	/* the F32 cache asked for by option is the default session's, bit for bit */
	arca_session *def;
	assert_int_equal(arca_session_new(&def, m.m, CTX, 2), ARCA_OK);
	assert_int_equal(arca_session_cache_type(def), ARCA_GGML_F32);
	float *ld = all_logits(def, 0);
	assert_memory_equal(ld, l32, (size_t)N * V * sizeof(float));
	free(ld);
	free(l32);
	free(l16);
	free(l8);
	arca_session_free(def);
	arca_session_free(s32);
	arca_session_free(s16);
	arca_session_free(s8);
	model_close(&m);
}

/* With Q8_0 weights every product is the same integer tile for a batch and for one token
 * (runtime/kernels.h), and a narrow cache is read the same way in both: the logits of a
 * prompt evaluated as a batch and token by token are the same bits, on 1 or 2 threads. */
static void test_batch_equals_sequential(void **state)
{
	(void)state;
	static const int caches[] = { ARCA_GGML_F16, ARCA_GGML_Q8_0 };
	model m;
	model_open(&m, ARCA_GGML_Q8_0, 64);
	for (size_t c = 0; c < 2; c++) {
		arca_session *s1 = session(&m, caches[c], 1), *s2 = session(&m, caches[c], 2);
		float *batch = all_logits(s2, 0), *seq = all_logits(s1, 1), *b1 = all_logits(s1, 0);
		for (size_t i = 0; i < (size_t)N * V; i++)
			if (batch[i] != seq[i] || batch[i] != b1[i])
				fail_msg("cache %d, logit %zu: batch %.9g, one by one %.9g, 1 thread %.9g",
					caches[c], i, batch[i], seq[i], b1[i]);
		free(batch);
		free(seq);
		free(b1);
		arca_session_free(s1);
		arca_session_free(s2);
	}
	model_close(&m);
}

/* The last logits of an n-token prompt (n <= LONG) on a session of `cache_type`, as a
 * batch (one_by_one 0) or token by token. */
enum { LONG = 1100 };

static void long_logits(const model *m, int n, int cache_type, int threads, int one_by_one,
	float *out)
{
	int32_t ids[LONG];
	uint64_t seed = 5;
	for (int t = 0; t < n; t++)
		ids[t] = (int32_t)((rnd(&seed) + 1.0f) * 0.5f * (V - 1));
	arca_session_opts o = ARCA_SESSION_OPTS_INIT;
	o.n_ctx = (uint32_t)n + 4;
	o.n_threads = threads;
	o.cache_type = cache_type;
	arca_session *s;
	const float *l = NULL;
	assert_int_equal(arca_session_new_opts(&s, m->m, &o), ARCA_OK);
	if (!one_by_one)
		assert_int_equal(arca_session_eval(s, ids, (size_t)n, 0, &l), ARCA_OK);
	for (int t = 0; one_by_one && t < n; t++)
		assert_int_equal(arca_session_eval(s, &ids[t], 1, 0, &l), ARCA_OK);
	memcpy(out, l, V * sizeof(float));
	arca_session_free(s);
}

/* Largest |a − b| relative to the largest |a|, over one position's logits. */
static double rel_diff(const float *a, const float *b)
{
	double amax = 0.0, d = 0.0;
	for (int v = 0; v < V; v++) {
		amax = fabs(a[v]) > amax ? fabs(a[v]) : amax;
		d = fabs(a[v] - b[v]) > d ? fabs(a[v] - b[v]) : d;
	}
	return d / amax;
}

/* A prompt long enough for several tiles, query blocks and chunks of kv_attend.c (1,100
 * tokens: 18 tiles of 64, 3 chunks of 512, 3 batches of 512): a batch still gives token by
 * token's bits on 1 and 2 threads (a generated token splits its chunks across threads, a
 * batch does not), and the narrow caches stay within the short prompt's bounds of the F32
 * cache, the yardstick (Q8_0 weights) measured on this prompt too. */
static void test_long_prompt(void **state)
{
	(void)state;
	model mf, mq;
	model_open(&mf, ARCA_GGML_F32, 64);
	model_open(&mq, ARCA_GGML_Q8_0, 64);
	float l32[V], lw[V], l16[V], l8[V], batch[V], seq[V];
	long_logits(&mf, LONG, ARCA_GGML_F32, 2, 0, l32);
	long_logits(&mq, LONG, ARCA_GGML_F32, 2, 0, lw);
	long_logits(&mf, LONG, ARCA_GGML_F16, 2, 0, l16);
	long_logits(&mf, LONG, ARCA_GGML_Q8_0, 2, 0, l8);
	double dw = rel_diff(l32, lw), d16 = rel_diff(l32, l16), d8 = rel_diff(l32, l8);
	print_message("1,100 tokens, vs the F32 cache: f16 cache %.2e, q8_0 cache %.2e, q8_0 "
		"weights %.2e of the largest logit\n", d16, d8, dw);
	assert_true(d16 > 0.0 && d16 <= dw / 16);
	assert_true(d8 > 0.0 && d8 <= dw);
	/* at every kernel level this CPU has: AVX-512 and AVX2 have their own tile steps,
	 * scalar runs kv_attend.c's portable one (there with F32 weights, whose scalar products
	 * are the same for a batch and one token, and 600 tokens: 10 tiles, 2 chunks and 2
	 * batches; one cache type, one thread count: the step depends on neither) */
	static const int caches[] = { ARCA_GGML_F16, ARCA_GGML_Q8_0 };
	for (int level = ARCA_RT_LEVELS - 1; level >= 0; level--) {
		if (arca_rt_kernel_force(level) < 0)
			continue;
		const model *w = level == ARCA_RT_SCALAR ? &mf : &mq;
		for (size_t c = 0; c < (level == ARCA_RT_SCALAR ? 1u : 2u); c++) {
			for (int threads = 1; threads <= (level == ARCA_RT_SCALAR ? 1 : 2); threads++) {
				int n = level == ARCA_RT_SCALAR ? 600 : LONG;
				long_logits(w, n, caches[c], threads, 0, batch);
				long_logits(w, n, caches[c], threads, 1, seq);
				for (int v = 0; v < V; v++)
					if (batch[v] != seq[v])
						fail_msg("%s, cache %d, %d threads, logit %d: batch %.9g, one "
							"by one %.9g", arca_rt_kernel_name(), caches[c], threads, v,
							batch[v], seq[v]);
			}
		}
	}
	for (int level = ARCA_RT_LEVELS - 1; level >= 0; level--)
		if (arca_rt_kernel_force(level) == 0)
			break;
	model_close(&mf);
	model_close(&mq);
}

/* n_layer × (row(k_dim) + row(v_dim)): 2 × (2·128·4) for F32, half that for F16, and
 * 2 × 2 × (128/32 blocks × 34 bytes) for Q8_0. */
static void test_bytes_per_token(void **state)
{
	(void)state;
	model m;
	model_open(&m, ARCA_GGML_F32, 64);
	static const struct { int type; uint64_t bytes; } want[] = {
		{ ARCA_GGML_F32, LAYERS * 2 * KV * 64 * 4 },
		{ ARCA_GGML_F16, LAYERS * 2 * KV * 64 * 2 },
		{ ARCA_GGML_Q8_0, LAYERS * 2 * (KV * 64 / 32) * 34 },
	};
	for (size_t i = 0; i < 3; i++) {
		arca_session *s = session(&m, want[i].type, 1);
		assert_int_equal(arca_session_kv_bytes_per_token(s), want[i].bytes);
		arca_session_free(s);
	}
	model_close(&m);
}

static void test_names_and_refusals(void **state)
{
	(void)state;
	static const struct { const char *name; int type; } names[] = {
		{ "f32", ARCA_GGML_F32 }, { "f16", ARCA_GGML_F16 }, { "q8_0", ARCA_GGML_Q8_0 },
	};
	for (size_t i = 0; i < 3; i++) {
		int t = -1;
		assert_int_equal(arca_cache_type_parse(&t, names[i].name), ARCA_OK);
		assert_int_equal(t, names[i].type);
		assert_string_equal(arca_cache_type_name(t), names[i].name);
	}
	int t;
	assert_int_equal(arca_cache_type_parse(&t, "q4_0"), ARCA_EINVALID);
	assert_error_mentions("'q4_0'");
	assert_null(arca_cache_type_name(ARCA_GGML_Q4_0));
	/* heads 48 wide: a Q8_0 block of 32 would straddle two heads */
	model m;
	model_open(&m, ARCA_GGML_F32, 48);
	arca_session_opts o = ARCA_SESSION_OPTS_INIT;
	o.cache_type = ARCA_GGML_Q8_0;
	arca_session *s = NULL;
	assert_int_equal(arca_session_new_opts(&s, m.m, &o), ARCA_EINVALID);
	assert_error_mentions("multiples of 32");
	assert_null(s);
	o.cache_type = ARCA_GGML_Q4_0;
	assert_int_equal(arca_session_new_opts(&s, m.m, &o), ARCA_EINVALID);
	assert_null(s);
	o.cache_type = ARCA_GGML_F16;   /* F16 has no blocks: any width */
	assert_int_equal(arca_session_new_opts(&s, m.m, &o), ARCA_OK);
	arca_session_free(s);
	model_close(&m);
}

/* A fingerprint is recorded under a key naming the cache type; F32's is the key every
 * fingerprint had before cache types existed, so those stay comparable. */
static void test_fingerprint_keys(void **state)
{
	(void)state;
	assert_string_equal(arca_validate_prompt_set(ARCA_GGML_F32), ARCA_VALIDATE_PROMPT_SET);
	assert_string_equal(arca_validate_prompt_set(ARCA_GGML_F16),
		ARCA_VALIDATE_PROMPT_SET "+kv-f16");
	assert_string_equal(arca_validate_prompt_set(ARCA_GGML_Q8_0),
		ARCA_VALIDATE_PROMPT_SET "+kv-q8_0");
	assert_null(arca_validate_prompt_set(ARCA_GGML_Q4_0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_to_f32),
		cmocka_unit_test(test_batch_equals_sequential),
		cmocka_unit_test(test_long_prompt),
		cmocka_unit_test(test_bytes_per_token),
		cmocka_unit_test(test_names_and_refusals),
		cmocka_unit_test(test_fingerprint_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
