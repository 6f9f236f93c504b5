/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/ollama_templates.c — one row per chat form arca recognises (runtime/chat_template.c
 * names them): the form written as an Ollama template, and the strings that end a turn.
 *
 * Ollama renders a template with Go's text/template over .System (the system messages,
 * joined) and .Messages (every message, system ones included, each with .Role and .Content);
 * a template that mentions .Messages gets the whole conversation. Each template below
 * writes the system text once, the other turns in order, then opens the assistant's turn,
 * the same text arca_chat_apply produces for one user turn. BOS is not written: llama.cpp
 * adds it when the GGUF asks (tokenizer.ggml.add_bos_token), as Ollama's own templates
 * expect. tests/cli/t_checkout_ollama.sh renders these with an independent reading of the
 * Go template subset they use and compares the result with arca_chat_apply's.
 */
#include "arca/ollama_model.h"

#include <string.h>

/* "｜" (U+FF5C) and "▁" (U+2581) of DeepSeek's special tokens */
#define FW_BAR "\xef\xbd\x9c"
#define LOW_BAR "\xe2\x96\x81"

static const char chatml_text[] =
	"{{- if .System }}<|im_start|>system\n"
	"{{ .System }}<|im_end|>\n"
	"{{ end }}\n"
	"{{- range .Messages }}\n"
	"{{- if ne .Role \"system\" }}<|im_start|>{{ .Role }}\n"
	"{{ .Content }}<|im_end|>\n"
	"{{ end }}\n"
	"{{- end }}<|im_start|>assistant\n";

static const char *const chatml_stops[] = { "<|im_start|>", "<|im_end|>", NULL };

static const char llama3_text[] =
	"{{- if .System }}<|start_header_id|>system<|end_header_id|>\n"
	"\n"
	"{{ .System }}<|eot_id|>\n"
	"{{- end }}\n"
	"{{- range .Messages }}\n"
	"{{- if ne .Role \"system\" }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n"
	"\n"
	"{{ .Content }}<|eot_id|>\n"
	"{{- end }}\n"
	"{{- end }}<|start_header_id|>assistant<|end_header_id|>\n"
	"\n";

static const char *const llama3_stops[] = { "<|start_header_id|>", "<|end_header_id|>",
	"<|eot_id|>", NULL };

static const char deepseek_text[] =
	"{{- if .System }}{{ .System }}{{ end }}\n"
	"{{- range .Messages }}\n"
	"{{- if eq .Role \"user\" }}<" FW_BAR "User" FW_BAR ">{{ .Content }}\n"
	"{{- else if eq .Role \"assistant\" }}<" FW_BAR "Assistant" FW_BAR ">{{ .Content }}"
	"<" FW_BAR "end" LOW_BAR "of" LOW_BAR "sentence" FW_BAR ">\n"
	"{{- end }}\n"
	"{{- end }}<" FW_BAR "Assistant" FW_BAR ">";

static const char *const deepseek_stops[] = {
	"<" FW_BAR "begin" LOW_BAR "of" LOW_BAR "sentence" FW_BAR ">",
	"<" FW_BAR "end" LOW_BAR "of" LOW_BAR "sentence" FW_BAR ">",
	"<" FW_BAR "User" FW_BAR ">", "<" FW_BAR "Assistant" FW_BAR ">", NULL };

static const arca_ollama_template templates[] = {
	{ "chatml", chatml_text, chatml_stops },
	{ "llama3", llama3_text, llama3_stops },
	{ "deepseek", deepseek_text, deepseek_stops },
};

const arca_ollama_template *arca_ollama_template_for(const char *form)
{
	for (size_t i = 0; form && i < sizeof(templates) / sizeof(templates[0]); i++)
		if (!strcmp(templates[i].form, form))
			return &templates[i];
	return NULL;
}
