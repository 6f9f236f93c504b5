/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/gguf_synth.c — a GGUF of random weights in the shape of a real model, written
 * directly (no checkpoint, no Python, no buffer of the whole), so a 30 GB file takes tens of
 * seconds, not the hour that making a safetensors checkpoint and converting it would
 * (bench/run_vs_native.sh's way). For benchmarks only
 * (bench/gpu_bench.sh): the numbers mean nothing, the shapes, types and bytes are real.
 *
 *     gguf_synth --shape qwen2.5-7b --type q4_k_m --out /dev/shm/7b.gguf
 *     gguf_synth --shape qwen2.5-14b --type bf16 --size     (bytes and counts, no file)
 *     gguf_synth --list
 *
 * Shapes are Qwen2.5's (architecture qwen2: q/k/v biases, NEOX RoPE). Types are any plan
 * `arca convert --quant` takes (f32, f16, bf16, q8_0, q4_k_m, ...), and each tensor gets
 * exactly the type `arca convert` would give it (arca_quant_plan_type: for q4_k_m that is
 * llama-quantize's mix — Q4_K for most matrices, Q6_K for output (or the tied embeddings)
 * and for attn_v and ffn_down in the first and last eighth of the layers and every third
 * layer between; rows that are not whole 256-blocks, as Qwen2.5-0.5B's 896, fall back to
 * Q5_0 / Q8_0 as llama-quantize does). Norms and biases are F32.
 *
 * Speed: for each (type, row length) POOL_ROWS rows of normal random floats are
 * quantized once with arca_quantize_rows; every tensor row is then one of those rows,
 * chosen by a PRNG, copied into a 4 MiB buffer that goes to the file, with one code byte
 * changed (never a scale: any value is valid) so that no two rows are equal — equal rows
 * of the output matrix would give exactly tied logits. Quantized blocks are therefore
 * real quantizer output (finite scales, sane magnitudes), and writing is a memcpy plus
 * pwrite(2), on --threads threads (default: the CPUs, at most 16), each item of work
 * (up to 64 MiB of one tensor) with a random stream of its own, so the bytes do not
 * depend on the number of threads: GB/s into tmpfs. Norm weights are 1 + N(0, 0.02²),
 * biases and matrices N(0, 0.02²) (embeddings too), so activations stay finite through
 * 48 layers.
 *
 * The tokenizer is synthetic but complete (byte-level BPE "gpt2", pre-tokenizer qwen2): the
 * 256 byte tokens, then every pair of them, then byte triples, each with its merge, until
 * the vocabulary is full; the last three ids are <|endoftext|>, <|im_start|> and
 * <|im_end|> (eos), with Qwen's chat template. So `arca run` (text or --prompt-ids),
 * `arca bench` and `arca validate` all open the file.
 *
 * The file goes through the atomic writer (temporary file beside --out, fsync, rename):
 * an interrupted run leaves no half GGUF under the final name. Prints one JSON line:
 * {"file", "shape", "type", "layers", "bytes", "params", "layer_matrix_params",
 *  "output_params", "seconds", "gbps", "threads"} — layer_matrix_params are the elements
 * of every layer's 2-D weights, output_params those of the output projection (the
 * embeddings when tied): a prompt of T tokens costs about 2·layer_matrix_params·T +
 * 2·output_params FLOPs (arca computes the last token's logits only). Exit 0, 1 on
 * failure, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arca/convert.h"
#include "arca/error.h"
#include "arca/ggml_blocks.h"
#include "arca/gguf.h"
#include "arca/quant.h"
#include "common/io.h"

/* ------------------------------------------------------------------ shapes */

typedef struct {
	const char *name;
	uint32_t hidden, layers, heads, kv_heads, head_dim, ffn, vocab, ctx;
	int tied;
} shape;

/* From each model's config.json (Qwen/Qwen2.5-*). */
static const shape shapes[] = {
	{ "qwen2.5-0.5b", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1 },
	{ "qwen2.5-1.5b", 1536, 28, 12, 2, 128, 8960, 151936, 32768, 1 },
	{ "qwen2.5-3b", 2048, 36, 16, 2, 128, 11008, 151936, 32768, 1 },
	{ "qwen2.5-7b", 3584, 28, 28, 4, 128, 18944, 152064, 32768, 0 },
	{ "qwen2.5-14b", 5120, 48, 40, 8, 128, 13824, 152064, 32768, 0 },
	{ "qwen2.5-32b", 5120, 64, 40, 8, 128, 27648, 152064, 32768, 0 },
};
#define N_SHAPES (sizeof(shapes) / sizeof(shapes[0]))

#define POOL_ROWS 256
#define BUF_BYTES (4u << 20)
#define WEIGHT_STD 0.02f

/* ------------------------------------------------------------------ random numbers */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* N(0, 1) by Box–Muller; uniform from the top 53 bits, never 0. */
static float normal(uint64_t *s)
{
	double u1 = ((double)(splitmix(s) >> 11) + 1.0) / 9007199254740993.0;
	double u2 = (double)(splitmix(s) >> 11) / 9007199254740992.0;
	return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

/* ------------------------------------------------------------------ tensors */

enum { K_MATRIX, K_NORM, K_BIAS };

typedef struct {
	char name[ARCA_GGUF_NAME_MAX + 1];
	uint32_t n_dims;
	uint64_t ne[2];
	int kind, type;
} tensor;

typedef struct {
	tensor *v;
	size_t n, cap;
} tensor_list;

static arca_err add(tensor_list *l, const char *name, uint64_t ne0, uint64_t ne1, int kind)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		tensor *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return arca_error_set(ARCA_ENOMEM, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	tensor *t = &l->v[l->n++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->n_dims = ne1 ? 2 : 1;
	t->ne[0] = ne0;
	t->ne[1] = ne1 ? ne1 : 1;
	t->kind = kind;
	t->type = ARCA_GGML_F32;
	return ARCA_OK;
}

/* The tensors of a qwen2 model in llama.cpp's order: embeddings, the layers, the output. */
static arca_err list_tensors(tensor_list *l, const shape *s)
{
	uint64_t h = s->hidden, q = (uint64_t)s->heads * s->head_dim,
		kv = (uint64_t)s->kv_heads * s->head_dim, f = s->ffn;
	arca_err err = add(l, "token_embd.weight", h, s->vocab, K_MATRIX);
	for (uint32_t b = 0; b < s->layers && err == ARCA_OK; b++) {
		struct { const char *n; uint64_t ne0, ne1; int kind; } part[] = {
			{ "attn_norm.weight", h, 0, K_NORM },
			{ "attn_q.weight", h, q, K_MATRIX }, { "attn_q.bias", q, 0, K_BIAS },
			{ "attn_k.weight", h, kv, K_MATRIX }, { "attn_k.bias", kv, 0, K_BIAS },
			{ "attn_v.weight", h, kv, K_MATRIX }, { "attn_v.bias", kv, 0, K_BIAS },
			{ "attn_output.weight", q, h, K_MATRIX },
			{ "ffn_norm.weight", h, 0, K_NORM },
			{ "ffn_gate.weight", h, f, K_MATRIX }, { "ffn_up.weight", h, f, K_MATRIX },
			{ "ffn_down.weight", f, h, K_MATRIX },
		};
		for (size_t i = 0; i < sizeof(part) / sizeof(part[0]) && err == ARCA_OK; i++) {
			char name[ARCA_GGUF_NAME_MAX + 1];
			snprintf(name, sizeof(name), "blk.%u.%s", b, part[i].n);
			err = add(l, name, part[i].ne0, part[i].ne1, part[i].kind);
		}
	}
	if (err == ARCA_OK)
		err = add(l, "output_norm.weight", h, 0, K_NORM);
	if (err == ARCA_OK && !s->tied)
		err = add(l, "output.weight", h, s->vocab, K_MATRIX);
	return err;
}

/* Each tensor's type under the plan, as arca convert chooses it from an F32 source. */
static void assign_types(tensor_list *l, const shape *s, const arca_quant_plan *plan)
{
	arca_quant_context ctx = { .n_layers = s->layers, .has_output = !s->tied };
	for (size_t i = 0; i < l->n; i++)
		ctx.n_attn_v += strstr(l->v[i].name, "attn_v.weight") != NULL;
	int attn_v = 0;
	for (size_t i = 0; i < l->n; i++) {
		tensor *t = &l->v[i];
		t->type = arca_quant_plan_type(plan, &ctx, t->name, t->n_dims, t->ne[0],
			ARCA_GGML_F32, &attn_v);
	}
}

/* ------------------------------------------------------------------ row pools */

typedef struct {
	int type;
	uint64_t ne0;
	size_t row_bytes;
	unsigned char *rows;    /* POOL_ROWS rows */
	/* where a row may be changed without touching a scale: in each block of block_bytes,
	 * the code bytes [lo, hi), each XORed under mask (0: not changed) */
	size_t block_bytes, lo, hi;
	unsigned mask;
} pool;

/* The code bytes of a block of the type (never its scales, so any value is valid); for the
 * float types the low byte of an element (mantissa only: BF16's low byte holds one
 * exponent bit, left alone). 0 for a type not listed. */
static unsigned code_bytes(int type, size_t *lo, size_t *hi)
{
	switch (type) {
#define SPAN(from, to) *lo = (from); *hi = (to); return 0xff
	case ARCA_GGML_F32: SPAN(0, 1);
	case ARCA_GGML_F16: SPAN(0, 1);
	case ARCA_GGML_BF16: *lo = 0; *hi = 1; return 0x7f;
	case ARCA_GGML_Q4_0: SPAN(offsetof(arca_block_q4_0, qs), sizeof(arca_block_q4_0));
	case ARCA_GGML_Q4_1: SPAN(offsetof(arca_block_q4_1, qs), sizeof(arca_block_q4_1));
	case ARCA_GGML_Q5_0: SPAN(offsetof(arca_block_q5_0, qs), sizeof(arca_block_q5_0));
	case ARCA_GGML_Q5_1: SPAN(offsetof(arca_block_q5_1, qs), sizeof(arca_block_q5_1));
	case ARCA_GGML_Q8_0: SPAN(offsetof(arca_block_q8_0, qs), sizeof(arca_block_q8_0));
	case ARCA_GGML_Q2_K: SPAN(offsetof(arca_block_q2_K, qs), offsetof(arca_block_q2_K, d));
	case ARCA_GGML_Q3_K: SPAN(0, offsetof(arca_block_q3_K, scales));
	case ARCA_GGML_Q4_K: SPAN(offsetof(arca_block_q4_K, qs), sizeof(arca_block_q4_K));
	case ARCA_GGML_Q5_K: SPAN(offsetof(arca_block_q5_K, qh), sizeof(arca_block_q5_K));
	case ARCA_GGML_Q6_K: SPAN(0, offsetof(arca_block_q6_K, scales));
#undef SPAN
	default: return 0;
	}
}

typedef struct {
	pool v[16];
	size_t n;
} pools;

/* POOL_ROWS random rows of ne0 elements in the type, made the first time they are asked
 * for. */
static arca_err pool_get(const pool **out, pools *ps, int type, uint64_t ne0, uint64_t *rng)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].type == type && ps->v[i].ne0 == ne0) {
			*out = &ps->v[i];
			return ARCA_OK;
		}
	if (ps->n == sizeof(ps->v) / sizeof(ps->v[0]))
		return arca_error_set(ARCA_EINVALID, "too many kinds of rows");
	pool *p = &ps->v[ps->n];
	p->type = type;
	p->ne0 = ne0;
	p->row_bytes = (size_t)arca_ggml_row_size(type, ne0);
	p->block_bytes = arca_ggml_type_info_get(type)->type_size;
	p->mask = code_bytes(type, &p->lo, &p->hi);
	float *f = malloc((size_t)ne0 * POOL_ROWS * sizeof(float));
	p->rows = malloc(p->row_bytes * POOL_ROWS);
	arca_err err = ARCA_OK;
	if (!f || !p->rows || !p->row_bytes)
		err = arca_error_set(ARCA_ENOMEM, "out of memory for %d-element rows", (int)ne0);
	for (size_t i = 0; err == ARCA_OK && i < (size_t)ne0 * POOL_ROWS; i++)
		f[i] = WEIGHT_STD * normal(rng);
	if (err == ARCA_OK)
		err = arca_quantize_rows_mt(type, f, p->rows, POOL_ROWS, (size_t)ne0, 0);
	free(f);
	if (err < 0) {
		free(p->rows);
		return arca_error_prefix(err, "random %s rows of %llu",
			arca_ggml_type_info_get(type)->name, (unsigned long long)ne0);
	}
	ps->n++;
	*out = p;
	return ARCA_OK;
}

