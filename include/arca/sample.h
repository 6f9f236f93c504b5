/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/sample.h — choosing the next token from logits: greedy (temperature 0: the largest
 * logit, the lowest id on ties, as llama.cpp's greedy sampler), or top-k, then
 * temperature, then top-p (nucleus) and a draw from a seeded generator, so the same seed
 * gives the same text.
 */
#ifndef ARCA_SAMPLE_H
#define ARCA_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "arca/error.h"

typedef struct {
	float temperature;   /* <= 0: greedy */
	uint32_t top_k;      /* 0: all */
	float top_p;         /* 1: all */
	uint64_t seed;
} arca_sampling;

typedef struct arca_sampler arca_sampler;

arca_err arca_sampler_new(arca_sampler **out, const arca_sampling *params, uint32_t n_vocab);
void arca_sampler_free(arca_sampler *s);
int32_t arca_sample(arca_sampler *s, const float *logits);

/* The k largest logits, largest first (ties: lower id first); k <= n_vocab. */
void arca_top_logits(const float *logits, uint32_t n_vocab, uint32_t k, int32_t *ids,
	float *values);

#endif
