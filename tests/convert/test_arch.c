/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/convert/test_arch.c — the architecture tables (arca/arch.h): lookups by Hugging
 * Face class and GGUF name, the consistency of every table (each pattern expands and
 * matches back to the same layer and expert, no two rules claim one name), and the name
 * matcher's refusals (leading zeros, missing digits, trailing garbage), which decide
 * whether a stray tensor in a checkpoint is recognised or reported.
 */
#include <stdio.h>
#include <string.h>

#include "arca/arch.h"
#include "support.h"

static const char *const gguf_names[] = { "qwen2", "qwen3", "llama", "qwen3moe", "deepseek2",
	"glm4", "internlm2", "glm4moe", "minimax-m2", "chatglm" };
#define N_NAMES (sizeof(gguf_names) / sizeof(gguf_names[0]))

static void test_lookups(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_NAMES; i++) {
		const arca_arch *a = arca_arch_for_gguf(gguf_names[i]);
		assert_non_null(a);
		assert_string_equal(a->name, gguf_names[i]);
		assert_non_null(a->hf_classes[0]);
		for (const char *const *c = a->hf_classes; *c; c++) {
			assert_ptr_equal(arca_arch_for_hf_class(*c), a);
			assert_non_null(strstr(arca_arch_supported(), *c));
		}
		assert_non_null(a->default_pre);
	}
	assert_ptr_equal(arca_arch_for_hf_class("Qwen3ForCausalLM"), arca_arch_for_gguf("qwen3"));
	assert_ptr_equal(arca_arch_for_hf_class("LlamaForCausalLM"), arca_arch_for_gguf("llama"));
	assert_null(arca_arch_for_hf_class("GPT2LMHeadModel"));
	assert_null(arca_arch_for_hf_class("qwen3forcausallm")); /* classes are exact */
	assert_null(arca_arch_for_hf_class(""));
	assert_null(arca_arch_for_gguf("Qwen3"));
	assert_null(arca_arch_for_gguf("gpt2"));
	/* the facts the runtime relies on */
	assert_int_equal(arca_arch_for_gguf("qwen3")->rope, ARCA_ROPE_NEOX);
	assert_true(arca_arch_for_gguf("qwen3")->features & ARCA_ARCH_QK_NORM);
	assert_true(arca_arch_for_gguf("qwen2")->features & ARCA_ARCH_QKV_BIAS);
	assert_int_equal(arca_arch_for_gguf("llama")->rope, ARCA_ROPE_NORMAL);
	assert_true(arca_arch_for_gguf("deepseek2")->features & ARCA_ARCH_MLA);
	assert_ptr_equal(arca_arch_for_hf_class("InternLM3ForCausalLM"), arca_arch_for_gguf("llama"));
	assert_int_equal(arca_arch_for_gguf("internlm2")->rope, ARCA_ROPE_NORMAL);
	assert_int_equal(arca_arch_for_gguf("chatglm")->rope, ARCA_ROPE_NORMAL);
	assert_true(arca_arch_for_gguf("chatglm")->features & ARCA_ARCH_FUSED_QKV);
	assert_int_equal(arca_arch_for_gguf("glm4moe")->rope, ARCA_ROPE_NEOX);
	assert_true(arca_arch_for_gguf("glm4moe")->features & ARCA_ARCH_MTP);
	assert_string_equal(arca_arch_for_gguf("glm4moe")->ffn_norm,
		"blk.{i}.post_attention_norm.weight");
	assert_int_equal(arca_arch_for_gguf("minimax-m2")->rope, ARCA_ROPE_NEOX);
	assert_true(arca_arch_for_gguf("minimax-m2")->features & ARCA_ARCH_QK_NORM_FULL);
	/* lightning attention: known, refused, with the reason */
	assert_null(arca_arch_for_hf_class("MiniMaxText01ForCausalLM"));
	assert_non_null(strstr(arca_arch_refusal("MiniMaxText01ForCausalLM"), "lightning"));
	assert_null(arca_arch_refusal("Qwen3ForCausalLM"));
}

static void test_split_names(void **state)
{
	(void)state;
	const char *list = "blk.{i}.attn_q.weight|blk.{i}.attn_k.weight|blk.{i}.attn_v.weight";
	char name[64];
	assert_int_equal(arca_arch_n_parts(list), 3);
	assert_int_equal(arca_arch_n_parts("blk.{i}.attn_q.weight"), 1);
	arca_arch_expand_part(name, sizeof(name), list, 0, 7, 0);
	assert_string_equal(name, "blk.7.attn_q.weight");
	arca_arch_expand_part(name, sizeof(name), list, 2, 12, 0);
	assert_string_equal(name, "blk.12.attn_v.weight");
	assert_int_equal(arca_arch_expand_part(name, sizeof(name), list, 3, 0, 0), -1);
	arca_arch_expand_part(name, sizeof(name), "output.weight", 0, 3, 0);
	assert_string_equal(name, "output.weight");
}

static int has_placeholder(const char *pattern, char which)
{
	char tag[4] = { '{', which, '}', '\0' };
	return strstr(pattern, tag) != NULL;
}

/* Expands a pattern with a layer and expert, matches the result back, and checks both. */
static void round_trip(const char *pattern, int layer, int expert)
{
	char name[160];
	int n = arca_arch_expand(name, sizeof(name), pattern, layer, expert);
	assert_true(n > 0 && (size_t)n < sizeof(name));
	assert_int_equal((size_t)n, strlen(name));
	assert_null(strchr(name, '{'));
	int got_layer, got_expert;
	if (!arca_arch_match(pattern, name, &got_layer, &got_expert))
		fail_msg("'%s' does not match its own pattern '%s'", name, pattern);
	assert_int_equal(got_layer, has_placeholder(pattern, 'i') ? layer : -1);
	assert_int_equal(got_expert, has_placeholder(pattern, 'e') ? expert : -1);
}

