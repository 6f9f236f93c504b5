/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/moe.c — the mixture-of-experts FFN (qwen3moe, as llama.cpp computes it): router
 * logits → softmax over the experts → the n_expert_used most probable (ties: the lower
 * expert id) → their probabilities renormalized to sum 1; each expert is a SwiGLU FFN over
 * the tokens routed to it, gathered into one batch so its weights are read once; the
 * token's output is the weighted sum of its experts' outputs, added in expert order.
 */
#include <string.h>

#include "runtime/ops.h"
#include "runtime/session_internal.h"

/* Chooses k of the n experts from router logits (turned into probabilities in place). */
static void route(float *logits, uint32_t n, uint32_t k, uint32_t *sel, float *w)
{
	arca_op_softmax(logits, n);
	float sum = 0.0f;
	for (uint32_t j = 0; j < k; j++) {
		uint32_t best = UINT32_MAX;
		for (uint32_t e = 0; e < n; e++) {
			int taken = 0;
			for (uint32_t i = 0; i < j; i++)
				taken |= sel[i] == e;
			if (!taken && (best == UINT32_MAX || logits[e] > logits[best]))
				best = e;
		}
		sel[j] = best;
		w[j] = logits[best];
		sum += w[j];
	}
	for (uint32_t j = 0; j < k; j++)
		w[j] /= sum;
}

void arca_rt_moe_ffn(arca_session *s, const arca_rt_layer *L, size_t nb)
{
	const arca_model_info *in = &s->m->info;
	const size_t E = in->n_embd, F = in->n_ff_exp;
	const uint32_t NE = in->n_expert, K = in->n_expert_used;
	arca_rt_mul(s, &L->gate_inp, s->xn, nb, s->router);
	for (size_t t = 0; t < nb; t++)
		route(s->router + t * NE, NE, K, s->moe_sel + t * K, s->moe_w + t * K);
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
		arca_rt_tensor gate = arca_rt_expert(&L->gate_exps, e);
		arca_rt_tensor up = arca_rt_expert(&L->up_exps, e);
		arca_rt_tensor down = arca_rt_expert(&L->down_exps, e);
		arca_rt_act_invalidate(s); /* moe_x holds other rows than last time */
		arca_rt_mul(s, &gate, s->moe_x, c, s->gate);
		arca_rt_mul(s, &up, s->moe_x, c, s->up);
		arca_rt_swiglu(s, s->gate, s->up, c * F);
		arca_rt_act_invalidate(s);
		arca_rt_mul(s, &down, s->gate, c, s->moe_y);
		for (size_t i = 0; i < c; i++)
			arca_op_axpy(s->ffn_out + s->moe_tok[i] * E, s->moe_tw[i], s->moe_y + i * E, E);
	}
	arca_rt_act_invalidate(s);
}
