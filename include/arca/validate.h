/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/validate.h — a model's behavioural fingerprint on a fixed, versioned prompt set:
 * the greedy continuation of every prompt and a digest of the logits of each step (each
 * logit rounded to 1/256, so the same build on the same machine reproduces it bit for
 * bit), and, for a quantized variant, how closely it follows the unquantized source on the
 * same text: top-1 agreement and the mean KL divergence of the next-token distributions
 * (KL(source ‖ variant), as llama.cpp's perplexity tool reports it).
 */
#ifndef ARCA_VALIDATE_H
#define ARCA_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"
#include "arca/runtime.h"

/* The prompt set: its version name (recorded with every fingerprint) and texts. */
#define ARCA_VALIDATE_PROMPT_SET "arca-validate-v1"
size_t arca_validate_n_prompts(void);
const char *arca_validate_prompt(size_t i);
const char *arca_validate_prompt_name(size_t i);

/* The key a fingerprint is recorded and looked up under: the prompt set, and the KV cache
 * type when it is not F32 ("arca-validate-v1" for F32, as every fingerprint recorded before
 * cache types existed; "arca-validate-v1+kv-q8_0", "…+kv-f16" otherwise). A fingerprint made
 * with one cache type is therefore never compared with one made with another: their logits
 * differ by design, and so may their greedy tokens. NULL for an unknown cache type. */
const char *arca_validate_prompt_set(int cache_type);

#define ARCA_VALIDATE_GEN 16

typedef struct {
	int32_t *tokens[8];            /* greedy continuation of each prompt */
	size_t n_tokens[8];
	char logits_digest[65];        /* sha256 hex of the rounded logits of every step */
	int compared;                  /* the agreement fields below are filled */
	size_t positions;              /* next-token distributions compared */
	double top1_agreement;         /* fraction of positions with the same argmax */
	double mean_kld, max_kld;      /* KL(source ‖ variant), natural log */
} arca_fingerprint;

void arca_fingerprint_dispose(arca_fingerprint *f);

/* Runs the prompt set (already tokenized: prompts[i] of n_prompt[i] ids) through s: each
 * prompt from an empty context, then ARCA_VALIDATE_GEN greedy tokens. With a reference
 * session (the unquantized source), both models evaluate the prompt plus s's continuation
 * and their distributions are compared at every position. */
arca_err arca_validate_run(arca_fingerprint *out, arca_session *s, arca_session *reference,
	const int32_t *const *prompts, const size_t *n_prompt, size_t n);

#endif
