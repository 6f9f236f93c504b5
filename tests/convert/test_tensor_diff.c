/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/convert/test_tensor_diff.c — arca_diff_models (arca/diff.h) on small GGUF files
 * written here: a model against itself is all identical; a changed element, an extended
 * embedding, an added and a removed tensor get their verdicts; F32 against F16 of the same
 * values is "converted"; F32 against its own Q8_0 is "requantized" and reproduced, and
 * against a Q8_0 moved after quantizing is "changed"; results do not depend on the number of threads; a bad target is
 * an error naming it. t_diff.sh covers snapshots, variants and the Q/K permutation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/diff.h"
#include "arca/gguf.h"
#include "arca/quant.h"
#include "support.h"

#define HIDDEN 32

typedef struct {
	const char *name;
	uint64_t rows;
	int type;     /* F32 or F16 */
	float bump;   /* added to element 5 */
} spec;

static float value(const char *name, uint64_t i)
{
	unsigned h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	/* the first rows of token_embd are the same whatever its length */
	return (float)sin((double)(h % 1000) + 0.37 * (double)i) * 0.02f;
}

static char *write_gguf(const char *dir, const char *file, const spec *specs, size_t n)
{
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	assert_int_equal(arca_gguf_add_str(w, "general.architecture", "qwen2"), ARCA_OK);
	assert_int_equal(arca_gguf_add_u32(w, "qwen2.attention.head_count", 4), ARCA_OK);
	for (size_t i = 0; i < n; i++) {
		uint64_t ne[2] = { HIDDEN, specs[i].rows };
		assert_int_equal(arca_gguf_add_tensor(w, specs[i].name, specs[i].rows ? 2 : 1, ne,
			specs[i].type), ARCA_OK);
	}
	t_buffer b = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &b), ARCA_OK);
	for (size_t i = 0; i < n; i++) {
		uint64_t count = HIDDEN * (specs[i].rows ? specs[i].rows : 1);
		float *f = malloc(count * sizeof(float));
		unsigned char *q = malloc(count * 4);
		for (uint64_t k = 0; k < count; k++)
			f[k] = value(specs[i].name, k) + (k == 5 ? specs[i].bump : 0);
		assert_int_equal(arca_quantize_rows(specs[i].type, f, q, count / HIDDEN, HIDDEN),
			ARCA_OK);
		assert_int_equal(arca_gguf_write_tensor_data(w, t_buffer_sink, &b, i, q,
			arca_ggml_row_size(specs[i].type, HIDDEN) * (count / HIDDEN)), ARCA_OK);
		free(f);
		free(q);
	}
	arca_gguf_writer_free(w);
	t_write_file(dir, file, (const char *)b.data, b.len);
	free(b.data);
	return t_path(dir, file);
}

static const arca_diff_tensor *find(const arca_diff_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_tensors; i++)
		if (!strcmp(r->tensors[i].name, name))
			return &r->tensors[i];
	fail_msg("no tensor %s in the diff", name);
	return NULL;
}

