/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/test_generate.c — the generation loop on a small seeded model built in
 * memory: greedy and sampled runs give the tokens of a loop written out here by hand, the
 * end-of-generation token stops it (unless ignored), the callback stops it or fails it,
 * the pieces and the tail are the tokens' bytes, and a run that does not fit the context
 * is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/generate.h"
#include "arca/gguf.h"
#include "arca/quant.h"
#include "support.h"

enum { E = 64, H = 2, KV = 1, HD = 32, F = 128, V = 96, LAYERS = 1, N = 12 };

static float rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((double)(*s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* A one-layer qwen3-shaped GGUF with seeded F32 weights. */
static t_buffer build_model(void)
{
	static const struct { const char *name; uint64_t ne0, ne1; int norm; } tensors[] = {
		{ "token_embd.weight", E, V, 0 }, { "output_norm.weight", E, 1, 1 },
		{ "blk.0.attn_norm.weight", E, 1, 1 }, { "blk.0.attn_q.weight", E, H * HD, 0 },
		{ "blk.0.attn_k.weight", E, KV * HD, 0 }, { "blk.0.attn_v.weight", E, KV * HD, 0 },
		{ "blk.0.attn_q_norm.weight", HD, 1, 1 }, { "blk.0.attn_k_norm.weight", HD, 1, 1 },
		{ "blk.0.attn_output.weight", H * HD, E, 0 }, { "blk.0.ffn_norm.weight", E, 1, 1 },
		{ "blk.0.ffn_gate.weight", E, F, 0 }, { "blk.0.ffn_up.weight", E, F, 0 },
		{ "blk.0.ffn_down.weight", F, E, 0 },
	};
	enum { T = sizeof(tensors) / sizeof(tensors[0]) };
	static const struct { const char *k; uint32_t v; } u32s[] = {
		{ "qwen3.block_count", LAYERS }, { "qwen3.embedding_length", E },
		{ "qwen3.feed_forward_length", F }, { "qwen3.attention.head_count", H },
		{ "qwen3.attention.head_count_kv", KV }, { "qwen3.attention.key_length", HD },
		{ "qwen3.context_length", 64 },
	};
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	assert_int_equal(arca_gguf_add_str(w, "general.architecture", "qwen3"), ARCA_OK);
	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		assert_int_equal(arca_gguf_add_u32(w, u32s[i].k, u32s[i].v), ARCA_OK);
	assert_int_equal(arca_gguf_add_f32(w, "qwen3.attention.layer_norm_rms_epsilon", 1e-6f),
		ARCA_OK);
	assert_int_equal(arca_gguf_add_f32(w, "qwen3.rope.freq_base", 10000.0f), ARCA_OK);
	for (size_t i = 0; i < T; i++) {
		uint64_t ne[2] = { tensors[i].ne0, tensors[i].ne1 };
		assert_int_equal(arca_gguf_add_tensor(w, tensors[i].name, ne[1] > 1 ? 2 : 1, ne,
			ARCA_GGML_F32), ARCA_OK);
	}
	t_buffer b = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &b), ARCA_OK);
	uint64_t seed = 7;
	for (size_t i = 0; i < T; i++) {
		size_t count = (size_t)(tensors[i].ne0 * tensors[i].ne1);
		float *v = malloc(count * sizeof(float));
		assert_non_null(v);
		for (size_t j = 0; j < count; j++)
			v[j] = tensors[i].norm ? 1.0f + 0.1f * rnd(&seed) : 0.5f * rnd(&seed);
		assert_int_equal(arca_gguf_write_tensor_data(w, t_buffer_sink, &b, i, v,
			count * sizeof(float)), ARCA_OK);
		free(v);
	}
	arca_gguf_writer_free(w);
	return b;
}

/* A byte-level tokenizer of V tokens: printable ASCII '!'..'}' (93), the merge of '!' and
 * '"', then the lone bytes 0xC3 and 0xA9 as byte-level BPE spells them ('Ã', '©'), so that
 * "é" comes in two tokens; eos_token_id `eos`. */
static t_buffer build_tokenizer(int32_t eos)
{
	char text[V][4];
	const char *tokens[V];
	static const char *const merges[] = { "! \"" };
	for (int i = 0; i < 93; i++) {
		text[i][0] = (char)('!' + i);
		text[i][1] = '\0';
		tokens[i] = text[i];
	}
	tokens[93] = "!\"";
	tokens[94] = "\xc3\x83"; /* U+00C3: byte 0xC3 */
	tokens[95] = "\xc2\xa9"; /* U+00A9: byte 0xA9 */
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	assert_int_equal(arca_gguf_add_str(w, "tokenizer.ggml.model", "gpt2"), ARCA_OK);
	assert_int_equal(arca_gguf_add_str(w, "tokenizer.ggml.pre", "qwen2"), ARCA_OK);
	assert_int_equal(arca_gguf_add_arr_str(w, "tokenizer.ggml.tokens", tokens, V), ARCA_OK);
	assert_int_equal(arca_gguf_add_arr_str(w, "tokenizer.ggml.merges", merges, 1), ARCA_OK);
	assert_int_equal(arca_gguf_add_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos),
		ARCA_OK);
	t_buffer b = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &b), ARCA_OK);
	arca_gguf_writer_free(w);
	return b;
}

