/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/kv_attend.c — causal attention over a narrow (F16 or Q8_0) KV cache, in the
 * manner of flash attention: the cache is read a tile of KV_TILE positions of one kv head
 * at a time, decoded into float once for a whole block of queries (about KV_QROWS: as many
 * tokens as make that many with the group's query heads, at least one), and the softmax is kept online (a running maximum, sum and output
 * per query), so no buffer grows with the context and a long prompt decodes each cached
 * row once per block of tokens instead of once per token. kv_cache.c stores the rows.
 *
 * One query's result is defined by a fixed order of operations, whoever computes it:
 *   1. per tile k (positions 64k..): scores s_i = q·k_i · scale over the tile's keys up to
 *      the query's own position, m_k = max s_i, p_i = e^(s_i − m_k), l_k = Σ p_i,
 *      o_k = Σ p_i · v_i;
 *   2. tiles merge, in order, into the state of their chunk (KV_CHUNK_TILES tiles);
 *   3. chunks merge, in order, into the query's total, and the output is o / l.
 * A merge of (m, l, o) with (m', l', o') is M = max(m, m'), l·e^(m−M) + l'·e^(m'−M) and
 * o·e^(m−M) + o'·e^(m'−M); a merge into an empty state is a copy. A prompt (several
 * tokens) runs 1–3 per block of queries on one thread; a generated token (one token, few
 * kv heads) splits its chunks across the threads (step 2 in parallel), keeps each chunk's
 * state, and merges them in order afterwards (step 3) — the same operations in the same
 * order, so a batch still gives the bits token-by-token decoding gives, on any thread
 * count.
 */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "arca/ggml_blocks.h"
#include "arca/quant.h"
#include "runtime/kernels.h"
#include "runtime/ops.h"
#include "runtime/session_internal.h"

/* Helpers are inlined into the workers, so they vectorize in each VECTOR_CLONES clone. */
#define KV_INLINE static inline __attribute__((always_inline))

/* kernels.h's tile step is written for tiles of 64 */
_Static_assert(KV_TILE == 64, "arca_rt_kv_tile_fn takes tiles of 64 positions");

/* ------------------------------------------------------------------ decoding rows */

/* IEEE half to float, exactly, in integer and float steps the vectorizer widens (no table,
 * no call): the exponent and mantissa moved into place and rescaled by 2^112, which also
 * makes subnormals right; infinities and NaNs get the all-ones exponent back. */
KV_INLINE float half_to_float(uint16_t h)
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
KV_INLINE void decode_row(int type, const void *src, float *dst, size_t n)
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

/* ------------------------------------------------------------------ one query's steps */

/* e^x for x <= 0 (larger x is not asked for: scores are taken from their maximum), to a
 * few ulp: x = n·ln2 + r, e^r by its Taylor polynomial to r^7 (|r| <= ln2/2), 2^n put into
 * the exponent. Below −87 the result is clamped near 2^-126 (nothing beside a term of 1
 * notices). Plain float steps the vectorizer widens 16 at a time. */
KV_INLINE float exp_neg(float x)
{
	x = x < -87.0f ? -87.0f : x;
	float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;   /* round to nearest */
	float r = (x - n * 0.693145752f) - n * 1.42860677e-06f;
	float p = 1.98412698e-4f;
	p = p * r + 1.38888889e-3f;
	p = p * r + 8.33333333e-3f;
	p = p * r + 4.16666667e-2f;
	p = p * r + 1.66666667e-1f;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	union { uint32_t u; float f; } s = { (uint32_t)((int32_t)n + 127) << 23 };
	return p * s.f;
}

/* A query's softmax state: the running maximum m, sum l and output o (head_dim_v floats,
 * unnormalized). Empty: m = −∞. */
typedef struct {
	float m, l;
	float *o;
} soft_state;

/* st = st merged with (m, l, o) (see the top of the file). */
KV_INLINE void state_merge(soft_state *st, float m, float l, const float *restrict o,
	size_t hv)
{
	if (st->m == -INFINITY) {
		st->m = m;
		st->l = l;
		memcpy(st->o, o, hv * sizeof(float));
		return;
	}
	float M = m > st->m ? m : st->m;
	float a = exp_neg(st->m - M), b = exp_neg(m - M);
	st->m = M;
	st->l = st->l * a + l * b;
	float *restrict so = st->o;
	for (size_t d = 0; d < hv; d++)
		so[d] = so[d] * a + o[d] * b;
}

/* Tokens per block of queries: KV_QROWS query rows, or one token's heads when more. */
KV_INLINE size_t block_tokens(const arca_session *s)
{
	size_t group = s->m->info.n_head / s->m->info.n_head_kv;
	return KV_QROWS / group ? KV_QROWS / group : 1;
}