static void test_verdicts(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	const spec base[] = {
		{ "token_embd.weight", 64, ARCA_GGML_F32, 0 },
		{ "blk.0.attn_q.weight", 32, ARCA_GGML_F32, 0 },
		{ "blk.0.attn_v.weight", 16, ARCA_GGML_F32, 0 },
		{ "blk.1.ffn_up.weight", 48, ARCA_GGML_F32, 0 },
		{ "blk.1.ffn_down.weight", 16, ARCA_GGML_F32, 0 },
		{ "blk.1.ffn_gate.weight", 16, ARCA_GGML_F32, 0 },
		{ "output_norm.weight", 0, ARCA_GGML_F32, 0 },
	};
	const spec fork[] = {
		{ "token_embd.weight", 80, ARCA_GGML_F32, 0 },     /* 16 new rows */
		{ "blk.0.attn_q.weight", 32, ARCA_GGML_F32, 0.5f }, /* changed */
		{ "blk.0.attn_k.weight", 16, ARCA_GGML_F32, 0 },   /* added; attn_v removed */
		{ "blk.1.ffn_up.weight", 48, ARCA_GGML_F16, 0 },   /* converted */
		{ "blk.1.ffn_down.weight", 16, ARCA_GGML_Q8_0, 0 }, /* requantized, reproduced */
		{ "blk.1.ffn_gate.weight", 16, ARCA_GGML_Q8_0, 0.05f }, /* quantized, then moved */
		{ "output_norm.weight", 0, ARCA_GGML_F32, 0 },     /* identical */
	};
	char *a = write_gguf(dir, "a.gguf", base, 7), *b = write_gguf(dir, "b.gguf", fork, 7);

	arca_diff_result r;
	assert_int_equal(arca_diff_models(&r, NULL, a, a, NULL), ARCA_OK);
	assert_int_equal(r.count[ARCA_DIFF_IDENTICAL], 7);
	assert_true(fabs(r.global_cosine - 1) < 1e-12);
	arca_diff_result_dispose(&r);

	arca_diff_opts one = ARCA_DIFF_OPTS_INIT, two = ARCA_DIFF_OPTS_INIT;
	one.threads = 1;
	two.threads = 2;
	arca_diff_result r1, r2;
	assert_int_equal(arca_diff_models(&r1, NULL, a, b, &one), ARCA_OK);
	assert_int_equal(arca_diff_models(&r2, NULL, a, b, &two), ARCA_OK);
	assert_int_equal(r1.n_tensors, 8);
	assert_string_equal(find(&r1, "model.norm.weight")->dtype_a, "F32");
	assert_int_equal(find(&r1, "model.norm.weight")->verdict, ARCA_DIFF_IDENTICAL);
	const arca_diff_tensor *t = find(&r1, "model.layers.0.self_attn.q_proj.weight");
	assert_int_equal(t->verdict, ARCA_DIFF_CHANGED);
	assert_int_equal(t->layer, 0);
	assert_true(fabs(t->max_abs - 0.5) < 1e-6);
	assert_true(fabs(t->frac_changed - 1.0 / (32 * HIDDEN)) < 1e-12);
	assert_true(t->cosine < 1 && t->cosine > 0);
	t = find(&r1, "model.embed_tokens.weight");
	assert_int_equal(t->verdict, ARCA_DIFF_RESHAPED);
	assert_int_equal(t->new_rows, 16);
	assert_true(t->shared_same);
	assert_int_equal(t->n_compared, 64 * HIDDEN);
	assert_int_equal(find(&r1, "model.layers.0.self_attn.k_proj.weight")->verdict,
		ARCA_DIFF_ADDED);
	assert_int_equal(find(&r1, "model.layers.0.self_attn.v_proj.weight")->verdict,
		ARCA_DIFF_REMOVED);
	t = find(&r1, "model.layers.1.mlp.up_proj.weight");
	assert_int_equal(t->verdict, ARCA_DIFF_CONVERTED);
	assert_string_equal(t->dtype_b, "F16");
	assert_true(t->rel_l2 > 0 && t->rel_l2 <= arca_diff_bound(ARCA_GGML_F16));
	t = find(&r1, "model.layers.1.mlp.down_proj.weight");
	assert_int_equal(t->verdict, ARCA_DIFF_REQUANTIZED);
	assert_true(t->reproduced);
	assert_true(t->own_rel_l2 > 0 && fabs(t->rel_l2 - t->own_rel_l2) < 1e-12);
	/* one element moved by 0.05 after quantization: not the bytes, not within the error */
	t = find(&r1, "model.layers.1.mlp.gate_proj.weight");
	assert_int_equal(t->verdict, ARCA_DIFF_CHANGED);
	assert_false(t->reproduced);
	/* layers 0 and 1; layer 0 changed, layer 1's gate */
	assert_int_equal(r1.n_layers, 2);
	assert_int_equal(r1.layers[0].layer, 0);
	assert_int_equal(r1.layers[0].n_changed, 3);
	assert_int_equal(r1.layers[1].n_changed, 1);
	/* the same numbers on any number of threads */
	for (size_t i = 0; i < r1.n_tensors; i++) {
		assert_int_equal(r1.tensors[i].verdict, r2.tensors[i].verdict);
		assert_true(r1.tensors[i].dot == r2.tensors[i].dot);
		assert_true(r1.tensors[i].diff2 == r2.tensors[i].diff2);
	}
	assert_true(r1.global_cosine == r2.global_cosine);
	arca_diff_result_dispose(&r1);
	arca_diff_result_dispose(&r2);
	free(a);
	free(b);
	t_remove_tree(dir);
	free(dir);
}

static void test_errors(void **state)
{
	(void)state;
	arca_diff_result r;
	assert_int_equal(arca_diff_models(&r, NULL, "acme/base", "acme/other", NULL),
		ARCA_EINVALID);
	assert_error_mentions("acme/base");
	arca_diff_result_dispose(&r);
	char *dir = t_tempdir();
	t_write_file(dir, "junk.gguf", "not a gguf file at all", SIZE_MAX);
	char *junk = t_path(dir, "junk.gguf");
	assert_true(arca_diff_models(&r, NULL, junk, junk, NULL) < 0);
	assert_error_mentions("junk.gguf");
	arca_diff_result_dispose(&r);
	assert_string_equal(arca_diff_verdict_name(ARCA_DIFF_SAME_VALUES), "same values");
	assert_true(arca_diff_bound(ARCA_GGML_Q4_K) > arca_diff_bound(ARCA_GGML_Q8_0));
	free(junk);
	t_remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
