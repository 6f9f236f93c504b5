/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_convert.c — `arca convert`: Hugging Face snapshot → GGUF, GGUF → another type,
 * GGUF → Hugging Face folder. Results are variants in the store (REF:TYPE) with lineage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/convert.h"
#include "arca/ref.h"
#include "cli.h"

static struct {
	const char *to;
	const char *quant;
	const char *out;
	const char *name;
	int threads;
} opt;

static const cli_option options[] = {
	{ "to", 0, CLI_STRING, "FORMAT", "gguf (default) or safetensors", &opt.to },
	{ "quant", 0, CLI_STRING, "TYPE", "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, "
		"q3_k, q4_k, q5_k, q6_k, iq4_nl, iq4_xs, or a mix: q4_k_m, q4_k_s, q5_k_m, q5_k_s "
		"(default: bf16 for BF16 checkpoints, else f16)", &opt.quant },
	{ "out", 'o', CLI_STRING, "PATH", "also write a copy: a .gguf file, or a folder for "
		"--to safetensors", &opt.out },
	{ "name", 0, CLI_STRING, "NAME", "variant name for --to safetensors (default hf-VARIANT)",
		&opt.name },
	{ "threads", 't', CLI_INT, "N", "quantization threads (default: all cores)", &opt.threads },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_convert_spec = {
	.name = "convert",
	.args = "REF[:VARIANT] [--quant TYPE] [--to gguf|safetensors] [--out PATH]",
	.summary = "convert a stored model to GGUF (quantized) or back to safetensors",
	.description =
		"REF (a Hugging Face snapshot) → GGUF of TYPE, stored as the variant REF:TYPE. A plain\n"
		"type puts every 2-D weight in it (as llama-quantize --pure; norms and biases stay\n"
		"F32); a mix chooses per tensor as llama-quantize does. Quantized blocks are\n"
		"bit-identical to llama.cpp's. REF:VARIANT --quant TYPE requantizes that GGUF.\n"
		"REF:VARIANT --to safetensors turns it back into a Hugging Face folder (dequantized)\n"
		"with the snapshot's config and tokenizer files. A conversion already in the store\n"
		"is reused. NaN or Inf in a source tensor is refused.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
};

static int on_progress(const char *tensor, uint64_t done, uint64_t total, void *payload)
{
	return cli_progress_update(payload, tensor, done, total);
}

static void report(const cli_ctx *ctx, const char *ref, const arca_convert_result *res,
	const char *to)
{
	if (ctx->quiet)
		return;
	char size[32], in[32];
	cli_format_size(size, sizeof(size), res->size);
	cli_format_size(in, sizeof(in), res->input_bytes);
	double rate = res->seconds > 0 && res->input_bytes ?
		(double)res->input_bytes / res->seconds / 1e9 : 0;
	if (ctx->json) {
		cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:f,s:f,s:b,s:s?}",
			"ref", ref, "variant", res->name, "to", to, "arch", res->arch, "sha256",
			res->sha256, "size", (json_int_t)res->size, "tensors", (json_int_t)res->n_tensors,
			"artifact", (json_int_t)res->artifact, "input_bytes", (json_int_t)res->input_bytes,
			"seconds", res->seconds, "input_gb_per_s", rate, "already_stored", res->existed,
			"out", opt.out));
		return;
	}
	if (res->existed)
		printf("%s:%s is already in the store (sha256 %.16s…, %s)\n", ref, res->name,
			res->sha256, size);
	else
		printf("converted %s to %s %s (%s arch, %zu tensors, %s, sha256 %.16s…) in %.2f s "
			"(%.2f GB/s of input %s)\n", ref, to, res->name, res->arch, res->n_tensors, size,
			res->sha256, res->seconds, rate, in);
	if (opt.out)
		printf("wrote %s\n", opt.out);
}

int cmd_convert(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_convert_spec, argc, argv);
	if (rc >= 0)
		return rc;
	const char *to = opt.to ? opt.to : "gguf";
	if (strcmp(to, "gguf") != 0 && strcmp(to, "safetensors") != 0)
		return cli_usage_error(&ctx, "convert: --to is gguf or safetensors, not '%s'", to);
	arca_ref ref;
	if (arca_ref_parse(&ref, ctx.args[0]) < 0)
		return cli_usage_error(&ctx, "convert: %s", arca_error_last());
	int to_st = !strcmp(to, "safetensors");
	if (to_st && !ref.variant[0])
		return cli_usage_error(&ctx, "convert: --to safetensors needs a GGUF variant, e.g. "
			"%s:q8_0", ctx.args[0]);
	if (to_st && opt.quant)
		return cli_usage_error(&ctx, "convert: --quant goes with --to gguf");
	if (ref.variant[0] && !to_st && !opt.quant)
		return cli_usage_error(&ctx, "convert: %s is already GGUF; say --quant TYPE to "
			"requantize or --to safetensors", ctx.args[0]);
	if (opt.quant) {
		arca_quant_plan plan;
		if (arca_quant_plan_parse(&plan, opt.quant) < 0)
			return cli_usage_error(&ctx, "convert: --quant: %s", arca_error_last());
	}
	arca_store *store;
	arca_err err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "convert %s", ctx.args[0]);
	arca_snapshot snap;
	if ((err = arca_catalog_find_snapshot(&snap, arca_store_catalog(store), &ref)) < 0) {
		rc = cli_fail(&ctx, err, "convert %s", ctx.args[0]);
		arca_store_free(store);
		return rc;
	}
	cli_progress bar;
	cli_progress_init(&bar, &ctx, "converting");
	arca_convert_opts co = { .quant = opt.quant, .threads = opt.threads,
		.progress = on_progress, .payload = &bar };
	arca_convert_result res;
	char name[80];
	if (to_st) {
		snprintf(name, sizeof(name), "%s", opt.name ? opt.name : "");
		if (!opt.name)
			snprintf(name, sizeof(name), "hf-%s", ref.variant);
		err = arca_convert_gguf_to_safetensors(&res, store, &snap, ref.variant, name, &co);
	} else if (ref.variant[0]) {
		err = arca_convert_requantize(&res, store, &snap, ref.variant, &co);
	} else {
		err = arca_convert_snapshot_to_gguf(&res, store, &snap, &co);
	}
	cli_progress_finish(&bar);
	if (err == ARCA_OK)
		cli_index_new(&ctx, store, NULL, snap.id, res.artifact);
	if (err == ARCA_OK && opt.out)
		err = arca_convert_export(store, res.artifact, opt.out, to_st);
	if (err < 0) {
		rc = cli_fail(&ctx, err, "convert %s", ctx.args[0]);
	} else {
		char base[600];
		snprintf(base, sizeof(base), "%s:%s", snap.hub, snap.repo_id);
		report(&ctx, base, &res, to);
		rc = CLI_EXIT_OK;
	}
	arca_snapshot_dispose(&snap);
	arca_store_free(store);
	return rc;
}
