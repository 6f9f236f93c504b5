/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/session.c — sessions (arca/runtime.h): allocating the KV cache and batch buffers,
 * checking what is fed in, and cutting long inputs into batches for forward.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/quant.h"
#include "runtime/kernels.h"
#include "runtime/session_internal.h"

#define DEFAULT_CTX 4096
#define N_BATCH 512

static float *floats(size_t n)
{
	return malloc((n ? n : 1) * sizeof(float));
}

arca_err arca_session_new(arca_session **out, const arca_model *m, uint32_t n_ctx,
	int n_threads)
{
	arca_session_opts o = ARCA_SESSION_OPTS_INIT;
	o.n_ctx = n_ctx;
	o.n_threads = n_threads;
	o.cache_type = ARCA_GGML_F32;
	return arca_session_new_opts(out, m, &o);
}

arca_err arca_session_new_opts(arca_session **out, const arca_model *m,
	const arca_session_opts *opts)
{
	*out = NULL;
	const arca_model_info *i = &m->info;
	uint32_t n_ctx = opts->n_ctx;
	int n_threads = opts->n_threads;
	if (!arca_cache_type_name(opts->cache_type))
		return arca_error_set(ARCA_EINVALID, "KV cache type %d is not f32, f16 or q8_0",
			opts->cache_type);
	if (!n_ctx)
		n_ctx = i->n_ctx_train && i->n_ctx_train < DEFAULT_CTX ? i->n_ctx_train : DEFAULT_CTX;
	if (n_ctx > (1u << 20))
		return arca_error_set(ARCA_EINVALID, "context of %u tokens is too large", n_ctx);
	arca_session *s = calloc(1, sizeof(*s));
	if (!s)
		return arca_error_set(ARCA_ENOMEM, "session: out of memory");
	s->m = m;
	s->n_ctx = n_ctx;
	s->cache_type = opts->cache_type;
	s->n_batch = N_BATCH < n_ctx ? N_BATCH : n_ctx;
	const arca_rt_mla *mla = &m->mla;
	s->k_dim = (size_t)i->n_head_kv * i->head_dim;
	s->v_dim = (size_t)i->n_head_kv * m->head_dim_v;
	s->q_dim = (size_t)i->n_head * i->head_dim;
	s->att_dim = (size_t)i->n_head * m->head_dim_v;
	arca_err err = arca_pool_new(&s->pool, n_threads);
	if (err < 0) {
		free(s);
		return err;
	}
	if (opts->device >= 0) {
		if (s->cache_type != ARCA_GGML_F16) {
			arca_session_free(s);
			return arca_error_set(ARCA_EINVALID, "the GPU keeps its KV cache in f16 "
				"(--cache-type f16, the default); %s was asked for",
				arca_cache_type_name(opts->cache_type));
		}
		arca_gpu_opts go = { opts->device, opts->gpu_layers, s->n_ctx, s->n_batch };
		if ((err = arca_gpu_open(&s->gpu, m, &go)) < 0) {
			arca_session_free(s);
			return err;
		}
		snprintf(s->kernels, sizeof(s->kernels), "%s%s (%s)", arca_gpu_backend(),
			arca_gpu_blas(s->gpu) ? "+cublas" : "", arca_gpu_device_name(s->gpu));
		s->cache_layer0 = arca_gpu_layers(s->gpu);   /* those keep their cache there */
	}
	size_t cache_layers = i->n_layer - s->cache_layer0;
	size_t B = s->n_batch, cache = cache_layers * n_ctx * s->v_dim;
	size_t wide = s->q_dim > i->n_embd ? s->q_dim : i->n_embd;
	s->kt_stride = (size_t)n_ctx + 16;
	if (s->cache_type == ARCA_GGML_F32) {
		s->k_cache = floats(cache_layers * s->k_dim * s->kt_stride);
		s->v_cache = floats(cache);
	} else if ((err = arca_rt__kv_alloc(s)) < 0) {
		arca_session_free(s);
		return err;
	}
	s->x = floats(B * i->n_embd);
	s->xn = floats(B * wide);
	s->q = floats(B * s->q_dim);
	s->k = floats(B * s->k_dim);
	s->v = floats(B * s->v_dim);
	s->att = floats(B * s->att_dim);
	if (mla->kv_lora) {
		size_t head = mla->nope > mla->kv_lora ? mla->nope : mla->kv_lora;
		head = head > mla->v ? head : mla->v;
		s->mla_q = floats(B * i->n_head * (mla->nope + mla->rope));
		s->mla_lora = floats(B * (mla->q_lora ? mla->q_lora : 1));
		s->head_in = floats(B * head);
		s->head_out = floats(B * head);
		s->att_v = floats(B * i->n_head * mla->v);
	}
	size_t ff = i->n_ff > i->n_ff_exp ? i->n_ff : i->n_ff_exp;
	if ((size_t)i->n_ff_exp * m->moe.n_shared > ff)
		ff = (size_t)i->n_ff_exp * m->moe.n_shared;
	s->gate = floats(B * ff);
	s->up = floats(B * ff);
	size_t K = i->n_expert_used ? i->n_expert_used : 1;
	s->router = floats(B * (i->n_expert ? i->n_expert : 1));
	s->moe_w = floats(B * K);
	s->moe_tw = floats(B);
	s->moe_x = floats(B * i->n_embd);
	s->moe_y = floats(B * i->n_embd);
	s->moe_sel = malloc(B * K * sizeof(uint32_t));
	s->moe_tok = malloc(B * sizeof(uint32_t));
	s->ffn_out = floats(B * i->n_embd);
	s->rope_cos = floats(B * i->n_rot / 2);
	s->rope_sin = floats(B * i->n_rot / 2);
	int f32_cache = s->cache_type == ARCA_GGML_F32;
	/* the narrow caches keep their softmax online (kv_attend.c): no scores per context */
	s->scores = floats(f32_cache ? (size_t)arca_pool_threads(s->pool) * n_ctx *
		(i->n_head / i->n_head_kv) : 1);
	s->act_cap = arca_rt__act_bytes(m, B);
	s->act = malloc(s->act_cap ? s->act_cap : 1);
	if ((f32_cache && (!s->k_cache || !s->v_cache)) || !s->x || !s->xn || !s->q || !s->k || !s->v || !s->att ||
	    !s->gate || !s->up || !s->ffn_out || !s->rope_cos || !s->rope_sin || !s->scores ||
	    !s->act || !s->router || !s->moe_w || !s->moe_tw || !s->moe_x || !s->moe_y ||
	    !s->moe_sel || !s->moe_tok || (mla->kv_lora && (!s->mla_q || !s->mla_lora ||
	    !s->head_in || !s->head_out || !s->att_v))) {
		arca_session_free(s);
		return arca_error_set(ARCA_ENOMEM, "session: out of memory for a context of %u "
			"tokens", n_ctx);
	}
	*out = s;
	return ARCA_OK;
}

