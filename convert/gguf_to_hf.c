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

static arca_err write_tensor(const arca_convert__gguf_names *b,
	const arca_convert__hf_tensor *h, arca_blob_writer *bw)
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
	uint64_t scratch_n = arca_convert__gguf_names_scratch(b, h);
	float *f = malloc(len * sizeof(float) + 1), *scratch = malloc(scratch_n * sizeof(float) + 1);
	unsigned char *q = malloc(len * 4 + 1);
	arca_err err = f && scratch && q ? ARCA_OK :
		arca_error_set(ARCA_ENOMEM, "convert %s: out of memory", h->hf);
	uint64_t out_row = arca_ggml_row_size(out_type, len);
	for (uint64_t r = 0; r < rows && err == ARCA_OK; r++) {
		if ((err = arca_convert__gguf_names_rows(b, h, r, 1, f, scratch)) < 0 ||
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

arca_err arca_convert_gguf_to_safetensors(arca_convert_result *out, arca_store *store,
	const arca_snapshot *snap, const char *variant, const char *name,
	const arca_convert_opts *opts)
{
	(void)opts;
	memset(out, 0, sizeof(*out));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	arca_convert__gguf_names b;
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
	if ((err = arca_convert__gguf_names_open(&b, v.gguf, &arch)) < 0)
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
	arca_convert__gguf_names_free(&b);
	free(arch);
	json_decref(params);
	arca_convert__close_variant(&v);
	return err;
}
