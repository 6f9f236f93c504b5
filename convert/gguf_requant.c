/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/gguf_requant.c — a stored GGUF variant to another type, as llama-quantize does it
 * with --allow-requantize: metadata copied in order with general.quantization_version and
 * general.file_type re-appended, tensors in llama-quantize's order, each dequantized to
 * float32 and quantized to the type the plan gives it (tensors that keep their type are
 * copied byte for byte).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arca/gguf.h"
#include "arca/quant.h"
#include "common/pool.h"
#include "convert/convert_internal.h"

#define CONVERTER_VERSION 1
#define SLAB_FLOATS (4u << 20)

typedef struct {
	const arca_gguf_tensor *t;
	int layer;
	int type;
} planned;

static int planned_order(const void *a, const void *b)
{
	const planned *x = a, *y = b;
	if (x->layer != y->layer)
		return x->layer < y->layer ? -1 : 1;
	return strcmp(x->t->name, y->t->name);
}

static arca_err copy_metadata(arca_gguf_writer *w, const arca_gguf *g,
	const arca_quant_plan *plan)
{
	arca_err err = ARCA_OK;
	for (size_t i = 0; i < arca_gguf_kv_count(g) && err == ARCA_OK; i++) {
		const arca_gguf_kv *kv = arca_gguf_kv_at(g, i);
		if ((kv->key.len == 17 && !memcmp(kv->key.ptr, "general.file_type", 17)) ||
		    (kv->key.len == 28 && !memcmp(kv->key.ptr, "general.quantization_version", 28)) ||
		    (kv->key.len == 17 && !memcmp(kv->key.ptr, "general.alignment", 17)) ||
		    (kv->key.len > 6 && !memcmp(kv->key.ptr, "split.", 6)))
			continue;
		err = arca_gguf_add_kv_copy(w, kv);
	}
	if (err == ARCA_OK)
		err = arca_gguf_add_u32(w, "general.quantization_version", 2);
	if (err == ARCA_OK)
		err = arca_gguf_add_u32(w, "general.file_type", plan->ftype);
	return err;
}

static arca_err requant_tensor(arca_gguf_writer *w, const arca_gguf *g, const planned *p,
	size_t index, arca_blob_writer *bw, arca_pool *pool)
{
	const arca_gguf_tensor *t = p->t;
	const unsigned char *data = arca_gguf_tensor_data(g, t);
	arca_err err = arca_gguf_tensor_begin(w, index);
	if (err < 0)
		return err;
	if (p->type == t->type) {
		if ((err = arca_gguf_tensor_write(w, arca_convert__blob_sink, bw, data, t->nbytes)) < 0)
			return err;
		return arca_gguf_tensor_end(w, arca_convert__blob_sink, bw);
	}
	uint64_t len = t->ne[0], rows = t->ne[1] * t->ne[2] * t->ne[3];
	uint64_t slab = SLAB_FLOATS / (len ? len : 1);
	if (slab == 0)
		slab = 1;
	if (slab > rows)
		slab = rows ? rows : 1;
	uint64_t in_row = arca_ggml_row_size(t->type, len), out_row = arca_ggml_row_size(p->type, len);
	float *f = malloc(slab * len * sizeof(float) + 1);
	unsigned char *q = malloc(slab * out_row + 1);
	if (!f || !q)
		err = arca_error_set(ARCA_ENOMEM, "requantize %s: out of memory", t->name);
	for (uint64_t r = 0; r < rows && err == ARCA_OK; r += slab) {
		uint64_t n = rows - r < slab ? rows - r : slab;
		if ((err = arca_dequantize(t->type, data + r * in_row, f, (size_t)(n * len))) < 0 ||
		    (err = arca_convert__check_finite(f, n * len, len, t->name, r)) < 0 ||
		    (err = arca_quantize_rows_pool(p->type, f, q, (size_t)n, (size_t)len, pool)) < 0)
			break;
		err = arca_gguf_tensor_write(w, arca_convert__blob_sink, bw, q, n * out_row);
	}
	free(f);
	free(q);
	if (err == ARCA_OK)
		err = arca_gguf_tensor_end(w, arca_convert__blob_sink, bw);
	return err < 0 ? arca_error_prefix(err, "tensor %s", t->name) : err;
}

