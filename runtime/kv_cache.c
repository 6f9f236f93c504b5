/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kv_cache.c — the KV cache in a narrower type than F32: F16 (llama.cpp's default)
 * or Q8_0 (blocks of 32 int8 with an fp16 scale), as llama.cpp's --cache-type-k/-v offer.
 * Keys and values are stored head-major, one row of the type per layer, kv head and position
 * ([layer][kv head][n_ctx] rows of head_dim and head_dim_v elements), written as each
 * token's k and v are made: a tile of one head's positions is then one run of memory,
 * which the hardware prefetcher follows (rows of all heads side by side left each head's
 * slices 128 bytes apart in 256, and a generated token's attention waited on memory).
 * Attention over them is kv_attend.c's.
 *
 * The F32 cache (forward.c, keys channel-major) is untouched by this file: its results are
 * the ones the float64 reference and the batch-equals-token-by-token checks hold to.
 */
#include <stdlib.h>
#include <string.h>

#include "arca/ggml_blocks.h"
#include "arca/quant.h"
#include "runtime/session_internal.h"

arca_err arca_rt__kv_alloc(arca_session *s)
{
	const arca_model_info *in = &s->m->info;
	size_t hd = in->head_dim, hv = s->m->head_dim_v;
	int type = s->cache_type;
	if (type != ARCA_GGML_F16 && type != ARCA_GGML_Q8_0)
		return arca_error_set(ARCA_EINVALID, "KV cache type %d is not F32, F16 or Q8_0",
			type);
	if (type == ARCA_GGML_Q8_0 && (hd % 32 || hv % 32))
		return arca_error_set(ARCA_EINVALID, "a q8_0 KV cache needs head widths that are "
			"multiples of 32 (this model's keys are %zu wide, its values %zu)", hd, hv);
	s->k_row = (size_t)arca_ggml_row_size(type, hd);
	s->v_row = (size_t)arca_ggml_row_size(type, hv);
	size_t rows = (size_t)(in->n_layer - s->cache_layer0) * in->n_head_kv * s->n_ctx;
	s->tile_floats = arca_rt__kv_scratch_floats(s);
	size_t chunks = s->n_ctx / ((size_t)KV_CHUNK_TILES * KV_TILE) + 1;
	s->kq_cache = malloc(rows * s->k_row + 1);
	s->vq_cache = malloc(rows * s->v_row + 1);
	s->kv_tile = malloc((size_t)arca_pool_threads(s->pool) * s->tile_floats * sizeof(float));
	s->kv_part = malloc(chunks * in->n_head * (hv + 2) * sizeof(float));
	if (!s->kq_cache || !s->vq_cache || !s->kv_tile || !s->kv_part)
		return arca_error_set(ARCA_ENOMEM, "session: out of memory for a %s KV cache of %u "
			"tokens", arca_cache_type_name(type), s->n_ctx);
	return ARCA_OK;
}

void arca_rt__kv_free(arca_session *s)
{
	free(s->kq_cache);
	free(s->vq_cache);
	free(s->kv_tile);
	free(s->kv_part);
}

void arca_rt__kv_write(arca_session *s, uint32_t layer, size_t pos, const float *k,
	const float *v)
{
	const arca_model_info *in = &s->m->info;
	size_t hd = in->head_dim, hv = s->m->head_dim_v;
	for (size_t g = 0; g < in->n_head_kv; g++) {
		size_t row = ((size_t)(layer - s->cache_layer0) * in->n_head_kv + g) * s->n_ctx + pos;
		/* head widths are whole blocks (kv_alloc checked): these cannot fail */
		(void)arca_quantize_rows(s->cache_type, k + g * hd,
			(char *)s->kq_cache + row * s->k_row, 1, hd);
		(void)arca_quantize_rows(s->cache_type, v + g * hv,
			(char *)s->vq_cache + row * s->v_row, 1, hv);
	}
}

/* ------------------------------------------------------------------ names and sizes */

static const struct {
	const char *name;
	int type;
} cache_types[] = {
	{ "f32", ARCA_GGML_F32 },
	{ "f16", ARCA_GGML_F16 },
	{ "q8_0", ARCA_GGML_Q8_0 },
};

arca_err arca_cache_type_parse(int *out, const char *name)
{
	for (size_t i = 0; i < sizeof(cache_types) / sizeof(cache_types[0]); i++) {
		if (!strcmp(name, cache_types[i].name)) {
			*out = cache_types[i].type;
			return ARCA_OK;
		}
	}
	return arca_error_set(ARCA_EINVALID, "unknown KV cache type '%s' (f32, f16 or q8_0)",
		name);
}

const char *arca_cache_type_name(int cache_type)
{
	for (size_t i = 0; i < sizeof(cache_types) / sizeof(cache_types[0]); i++)
		if (cache_types[i].type == cache_type)
			return cache_types[i].name;
	return NULL;
}

int arca_session_cache_type(const arca_session *s)
{
	return s->cache_type;
}

/* What kv_alloc (narrow types) and session.c (F32: keys channel-major, kt_stride per
 * channel) allocate for the layers the CPU runs. */
uint64_t arca_session_kv_host_bytes(const arca_session *s)
{
	uint64_t layers = s->m->info.n_layer - s->cache_layer0;
	if (s->cache_type == ARCA_GGML_F32)
		return layers * ((uint64_t)s->k_dim * s->kt_stride + (uint64_t)s->n_ctx * s->v_dim) *
			sizeof(float);
	return layers * s->m->info.n_head_kv * s->n_ctx * (uint64_t)(s->k_row + s->v_row);
}

uint64_t arca_session_kv_bytes_per_token(const arca_session *s)
{
	return (uint64_t)s->m->info.n_layer * (arca_ggml_row_size(s->cache_type, s->k_dim) +
		arca_ggml_row_size(s->cache_type, s->v_dim));
}