static void pools_free(pools *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->v[i].rows);
}

/* ------------------------------------------------------------------ tokenizer */

/* GPT-2's byte-to-character map, as UTF-8 (what byte-level BPE vocabularies spell). */
static void byte_chars(char out[256][4])
{
	uint32_t next = 256;
	for (uint32_t b = 0; b < 256; b++) {
		int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
		uint32_t c = printable ? b : next++;
		if (c < 0x80) {
			out[b][0] = (char)c;
			out[b][1] = 0;
		} else {
			out[b][0] = (char)(0xc0 | (c >> 6));
			out[b][1] = (char)(0x80 | (c & 0x3f));
			out[b][2] = 0;
		}
	}
}

static const char chat_template[] =
	"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
	"message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
	"{{ '<|im_start|>assistant\\n' }}{% endif %}";

/* n_vocab tokens: 256 bytes, byte pairs, byte triples, then three control tokens. */
static arca_err add_tokenizer(arca_gguf_writer *w, uint32_t n_vocab)
{
	static const char *const specials[] = { "<|endoftext|>", "<|im_start|>", "<|im_end|>" };
	const uint32_t n_special = 3, n_plain = n_vocab - n_special;
	char bytes[256][4];
	byte_chars(bytes);
	char **tok = calloc(n_vocab, sizeof(char *));
	char **merge = calloc(n_plain, sizeof(char *));
	int32_t *type = malloc(n_vocab * sizeof(int32_t));
	char *text = malloc((size_t)n_plain * 14), *mtext = malloc((size_t)n_plain * 16);
	arca_err err = ARCA_OK;
	if (!tok || !merge || !type || !text || !mtext) {
		err = arca_error_set(ARCA_ENOMEM, "out of memory for the tokenizer");
		goto cleanup;
	}
	char *tp = text, *mp = mtext;
	uint32_t n_merge = 0;
	for (uint32_t i = 0; i < n_plain; i++) {
		type[i] = 1; /* normal */
		tok[i] = tp;
		if (i < 256) {
			tp += sprintf(tp, "%s", bytes[i]) + 1;
			continue;
		}
		uint32_t k = i - 256;
		const char *left, *right;
		char pair[16];
		if (k < 65536) {   /* a pair of bytes */
			left = bytes[k >> 8];
			right = bytes[k & 255];
		} else {           /* a pair's token and one more byte */
			k -= 65536;
			snprintf(pair, sizeof(pair), "%s%s", bytes[(k >> 8) & 255], bytes[(k >> 16) & 255]);
			left = pair;
			right = bytes[k & 255];
		}
		tp += sprintf(tp, "%s%s", left, right) + 1;
		merge[n_merge++] = mp;
		mp += sprintf(mp, "%s %s", left, right) + 1;
	}
	for (uint32_t i = 0; i < n_special; i++) {
		tok[n_plain + i] = (char *)specials[i];
		type[n_plain + i] = 3; /* control */
	}
	if ((err = arca_gguf_add_str(w, "tokenizer.ggml.model", "gpt2")) < 0 ||
	    (err = arca_gguf_add_str(w, "tokenizer.ggml.pre", "qwen2")) < 0 ||
	    (err = arca_gguf_add_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)tok,
			n_vocab)) < 0 ||
	    (err = arca_gguf_add_arr(w, "tokenizer.ggml.token_type", ARCA_GGUF_I32, type,
			n_vocab)) < 0 ||
	    (err = arca_gguf_add_arr_str(w, "tokenizer.ggml.merges", (const char *const *)merge,
			n_merge)) < 0 ||
	    (err = arca_gguf_add_u32(w, "tokenizer.ggml.eos_token_id", n_plain + 2)) < 0 ||
	    (err = arca_gguf_add_u32(w, "tokenizer.ggml.padding_token_id", n_plain)) < 0 ||
	    (err = arca_gguf_add_bool(w, "tokenizer.ggml.add_bos_token", 0)) < 0 ||
	    (err = arca_gguf_add_str(w, "tokenizer.chat_template", chat_template)) < 0)
		goto cleanup;
