/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/model.c — binding a GGUF to a runnable model: hyperparameters from the metadata,
 * the tensors the architecture table (arca/arch.h) lists checked for presence, every role
 * the forward pass uses checked for shape and type. Zero copy: views into the mapping.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/quant.h"
#include "runtime/kernels.h"
#include "runtime/model_internal.h"

/* Shapes in units of the hyperparameters: ne0 × ne1 (ne1 = 1 for vectors). */
typedef enum { D_ONE, D_EMBD, D_FF, D_Q, D_KV, D_HEAD, D_VOCAB, D_EXPERT, D_FF_EXP } dim;

/* NEED_DENSE: the FFN of dense architectures; NEED_MOE: the experts of MoE ones. */
typedef enum { NEED_ALWAYS, NEED_BIAS, NEED_QK_NORM, NEED_DENSE, NEED_MOE } need;

typedef struct {
	const char *name;      /* GGUF name pattern, {i} = layer */
	size_t offset;         /* in arca_rt_layer */
	dim ne0, ne1;
	int matrix;            /* multiplied (any supported type) rather than read as F32 */
	need when;
	dim ne2;               /* stacked experts; D_ONE for plain matrices and vectors */
} role;

#define R(field) offsetof(arca_rt_layer, field)
static const role layer_roles[] = {
	{ "blk.{i}.attn_norm.weight", R(attn_norm), D_EMBD, D_ONE, 0, NEED_ALWAYS, D_ONE },
	{ "blk.{i}.attn_q.weight", R(wq), D_EMBD, D_Q, 1, NEED_ALWAYS, D_ONE },
	{ "blk.{i}.attn_k.weight", R(wk), D_EMBD, D_KV, 1, NEED_ALWAYS, D_ONE },
	{ "blk.{i}.attn_v.weight", R(wv), D_EMBD, D_KV, 1, NEED_ALWAYS, D_ONE },
	{ "blk.{i}.attn_q.bias", R(bq), D_Q, D_ONE, 0, NEED_BIAS, D_ONE },
	{ "blk.{i}.attn_k.bias", R(bk), D_KV, D_ONE, 0, NEED_BIAS, D_ONE },
	{ "blk.{i}.attn_v.bias", R(bv), D_KV, D_ONE, 0, NEED_BIAS, D_ONE },
	{ "blk.{i}.attn_output.weight", R(wo), D_Q, D_EMBD, 1, NEED_ALWAYS, D_ONE },
	{ "blk.{i}.attn_q_norm.weight", R(q_norm), D_HEAD, D_ONE, 0, NEED_QK_NORM, D_ONE },
	{ "blk.{i}.attn_k_norm.weight", R(k_norm), D_HEAD, D_ONE, 0, NEED_QK_NORM, D_ONE },
	{ "blk.{i}.ffn_norm.weight", R(ffn_norm), D_EMBD, D_ONE, 0, NEED_ALWAYS, D_ONE },
	{ "blk.{i}.ffn_gate.weight", R(gate), D_EMBD, D_FF, 1, NEED_DENSE, D_ONE },
	{ "blk.{i}.ffn_up.weight", R(up), D_EMBD, D_FF, 1, NEED_DENSE, D_ONE },
	{ "blk.{i}.ffn_down.weight", R(down), D_FF, D_EMBD, 1, NEED_DENSE, D_ONE },
	{ "blk.{i}.ffn_gate_inp.weight", R(gate_inp), D_EMBD, D_EXPERT, 1, NEED_MOE, D_ONE },
	{ "blk.{i}.ffn_gate_exps.weight", R(gate_exps), D_EMBD, D_FF_EXP, 1, NEED_MOE, D_EXPERT },
	{ "blk.{i}.ffn_up_exps.weight", R(up_exps), D_EMBD, D_FF_EXP, 1, NEED_MOE, D_EXPERT },
	{ "blk.{i}.ffn_down_exps.weight", R(down_exps), D_FF_EXP, D_EMBD, 1, NEED_MOE, D_EXPERT },
};
#undef R
#define N_ROLES (sizeof(layer_roles) / sizeof(layer_roles[0]))

