/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/sentencepiece.h — a SentencePiece `tokenizer.model` (a protobuf ModelProto) read into
 * plain structs: the pieces (text, score, type) and the few trainer and normalizer settings
 * that decide how text is encoded. Owns nothing but the parsed copy; never prints.
 *
 * Byte layout (protobuf wire format, proto2; fields arca reads, others skipped):
 *   ModelProto      1 pieces (message, repeated)  2 trainer_spec  3 normalizer_spec
 *   SentencePiece   1 piece (string)  2 score (float, fixed32)  3 type (enum varint, default 1)
 *   TrainerSpec     3 model_type (1 unigram, 2 bpe, 3 word, 4 char; default 1)
 *                   35 byte_fallback  40 unk_id (0)  41 bos_id (1)  42 eos_id (2)  43 pad_id (-1)
 *   NormalizerSpec  1 name  2 precompiled_charsmap (bytes)  3 add_dummy_prefix (true)
 *                   4 remove_extra_whitespaces (true)  5 escape_whitespaces (true)
 * Every tag is a varint (field << 3 | wire type); wire types 0 varint, 1 fixed64,
 * 2 length-delimited, 5 fixed32. Groups (3, 4) and unknown wire types are refused.
 * The reader is strict and bounded: a length past its enclosing message, a varint longer
 * than ten bytes, a known field with the wrong wire type, a piece that is empty, holds a NUL
 * or is not UTF-8, or a piece type outside 1..6 is ARCA_ECORRUPT naming the file.
 */
#ifndef ARCA_SENTENCEPIECE_H
#define ARCA_SENTENCEPIECE_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"

enum {
	ARCA_SPM_NORMAL = 1, ARCA_SPM_UNKNOWN = 2, ARCA_SPM_CONTROL = 3,
	ARCA_SPM_USER_DEFINED = 4, ARCA_SPM_UNUSED = 5, ARCA_SPM_BYTE = 6,
};
enum { ARCA_SPM_UNIGRAM = 1, ARCA_SPM_BPE = 2, ARCA_SPM_WORD = 3, ARCA_SPM_CHAR = 4 };

typedef struct {
	char *text;   /* NUL-terminated UTF-8, `▁` (U+2581) for a space */
	float score;
	int type;     /* ARCA_SPM_NORMAL .. ARCA_SPM_BYTE */
} arca_spm_piece;

typedef struct {
	arca_spm_piece *pieces;
	uint32_t n_pieces;
	int model_type;            /* ARCA_SPM_UNIGRAM .. ARCA_SPM_CHAR */
	int byte_fallback;
	int32_t unk_id, bos_id, eos_id, pad_id;  /* -1: none */
	char *normalizer_name;     /* NULL when the file names none */
	int has_charsmap;          /* a precompiled normalization map is present */
	int add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces;
} arca_spm_model;

/* Parses a ModelProto held in buf (len bytes); `name` is used in error messages. The result
 * is the caller's, released with arca_spm_model_free. Errors: ARCA_ECORRUPT (malformed, as
 * above), ARCA_ENOMEM. */
arca_err arca_spm_model_parse(arca_spm_model **out, const void *buf, size_t len,
	const char *name);
void arca_spm_model_free(arca_spm_model *m);

#endif
