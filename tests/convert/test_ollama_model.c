/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/convert/test_ollama_model.c — a GGUF variant as an Ollama model
 * (convert/ollama_model.c, ollama_export.c, ollama_templates.c): parameter counts shown as
 * Ollama shows them, file type names, a template for every chat form the runtime recognises,
 * the facts read from a GGUF (family, size, type, end tokens, licence), the layers written,
 * and a split GGUF refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/chat_template.h"
#include "arca/convert.h"
#include "arca/gguf.h"
#include "arca/ollama_model.h"
#include "arca/quant.h"
#include "support.h"

static void test_human_number(void **state)
{
	(void)state;
	/* Ollama's format.HumanNumber: whole numbers bare, else 1 decimal for B, 2 for M */
	static const struct {
		uint64_t n;
		const char *want;
	} cases[] = {
		{ 0, "0" }, { 999, "999" }, { 1000, "1K" }, { 25400, "25K" }, { 1000000, "1M" },
		{ 125000000, "125M" }, { 494032768, "494.03M" }, { 500500000, "500.50M" },
		{ 1000000000, "1B" }, { 7615616512ull, "7.6B" }, { 70553706496ull, "70.6B" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		arca_ollama_human_number(buf, sizeof(buf), cases[i].n);
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_file_type_names(void **state)
{
	(void)state;
	assert_string_equal(arca_quant_file_type_name(15), "Q4_K_M");
	assert_string_equal(arca_quant_file_type_name(1), "F16");
	assert_string_equal(arca_quant_file_type_name(32), "BF16");
	assert_null(arca_quant_file_type_name(4));
	static const char *const plans[] = { "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0",
		"q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "iq4_nl", "iq4_xs", "q4_k_m", "q4_k_s",
		"q5_k_m", "q5_k_s" };
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++) {
		arca_quant_plan p;
		assert_int_equal(arca_quant_plan_parse(&p, plans[i]), ARCA_OK);
		if (!arca_quant_file_type_name(p.ftype))
			fail_msg("%s: file type %u has no name", plans[i], p.ftype);
	}
}

/* Every form the runtime recognises has a template that opens the assistant's turn the way
 * arca_chat_apply does, and ends a turn with one of its stop strings. */
static void test_template_per_chat_form(void **state)
{
	(void)state;
	static const arca_chat_form forms[] = { ARCA_CHAT_CHATML, ARCA_CHAT_DEEPSEEK,
		ARCA_CHAT_LLAMA3 };
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const char *name = arca_chat_form_name(forms[i]);
		const arca_ollama_template *t = arca_ollama_template_for(name);
		if (!t)
			fail_msg("no Ollama template for chat form %s", name);
		char *applied;
		assert_int_equal(arca_chat_apply(&applied, forms[i], NULL, "Q"), ARCA_OK);
		/* the longest tail of the text after the user's "Q" that the template ends with
		 * must hold the assistant's opener */
		const char *s = strstr(applied, "Q") + 1;
		size_t text_len = strlen(t->text);
		while (*s && !(strlen(s) <= text_len && !strcmp(t->text + text_len - strlen(s), s)))
			s++;
		if (!strstr(s, "ssistant"))
			fail_msg("%s: the template does not end as arca_chat_apply does ('%s')", name, s);
		assert_non_null(strstr(t->text, ".Messages"));
		assert_non_null(t->stops[0]);
		free(applied);
	}
	assert_null(arca_ollama_template_for("zephyr"));
	assert_null(arca_ollama_template_for(NULL));
}

/* ------------------------------------------------------------------ a variant in a store */

typedef struct {
	char *home, *dir;
	arca_store *store;
	arca_snapshot snap;
} fixture;

/* A small GGUF: two F32 tensors (4x3 and 5: 17 parameters) and a vocabulary. */
static t_buffer make_gguf(uint32_t split_count)
{
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	static const char *const tokens[] = { "a", "<eos>", "<eot>" };
	assert_int_equal(arca_gguf_add_str(w, "general.architecture", "qwen2"), ARCA_OK);
	assert_int_equal(arca_gguf_add_u32(w, "general.file_type", 7), ARCA_OK);
	if (split_count)
		assert_int_equal(arca_gguf_add_u32(w, "split.count", split_count), ARCA_OK);
	assert_int_equal(arca_gguf_add_arr_str(w, "tokenizer.ggml.tokens", tokens, 3), ARCA_OK);
	assert_int_equal(arca_gguf_add_u32(w, "tokenizer.ggml.eos_token_id", 1), ARCA_OK);
	assert_int_equal(arca_gguf_add_u32(w, "tokenizer.ggml.eot_token_id", 2), ARCA_OK);
	assert_int_equal(arca_gguf_add_u32(w, "tokenizer.ggml.eom_token_id", 1), ARCA_OK);
	assert_int_equal(arca_gguf_add_str(w, "tokenizer.chat_template",
		"{{'<|im_start|>' + m }}"), ARCA_OK);
	uint64_t ne_a[2] = { 4, 3 }, ne_b[1] = { 5 };
	assert_int_equal(arca_gguf_add_tensor(w, "a.weight", 2, ne_a, ARCA_GGML_F32), ARCA_OK);
	assert_int_equal(arca_gguf_add_tensor(w, "b.bias", 1, ne_b, ARCA_GGML_F32), ARCA_OK);
	t_buffer b = { 0 };
	float zeros[12] = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &b), ARCA_OK);
	assert_int_equal(arca_gguf_write_tensor_data(w, t_buffer_sink, &b, 0, zeros, 48), ARCA_OK);
	assert_int_equal(arca_gguf_write_tensor_data(w, t_buffer_sink, &b, 1, zeros, 20), ARCA_OK);
	arca_gguf_writer_free(w);
	return b;
}