/* Architectures the forward pass implements (the converter knows more). */
static const char *const runnable[] = { "qwen2", "qwen3", "llama", "qwen3moe", NULL };

static uint64_t dim_value(const arca_model_info *i, dim d)
{
	switch (d) {
	case D_ONE: return 1;
	case D_EMBD: return i->n_embd;
	case D_FF: return i->n_ff;
	case D_Q: return (uint64_t)i->n_head * i->head_dim;
	case D_KV: return (uint64_t)i->n_head_kv * i->head_dim;
	case D_HEAD: return i->head_dim;
	case D_VOCAB: return i->n_vocab;
	case D_EXPERT: return i->n_expert;
	case D_FF_EXP: return i->n_ff_exp;
	}
	return 0;
}

static arca_err get_u32(const arca_gguf *g, const char *what, const char *arch,
	const char *key, uint32_t *out, int required)
{
	char full[128];
	snprintf(full, sizeof(full), "%s.%s", arch, key);
	arca_err err = arca_gguf_get_u32(g, full, out);
	if (err == ARCA_ENOTFOUND && !required) {
		arca_error_clear();
		return ARCA_OK;
	}
	if (err < 0)
		return arca_error_prefix(err, "%s: cannot run it", what);
	return ARCA_OK;
}

static arca_err get_f32(const arca_gguf *g, const char *what, const char *arch,
	const char *key, float *out, float fallback)
{
	char full[128];
	snprintf(full, sizeof(full), "%s.%s", arch, key);
	arca_err err = arca_gguf_get_f32(g, full, out);
	if (err == ARCA_ENOTFOUND) {
		arca_error_clear();
		*out = fallback;
		return ARCA_OK;
	}
	return err < 0 ? arca_error_prefix(err, "%s: cannot run it", what) : ARCA_OK;
}

static arca_err read_info(arca_model_info *i, const arca_gguf *g, const char *what)
{
	const char *a = i->arch;
	arca_err err;
	i->n_head_kv = 0;
	i->head_dim = 0;
	i->n_rot = 0;
	if ((err = get_u32(g, what, a, "block_count", &i->n_layer, 1)) < 0 ||
	    (err = get_u32(g, what, a, "embedding_length", &i->n_embd, 1)) < 0 ||
	    (err = get_u32(g, what, a, "feed_forward_length", &i->n_ff, 1)) < 0 ||
	    (err = get_u32(g, what, a, "attention.head_count", &i->n_head, 1)) < 0 ||
	    (err = get_u32(g, what, a, "attention.head_count_kv", &i->n_head_kv, 0)) < 0 ||
	    (err = get_u32(g, what, a, "attention.key_length", &i->head_dim, 0)) < 0 ||
	    (err = get_u32(g, what, a, "rope.dimension_count", &i->n_rot, 0)) < 0 ||
	    (err = get_u32(g, what, a, "context_length", &i->n_ctx_train, 1)) < 0 ||
	    (err = get_f32(g, what, a, "attention.layer_norm_rms_epsilon", &i->rms_eps, 1e-6f)) < 0 ||
	    (err = get_f32(g, what, a, "rope.freq_base", &i->rope_base, 10000.0f)) < 0)
		return err;
	if (!i->n_head_kv)
		i->n_head_kv = i->n_head;
	if (!i->n_layer || i->n_layer > 4096 || !i->n_embd || !i->n_ff || !i->n_head ||
	    i->n_head > 4096 || i->n_head % i->n_head_kv)
		return arca_error_set(ARCA_EINVALID, "%s: impossible hyperparameters (%u layers, "
			"%u embedding, %u heads, %u kv heads)", what, i->n_layer, i->n_embd, i->n_head,
			i->n_head_kv);
	if (!i->head_dim) {
		if (i->n_embd % i->n_head)
			return arca_error_set(ARCA_EINVALID, "%s: embedding %u is not a multiple of %u "
				"heads and no key_length is given", what, i->n_embd, i->n_head);
		i->head_dim = i->n_embd / i->n_head;
	}
	if (!i->n_rot)
		i->n_rot = i->head_dim;
	if (i->n_rot > i->head_dim || i->n_rot % 2 || i->head_dim > 1024)
		return arca_error_set(ARCA_EINVALID, "%s: RoPE over %u of %u head dimensions", what,
			i->n_rot, i->head_dim);
	i->rope_freq_scale = 1.0f;
	char key[96], *scaling = NULL;
	snprintf(key, sizeof(key), "%s.rope.scaling.type", a);
	if (arca_gguf_get_str(g, key, &scaling) == ARCA_OK) {
		float factor = 1.0f;
		arca_err ferr = get_f32(g, what, a, "rope.scaling.factor", &factor, 1.0f);
		int linear = !strcmp(scaling, "linear"), none = !strcmp(scaling, "none");
		arca_err e = ARCA_OK;
		if (ferr < 0)
			e = ferr;
		else if (!linear && !none)
			e = arca_error_set(ARCA_EUNSUPPORTED, "%s: RoPE scaling '%.20s' is not in the "
				"runtime yet (none, linear and llama3's rope_freqs are)", what, scaling);
		else if (linear && !(factor > 0))
			e = arca_error_set(ARCA_EINVALID, "%s: linear RoPE scaling factor %g", what,
				(double)factor);
		else if (linear)
			i->rope_freq_scale = 1.0f / factor;
		free(scaling);
		if (e < 0)
			return e;
	} else {
		arca_error_clear();
	}
	if (!(i->rms_eps > 0) || !(i->rope_base > 0))
		return arca_error_set(ARCA_EINVALID, "%s: rms epsilon and rope base must be positive",
			what);
	return ARCA_OK;
}

