/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/hf_to_gguf.c — a Hugging Face snapshot (config.json, safetensors, tokenizer) to a
 * GGUF artifact, driven entirely by the architecture table:
 *
 *   1. plan: every checkpoint tensor is matched to a table rule (or skipped on purpose);
 *      anything unexpected or missing is an error naming the tensor;
 *   2. order and type: tensors in llama-quantize's order (non-layer by name, then each
 *      layer by name; a llama3 rope_freqs.weight, when written, comes first), each typed
 *      by the quantization plan;
 *   3. metadata: general.*, the table's config keys, the arch hook, RoPE scaling, tokenizer;
 *   4. data: rows decoded to float32, transformed (Q/K permutation, expert stacking, MLA
 *      kv_b split, InternLM2's grouped wqkv split), quantized on all cores and streamed
 *      into the store's blob writer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arca/arch.h"
#include "arca/gguf.h"
#include "arca/quant.h"
#include "arca/tokenizer_meta.h"
#include "common/pool.h"
#include "convert/convert_internal.h"

#define CONVERTER_VERSION 1
#define SLAB_FLOATS (4u << 20) /* rows decoded at a time: 16 MiB of float32 */
#define MAX_EXPERTS 4096

typedef struct {
	char name[ARCA_GGUF_NAME_MAX + 1];
	const arca_arch_tensor *rule;
	int layer;
	const arca_convert__ref **parts; /* one source, or one per expert */
	size_t n_parts;
	int part;                        /* SPLIT_KV_B: 0 = attn_k_b, 1 = attn_v_b; SPLIT_QKV:
	                                  * 0 = q, 1 = k, 2 = v */
	uint32_t n_dims;
	uint64_t ne[ARCA_GGUF_MAX_DIMS];
	int type;
} out_tensor;

typedef struct {
	arca_convert__source src;
	const arca_arch *arch;
	uint32_t n_layers, n_head, n_head_kv, n_expert, n_dense;
	uint32_t kv_lora, nope, v_head;
	uint32_t head_dim;    /* SPLIT_QKV: head_dim, or hidden / heads */
	out_tensor *outs;
	size_t n_outs;
	const arca_convert_opts *opts;
	arca_pool *pool;      /* quantizes each slab of rows on all the threads asked for */
	uint64_t done, total; /* elements written, of all */
} conv;

/* ------------------------------------------------------------------ config */

static json_t *config_lookup(json_t *config, const char *aliases)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", aliases);
	for (char *save = NULL, *key = strtok_r(buf, "|", &save); key;
	     key = strtok_r(NULL, "|", &save)) {
		json_t *v = config;
		for (char *s2 = NULL, *part = strtok_r(key, ".", &s2); part && v;
		     part = strtok_r(NULL, ".", &s2))
			v = json_object_get(v, part);
		if (v && !json_is_null(v))
			return v;
	}
	return NULL;
}

static uint32_t config_u32(json_t *config, const char *key, uint32_t fallback)
{
	json_t *v = config_lookup(config, key);
	return json_is_integer(v) && json_integer_value(v) >= 0 ?
		(uint32_t)json_integer_value(v) : fallback;
}

static arca_err add_table_kvs(conv *c, arca_gguf_writer *w)
{
	json_t *config = c->src.config;
	for (const arca_arch_kv *kv = c->arch->kvs; kv->gguf; kv++) {
		json_t *v = config_lookup(config, kv->config);
		char key[128];
		snprintf(key, sizeof(key), "%s.%s", c->arch->name, kv->gguf);
		if (!v) {
			if (kv->required)
				return arca_error_set(ARCA_EINVALID, "config.json: %s is missing (needed for %s)",
					kv->config, key);
			continue;
		}
		arca_err err;
		switch (kv->kind) {
		case ARCA_KV_U32:
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > UINT32_MAX)
				return arca_error_set(ARCA_EINVALID, "config.json: %s is not a whole number",
					kv->config);
			err = arca_gguf_add_u32(w, key, (uint32_t)json_integer_value(v));
			break;
		case ARCA_KV_F32:
			if (!json_is_number(v))
				return arca_error_set(ARCA_EINVALID, "config.json: %s is not a number",
					kv->config);
			err = arca_gguf_add_f32(w, key, (float)json_number_value(v));
			break;
		default:
			err = arca_gguf_add_bool(w, key, json_is_true(v));
			break;
		}
		if (err < 0)
			return err;
	}
	return ARCA_OK;
}

