/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/generate.h — the generation loop `arca run`, `arca bench` and the validation
 * fingerprints share: the prompt evaluated as one batch, then up to n_predict times: choose
 * a token (sampled, or the largest logit), hand it to the caller with its text and the
 * logits it was chosen from, stop at end of generation, evaluate it. Both phases are timed.
 *
 * Owns nothing beyond the call: the session, the tokenizer and the callback's payload are
 * the caller's, and the session is used from its current position on (truncate it first
 * for a fresh context). Nothing here prints or exits: the caller prints, streams or
 * collects in the callback, and stops the loop through the callback's result (that is how
 * an interrupt flag reaches it).
 */
#ifndef ARCA_GENERATE_H
#define ARCA_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"
#include "arca/runtime.h"
#include "arca/sample.h"
#include "arca/tokenizer.h"

typedef enum {
	ARCA_GENERATE_LENGTH,  /* n_predict tokens were generated */
	ARCA_GENERATE_EOS,     /* an end-of-generation token came (not with ignore_eos) */
	ARCA_GENERATE_STOPPED, /* the callback asked to stop */
} arca_generate_stop;

/* "length", "eos", "stopped". */
const char *arca_generate_stop_name(arca_generate_stop stop);

typedef struct {
	size_t n_predict;                /* tokens to generate at most (0: only the prompt) */
	const arca_sampling *sampling;   /* NULL: the largest logit, lower id on ties
	                                    (arca_top_logits) */
	const arca_tokenizer *tokenizer; /* text pieces and the stop at end of generation;
	                                    NULL: neither */
	int ignore_eos;                  /* go on past end-of-generation tokens */
} arca_generate_opts;

#define ARCA_GENERATE_OPTS_INIT { 0, NULL, NULL, 0 }

/* One generated token, as the callback sees it; everything is borrowed for the call. */
typedef struct {
	size_t index;          /* 0 for the first generated token */
	int32_t id;
	const char *piece;     /* the complete UTF-8 characters the streaming decoder
	                          (arca_detok_push) releases with this token; "" without a
	                          tokenizer */
	size_t piece_len;
	const float *logits;   /* the n_vocab logits the token was chosen from */
	uint32_t n_vocab;
	int is_eog;            /* an end-of-generation token (also with ignore_eos) */
} arca_generated_token;

/* 0: go on. > 0: stop after this token (ARCA_GENERATE_STOPPED; it is not evaluated).
 * < 0: an arca_err the callback set; the loop stops and returns it. An end-of-generation
 * token stops the loop as ARCA_GENERATE_EOS whatever the callback returned (> 0). */
typedef int (*arca_generate_cb)(const arca_generated_token *token, void *payload);

typedef struct {
	arca_generate_stop stop;
	size_t n_prompt;
	size_t n_generated;      /* tokens handed to the callback */
	double prefill_seconds;  /* setting up the sampler and evaluating the prompt */
	double decode_seconds;   /* from then to the last token: choosing, callbacks and
	                            evaluating each token but the last */
	char tail[8];            /* what the streaming decoder still held at the end (an
	                            incomplete character, raw), after EOS or length */
	size_t tail_len;
} arca_generate_result;

/* Evaluates prompt[0..n_prompt) at the session's next positions, then generates as above.
 * The prompt and the tokens must fit the session's context (ARCA_EINVALID from the
 * session otherwise). On error *out holds what was done until then. */
arca_err arca_generate(arca_generate_result *out, arca_session *s, const int32_t *prompt,
	size_t n_prompt, const arca_generate_opts *opts, arca_generate_cb on_token,
	void *payload);

#endif
