/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/tokenizer.h — the runtime's tokenizer, built from a GGUF's tokenizer.* metadata:
 * byte-level BPE (tokenizer.ggml.model "gpt2") with the pre-tokenizer regexes of
 * tokenizer.ggml.pre run by PCRE2 (JIT), NFC normalization by utf8proc when the GGUF says
 * so (tokenizer.ggml.normalizer, which llama.cpp ignores), added and special tokens
 * matched in the text before everything else, and decoding back to the exact bytes.
 */
#ifndef ARCA_TOKENIZER_H
#define ARCA_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"
#include "arca/gguf.h"

typedef struct arca_tokenizer arca_tokenizer;

enum {
	ARCA_TOK_ADD_SPECIAL = 1,   /* BOS/EOS where tokenizer.ggml.add_bos/eos_token ask */
	ARCA_TOK_PARSE_SPECIAL = 2, /* control-token text becomes the token */
};

/* Copies what it needs: the GGUF may go away afterwards. */
arca_err arca_tokenizer_from_gguf(arca_tokenizer **out, const arca_gguf *g);
void arca_tokenizer_free(arca_tokenizer *t);

/* UTF-8 text → ids (malloc'ed). Invalid UTF-8 is ARCA_EINVALID naming the byte offset. */
arca_err arca_tokenize(const arca_tokenizer *t, const char *text, size_t len, unsigned flags,
	int32_t **ids, size_t *n);

uint32_t arca_tokenizer_n_vocab(const arca_tokenizer *t);
int32_t arca_tokenizer_bos(const arca_tokenizer *t);   /* -1 when none */
int32_t arca_tokenizer_eos(const arca_tokenizer *t);
/* End of generation: the EOS id and the control tokens models end a turn with. */
int arca_tokenizer_is_eog(const arca_tokenizer *t, int32_t id);
const char *arca_tokenizer_text(const arca_tokenizer *t, int32_t id);
const char *arca_tokenizer_chat_template(const arca_tokenizer *t);  /* NULL when none */

/* The bytes of one token (control tokens: their text); returns the length, or -1 for an id
 * outside the vocabulary. Writes at most cap bytes. */
int arca_token_to_bytes(const arca_tokenizer *t, int32_t id, char *buf, size_t cap);

/* Streaming decoder: bytes of tokens as they come, released only as complete UTF-8
 * characters (a character split across tokens waits for its end). */
typedef struct {
	char pending[8];
	size_t n_pending;
} arca_detok;

/* Appends the token's complete characters to out (cap bytes); returns the bytes written.
 * Bytes that can never complete a character are passed through as they are. */
size_t arca_detok_push(arca_detok *d, const arca_tokenizer *t, int32_t id, char *out,
	size_t cap);
/* What is left at the end (an incomplete character, as raw bytes). */
size_t arca_detok_flush(arca_detok *d, char *out, size_t cap);

#endif
