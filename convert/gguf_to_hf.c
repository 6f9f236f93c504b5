/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/gguf_to_hf.c — a stored GGUF variant back to a Hugging Face folder: every tensor
 * under its Hugging Face name (the architecture table read backwards: Q/K permutation undone,
 * experts unstacked, MLA k_b/v_b joined into kv_b_proj), F32/F16/BF16 kept as they are and
 * quantized types dequantized to F32, in one model.safetensors; config.json, tokenizer and
 * licence files come from the snapshot the variant was made from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arca/arch.h"
#include "arca/gguf.h"
#include "arca/quant.h"
#include "convert/convert_internal.h"

#define CONVERTER_VERSION 1

typedef struct {
	char hf[200];
	const arca_arch_tensor *rule;
	const arca_gguf_tensor *t;      /* the GGUF tensor (attn_k_b for kv_b) */
	const arca_gguf_tensor *t2;     /* attn_v_b for kv_b */
	int expert;                     /* STACK: which slice */
	arca_st_spec spec;
} hf_tensor;

typedef struct {
	const arca_gguf *g;
	const arca_arch *arch;
	uint32_t n_head, n_head_kv, nope, v_head, kv_lora;
	hf_tensor *ts;
	size_t n;
} back;

static arca_st_dtype dtype_for(int type)
{
	return type == ARCA_GGML_F16 ? ARCA_ST_F16 : type == ARCA_GGML_BF16 ? ARCA_ST_BF16 :
		ARCA_ST_F32;
}

static arca_err push(back *b, const hf_tensor *t)
{
	hf_tensor *grown = realloc(b->ts, (b->n + 1) * sizeof(*grown));
	if (!grown)
		return arca_error_set(ARCA_ENOMEM, "convert: out of memory");
	b->ts = grown;
	grown[b->n++] = *t;
	return ARCA_OK;
}

static arca_err map_back(back *b, const arca_gguf_tensor *t)
{
	if (!strcmp(t->name, "rope_freqs.weight"))
		return ARCA_OK; /* derived from config.json's rope_scaling */
	int layer, expert;
	if (arca_arch_match("blk.{i}.attn_v_b.weight", t->name, &layer, &expert))
		return ARCA_OK; /* joined with attn_k_b */
	for (const arca_arch_tensor *rule = b->arch->tensors; rule->hf; rule++) {
		if (!arca_arch_match(rule->gguf, t->name, &layer, &expert))
			continue;
		hf_tensor h;
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
	return strcmp(((const hf_tensor *)a)->hf, ((const hf_tensor *)b)->hf);
}

/* Rows of a GGUF tensor as float32. */
static arca_err gguf_rows(const arca_gguf *g, const arca_gguf_tensor *t, uint64_t r0,
	uint64_t n, float *dst)
{
	uint64_t row = arca_ggml_row_size(t->type, t->ne[0]);
	const unsigned char *data = arca_gguf_tensor_data(g, t);
	return arca_dequantize(t->type, data + r0 * row, dst, (size_t)(n * t->ne[0]));
}

/* The HF tensor as float32, all of it (tensors of tiny and mid-sized models; large ones go
 * row by row through the same function in slices). */
static arca_err hf_rows(const back *b, const hf_tensor *h, uint64_t r0, uint64_t n, float *dst,
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
		uint64_t hd = t->ne[1] / heads;
		for (uint64_t r = r0; r < r0 + n && err == ARCA_OK; r++) {
			uint64_t hh = r / hd, m = r % hd, j = m / (hd / 2), i = m % (hd / 2);
			err = gguf_rows(b->g, t, hh * hd + 2 * i + j, 1, dst + (r - r0) * len);
		}
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
	}
	return arca_error_set(ARCA_EINVALID, "%s: unknown transform", h->hf);
}

static arca_err write_tensor(const back *b, const hf_tensor *h, arca_blob_writer *bw)
{
	uint64_t len = h->spec.n_dims ? h->spec.shape[h->spec.n_dims - 1] : 1;
	uint64_t rows = 1;
	for (uint32_t d = 0; d + 1 < h->spec.n_dims; d++)
		rows *= h->spec.shape[d];
	int out_type = h->spec.dtype == ARCA_ST_F16 ? ARCA_GGML_F16 :
		h->spec.dtype == ARCA_ST_BF16 ? ARCA_GGML_BF16 : ARCA_GGML_F32;
	/* untouched float tensors go out byte for byte */
	if (h->rule->tx == ARCA_TX_NONE && h->t->type == out_type)
		return arca_blob_writer_write(bw, arca_gguf_tensor_data(b->g, h->t),
			(size_t)h->t->nbytes);
	if (h->rule->tx == ARCA_TX_STACK_EXPERTS && h->t->type == out_type) {
		uint64_t slice = h->t->nbytes / h->t->ne[2];
		return arca_blob_writer_write(bw, (const unsigned char *)arca_gguf_tensor_data(b->g,
			h->t) + slice * (uint64_t)h->expert, (size_t)slice);
	}
	uint64_t scratch_n = h->rule->tx == ARCA_TX_SPLIT_KV_B ? (uint64_t)b->kv_lora * b->nope :
		len;
	float *f = malloc(len * sizeof(float) + 1), *scratch = malloc(scratch_n * sizeof(float) + 1);
	unsigned char *q = malloc(len * 4 + 1);
	arca_err err = f && scratch && q ? ARCA_OK :
		arca_error_set(ARCA_ENOMEM, "convert %s: out of memory", h->hf);
	uint64_t out_row = arca_ggml_row_size(out_type, len);
	for (uint64_t r = 0; r < rows && err == ARCA_OK; r++) {
		if ((err = hf_rows(b, h, r, 1, f, scratch)) < 0 ||
		    (err = arca_quantize_rows(out_type, f, q, 1, (size_t)len)) < 0)
			break;
		err = arca_blob_writer_write(bw, q, (size_t)out_row);
	}
	free(f);
	free(scratch);
	free(q);
	return err < 0 ? arca_error_prefix(err, "%s", h->hf) : err;
}

