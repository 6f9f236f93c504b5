/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kv_cache.c — the KV cache in a narrower type than F32: F16 (llama.cpp's default)
 * or Q8_0 (blocks of 32 int8 with an fp16 scale), as llama.cpp's --cache-type-k/-v offer.
 * Keys and values are stored position-major, one row of the type per layer and position
 * ([layer][n_ctx] rows of k_dim and v_dim elements), written as each token's k and v are
 * made. Attention reads them a tile at a time: a thread takes one token and one kv head,
 * dequantizes KV_TILE positions of that head's keys into float (transposed, so 16 keys
 * take one vector step, as forward.c's F32 keys), scores every query head of
 * the group against them, and after the softmax does the same with the values — so each
 * cached row is decoded once per token and kv head, not once per query head, and the
 * memory a thread touches stays KV_TILE rows whatever the context length.
 *
 * The F32 cache (forward.c, keys channel-major) is untouched by this file: its results are
 * the ones the float64 reference and the batch-equals-token-by-token checks hold to.
 */
#include <stdlib.h>
#include <string.h>

#include "arca/ggml_blocks.h"
#include "arca/quant.h"
#include "runtime/ops.h"
#include "runtime/session_internal.h"

#define KV_TILE 64   /* a multiple of 16 */

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
	s->k_row = (size_t)arca_ggml_row_size(type, s->k_dim);
	s->v_row = (size_t)arca_ggml_row_size(type, s->v_dim);
	size_t rows = (size_t)in->n_layer * s->n_ctx;
	s->tile_floats = (size_t)(KV_TILE + 1) * (hd > hv ? hd : hv);   /* the tile and a row */
	s->kq_cache = malloc(rows * s->k_row + 1);
	s->vq_cache = malloc(rows * s->v_row + 1);
	s->kv_tile = malloc((size_t)arca_pool_threads(s->pool) * s->tile_floats * sizeof(float));
	if (!s->kq_cache || !s->vq_cache || !s->kv_tile)
		return arca_error_set(ARCA_ENOMEM, "session: out of memory for a %s KV cache of %u "
			"tokens", arca_cache_type_name(type), s->n_ctx);
	return ARCA_OK;
}

void arca_rt__kv_free(arca_session *s)
{
	free(s->kq_cache);
	free(s->vq_cache);
	free(s->kv_tile);
}

void arca_rt__kv_write(arca_session *s, uint32_t layer, size_t pos, const float *k,
	const float *v)
{
	size_t row = (size_t)layer * s->n_ctx + pos;
	/* both widths are whole blocks (kv_alloc checked): these cannot fail */
	(void)arca_quantize_rows(s->cache_type, k, (char *)s->kq_cache + row * s->k_row, 1,
		s->k_dim);
	(void)arca_quantize_rows(s->cache_type, v, (char *)s->vq_cache + row * s->v_row, 1,
		s->v_dim);
}

typedef struct {
	arca_session *s;
	uint32_t layer;
	size_t nb;
} kv_job;

/* IEEE half to float, exactly, in integer and float steps the vectorizer widens (no table,
 * no call): the exponent and mantissa moved into place and rescaled by 2^112, which also
 * makes subnormals right; infinities and NaNs get the all-ones exponent back. */
static inline float half_to_float(uint16_t h)
{
	uint32_t em = h & 0x7fffu, sign = (uint32_t)(h & 0x8000u) << 16;
	union { uint32_t u; float f; } v = { em << 13 };
	v.f *= 0x1p112f;
	if (em >= 0x7c00u)
		v.u |= 0x7f800000u;
	v.u |= sign;
	return v.f;
}

/* n values (a whole number of blocks for Q8_0) of one cached row into float: the values
 * arca_dequantize gives, inlined into the vectorized worker. */
static inline void decode_row(int type, const void *src, float *dst, size_t n)
{
	if (type == ARCA_GGML_F16) {
		const uint16_t *h = src;
		for (size_t i = 0; i < n; i++)
			dst[i] = half_to_float(h[i]);
		return;
	}
	const arca_block_q8_0 *b = src;
	for (size_t k = 0; k < n / 32; k++, dst += 32) {
		const float d = half_to_float(b[k].d);
		for (int i = 0; i < 32; i++)
			dst[i] = d * (float)b[k].qs[i];
	}
}