typedef struct {
	t_buffer file;
	arca_gguf *g;
	arca_model *m;
	arca_session *s;
} fixture;

static void fixture_open(fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->file = build_model();
	assert_int_equal(arca_gguf_open_buffer(&f->g, f->file.data, f->file.len, "m.gguf"),
		ARCA_OK);
	assert_int_equal(arca_model_load(&f->m, f->g, "m.gguf"), ARCA_OK);
	assert_int_equal(arca_session_new(&f->s, f->m, 32, 1), ARCA_OK);
}

static void fixture_close(fixture *f)
{
	arca_session_free(f->s);
	arca_model_free(f->m);
	arca_gguf_free(f->g);
	free(f->file.data);
}

static arca_tokenizer *tokenizer(t_buffer *b, arca_gguf **g, int32_t eos)
{
	*b = build_tokenizer(eos);
	assert_int_equal(arca_gguf_open_buffer(g, b->data, b->len, "t.gguf"), ARCA_OK);
	arca_tokenizer *t;
	if (arca_tokenizer_from_gguf(&t, *g) != ARCA_OK)
		fail_msg("tokenizer: %s", arca_error_last());
	return t;
}

/* The loop written out: prompt, then choose and evaluate n times. */
static void by_hand(arca_session *s, const int32_t *prompt, size_t n_prompt,
	const arca_sampling *sp, int32_t *ids, size_t n)
{
	arca_sampler *sampler = NULL;
	if (sp)
		assert_int_equal(arca_sampler_new(&sampler, sp, V), ARCA_OK);
	const float *logits;
	arca_session_truncate(s, 0);
	assert_int_equal(arca_session_eval(s, prompt, n_prompt, 0, &logits), ARCA_OK);
	for (size_t i = 0; i < n; i++) {
		float v;
		if (sampler)
			ids[i] = arca_sample(sampler, logits);
		else
			arca_top_logits(logits, V, 1, &ids[i], &v);
		if (i + 1 < n)
			assert_int_equal(arca_session_eval(s, &ids[i], 1, 0, &logits), ARCA_OK);
	}
	arca_sampler_free(sampler);
}

typedef struct {
	int32_t ids[64];
	char text[1024];
	size_t n, text_len;
	size_t stop_at;   /* return `verdict` at this index */
	int verdict;
} collected;

static int collect(const arca_generated_token *t, void *payload)
{
	collected *c = payload;
	assert_int_equal(t->index, c->n);
	assert_int_equal(t->n_vocab, V);
	assert_non_null(t->logits);
	c->ids[c->n++] = t->id;
	memcpy(c->text + c->text_len, t->piece, t->piece_len);
	c->text_len += t->piece_len;
	if (t->index == c->stop_at) {
		if (c->verdict < 0)
			return arca_error_set(ARCA_EIO, "callback failed at %zu", t->index);
		return c->verdict;
	}
	return 0;
}

static const int32_t prompt[] = { 3, 40, 17, 95 };

static arca_err generate(fixture *f, collected *c, arca_generate_result *r,
	const arca_generate_opts *go)
{
	arca_session_truncate(f->s, 0);
	return arca_generate(r, f->s, prompt, 4, go, collect, c);
}