static void add_variant(fixture *f, const char *name, const char *path, uint32_t split_count)
{
	t_buffer b = make_gguf(split_count);
	arca_file_digests d;
	assert_int_equal(arca_store_put_buffer(f->store, b.data, b.len, &d), ARCA_OK);
	free(b.data);
	arca_catalog *cat = arca_store_catalog(f->store);
	int64_t art;
	assert_int_equal(arca_catalog_add_artifact(cat, "gguf", name, f->snap.id, "{}", &art),
		ARCA_OK);
	assert_int_equal(arca_catalog_add_artifact_output(cat, art, d.sha256, path), ARCA_OK);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->store = t_store_new(&f->home);
	f->dir = t_tempdir();
	arca_catalog *cat = arca_store_catalog(f->store);
	arca_snapshot_new snap = { .hub = "local", .repo_id = "acme/Tiny-Chat",
		.commit = "0123456789abcdef0123456789abcdef01234567", .revision = "main",
		.source = "local", .license_json = "{\"summary\":\"mit\",\"id\":\"mit\","
		"\"link\":\"https://example.com/mit\",\"files\":[]}" };
	int64_t id;
	int existed;
	assert_int_equal(arca_catalog_create_snapshot(cat, &snap, &id, &existed), ARCA_OK);
	assert_int_equal(arca_catalog_complete_snapshot(cat, id), ARCA_OK);
	assert_int_equal(arca_catalog_set_ref(cat, id, "main"), ARCA_OK);
	arca_ref ref;
	assert_int_equal(arca_ref_parse(&ref, "local:acme/Tiny-Chat"), ARCA_OK);
	if (arca_catalog_find_snapshot(&f->snap, cat, &ref) != ARCA_OK)
		fail_msg("find: %s", arca_error_last());
	add_variant(f, "q8_0", "model.gguf", 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	arca_snapshot_dispose(&f->snap);
	arca_store_free(f->store);
	t_remove_tree(f->home);
	t_remove_tree(f->dir);
	free(f->home);
	free(f->dir);
	free(f);
	return 0;
}

static void test_model_facts_and_layers(void **state)
{
	fixture *f = *state;
	arca_ollama_model m;
	if (arca_ollama_model_open(&m, f->store, &f->snap, "q8_0") != ARCA_OK)
		fail_msg("open: %s", arca_error_last());
	assert_string_equal(m.arch, "qwen2");
	assert_int_equal(m.n_params, 17);
	assert_string_equal(m.model_type, "17");
	assert_string_equal(m.file_type, "Q8_0");
	assert_int_equal(m.n_end_tokens, 2);
	assert_string_equal(m.end_tokens[0], "<eos>");
	assert_string_equal(m.end_tokens[1], "<eot>");
	assert_non_null(m.chat_template);
	assert_int_equal(m.n_license_files, 0);
	assert_string_equal(m.license_text, "mit\nhttps://example.com/mit\n");

	arca_ollama_name name;
	assert_int_equal(arca_ollama_name_from_repo(&name, m.repo_id, m.variant), ARCA_OK);
	arca_ollama_checkout_opts opts = { .dir = f->dir, .name = &name, .chat_form = "chatml" };
	arca_ollama_checkout_result res;
	if (arca_ollama_model_checkout(&res, f->store, &m, &opts) != ARCA_OK)
		fail_msg("checkout: %s", arca_error_last());
	assert_string_equal(res.template_form, "chatml");
	assert_null(res.no_template);
	assert_null(res.no_license);
	assert_int_equal(res.n_stops, 4); /* <|im_start|>, <|im_end|>, <eos>, <eot> */
	assert_int_equal(res.written.n_layers, 4);
	assert_string_equal(res.written.layers[0].media_type, ARCA_OLLAMA_MEDIA_MODEL);
	assert_string_equal(res.written.layers[1].media_type, ARCA_OLLAMA_MEDIA_TEMPLATE);
	assert_string_equal(res.written.layers[2].media_type, ARCA_OLLAMA_MEDIA_LICENSE);
	assert_string_equal(res.written.layers[3].media_type, ARCA_OLLAMA_MEDIA_PARAMS);
	assert_int_equal(res.written.layers[2].size, strlen(m.license_text));
	arca_ollama_checkout_result_dispose(&res);

	/* no known chat form: no template layer, and why */
	opts.chat_form = NULL;
	assert_int_equal(arca_ollama_model_checkout(&res, f->store, &m, &opts), ARCA_OK);
	assert_null(res.template_form);
	assert_non_null(strstr(res.no_template, "tokenizer.chat_template"));
	assert_int_equal(res.written.n_layers, 3);
	assert_int_equal(res.n_stops, 2);
	assert_false(res.written.manifest_unchanged); /* the same name, other layers */
	arca_ollama_checkout_result_dispose(&res);
	arca_ollama_model_dispose(&m);
}

static void test_split_and_missing_refused(void **state)
{
	fixture *f = *state;
	arca_ollama_model m;
	add_variant(f, "q4_0", "model-00001-of-00002.gguf", 2);
	assert_int_equal(arca_ollama_model_open(&m, f->store, &f->snap, "q4_0"), ARCA_EUNSUPPORTED);
	assert_error_mentions("split into 2 GGUF files");
	assert_error_mentions("acme/Tiny-Chat");
	assert_int_equal(arca_ollama_model_open(&m, f->store, &f->snap, "q6_k"), ARCA_ENOTFOUND);
	assert_error_mentions("has no variant 'q6_k'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_human_number),
		cmocka_unit_test(test_file_type_names),
		cmocka_unit_test(test_template_per_chat_form),
		cmocka_unit_test_setup_teardown(test_model_facts_and_layers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_and_missing_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