/* The experts of a mixture-of-experts architecture: how many, how many per token, their
 * FFN width. */
static arca_err read_moe_info(arca_model_info *i, const arca_gguf *g, const char *what)
{
	const char *a = i->arch;
	arca_err err;
	if ((err = get_u32(g, what, a, "expert_count", &i->n_expert, 1)) < 0 ||
	    (err = get_u32(g, what, a, "expert_used_count", &i->n_expert_used, 1)) < 0 ||
	    (err = get_u32(g, what, a, "expert_feed_forward_length", &i->n_ff_exp, 1)) < 0)
		return err;
	if (!i->n_expert || i->n_expert > 1024 || !i->n_expert_used ||
	    i->n_expert_used > i->n_expert || !i->n_ff_exp)
		return arca_error_set(ARCA_EINVALID, "%s: impossible experts (%u, %u per token, "
			"width %u)", what, i->n_expert, i->n_expert_used, i->n_ff_exp);
	return ARCA_OK;
}

/* "a x b", or "a x b x c" for stacked matrices. */
static void shape_text(char *buf, size_t cap, uint64_t a, uint64_t b, uint64_t c)
{
	if (c > 1)
		snprintf(buf, cap, "%llu x %llu x %llu", (unsigned long long)a, (unsigned long long)b,
			(unsigned long long)c);
	else
		snprintf(buf, cap, "%llu x %llu", (unsigned long long)a, (unsigned long long)b);
}

