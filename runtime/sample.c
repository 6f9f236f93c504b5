/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/sample.c — see arca/sample.h.
 */
#include "arca/sample.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
	int32_t id;
	float logit;
	float p;
} candidate;

struct arca_sampler {
	arca_sampling params;
	uint32_t n_vocab;
	uint64_t state;
	candidate *cands;
};

static uint64_t next_random(uint64_t *state)
{
	/* splitmix64 */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

arca_err arca_sampler_new(arca_sampler **out, const arca_sampling *params, uint32_t n_vocab)
{
	*out = NULL;
	if (!(params->top_p > 0.0f && params->top_p <= 1.0f) || !isfinite(params->temperature))
		return arca_error_set(ARCA_EINVALID, "sampling: top-p must be in (0, 1] and the "
			"temperature finite");
	arca_sampler *s = calloc(1, sizeof(*s));
	if (s)
		s->cands = malloc((n_vocab ? n_vocab : 1) * sizeof(*s->cands));
	if (!s || !s->cands) {
		arca_sampler_free(s);
		return arca_error_set(ARCA_ENOMEM, "sampling: out of memory");
	}
	s->params = *params;
	s->n_vocab = n_vocab;
	s->state = params->seed;
	*out = s;
	return ARCA_OK;
}

void arca_sampler_free(arca_sampler *s)
{
	if (!s)
		return;
	free(s->cands);
	free(s);
}

/* larger logit first; equal logits: lower id first */
static int by_logit(const void *a, const void *b)
{
	const candidate *x = a, *y = b;
	if (x->logit != y->logit)
		return x->logit > y->logit ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int32_t greedy(const float *logits, uint32_t n)
{
	int32_t best = 0;
	for (uint32_t i = 1; i < n; i++)
		if (logits[i] > logits[best])
			best = (int32_t)i;
	return best;
}

int32_t arca_sample(arca_sampler *s, const float *logits)
{
	const arca_sampling *p = &s->params;
	if (p->temperature <= 0.0f || p->top_k == 1)
		return greedy(logits, s->n_vocab);
	size_t n = s->n_vocab;
	for (size_t i = 0; i < n; i++)
		s->cands[i] = (candidate){ (int32_t)i, logits[i], 0.0f };
	qsort(s->cands, n, sizeof(*s->cands), by_logit);
	if (p->top_k && p->top_k < n)
		n = p->top_k;
	double sum = 0.0;
	for (size_t i = 0; i < n; i++) {
		s->cands[i].p = expf((s->cands[i].logit - s->cands[0].logit) / p->temperature);
		sum += s->cands[i].p;
	}
	/* nucleus: the fewest candidates whose probability reaches top_p */
	double kept = 0.0;
	size_t keep = n;
	for (size_t i = 0; i < n; i++) {
		kept += s->cands[i].p / sum;
		if (kept >= p->top_p) {
			keep = i + 1;
			break;
		}
	}
	double total = 0.0;
	for (size_t i = 0; i < keep; i++)
		total += s->cands[i].p;
	double r = (double)(next_random(&s->state) >> 11) / 9007199254740992.0 * total;
	for (size_t i = 0; i < keep; i++) {
		r -= s->cands[i].p;
		if (r < 0.0)
			return s->cands[i].id;
	}
	return s->cands[keep - 1].id;
}

void arca_top_logits(const float *logits, uint32_t n_vocab, uint32_t k, int32_t *ids,
	float *values)
{
	/* insertion into a sorted list of k: fine for the small k reports use */
	uint32_t have = 0;
	for (uint32_t i = 0; i < n_vocab; i++) {
		float v = logits[i];
		if (have == k && !(v > values[k - 1]))
			continue;
		uint32_t at = have < k ? have++ : k - 1;
		while (at > 0 && v > values[at - 1]) {
			values[at] = values[at - 1];
			ids[at] = ids[at - 1];
			at--;
		}
		values[at] = v;
		ids[at] = (int32_t)i;
	}
}