/* Per-thread scratch, carved from the session's kv_tile. */
typedef struct {
	float *kt;      /* [hd][KV_TILE]: the tile's keys transposed, padding columns zero */
	float *vt;      /* [KV_TILE][hv]: the tile's values */
	float *row;     /* one decoded key */
	float *p;       /* [KV_TILE]: one query's scores, then weights */
	float *ot;      /* [hv]: one query's o_k */
	float *chunk_o; /* [rows][hv]: the chunk states' outputs */
	float *chunk_ml;/* [rows][2] */
	float *tot_ml;  /* [rows][2]: the totals' m and l (their o is s->att) */
	arca_rt_kv_tile_fn tile_fn;   /* the kernel level's step 1, or NULL */
	arca_rt_kv_keys_fn keys_fn;   /* the kernel level's key transposition, or NULL */
} scratch;

KV_INLINE scratch scratch_of(const arca_session *s, int ith)
{
	const arca_model_info *in = &s->m->info;
	size_t hd = in->head_dim, hv = s->m->head_dim_v;
	size_t rows = block_tokens(s) * (in->n_head / in->n_head_kv);
	float *base = s->kv_tile + (size_t)ith * s->tile_floats;
	scratch w;
	w.kt = base;
	w.vt = w.kt + hd * KV_TILE;
	w.row = w.vt + KV_TILE * hv;
	w.p = w.row + (hd > hv ? hd : hv);
	w.ot = w.p + KV_TILE;
	w.chunk_o = w.ot + hv;
	w.chunk_ml = w.chunk_o + rows * hv;
	w.tot_ml = w.chunk_ml + 2 * rows;
	w.tile_fn = arca_rt_kv_tile();
	w.keys_fn = arca_rt_kv_keys();
	return w;
}

size_t arca_rt__kv_scratch_floats(const arca_session *s)
{
	const arca_model_info *in = &s->m->info;
	size_t hd = in->head_dim, hv = s->m->head_dim_v;
	size_t rows = block_tokens(s) * (in->n_head / in->n_head_kv);
	return hd * KV_TILE + KV_TILE * hv + (hd > hv ? hd : hv) + KV_TILE + hv + rows * hv +
		4 * rows + 16;
}

/* Decodes positions [p0, p0 + np) of kv head g of one layer into w->kt and w->vt. */
KV_INLINE void load_tile(const arca_session *s, const char *kc, const char *vc, size_t g,
	size_t p0, size_t np, const scratch *w)
{
	const arca_model_info *in = &s->m->info;
	size_t hd = in->head_dim, hv = s->m->head_dim_v;
	int type = s->cache_type;
	/* the head's rows are contiguous: the tile is one run of memory */
	const char *kh = kc + g * s->n_ctx * s->k_row, *vh = vc + g * s->n_ctx * s->v_row;
	/* the next tile is fetched while this one is worked on */
	size_t end = p0 + 2 * KV_TILE < s->n_ctx ? p0 + 2 * KV_TILE : s->n_ctx;
	if (end > p0 + KV_TILE) {
		for (size_t b = (p0 + KV_TILE) * s->k_row; b < end * s->k_row; b += 64)
			__builtin_prefetch(kh + b);
		for (size_t b = (p0 + KV_TILE) * s->v_row; b < end * s->v_row; b += 64)
			__builtin_prefetch(vh + b);
	}
	for (size_t i = 0; i < np; i++)
		decode_row(type, vh + (p0 + i) * s->v_row, w->vt + i * hv, hv);
	if (w->keys_fn) {
		w->keys_fn(type, kh + p0 * s->k_row, s->k_row, np, hd, w->kt);
		return;
	}
	for (size_t i = 0; i < np; i++) {
		decode_row(type, kh + (p0 + i) * s->k_row, w->row, hd);
		for (size_t d = 0; d < hd; d++)
			w->kt[d * KV_TILE + i] = w->row[d];
	}
	for (size_t i = np; i < KV_TILE; i++)
		for (size_t d = 0; d < hd; d++)
			w->kt[d * KV_TILE + i] = 0.0f;
}

/* Step 1 for one query over the first nv positions of the loaded tile (kernels.h's
 * arca_rt_kv_tile_fn, portably), merged into the chunk state cs (step 2). */