/* Binds one tensor, checking its shape (ne0 × ne1, × ne2 stacked experts) and type. */
static arca_err bind3(arca_rt_tensor *out, const arca_gguf *g, const char *what,
	const char *name, uint64_t ne0, uint64_t ne1, uint64_t ne2, int matrix, int required)
{
	memset(out, 0, sizeof(*out));
	const arca_gguf_tensor *t = arca_gguf_find_tensor(g, name);
	if (!t) {
		if (required)
			return arca_error_set(ARCA_EINVALID, "%s: tensor %s is missing", what, name);
		return ARCA_OK;
	}
	uint64_t t_ne1 = t->n_dims > 1 ? t->ne[1] : 1, t_ne2 = t->n_dims > 2 ? t->ne[2] : 1;
	if (t->n_dims > 3 || t->ne[0] != ne0 || t_ne1 != ne1 || t_ne2 != ne2) {
		char got[64], want[64];
		shape_text(got, sizeof(got), t->ne[0], t_ne1, t->n_dims > 2 ? t_ne2 : 1);
		shape_text(want, sizeof(want), ne0, ne1, ne2);
		return arca_error_set(ARCA_EINVALID, "%s: tensor %s is %s%s, expected %s", what, name,
			got, t->n_dims > 3 ? " (more than 3-D)" : "", want);
	}
	const arca_ggml_type_info *ti = arca_ggml_type_info_get(t->type);
	int ok = matrix ? arca_rt_weight_supported(t->type) : t->type == ARCA_GGML_F32;
	if (!ok)
		return arca_error_set(ARCA_EUNSUPPORTED, "%s: tensor %s is %s; the runtime %s", what,
			name, ti ? ti->name : "an unknown type", matrix ? "multiplies F32, F16, BF16, "
			"Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 and Q2_K..Q6_K matrices" : "reads norms and biases as "
			"F32");
	out->data = arca_gguf_tensor_data(g, t);
	out->type = t->type;
	out->ne0 = ne0;
	out->ne1 = ne1;
	out->ne2 = ne2;
	out->row_bytes = (size_t)arca_ggml_row_size(t->type, ne0);
	return ARCA_OK;
}

static arca_err bind(arca_rt_tensor *out, const arca_gguf *g, const char *what,
	const char *name, uint64_t ne0, uint64_t ne1, int matrix, int required)
{
	return bind3(out, g, what, name, ne0, ne1, 1, matrix, required);
}

/* Every tensor the converter's table requires must be in the file (a check independent
 * of the roles above: a table and the runtime disagreeing is caught here). */
static arca_err check_table(const arca_model *m, const arca_gguf *g, const char *what)
{
	for (const arca_arch_tensor *t = m->arch->tensors; t->gguf; t++) {
		if (t->flags & ARCA_T_OPTIONAL)
			continue;
		int per_layer = strstr(t->gguf, "{i}") != NULL;
		uint32_t n = per_layer ? m->info.n_layer : 1;
		for (uint32_t l = 0; l < n; l++) {
			char name[ARCA_GGUF_NAME_MAX + 1];
			if (arca_arch_expand(name, sizeof(name), t->gguf, (int)l, 0) >= (int)sizeof(name))
				continue;
			if (!arca_gguf_find_tensor(g, name))
				return arca_error_set(ARCA_EINVALID, "%s: tensor %s is missing (%s needs it)",
					what, name, m->arch->name);
		}
	}
	return ARCA_OK;
}

static void count_types(arca_model *m, const arca_gguf *g)
{
	int counts[64] = { 0 };
	const arca_gguf_tensor *t;
	for (size_t i = 0; (t = arca_gguf_tensor_at(g, i)); i++) {
		if (t->type >= 0 && t->type < 64)
			counts[t->type]++;
		uint64_t n = 1;
		for (uint32_t d = 0; d < t->n_dims; d++)
			n *= t->ne[d];
		m->info.n_params += n;
	}
	size_t used = 0;
	for (int ty = 0; ty < 64; ty++) {
		const arca_ggml_type_info *ti = arca_ggml_type_info_get(ty);
		if (!counts[ty] || !ti || used + 24 >= sizeof(m->info.weight_types))
			continue;
		used += (size_t)snprintf(m->info.weight_types + used,
			sizeof(m->info.weight_types) - used, "%s%s x%d", used ? ", " : "", ti->name,
			counts[ty]);
	}
}

/* What a decoded token reads of a tensor: of stacked experts, the share it uses. */
static uint64_t tensor_bytes(const arca_rt_tensor *t, const arca_model_info *i)
{
	if (!t->data)
		return 0;
	uint64_t bytes = t->row_bytes * t->ne1;
	return t->ne2 > 1 ? bytes * i->n_expert_used : bytes;
}

