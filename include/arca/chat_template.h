/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/chat_template.h — turning a user prompt into the text a chat model expects, for the
 * template forms the supported families use: ChatML (Qwen, Yi, DeepSeek-R1-Distill-Qwen's
 * base family), DeepSeek (<｜User｜>…<｜Assistant｜>), Llama 3 headers and GLM-4's
 * ([gMASK]<sop><|user|>\n…<|assistant|>: GLM-4-9B-chat, GLM-4-0414, GLM-4.5) and Kimi K2's
 * (<|im_user|>user<|im_middle|>…<|im_end|>, with its default system message). The form is
 * recognised from the model's own tokenizer.chat_template; anything else is refused rather
 * than guessed. No Jinja is evaluated.
 */
#ifndef ARCA_CHAT_TEMPLATE_H
#define ARCA_CHAT_TEMPLATE_H

#include "arca/error.h"

typedef enum { ARCA_CHAT_CHATML, ARCA_CHAT_DEEPSEEK, ARCA_CHAT_LLAMA3, ARCA_CHAT_GLM4,
	ARCA_CHAT_KIMI } arca_chat_form;

arca_err arca_chat_detect(arca_chat_form *out, const char *template_text);
const char *arca_chat_form_name(arca_chat_form form);
/* One user turn (and an optional system message; without one, the form's default if its
 * template has one), ending where the assistant speaks;
 * malloc'ed. The text includes the form's special tokens (BOS where the form writes it). */
arca_err arca_chat_apply(char **out, arca_chat_form form, const char *system, const char *user);

#endif
