/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_run.c — `arca run TARGET -p TEXT` (or --prompt-ids): generates from a model in
 * the store or a GGUF file, greedily or sampled, streaming the text as it comes (--chat
 * wraps the prompt in the model's chat form); with --json one document with the prompt's
 * ids and every generated token with its id, text and the top logits of its step (for
 * comparisons with llama.cpp and the float64 reference).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arca/chat_template.h"
#include "arca/generate.h"
#include "arca/tokenizer.h"
#include "device_opts.h"
#include "model_open.h"

static struct {
	const char *prompt, *system;
	int chat;
	const char *prompt_ids;
	int n, threads, ctx, top_k, top_logits, ignore_eos;
	const char *temp, *top_p, *seed, *cache_type;
	cli_device dev;
} opt = { NULL, NULL, 0, NULL, 32, 0, 0, 40, 0, 0, NULL, NULL, NULL, NULL, CLI_DEVICE_INIT };

static const cli_option options[] = {
	{ "prompt", 'p', CLI_STRING, "TEXT", "the prompt", &opt.prompt },
	{ "chat", 0, CLI_FLAG, NULL, "wrap the prompt in the model's chat form (ChatML, DeepSeek, "
		"Llama 3)", &opt.chat },
	{ "system", 0, CLI_STRING, "TEXT", "with --chat: a system message", &opt.system },
	{ "prompt-ids", 0, CLI_STRING, "IDS", "the prompt as comma-separated token ids",
		&opt.prompt_ids },
	{ "n", 'n', CLI_INT, "N", "tokens to generate (default 32)", &opt.n },
	{ "threads", 't', CLI_INT, "N", "threads (default: all cores)", &opt.threads },
	{ "ctx", 'c', CLI_INT, "N", "context size (default: prompt + N)", &opt.ctx },
	{ "cache-type", 0, CLI_STRING, "TYPE", "KV cache type: f16 (default), f32 or q8_0 "
		"(llama.cpp's -ctk/-ctv)", &opt.cache_type },
	{ "temp", 0, CLI_STRING, "T", "temperature (default 0: greedy)", &opt.temp },
	{ "top-k", 0, CLI_INT, "K", "sample from the K most likely (default 40; with --temp)",
		&opt.top_k },
	{ "top-p", 0, CLI_STRING, "P", "nucleus sampling threshold (default 1)", &opt.top_p },
	{ "seed", 0, CLI_STRING, "S", "random seed for sampling (default 0)", &opt.seed },
	{ "top-logits", 0, CLI_INT, "K", "with --json: the K largest logits of every step",
		&opt.top_logits },
	{ "ignore-eos", 0, CLI_FLAG, NULL, "go on past end-of-generation tokens", &opt.ignore_eos },
	CLI_DEVICE_OPTIONS(opt.dev),
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_run_spec = {
	.name = "run",
	.args = "TARGET -p TEXT | TARGET --prompt-ids IDS",
	.summary = "generate tokens with a model",
	.description =
		"TARGET is a .gguf file or a model in the store (REF:VARIANT, or REF for its most\n"
		"faithful variant). The prompt is evaluated as one batch, then tokens are generated\n"
		"one at a time: greedily (the default), or sampled with --temp, --top-k, --top-p\n"
		"and --seed. Stops after N tokens or at the model's end-of-sequence token (unless\n"
		"--ignore-eos). Streams the text as it comes (or, with --prompt-ids, the ids);\n"
		"--json prints one document with the prompt ids, each token with its text (and\n"
		"with --top-logits K its step's K largest logits), the text and the speeds.\n"
		"--chat applies the model's chat form for one user turn (ChatML for Qwen, Yi and\n"
		"InternLM, DeepSeek's, Llama 3's, GLM-4's, Kimi K2's); control-token text in the prompt\n"
		"becomes the token.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* "1,2,3" → ids; usage errors say what is wrong. */
static int parse_ids(const cli_ctx *ctx, const char *text, int32_t **out, size_t *n)
{
	size_t cap = 16, used = 0;
	int32_t *ids = malloc(cap * sizeof(*ids));
	const char *p = text;
	while (ids && *p) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 0 || v > INT32_MAX || (*end && *end != ',')) {
			free(ids);
			return cli_usage_error(ctx, "run: --prompt-ids: expected comma-separated token "
				"ids, got \"%.40s\"", text);
		}
		if (used == cap) {
			int32_t *bigger = realloc(ids, 2 * cap * sizeof(*ids));
			if (!bigger)
				break;
			ids = bigger;
			cap *= 2;
		}
		ids[used++] = (int32_t)v;
		p = *end ? end + 1 : end;
	}
	if (!used) {
		free(ids);
		return cli_usage_error(ctx, "run: --prompt-ids needs at least one id");
	}
	*out = ids;
	*n = used;
	return -1;
}

static arca_err sampling_params(arca_sampling *sp)
{
	char *end;
	*sp = (arca_sampling){ 0.0f, (uint32_t)opt.top_k, 1.0f, 0 };
	if (opt.temp && ((sp->temperature = strtof(opt.temp, &end)), *end || sp->temperature < 0))
		return arca_error_set(ARCA_EINVALID, "--temp must be a number >= 0");
	if (opt.top_p && ((sp->top_p = strtof(opt.top_p, &end)), *end))
		return arca_error_set(ARCA_EINVALID, "--top-p must be a number in (0, 1]");
	if (opt.seed && ((sp->seed = strtoull(opt.seed, &end, 10)), *end))
		return arca_error_set(ARCA_EINVALID, "--seed must be a number");
	return ARCA_OK;
}

static json_t *top_json(const float *logits, uint32_t n_vocab)
{
	json_t *a = json_array();
	uint32_t k = (uint32_t)opt.top_logits < n_vocab ? (uint32_t)opt.top_logits : n_vocab;
	int32_t ids[64];
	float v[64];
	arca_top_logits(logits, n_vocab, k, ids, v);
	for (uint32_t i = 0; i < k; i++)
		json_array_append_new(a, json_pack("[i, f]", ids[i], (double)v[i]));
	return a;
}

/* -p TEXT (in the chat form with --chat) → ids. */
static arca_err tokenize_prompt(const arca_tokenizer *tok, int32_t **ids, size_t *n)
{
	if (!opt.chat)
		return arca_tokenize(tok, opt.prompt, strlen(opt.prompt),
			ARCA_TOK_ADD_SPECIAL | ARCA_TOK_PARSE_SPECIAL, ids, n);
	arca_chat_form form;
	char *text;
	arca_err err = arca_chat_detect(&form, arca_tokenizer_chat_template(tok));
	if (err < 0)
		return arca_error_prefix(err, "--chat");
	if ((err = arca_chat_apply(&text, form, opt.system, opt.prompt)) < 0)
		return err;
	/* the form writes BOS itself where the model wants one */
	err = arca_tokenize(tok, text, strlen(text), ARCA_TOK_PARSE_SPECIAL, ids, n);
	free(text);
	return err;
}

/* What the generation loop hands over, turned into output as it comes. */
typedef struct {
	const cli_ctx *ctx;
	const arca_tokenizer *tok;
	json_t *tokens;   /* --json: one object a token */
	char *text;       /* everything streamed so far */
	size_t text_len;
} run_view;

static int on_token(const arca_generated_token *t, void *payload)
{
	run_view *v = payload;
	char *grown = realloc(v->text, v->text_len + t->piece_len + 1);
	if (grown) {
		v->text = grown;
		memcpy(v->text + v->text_len, t->piece, t->piece_len);
		v->text_len += t->piece_len;
		v->text[v->text_len] = '\0';
	}
	if (v->ctx->json) {
		char bytes[600];
		int pl = arca_token_to_bytes(v->tok, t->id, bytes, sizeof(bytes));
		json_t *o = json_pack("{s:i}", "id", t->id), *ps;
		ps = pl >= 0 ? json_stringn(bytes, (size_t)(pl < 600 ? pl : 600)) : NULL;
		json_object_set_new(o, "text", ps ? ps : json_null());
		if (opt.top_logits)
			json_object_set_new(o, "top", top_json(t->logits, t->n_vocab));
		json_array_append_new(v->tokens, o);
	} else if (!v->ctx->quiet && opt.prompt_ids) {
		printf("%s%d", t->index ? " " : "", t->id);
		fflush(stdout);
	} else if (!v->ctx->quiet) {
		fwrite(t->piece, 1, t->piece_len, stdout);
		fflush(stdout);
	}
	return cli_interrupted;
}

int cmd_run(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_run_spec, argc, argv);
	if (rc >= 0)
		return rc;
	if (!opt.prompt_ids == !opt.prompt)
		return cli_usage_error(&ctx, "run: give the prompt with -p TEXT or --prompt-ids IDS "
			"(one of them)");
	if ((opt.chat || opt.system) && !opt.prompt)
		return cli_usage_error(&ctx, "run: --chat and --system need a text prompt (-p)");
	if (opt.n < 0 || opt.threads < 0 || opt.ctx < 0 || opt.top_logits < 0 ||
	    opt.top_logits > 64 || opt.top_k < 0)
		return cli_usage_error(&ctx, "run: -n, --threads, --ctx, --top-k must be >= 0 and "
			"--top-logits at most 64");
	int32_t *prompt = NULL;
	size_t n_prompt = 0;
	if (opt.prompt_ids && (rc = parse_ids(&ctx, opt.prompt_ids, &prompt, &n_prompt)) >= 0)
		return rc;
	arca_sampling sp;
	arca_session_opts so = ARCA_SESSION_OPTS_INIT;
	arca_err err = sampling_params(&sp);
	if (err == ARCA_OK && opt.cache_type)
		err = arca_cache_type_parse(&so.cache_type, opt.cache_type);
	if (err == ARCA_OK)
		err = cli_device_apply(&opt.dev, &so);
	if (err < 0) {
		free(prompt);
		return cli_usage_error(&ctx, "run: %s", arca_error_last());
	}
	cli_model cm;
	if ((err = cli_model_open(&cm, &ctx, ctx.args[0])) < 0) {
		free(prompt);
		return cli_fail(&ctx, err, "run %s", ctx.args[0]);
	}
	arca_tokenizer *tk = NULL;
	if ((err = arca_tokenizer_from_gguf(&tk, cm.file.gguf)) == ARCA_OK && opt.prompt)
		err = tokenize_prompt(tk, &prompt, &n_prompt);
	if (err < 0) {
		arca_tokenizer_free(tk);
		cli_model_close(&cm);
		free(prompt);
		return cli_fail(&ctx, err, "run %s", ctx.args[0]);
	}
	const arca_model_info *in = arca_model_get_info(cm.model);
	uint32_t n_ctx = opt.ctx ? (uint32_t)opt.ctx : (uint32_t)(n_prompt + (size_t)opt.n + 1);
	arca_session *s = NULL;
	run_view view = { &ctx, tk, json_array(), NULL, 0 };
	arca_generate_opts go = ARCA_GENERATE_OPTS_INIT;
	go.n_predict = (size_t)opt.n;
	go.sampling = &sp;
	go.tokenizer = tk;
	go.ignore_eos = opt.ignore_eos;
	arca_generate_result res = { 0 };
	/* prefill_tps has always included setting up the session (KV cache, threads) */
	double setup = now();
	if (n_prompt + (size_t)opt.n > n_ctx)
		err = arca_error_set(ARCA_EINVALID, "the prompt (%zu tokens) and %d new tokens do "
			"not fit the context of %u (use --ctx)", n_prompt, opt.n, n_ctx);
	so.n_ctx = n_ctx;
	so.n_threads = opt.threads;
	if (err == ARCA_OK && (err = arca_session_new_opts(&s, cm.model, &so)) == ARCA_OK) {
		setup = now() - setup;
		err = arca_generate(&res, s, prompt, n_prompt, &go, on_token, &view);
	}
	if (err == ARCA_OK && res.stop == ARCA_GENERATE_STOPPED)
		err = arca_error_set(ARCA_EINTERRUPTED, "interrupted");
	if (err < 0) {
		rc = cli_fail(&ctx, err, "run %s", ctx.args[0]);
	} else if (ctx.json) {
		json_t *ids = json_array();
		for (size_t i = 0; i < n_prompt; i++)
			json_array_append_new(ids, json_integer(prompt[i]));
		json_t *text = view.text ? json_stringn(view.text, view.text_len) : json_string("");
		char where[256];
		cli_device_describe(s, where, sizeof(where));
		rc = cli_print_json(json_pack("{s:s, s:s, s:o, s:O, s:o, s:s, s:i, s:f, s:f, s:s, s:s}",
			"model", cm.file.what, "arch", in->arch, "prompt_ids", ids, "tokens",
			view.tokens, "text", text ? text : json_null(), "stop",
			arca_generate_stop_name(res.stop), "n_vocab", (int)in->n_vocab, "prefill_tps",
			(double)n_prompt / (setup + res.prefill_seconds), "decode_tps",
			res.n_generated > 1 ? (double)(res.n_generated - 1) / res.decode_seconds : 0.0,
			"kernels", arca_session_kernels(s), "device", where));
	} else {
		if (!ctx.quiet && !opt.prompt_ids)
			fwrite(res.tail, 1, res.tail_len, stdout);
		if (!ctx.quiet)
			printf("\n");
		rc = CLI_EXIT_OK;
	}
	json_decref(view.tokens);
	free(view.text);
	arca_tokenizer_free(tk);
	arca_session_free(s);
	cli_model_close(&cm);
	free(prompt);
	return rc;
}
