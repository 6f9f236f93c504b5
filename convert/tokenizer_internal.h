/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tokenizer_internal.h — what the tokenizer converters share: one per source format
 * (tokenizer.json in tokenizer_meta.c, SentencePiece tokenizer.model in tokenizer_spm.c,
 * tiktoken.model in tokenizer_tiktoken.c), all writing the GGUF tokenizer.* keys through
 * arca_tokenizer_to_gguf, and the helpers for special tokens they have in common.
 */
#ifndef ARCA_CONVERT_TOKENIZER_INTERNAL_H
#define ARCA_CONVERT_TOKENIZER_INTERNAL_H

#include <jansson.h>

#include "arca/gguf.h"
#include "arca/tokenizer_meta.h"

enum { TOKT_NORMAL = 1, TOKT_UNKNOWN = 2, TOKT_CONTROL = 3, TOKT_USER_DEFINED = 4,
	TOKT_UNUSED = 5, TOKT_BYTE = 6 };

/* `<|…|>`, `<｜…｜>`, `<s>`, `<pad>`, … : text convert_hf_to_gguf treats as special. */
int arca_convert__looks_special(const char *s);

/* ARCA_EINVALID naming `file` when two ids have one text (llama.cpp refuses those). */
arca_err arca_convert__check_unique(char *const *texts, uint32_t n, const char *file);

/* The special-token ids (bos, eos, unk, sep, pad, mask): tokenizer_config.json's
 * `<x>_token` text looked up in texts[0..n), else the id in `fallback` (-1: none; indexed
 * bos, eos, unk, sep, pad, mask), else config.json's `<x>_token_id`; and add_bos/add_eos
 * when tokenizer_config.json has booleans. */
arca_err arca_convert__add_special_ids(arca_gguf_writer *w, char *const *texts, uint32_t n,
	json_t *tok_config, json_t *config, const int32_t fallback[6]);

arca_err arca_convert__tokenizer_spm(arca_gguf_writer *w, const arca_tokenizer_sources *src,
	json_t *tok_config, json_t *config);
arca_err arca_convert__tokenizer_tiktoken(arca_gguf_writer *w,
	const arca_tokenizer_sources *src, json_t *tok_config, json_t *config);
/* A tiktoken-format tokenizer.model (GLM-4-9B-chat's ChatGLM4Tokenizer): tiktoken lines
 * where a SentencePiece protobuf would be. */
int arca_convert__is_tiktoken_text(const void *data, size_t len);
arca_err arca_convert__tokenizer_chatglm4(arca_gguf_writer *w,
	const arca_tokenizer_sources *src, json_t *tok_config, json_t *config);
arca_err arca_convert__add_chat_template(arca_gguf_writer *w, json_t *tok_config,
	const char *jinja);

#endif