/* rope_scaling / rope_parameters: linear and yarn become keys; llama3 a tensor (later). */
static arca_err add_rope_scaling(conv *c, arca_gguf_writer *w, int *llama3_out)
{
	*llama3_out = 0;
	json_t *rs = config_lookup(c->src.config, "rope_scaling|rope_parameters");
	if (!json_is_object(rs))
		return ARCA_OK;
	const char *type = json_string_value(config_lookup(rs, "rope_type|type"));
	if (!type || !strcmp(type, "default"))
		return ARCA_OK;
	const char *a = c->arch->name;
	char key[128];
	arca_err err = ARCA_OK;
	json_t *factor = json_object_get(rs, "factor");
	if (!strcmp(type, "llama3")) {
		*llama3_out = 1;
		return ARCA_OK;
	}
	if (strcmp(type, "linear") != 0 && strcmp(type, "yarn") != 0)
		return arca_error_set(ARCA_EUNSUPPORTED, "config.json: rope scaling '%s' is not "
			"supported (linear, yarn, llama3 are)", type);
	snprintf(key, sizeof(key), "%s.rope.scaling.type", a);
	if ((err = arca_gguf_add_str(w, key, type)) < 0)
		return err;
	if (json_is_number(factor)) {
		snprintf(key, sizeof(key), "%s.rope.scaling.factor", a);
		if ((err = arca_gguf_add_f32(w, key, (float)json_number_value(factor))) < 0)
			return err;
	}
	if (strcmp(type, "yarn") != 0)
		return ARCA_OK;
	json_t *orig = json_object_get(rs, "original_max_position_embeddings");
	if (!json_is_integer(orig))
		return arca_error_set(ARCA_EINVALID, "config.json: yarn rope scaling needs "
			"original_max_position_embeddings");
	snprintf(key, sizeof(key), "%s.rope.scaling.original_context_length", a);
	if ((err = arca_gguf_add_u32(w, key, (uint32_t)json_integer_value(orig))) < 0)
		return err;
	static const struct {
		const char *config, *gguf;
	} yarn[] = {
		{ "extrapolation_factor", "yarn_ext_factor" }, { "attention_factor", "yarn_attn_factor" },
		{ "beta_fast", "yarn_beta_fast" }, { "beta_slow", "yarn_beta_slow" },
	};
	for (size_t i = 0; i < sizeof(yarn) / sizeof(yarn[0]) && err == ARCA_OK; i++) {
		json_t *v = json_object_get(rs, yarn[i].config);
		if (!json_is_number(v))
			continue;
		snprintf(key, sizeof(key), "%s.rope.scaling.%s", a, yarn[i].gguf);
		err = arca_gguf_add_f32(w, key, (float)json_number_value(v));
	}
	return err;
}