/* One work item is a token and a kv head: the group's query heads share each decoded tile. */
VECTOR_CLONES static void kv_attend_worker(void *ctx, int ith, int nth)
{
	const kv_job *j = ctx;
	arca_session *s = j->s;
	const arca_model_info *in = &s->m->info;
	size_t hd = in->head_dim, hv = s->m->head_dim_v, Hkv = in->n_head_kv;
	size_t group = in->n_head / in->n_head_kv;
	int type = s->cache_type;
	const float scale = s->m->attn_scale;
	float *scores = s->scores + (size_t)ith * s->n_ctx * group;
	float *tile = s->kv_tile + (size_t)ith * s->tile_floats;
	float *row = tile + (size_t)KV_TILE * (hd > hv ? hd : hv);   /* one decoded key */
	const char *kc = (const char *)s->kq_cache + (size_t)j->layer * s->n_ctx * s->k_row;
	const char *vc = (const char *)s->vq_cache + (size_t)j->layer * s->n_ctx * s->v_row;
	size_t lo, hi;
	arca_pool_split(j->nb * Hkv, 1, ith, nth, &lo, &hi);
	for (size_t item = lo; item < hi; item++) {
		size_t t = item / Hkv, g = item % Hkv;
		size_t n_keys = s->n_past + t + 1; /* causal: this token and all before it */
		size_t k_off = (size_t)arca_ggml_row_size(type, g * hd);
		size_t v_off = (size_t)arca_ggml_row_size(type, g * hv);
		for (size_t p0 = 0; p0 < n_keys; p0 += KV_TILE) {
			size_t np = n_keys - p0 < KV_TILE ? n_keys - p0 : KV_TILE;
			/* keys transposed into the tile ([hd][KV_TILE]), so 16 keys take one vector
			 * multiply-add per channel; columns past np are zero */
			for (size_t i = 0; i < np; i++) {
				decode_row(type, kc + (p0 + i) * s->k_row + k_off, row, hd);
				for (size_t d = 0; d < hd; d++)
					tile[d * KV_TILE + i] = row[d];
			}
			for (size_t i = np; i < ((np + 15) & ~(size_t)15); i++)
				for (size_t d = 0; d < hd; d++)
					tile[d * KV_TILE + i] = 0.0f;
			for (size_t h = 0; h < group; h++) {
				const float *q = s->q + t * s->q_dim + (g * group + h) * hd;
				float *sc = scores + h * s->n_ctx + p0;
				for (size_t b = 0; b < np; b += 16) {
					float acc[16] = { 0 };
					for (size_t d = 0; d < hd; d++)
						for (int l = 0; l < 16; l++)
							acc[l] += q[d] * tile[d * KV_TILE + b + l];
					for (size_t l = 0; l < 16 && b + l < np; l++)
						sc[b + l] = acc[l] * scale;
				}
			}
		}
		for (size_t h = 0; h < group; h++) {
			arca_op_softmax(scores + h * s->n_ctx, n_keys);
			memset(s->att + t * s->att_dim + (g * group + h) * hv, 0, hv * sizeof(float));
		}
		for (size_t p0 = 0; p0 < n_keys; p0 += KV_TILE) {
			size_t np = n_keys - p0 < KV_TILE ? n_keys - p0 : KV_TILE;
			for (size_t i = 0; i < np; i++)
				decode_row(type, vc + (p0 + i) * s->v_row + v_off, tile + i * hv, hv);
			for (size_t h = 0; h < group; h++) {
				float *out = s->att + t * s->att_dim + (g * group + h) * hv;
				const float *w = scores + h * s->n_ctx + p0;
				for (size_t i = 0; i < np; i++)
					arca_op_axpy_inline(out, w[i], tile + i * hv, hv);
			}
		}
	}
}

void arca_rt__kv_attend(arca_session *s, uint32_t layer, size_t nb)
{
	kv_job j = { s, layer, nb };
	arca_pool_run(s->pool, kv_attend_worker, &j);
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

uint64_t arca_session_kv_bytes_per_token(const arca_session *s)
{
	return (uint64_t)s->m->info.n_layer * (arca_ggml_row_size(s->cache_type, s->k_dim) +
		arca_ggml_row_size(s->cache_type, s->v_dim));
}
