/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tensor_view.c — see tensor_view.h: one list of canonical tensors over two
 * backends, a snapshot's safetensors (source.c) and a mapped GGUF read back through the
 * architecture table (gguf_names.c). The view owns the mapping, the parsed headers and,
 * for a REF, the snapshot record they point into. A safetensors file (or a folder with one
 * model.safetensors) outside the store is a source of one shard with no snapshot.
 */
#include "convert/tensor_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arca/catalog.h"
#include "arca/mapfile.h"
#include "arca/model_file.h"
#include "arca/quant.h"
#include "arca/ref.h"
#include "convert/convert_internal.h"

struct arca_tview {
	int is_gguf;
	char what[400];
	/* safetensors */
	arca_snapshot snap;
	int has_snap;
	arca_convert__source src;
	int has_src;
	arca_mapped_file *file;         /* a safetensors file outside the store */
	/* GGUF */
	arca_model_file mf;
	int has_mf;
	arca_convert__gguf_names names;
	char *arch;
	arca_tview_tensor *ts;
	size_t n;
};

static void set_dtype(arca_tview_tensor *t, int type, const char *name)
{
	t->type = type;
	snprintf(t->dtype, sizeof(t->dtype), "%s", name);
}

static void set_rows(arca_tview_tensor *t)
{
	t->row_len = t->n_dims ? t->shape[t->n_dims - 1] : 1;
	t->n_rows = 1;
	for (uint32_t d = 0; d + 1 < t->n_dims; d++)
		t->n_rows *= t->shape[d];
	if (!t->row_len)
		t->n_rows = 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

static arca_err list_source(arca_tview *v);

static arca_err open_safetensors(arca_tview *v, arca_store *store, const char *target)
{
	arca_ref ref;
	arca_err err = arca_ref_parse(&ref, target);
	if (err < 0)
		return err;
	if (!store)
		return arca_error_set(ARCA_EINVALID, "%s: a model in the store needs a store", target);
	if ((err = arca_catalog_find_snapshot(&v->snap, arca_store_catalog(store), &ref)) < 0)
		return err;
	v->has_snap = 1;
	snprintf(v->what, sizeof(v->what), "%s:%s@%.12s", v->snap.hub, v->snap.repo_id,
		v->snap.commit);
	if ((err = arca_convert__source_open(&v->src, store, &v->snap)) < 0)
		return arca_error_prefix(err, "%s", v->what);
	v->has_src = 1;
	return list_source(v);
}

/* The view's tensors from v->src's sorted index. */
static arca_err list_source(arca_tview *v)
{
	if (!(v->ts = calloc(v->src.n_index ? v->src.n_index : 1, sizeof(*v->ts))))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", v->what);
	for (size_t i = 0; i < v->src.n_index; i++) {
		const arca_st_tensor *st = v->src.index[i].t;
		/* FP8 block scales are folded into their tensor's rows */
		if (ends_with(st->name, "_scale_inv"))
			continue;
		arca_tview_tensor *t = &v->ts[v->n++];
		t->name = st->name;
		t->index_ = i;
		int type = st->dtype == ARCA_ST_F32 ? ARCA_GGML_F32 : st->dtype == ARCA_ST_F16 ?
			ARCA_GGML_F16 : st->dtype == ARCA_ST_BF16 ? ARCA_GGML_BF16 : -1;
		set_dtype(t, type, arca_st_dtype_name(st->dtype));
		t->n_dims = st->n_dims > 4 ? 4 : st->n_dims;
		if (st->n_dims > 4)
			return arca_error_set(ARCA_EUNSUPPORTED, "%s: tensor %s has %u dimensions",
				v->what, st->name, st->n_dims);
		memcpy(t->shape, st->shape, t->n_dims * sizeof(uint64_t));
		set_rows(t);
		t->raw = arca_safetensors_data(v->src.index[i].shard->st, st);
		t->nbytes = st->end - st->begin;
	}
	return ARCA_OK;
}

static int ref_order(const void *a, const void *b)
{
	return strcmp(((const arca_convert__ref *)a)->t->name,
		((const arca_convert__ref *)b)->t->name);
}

/* A safetensors file outside the store: one shard of a source with no snapshot (no
 * config.json: FP8 blocks are taken as 128 x 128). */
static arca_err open_safetensors_file(arca_tview *v, const char *path)
{
	snprintf(v->what, sizeof(v->what), "%s", path);
	arca_err err = arca_map_file(&v->file, path);
	if (err < 0)
		return err;
	v->has_src = 1;
	v->src.fp8_block[0] = v->src.fp8_block[1] = 128;
	if (!(v->src.shards = calloc(1, sizeof(*v->src.shards))) ||
	    !(v->src.shards[0].path = strdup(path)))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", path);
	v->src.n_shards = 1;
	arca_convert__shard *s = &v->src.shards[0];
	if ((err = arca_safetensors_open_buffer(&s->st, v->file->data, (size_t)v->file->size,
			path)) < 0)
		return err;
	size_t n = arca_safetensors_count(s->st);
	if (!(v->src.index = calloc(n ? n : 1, sizeof(*v->src.index))))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", path);
	for (size_t i = 0; i < n; i++) {
		v->src.index[i].t = arca_safetensors_tensor(s->st, i);
		v->src.index[i].shard = s;
	}
	v->src.n_index = n;
	qsort(v->src.index, n, sizeof(*v->src.index), ref_order);
	return list_source(v);
}

static int is_gguf_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char magic[4] = { 0 };
	if (!f)
		return 0;
	size_t got = fread(magic, 1, 4, f);
	fclose(f);
	return got == 4 && !memcmp(magic, "GGUF", 4);
}

