/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_pull.c — `arca pull REF` and `arca pull -m MANIFEST`: mirror revisions from
 * Hugging Face or ModelScope, verified, resumable, pinned by a lockfile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arca/manifest.h"
#include "arca/pull.h"
#include "arca/ref.h"
#include "cli.h"

static struct {
	const char *hub;
	const char *endpoint;
	const char *token;
	const char *manifest;
	cli_list include, exclude;
	int jobs, connections, chunk_mib;
	int update_lock;
	int require_hashes;
	const char *identity, *issuer;
	int require_signature;
	int no_index;
} opt;

static const cli_option options[] = {
	{ "include", 'I', CLI_LIST, "GLOB", "only files matching GLOB (repeatable; '*' crosses "
		"'/', \"dir/\" takes a folder)", &opt.include },
	{ "exclude", 'X', CLI_LIST, "GLOB", "leave out files matching GLOB (repeatable)",
		&opt.exclude },
	{ "hub", 0, CLI_STRING, "HUB", "hub when REF names none: hf (default) or modelscope",
		&opt.hub },
	{ "endpoint", 0, CLI_STRING, "URL", "hub address (default: $HF_ENDPOINT or "
		"$MODELSCOPE_ENDPOINT, else the public hub)", &opt.endpoint },
	{ "token", 0, CLI_STRING, "TOKEN", "access token (default: $HF_TOKEN or the huggingface "
		"token file, $MODELSCOPE_API_TOKEN); never stored", &opt.token },
	{ "jobs", 'j', CLI_INT, "N", "files downloaded at once (default 4)", &opt.jobs },
	{ "connections", 'c', CLI_INT, "N", "parallel ranged requests per large file (default 8)",
		&opt.connections },
	{ "chunk-mib", 0, CLI_INT, "N", "size of each ranged request in MiB (default 32)",
		&opt.chunk_mib },
	{ "manifest", 'm', CLI_STRING, "FILE", "pull every model a manifest lists, pinned by "
		"FILE.lock (written when missing)", &opt.manifest },
	{ "update-lock", 0, CLI_FLAG, NULL, "with -m: pull the revisions as they are now and "
		"rewrite the lock", &opt.update_lock },
	{ "require-hashes", 0, CLI_FLAG, NULL, "refuse files the hub lists without a hash "
		"(ModelScope sometimes does; by default they are fetched and marked)",
		&opt.require_hashes },
	{ "require-signature", 0, CLI_FLAG, NULL, "fail unless the repo's model.sig verifies "
		"against what this store trusts (arca key trust)", &opt.require_signature },
	{ "identity", 0, CLI_STRING, "ID", "require model.sig by this signer identity "
		"(certificate or Sigstore keyless e-mail/URI)", &opt.identity },
	{ "issuer", 0, CLI_STRING, "URL", "require this OIDC issuer for a keyless signer",
		&opt.issuer },
	{ "no-index", 0, CLI_FLAG, NULL, "do not index the tensors now (arca index does it "
		"later; indexing reads every weight file once more)", &opt.no_index },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_pull_spec = {
	.name = "pull",
	.args = "REF | -m MANIFEST",
	.summary = "mirror a model revision from Hugging Face or ModelScope",
	.description =
		"Resolves the revision to a commit, lists the files at that commit and downloads them,\n"
		"every byte hashed and compared with the hub's sha256 (or git blob id); a file that\n"
		"does not match is not kept (exit 3). Large files come as parallel ranged requests;\n"
		"an interrupted pull continues where it stopped. Records the licence, the card and\n"
		"the hub's answers as evidence. Running it again fetches nothing already verified.\n"
		"\n"
		"With -m MANIFEST every model it lists is pulled and MANIFEST.lock pins each commit\n"
		"and file hash; with that lock present, a pull reproduces exactly the locked content\n"
		"or fails naming what changed upstream.\n"
		"\n"
		"A repo that holds model.sig (OpenSSF model signing) has it checked against the\n"
		"keys, root certificates and Sigstore roots this store trusts; the result (verified,\n"
		"untrusted signer, keyless) is recorded with the snapshot (arca show). An invalid\n"
		"signature fails the pull (exit 3) and the snapshot stays incomplete; so does any\n"
		"result short of verified with --require-signature, --identity or --issuer.\n"
		"\n"
		"Environment: HF_ENDPOINT, HF_TOKEN, MODELSCOPE_ENDPOINT, MODELSCOPE_API_TOKEN,\n"
		"https_proxy/no_proxy, SSL_CERT_FILE; ARCA_STALL_TIMEOUT (seconds without data\n"
		"before a request is retried, default 30), ARCA_RETRY_BASE_MS (first retry wait,\n"
		"default 1000). --json prints one JSON event per line.",
	.options = options,
	.min_args = 0,
	.max_args = 1,
};

/* ------------------------------------------------------------------ events */

typedef struct {
	const cli_ctx *ctx;
	cli_progress bar;
	double last_json_progress;
} pull_view;

static void print_event_json(const arca_pull_event *ev)
{
	json_t *o = NULL;
	switch (ev->kind) {
	case ARCA_PULL_RESOLVED:
		o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "event", "resolved", "hub", ev->hub, "repo",
			ev->repo, "revision", ev->revision, "commit", ev->commit);
		break;
	case ARCA_PULL_LISTED:
		o = json_pack("{s:s,s:I,s:I,s:I}", "event", "listed", "files", (json_int_t)ev->n_files,
			"to_fetch", (json_int_t)ev->n_todo, "bytes", (json_int_t)ev->total);
		break;
	case ARCA_PULL_FILE_DONE:
		if (ev->err < 0)
			o = json_pack("{s:s,s:s,s:I,s:s,s:s}", "event", "file", "path", ev->path, "size",
				(json_int_t)ev->size, "error", arca_error_name(ev->err), "message",
				ev->message ? ev->message : "");
		else
			o = json_pack("{s:s,s:s,s:I,s:s?,s:s}", "event", "file", "path", ev->path, "size",
				(json_int_t)ev->size, "sha256", ev->sha256, "how", ev->how);
		break;
	case ARCA_PULL_PROGRESS:
		o = json_pack("{s:s,s:I,s:I,s:s,s:I,s:I}", "event", "progress", "done",
			(json_int_t)ev->done, "total", (json_int_t)ev->total, "path", ev->path ? ev->path : "",
			"file_done", (json_int_t)ev->file_done, "file_size", (json_int_t)ev->size);
		break;
	case ARCA_PULL_RETRY:
	case ARCA_PULL_WARNING:
		o = json_pack("{s:s,s:s}", "event", ev->kind == ARCA_PULL_RETRY ? "retry" : "warning",
			"message", ev->message);
		break;
	}
	if (o) {
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		fflush(stdout);
		json_decref(o);
	}
}

