/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/chat_template.c — see arca/chat_template.h: the chat forms arca can apply without
 * a Jinja engine, recognised by the marker tokens in the model's own template.
 */
#include "arca/chat_template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const char *before, *after;        /* around the text */
} piece;

static const struct {
	arca_chat_form form;
	const char *name;
	const char *marker;                /* in tokenizer.chat_template */
	const char *start;                 /* always first (BOS where the form writes it) */
	piece system, user;
	const char *assistant;
	const char *default_system;        /* the template's system message when none is given */
} forms[] = {
	{ ARCA_CHAT_CHATML, "chatml", "<|im_start|>", "",
		{ "<|im_start|>system\n", "<|im_end|>\n" },
		{ "<|im_start|>user\n", "<|im_end|>\n" }, "<|im_start|>assistant\n", NULL },
	{ ARCA_CHAT_DEEPSEEK, "deepseek", "<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>",
		"<\xef\xbd\x9c" "begin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
		{ "", "" }, { "<\xef\xbd\x9c" "User\xef\xbd\x9c>", "" },
		"<\xef\xbd\x9c" "Assistant\xef\xbd\x9c>", NULL },
	{ ARCA_CHAT_LLAMA3, "llama3", "<|start_header_id|>", "<|begin_of_text|>",
		{ "<|start_header_id|>system<|end_header_id|>\n\n", "<|eot_id|>" },
		{ "<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>" },
		"<|start_header_id|>assistant<|end_header_id|>\n\n", NULL },
	/* GLM-4 (glm-4-9b-chat's template; GLM-4-0414 and 4.5 open the same way): the model's
	 * answer starts with its own newline */
	{ ARCA_CHAT_GLM4, "glm4", "[gMASK]<sop>", "[gMASK]<sop>",
		{ "<|system|>\n", "" }, { "<|user|>\n", "" }, "<|assistant|>", NULL },
	/* Kimi K2: its template puts its own system message first when there is none */
	{ ARCA_CHAT_KIMI, "kimi", "<|im_assistant|>assistant<|im_middle|>", "",
		{ "<|im_system|>system<|im_middle|>", "<|im_end|>" },
		{ "<|im_user|>user<|im_middle|>", "<|im_end|>" },
		"<|im_assistant|>assistant<|im_middle|>",
		"You are Kimi, an AI assistant created by Moonshot AI." },
};
#define N_FORMS (sizeof(forms) / sizeof(forms[0]))

arca_err arca_chat_detect(arca_chat_form *out, const char *template_text)
{
	if (!template_text)
		return arca_error_set(ARCA_EUNSUPPORTED, "the model has no chat template");
	for (size_t i = 0; i < N_FORMS; i++) {
		if (strstr(template_text, forms[i].marker)) {
			*out = forms[i].form;
			return ARCA_OK;
		}
	}
	return arca_error_set(ARCA_EUNSUPPORTED, "the model's chat template is none of the forms "
		"arca applies (chatml, deepseek, llama3, glm4, kimi)");
}

const char *arca_chat_form_name(arca_chat_form form)
{
	for (size_t i = 0; i < N_FORMS; i++)
		if (forms[i].form == form)
			return forms[i].name;
	return "?";
}

static arca_err append(char **buf, size_t *len, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = b ? strlen(b) : 0, lc = strlen(c);
	char *p = realloc(*buf, *len + la + lb + lc + 1);
	if (!p)
		return arca_error_set(ARCA_ENOMEM, "chat template: out of memory");
	memcpy(p + *len, a, la);
	if (lb)
		memcpy(p + *len + la, b, lb);
	memcpy(p + *len + la + lb, c, lc);
	*len += la + lb + lc;
	p[*len] = '\0';
	*buf = p;
	return ARCA_OK;
}

arca_err arca_chat_apply(char **out, arca_chat_form form, const char *system, const char *user)
{
	*out = NULL;
	size_t len = 0;
	for (size_t i = 0; i < N_FORMS; i++) {
		if (forms[i].form != form)
			continue;
		arca_err err = append(out, &len, forms[i].start, NULL, "");
		if (!system)
			system = forms[i].default_system;
		if (err == ARCA_OK && system)
			err = append(out, &len, forms[i].system.before, system, forms[i].system.after);
		if (err == ARCA_OK)
			err = append(out, &len, forms[i].user.before, user, forms[i].user.after);
		if (err == ARCA_OK)
			err = append(out, &len, forms[i].assistant, NULL, "");
		if (err < 0) {
			free(*out);
			*out = NULL;
		}
		return err;
	}
	return arca_error_set(ARCA_EINVALID, "unknown chat form %d", (int)form);
}
