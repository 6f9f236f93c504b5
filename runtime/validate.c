/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/validate.c — the fingerprint of arca/validate.h: the prompt set, greedy runs
 * (arca/generate.h's loop) with a digest of rounded logits, and the agreement of a variant
 * with its source.
 */
#include "arca/validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arca/digest.h"
#include "arca/generate.h"
#include "arca/quant.h"
#include "arca/sample.h"

/* Changing a text changes every fingerprint: add a new set instead (…-v2). */
static const struct {
	const char *name, *text;
} prompts_v1[] = {
	{ "english", "The old lighthouse keeper climbed the stairs each evening and" },
	{ "chinese", "长城是中国古代的军事防御工程，它的修建" },
	{ "code", "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n" },
	{ "numbers", "2, 3, 5, 7, 11, 13, 17," },
};
#define N_PROMPTS (sizeof(prompts_v1) / sizeof(prompts_v1[0]))

size_t arca_validate_n_prompts(void)
{
	return N_PROMPTS;
}

const char *arca_validate_prompt(size_t i)
{
	return i < N_PROMPTS ? prompts_v1[i].text : NULL;
}

const char *arca_validate_prompt_name(size_t i)
{
	return i < N_PROMPTS ? prompts_v1[i].name : NULL;
}

const char *arca_validate_prompt_set(int cache_type)
{
	switch (cache_type) {
	case ARCA_GGML_F32: return ARCA_VALIDATE_PROMPT_SET;
	case ARCA_GGML_F16: return ARCA_VALIDATE_PROMPT_SET "+kv-f16";
	case ARCA_GGML_Q8_0: return ARCA_VALIDATE_PROMPT_SET "+kv-q8_0";
	default: return NULL;
	}
}

void arca_fingerprint_dispose(arca_fingerprint *f)
{
	for (size_t i = 0; i < 8; i++)
		free(f->tokens[i]);
	memset(f, 0, sizeof(*f));
}

static int32_t argmax(const float *logits, uint32_t n)
{
	int32_t id;
	float v;
	arca_top_logits(logits, n, 1, &id, &v);
	return id;
}

/* Logits rounded to 1/256 as little-endian int32, into the digest. */
static arca_err digest_logits(arca_digest *d, const float *logits, uint32_t n)
{
	unsigned char buf[4096];
	size_t used = 0;
	for (uint32_t i = 0; i < n; i++) {
		double r = nearbyint((double)logits[i] * 256.0);
		int32_t v = r > 2147483647.0 ? INT32_MAX : r < -2147483648.0 ? INT32_MIN : (int32_t)r;
		for (int b = 0; b < 4; b++)
			buf[used++] = (unsigned char)((uint32_t)v >> (8 * b));
		if (used == sizeof(buf)) {
			arca_err err = arca_digest_update(d, buf, used);
			if (err < 0)
				return err;
			used = 0;
		}
	}
	return arca_digest_update(d, buf, used);
}

/* One prompt's greedy run: every step's logits into the digest, the tokens into the
 * fingerprint and after the prompt in the sequence the source is compared on. */
typedef struct {
	arca_digest *digest;
	int32_t *tokens;
	size_t *n_tokens;
	int32_t *continuation;
} greedy_run;

static int on_greedy_token(const arca_generated_token *t, void *payload)
{
	greedy_run *run = payload;
	arca_err err = digest_logits(run->digest, t->logits, t->n_vocab);
	if (err < 0)
		return err;
	run->tokens[t->index] = t->id;
	(*run->n_tokens)++;
	run->continuation[t->index] = t->id;
	return 0;
}

/* Log-softmax of logits into out (double). */
static void log_softmax(double *out, const float *logits, uint32_t n)
{
	double max = -INFINITY, sum = 0.0;
	for (uint32_t i = 0; i < n; i++)
		max = logits[i] > max ? logits[i] : max;
	for (uint32_t i = 0; i < n; i++)
		sum += exp((double)logits[i] - max);
	double lse = max + log(sum);
	for (uint32_t i = 0; i < n; i++)
		out[i] = (double)logits[i] - lse;
}

/* Both models over the same ids; agreement statistics accumulated into f. */
static arca_err compare(arca_fingerprint *f, arca_session *s, arca_session *ref,
	const int32_t *ids, size_t n, uint32_t n_vocab, double *lp, double *lq)
{
	const float *a, *b;
	arca_err err;
	arca_session_truncate(ref, 0);
	if ((err = arca_session_eval(ref, ids, n, 1, &a)) < 0)
		return err;
	/* ref's logits stay valid until its next call; s is another session */
	arca_session_truncate(s, 0);
	if ((err = arca_session_eval(s, ids, n, 1, &b)) < 0)
		return err;
	for (size_t t = 0; t < n; t++) {
		const float *pa = a + t * n_vocab, *pb = b + t * n_vocab;
		log_softmax(lp, pa, n_vocab);
		log_softmax(lq, pb, n_vocab);
		double kl = 0.0;
		for (uint32_t i = 0; i < n_vocab; i++)
			kl += exp(lp[i]) * (lp[i] - lq[i]);
		kl = kl > 0 ? kl : 0;
		f->mean_kld += kl;
		f->max_kld = kl > f->max_kld ? kl : f->max_kld;
		f->top1_agreement += argmax(pa, n_vocab) == argmax(pb, n_vocab);
		f->positions++;
	}
	return ARCA_OK;
}

arca_err arca_validate_run(arca_fingerprint *out, arca_session *s, arca_session *reference,
	const int32_t *const *prompts, const size_t *n_prompt, size_t n)
{
	memset(out, 0, sizeof(*out));
	if (n > 8)
		return arca_error_set(ARCA_EINVALID, "validate: at most 8 prompts");
	const arca_model_info *info = arca_session_model_info(s);
	uint32_t V = info->n_vocab;
	if (reference && arca_session_model_info(reference)->n_vocab != V)
		return arca_error_set(ARCA_EINVALID, "validate: the source has %u tokens, the variant "
			"%u", arca_session_model_info(reference)->n_vocab, V);
	arca_digest *d;
	arca_err err = arca_digest_new(&d, ARCA_DIGEST_SHA256);
	if (err < 0)
		return err;
	double *lp = NULL, *lq = NULL;
	int32_t *seq = NULL;
	if (reference) {
		lp = malloc(V * sizeof(double));
		lq = malloc(V * sizeof(double));
		if (!lp || !lq)
			err = arca_error_set(ARCA_ENOMEM, "validate: out of memory");
	}
	for (size_t p = 0; p < n && err == ARCA_OK; p++) {
		arca_session_truncate(s, 0);
		free(seq);
		seq = malloc((n_prompt[p] + ARCA_VALIDATE_GEN) * sizeof(int32_t));
		out->tokens[p] = malloc(ARCA_VALIDATE_GEN * sizeof(int32_t));
		if (!seq || !out->tokens[p]) {
			err = arca_error_set(ARCA_ENOMEM, "validate: out of memory");
			break;
		}
		memcpy(seq, prompts[p], n_prompt[p] * sizeof(int32_t));
		greedy_run run = { d, out->tokens[p], &out->n_tokens[p], seq + n_prompt[p] };
		arca_generate_opts go = ARCA_GENERATE_OPTS_INIT;
		go.n_predict = ARCA_VALIDATE_GEN;
		arca_generate_result res;
		err = arca_generate(&res, s, prompts[p], n_prompt[p], &go, on_greedy_token, &run);
		if (err == ARCA_OK && reference)
			err = compare(out, s, reference, seq, n_prompt[p] + ARCA_VALIDATE_GEN, V, lp, lq);
	}
	unsigned char md[ARCA_SHA256_LEN];
	if (err == ARCA_OK && (err = arca_digest_final(d, md)) == ARCA_OK)
		arca_hex_encode(out->logits_digest, md, sizeof(md));
	arca_digest_free(d);
	free(seq);
	free(lp);
	free(lq);
	if (err == ARCA_OK && reference && out->positions) {
		out->compared = 1;
		out->top1_agreement /= (double)out->positions;
		out->mean_kld /= (double)out->positions;
	}
	if (err < 0)
		arca_fingerprint_dispose(out);
	return err;
}
