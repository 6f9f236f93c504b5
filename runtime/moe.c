/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/moe.c — the mixture-of-experts FFN as llama.cpp computes it (qwen3moe, deepseek2):
 * router logits → softmax or sigmoid → plus the correction bias when there is one, limited
 * to the best expert groups when there are groups → the n_expert_used best (ties: the lower
 * expert id), weighted by their probabilities, renormalized and scaled as the model says;
 * each expert is a SwiGLU FFN over the tokens routed to it, gathered into one batch so its
 * weights are read once; the token's output is the weighted sum of its experts' outputs,
 * added in expert order, plus DeepSeek's shared experts.
 */
#include <math.h>
#include <string.h>

#include "runtime/ops.h"
#include "runtime/session_internal.h"

/* The index of the largest v[i] among those not yet taken (ties: the lower index). */
static uint32_t best_free(const float *v, uint32_t n, const uint32_t *taken, uint32_t n_taken)
{
	uint32_t best = UINT32_MAX;
	for (uint32_t e = 0; e < n; e++) {
		int used = 0;
		for (uint32_t i = 0; i < n_taken; i++)
			used |= taken[i] == e;
		if (!used && v[e] > -INFINITY && (best == UINT32_MAX || v[e] > v[best]))
			best = e;
	}
	return best;
}

/* Chooses k experts from one token's router logits (turned into probabilities in place)
 * and their weights. */
static void route(const arca_rt_moe *o, const float *bias, float *logits, uint32_t n,
	uint32_t k, uint32_t *sel, float *w)
{
	float choose[1024];   /* n <= 1024 (model.c) */
	if (o->gating == 2) {
		for (uint32_t e = 0; e < n; e++)
			logits[e] = 1.0f / (1.0f + expf(-logits[e]));
	} else {
		arca_op_softmax(logits, n);
	}
	/* the correction bias steers the choice, not the weights */
	for (uint32_t e = 0; e < n; e++)
		choose[e] = logits[e] + (bias ? bias[e] : 0.0f);
	if (o->n_groups) {
		/* keep the groups whose two best scores sum highest */
		uint32_t per = n / o->n_groups, keep[64], top2[2];
		float score[64];
		for (uint32_t g = 0; g < o->n_groups; g++) {
			top2[0] = best_free(choose + g * per, per, NULL, 0);
			top2[1] = best_free(choose + g * per, per, top2, 1);
			score[g] = choose[g * per + top2[0]] + choose[g * per + top2[1]];
		}
		for (uint32_t j = 0; j < o->n_groups_used; j++)
			keep[j] = best_free(score, o->n_groups, keep, j);
		for (uint32_t g = 0; g < o->n_groups; g++) {
			int kept = 0;
			for (uint32_t j = 0; j < o->n_groups_used; j++)
				kept |= keep[j] == g;
			for (uint32_t e = 0; !kept && e < per; e++)
				choose[g * per + e] = -INFINITY;
		}
	}
	float sum = 0.0f;
	for (uint32_t j = 0; j < k; j++) {
		sel[j] = best_free(choose, n, sel, j);
		w[j] = logits[sel[j]];
		sum += w[j];
	}
	for (uint32_t j = 0; j < k; j++)
		w[j] = (o->norm ? w[j] / sum : w[j]) * o->scale;
}

/* A SwiGLU FFN over c gathered rows of x into y. */
static void expert_ffn(arca_session *s, const arca_rt_tensor *gate, const arca_rt_tensor *up,
	const arca_rt_tensor *down, const float *x, size_t c, float *y)
{
	arca_rt__act_invalidate(s); /* x holds other rows than last time */
	arca_rt__mul(s, gate, x, c, s->gate);
	arca_rt__mul(s, up, x, c, s->up);
	arca_rt__swiglu(s, s->gate, s->up, c * gate->ne1);
	arca_rt__act_invalidate(s);
	arca_rt__mul(s, down, s->gate, c, y);
}

void arca_rt__moe_ffn(arca_session *s, const arca_rt_layer *L, size_t nb)
{
	const arca_model_info *in = &s->m->info;
	const size_t E = in->n_embd;
	const uint32_t NE = in->n_expert, K = in->n_expert_used;
	arca_rt__mul(s, &L->gate_inp, s->xn, nb, s->router);
	for (size_t t = 0; t < nb; t++)
		route(&s->m->moe, L->exp_probs_b.data, s->router + t * NE, NE, K, s->moe_sel + t * K,
			s->moe_w + t * K);
	memset(s->ffn_out, 0, nb * E * sizeof(float));
	for (uint32_t e = 0; e < NE; e++) {
		size_t c = 0;
		for (size_t t = 0; t < nb; t++) {
			for (uint32_t j = 0; j < K; j++) {
				if (s->moe_sel[t * K + j] != e)
					continue;
				s->moe_tok[c] = (uint32_t)t;
				s->moe_tw[c] = s->moe_w[t * K + j];
				memcpy(s->moe_x + c * E, s->xn + t * E, E * sizeof(float));
				c++;
			}
		}
		if (!c)
			continue;
		arca_rt_tensor gate = arca_rt__expert(&L->gate_exps, e);
		arca_rt_tensor up = arca_rt__expert(&L->up_exps, e);
		arca_rt_tensor down = arca_rt__expert(&L->down_exps, e);
		expert_ffn(s, &gate, &up, &down, s->moe_x, c, s->moe_y);
		for (size_t i = 0; i < c; i++)
			arca_op_axpy(s->ffn_out + s->moe_tok[i] * E, s->moe_tw[i], s->moe_y + i * E, E);
	}
	/* DeepSeek's shared experts: one FFN every token passes through, added last */
	if (L->gate_shexp.data) {
		expert_ffn(s, &L->gate_shexp, &L->up_shexp, &L->down_shexp, s->xn, nb, s->moe_y);
		arca_op_add(s->ffn_out, s->moe_y, nb * E);
	}
	arca_rt__act_invalidate(s);
}