/* The llama3 frequency factors (formats reference §7.5), computed in float32 as torch does. */
static arca_err llama3_factors(conv *c, float **out, uint64_t *n_out)
{
	json_t *rs = config_lookup(c->src.config, "rope_scaling|rope_parameters");
	json_t *cfg = c->src.config;
	uint32_t hidden = config_u32(cfg, "hidden_size", 0), heads = c->n_head;
	uint32_t dim = config_u32(cfg, "head_dim", heads ? hidden / heads : 0);
	if (!dim || dim % 2)
		return arca_error_set(ARCA_EINVALID, "config.json: cannot derive the rotary dimension");
	float base = (float)json_number_value(config_lookup(cfg, "rope_theta"));
	if (base <= 0)
		base = 10000.0f;
	json_t *v;
	float factor = json_is_number(v = json_object_get(rs, "factor")) ?
		(float)json_number_value(v) : 8.0f;
	float low = json_is_number(v = json_object_get(rs, "low_freq_factor")) ?
		(float)json_number_value(v) : 1.0f;
	float high = json_is_number(v = json_object_get(rs, "high_freq_factor")) ?
		(float)json_number_value(v) : 4.0f;
	float orig = json_is_number(v = json_object_get(rs, "original_max_position_embeddings")) ?
		(float)json_number_value(v) : 8192.0f;
	float low_wavelen = orig / low, high_wavelen = orig / high;
	uint64_t n = dim / 2;
	float *f = malloc(n * sizeof(*f));
	if (!f)
		return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
	for (uint64_t k = 0; k < n; k++) {
		float freq = 1.0f / powf(base, (float)(2 * k) / (float)dim);
		float wavelen = 2.0f * (float)M_PI / freq;
		if (wavelen < high_wavelen) {
			f[k] = 1.0f;
		} else if (wavelen > low_wavelen) {
			f[k] = factor;
		} else {
			float s = (orig / wavelen - low) / (high - low);
			f[k] = 1.0f / ((1.0f - s) / factor + s);
		}
	}
	*out = f;
	*n_out = n;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ planning */

static int skipped_tensor(const conv *c, const char *name)
{
	static const char *const suffixes[] = { ".rotary_emb.inv_freq", ".attention.masked_bias",
		".attention.bias", ".rotary_pos_emb.inv_freq", NULL };
	size_t n = strlen(name);
	for (const char *const *s = suffixes; *s; s++) {
		size_t k = strlen(*s);
		if (n >= k && !strcmp(name + n - k, *s))
			return 1;
	}
	/* FP8 block scales are consumed with their weights */
	if (n > 10 && !strcmp(name + n - 10, "_scale_inv")) {
		char base[300];
		snprintf(base, sizeof(base), "%.*s", (int)(n - 10), name);
		const arca_convert__ref *w = arca_convert__source_find(&c->src, base);
		return w && w->t->dtype == ARCA_ST_F8_E4M3;
	}
	/* multi-token prediction layers (model.layers.N., N >= num_hidden_layers): llama.cpp
	 * never runs them */
	unsigned long n_layer;
	char *end;
	if ((c->arch->features & ARCA_ARCH_MTP) && !strncmp(name, "model.layers.", 13) &&
	    name[13] >= '0' && name[13] <= '9' &&
	    (n_layer = strtoul(name + 13, &end, 10)) >= c->n_layers && *end == '.')
		return 1;
	/* tied embeddings: DeepSeek drops lm_head when told to */
	if (!strcmp(name, "lm_head.weight") && (c->arch->features & ARCA_ARCH_MLA) &&
	    json_is_true(json_object_get(c->src.config, "tie_word_embeddings")))
		return 1;
	return 0;
}

static out_tensor *add_out(conv *c, const char *name, const arca_arch_tensor *rule, int layer)
{
	for (size_t i = 0; i < c->n_outs; i++)
		if (!strcmp(c->outs[i].name, name))
			return &c->outs[i];
	out_tensor *grown = realloc(c->outs, (c->n_outs + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	c->outs = grown;
	out_tensor *o = &grown[c->n_outs++];
	memset(o, 0, sizeof(*o));
	snprintf(o->name, sizeof(o->name), "%s", name);
	o->rule = rule;
	o->layer = layer;
	return o;
}

static arca_err add_part(out_tensor *o, const arca_convert__ref *ref, int expert)
{
	size_t need = expert >= 0 ? (size_t)expert + 1 : 1;
	if (need > MAX_EXPERTS)
		return arca_error_set(ARCA_EINVALID, "tensor %s: expert %d is beyond %d", ref->t->name,
			expert, MAX_EXPERTS);
	if (need > o->n_parts) {
		const arca_convert__ref **grown = realloc(o->parts, need * sizeof(*grown));
		if (!grown)
			return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
		for (size_t i = o->n_parts; i < need; i++)
			grown[i] = NULL;
		o->parts = grown;
		o->n_parts = need;
	}
	size_t slot = expert >= 0 ? (size_t)expert : 0;
	if (o->parts[slot])
		return arca_error_set(ARCA_EINVALID, "tensors %s and %s both map to %s",
			o->parts[slot]->t->name, ref->t->name, o->name);
	o->parts[slot] = ref;
	return ARCA_OK;
}

static arca_err map_tensor(conv *c, const arca_convert__ref *ref)
{
	const char *name = ref->t->name;
	if (skipped_tensor(c, name))
		return ARCA_OK;
	for (const arca_arch_tensor *rule = c->arch->tensors; rule->hf; rule++) {
		int layer, expert;
		if (!arca_arch_match(rule->hf, name, &layer, &expert))
			continue;
		if (layer >= (int)c->n_layers) {
			return arca_error_set(ARCA_EINVALID, "tensor %s: layer %d, but config.json has %u "
				"layers", name, layer, c->n_layers);
		}
		char gguf[128];
		arca_arch_expand(gguf, sizeof(gguf), rule->gguf, layer, 0);
		if (rule->tx == ARCA_TX_SPLIT_KV_B) {
			for (int part = 0; part < 2; part++) {
				char split[128];
				snprintf(split, sizeof(split), "blk.%d.%s", layer,
					part ? "attn_v_b.weight" : "attn_k_b.weight");
				out_tensor *o = add_out(c, split, rule, layer);
				if (!o)
					return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
				o->part = part;
				arca_err err = add_part(o, ref, -1);
				if (err < 0)
					return err;
			}
			return ARCA_OK;
		}
		if (rule->tx == ARCA_TX_SPLIT_QKV_GROUPED) {
			for (int part = 0; part < arca_arch_n_parts(rule->gguf); part++) {
				char split[128];
				arca_arch_expand_part(split, sizeof(split), rule->gguf, part, layer, 0);
				out_tensor *o = add_out(c, split, rule, layer);
				if (!o)
					return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
				o->part = part;
				arca_err err = add_part(o, ref, -1);
				if (err < 0)
					return err;
			}
			return ARCA_OK;
		}
		out_tensor *o = add_out(c, gguf, rule, layer);
		if (!o)
			return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
		return add_part(o, ref, rule->tx == ARCA_TX_STACK_EXPERTS ? expert : -1);
	}
	return arca_error_set(ARCA_EINVALID, "tensor %s is not part of the %s layout arca knows; "
		"refusing to drop it silently", name, c->arch->name);
}

/* Every rule that must be there, is there. */
static arca_err check_required(conv *c)
{
	for (const arca_arch_tensor *rule = c->arch->tensors; rule->hf; rule++) {
		if (rule->flags & ARCA_T_OPTIONAL)
			continue;
		int per_layer = strstr(rule->hf, "{i}") != NULL;
		for (uint32_t l = 0; l < (per_layer ? c->n_layers : 1); l++) {
			if ((rule->flags & ARCA_T_DENSE_ONLY) && l >= c->n_dense)
				continue;
			if ((rule->flags & ARCA_T_MOE_ONLY) && l < c->n_dense)
				continue;
			char gguf[128];
			if (rule->tx == ARCA_TX_SPLIT_KV_B)
				snprintf(gguf, sizeof(gguf), "blk.%u.attn_k_b.weight", l);
			else   /* a split's first part stands for all of them */
				arca_arch_expand_part(gguf, sizeof(gguf), rule->gguf, 0, (int)l, 0);
			int found = 0;
			for (size_t i = 0; i < c->n_outs && !found; i++)
				found = !strcmp(c->outs[i].name, gguf);
			if (!found) {
				char hf[160];
				arca_arch_expand(hf, sizeof(hf), rule->hf, (int)l, 0);
				return arca_error_set(ARCA_EINVALID, "the checkpoint has no %s (needed for %s)",
					hf, gguf);
			}
		}
	}
	return ARCA_OK;
}

/* GGUF dims from the HF shape and the transform. */
static arca_err shape_tensor(conv *c, out_tensor *o)
{
	const arca_st_tensor *t = o->parts[0]->t;
	if (o->rule->tx == ARCA_TX_STACK_EXPERTS) {
		if (o->n_parts != c->n_expert)
			return arca_error_set(ARCA_EINVALID, "%s: %zu experts found, config.json says %u",
				o->name, o->n_parts, c->n_expert);
		for (size_t e = 0; e < o->n_parts; e++) {
			const arca_st_tensor *p = o->parts[e] ? o->parts[e]->t : NULL;
			if (!p || p->n_dims != 2 || p->shape[0] != t->shape[0] || p->shape[1] != t->shape[1])
				return arca_error_set(ARCA_EINVALID, "%s: expert %zu is missing or has another "
					"shape", o->name, e);
		}
		o->n_dims = 3;
		o->ne[0] = t->shape[1];
		o->ne[1] = t->shape[0];
		o->ne[2] = o->n_parts;
		o->ne[3] = 1;
		return ARCA_OK;
	}
	if (o->rule->tx == ARCA_TX_SPLIT_KV_B) {
		uint64_t per_head = (uint64_t)c->nope + c->v_head;
		if (t->n_dims != 2 || t->shape[1] != c->kv_lora ||
		    t->shape[0] != (uint64_t)c->n_head * per_head)
			return arca_error_set(ARCA_EINVALID, "%s: kv_b_proj is not [%u x %llu, %u]",
				t->name, c->n_head, (unsigned long long)per_head, c->kv_lora);
		o->n_dims = 3;
		o->ne[0] = o->part ? c->kv_lora : c->nope;
		o->ne[1] = o->part ? c->v_head : c->kv_lora;
		o->ne[2] = c->n_head;
		o->ne[3] = 1;
		return ARCA_OK;
	}
	if (o->rule->tx == ARCA_TX_SPLIT_QKV_GROUPED) {
		uint32_t hd = c->head_dim, kv = c->n_head_kv;
		uint64_t group = kv ? (uint64_t)(c->n_head / kv + 2) * hd : 0;
		if (t->n_dims != 2 || !kv || c->n_head % kv || !hd || hd % 2 ||
		    t->shape[0] != group * kv)
			return arca_error_set(ARCA_EINVALID, "%s: wqkv is not [%u kv heads x (%u + 2) "
				"heads x %u, hidden]", t->name, kv, kv ? c->n_head / kv : 0, hd);
		o->n_dims = 2;
		o->ne[0] = t->shape[1];
		o->ne[1] = (uint64_t)(o->part ? kv : c->n_head) * hd;
		o->ne[2] = o->ne[3] = 1;
		return ARCA_OK;
	}
	if (t->n_dims < 1 || t->n_dims > ARCA_GGUF_MAX_DIMS)
		return arca_error_set(ARCA_EINVALID, "tensor %s has %u dimensions", t->name, t->n_dims);
	o->n_dims = t->n_dims;
	for (uint32_t d = 0; d < ARCA_GGUF_MAX_DIMS; d++)
		o->ne[d] = d < t->n_dims ? t->shape[t->n_dims - 1 - d] : 1;
	if (o->rule->tx == ARCA_TX_PERMUTE_Q || o->rule->tx == ARCA_TX_PERMUTE_K) {
		uint32_t heads = o->rule->tx == ARCA_TX_PERMUTE_Q ? c->n_head : c->n_head_kv;
		uint64_t rows = t->n_dims == 1 ? t->shape[0] : t->shape[0];
		if (!heads || rows % heads || (rows / heads) % 2)
			return arca_error_set(ARCA_EINVALID, "%s: %llu rows do not split into %u heads of "
				"even size", t->name, (unsigned long long)rows, heads);
	}
	return ARCA_OK;
}

static int out_order(const void *a, const void *b)
{
	const out_tensor *x = a, *y = b;
	if (x->layer != y->layer)
		return x->layer < y->layer ? -1 : 1;
	return strcmp(x->name, y->name);
}

static arca_err plan_tensors(conv *c)
{
	arca_err err;
	for (size_t i = 0; i < c->src.n_index; i++)
		if ((err = map_tensor(c, &c->src.index[i])) < 0)
			return err;
	if ((err = check_required(c)) < 0)
		return err;
	for (size_t i = 0; i < c->n_outs; i++)
		if ((err = shape_tensor(c, &c->outs[i])) < 0)
			return err;
	qsort(c->outs, c->n_outs, sizeof(*c->outs), out_order);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ types */

static int source_is_bf16(const conv *c)
{
	for (size_t i = 0; i < c->n_outs; i++)
		if (c->outs[i].n_dims >= 2)
			return c->outs[i].parts[0]->t->dtype == ARCA_ST_BF16;
	return 0;
}

static void assign_types(conv *c, const arca_quant_plan *plan)
{
	arca_quant_context ctx = { .n_layers = c->n_layers, .n_expert = c->n_expert };
	for (size_t i = 0; i < c->n_outs; i++) {
		const char *n = c->outs[i].name;
		ctx.has_output |= !strcmp(n, "output.weight");
		ctx.n_attn_v += strstr(n, "attn_v.weight") || strstr(n, "attn_qkv.weight") ||
			strstr(n, "attn_kv_b.weight");
	}
	ctx.is_70b = c->n_layers == 80 && (!strcmp(c->arch->name, "qwen2") ||
		(!strcmp(c->arch->name, "llama") && c->n_head != c->n_head_kv));
	int attn_v = 0;
	for (size_t i = 0; i < c->n_outs; i++) {
		out_tensor *o = &c->outs[i];
		/* tensors the plan never quantizes (norms, biases, routers) stay F32, as
		 * convert_hf_to_gguf writes them */
		o->type = arca_quant_plan_type(plan, &ctx, o->name, o->n_dims, o->ne[0], ARCA_GGML_F32,
			&attn_v);
		if (o->rule->flags & ARCA_T_F32)
			o->type = ARCA_GGML_F32;
	}
}

/* ------------------------------------------------------------------ rows */

/* LLaMA's Q/K permutation: output position h*hd + 2i + j comes from h*hd + j*(hd/2) + i. */
static uint64_t permuted(uint64_t r, uint64_t hd)
{
	uint64_t h = r / hd, k = r % hd, i = k / 2, j = k % 2;
	return h * hd + j * (hd / 2) + i;
}

/* Fills rows [r0, r0+n) of an output tensor as float32. scratch holds a source row block
 * for the transposing kv_b split. */
static arca_err fill_rows(conv *c, const out_tensor *o, uint64_t r0, uint64_t n, float *dst,
	float *scratch)
{
	const arca_convert__source *src = &c->src;
	uint64_t len = o->ne[0];
	arca_err err = ARCA_OK;
	switch (o->rule->tx) {
	case ARCA_TX_NONE:
		return arca_convert__read_rows(src, o->parts[0], r0, n, dst);
	case ARCA_TX_STACK_EXPERTS: {
		uint64_t per = o->ne[1];
		for (uint64_t r = r0; r < r0 + n && err == ARCA_OK;) {
			uint64_t e = r / per, k = r % per, take = per - k;
			if (take > r0 + n - r)
				take = r0 + n - r;
			err = arca_convert__read_rows(src, o->parts[e], k, take, dst + (r - r0) * len);
			r += take;
		}
		return err;
	}
	case ARCA_TX_PERMUTE_Q:
	case ARCA_TX_PERMUTE_K: {
		uint32_t heads = o->rule->tx == ARCA_TX_PERMUTE_Q ? c->n_head : c->n_head_kv;
		if (o->n_dims == 1) {
			/* a bias: permute its elements */
			if ((err = arca_convert__read_rows(src, o->parts[0], 0, 1, scratch)) < 0)
				return err;
			uint64_t hd = len / heads;
			for (uint64_t k = 0; k < len; k++)
				dst[k] = scratch[permuted(k, hd)];
			return ARCA_OK;
		}
		uint64_t hd = o->ne[1] / heads;
		for (uint64_t r = r0; r < r0 + n && err == ARCA_OK; r++)
			err = arca_convert__read_rows(src, o->parts[0], permuted(r, hd), 1,
				dst + (r - r0) * len);
		return err;
	}
	case ARCA_TX_SPLIT_QKV_GROUPED: {
		/* wqkv rows: group g (a kv head) holds its q_per_kv query heads, its key, its
		 * value, head_dim rows each; q and k rows are then LLaMA-permuted */
		uint64_t hd = c->head_dim, per = c->n_head / c->n_head_kv;
		for (uint64_t r = r0; r < r0 + n && err == ARCA_OK; r++) {
			uint64_t pr = o->part == 2 ? r : permuted(r, hd), h = pr / hd, d = pr % hd;
			uint64_t row = o->part == 0 ? ((h / per) * (per + 2) + h % per) * hd + d :
				(h * (per + 2) + per + (uint64_t)(o->part - 1)) * hd + d;
			err = arca_convert__read_rows(src, o->parts[0], row, 1, dst + (r - r0) * len);
		}
		return err;
	}
	case ARCA_TX_SPLIT_KV_B: {
		uint64_t per_head = (uint64_t)c->nope + c->v_head, kv = c->kv_lora;
		for (uint64_t r = r0; r < r0 + n && err == ARCA_OK; r++) {
			if (o->part) {
				/* attn_v_b row (h, i) = kv_b row h*(nope+v) + nope + i */
				uint64_t h = r / c->v_head, i = r % c->v_head;
				err = arca_convert__read_rows(src, o->parts[0], h * per_head + c->nope + i, 1,
					dst + (r - r0) * len);
			} else {
				/* attn_k_b row (h, col) = column col of head h's nope rows */
				uint64_t h = r / kv, col = r % kv;
				if ((err = arca_convert__read_rows(src, o->parts[0], h * per_head, c->nope,
						scratch)) < 0)
					break;
				for (uint64_t k = 0; k < c->nope; k++)
					dst[(r - r0) * len + k] = scratch[k * kv + col];
			}
		}
		return err;
	}
	}
	return arca_error_set(ARCA_EINVALID, "%s: unknown transform", o->name);
}

static uint64_t tensor_rows(const out_tensor *o)
{
	return o->ne[1] * o->ne[2] * o->ne[3];
}

/* Writes c->outs[index] into the writer's tensor slot `slot` (rope_freqs, when present,
 * takes slot 0 ahead of the outputs). */
static arca_err write_tensor(conv *c, arca_gguf_writer *w, size_t index, size_t slot,
	arca_sink_fn sink, void *ctx)
{
	const out_tensor *o = &c->outs[index];
	uint64_t len = o->ne[0], rows = tensor_rows(o);
	uint64_t slab = SLAB_FLOATS / (len ? len : 1);
	if (slab == 0)
		slab = 1;
	if (o->rule->tx == ARCA_TX_SPLIT_KV_B && !o->part)
		slab = 1;
	uint64_t row_bytes = arca_ggml_row_size(o->type, len);
	uint64_t scratch_floats = o->rule->tx == ARCA_TX_SPLIT_KV_B ?
		(uint64_t)c->nope * c->kv_lora : (o->n_dims == 1 ? len : 1);
	float *f = malloc((slab < rows ? slab : rows) * len * sizeof(float) + 1);
	float *scratch = malloc(scratch_floats * sizeof(float) + 1);
	unsigned char *q = malloc((slab < rows ? slab : rows) * row_bytes + 1);
	arca_err err = f && scratch && q ? arca_gguf_tensor_begin(w, slot) :
		arca_error_set(ARCA_ENOMEM, "convert %s: out of memory", o->name);
	for (uint64_t r = 0; r < rows && err == ARCA_OK; r += slab) {
		uint64_t n = rows - r < slab ? rows - r : slab;
		if ((err = fill_rows(c, o, r, n, f, scratch)) < 0)
			break;
		if ((err = arca_quantize_rows_pool(o->type, f, q, (size_t)n, (size_t)len,
				c->pool)) < 0)
			break;
		if ((err = arca_gguf_tensor_write(w, sink, ctx, q, n * row_bytes)) < 0)
			break;
		c->done += n * len;
		if (c->opts->progress && c->opts->progress(o->name, c->done, c->total,
				c->opts->payload))
			err = arca_error_set(ARCA_EINTERRUPTED, "convert: interrupted");
	}
	if (err == ARCA_OK)
		err = arca_gguf_tensor_end(w, sink, ctx);
	free(f);
	free(scratch);
	free(q);
	return err < 0 ? arca_error_prefix(err, "tensor %s", o->name) : err;
}

/* ------------------------------------------------------------------ metadata */


/* tokenizer.json was refused as unsupported: reads tokenizer.model when the snapshot has
 * one (1), else keeps the refusal's message (0). */
static int has_spm_fallback(conv *c, char **spm, size_t *spm_len)
{
	char refusal[1024];
	snprintf(refusal, sizeof(refusal), "%s", arca_error_last());
	if (arca_convert__source_read_file(&c->src, "tokenizer.model", 256u << 20, spm,
			spm_len) == ARCA_OK)
		return 1;
	arca_error_set(ARCA_EUNSUPPORTED, "%s", refusal);
	return 0;
}

/* Without tokenizer.json: a SentencePiece tokenizer.model, else a tiktoken.model; neither is
 * ARCA_EUNSUPPORTED naming all three files. */
static arca_err read_other_tokenizer(conv *c, char **spm, size_t *spm_len, char **tiktoken,
	size_t *tiktoken_len)
{
	arca_err err = arca_convert__source_read_file(&c->src, "tokenizer.model", 256u << 20,
		spm, spm_len);
	if (err == ARCA_ENOTFOUND)
		err = arca_convert__source_read_file(&c->src, "tiktoken.model", 256u << 20,
			tiktoken, tiktoken_len);
	if (err == ARCA_ENOTFOUND)
		return arca_error_set(ARCA_EUNSUPPORTED, "the snapshot has no tokenizer.json, no "
			"SentencePiece tokenizer.model and no tiktoken.model");
	return err;
}

static arca_err add_metadata(conv *c, arca_gguf_writer *w, const arca_quant_plan *plan,
	int *llama3)
{
	const arca_snapshot *snap = c->src.snap;
	const char *slash = strchr(snap->repo_id, '/');
	arca_err err;
	if ((err = arca_gguf_add_str(w, "general.architecture", c->arch->name)) < 0 ||
	    (err = arca_gguf_add_str(w, "general.type", "model")) < 0 ||
	    (err = arca_gguf_add_str(w, "general.name", slash ? slash + 1 : snap->repo_id)) < 0 ||
	    (err = arca_gguf_add_u32(w, "general.file_type", plan->ftype)) < 0)
		return err;
	int quantized = plan->default_type != ARCA_GGML_F32 &&
		plan->default_type != ARCA_GGML_F16 && plan->default_type != ARCA_GGML_BF16;
	if (quantized && (err = arca_gguf_add_u32(w, "general.quantization_version", 2)) < 0)
		return err;
	if ((err = add_table_kvs(c, w)) < 0)
		return err;
	if (c->arch->hook && (err = c->arch->hook(c->arch, c->src.config, w)) < 0)
		return err;
	if ((err = add_rope_scaling(c, w, llama3)) < 0)
		return err;

	/* tokenizer.json (byte-level BPE); without it, or when it is not byte-level BPE, a
	 * SentencePiece tokenizer.model; else a tiktoken.model (Kimi K2) */
	char *tok = NULL, *tok_config = NULL, *config = NULL, *jinja = NULL, *spm = NULL,
		*tiktoken = NULL, *added = NULL;
	size_t tok_len = 0, spm_len = 0, tiktoken_len = 0;
	err = arca_convert__source_read_file(&c->src, "tokenizer.json", 256u << 20, &tok,
		&tok_len);
	if (err < 0 && err != ARCA_ENOTFOUND)
		goto cleanup;
	if (!tok && (err = read_other_tokenizer(c, &spm, &spm_len, &tiktoken, &tiktoken_len)) < 0)
		goto cleanup;
	if (arca_convert__source_read_file(&c->src, "tokenizer_config.json", 64u << 20,
			&tok_config, NULL) < 0)
		arca_error_clear();
	if (arca_convert__source_read_file(&c->src, "config.json", 64u << 20, &config, NULL) < 0)
		arca_error_clear();
	if (arca_convert__source_read_file(&c->src, "chat_template.jinja", 16u << 20, &jinja,
			NULL) < 0)
		arca_error_clear();
	if (spm && arca_convert__source_read_file(&c->src, "added_tokens.json", 64u << 20,
			&added, NULL) < 0)
		arca_error_clear();
	arca_tokenizer_sources ts = {
		.tokenizer_json = tok, .tokenizer_json_len = tok_len,
		.spm_model = spm, .spm_model_len = spm_len,
		.tiktoken_model = tiktoken, .tiktoken_model_len = tiktoken_len,
		.added_tokens_json = added,
		.tokenizer_config_json = tok_config, .config_json = config, .chat_template = jinja,
		.arch_pre = c->arch->default_pre,
		.vocab_size = config_u32(c->src.config, "vocab_size|padded_vocab_size", 0),
	};
	err = arca_tokenizer_to_gguf(w, &ts);
	if (err == ARCA_EUNSUPPORTED && tok && has_spm_fallback(c, &spm, &spm_len)) {
		/* a tokenizer.json that is not byte-level BPE (Metaspace, Unigram) is refused
		 * before any key is written: the SentencePiece model it was made from serves */
		ts.tokenizer_json = NULL;
		ts.spm_model = spm;
		ts.spm_model_len = spm_len;
		if (arca_convert__source_read_file(&c->src, "added_tokens.json", 64u << 20, &added,
				NULL) < 0)
			arca_error_clear();
		ts.added_tokens_json = added;
		err = arca_tokenizer_to_gguf(w, &ts);
	}
cleanup:
	free(tok);
	free(spm);
	free(tiktoken);
	free(added);
	free(tok_config);
	free(config);
	free(jinja);
	return err;
}

/* ------------------------------------------------------------------ the conversion */

static void free_conv(conv *c)
{
	for (size_t i = 0; i < c->n_outs; i++)
		free(c->outs[i].parts);
	free(c->outs);
	arca_pool_free(c->pool);
	arca_convert__source_close(&c->src);
}

static arca_err read_hparams(conv *c)
{
	json_t *cfg = c->src.config;
	json_t *archs = json_object_get(cfg, "architectures");
	const char *cls = json_string_value(json_array_get(archs, 0));
	if (!cls)
		return arca_error_set(ARCA_EINVALID, "config.json has no \"architectures\"");
	const char *why = arca_arch_refusal(cls);
	if (why)
		return arca_error_set(ARCA_EUNSUPPORTED, "architecture %s cannot be converted: %s",
			cls, why);
	if (!(c->arch = arca_arch_for_hf_class(cls)))
		return arca_error_set(ARCA_EUNSUPPORTED, "architecture %s is not supported; arca "
			"converts %s", cls, arca_arch_supported());
	c->n_layers = config_u32(cfg, "num_hidden_layers|num_layers", 0);
	c->n_head = config_u32(cfg, "num_attention_heads", 0);
	c->n_head_kv = config_u32(cfg, "num_key_value_heads|multi_query_group_num", c->n_head);
	c->n_expert = config_u32(cfg, "num_experts|num_local_experts|n_routed_experts", 0);
	c->n_dense = config_u32(cfg, "first_k_dense_replace", 0);
	c->kv_lora = config_u32(cfg, "kv_lora_rank", 512);
	c->nope = config_u32(cfg, "qk_nope_head_dim", 0);
	c->v_head = config_u32(cfg, "v_head_dim", 0);
	c->head_dim = config_u32(cfg, "head_dim", c->n_head ?
		config_u32(cfg, "hidden_size", 0) / c->n_head : 0);
	if (!c->n_layers || !c->n_head)
		return arca_error_set(ARCA_EINVALID, "config.json: num_hidden_layers and "
			"num_attention_heads are required");
	if (c->n_layers > 100000 || c->n_head > 65536 || c->n_expert > MAX_EXPERTS)
		return arca_error_set(ARCA_EINVALID, "config.json: implausible sizes (%u layers, %u "
			"heads, %u experts)", c->n_layers, c->n_head, c->n_expert);
	return ARCA_OK;
}

static json_t *conversion_params(const conv *c, const arca_quant_plan *plan)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:i}", "to", "gguf", "quant", plan->name, "arch",
		c->arch->name, "source_commit", c->src.snap->commit, "converter", CONVERTER_VERSION);
}

static arca_err write_gguf(conv *c, arca_gguf_writer *w, const float *rope_freqs,
	uint64_t n_freqs, arca_file_digests *digests)
{
	arca_blob_writer_opts bo = ARCA_BLOB_WRITER_OPTS_INIT;
	bo.expect_size = (int64_t)arca_gguf_writer_file_size(w);
	arca_blob_writer *bw;
	arca_err err = arca_blob_writer_new(&bw, c->src.store, &bo);
	if (err < 0)
		return err;
	if ((err = arca_gguf_write_header(w, arca_convert__blob_sink, bw)) == ARCA_OK) {
		size_t first = 0;
		if (rope_freqs) {
			err = arca_gguf_write_tensor_data(w, arca_convert__blob_sink, bw, 0, rope_freqs,
				n_freqs * sizeof(float));
			first = 1;
		}
		for (size_t i = 0; i < c->n_outs && err == ARCA_OK; i++)
			err = write_tensor(c, w, i, i + first, arca_convert__blob_sink, bw);
	}
	if (err == ARCA_OK)
		err = arca_blob_writer_commit(bw, digests);
	arca_blob_writer_free(bw);
	return err;
}

arca_err arca_convert_snapshot_to_gguf(arca_convert_result *out, arca_store *store,
	const arca_snapshot *snap, const arca_convert_opts *opts)
{
	memset(out, 0, sizeof(*out));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	conv c = { .opts = opts };
	arca_gguf_writer *w = NULL;
	json_t *params = NULL;
	float *freqs = NULL;
	uint64_t n_freqs = 0;
	arca_convert__file *inputs = NULL;
	arca_quant_plan plan;
	arca_err err;
	if (strcmp(snap->state, "complete") != 0) {
		err = arca_error_set(ARCA_EINVALID, "the snapshot is incomplete; finish the pull first");
		goto done;
	}
	if ((err = arca_convert__source_open(&c.src, store, snap)) < 0 ||
	    (err = read_hparams(&c)) < 0 || (err = plan_tensors(&c)) < 0)
		goto done;
	if ((err = arca_quant_plan_parse(&plan, opts->quant ? opts->quant :
			source_is_bf16(&c) ? "bf16" : "f16")) < 0)
		goto done;
	snprintf(out->name, sizeof(out->name), "%s", plan.name);
	snprintf(out->arch, sizeof(out->arch), "%s", c.arch->name);
	params = conversion_params(&c, &plan);
	if (arca_convert__find_same(out, store, snap, plan.name, params)) {
		out->n_tensors = c.n_outs;
		goto done;
	}
	assign_types(&c, &plan);
	if ((err = arca_pool_new(&c.pool, opts->threads)) < 0)
		goto done;
	int llama3 = 0;
	if ((err = arca_gguf_writer_new(&w, 32)) < 0 || (err = add_metadata(&c, w, &plan,
			&llama3)) < 0)
		goto done;
	if (llama3) {
		if ((err = llama3_factors(&c, &freqs, &n_freqs)) < 0 ||
		    (err = arca_gguf_add_tensor(w, "rope_freqs.weight", 1, &n_freqs,
				ARCA_GGML_F32)) < 0)
			goto done;
	}
	for (size_t i = 0; i < c.n_outs && err == ARCA_OK; i++) {
		err = arca_gguf_add_tensor(w, c.outs[i].name, c.outs[i].n_dims, c.outs[i].ne,
			c.outs[i].type);
		c.total += tensor_rows(&c.outs[i]) * c.outs[i].ne[0];
		for (size_t p = 0; p < c.outs[i].n_parts; p++)
			if (c.outs[i].part == 0)
				out->input_bytes += c.outs[i].parts[p]->t->end - c.outs[i].parts[p]->t->begin;
	}
	arca_file_digests d;
	if (err < 0 || (err = write_gguf(&c, w, freqs, n_freqs, &d)) < 0)
		goto done;

	/* lineage: every snapshot file the conversion read */
	inputs = calloc(c.src.n_files ? c.src.n_files : 1, sizeof(*inputs));
	if (!inputs) {
		err = arca_error_set(ARCA_ENOMEM, "convert: out of memory");
		goto done;
	}
	for (size_t i = 0; i < c.src.n_files; i++) {
		inputs[i].path = c.src.files[i].path;
		inputs[i].sha256 = c.src.files[i].sha256;
	}
	const char *slash = strchr(snap->repo_id, '/');
	char gguf_name[300];
	snprintf(gguf_name, sizeof(gguf_name), "%s-%s.gguf", slash ? slash + 1 : snap->repo_id,
		plan.name);
	arca_convert__file output = { gguf_name, d.sha256 };
	if ((err = arca_convert__record(&out->artifact, store, snap, "gguf", plan.name, params,
			inputs, c.src.n_files, &output, 1)) < 0)
		goto done;
	memcpy(out->sha256, d.sha256, sizeof(out->sha256));
	out->size = d.size;
	out->n_tensors = c.n_outs + (freqs ? 1 : 0);
done:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	free(inputs);
	free(freqs);
	json_decref(params);
	arca_gguf_writer_free(w);
	free_conv(&c);
	return err;
}
