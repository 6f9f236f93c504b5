/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_validate.c — `arca validate TARGET`: runs the fixed prompt set, records the
 * fingerprint (greedy tokens, logits digest, agreement with the unquantized source) in the
 * catalog, and compares it with the fingerprint recorded before for the same commit and
 * variant: exit 3 when the stored model no longer behaves as it did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/catalog.h"
#include "arca/quant.h"
#include "arca/tokenizer.h"
#include "arca/validate.h"
#include "device_opts.h"
#include "model_open.h"

static struct {
	const char *source;
	int no_source, threads, no_record;
	const char *cache_type;
	cli_device dev;
	char prompt_set[96];       /* the fingerprint's key: prompts, cache type, device */
} opt = { .dev = CLI_DEVICE_INIT };

static const cli_option options[] = {
	{ "source", 0, CLI_STRING, "VARIANT", "the unquantized variant to compare with (default: "
		"f32, bf16 or f16 of the same snapshot, when the target is quantized)", &opt.source },
	{ "no-source", 0, CLI_FLAG, NULL, "do not compare with a source variant", &opt.no_source },
	{ "no-record", 0, CLI_FLAG, NULL, "compare with the recorded fingerprint but record "
		"nothing", &opt.no_record },
	{ "threads", 't', CLI_INT, "N", "threads (default: all cores)", &opt.threads },
	{ "cache-type", 0, CLI_STRING, "TYPE", "KV cache type: f16 (default), f32 or q8_0; a "
		"fingerprint is compared only with ones made with the same type", &opt.cache_type },
	CLI_DEVICE_OPTIONS(opt.dev),
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_validate_spec = {
	.name = "validate",
	.args = "TARGET",
	.summary = "check that a stored model still behaves as recorded",
	.description =
		"TARGET is a model in the store (REF:VARIANT, or REF for its most faithful variant)\n"
		"or a .gguf file (then nothing is recorded). Runs the prompt set " ARCA_VALIDATE_PROMPT_SET
		"\n(English, Chinese, code, numbers), 16 greedy tokens each, and fingerprints the\n"
		"result: the tokens and a digest of every step's logits rounded to 1/256. A\n"
		"quantized variant is also compared with the snapshot's unquantized variant on the\n"
		"same text: top-1 agreement and mean KL divergence of the next-token distributions.\n"
		"The first run records the fingerprint; later runs (also on a re-pulled or imported\n"
		"copy of the same commit) compare with it and exit 3 when the tokens or, with the\n"
		"same kernels, the digest differ. Fingerprints are kept per KV cache type\n"
		"(--cache-type): one made with f16 or q8_0 is never compared with an f32 one;\n"
		"and per device: one made on a GPU (--gpu) only with others made on a GPU.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
};

static const char *const float_variants[] = { "f32", "bf16", "f16", NULL };

static int is_float_variant(const char *v)
{
	for (size_t i = 0; float_variants[i]; i++)
		if (!strcmp(v, float_variants[i]))
			return 1;
	return 0;
}

/* The source variant to compare with: --source, else the first float variant stored. */
static const char *pick_source(const cli_model *cm)
{
	if (opt.no_source || !cm->store || is_float_variant(cm->file.variant))
		return NULL;
	if (opt.source)
		return opt.source;
	for (size_t i = 0; float_variants[i]; i++) {
		arca_artifact art;
		if (arca_catalog_find_artifact(&art, arca_store_catalog(cm->store), cm->file.snapshot,
				float_variants[i]) == ARCA_OK) {
			arca_artifact_dispose(&art);
			return float_variants[i];
		}
	}
	arca_error_clear();
	return NULL;
}

static arca_err tokenize_prompts(const arca_tokenizer *tok, int32_t **ids, size_t *n)
{
	for (size_t i = 0; i < arca_validate_n_prompts(); i++) {
		const char *text = arca_validate_prompt(i);
		arca_err err = arca_tokenize(tok, text, strlen(text), ARCA_TOK_ADD_SPECIAL, &ids[i],
			&n[i]);
		if (err < 0)
			return err;
	}
	return ARCA_OK;
}

static json_t *tokens_json(const arca_fingerprint *f)
{
	json_t *o = json_object();
	for (size_t i = 0; i < arca_validate_n_prompts(); i++) {
		json_t *a = json_array();
		for (size_t t = 0; t < f->n_tokens[i]; t++)
			json_array_append_new(a, json_integer(f->tokens[i][t]));
		json_object_set_new(o, arca_validate_prompt_name(i), a);
	}
	return o;
}

static json_t *metrics_json(const arca_fingerprint *f, const char *source, int threads,
	const char *kernels)
{
	json_t *m = json_pack("{s:s, s:s, s:i}", "kernels", kernels, "arca",
		ARCA_VERSION, "threads", threads);
	if (f->compared)
		json_object_set_new(m, "agreement", json_pack("{s:s, s:I, s:f, s:f, s:f}", "source",
			source, "positions", (json_int_t)f->positions, "top1", f->top1_agreement,
			"mean_kld", f->mean_kld, "max_kld", f->max_kld));
	return m;
}

static int report(const cli_ctx *ctx, const cli_model *cm, const arca_fingerprint *f,
	json_t *tokens, json_t *metrics, const arca_validation_verdict *v)
{
	int differs = v->status == ARCA_VALIDATION_DIFFERS;
	if (ctx->json) {
		json_t *doc = json_pack("{s:s, s:s, s:s, s:O, s:s, s:O, s:s}", "model", cm->file.what,
			"prompt_set", opt.prompt_set, "status",
			arca_validation_status_name(v->status), "tokens", tokens,
			"logits_digest", f->logits_digest, "metrics", metrics, "compared_with",
			v->had_record ? v->at : "");
		cli_print_json(doc);
	} else if (!ctx->quiet) {
		printf("%s: prompt set %s, digest %.16s…\n", cm->file.what, opt.prompt_set,
			f->logits_digest);
		if (f->compared)
			printf("agreement with %s: top-1 %.2f%%, mean KL %.6f (max %.6f) over %zu "
				"positions\n", json_string_value(json_object_get(json_object_get(metrics,
				"agreement"), "source")), 100.0 * f->top1_agreement, f->mean_kld, f->max_kld,
				f->positions);
		if (!v->had_record)
			printf("%s\n", v->status == ARCA_VALIDATION_RECORDED ?
				"fingerprint recorded: later runs compare with it" :
				"nothing recorded (a file outside the store)");
		else if (!differs)
			printf("behaves as recorded on %s%s\n", v->at, v->digest_comparable ? "" :
				" (tokens only: the logits digest was made with other kernels)");
	}
	if (differs) {
		fprintf(stderr, "arca: validate %s: the model no longer behaves as recorded on %s: "
			"%s differ\n", cm->file.what, v->at, !v->same_tokens ? "the greedy tokens" :
			"the logits");
		return CLI_EXIT_VERIFY;
	}
	return CLI_EXIT_OK;
}

static arca_err open_source(cli_model *src, const cli_ctx *ctx, const cli_model *cm,
	const char *variant)
{
	char target[400];
	snprintf(target, sizeof(target), "%s:%s", cm->file.snapshot_ref, variant);
	return cli_model_open(src, ctx, target);
}

int cmd_validate(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_validate_spec, argc, argv);
	if (rc >= 0)
		return rc;
	/* the variant runs with the cache type asked for; the source, the reference the
	 * agreement is measured against, always with the exact F32 cache */
	arca_session_opts so = ARCA_SESSION_OPTS_INIT, ref_so = ARCA_SESSION_OPTS_INIT;
	ref_so.cache_type = ARCA_GGML_F32;
	if (opt.cache_type && arca_cache_type_parse(&so.cache_type, opt.cache_type) < 0)
		return cli_usage_error(&ctx, "validate: %s", arca_error_last());
	if (cli_device_apply(&opt.dev, &so) < 0)
		return cli_usage_error(&ctx, "validate: %s", arca_error_last());
	/* a GPU multiplies in other precisions than the CPU path (float or half activations,
	 * where the CPU rounds them to 8 bits for quantized weights), so near-ties may resolve
	 * otherwise: its fingerprints are kept apart, as each cache type's are */
	snprintf(opt.prompt_set, sizeof(opt.prompt_set), "%s%s",
		arca_validate_prompt_set(so.cache_type), so.device >= 0 ? "+gpu" : "");
	so.n_ctx = ref_so.n_ctx = 256;
	so.n_threads = ref_so.n_threads = opt.threads;
	cli_model cm, src = { 0 };
	arca_err err = cli_model_open(&cm, &ctx, ctx.args[0]);
	if (err < 0)
		return cli_fail(&ctx, err, "validate %s", ctx.args[0]);
	arca_tokenizer *tok = NULL;
	arca_session *s = NULL, *ref = NULL;
	int32_t *ids[8] = { 0 };
	size_t n[8] = { 0 };
	arca_fingerprint f = { 0 };
	const char *source = pick_source(&cm);
	if ((err = arca_tokenizer_from_gguf(&tok, cm.file.gguf)) == ARCA_OK &&
	    (err = tokenize_prompts(tok, ids, n)) == ARCA_OK &&
	    (err = arca_session_new_opts(&s, cm.model, &so)) == ARCA_OK && source &&
	    (err = open_source(&src, &ctx, &cm, source)) == ARCA_OK)
		err = arca_session_new_opts(&ref, src.model, &ref_so);
	if (err == ARCA_OK)
		err = arca_validate_run(&f, s, ref, (const int32_t *const *)ids, n,
			arca_validate_n_prompts());
	json_t *tokens = NULL, *metrics = NULL;
	arca_validation_verdict v = { 0 };
	if (err == ARCA_OK) {
		tokens = tokens_json(&f);
		metrics = metrics_json(&f, source, arca_session_threads(s), arca_session_kernels(s));
		char *t = json_dumps(tokens, JSON_COMPACT), *m = json_dumps(metrics, JSON_COMPACT);
		arca_validation_run run = {
			.artifact = cm.file.artifact, .commit = cm.file.commit,
			.variant = cm.file.variant, .prompt_set = opt.prompt_set,
			.tokens_json = t, .logits_digest = f.logits_digest,
			.kernels = arca_session_kernels(s), .metrics_json = m,
		};
		if (cm.store && opt.no_record)
			err = arca_validation_check(&v, arca_store_catalog(cm.store), &run);
		else if (cm.store)
			err = arca_validation_record(&v, arca_store_catalog(cm.store), &run);
		free(t);
		free(m);
	}
	rc = err < 0 ? cli_fail(&ctx, err, "validate %s", ctx.args[0]) :
		report(&ctx, &cm, &f, tokens, metrics, &v);
	json_decref(tokens);
	json_decref(metrics);
	arca_fingerprint_dispose(&f);
	for (size_t i = 0; i < 8; i++)
		free(ids[i]);
	arca_session_free(s);
	arca_session_free(ref);
	arca_tokenizer_free(tok);
	cli_model_close(&src);
	cli_model_close(&cm);
	return rc;
}
