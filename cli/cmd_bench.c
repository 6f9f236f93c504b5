/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_bench.c — `arca bench TARGET`: prefill and decode speed of the runtime on a
 * model, as llama-bench measures them (a prompt of P tokens evaluated as one batch; N
 * tokens generated one at a time; both after D tokens already in the cache, as
 * llama-bench's -d), with the read bandwidth decode implies, the KV cache's bytes per
 * token and peak memory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "arca/generate.h"
#include "device_opts.h"
#include "model_open.h"

static struct {
	int prompt, gen, threads, reps, depth, no_warmup;
	const char *cache_type;
	cli_device dev;
} opt = { 512, 128, 0, 3, 0, 0, NULL, CLI_DEVICE_INIT };

static const cli_option options[] = {
	{ "prompt", 'p', CLI_INT, "P", "prompt tokens evaluated as one batch (default 512; 0: skip)",
		&opt.prompt },
	{ "gen", 'n', CLI_INT, "N", "tokens generated one at a time (default 128; 0: skip)",
		&opt.gen },
	{ "threads", 't', CLI_INT, "N", "threads (default: all cores)", &opt.threads },
	{ "reps", 'r', CLI_INT, "R", "repetitions of each measurement (default 3)", &opt.reps },
	{ "depth", 'd', CLI_INT, "D", "tokens in the cache before each measurement (default 0)",
		&opt.depth },
	{ "cache-type", 0, CLI_STRING, "TYPE", "KV cache type: f16 (default), f32 or q8_0",
		&opt.cache_type },
	{ "no-warmup", 0, CLI_FLAG, NULL, "skip the warm-up run (as llama-bench's --no-warmup)",
		&opt.no_warmup },
	CLI_DEVICE_OPTIONS(opt.dev),
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_bench_spec = {
	.name = "bench",
	.args = "TARGET",
	.summary = "measure prefill and decode tokens/s of a model",
	.description =
		"TARGET is a .gguf file or a model in the store (REF:VARIANT, or REF for its most\n"
		"faithful variant). Evaluates a prompt of P pseudo-random tokens as one batch\n"
		"(prefill) and generates N tokens one at a time (decode), R times each, and\n"
		"reports tokens/s (mean and standard deviation), the weight bytes a decoded token\n"
		"reads and the bandwidth that implies, the KV cache's bytes per token (and what it\n"
		"takes in host memory: a GPU keeps its layers' cache itself), and the\n"
		"process's peak resident memory. With --depth D both start after D pseudo-random\n"
		"tokens already in the cache (evaluated once, not timed), as llama-bench's -d.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
};

typedef struct {
	double mean, stdev;
} stat;

static stat summarize(const double *v, int n)
{
	stat s = { 0, 0 };
	for (int i = 0; i < n; i++)
		s.mean += v[i] / n;
	for (int i = 0; i < n && n > 1; i++)
		s.stdev += (v[i] - s.mean) * (v[i] - s.mean) / (n - 1);
	s.stdev = sqrt(s.stdev);
	return s;
}

static int on_token(const arca_generated_token *t, void *payload)
{
	(void)t;
	(void)payload;
	return cli_interrupted;
}

/* One prefill and one decode run; tokens/s into pp and tg (0 when skipped). Decode starts
 * from an empty context with the prompt's first token, as llama-bench's tg does, so its
 * time is the whole generation: that first token's evaluation and the greedy steps. */
static arca_err run_once(arca_session *s, const int32_t *prompt, double *pp, double *tg)
{
	uint32_t depth = (uint32_t)opt.depth;
	arca_generate_opts go = ARCA_GENERATE_OPTS_INIT;
	arca_generate_result res;
	arca_err err;
	*pp = *tg = 0;
	if (opt.prompt > 0) {
		arca_session_truncate(s, depth);
		if ((err = arca_generate(&res, s, prompt, (size_t)opt.prompt, &go, NULL, NULL)) < 0)
			return err;
		*pp = opt.prompt / res.prefill_seconds;
	}
	if (opt.gen > 0) {
		arca_session_truncate(s, depth);
		go.n_predict = (size_t)opt.gen;
		if ((err = arca_generate(&res, s, prompt, 1, &go, on_token, NULL)) < 0)
			return err;
		if (res.stop == ARCA_GENERATE_STOPPED)
			return arca_error_set(ARCA_EINTERRUPTED, "interrupted");
		*tg = opt.gen / (res.prefill_seconds + res.decode_seconds);
	}
	return ARCA_OK;
}

static int report(const cli_ctx *ctx, const cli_model *cm, arca_session *s, stat pp, stat tg)
{
	const arca_model_info *in = arca_model_get_info(cm->model);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double rss_mib = (double)ru.ru_maxrss / 1024.0;
	double gbps = tg.mean * (double)in->weight_bytes / 1e9;
	const char *ctype = arca_cache_type_name(arca_session_cache_type(s));
	uint64_t kv_token = arca_session_kv_bytes_per_token(s);
	const char *gpu = arca_session_device_name(s);
	if (ctx->json) {
		json_t *doc = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:I, s:I, s:i, s:i, s:i, s:i, "
			"s:s, s:I, s:I, s:{s:f, s:f}, s:{s:f, s:f}, s:f, s:f, s:s?}", "model", cm->file.what, "arch",
			in->arch, "weight_types", in->weight_types, "threads", opt.threads, "kernels",
			arca_session_kernels(s), "device", gpu ? gpu : "cpu", "gpu_layers",
			(int)arca_session_gpu_layers(s), "n_params", (json_int_t)in->n_params, "weight_bytes",
			(json_int_t)in->weight_bytes, "prompt", opt.prompt, "gen", opt.gen, "reps",
			opt.reps, "depth", opt.depth, "cache_type", ctype, "kv_bytes_per_token",
			(json_int_t)kv_token, "kv_host_bytes", (json_int_t)arca_session_kv_host_bytes(s),
			"prefill_tps", "mean", pp.mean, "stdev", pp.stdev, "decode_tps", "mean",
			tg.mean, "stdev", tg.stdev, "decode_gbps", gbps, "peak_rss_mib", rss_mib,
			"gpu_products", arca_session_gpu_products(s));
		return cli_print_json(doc);
	}
	if (ctx->quiet)
		return CLI_EXIT_OK;
	char size[32];
	cli_format_size(size, sizeof(size), in->weight_bytes);
	char where[256];
	cli_device_describe(s, where, sizeof(where));
	printf("%s: %s, %s, %s per token, %d threads, %s kernels, on %s\n", cm->file.what,
		in->arch, in->weight_types, size, opt.threads, arca_session_kernels(s), where);
	if (gpu)
		printf("a prompt's products on the GPU: %s\n", arca_session_gpu_products(s));
	char host[32];
	cli_format_size(host, sizeof(host), arca_session_kv_host_bytes(s));
	printf("KV cache %s: %llu bytes per token, %s in host memory", ctype,
		(unsigned long long)kv_token, host);
	if (opt.depth)
		printf(", %d tokens in the cache before each measurement", opt.depth);
	printf("\n");
	if (opt.prompt > 0)
		printf("prefill %5d tokens: %9.2f ± %.2f tokens/s\n", opt.prompt, pp.mean, pp.stdev);
	if (opt.gen > 0)
		printf("decode  %5d tokens: %9.2f ± %.2f tokens/s  (%.2f GB/s of weights)\n", opt.gen,
			tg.mean, tg.stdev, gbps);
	printf("peak resident memory: %.1f MiB\n", rss_mib);
	return CLI_EXIT_OK;
}

int cmd_bench(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_bench_spec, argc, argv);
	if (rc >= 0)
		return rc;
	if (opt.prompt < 0 || opt.gen < 0 || opt.reps < 1 || opt.threads < 0 || opt.depth < 0 ||
	    opt.prompt + opt.gen == 0 || opt.depth > (1 << 20))
		return cli_usage_error(&ctx, "bench: --prompt, --gen and --depth must be >= 0 "
			"(prompt and gen not both 0) and --reps >= 1");
	arca_session_opts so = ARCA_SESSION_OPTS_INIT;
	if ((opt.cache_type && arca_cache_type_parse(&so.cache_type, opt.cache_type) < 0) ||
	    cli_device_apply(&opt.dev, &so) < 0)
		return cli_usage_error(&ctx, "bench: %s", arca_error_last());
	cli_model cm;
	arca_err err = cli_model_open(&cm, &ctx, ctx.args[0]);
	if (err < 0)
		return cli_fail(&ctx, err, "bench %s", ctx.args[0]);
	const arca_model_info *in = arca_model_get_info(cm.model);
	arca_session *s = NULL;
	so.n_ctx = (uint32_t)opt.depth + (uint32_t)(opt.prompt > opt.gen ? opt.prompt : opt.gen) + 1;
	so.n_threads = opt.threads;
	size_t n_ids = (size_t)opt.depth + (size_t)opt.prompt + 1;
	int32_t *ids = malloc(n_ids * sizeof(int32_t)), *prompt = ids + opt.depth;
	double *pps = calloc((size_t)opt.reps, sizeof(double));
	double *tgs = calloc((size_t)opt.reps, sizeof(double));
	if (!ids || !pps || !tgs)
		err = arca_error_set(ARCA_ENOMEM, "out of memory");
	else
		err = arca_session_new_opts(&s, cm.model, &so);
	if (err == ARCA_OK) {
		/* the prompt's tokens as before --depth existed; the depth's after them */
		uint64_t state = 42;
		for (size_t i = 0; i < n_ids; i++) {
			state = state * 6364136223846793005ull + 1442695040888963407ull;
			ids[(i + (size_t)opt.depth) % n_ids] = (int32_t)((state >> 33) % in->n_vocab);
		}
		const float *logits;
		if (opt.depth)
			err = arca_session_eval(s, ids, (size_t)opt.depth, 0, &logits);
		if (!opt.threads)
			opt.threads = arca_session_threads(s);
		double warm_pp, warm_tg;
		int saved = opt.gen;
		opt.gen = opt.gen ? 4 : 0; /* warm-up: page in the weights, start the threads */
		if (err == ARCA_OK && !opt.no_warmup)
			err = run_once(s, prompt, &warm_pp, &warm_tg);
		opt.gen = saved;
		for (int r = 0; r < opt.reps && err == ARCA_OK; r++)
			err = run_once(s, prompt, &pps[r], &tgs[r]);
	}
	if (err < 0)
		rc = cli_fail(&ctx, err, "bench %s", ctx.args[0]);
	else
		rc = report(&ctx, &cm, s, summarize(pps, opt.reps), summarize(tgs, opt.reps));
	free(ids);
	free(pps);
	free(tgs);
	arca_session_free(s);
	cli_model_close(&cm);
	return rc;
}