KV_INLINE void tile_step(const float *restrict q, size_t hd, size_t hv, size_t nv,
	float scale, const scratch *w, soft_state *cs)
{
	if (w->tile_fn) {
		float m, l;
		w->tile_fn(q, w->kt, w->vt, hd, hv, nv, scale, w->p, w->ot, &m, &l);
		state_merge(cs, m, l, w->ot, hv);
		return;
	}
	float *restrict p = w->p;
	size_t n16 = (nv + 15) & ~(size_t)15;
	for (size_t b = 0; b < n16; b += 16) {
		float acc[16] = { 0 };
		for (size_t d = 0; d < hd; d++)
			for (int l = 0; l < 16; l++)
				acc[l] += q[d] * w->kt[d * KV_TILE + b + l];
		for (int l = 0; l < 16; l++)
			p[b + l] = acc[l] * scale;
	}
	float m = -INFINITY;
	for (size_t i = 0; i < nv; i++)
		m = p[i] > m ? p[i] : m;
	/* whole vectors of weights; the padding's weights are zero */
	for (size_t b = 0; b < n16; b += 16)
		for (int l = 0; l < 16; l++)
			p[b + l] = b + (size_t)l < nv ? exp_neg(p[b + l] - m) : 0.0f;
	float lanes[16] = { 0 };
	for (size_t b = 0; b < n16; b += 16)
		for (int l = 0; l < 16; l++)
			lanes[l] += p[b + l];
	float l_sum = 0.0f;
	for (int l = 0; l < 16; l++)
		l_sum += lanes[l];
	float *restrict ot = w->ot;
	memset(ot, 0, hv * sizeof(float));
	for (size_t i = 0; i < nv; i++)
		arca_op_axpy_inline(ot, p[i], w->vt + i * hv, hv);
	state_merge(cs, m, l_sum, ot, hv);
}

/* ------------------------------------------------------------------ a block of queries */

typedef struct {
	arca_session *s;
	uint32_t layer;
	size_t nb;
	size_t n_items;
	atomic_size_t next;
} kv_job;

static const char *layer_keys(const arca_session *s, uint32_t layer)
{
	size_t cl = layer - s->cache_layer0;   /* the GPU's layers have no host cache */
	return (const char *)s->kq_cache + cl * s->m->info.n_head_kv * s->n_ctx * s->k_row;
}

static const char *layer_values(const arca_session *s, uint32_t layer)
{
	size_t cl = layer - s->cache_layer0;
	return (const char *)s->vq_cache + cl * s->m->info.n_head_kv * s->n_ctx * s->v_row;
}

/* Queries of tokens [t0, t1) and kv head g: rows r = (t − t0) · group + h. */
KV_INLINE void attend_block(arca_session *s, uint32_t layer, size_t g, size_t t0, size_t t1,
	const scratch *w)
{
	const arca_model_info *in = &s->m->info;
	size_t hd = in->head_dim, hv = s->m->head_dim_v;
	size_t group = in->n_head / in->n_head_kv, rows = (t1 - t0) * group;
	const float scale = s->m->attn_scale;
	const char *kc = layer_keys(s, layer), *vc = layer_values(s, layer);
	size_t n_max = s->n_past + t1;   /* keys the block's last token sees */
	for (size_t r = 0; r < rows; r++) {
		w->tot_ml[2 * r] = -INFINITY;
		w->chunk_ml[2 * r] = -INFINITY;
	}
	for (size_t p0 = 0, k = 0; p0 < n_max; p0 += KV_TILE, k++) {
		size_t np = n_max - p0 < KV_TILE ? n_max - p0 : KV_TILE;
		load_tile(s, kc, vc, g, p0, np, w);
		int chunk_end = (k + 1) % KV_CHUNK_TILES == 0;
		for (size_t r = 0; r < rows; r++) {
			size_t t = t0 + r / group, h = g * group + r % group;
			size_t n_keys = s->n_past + t + 1;
			if (n_keys <= p0)
				continue;   /* causal: this token sees none of the tile */
			size_t nv = n_keys - p0 < KV_TILE ? n_keys - p0 : KV_TILE;
			soft_state cs = { w->chunk_ml[2 * r], w->chunk_ml[2 * r + 1], w->chunk_o + r * hv };
			tile_step(s->q + t * s->q_dim + h * hd, hd, hv, nv, scale, w, &cs);
			int last = p0 + KV_TILE >= n_keys;
			if (chunk_end || last) {
				soft_state tot = { w->tot_ml[2 * r], w->tot_ml[2 * r + 1],
					s->att + t * s->att_dim + h * hv };
				state_merge(&tot, cs.m, cs.l, cs.o, hv);
				w->tot_ml[2 * r] = tot.m;
				w->tot_ml[2 * r + 1] = tot.l;
				cs.m = -INFINITY;
			}
			w->chunk_ml[2 * r] = cs.m;
			w->chunk_ml[2 * r + 1] = cs.l;
		}
	}
	for (size_t r = 0; r < rows; r++) {
		size_t t = t0 + r / group, h = g * group + r % group;
		float *o = s->att + t * s->att_dim + h * hv, inv = 1.0f / w->tot_ml[2 * r + 1];
		for (size_t d = 0; d < hv; d++)
			o[d] *= inv;
	}
}