void arca_session_free(arca_session *s)
{
	if (!s)
		return;
	arca_pool_free(s->pool);
	arca_gpu_free(s->gpu);
	free(s->k_cache);
	free(s->v_cache);
	arca_rt__kv_free(s);
	free(s->x);
	free(s->xn);
	free(s->q);
	free(s->k);
	free(s->v);
	free(s->att);
	free(s->gate);
	free(s->up);
	free(s->ffn_out);
	free(s->rope_cos);
	free(s->rope_sin);
	free(s->scores);
	free(s->router);
	free(s->moe_w);
	free(s->moe_tw);
	free(s->moe_x);
	free(s->moe_y);
	free(s->moe_sel);
	free(s->moe_tok);
	free(s->act);
	free(s->logits);
	free(s->mla_q);
	free(s->mla_lora);
	free(s->head_in);
	free(s->head_out);
	free(s->att_v);
	free(s);
}

arca_err arca_session_eval(arca_session *s, const int32_t *ids, size_t n, int all_logits,
	const float **logits)
{
	const arca_model_info *info = &s->m->info;
	if (!n)
		return arca_error_set(ARCA_EINVALID, "nothing to evaluate (no tokens)");
	if (n > s->n_ctx - s->n_past)
		return arca_error_set(ARCA_EINVALID, "%zu tokens do not fit: %u of the context's %u "
			"are used", n, s->n_past, s->n_ctx);
	for (size_t t = 0; t < n; t++)
		if (ids[t] < 0 || (uint32_t)ids[t] >= info->n_vocab)
			return arca_error_set(ARCA_EINVALID, "token id %d is outside the vocabulary "
				"(0..%u)", ids[t], info->n_vocab - 1);
	size_t need = (all_logits ? n : 1) * (size_t)info->n_vocab;
	if (need > s->logits_cap) {
		float *p = realloc(s->logits, need * sizeof(float));
		if (!p)
			return arca_error_set(ARCA_ENOMEM, "out of memory for %zu logits", need);
		s->logits = p;
		s->logits_cap = need;
	}
	float *all = s->logits;
	for (size_t done = 0; done < n;) {
		size_t b = n - done < s->n_batch ? n - done : s->n_batch;
		int last = done + b == n;
		if (all_logits) {
			/* each batch's logits land after the previous ones */
			s->logits = all + done * info->n_vocab;
		}
		arca_err err = arca_rt__forward(s, ids + done, b, all_logits ? ARCA_RT_LOGITS_ALL :
			last ? ARCA_RT_LOGITS_LAST : ARCA_RT_LOGITS_NONE);
		s->logits = all;
		if (err < 0)
			return err;
		done += b;
	}
	*logits = all;
	return ARCA_OK;
}

uint32_t arca_session_n_past(const arca_session *s)
{
	return s->n_past;
}

uint32_t arca_session_n_ctx(const arca_session *s)
{
	return s->n_ctx;
}

const arca_model_info *arca_session_model_info(const arca_session *s)
{
	return &s->m->info;
}

int arca_session_threads(const arca_session *s)
{
	return arca_pool_threads(s->pool);
}

void arca_session_truncate(arca_session *s, uint32_t n)
{
	if (n < s->n_past)
		s->n_past = n;
}

const char *arca_session_device_name(const arca_session *s)
{
	return s->gpu ? arca_gpu_device_name(s->gpu) : NULL;
}

const char *arca_session_gpu_products(const arca_session *s)
{
	return s->gpu ? arca_gpu_products(s->gpu) : NULL;
}

uint32_t arca_session_gpu_layers(const arca_session *s)
{
	return s->gpu ? arca_gpu_layers(s->gpu) : 0;
}

const char *arca_session_kernels(const arca_session *s)
{
	return s->gpu ? s->kernels : arca_rt_kernel_name();
}

const char *arca_runtime_gpu_backend(void)
{
	return arca_gpu_backend();
}

const char *arca_runtime_kernels(void)
{
	return arca_rt_kernel_name();
}