arca_err arca_convert_requantize(arca_convert_result *out, arca_store *store,
	const arca_snapshot *snap, const char *variant, const arca_convert_opts *opts)
{
	memset(out, 0, sizeof(*out));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	arca_convert__variant v;
	arca_quant_plan plan;
	arca_gguf_writer *w = NULL;
	arca_blob_writer *bw = NULL;
	arca_pool *pool = NULL;
	planned *plans = NULL;
	json_t *params = NULL;
	char *arch = NULL;
	arca_err err = arca_quant_plan_parse(&plan, opts->quant ? opts->quant : "");
	if (err < 0)
		return err;
	if ((err = arca_convert__open_variant(&v, store, snap, variant)) < 0)
		return err;
	const arca_gguf *g = v.gguf;
	if ((err = arca_gguf_get_str(g, "general.architecture", &arch)) < 0)
		goto done;
	snprintf(out->name, sizeof(out->name), "%s", plan.name);
	snprintf(out->arch, sizeof(out->arch), "%s", arch);
	params = json_pack("{s:s,s:s,s:s,s:s,s:i}", "to", "gguf", "quant", plan.name, "from",
		variant, "source_sha256", v.sha256, "converter", CONVERTER_VERSION);
	if (arca_convert__find_same(out, store, snap, plan.name, params))
		goto done;

	size_t n = arca_gguf_tensor_count(g);
	plans = calloc(n ? n : 1, sizeof(*plans));
	if (!plans) {
		err = arca_error_set(ARCA_ENOMEM, "requantize: out of memory");
		goto done;
	}
	arca_quant_context ctx = { .n_layers = arca_convert__arch_u32(g, arch, "block_count"),
		.n_expert = arca_convert__arch_u32(g, arch, "expert_count") };
	for (size_t i = 0; i < n; i++) {
		plans[i].t = arca_gguf_tensor_at(g, i);
		plans[i].layer = -1;
		sscanf(plans[i].t->name, "blk.%d.", &plans[i].layer);
		ctx.has_output |= !strcmp(plans[i].t->name, "output.weight");
		ctx.n_attn_v += strstr(plans[i].t->name, "attn_v.weight") != NULL ||
			strstr(plans[i].t->name, "attn_qkv.weight") != NULL ||
			strstr(plans[i].t->name, "attn_kv_b.weight") != NULL;
	}
	uint32_t heads = arca_convert__arch_u32(g, arch, "attention.head_count");
	uint32_t heads_kv = arca_convert__arch_u32(g, arch, "attention.head_count_kv");
	ctx.is_70b = ctx.n_layers == 80 && (!strcmp(arch, "qwen2") ||
		(!strcmp(arch, "llama") && heads != heads_kv));
	qsort(plans, n, sizeof(*plans), planned_order);
	int attn_v = 0;
	if ((err = arca_gguf_writer_new(&w, 32)) < 0 || (err = copy_metadata(w, g, &plan)) < 0)
		goto done;
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		const arca_gguf_tensor *t = plans[i].t;
		const arca_ggml_type_info *info = arca_ggml_type_info_get(t->type);
		if (!info || !info->dequantize) {
			err = arca_error_set(ARCA_EUNSUPPORTED, "tensor %s is %s, which arca cannot read",
				t->name, info ? info->name : "unknown");
			break;
		}
		plans[i].type = arca_quant_plan_type(&plan, &ctx, t->name, t->n_dims, t->ne[0],
			t->type, &attn_v);
		err = arca_gguf_add_tensor(w, t->name, t->n_dims, t->ne, plans[i].type);
	}
	arca_blob_writer_opts bo = ARCA_BLOB_WRITER_OPTS_INIT;
	bo.expect_size = (int64_t)arca_gguf_writer_file_size(w);
	if (err < 0 || (err = arca_pool_new(&pool, opts->threads)) < 0 ||
	    (err = arca_blob_writer_new(&bw, store, &bo)) < 0 ||
	    (err = arca_gguf_write_header(w, arca_convert__blob_sink, bw)) < 0)
		goto done;
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		err = requant_tensor(w, g, &plans[i], i, bw, pool);
		out->input_bytes += plans[i].t->nbytes;
		if (err == ARCA_OK && opts->progress && opts->progress(plans[i].t->name, i + 1, n,
				opts->payload))
			err = arca_error_set(ARCA_EINTERRUPTED, "requantize: interrupted");
	}
	arca_file_digests d;
	if (err < 0 || (err = arca_blob_writer_commit(bw, &d)) < 0)
		goto done;
	const char *slash = strchr(snap->repo_id, '/');
	char in_name[300], out_name[300];
	snprintf(in_name, sizeof(in_name), "%s-%s.gguf", slash ? slash + 1 : snap->repo_id, variant);
	snprintf(out_name, sizeof(out_name), "%s-%s.gguf", slash ? slash + 1 : snap->repo_id,
		plan.name);
	arca_convert__file input = { in_name, v.sha256 }, output = { out_name, d.sha256 };
	if ((err = arca_convert__record(&out->artifact, store, snap, "gguf", plan.name, params,
			&input, 1, &output, 1)) < 0)
		goto done;
	memcpy(out->sha256, d.sha256, sizeof(out->sha256));
	out->size = d.size;
	out->n_tensors = n;
done:
	clock_gettime(CLOCK_MONOTONIC, &t1);
	out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	arca_blob_writer_free(bw);
	arca_pool_free(pool);
	arca_gguf_writer_free(w);
	free(plans);
	free(arch);
	json_decref(params);
	arca_convert__close_variant(&v);
	return err;
}