static int on_event(const arca_pull_event *ev, void *payload)
{
	pull_view *v = payload;
	const cli_ctx *ctx = v->ctx;
	if (ctx->json) {
		/* one progress line a second is plenty for scripts */
		if (ev->kind == ARCA_PULL_PROGRESS) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
			if (ev->done < ev->total && t - v->last_json_progress < 1.0)
				return cli_interrupted;
			v->last_json_progress = t;
		}
		print_event_json(ev);
		return cli_interrupted;
	}
	switch (ev->kind) {
	case ARCA_PULL_PROGRESS:
		return cli_progress_update_item(&v->bar, ev->path, ev->file_done, ev->size, ev->done,
			ev->total);
	case ARCA_PULL_RETRY:
		if (ctx->show_progress) {
			cli_progress_finish(&v->bar);
			fprintf(stderr, "arca: %s\n", ev->message);
		}
		break;
	case ARCA_PULL_WARNING:
		cli_progress_finish(&v->bar);
		cli_warn(ctx, "%s", ev->message);
		break;
	case ARCA_PULL_RESOLVED:
		if (ctx->show_progress)
			fprintf(stderr, "%s:%s@%s is commit %s\n", ev->hub, ev->repo, ev->revision,
				ev->commit);
		break;
	default:
		break;
	}
	return cli_interrupted;
}

/* ------------------------------------------------------------------ one pull */

static long env_long(const char *name, long fallback)
{
	const char *v = getenv(name);
	if (!v || !v[0])
		return fallback;
	char *end;
	double d = strtod(v, &end);
	return *end || d < 0 ? fallback : (long)d;
}

/* The settings every pull of this run shares; ref, include/exclude and the lock are set
 * per pull. Events go to `view`. */
