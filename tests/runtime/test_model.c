/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/test_model.c — binding a GGUF to the runtime and running sessions. GGUFs
 * are built in memory here with a configurable fault: a missing tensor, a wrong shape, an
 * unsupported type, an architecture the runtime cannot run, missing metadata — each a
 * clear error naming the problem. Then the session's own consistency: a prompt evaluated
 * as one batch gives the logits of evaluating it token by token, results do not depend on
 * the thread count, and tokens outside the vocabulary or beyond the context are refused
 * without changing the session.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "arca/quant.h"
#include "arca/runtime.h"
#include "support.h"

enum { E = 256, H = 4, KV = 2, HD = 64, F = 512, V = 96, LAYERS = 2 };

typedef struct {
	const char *arch;
	const char *drop;        /* leave this tensor out */
	const char *reshape;     /* give this tensor a wrong row length */
	const char *as_f16;      /* store this tensor as F16 */
	const char *drop_key;    /* leave this metadata key out */
	const char *rope_scaling; /* rope.scaling.type */
	int type;                /* ggml type of the matrices */
} fault;

typedef struct {
	char name[64];
	uint64_t ne0, ne1;
	int norm;
} spec;

static size_t model_specs(spec *out)
{
	size_t n = 0;
	out[n++] = (spec){ "token_embd.weight", E, V, 0 };
	out[n++] = (spec){ "output_norm.weight", E, 1, 1 };
	for (int l = 0; l < LAYERS; l++) {
		static const struct { const char *suffix; uint64_t ne0, ne1; int norm; } layer[] = {
			{ "attn_norm.weight", E, 1, 1 }, { "attn_q.weight", E, H * HD, 0 },
			{ "attn_k.weight", E, KV * HD, 0 }, { "attn_v.weight", E, KV * HD, 0 },
			{ "attn_q_norm.weight", HD, 1, 1 }, { "attn_k_norm.weight", HD, 1, 1 },
			{ "attn_output.weight", H * HD, E, 0 }, { "ffn_norm.weight", E, 1, 1 },
			{ "ffn_gate.weight", E, F, 0 }, { "ffn_up.weight", E, F, 0 },
			{ "ffn_down.weight", F, E, 0 },
		};
		for (size_t i = 0; i < sizeof(layer) / sizeof(layer[0]); i++) {
			snprintf(out[n].name, sizeof(out[n].name), "blk.%d.%s", l, layer[i].suffix);
			out[n].ne0 = layer[i].ne0;
			out[n].ne1 = layer[i].ne1;
			out[n++].norm = layer[i].norm;
		}
	}
	return n;
}

