/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/tokenizer_meta.h — a model's tokenizer files turned into GGUF `tokenizer.*`
 * metadata: vocabulary (by id, padded to the config's vocab_size), token types, merges,
 * special token ids, add_bos/add_eos, chat template, and the pre-tokenizer name.
 *
 * The pre-tokenizer is chosen by matching the Split regexes of tokenizer.json against the
 * known ones (qwen2, llama-bpe, deepseek-v3, glm4, gpt-2), never by a default: an unknown
 * pre-tokenizer is ARCA_EUNSUPPORTED naming the patterns. Where two names share the same
 * regex the architecture's choice decides (glm4 vs llama-bpe) and DeepSeek's special tokens
 * mark deepseek-r1-qwen. A normalizer llama.cpp would ignore is recorded too
 * (tokenizer.ggml.normalizer = "nfc"), so arca's own tokenizer can apply it.
 * tokenizer.json must be byte-level BPE ("BPE"); others are ARCA_EUNSUPPORTED.
 *
 * Without tokenizer.json, two other sources are read:
 *  - a SentencePiece tokenizer.model (unigram or BPE; convert/tokenizer_spm.c) becomes a
 *    `llama` vocabulary (tokens, scores, token types, <0xXX> byte tokens) as llama.cpp's
 *    convert_hf_to_gguf writes it, plus tokenizer.arca.spm_model_type ("unigram" / "bpe")
 *    so arca's own tokenizer can encode unigram models with SentencePiece's Viterbi search;
 *  - a tiktoken.model (Kimi K2: "base64-token rank" lines; convert/tokenizer_tiktoken.c)
 *    becomes a `gpt2` vocabulary with byte-level token strings and merges derived from the
 *    ranks, pre-tokenizer "kimi-k2", special tokens from tokenizer_config.json.
 */
#ifndef ARCA_TOKENIZER_META_H
#define ARCA_TOKENIZER_META_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"

typedef struct {
	const char *tokenizer_json;         /* one of the three sources is required */
	size_t tokenizer_json_len;
	const void *spm_model;              /* tokenizer.model, read when tokenizer_json is NULL */
	size_t spm_model_len;
	const char *tiktoken_model;         /* tiktoken.model, read when both are NULL */
	size_t tiktoken_model_len;
	const char *added_tokens_json;      /* optional, SentencePiece: added_tokens.json */
	const char *tokenizer_config_json;  /* optional */
	const char *config_json;            /* optional: bos/eos ids fill gaps */
	const char *chat_template;          /* optional: chat_template.jinja contents */
	const char *arch_pre;               /* the architecture's pre name when ambiguous */
	uint32_t vocab_size;                /* from config.json; 0: the tokenizer's own size */
} arca_tokenizer_sources;

/* Adds the tokenizer.* keys to a GGUF writer (an arca_gguf_writer *). */
arca_err arca_tokenizer_to_gguf(void *gguf_writer, const arca_tokenizer_sources *src);

/* The pre-tokenizer name for a tokenizer.json, as above. Exposed for tests. */
arca_err arca_tokenizer_detect_pre(const char **out, const char *tokenizer_json, size_t len,
	const char *arch_pre);

/* The split regexes (applied in order, each to the pieces of the one before) of a
 * tokenizer.ggml.pre name, as tokenizer.json spells them; NULL for an unknown name. The
 * runtime tokenizer uses the same table the converter matched against. */
const char *const *arca_pretokenizer_regexes(const char *pre);

#endif