static arca_pull_opts pull_settings(pull_view *view)
{
	return (arca_pull_opts){
		.endpoint = opt.endpoint, .token = opt.token,
		.require_hashes = opt.require_hashes,
		.identity = opt.identity, .issuer = opt.issuer,
		.require_signature = opt.require_signature,
		.jobs = opt.jobs, .connections = opt.connections,
		.chunk_size = (uint64_t)opt.chunk_mib << 20,
		.stall_timeout_s = env_long("ARCA_STALL_TIMEOUT", 0),
		.backoff_base_ms = env_long("ARCA_RETRY_BASE_MS", 0),
		.on_event = on_event, .payload = view,
	};
}

static void report(const cli_ctx *ctx, const arca_ref *ref, const arca_pull_result *res)
{
	if (ctx->quiet)
		return;
	char size[32], rate[32];
	cli_format_size(size, sizeof(size), res->total_size);
	cli_format_size(rate, sizeof(rate), res->seconds > 0 ?
		(uint64_t)((double)res->bytes_received / res->seconds) : 0);
	if (ctx->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:f,s:s}", "event",
			"done", "hub", res->hub, "repo", ref->repo_id, "revision", res->revision,
			"commit", res->commit, "files", (json_int_t)res->n_files, "downloaded",
			(json_int_t)res->n_downloaded, "reused", (json_int_t)res->n_reused, "size",
			(json_int_t)res->total_size, "received", (json_int_t)res->bytes_received,
			"seconds", res->seconds, "license",
			res->license_summary ? res->license_summary : "unknown");
		if (res->signature_state)
			json_object_set_new(o, "signature", json_pack("{s:s,s:s,s:s?}", "state",
				res->signature_state, "signer", res->signature_signer, "reason",
				res->signature_reason));
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	printf("pulled %s:%s@%s (commit %.12s): %zu files, %s (%zu downloaded, %zu reused, %zu "
		"already there) in %.1f s, %s/s; licence %s\n", res->hub, ref->repo_id, res->revision,
		res->commit,
		res->n_files, size, res->n_downloaded, res->n_reused,
		res->n_files - res->n_downloaded - res->n_reused, res->seconds, rate,
		res->license_summary ? res->license_summary : "unknown");
	if (res->signature_state)
		printf("model.sig: %s, signed by %s%s%s\n", res->signature_state,
			res->signature_signer, res->signature_reason ? "; " : "",
			res->signature_reason ? res->signature_reason : "");
}

static int fail_json(const cli_ctx *ctx, arca_err err, const char *what)
{
	int code = cli_fail(ctx, err, "%s", what);
	if (ctx->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:i}", "event", "error", "error",
			arca_error_name(err), "message", arca_error_last(), "exit", code);
		json_dumpf(o, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(o);
	}
	return code;
}

static int parse_ref(arca_ref *ref, const cli_ctx *ctx, const char *text)
{
	if (arca_ref_parse(ref, text) < 0)
		return cli_usage_error(ctx, "pull: %s", arca_error_last());
	if (ref->variant[0])
		return cli_usage_error(ctx, "pull: %s: variants are made by arca convert, not pulled",
			text);
	if (!ref->hub[0] && opt.hub && arca_ref_canonical_hub(ref->hub, opt.hub) < 0)
		return cli_usage_error(ctx, "pull: --hub: %s", arca_error_last());
	if (!ref->hub[0])
		snprintf(ref->hub, sizeof(ref->hub), "hf");
	if (!strcmp(ref->hub, "local"))
		return cli_usage_error(ctx, "pull: local snapshots come from arca add, not a hub");
	return -1;
}

/* ------------------------------------------------------------------ manifests */

/* What the manifest says arca can do with the model it just pulled. */
static void report_arca(const cli_ctx *ctx, const arca_ref *ref, const arca_manifest_model *m)
{
	if (ctx->quiet || !m->has_arca)
		return;
	if (ctx->json) {
		json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:s?}", "event", "arca", "repo", ref->repo_id,
			"convert", m->arca_convert, "validate", m->arca_validate, "note", m->arca_note);
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return;
	}
	printf("  arca: %s%s%s\n", !m->arca_convert ? "cannot convert it yet" :
		m->arca_validate ? "converts and validates it" : "converts it (not validated)",
		m->arca_note ? "; " : "", m->arca_note ? m->arca_note : "");
}