static float rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* A small qwen3-shaped GGUF with seeded weights, and the given fault. */
static t_buffer build(const fault *f)
{
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	const char *arch = f->arch ? f->arch : "qwen3";
	char key[96];
	assert_int_equal(arca_gguf_add_str(w, "general.architecture", arch), ARCA_OK);
	static const struct { const char *k; uint32_t v; } u32s[] = {
		{ "block_count", LAYERS }, { "embedding_length", E }, { "feed_forward_length", F },
		{ "attention.head_count", H }, { "attention.head_count_kv", KV },
		{ "attention.key_length", HD }, { "context_length", 128 },
	};
	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++) {
		if (f->drop_key && !strcmp(f->drop_key, u32s[i].k))
			continue;
		snprintf(key, sizeof(key), "%s.%s", arch, u32s[i].k);
		assert_int_equal(arca_gguf_add_u32(w, key, u32s[i].v), ARCA_OK);
	}
	snprintf(key, sizeof(key), "%s.attention.layer_norm_rms_epsilon", arch);
	arca_gguf_add_f32(w, key, 1e-6f);
	snprintf(key, sizeof(key), "%s.rope.freq_base", arch);
	arca_gguf_add_f32(w, key, 10000.0f);
	if (f->rope_scaling) {
		snprintf(key, sizeof(key), "%s.rope.scaling.type", arch);
		assert_int_equal(arca_gguf_add_str(w, key, f->rope_scaling), ARCA_OK);
		snprintf(key, sizeof(key), "%s.rope.scaling.factor", arch);
		assert_int_equal(arca_gguf_add_f32(w, key, 4.0f), ARCA_OK);
	}
	spec specs[64];
	size_t n = model_specs(specs);
	int types[64];
	size_t kept = 0;
	spec used[64];
	for (size_t i = 0; i < n; i++) {
		if (f->drop && !strcmp(f->drop, specs[i].name))
			continue;
		used[kept] = specs[i];
		if (f->reshape && !strcmp(f->reshape, specs[i].name))
			used[kept].ne0 += 32;
		int t = specs[i].norm ? ARCA_GGML_F32 : f->type;
		if (f->as_f16 && !strcmp(f->as_f16, specs[i].name))
			t = ARCA_GGML_F16;
		types[kept] = t;
		uint64_t ne[2] = { used[kept].ne0, used[kept].ne1 };
		assert_int_equal(arca_gguf_add_tensor(w, used[kept].name, used[kept].ne1 > 1 ? 2 : 1,
			ne, t), ARCA_OK);
		kept++;
	}
	t_buffer b = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &b), ARCA_OK);
	uint64_t seed = 99;
	for (size_t i = 0; i < kept; i++) {
		size_t count = (size_t)(used[i].ne0 * used[i].ne1);
		float *v = malloc(count * sizeof(float));
		for (size_t j = 0; j < count; j++)
			v[j] = used[i].norm ? 1.0f + 0.1f * rnd(&seed) : 0.2f * rnd(&seed);
		uint64_t bytes = arca_ggml_row_size(types[i], used[i].ne0) * used[i].ne1;
		void *q = malloc(bytes);
		assert_int_equal(arca_quantize_rows(types[i], v, q, used[i].ne1, used[i].ne0), ARCA_OK);
		assert_int_equal(arca_gguf_write_tensor_data(w, t_buffer_sink, &b, i, q, bytes), ARCA_OK);
		free(v);
		free(q);
	}
	arca_gguf_writer_free(w);
	return b;
}

/* Loads a faulty model and expects err, with `mention` in the message. */
static void expect_refused(const fault *f, arca_err want, const char *mention)
{
	t_buffer b = build(f);
	arca_gguf *g;
	assert_int_equal(arca_gguf_open_buffer(&g, b.data, b.len, "m.gguf"), ARCA_OK);
	arca_model *m = NULL;
	arca_err err = arca_model_load(&m, g, "m.gguf");
	if (err != want)
		fail_msg("got %d (%s), want %d", err, arca_error_last(), want);
	assert_error_mentions(mention);
	assert_error_mentions("m.gguf");
	assert_null(m);
	arca_gguf_free(g);
	free(b.data);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused(&(fault){ .drop = "blk.1.ffn_down.weight", .type = ARCA_GGML_F32 },
		ARCA_EINVALID, "blk.1.ffn_down.weight is missing");
	expect_refused(&(fault){ .drop = "blk.0.attn_k_norm.weight", .type = ARCA_GGML_F32 },
		ARCA_EINVALID, "blk.0.attn_k_norm.weight");
	expect_refused(&(fault){ .reshape = "blk.0.attn_q.weight", .type = ARCA_GGML_F32 },
		ARCA_EINVALID, "blk.0.attn_q.weight is 288 x 256, expected 256 x 256");
	expect_refused(&(fault){ .as_f16 = "blk.0.attn_norm.weight", .type = ARCA_GGML_F32 },
		ARCA_EUNSUPPORTED, "blk.0.attn_norm.weight is F16");
	expect_refused(&(fault){ .arch = "gpt2", .type = ARCA_GGML_F32 }, ARCA_EUNSUPPORTED,
		"gpt2");
	/* a deepseek2 file without its latent-attention metadata */
	expect_refused(&(fault){ .arch = "deepseek2", .type = ARCA_GGML_F32 }, ARCA_ENOTFOUND,
		"deepseek2.attention.kv_lora_rank");
	expect_refused(&(fault){ .rope_scaling = "longrope", .type = ARCA_GGML_F32 },
		ARCA_EUNSUPPORTED, "RoPE scaling 'longrope' is not in the runtime");
	expect_refused(&(fault){ .drop_key = "block_count", .type = ARCA_GGML_F32 },
		ARCA_ENOTFOUND, "block_count");
	expect_refused(&(fault){ .type = ARCA_GGML_IQ4_NL }, ARCA_EUNSUPPORTED, "IQ4_NL");
}

