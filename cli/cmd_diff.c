/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_diff.c — `arca diff A B`: two models compared tensor by tensor (arca/diff.h), as
 * a table of the tensors that are not identical, a per-layer summary and totals, or one
 * JSON document. Exit 0 when the diff ran, whatever it found; 1 with --fail-on-change when
 * a tensor changed, was reshaped, added or removed.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arca/diff.h"
#include "cli.h"

static struct {
	int all;
	int fail_on_change;
	int threads;
} opt;

static const cli_option options[] = {
	{ "all", 'a', CLI_FLAG, NULL, "list every tensor, identical ones too", &opt.all },
	{ "fail-on-change", 0, CLI_FLAG, NULL, "exit 1 when a tensor changed, was reshaped, added "
		"or removed", &opt.fail_on_change },
	{ "threads", 'j', CLI_INT, "N", "threads (default: one per CPU)", &opt.threads },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_diff_spec = {
	.name = "diff",
	.args = "A B",
	.summary = "compare two models tensor by tensor (fork audit)",
	.description =
		"A and B are each REF (the snapshot's safetensors), REF:VARIANT (a stored GGUF\n"
		"variant), a GGUF or safetensors file, or a folder with one model.safetensors.\n"
		"Tensors are paired by their Hugging Face names (GGUF\n"
		"names mapped back, llama.cpp's Q/K row permutation undone, experts unstacked)\n"
		"and each gets a verdict: identical (same bytes), same values (equal after\n"
		"decoding, e.g. BF16 vs F32), converted / requantized (within the lossier type's\n"
		"error: a float side is quantized again with the other side's type; the same\n"
		"bytes are 'reproduced', else within 1.5x that type's own error on these weights;\n"
		"float vs float: F16 1e-3, BF16 4e-3 relative L2),\n"
		"changed (with cosine, relative L2 ||a-b||/||a||, fraction of elements changed,\n"
		"max |a-b|), reshaped (shared leading rows compared, new rows counted), added,\n"
		"removed. Then a summary per layer and the global cosine over same-shape matrices\n"
		"(HuRef's PCS: near 1 for a fine-tune, near 0 for an unrelated model).\n"
		"Exit 0 when the diff ran; with --fail-on-change, 1 when anything changed.",
	.options = options,
	.min_args = 2,
	.max_args = 2,
};

static void shape_str(char *buf, size_t cap, uint32_t n, const uint64_t *shape)
{
	size_t used = (size_t)snprintf(buf, cap, "[");
	for (uint32_t d = 0; d < n && used < cap; d++)
		used += (size_t)snprintf(buf + used, cap - used, "%s%llu", d ? "," : "",
			(unsigned long long)shape[d]);
	if (used < cap)
		snprintf(buf + used, cap - used, "]");
}

static int compared(const arca_diff_tensor *t)
{
	return t->n_compared > 0;
}

static json_t *tensor_json(const arca_diff_tensor *t)
{
	json_t *o = json_pack("{s:s,s:s}", "name", t->name, "verdict",
		arca_diff_verdict_name(t->verdict));
	json_object_set_new(o, "layer", t->layer >= 0 ? json_integer(t->layer) : json_null());
	if (t->verdict != ARCA_DIFF_ADDED) {
		json_object_set_new(o, "dtype_a", json_string(t->dtype_a));
		json_object_set_new(o, "shape_a", cli_shape_json(t->n_dims_a, t->shape_a));
		json_object_set_new(o, "bytes_a", json_integer((json_int_t)t->bytes_a));
	}
	if (t->verdict != ARCA_DIFF_REMOVED) {
		json_object_set_new(o, "dtype_b", json_string(t->dtype_b));
		json_object_set_new(o, "shape_b", cli_shape_json(t->n_dims_b, t->shape_b));
		json_object_set_new(o, "bytes_b", json_integer((json_int_t)t->bytes_b));
	}
	if (compared(t)) {
		json_object_set_new(o, "elements", json_integer((json_int_t)t->n_compared));
		json_object_set_new(o, "cosine", json_real(t->cosine));
		json_object_set_new(o, "rel_l2", json_real(t->rel_l2));
		json_object_set_new(o, "max_abs_diff", json_real(t->max_abs));
		json_object_set_new(o, "frac_changed", json_real(t->frac_changed));
		json_object_set_new(o, "bound", json_real(t->bound));
		if (t->own_rel_l2 > 0) {
			json_object_set_new(o, "own_rel_l2", json_real(t->own_rel_l2));
			json_object_set_new(o, "reproduced", json_boolean(t->reproduced));
		}
		json_object_set_new(o, "norm_a", json_real(sqrt(t->norm2_a)));
		json_object_set_new(o, "norm_b", json_real(sqrt(t->norm2_b)));
	}
	if (t->verdict == ARCA_DIFF_RESHAPED) {
		json_object_set_new(o, "new_rows", json_integer(t->new_rows));
		json_object_set_new(o, "shared_rows", compared(t) ?
			json_string(t->shared_same ? "same" : "changed") : json_null());
	}
	return o;
}

static json_t *result_json(const arca_diff_result *r)
{
	json_t *tensors = json_array(), *layers = json_array(), *counts = json_object();
	for (size_t i = 0; i < r->n_tensors; i++)
		json_array_append_new(tensors, tensor_json(&r->tensors[i]));
	json_t *changed_layers = json_array();
	for (size_t i = 0; i < r->n_layers; i++) {
		const arca_diff_layer *l = &r->layers[i];
		json_array_append_new(layers, json_pack("{s:i,s:I,s:I,s:f}", "layer", l->layer,
			"tensors", (json_int_t)l->n_tensors, "changed", (json_int_t)l->n_changed,
			"min_cosine", l->min_cosine));
		if (l->n_changed)
			json_array_append_new(changed_layers, json_integer(l->layer));
	}
	for (int v = 0; v < ARCA_DIFF_VERDICT_COUNT; v++)
		json_object_set_new(counts, arca_diff_verdict_name((arca_diff_verdict)v),
			json_pack("{s:I,s:I}", "tensors", (json_int_t)r->count[v], "bytes",
				(json_int_t)r->bytes[v]));
	json_t *doc = json_pack("{s:{s:s,s:s},s:{s:s,s:s}}", "a", "model", r->what_a, "format",
		r->format_a, "b", "model", r->what_b, "format", r->format_b);
	json_object_set_new(doc, "tensors", tensors);
	json_object_set_new(doc, "layers", layers);
	json_object_set_new(doc, "changed_layers", changed_layers);
	json_object_set_new(doc, "summary", counts);
	json_object_set_new(doc, "global_cosine", json_real(r->global_cosine));
	json_object_set_new(doc, "global_elements", json_integer((json_int_t)r->global_elements));
	json_object_set_new(doc, "bytes_compared", json_integer((json_int_t)r->bytes_read));
	json_object_set_new(doc, "seconds", json_real(r->seconds));
	json_object_set_new(doc, "threads", json_integer(r->threads));
	return doc;
}

static void print_result(const arca_diff_result *r)
{
	printf("A: %s (%s)\nB: %s (%s)\n\n", r->what_a, r->format_a, r->what_b, r->format_b);
	int header = 0;
	for (size_t i = 0; i < r->n_tensors; i++) {
		const arca_diff_tensor *t = &r->tensors[i];
		if (t->verdict == ARCA_DIFF_IDENTICAL && !opt.all)
			continue;
		if (!header++)
			printf("%-48s %-12s %-13s %9s %9s %8s %9s\n", "tensor", "verdict", "dtype",
				"cosine", "rel_l2", "changed", "max|a-b|");
		char dtype[40];
		snprintf(dtype, sizeof(dtype), "%s%s%s", t->dtype_a, t->dtype_a[0] &&
			t->dtype_b[0] ? "->" : "", t->dtype_b);
		printf("%-48s %-12s %-13s", t->name, arca_diff_verdict_name(t->verdict), dtype);
		if (compared(t))
			printf(" %9.6f %9.2e %7.2f%% %9.2e", t->cosine, t->rel_l2, 100 * t->frac_changed,
				t->max_abs);
		if (t->reproduced)
			printf("  reproduced");
		else if (t->own_rel_l2 > 0)
			printf("  (type's own error %.2e)", t->own_rel_l2);
		if (t->verdict == ARCA_DIFF_RESHAPED) {
			char sa[80], sb[80];
			shape_str(sa, sizeof(sa), t->n_dims_a, t->shape_a);
			shape_str(sb, sizeof(sb), t->n_dims_b, t->shape_b);
			printf("  %s -> %s", sa, sb);
			if (compared(t))
				printf(", shared rows %s, %+lld rows", t->shared_same ? "same" : "changed",
					(long long)t->new_rows);
		}
		printf("\n");
	}
	if (!header)
		printf("every tensor is identical\n");
	if (r->n_layers) {
		printf("\nlayers:\n  %-6s %8s %8s %11s\n", "layer", "tensors", "changed", "min cosine");
		for (size_t i = 0; i < r->n_layers; i++) {
			const arca_diff_layer *l = &r->layers[i];
			printf("  %-6d %8zu %8zu %11.6f%s\n", l->layer, l->n_tensors, l->n_changed,
				l->min_cosine, l->n_changed ? "  changed" : "");
		}
	}
	printf("\nsummary:\n");
	for (int v = 0; v < ARCA_DIFF_VERDICT_COUNT; v++) {
		if (!r->count[v])
			continue;
		char size[32];
		cli_format_size(size, sizeof(size), r->bytes[v]);
		printf("  %-12s %6zu tensors  %10s\n", arca_diff_verdict_name((arca_diff_verdict)v),
			r->count[v], size);
	}
	char size[32];
	cli_format_size(size, sizeof(size), r->bytes_read);
	printf("global cosine %.6f over %llu elements of same-shape matrices\n"
		"compared %s in %.2f s on %d threads\n", r->global_cosine,
		(unsigned long long)r->global_elements, size, r->seconds, r->threads);
}

int cmd_diff(int argc, char **argv)
{
	cli_ctx ctx;
	memset(&opt, 0, sizeof(opt));
	int rc = cli_parse(&ctx, &cmd_diff_spec, argc, argv);
	if (rc >= 0)
		return rc;
	const char *a = ctx.args[0], *b = ctx.args[1];
	arca_store *store = NULL;
	arca_err err = ARCA_OK;
	if (!cli_is_local(a) || !cli_is_local(b))
		err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "diff %s %s", a, b);
	cli_install_signal_handlers();
	cli_progress bar;
	cli_progress_init(&bar, &ctx, "comparing");
	arca_diff_opts opts = ARCA_DIFF_OPTS_INIT;
	opts.threads = opt.threads;
	opts.progress = cli_progress_bytes;
	opts.payload = &bar;
	arca_diff_result r;
	err = arca_diff_models(&r, store, a, b, &opts);
	cli_progress_finish(&bar);
	if (err < 0) {
		rc = cli_fail(&ctx, err, "diff %s %s", a, b);
	} else {
		rc = CLI_EXIT_OK;
		if (ctx.json)
			rc = cli_print_json(result_json(&r));
		else if (!ctx.quiet)
			print_result(&r);
		size_t moved = r.count[ARCA_DIFF_CHANGED] + r.count[ARCA_DIFF_RESHAPED] +
			r.count[ARCA_DIFF_ADDED] + r.count[ARCA_DIFF_REMOVED];
		if (rc == CLI_EXIT_OK && opt.fail_on_change && moved)
			rc = CLI_EXIT_FAILED;
	}
	arca_diff_result_dispose(&r);
	arca_store_free(store);
	return rc;
}