cleanup:
	free(tok);
	free(merge);
	free(type);
	free(text);
	free(mtext);
	return err;
}

/* ------------------------------------------------------------------ writing */

/* The header goes through the atomic writer in order; `written` finds where data starts. */
typedef struct {
	arca_atomic_file *f;
	uint64_t written;
} header_sink;

static arca_err file_sink(void *ctx, const void *buf, size_t len)
{
	header_sink *h = ctx;
	h->written += len;
	return arca_atomic_write(h->f, buf, len);
}

static arca_err add_metadata(arca_gguf_writer *w, const shape *s, const arca_quant_plan *plan)
{
	char name[64];
	snprintf(name, sizeof(name), "synthetic %s", s->name);
	arca_err err;
	if ((err = arca_gguf_add_str(w, "general.architecture", "qwen2")) < 0 ||
	    (err = arca_gguf_add_str(w, "general.type", "model")) < 0 ||
	    (err = arca_gguf_add_str(w, "general.name", name)) < 0 ||
	    (err = arca_gguf_add_u32(w, "general.file_type", plan->ftype)) < 0)
		return err;
	int quantized = plan->default_type != ARCA_GGML_F32 &&
		plan->default_type != ARCA_GGML_F16 && plan->default_type != ARCA_GGML_BF16;
	if ((quantized && (err = arca_gguf_add_u32(w, "general.quantization_version", 2)) < 0) ||
	    (err = arca_gguf_add_u32(w, "qwen2.block_count", s->layers)) < 0 ||
	    (err = arca_gguf_add_u32(w, "qwen2.context_length", s->ctx)) < 0 ||
	    (err = arca_gguf_add_u32(w, "qwen2.embedding_length", s->hidden)) < 0 ||
	    (err = arca_gguf_add_u32(w, "qwen2.feed_forward_length", s->ffn)) < 0 ||
	    (err = arca_gguf_add_u32(w, "qwen2.attention.head_count", s->heads)) < 0 ||
	    (err = arca_gguf_add_u32(w, "qwen2.attention.head_count_kv", s->kv_heads)) < 0 ||
	    (err = arca_gguf_add_u32(w, "qwen2.attention.key_length", s->head_dim)) < 0 ||
	    (err = arca_gguf_add_u32(w, "qwen2.attention.value_length", s->head_dim)) < 0 ||
	    (err = arca_gguf_add_f32(w, "qwen2.rope.freq_base", 1000000.0f)) < 0 ||
	    (err = arca_gguf_add_f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f)) < 0)
		return err;
	return add_tokenizer(w, s->vocab);
}