static arca_session *session(arca_model **m, arca_gguf **g, t_buffer *b, int type, int threads)
{
	*b = build(&(fault){ .type = type });
	assert_int_equal(arca_gguf_open_buffer(g, b->data, b->len, "m.gguf"), ARCA_OK);
	assert_int_equal(arca_model_load(m, *g, "m.gguf"), ARCA_OK);
	arca_session *s;
	assert_int_equal(arca_session_new(&s, *m, 32, threads), ARCA_OK);
	return s;
}

static void test_batch_equals_sequential(void **state)
{
	(void)state;
	static const int types[] = { ARCA_GGML_F32, ARCA_GGML_F16, ARCA_GGML_Q8_0,
		ARCA_GGML_Q4_K };
	const int32_t ids[7] = { 5, 17, 3, 88, 42, 42, 0 };
	for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
		arca_model *m;
		arca_gguf *g;
		t_buffer b;
		arca_session *s1 = session(&m, &g, &b, types[ti], 1);
		arca_session *s2;
		assert_int_equal(arca_session_new(&s2, m, 32, 2), ARCA_OK);
		const arca_model_info *in = arca_model_get_info(m);
		assert_int_equal(in->n_vocab, V);
		assert_int_equal(in->head_dim, HD);
		assert_true(in->tied_embeddings);
		assert_true(in->rope_neox);
		const float *all;
		assert_int_equal(arca_session_eval(s1, ids, 7, 1, &all), ARCA_OK);
		float *batch = malloc(7 * V * sizeof(float));
		memcpy(batch, all, 7 * V * sizeof(float));
		assert_int_equal(arca_session_n_past(s1), 7);
		for (int t = 0; t < 7; t++) {
			const float *one;
			assert_int_equal(arca_session_eval(s2, &ids[t], 1, 0, &one), ARCA_OK);
			for (int v = 0; v < V; v++) {
				float a = batch[t * V + v], c = one[v];
				assert_true(isfinite(a));
				/* F16 activations are rounded to half precision before each product: a
				 * different order of sums (one token decodes with its own row kernel) can
				 * move a value by a half-precision step, which later layers amplify; a
				 * wrong position or mask moves logits by far more */
				float tol = types[ti] == ARCA_GGML_F16 ? 1e-2f : 1e-4f;
				if (fabsf(a - c) > tol * (1.0f + fabsf(a)))
					fail_msg("type %d, token %d, logit %d: batch %.7g, one by one %.7g",
						types[ti], t, v, a, c);
			}
		}
		/* refusals leave the session as it was */
		const float *l;
		int32_t bad = V;
		assert_int_equal(arca_session_eval(s2, &bad, 1, 0, &l), ARCA_EINVALID);
		assert_error_mentions("outside the vocabulary");
		int32_t many[32] = { 0 };
		assert_int_equal(arca_session_eval(s2, many, 26, 0, &l), ARCA_EINVALID);
		assert_error_mentions("do not fit");
		assert_int_equal(arca_session_n_past(s2), 7);
		/* truncating and evaluating again repeats the result exactly */
		arca_session_truncate(s1, 0);
		assert_int_equal(arca_session_eval(s1, ids, 7, 1, &l), ARCA_OK);
		for (int v = 0; v < 7 * V; v++)
			assert_true(l[v] == batch[v]);
		free(batch);
		arca_session_free(s1);
		arca_session_free(s2);
		arca_model_free(m);
		arca_gguf_free(g);
		free(b.data);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_batch_equals_sequential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