/* Items are (query block, kv head), the latest blocks (the most keys) first, taken from a
 * shared counter so the threads finish together despite the causal triangle. */
VECTOR_CLONES static void block_worker(void *ctx, int ith, int nth)
{
	(void)nth;
	kv_job *j = ctx;
	arca_session *s = j->s;
	size_t Hkv = s->m->info.n_head_kv, qb = block_tokens(s), n_blocks = (j->nb + qb - 1) / qb;
	scratch w = scratch_of(s, ith);
	for (;;) {
		size_t item = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
		if (item >= j->n_items)
			break;
		size_t b = n_blocks - 1 - item / Hkv, g = item % Hkv;
		size_t t0 = b * qb, t1 = t0 + qb < j->nb ? t0 + qb : j->nb;
		attend_block(s, j->layer, g, t0, t1, &w);
	}
}

/* ------------------------------------------------------------------ one token, split */

/* Items are (chunk, kv head) of the one token's keys: each chunk's state (step 2) for the
 * group's query heads into s->kv_part [chunk][head][m, l, o]. */
VECTOR_CLONES static void split_worker(void *ctx, int ith, int nth)
{
	(void)nth;
	kv_job *j = ctx;
	arca_session *s = j->s;
	const arca_model_info *in = &s->m->info;
	size_t hd = in->head_dim, hv = s->m->head_dim_v, Hkv = in->n_head_kv;
	size_t group = in->n_head / Hkv, n_keys = s->n_past + 1;
	const float scale = s->m->attn_scale;
	const char *kc = layer_keys(s, j->layer), *vc = layer_values(s, j->layer);
	scratch w = scratch_of(s, ith);
	for (;;) {
		size_t item = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
		if (item >= j->n_items)
			break;
		size_t c = item / Hkv, g = item % Hkv;
		float *part = s->kv_part + (c * in->n_head + g * group) * (hv + 2);
		for (size_t h = 0; h < group; h++)
			part[h * (hv + 2)] = -INFINITY;
		size_t end = (c + 1) * KV_CHUNK_TILES * KV_TILE;
		end = end < n_keys ? end : n_keys;
		for (size_t p0 = c * KV_CHUNK_TILES * KV_TILE; p0 < end; p0 += KV_TILE) {
			size_t np = end - p0 < KV_TILE ? end - p0 : KV_TILE;
			load_tile(s, kc, vc, g, p0, np, &w);
			for (size_t h = 0; h < group; h++) {
				float *ph = part + h * (hv + 2);
				soft_state cs = { ph[0], ph[1], ph + 2 };
				tile_step(s->q + (g * group + h) * hd, hd, hv, np, scale, &w, &cs);
				ph[0] = cs.m;
				ph[1] = cs.l;
			}
		}
	}
}

/* Step 3 for the one token: each head's chunk states merged in order. */
VECTOR_CLONES static void split_merge(arca_session *s, size_t n_chunks)
{
	const arca_model_info *in = &s->m->info;
	size_t hv = s->m->head_dim_v;
	for (size_t h = 0; h < in->n_head; h++) {
		soft_state tot = { -INFINITY, 0.0f, s->att + h * hv };
		for (size_t c = 0; c < n_chunks; c++) {
			const float *part = s->kv_part + (c * in->n_head + h) * (hv + 2);
			state_merge(&tot, part[0], part[1], part + 2, hv);
		}
		float inv = 1.0f / tot.l;
		for (size_t d = 0; d < hv; d++)
			tot.o[d] *= inv;
	}
}

void arca_rt__kv_attend(arca_session *s, uint32_t layer, size_t nb)
{
	size_t Hkv = s->m->info.n_head_kv;
	kv_job j = { .s = s, .layer = layer, .nb = nb };
	atomic_init(&j.next, 0);
	if (nb == 1) {
		size_t chunk = (size_t)KV_CHUNK_TILES * KV_TILE;
		size_t n_chunks = (s->n_past + 1 + chunk - 1) / chunk;
		j.n_items = n_chunks * Hkv;
		arca_pool_run(s->pool, split_worker, &j);
		split_merge(s, n_chunks);
		return;
	}
	j.n_items = (nb + block_tokens(s) - 1) / block_tokens(s) * Hkv;
	arca_pool_run(s->pool, block_worker, &j);
}