/* The data is written by threads, each taking the next item: up to ITEM_BYTES of one
 * tensor's rows (or a whole 1-D tensor), with a random stream of its own seeded by its
 * index, so the file is the same whatever the number of threads. pwrite at the item's
 * offset; the padding between tensors is the zeros of the file extended beforehand. */
#define ITEM_BYTES (64u << 20)

typedef struct {
	const tensor *t;
	const pool *p;       /* matrices */
	uint64_t row0, rows; /* matrices: the rows of this item */
	uint64_t offset;     /* in the file */
} item;

typedef struct {
	item *items;
	size_t n_items, next;
	int fd;
	const char *path;
	uint64_t seed;
	pthread_mutex_t lock;
	arca_err err;        /* the first failure, its message copied */
	char message[ARCA_ERROR_MAX];
} job;

static arca_err write_item(const job *j, size_t index, unsigned char *buf)
{
	const item *it = &j->items[index];
	const tensor *t = it->t;
	uint64_t rng = j->seed ^ (0x9e3779b97f4a7c15ull * (index + 1));
	splitmix(&rng);
	if (t->kind != K_MATRIX) {   /* 1-D F32: at most a few thousand values */
		float *v = (float *)buf;
		for (uint64_t i = 0; i < t->ne[0]; i++)
			v[i] = (t->kind == K_NORM ? 1.0f : 0.0f) + WEIGHT_STD * normal(&rng);
		return arca_io_pwrite_all(j->fd, v, t->ne[0] * sizeof(float), it->offset, j->path);
	}
	const pool *p = it->p;
	uint64_t offset = it->offset;
	size_t used = 0;
	arca_err err = ARCA_OK;
	for (uint64_t r = 0; r < it->rows && err == ARCA_OK; r++) {
		if (used + p->row_bytes > BUF_BYTES) {
			err = arca_io_pwrite_all(j->fd, buf, used, offset, j->path);
			offset += used;
			used = 0;
		}
		uint64_t pick = splitmix(&rng);
		memcpy(buf + used, p->rows + (pick % POOL_ROWS) * p->row_bytes, p->row_bytes);
		if (p->mask) {
			/* one code byte changed, so no two rows are equal (equal rows of the output
			 * matrix would make exact ties of the logits) */
			size_t block = (size_t)(pick >> 8) % (p->row_bytes / p->block_bytes);
			size_t at = p->lo + (size_t)(pick >> 40) % (p->hi - p->lo);
			unsigned x = (unsigned)(pick >> 32) & p->mask;
			buf[used + block * p->block_bytes + at] ^= (unsigned char)(x ? x : 1);
		}
		used += p->row_bytes;
	}
	if (err == ARCA_OK && used)
		err = arca_io_pwrite_all(j->fd, buf, used, offset, j->path);
	return err;
}