arca_err arca_model_load(arca_model **out, const arca_gguf *g, const char *what)
{
	*out = NULL;
	char *arch_name = NULL;
	arca_err err = arca_gguf_get_str(g, "general.architecture", &arch_name);
	if (err < 0)
		return arca_error_prefix(err, "%s: not a model", what);
	arca_model *m = calloc(1, sizeof(*m));
	if (!m) {
		free(arch_name);
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
	}
	snprintf(m->info.arch, sizeof(m->info.arch), "%s", arch_name);
	int ok = 0;
	for (size_t i = 0; runnable[i]; i++)
		ok |= !strcmp(runnable[i], arch_name);
	m->arch = arca_arch_for_gguf(arch_name);
	if (!ok || !m->arch) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "%s: architecture '%.40s' cannot be run "
			"(the runtime runs qwen2, qwen3, llama and qwen3moe)", what, arch_name);
		free(arch_name);
		goto fail;
	}
	free(arch_name);
	arca_model_info *info = &m->info;
	info->rope_neox = m->arch->rope == ARCA_ROPE_NEOX;
	int moe = (m->arch->features & ARCA_ARCH_MOE) != 0;
	if ((err = read_info(info, g, what)) < 0 ||
	    (moe && (err = read_moe_info(info, g, what)) < 0) ||
	    (err = check_table(m, g, what)) < 0)
		goto fail;
	const arca_gguf_tensor *emb = arca_gguf_find_tensor(g, "token_embd.weight");
	if (!emb || emb->n_dims != 2 || !emb->ne[1] || emb->ne[1] > (1u << 24)) {
		err = arca_error_set(ARCA_EINVALID, "%s: token_embd.weight is missing, not 2-D or "
			"has an impossible vocabulary", what);
		goto fail;
	}
	info->n_vocab = (uint32_t)emb->ne[1];
	m->layers = calloc(info->n_layer, sizeof(*m->layers));
	if (!m->layers) {
		err = arca_error_set(ARCA_ENOMEM, "%s: out of memory", what);
		goto fail;
	}
	/* token_embd rows are dequantized one at a time, so any type with a decoder works */
	if ((err = bind(&m->tok_embd, g, what, "token_embd.weight", info->n_embd, info->n_vocab,
			1, 1)) < 0 ||
	    (err = bind(&m->out_norm, g, what, "output_norm.weight", info->n_embd, 1, 0, 1)) < 0 ||
	    (err = bind(&m->output, g, what, "output.weight", info->n_embd, info->n_vocab, 1, 0)) < 0)
		goto fail;
	info->tied_embeddings = m->output.data == NULL;
	if ((err = bind(&m->rope_freqs, g, what, "rope_freqs.weight", info->n_rot / 2, 1, 0,
			0)) < 0)
		goto fail;
	unsigned features = m->arch->features;
	for (uint32_t l = 0; l < info->n_layer; l++) {
		for (size_t r = 0; r < N_ROLES; r++) {
			const role *ro = &layer_roles[r];
			int required = ro->when == NEED_ALWAYS ||
				(ro->when == NEED_QK_NORM && (features & ARCA_ARCH_QK_NORM)) ||
				(ro->when == NEED_DENSE && !moe) || (ro->when == NEED_MOE && moe);
			if ((ro->when == NEED_QK_NORM && !(features & ARCA_ARCH_QK_NORM)) ||
			    (ro->when == NEED_DENSE && moe) || (ro->when == NEED_MOE && !moe))
				continue;
			char name[ARCA_GGUF_NAME_MAX + 1];
			arca_arch_expand(name, sizeof(name), ro->name, (int)l, 0);
			arca_rt_tensor *slot = (arca_rt_tensor *)((char *)&m->layers[l] + ro->offset);
			if ((err = bind3(slot, g, what, name, dim_value(info, ro->ne0),
					dim_value(info, ro->ne1), dim_value(info, ro->ne2), ro->matrix,
					required)) < 0)
				goto fail;
			info->weight_bytes += tensor_bytes(slot, info);
		}
	}
	info->weight_bytes += tensor_bytes(&m->out_norm, info) +
		tensor_bytes(info->tied_embeddings ? &m->tok_embd : &m->output, info);
	count_types(m, g);
	*out = m;
	return ARCA_OK;
fail:
	arca_model_free(m);
	return err;
}

void arca_model_free(arca_model *m)
{
	if (!m)
		return;
	free(m->layers);
	free(m);
}

const arca_model_info *arca_model_get_info(const arca_model *m)
{
	return &m->info;
}