static void test_every_pattern_round_trips(void **state)
{
	(void)state;
	static const int layers[] = { 0, 7, 10, 123 };
	static const int experts[] = { 0, 3, 64, 255 };
	for (size_t a = 0; a < N_NAMES; a++) {
		const arca_arch *arch = arca_arch_for_gguf(gguf_names[a]);
		size_t rules = 0;
		for (const arca_arch_tensor *t = arch->tensors; t->hf; t++, rules++) {
			for (size_t i = 0; i < 4; i++) {
				round_trip(t->hf, layers[i], experts[i]);
				/* a split's parts one by one */
				for (int part = 0; part < arca_arch_n_parts(t->gguf); part++) {
					char one[128];
					const char *p = t->gguf, *bar;
					for (int k = 0; k < part; k++)
						p = strchr(p, '|') + 1;
					bar = strchr(p, '|');
					snprintf(one, sizeof(one), "%.*s", bar ? (int)(bar - p) : (int)strlen(p),
						p);
					round_trip(one, layers[i], experts[3 - i]);
				}
			}
			assert_true(t->tx == ARCA_TX_SPLIT_QKV_GROUPED ? arca_arch_n_parts(t->gguf) == 3 :
				arca_arch_n_parts(t->gguf) == 1);
			/* a rule for one layer's tensor is never a rule for another name's */
			for (const arca_arch_tensor *u = t + 1; u->hf; u++) {
				if (!strcmp(t->hf, u->hf))
					fail_msg("%s: two rules for %s", arch->name, t->hf);
				if (!strcmp(t->gguf, u->gguf))
					fail_msg("%s: two rules make %s", arch->name, t->gguf);
			}
			/* stacked experts have an {e} on the Hugging Face side only */
			if (t->tx == ARCA_TX_STACK_EXPERTS) {
				assert_true(has_placeholder(t->hf, 'e'));
				assert_false(has_placeholder(t->gguf, 'e'));
			}
		}
		assert_true(rules >= 8);
		size_t keys = 0;
		for (const arca_arch_kv *kv = arch->kvs; kv->gguf; kv++, keys++)
			assert_non_null(kv->config);
		assert_true(keys >= 5);
	}
}

static void test_match_refusals(void **state)
{
	(void)state;
	const char *p = "blk.{i}.attn_q.weight";
	int layer, expert;
	assert_true(arca_arch_match(p, "blk.0.attn_q.weight", &layer, &expert));
	assert_int_equal(layer, 0);
	assert_int_equal(expert, -1);
	assert_true(arca_arch_match(p, "blk.40.attn_q.weight", &layer, &expert));
	assert_int_equal(layer, 40);
	static const char *const refused[] = {
		"blk.07.attn_q.weight",   /* leading zero: not a name a converter writes */
		"blk.00.attn_q.weight",
		"blk..attn_q.weight",     /* no digits */
		"blk.x.attn_q.weight",
		"blk.-1.attn_q.weight",
		"blk.1.attn_q.weights",   /* trailing garbage */
		"blk.1.attn_q.weigh",     /* cut short */
		"blk.1.attn_k.weight",
		"blk.1",
		"",
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (arca_arch_match(p, refused[i], &layer, &expert))
			fail_msg("'%s' matched '%s'", refused[i], p);
	const char *e = "model.layers.{i}.mlp.experts.{e}.down_proj.weight";
	assert_true(arca_arch_match(e, "model.layers.2.mlp.experts.17.down_proj.weight", &layer,
		&expert));
	assert_int_equal(layer, 2);
	assert_int_equal(expert, 17);
	assert_false(arca_arch_match(e, "model.layers.2.mlp.experts.017.down_proj.weight", &layer,
		&expert));
	/* absurdly many digits neither overflow nor match a real layer silently */
	assert_false(arca_arch_match(p, "blk.99999999999999999999999.attn_q.weight", &layer,
		&expert));
}

static void test_expand_truncation(void **state)
{
	(void)state;
	char buf[8];
	const char *p = "blk.{i}.attn_q.weight";
	int n = arca_arch_expand(buf, sizeof(buf), p, 12, 0);
	assert_int_equal(n, (int)strlen("blk.12.attn_q.weight"));
	assert_string_equal(buf, "blk.12.");
	n = arca_arch_expand(buf, sizeof(buf), "{e}", -5, -5);
	assert_int_equal(n, 2);
	assert_string_equal(buf, "-5");
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(arca_arch_expand(buf, 0, p, 1, 0), (int)strlen("blk.1.attn_q.weight"));
	assert_int_equal(buf[0], 'x'); /* cap 0 writes nothing */
	assert_int_equal(arca_arch_expand(buf, 1, p, 1, 0), (int)strlen("blk.1.attn_q.weight"));
	assert_string_equal(buf, "");
	/* an unknown placeholder is copied as it is */
	assert_int_equal(arca_arch_expand(buf, sizeof(buf), "{x}.{i}", 3, 0), 5);
	assert_string_equal(buf, "{x}.3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_split_names),
		cmocka_unit_test(test_every_pattern_round_trips),
		cmocka_unit_test(test_match_refusals),
		cmocka_unit_test(test_expand_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