static void *worker(void *arg)
{
	job *j = arg;
	unsigned char *buf = malloc(BUF_BYTES);
	arca_err err = buf ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "out of memory");
	while (err == ARCA_OK) {
		pthread_mutex_lock(&j->lock);
		size_t i = j->next++;
		int stop = j->err < 0 || i >= j->n_items;
		pthread_mutex_unlock(&j->lock);
		if (stop)
			break;
		if ((err = write_item(j, i, buf)) < 0)
			err = arca_error_prefix(err, "%s", j->items[i].t->name);
	}
	if (err < 0) {
		pthread_mutex_lock(&j->lock);
		if (j->err == ARCA_OK) {
			j->err = err;
			snprintf(j->message, sizeof(j->message), "%s", arca_error_last());
		}
		pthread_mutex_unlock(&j->lock);
	}
	free(buf);
	return NULL;
}

/* Every tensor's bytes, from data_offset on, by up to n_threads threads. */
static arca_err write_data(const tensor_list *l, pools *ps, arca_gguf_writer *w, int fd,
	const char *path, uint64_t data_offset, uint64_t seed, int n_threads)
{
	size_t cap = 0;
	item *items = NULL;
	job j = { .fd = fd, .path = path, .seed = seed };
	uint64_t rng = seed, offset = data_offset;
	arca_err err = ARCA_OK;
	for (size_t i = 0; i < l->n && err == ARCA_OK; i++) {
		const tensor *t = &l->v[i];
		const pool *p = NULL;
		uint64_t per = 1, rows = 1;
		if (t->kind == K_MATRIX) {
			/* the pools first, on this thread: the workers only read them */
			if ((err = pool_get(&p, ps, t->type, t->ne[0], &rng)) < 0) {
				err = arca_error_prefix(err, "%s", t->name);
				break;
			}
			rows = t->ne[1];
			per = ITEM_BYTES / p->row_bytes ? ITEM_BYTES / p->row_bytes : 1;
		}
		for (uint64_t r = 0; r < rows; r += per) {
			if (j.n_items == cap) {
				cap = cap ? 2 * cap : 1024;
				item *v = realloc(items, cap * sizeof(*v));
				if (!v) {
					err = arca_error_set(ARCA_ENOMEM, "out of memory");
					break;
				}
				items = v;
			}
			uint64_t n = rows - r < per ? rows - r : per;
			items[j.n_items++] = (item){ t, p, r, n,
				offset + (p ? r * p->row_bytes : 0) };
		}
		uint64_t bytes = arca_gguf_writer_tensor_bytes(w, i);
		offset += (bytes + 31) / 32 * 32;
	}
	if (err == ARCA_OK && offset != arca_gguf_writer_file_size(w))
		err = arca_error_set(ARCA_EINVALID, "data ends at %llu, not at the file's size %llu",
			(unsigned long long)offset,
			(unsigned long long)arca_gguf_writer_file_size(w));
	if (err == ARCA_OK && ftruncate(fd, (off_t)offset) < 0)
		err = arca_error_errno(errno, "%s: extend to %llu bytes", path,
			(unsigned long long)offset);
	if (err < 0) {
		free(items);
		return err;
	}
	j.items = items;
	pthread_mutex_init(&j.lock, NULL);
	pthread_t tid[64];
	int started = 0;
	if (n_threads > 64)
		n_threads = 64;
	for (; started < n_threads; started++)
		if (pthread_create(&tid[started], NULL, worker, &j) != 0)
			break;
	if (!started)
		worker(&j);
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&j.lock);
	free(items);
	if (j.err < 0)
		return arca_error_set(j.err, "%s", j.message);
	return ARCA_OK;
}

