/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/runtime/test_chat_template.c — chat forms: recognised from the real Qwen3 and
 * DeepSeek-V3 templates vendored in tests/data/tokenizers, the exact text of one turn in
 * each form (what those templates render for one user message with
 * add_generation_prompt; GLM-4's as glm-4-9b-chat's template renders it, Kimi K2's with its
 * default system message), and refusal of templates arca does not know.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arca/chat_template.h"
#include "support.h"

static char *template_of(const char *family)
{
	char rel[128];
	size_t len;
	snprintf(rel, sizeof(rel), "tokenizers/%s/tokenizer_config.json", family);
	char *text = t_read_data_zst(rel, &len);
	json_t *root = json_loads(text, 0, NULL);
	assert_non_null(root);
	const char *t = json_string_value(json_object_get(root, "chat_template"));
	assert_non_null(t);
	char *copy = strdup(t);
	json_decref(root);
	free(text);
	return copy;
}

static void test_detect_real_templates(void **state)
{
	(void)state;
	arca_chat_form f;
	char *q = template_of("qwen3");
	assert_int_equal(arca_chat_detect(&f, q), ARCA_OK);
	assert_int_equal(f, ARCA_CHAT_CHATML);
	assert_string_equal(arca_chat_form_name(f), "chatml");
	free(q);
	char *d = template_of("deepseek_v3");
	assert_int_equal(arca_chat_detect(&f, d), ARCA_OK);
	assert_int_equal(f, ARCA_CHAT_DEEPSEEK);
	free(d);
	/* the start of glm-4-9b-chat's template */
	assert_int_equal(arca_chat_detect(&f, "[gMASK]<sop>{% for item in messages %}{% if "
		"item['content'] %}<|{{ item['role'] }}|>{{ item['metadata'] }}\n{{ item['content'] "
		"}}{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"),
		ARCA_OK);
	assert_int_equal(f, ARCA_CHAT_GLM4);
	assert_int_equal(arca_chat_detect(&f, "{{ messages[0].content }}"), ARCA_EUNSUPPORTED);
	assert_error_mentions("chatml");
	assert_int_equal(arca_chat_detect(&f, NULL), ARCA_EUNSUPPORTED);
}

static void test_apply(void **state)
{
	(void)state;
	char *t;
	assert_int_equal(arca_chat_apply(&t, ARCA_CHAT_CHATML, NULL, "Hi 你好"), ARCA_OK);
	assert_string_equal(t, "<|im_start|>user\nHi 你好<|im_end|>\n<|im_start|>assistant\n");
	free(t);
	assert_int_equal(arca_chat_apply(&t, ARCA_CHAT_CHATML, "Be brief.", "Hi"), ARCA_OK);
	assert_string_equal(t, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi"
		"<|im_end|>\n<|im_start|>assistant\n");
	free(t);
	assert_int_equal(arca_chat_apply(&t, ARCA_CHAT_DEEPSEEK, "S", "Q"), ARCA_OK);
	assert_string_equal(t, "<｜begin▁of▁sentence｜>S<｜User｜>Q<｜Assistant｜>");
	free(t);
	assert_int_equal(arca_chat_apply(&t, ARCA_CHAT_LLAMA3, NULL, "Q"), ARCA_OK);
	assert_string_equal(t, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ"
		"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
	free(t);
	assert_int_equal(arca_chat_apply(&t, ARCA_CHAT_GLM4, "S", "Q"), ARCA_OK);
	assert_string_equal(t, "[gMASK]<sop><|system|>\nS<|user|>\nQ<|assistant|>");
	free(t);
	/* Kimi K2: without a system message its template writes its own */
	assert_int_equal(arca_chat_apply(&t, ARCA_CHAT_KIMI, NULL, "Q"), ARCA_OK);
	assert_string_equal(t, "<|im_system|>system<|im_middle|>You are Kimi, an AI assistant "
		"created by Moonshot AI.<|im_end|><|im_user|>user<|im_middle|>Q<|im_end|>"
		"<|im_assistant|>assistant<|im_middle|>");
	free(t);
	assert_int_equal(arca_chat_apply(&t, ARCA_CHAT_KIMI, "S", "Q"), ARCA_OK);
	assert_string_equal(t, "<|im_system|>system<|im_middle|>S<|im_end|><|im_user|>user"
		"<|im_middle|>Q<|im_end|><|im_assistant|>assistant<|im_middle|>");
	free(t);
	arca_chat_form f;
	assert_int_equal(arca_chat_detect(&f, "{%- if add_generation_prompt -%}{{- "
		"'<|im_assistant|>assistant<|im_middle|>' -}}{%- endif -%}"), ARCA_OK);
	assert_int_equal(f, ARCA_CHAT_KIMI);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_real_templates),
		cmocka_unit_test(test_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
