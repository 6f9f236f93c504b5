/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/gguf_names.c — a GGUF's tensors under their Hugging Face names: the architecture
 * table read backwards (Q/K permutation undone, experts unstacked, MLA k_b/v_b joined into
 * kv_b_proj, InternLM2's attn_q/k/v joined into its grouped wqkv, dims back in PyTorch order), and their rows decoded to float32. Shared by
 * gguf_to_hf.c (writing the folder) and tensor_view.c (diffing a variant against anything).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/arch.h"
#include "arca/gguf.h"
#include "arca/quant.h"
#include "convert/convert_internal.h"

static arca_st_dtype dtype_for(int type)
{
	return type == ARCA_GGML_F16 ? ARCA_ST_F16 : type == ARCA_GGML_BF16 ? ARCA_ST_BF16 :
		ARCA_ST_F32;
}

static arca_err push(arca_convert__gguf_names *b, const arca_convert__hf_tensor *t)
{
	arca_convert__hf_tensor *grown = realloc(b->ts, (b->n + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
	b->ts = grown;
	grown[b->n++] = *t;
	return ARCA_OK;
}

/* InternLM2: attn_q of a layer stands for its wqkv, rebuilt from attn_q, attn_k and attn_v
 * (rows() interleaves them back per kv head); attn_k and attn_v are joined with it. *done is
 * set when t is one of the three. */
static arca_err join_qkv(arca_convert__gguf_names *b, const arca_arch_tensor *rule,
	const arca_gguf_tensor *t, int *done)
{
	const arca_gguf_tensor *parts[3] = { NULL };
	int layer = -1, expert, which = -1;
	char name[128];
	for (int part = 0; part < 3 && which < 0; part++) {
		char pattern[128];
		const char *p = rule->gguf;
		for (int k = 0; k < part && p; k++)
			p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL;
		if (!p)
			break;
		const char *bar = strchr(p, '|');
		snprintf(pattern, sizeof(pattern), "%.*s", bar ? (int)(bar - p) : (int)strlen(p), p);
		if (arca_arch_match(pattern, t->name, &layer, &expert))
			which = part;
	}
	*done = which >= 0;
	if (which != 0)
		return ARCA_OK;   /* not ours, or joined with this layer's attn_q */
	for (int part = 0; part < 3; part++) {
		arca_arch_expand_part(name, sizeof(name), rule->gguf, part, layer, 0);
		parts[part] = arca_gguf_find_tensor(b->g, name);
		if (!parts[part] || parts[part]->n_dims != 2 || parts[part]->type != t->type ||
		    parts[part]->ne[0] != t->ne[0])
			return arca_error_set(ARCA_EINVALID, "%s has no matching %s", t->name, name);
	}
	uint64_t hd = b->n_head ? t->ne[1] / b->n_head : 0;
	if (!hd || hd % 2 || !b->n_head_kv || b->n_head % b->n_head_kv ||
	    t->ne[1] != hd * b->n_head || parts[1]->ne[1] != hd * b->n_head_kv ||
	    parts[2]->ne[1] != hd * b->n_head_kv)
		return arca_error_set(ARCA_EINVALID, "%s: q/k/v do not split into %u and %u heads",
			t->name, b->n_head, b->n_head_kv);
	arca_convert__hf_tensor h;
	memset(&h, 0, sizeof(h));
	h.rule = rule;
	h.t = parts[0];
	h.t2 = parts[1];
	h.t3 = parts[2];
	h.spec.dtype = dtype_for(t->type);
	h.spec.n_dims = 2;
	h.spec.shape[0] = (uint64_t)(b->n_head + 2 * b->n_head_kv) * hd;
	h.spec.shape[1] = t->ne[0];
	arca_arch_expand(h.hf, sizeof(h.hf), rule->hf, layer, 0);
	return push(b, &h);
}

static arca_err map_back(arca_convert__gguf_names *b, const arca_gguf_tensor *t)
{
	if (!strcmp(t->name, "rope_freqs.weight"))
		return ARCA_OK; /* derived from config.json's rope_scaling */
	int layer, expert;
	if (arca_arch_match("blk.{i}.attn_v_b.weight", t->name, &layer, &expert))
		return ARCA_OK; /* joined with attn_k_b */
	for (const arca_arch_tensor *rule = b->arch->tensors; rule->hf; rule++) {
		if (rule->tx == ARCA_TX_SPLIT_QKV_GROUPED) {
			int done = 0;
			arca_err err = join_qkv(b, rule, t, &done);
			if (err < 0 || done)
				return err;
			continue;
		}
		if (!arca_arch_match(rule->gguf, t->name, &layer, &expert))
			continue;
		arca_convert__hf_tensor h;
		memset(&h, 0, sizeof(h));
		h.rule = rule;
		h.t = t;
		h.spec.dtype = dtype_for(t->type);
		if (rule->tx == ARCA_TX_STACK_EXPERTS) {
			for (uint64_t e = 0; e < t->ne[2]; e++) {
				arca_arch_expand(h.hf, sizeof(h.hf), rule->hf, layer, (int)e);
				h.expert = (int)e;
				h.spec.n_dims = 2;
				h.spec.shape[0] = t->ne[1];
				h.spec.shape[1] = t->ne[0];
				arca_err err = push(b, &h);
				if (err < 0)
					return err;
			}
			return ARCA_OK;
		}
		arca_arch_expand(h.hf, sizeof(h.hf), rule->hf, layer, 0);
		if (rule->tx == ARCA_TX_SPLIT_KV_B) {
			char vb[64];
			snprintf(vb, sizeof(vb), "blk.%d.attn_v_b.weight", layer);
			h.t2 = arca_gguf_find_tensor(b->g, vb);
			if (!h.t2 || h.t2->type != t->type)
				return arca_error_set(ARCA_EINVALID, "%s has no matching %s", t->name, vb);
			h.spec.n_dims = 2;
			h.spec.shape[0] = (uint64_t)b->n_head * (b->nope + b->v_head);
			h.spec.shape[1] = b->kv_lora;
			return push(b, &h);
		}
		h.spec.n_dims = t->n_dims;
		for (uint32_t d = 0; d < t->n_dims; d++)
			h.spec.shape[d] = t->ne[t->n_dims - 1 - d];
		return push(b, &h);
	}
	return arca_error_set(ARCA_EUNSUPPORTED, "GGUF tensor %s has no Hugging Face name in the "
		"%s table", t->name, b->arch->name);
}

static int hf_order(const void *a, const void *b)
{
	return strcmp(((const arca_convert__hf_tensor *)a)->hf, ((const arca_convert__hf_tensor *)b)->hf);
}

/* Rows of a GGUF tensor as float32. */
static arca_err gguf_rows(const arca_gguf *g, const arca_gguf_tensor *t, uint64_t r0,
	uint64_t n, float *dst)
{
	uint64_t row = arca_ggml_row_size(t->type, t->ne[0]);
	const unsigned char *data = arca_gguf_tensor_data(g, t);
	return arca_dequantize(t->type, data + r0 * row, dst, (size_t)(n * t->ne[0]));
}

arca_err arca_convert__gguf_names_rows(const arca_convert__gguf_names *b,
	const arca_convert__hf_tensor *h, uint64_t r0, uint64_t n, float *dst,
	float *scratch)
{
	const arca_gguf_tensor *t = h->t;
	uint64_t len = h->spec.n_dims ? h->spec.shape[h->spec.n_dims - 1] : 1;
	arca_err err = ARCA_OK;
	switch (h->rule->tx) {
	case ARCA_TX_NONE:
		return gguf_rows(b->g, t, r0, n, dst);
	case ARCA_TX_STACK_EXPERTS:
		return gguf_rows(b->g, t, (uint64_t)h->expert * t->ne[1] + r0, n, dst);
	case ARCA_TX_PERMUTE_Q:
	case ARCA_TX_PERMUTE_K: {
		uint32_t heads = h->rule->tx == ARCA_TX_PERMUTE_Q ? b->n_head : b->n_head_kv;
		if (h->spec.n_dims == 1) {
			if ((err = gguf_rows(b->g, t, 0, 1, scratch)) < 0)
				return err;
			uint64_t hd = len / heads;
			for (uint64_t k = 0; k < len; k++) {
				/* undo: hf[h*hd + j*(hd/2) + i] = gguf[h*hd + 2i + j] */
				uint64_t hh = k / hd, m = k % hd, j = m / (hd / 2), i = m % (hd / 2);
				dst[k] = scratch[hh * hd + 2 * i + j];
			}
			return ARCA_OK;
		}
		for (uint64_t r = r0; r < r0 + n && err == ARCA_OK; r++)
			err = gguf_rows(b->g, t, arca_convert__gguf_names_stored_row(b, h, r), 1,
				dst + (r - r0) * len);
		return err;
	}
	case ARCA_TX_SPLIT_KV_B: {
		uint64_t per = (uint64_t)b->nope + b->v_head, kv = b->kv_lora;
		for (uint64_t r = r0; r < r0 + n && err == ARCA_OK; r++) {
			uint64_t hh = r / per, k = r % per;
			if (k >= b->nope) {
				err = gguf_rows(b->g, h->t2, hh * b->v_head + (k - b->nope), 1,
					dst + (r - r0) * len);
				continue;
			}
			/* attn_k_b rows (hh, c) hold column k of this head's nope block */
			if ((err = gguf_rows(b->g, t, hh * kv, kv, scratch)) < 0)
				break;
			for (uint64_t c = 0; c < kv; c++)
				dst[(r - r0) * len + c] = scratch[c * b->nope + k];
		}
		return err;
	}
	case ARCA_TX_SPLIT_QKV_GROUPED: {
		/* wqkv row r: kv head g, slot w (w < per: query head g·per + w; then k, then v),
		 * dim d; q and k rows are stored LLaMA-permuted (d = j·hd/2 + i at 2i + j) */
		uint64_t hd = t->ne[1] / b->n_head, per = b->n_head / b->n_head_kv;
		for (uint64_t r = r0; r < r0 + n && err == ARCA_OK; r++) {
			uint64_t g = r / ((per + 2) * hd), w = r / hd % (per + 2), d = r % hd;
			uint64_t pd = (d % (hd / 2)) * 2 + d / (hd / 2);
			const arca_gguf_tensor *src = w < per ? t : w == per ? h->t2 : h->t3;
			uint64_t row = w < per ? (g * per + w) * hd + pd : g * hd + (w == per ? pd : d);
			err = gguf_rows(b->g, src, row, 1, dst + (r - r0) * len);
		}
		return err;
	}
	}
	return arca_error_set(ARCA_EINVALID, "%s: unknown transform", h->hf);
}

arca_err arca_convert__gguf_names_open(arca_convert__gguf_names *b, const arca_gguf *g,
	char **arch_name)
{
	arca_err err = arca_gguf_get_str(g, "general.architecture", arch_name);
	if (err < 0)
		return err;
	if (!(b->arch = arca_arch_for_gguf(*arch_name)))
		return arca_error_set(ARCA_EUNSUPPORTED, "GGUF architecture %s is not supported; arca "
			"converts %s", *arch_name, arca_arch_supported());
	b->g = g;
	b->n_head = arca_convert__arch_u32(g, *arch_name, "attention.head_count");
	b->n_head_kv = arca_convert__arch_u32(g, *arch_name, "attention.head_count_kv");
	if (!b->n_head_kv)
		b->n_head_kv = b->n_head;
	b->kv_lora = arca_convert__arch_u32(g, *arch_name, "attention.kv_lora_rank");
	b->v_head = arca_convert__arch_u32(g, *arch_name, "attention.value_length_mla");
	uint32_t k_mla = arca_convert__arch_u32(g, *arch_name, "attention.key_length_mla");
	uint32_t rope = arca_convert__arch_u32(g, *arch_name, "rope.dimension_count");
	b->nope = k_mla > rope ? k_mla - rope : 0;
	for (size_t i = 0; i < arca_gguf_tensor_count(g); i++)
		if ((err = map_back(b, arca_gguf_tensor_at(g, i))) < 0)
			return err;
	qsort(b->ts, b->n, sizeof(*b->ts), hf_order);
	return ARCA_OK;
}

uint64_t arca_convert__gguf_names_stored_row(const arca_convert__gguf_names *b,
	const arca_convert__hf_tensor *h, uint64_t r)
{
	if ((h->rule->tx != ARCA_TX_PERMUTE_Q && h->rule->tx != ARCA_TX_PERMUTE_K) ||
	    h->spec.n_dims == 1)
		return r;
	uint32_t heads = h->rule->tx == ARCA_TX_PERMUTE_Q ? b->n_head : b->n_head_kv;
	/* undo: hf row h*hd + j*(hd/2) + i is gguf row h*hd + 2i + j */
	uint64_t hd = h->t->ne[1] / heads;
	uint64_t hh = r / hd, m = r % hd, j = m / (hd / 2), i = m % (hd / 2);
	return hh * hd + 2 * i + j;
}

void arca_convert__gguf_names_free(arca_convert__gguf_names *b)
{
	free(b->ts);
	b->ts = NULL;
	b->n = 0;
}

uint64_t arca_convert__gguf_names_scratch(const arca_convert__gguf_names *b,
	const arca_convert__hf_tensor *h)
{
	uint64_t len = h->spec.n_dims ? h->spec.shape[h->spec.n_dims - 1] : 1;
	return h->rule->tx == ARCA_TX_SPLIT_KV_B ? (uint64_t)b->kv_lora * b->nope : len;
}