typedef struct {
	uint64_t params, layer_matrix, output, bytes;
} counts;

static arca_err synthesize(counts *c, const shape *s, const arca_quant_plan *plan,
	const char *out, uint64_t seed, int n_threads)
{
	tensor_list l = { 0 };
	pools ps = { 0 };
	arca_gguf_writer *w = NULL;
	arca_atomic_file f = ARCA_ATOMIC_FILE_INIT;
	header_sink h = { &f, 0 };
	char *dir = out ? arca_io_dirname(out) : NULL;
	arca_err err = dir || !out ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "out of memory");
	if (err == ARCA_OK && (err = list_tensors(&l, s)) == ARCA_OK) {
		assign_types(&l, s, plan);
		err = arca_gguf_writer_new(&w, 32);
	}
	if (err == ARCA_OK)
		err = add_metadata(w, s, plan);
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < l.n && err == ARCA_OK; i++) {
		const tensor *t = &l.v[i];
		uint64_t n = t->ne[0] * t->ne[1];
		c->params += n;
		if (t->kind == K_MATRIX && !strncmp(t->name, "blk.", 4))
			c->layer_matrix += n;
		if (!strcmp(t->name, s->tied ? "token_embd.weight" : "output.weight"))
			c->output = n;
		err = arca_gguf_add_tensor(w, t->name, t->n_dims, t->ne, t->type);
	}
	if (err == ARCA_OK)
		c->bytes = arca_gguf_writer_file_size(w);
	if (!out)   /* --size: the counts only */
		goto cleanup;
	if (err == ARCA_OK && (err = arca_atomic_open(&f, dir, out)) == ARCA_OK)
		err = arca_gguf_write_header(w, file_sink, &h);
	if (err == ARCA_OK)
		err = write_data(&l, &ps, w, f.fd, out, h.written, seed, n_threads);
	if (err == ARCA_OK)
		err = arca_atomic_commit(&f, 0644);
