/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/generate.c — the generation loop of arca/generate.h: prefill, then choose → hand
 * over → stop? → evaluate, one token at a time, with the streaming decoder and the clock.
 */
#include "arca/generate.h"

#include <string.h>

#include "common/util.h"

const char *arca_generate_stop_name(arca_generate_stop stop)
{
	switch (stop) {
	case ARCA_GENERATE_LENGTH: return "length";
	case ARCA_GENERATE_EOS: return "eos";
	case ARCA_GENERATE_STOPPED: return "stopped";
	}
	return "?";
}

static int32_t largest(const float *logits, uint32_t n_vocab)
{
	int32_t id;
	float v;
	arca_top_logits(logits, n_vocab, 1, &id, &v);
	return id;
}

arca_err arca_generate(arca_generate_result *out, arca_session *s, const int32_t *prompt,
	size_t n_prompt, const arca_generate_opts *opts, arca_generate_cb on_token,
	void *payload)
{
	memset(out, 0, sizeof(*out));
	out->stop = ARCA_GENERATE_LENGTH;
	out->n_prompt = n_prompt;
	uint32_t n_vocab = arca_session_model_info(s)->n_vocab;
	const arca_tokenizer *tok = opts->tokenizer;
	arca_sampler *sampler = NULL;
	arca_detok detok = { 0 };
	const float *logits;
	double t0 = arca_time_monotonic();
	arca_err err = ARCA_OK;
	if (opts->sampling)
		err = arca_sampler_new(&sampler, opts->sampling, n_vocab);
	if (err == ARCA_OK)
		err = arca_session_eval(s, prompt, n_prompt, 0, &logits);
	double t1 = arca_time_monotonic();
	out->prefill_seconds = t1 - t0;
	for (size_t i = 0; i < opts->n_predict && err == ARCA_OK; i++) {
		arca_generated_token t = { .index = i, .logits = logits, .n_vocab = n_vocab };
		t.id = sampler ? arca_sample(sampler, logits) : largest(logits, n_vocab);
		/* a token's bytes are at most 512 (arca_detok_push), plus what was pending */
		char piece[600];
		t.piece = piece;
		piece[0] = '\0';
		if (tok) {
			t.piece_len = arca_detok_push(&detok, tok, t.id, piece, sizeof(piece));
			t.is_eog = arca_tokenizer_is_eog(tok, t.id);
		}
		out->n_generated++;
		int verdict = on_token ? on_token(&t, payload) : 0;
		if (verdict < 0) {
			err = verdict;
			break;
		}
		if (t.is_eog && !opts->ignore_eos) {
			out->stop = ARCA_GENERATE_EOS;
			break;
		}
		if (verdict > 0) {
			out->stop = ARCA_GENERATE_STOPPED;
			break;
		}
		if (i + 1 < opts->n_predict)
			err = arca_session_eval(s, &t.id, 1, 0, &logits);
	}
	out->decode_seconds = arca_time_monotonic() - t1;
	if (err == ARCA_OK && out->stop != ARCA_GENERATE_STOPPED)
		out->tail_len = arca_detok_flush(&detok, out->tail, sizeof(out->tail));
	arca_sampler_free(sampler);
	return err;
}