static void test_matches_the_loop_by_hand(void **state)
{
	(void)state;
	fixture f;
	fixture_open(&f);
	static const arca_sampling sampled = { 0.8f, 20, 0.95f, 1234 };
	const arca_sampling *cases[] = { NULL, &sampled };
	for (size_t k = 0; k < 2; k++) {
		int32_t want[N];
		by_hand(f.s, prompt, 4, cases[k], want, N);
		collected c = { .stop_at = SIZE_MAX };
		arca_generate_opts go = ARCA_GENERATE_OPTS_INIT;
		go.n_predict = N;
		go.sampling = cases[k];
		arca_generate_result r;
		assert_int_equal(generate(&f, &c, &r, &go), ARCA_OK);
		assert_int_equal(r.stop, ARCA_GENERATE_LENGTH);
		assert_string_equal(arca_generate_stop_name(r.stop), "length");
		assert_int_equal(r.n_prompt, 4);
		assert_int_equal(r.n_generated, N);
		assert_int_equal(c.n, N);
		assert_true(r.prefill_seconds >= 0 && r.decode_seconds >= 0);
		assert_memory_equal(c.ids, want, sizeof(want));
		assert_int_equal(c.text_len, 0); /* no tokenizer: no pieces */
		/* every token but the last was evaluated */
		assert_int_equal(arca_session_n_past(f.s), 4 + N - 1);
	}
	/* only the prompt */
	collected c = { .stop_at = SIZE_MAX };
	arca_generate_opts go = ARCA_GENERATE_OPTS_INIT;
	arca_generate_result r;
	assert_int_equal(generate(&f, &c, &r, &go), ARCA_OK);
	assert_int_equal(r.n_generated, 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(arca_session_n_past(f.s), 4);
	fixture_close(&f);
}

static void test_end_of_generation_and_pieces(void **state)
{
	(void)state;
	fixture f;
	fixture_open(&f);
	int32_t greedy[N];
	by_hand(f.s, prompt, 4, NULL, greedy, N);
	/* the first token that did not come before it becomes the end-of-sequence token */
	size_t k = N;
	for (size_t i = 1; i < N && k == N; i++) {
		int seen = 0;
		for (size_t j = 0; j < i; j++)
			seen |= greedy[j] == greedy[i];
		if (!seen)
			k = i;
	}
	if (k == N)
		skip(); /* the seeded model repeats one token: nothing to stop at */
	t_buffer tb;
	arca_gguf *tg;
	arca_tokenizer *tok = tokenizer(&tb, &tg, greedy[k]);
	for (int ignore = 0; ignore < 2; ignore++) {
		collected c = { .stop_at = SIZE_MAX };
		arca_generate_opts go = ARCA_GENERATE_OPTS_INIT;
		go.n_predict = N;
		go.tokenizer = tok;
		go.ignore_eos = ignore;
		arca_generate_result r;
		assert_int_equal(generate(&f, &c, &r, &go), ARCA_OK);
		size_t want_n = ignore ? N : k + 1;
		assert_int_equal(r.stop, ignore ? ARCA_GENERATE_LENGTH : ARCA_GENERATE_EOS);
		assert_int_equal(r.n_generated, want_n);
		assert_memory_equal(c.ids, greedy, want_n * sizeof(int32_t));
		/* the pieces and the tail are the tokens' bytes, in order */
		char want[1024];
		size_t want_len = 0;
		for (size_t i = 0; i < want_n; i++) {
			int l = arca_token_to_bytes(tok, greedy[i], want + want_len, 16);
			assert_true(l >= 0);
			want_len += (size_t)l;
		}
		memcpy(c.text + c.text_len, r.tail, r.tail_len);
		assert_int_equal(c.text_len + r.tail_len, want_len);
		assert_memory_equal(c.text, want, want_len);
	}
	/* end of generation wins over a stop the callback asks for at the same token */
	collected c = { .stop_at = k, .verdict = 1 };
	arca_generate_opts go = ARCA_GENERATE_OPTS_INIT;
	go.n_predict = N;
	go.tokenizer = tok;
	arca_generate_result r;
	assert_int_equal(generate(&f, &c, &r, &go), ARCA_OK);
	assert_int_equal(r.stop, ARCA_GENERATE_EOS);
	arca_tokenizer_free(tok);
	arca_gguf_free(tg);
	free(tb.data);
	fixture_close(&f);
}

static void test_callback_stops_and_fails(void **state)
{
	(void)state;
	fixture f;
	fixture_open(&f);
	arca_generate_opts go = ARCA_GENERATE_OPTS_INIT;
	go.n_predict = N;
	arca_generate_result r;
	collected c = { .stop_at = 3, .verdict = 1 };
	assert_int_equal(generate(&f, &c, &r, &go), ARCA_OK);
	assert_int_equal(r.stop, ARCA_GENERATE_STOPPED);
	assert_string_equal(arca_generate_stop_name(r.stop), "stopped");
	assert_int_equal(r.n_generated, 4);
	assert_int_equal(arca_session_n_past(f.s), 4 + 3); /* the stopping token is not evaluated */
	collected e = { .stop_at = 2, .verdict = -1 };
	assert_int_equal(generate(&f, &e, &r, &go), ARCA_EIO);
	assert_error_mentions("callback failed at 2");
	assert_int_equal(r.n_generated, 3);
	/* a run that does not fit the context: the session says so */
	go.n_predict = 40;
	collected d = { .stop_at = SIZE_MAX };
	assert_int_equal(generate(&f, &d, &r, &go), ARCA_EINVALID);
	assert_error_mentions("do not fit");
	/* sampling parameters are checked */
	arca_sampling bad = { 1.0f, 0, 2.0f, 0 };
	go.sampling = &bad;
	go.n_predict = 2;
	assert_int_equal(generate(&f, &d, &r, &go), ARCA_EINVALID);
	assert_error_mentions("top-p");
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_the_loop_by_hand),
		cmocka_unit_test(test_end_of_generation_and_pieces),
		cmocka_unit_test(test_callback_stops_and_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