cleanup:
	arca_atomic_dispose(&f);
	arca_gguf_writer_free(w);
	pools_free(&ps);
	free(l.v);
	free(dir);
	return err;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *to)
{
	fprintf(to, "usage: gguf_synth --shape NAME --type TYPE (--out FILE | --size) "
		"[--seed N] [--layers N]\n       gguf_synth --list\n"
		"A GGUF of random weights in a real model's shape (bench/gpu_bench.sh).\n"
		"  --shape NAME   ");
	for (size_t i = 0; i < N_SHAPES; i++)
		fprintf(to, "%s%s", i ? ", " : "", shapes[i].name);
	fprintf(to, "\n  --type TYPE    a plan arca convert --quant takes: f32, f16, bf16, q8_0, "
		"q4_k_m, ...\n  --out FILE     the GGUF (written beside as a temporary, then "
		"renamed)\n  --size         print the JSON line (bytes, params) without writing\n"
		"  --seed N       random seed (default 1)\n"
		"  --threads N    writing threads (default: the CPUs, at most 16; the file is the same)\n"
		"  --layers N     fewer layers than the shape has (quick tests)\n"
		"  --list         the shapes, one JSON line each\n");
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "shape", required_argument, NULL, 's' }, { "type", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' }, { "seed", required_argument, NULL, 'r' },
		{ "layers", required_argument, NULL, 'l' }, { "list", no_argument, NULL, 'L' },
		{ "size", no_argument, NULL, 'S' }, { "threads", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *shape_name = NULL, *type_name = NULL, *out = NULL;
	uint64_t seed = 1;
	long layers = 0, threads = sysconf(_SC_NPROCESSORS_ONLN);
	int list = 0, size_only = 0, o;
	while ((o = getopt_long(argc, argv, "s:t:o:h", longs, NULL)) != -1) {
		switch (o) {
		case 's': shape_name = optarg; break;
		case 't': type_name = optarg; break;
		case 'o': out = optarg; break;
		case 'r': seed = strtoull(optarg, NULL, 10); break;
		case 'l': layers = strtol(optarg, NULL, 10); break;
		case 'L': list = 1; break;
		case 'S': size_only = 1; break;
		case 'j': threads = strtol(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (list) {
		for (size_t i = 0; i < N_SHAPES; i++) {
			const shape *s = &shapes[i];
			printf("{\"shape\": \"%s\", \"hidden\": %u, \"layers\": %u, \"heads\": %u, "
				"\"kv_heads\": %u, \"head_dim\": %u, \"ffn\": %u, \"vocab\": %u, "
				"\"tied\": %s}\n", s->name, s->hidden, s->layers, s->heads, s->kv_heads,
				s->head_dim, s->ffn, s->vocab, s->tied ? "true" : "false");
		}
		return 0;
	}
	if (!shape_name || !type_name || !out == !size_only || optind != argc) {
		fprintf(stderr, "gguf_synth: --shape, --type and one of --out and --size are "
			"needed\n");
		usage(stderr);
		return 2;
	}
	shape s = { 0 };
	for (size_t i = 0; i < N_SHAPES; i++)
		if (!strcmp(shapes[i].name, shape_name))
			s = shapes[i];
	if (!s.name) {
		fprintf(stderr, "gguf_synth: unknown shape '%s' (--list shows them)\n", shape_name);
		return 2;
	}
	if (threads < 1)
		threads = 1;
	if (threads > 16)
		threads = 16;
	if (layers < 0 || layers > (long)s.layers) {
		fprintf(stderr, "gguf_synth: --layers must be 1..%u\n", s.layers);
		return 2;
	}
	if (layers)
		s.layers = (uint32_t)layers;
	arca_quant_plan plan;
	if (arca_quant_plan_parse(&plan, type_name) < 0) {
		fprintf(stderr, "gguf_synth: %s\n", arca_error_last());
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	counts c;
	if (synthesize(&c, &s, &plan, out, seed, (int)threads) < 0) {
		fprintf(stderr, "gguf_synth: %s: %s\n", out ? out : s.name, arca_error_last());
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = out ? (double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e9 : 0.0;
	uint64_t bytes = c.bytes;
	printf("{\"file\": \"%s\", \"shape\": \"%s\", \"type\": \"%s\", \"layers\": %u, "
		"\"bytes\": %llu, \"params\": %llu, \"layer_matrix_params\": %llu, "
		"\"output_params\": %llu, \"seconds\": %.3f, \"gbps\": %.3f, \"threads\": %ld}\n",
		out ? out : "", s.name, plan.name, s.layers, (unsigned long long)bytes,
		(unsigned long long)c.params, (unsigned long long)c.layer_matrix,
		(unsigned long long)c.output, secs, secs > 0 ? (double)bytes / secs / 1e9 : 0.0,
		threads);
	return 0;
}