static arca_err open_gguf(arca_tview *v, arca_store *store, const char *target)
{
	v->is_gguf = 1;
	arca_err err = arca_model_file_open(&v->mf, store, target);
	if (err < 0)
		return err;
	v->has_mf = 1;
	snprintf(v->what, sizeof(v->what), "%s", v->mf.what);
	if ((err = arca_convert__gguf_names_open(&v->names, v->mf.gguf, &v->arch)) < 0)
		return arca_error_prefix(err, "%s", v->what);
	if (!(v->ts = calloc(v->names.n ? v->names.n : 1, sizeof(*v->ts))))
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", v->what);
	for (size_t i = 0; i < v->names.n; i++) {
		const arca_convert__hf_tensor *h = &v->names.ts[i];
		arca_tview_tensor *t = &v->ts[v->n++];
		t->name = h->hf;
		t->index_ = i;
		const arca_ggml_type_info *info = arca_ggml_type_info_get(h->t->type);
		set_dtype(t, h->t->type, info ? info->name : "?");
		t->n_dims = h->spec.n_dims > 4 ? 4 : h->spec.n_dims;
		memcpy(t->shape, h->spec.shape, t->n_dims * sizeof(uint64_t));
		set_rows(t);
		const unsigned char *data = arca_gguf_tensor_data(v->mf.gguf, h->t);
		switch (h->rule->tx) {
		case ARCA_TX_NONE:
			t->raw = data;
			t->nbytes = h->t->nbytes;
			break;
		case ARCA_TX_STACK_EXPERTS:
			t->nbytes = h->t->nbytes / h->t->ne[2];
			t->raw = data + t->nbytes * (uint64_t)h->expert;
			break;
		case ARCA_TX_SPLIT_KV_B:
			t->nbytes = h->t->nbytes + h->t2->nbytes;
			break;
		case ARCA_TX_SPLIT_QKV_GROUPED:   /* rows interleaved from three tensors */
			t->nbytes = h->t->nbytes + h->t2->nbytes + h->t3->nbytes;
			break;
		default: /* a row permutation: stored rows are not in HF order */
			t->raw = data;
			t->nbytes = h->t->nbytes;
			t->layout = (int)h->rule->tx;
			break;
		}
	}
	return ARCA_OK;
}

arca_err arca_convert__tview_open(arca_tview **out, arca_store *store, const char *target)
{
	*out = NULL;
	arca_tview *v = calloc(1, sizeof(*v));
	if (!v)
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", target);
	arca_err err;
	struct stat st;
	char inner[4096];
	if (stat(target, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* a model folder: its single model.safetensors */
		snprintf(inner, sizeof(inner), "%s/model.safetensors", target);
		err = arca_model_file_is_path(inner) ? open_safetensors_file(v, inner) :
			arca_error_set(ARCA_EUNSUPPORTED, "%s: arca diff reads a folder's "
				"model.safetensors; add sharded folders to the store (arca add) and diff "
				"the REF", target);
	} else if (arca_model_file_is_path(target)) {
		err = is_gguf_file(target) ? open_gguf(v, store, target) :
			open_safetensors_file(v, target);
	} else {
		arca_ref ref;
		if ((err = arca_ref_parse(&ref, target)) == ARCA_OK)
			err = ref.variant[0] ? open_gguf(v, store, target) :
				open_safetensors(v, store, target);
	}
	if (err < 0) {
		arca_convert__tview_free(v);
		return err;
	}
	*out = v;
	return ARCA_OK;
}

void arca_convert__tview_free(arca_tview *v)
{
	if (!v)
		return;
	free(v->ts);
	arca_convert__gguf_names_free(&v->names);
	free(v->arch);
	if (v->has_mf)
		arca_model_file_close(&v->mf);
	if (v->has_src)
		arca_convert__source_close(&v->src); /* NULL-safe for the file form's empty parts */
	arca_unmap_file(v->file);
	if (v->has_snap)
		arca_snapshot_dispose(&v->snap);
	free(v);
}

const char *arca_convert__tview_what(const arca_tview *v)
{
	return v->what;
}

const char *arca_convert__tview_format(const arca_tview *v)
{
	return v->is_gguf ? "gguf" : "safetensors";
}

size_t arca_convert__tview_count(const arca_tview *v)
{
	return v->n;
}

const arca_tview_tensor *arca_convert__tview_at(const arca_tview *v, size_t i)
{
	return &v->ts[i];
}

uint64_t arca_convert__tview_scratch(const arca_tview *v, const arca_tview_tensor *t)
{
	return v->is_gguf ? arca_convert__gguf_names_scratch(&v->names, &v->names.ts[t->index_]) :
		0;
}

uint64_t arca_convert__tview_stored_row(const arca_tview *v, const arca_tview_tensor *t,
	uint64_t r)
{
	return v->is_gguf && t->layout ? arca_convert__gguf_names_stored_row(&v->names,
		&v->names.ts[t->index_], r) : r;
}

arca_err arca_convert__tview_rows(const arca_tview *v, const arca_tview_tensor *t, uint64_t r0,
	uint64_t n, float *dst, float *scratch)
{
	if (v->is_gguf)
		return arca_convert__gguf_names_rows(&v->names, &v->names.ts[t->index_], r0, n, dst,
			scratch);
	return arca_convert__read_rows(&v->src, &v->src.index[t->index_], r0, n, dst);
}