static int is_weight_file(const char *path)
{
	static const char *const suffixes[] = { ".safetensors", ".safetensors.index.json", ".bin",
		".bin.index.json", ".gguf", ".pt", ".pth", ".ckpt", ".msgpack", ".h5", ".onnx", NULL };
	size_t n = strlen(path);
	for (const char *const *s = suffixes; *s; s++) {
		size_t k = strlen(*s);
		if (n >= k && !strcmp(path + n - k, *s))
			return 1;
	}
	return 0;
}

static arca_err setup(back *b, const arca_gguf *g, char **arch_name)
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

arca_err arca_convert_gguf_to_safetensors(arca_convert_result *out, arca_store *store,
	const arca_snapshot *snap, const char *variant, const char *name,
	const arca_convert_opts *opts)
{
	(void)opts;
	memset(out, 0, sizeof(*out));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	back b;
	memset(&b, 0, sizeof(b));
	arca_convert__variant v;
	char *arch = NULL;
	json_t *params = NULL;
	arca_blob_writer *bw = NULL;
	arca_st_spec *specs = NULL;
	arca_file *files = NULL;
	size_t n_files = 0;
	arca_convert__file *outputs = NULL;
	arca_err err = arca_convert__open_variant(&v, store, snap, variant);
	if (err < 0)
		return err;
	snprintf(out->name, sizeof(out->name), "%s", name);
	if ((err = setup(&b, v.gguf, &arch)) < 0)
		goto done;
	snprintf(out->arch, sizeof(out->arch), "%s", arch);
	params = json_pack("{s:s,s:s,s:s,s:i}", "to", "safetensors", "from", variant,
		"source_sha256", v.sha256, "converter", CONVERTER_VERSION);
	if (arca_convert__find_same(out, store, snap, name, params))
		goto done;
	/* the folder's other files come from the snapshot the variant was made from */
	if ((err = arca_catalog_list_files(&files, &n_files, arca_store_catalog(store),
			snap->id)) < 0)
		goto done;
	int has_config = 0;
	for (size_t i = 0; i < n_files; i++)
		has_config |= !strcmp(files[i].path, "config.json");
	if (!has_config) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "the snapshot has no config.json to go with "
			"the weights (rebuilding one from GGUF metadata is not supported yet)");
		goto done;
	}
	specs = calloc(b.n ? b.n : 1, sizeof(*specs));
	outputs = calloc(n_files + 1, sizeof(*outputs));
	if (!specs || !outputs) {
		err = arca_error_set(ARCA_ENOMEM, "convert: out of memory");
		goto done;
	}
	for (size_t i = 0; i < b.n; i++) {
		specs[i] = b.ts[i].spec;
		specs[i].name = b.ts[i].hf; /* the array is final now: names stay put */
	}
	if ((err = arca_blob_writer_new(&bw, store, NULL)) < 0 ||
	    (err = arca_safetensors_write_header(arca_convert__blob_sink, bw, specs, b.n,
			"{\"format\":\"pt\"}", NULL)) < 0)
		goto done;
	for (size_t i = 0; i < b.n && err == ARCA_OK; i++)
		err = write_tensor(&b, &b.ts[i], bw);
	arca_file_digests d;
	if (err < 0 || (err = arca_blob_writer_commit(bw, &d)) < 0)
		goto done;
	size_t n_out = 0;
	outputs[n_out].path = "model.safetensors";
	outputs[n_out++].sha256 = d.sha256;
	for (size_t i = 0; i < n_files; i++) {
		if (is_weight_file(files[i].path))
			continue;
		outputs[n_out].path = files[i].path;
		outputs[n_out++].sha256 = files[i].sha256;
	}
	const char *slash = strchr(snap->repo_id, '/');
	char in_name[300];
	snprintf(in_name, sizeof(in_name), "%s-%s.gguf", slash ? slash + 1 : snap->repo_id, variant);
	arca_convert__file input = { in_name, v.sha256 };
	if ((err = arca_convert__record(&out->artifact, store, snap, "safetensors", name, params,
			&input, 1, outputs, n_out)) < 0)
		goto done;
	memcpy(out->sha256, d.sha256, sizeof(out->sha256));
	out->size = d.size;
	out->n_tensors = b.n;
done:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	arca_blob_writer_free(bw);
	free(specs);
	free(outputs);
	arca_files_free(files, n_files);
	free(b.ts);
	free(arch);
	json_decref(params);
	arca_convert__close_variant(&v);
	return err;
}