static int on_model(const arca_manifest_event *ev, void *payload)
{
	pull_view *v = payload;
	switch (ev->kind) {
	case ARCA_MANIFEST_MODEL_NEXT: /* each pull starts its own bar and JSON progress */
		cli_progress_init(&v->bar, v->ctx, "pulling");
		v->last_json_progress = 0;
		break;
	case ARCA_MANIFEST_MODEL_PULLED:
		cli_progress_finish(&v->bar);
		report(v->ctx, ev->ref, ev->result);
		report_arca(v->ctx, ev->ref, ev->model);
		break;
	case ARCA_MANIFEST_MODEL_FAILED:
		cli_progress_finish(&v->bar);
		fail_json(v->ctx, ev->err, "pull -m");
		break;
	}
	return cli_interrupted;
}

static int pull_manifest(const cli_ctx *ctx, arca_store *store)
{
	pull_view view = { ctx, { 0 }, 0 };
	arca_pull_opts settings = pull_settings(&view);
	arca_manifest_pull_opts mo = {
		.manifest_path = opt.manifest, .update_lock = opt.update_lock, .pull = &settings,
		.on_model = on_model, .payload = &view,
	};
	arca_manifest_pull_result res;
	arca_err err = arca_pull_manifest(&res, store, &mo);
	int rc = cli_exit_code(res.models_err);
	if (err < 0 && res.failed_step == ARCA_MANIFEST_STEP_ENTRY)
		rc = cli_usage_error(ctx, "pull: %s", arca_error_last());
	else if (err < 0)
		rc = fail_json(ctx, err, res.failed_step == ARCA_MANIFEST_STEP_WRITE ?
			"pull -m: write lock" : "pull -m");
	else if (res.stopped && rc == CLI_EXIT_OK)
		rc = CLI_EXIT_INTERRUPTED;
	if (res.lock_written && !ctx->quiet && !ctx->json)
		printf("%s %s\n", res.lock_existed ? "updated" : "wrote", res.lock_path);
	arca_manifest_pull_result_dispose(&res);
	return rc;
}

int cmd_pull(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_pull_spec, argc, argv);
	if (rc >= 0)
		return rc;
	if (!opt.manifest == !ctx.n_args)
		return cli_usage_error(&ctx, "pull: give either REF or -m MANIFEST");
	if (opt.update_lock && !opt.manifest)
		return cli_usage_error(&ctx, "pull: --update-lock goes with -m MANIFEST");
	if (opt.chunk_mib < 0 || opt.chunk_mib > 4096)
		return cli_usage_error(&ctx, "pull: --chunk-mib must be between 1 and 4096");
	if (opt.jobs > 64 || opt.connections > 64)
		return cli_usage_error(&ctx, "pull: --jobs and --connections are at most 64");
	if (opt.manifest && (opt.include.n || opt.exclude.n))
		return cli_usage_error(&ctx, "pull: with -m, include/exclude come from the manifest");
	arca_ref ref;
	if (!opt.manifest && (rc = parse_ref(&ref, &ctx, ctx.args[0])) >= 0)
		return rc;
	arca_store *store;
	arca_err err = cli_open_or_create_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return fail_json(&ctx, err, "pull");
	if (opt.manifest) {
		rc = pull_manifest(&ctx, store);
		/* the manifest's models: whatever in the store is not indexed yet */
		if (rc == CLI_EXIT_OK && !opt.no_index)
			cli_index_new(&ctx, store, NULL, 0, 0);
	} else {
		pull_view view = { &ctx, { 0 }, 0 };
		arca_pull_opts po = pull_settings(&view);
		po.ref = &ref;
		po.include = opt.include.items;
		po.n_include = opt.include.n;
		po.exclude = opt.exclude.items;
		po.n_exclude = opt.exclude.n;
		arca_pull_result res;
		cli_progress_init(&view.bar, &ctx, "pulling");
		err = arca_pull(&res, store, &po);
		cli_progress_finish(&view.bar);
		if (err < 0) {
			rc = fail_json(&ctx, err, "pull");
		} else {
			if (!opt.no_index)
				cli_index_new(&ctx, store, NULL, res.snapshot, 0);
			report(&ctx, &ref, &res);
			rc = CLI_EXIT_OK;
			arca_pull_result_dispose(&res);
		}
	}
	arca_store_free(store);
	return rc;
}
