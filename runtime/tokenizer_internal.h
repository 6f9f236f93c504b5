/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/tokenizer_internal.h — the tokenizer's tables: token texts and types, a hash
 * from text to id, merge ranks keyed by id pairs, the special tokens by first byte, the
 * compiled split regexes and the byte ↔ character mapping of byte-level BPE.
 */
#ifndef ARCA_RUNTIME_TOKENIZER_INTERNAL_H
#define ARCA_RUNTIME_TOKENIZER_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "arca/tokenizer.h"

typedef struct {
	uint64_t key;     /* 0: empty slot */
	int32_t value, extra;
} tok_slot;

typedef struct {
	tok_slot *slots;
	size_t mask;
} tok_map;

enum { TOK_NORMAL = 1, TOK_UNKNOWN = 2, TOK_CONTROL = 3, TOK_USER_DEFINED = 4, TOK_BYTE = 6 };

/* How a SentencePiece ("llama") vocabulary encodes: see tokenizer_spm.c */
enum { ARCA_TOK__SPM_NONE = 0, ARCA_TOK__SPM_MERGE = 1, ARCA_TOK__SPM_VITERBI = 2 };

struct arca_tokenizer {
	uint32_t n_vocab;
	char **text;
	int32_t *type;
	tok_map by_text;          /* hash of the text → id */
	tok_map merges;           /* (left << 32 | right) + 1 → rank, merged id */
	int32_t *specials;        /* CONTROL and USER_DEFINED ids, longest text first */
	size_t n_specials;
	unsigned char special_first[256]; /* a special token starts with this byte */
	pcre2_code *split[4];
	size_t n_split;
	int nfc;
	int ignore_merges;        /* a piece that is a token is that token (tiktoken's rule) */
	int add_bos, add_eos;
	int32_t bos, eos;
	int32_t eog[8];
	size_t n_eog;
	char *chat_template;
	int32_t byte_token[256];  /* the id of each single byte's character */
	uint8_t char_byte[512];   /* byte-level character (U+0000..U+01FF) → byte */
	int char_is_byte[512];
	/* SentencePiece vocabularies only */
	int spm;                  /* ARCA_TOK__SPM_* */
	float *score;             /* per id */
	float spm_min_score, spm_max_score; /* over NORMAL pieces */
	size_t spm_max_len;       /* longest piece, bytes */
	int add_space_prefix;
	int spm_byte_fallback;    /* every <0xXX> token is present */
	int32_t spm_byte[256];    /* the id of <0xXX> */
	int32_t unk;
};

/* tokenizer_map.c: FNV-1a of a text (never 0); a map sized for `entries`; insert unless
 * present (1 when inserted); lookup; the id of a token text or -1. */
uint64_t arca_tok__hash_text(const char *s, size_t n);
arca_err arca_tok__map_init(tok_map *m, size_t entries);
int arca_tok__map_put(tok_map *m, uint64_t key, int32_t value, int32_t extra);
const tok_slot *arca_tok__map_get(const tok_map *m, uint64_t key);
int32_t arca_tok__find_text(const arca_tokenizer *t, const char *s, size_t n);
/* Appends id to a growing array (*n used of *cap). */
arca_err arca_tok__push_id(int32_t **ids, size_t *n, size_t *cap, int32_t id);

/* tokenizer_bpe.c: byte-level BPE of one pre-token (raw bytes) appended to *ids. */
arca_err arca_tok__bpe(const arca_tokenizer *t, const char *piece, size_t len, int32_t **ids,
	size_t *n, size_t *cap);
/* Splits a segment with the regexes, BPE-encoding each piece. */
arca_err arca_tok__encode_segment(const arca_tokenizer *t, const char *s, size_t len,
	int32_t **ids, size_t *n, size_t *cap);

/* tokenizer_spm.c: a SentencePiece encoding of text without special tokens. */
arca_err arca_tok__spm_encode(const arca_tokenizer *t, const char *s, size_t len,
	int32_t **ids, size_t *n, size_t *cap);

#endif
