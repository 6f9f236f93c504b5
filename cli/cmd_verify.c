/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_verify.c — `arca verify`: a snapshot's or variant's signatures checked against
 * the store's trust and its re-hashed blobs, or a plain folder against a model.sig the way
 * the reference tool's `verify key` / `verify certificate` do. Exit 0 verified, 3 not.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "arca/signatures.h"
#include "cli.h"

static struct {
	const char *sig;
	cli_list keys;
	cli_list cert_chain;
	cli_list trusted_root;
	cli_list ignore;
	const char *identity;
	const char *issuer;
	int threads;
} opt;

static const cli_option options[] = {
	{ "sig", 's', CLI_STRING, "FILE", "the signature to check (a folder: default "
		"DIR/model.sig; a REF: default the recorded ones)", &opt.sig },
	{ "key", 0, CLI_LIST, "PUB.pem", "a folder: trust this public key (repeatable)",
		&opt.keys },
	{ "cert-chain", 0, CLI_LIST, "CA.pem", "a folder: trust these root certificates "
		"(repeatable)", &opt.cert_chain },
	{ "trusted-root", 0, CLI_LIST, "JSON", "a folder: trust this Sigstore trusted root "
		"(repeatable)", &opt.trusted_root },
	{ "ignore-paths", 0, CLI_LIST, "PATH", "a folder: leave PATH out (repeatable)",
		&opt.ignore },
	{ "identity", 0, CLI_STRING, "ID", "require this signer identity (certificate e-mail or "
		"URI)", &opt.identity },
	{ "issuer", 0, CLI_STRING, "URL", "require this OIDC issuer (Sigstore keyless)",
		&opt.issuer },
	{ "threads", 'j', CLI_INT, "N", "hashing threads (default: one per CPU)", &opt.threads },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_verify_spec = {
	.name = "verify",
	.args = "REF[:VARIANT] [--sig FILE] | DIR [--sig model.sig] [--key PUB.pem | "
		"--cert-chain CA.pem...]",
	.summary = "check model signatures (OpenSSF model signing)",
	.description =
		"REF: checks the signatures recorded for the snapshot or variant (made by arca\n"
		"sign, or that came with a pull), or --sig FILE, in the spec's order: the bundle,\n"
		"the signature against the keys, root certificates and Sigstore roots this store\n"
		"trusts (arca key ls), the statement, then every file: the blobs are re-hashed.\n"
		"Verified when one signature verifies and none is invalid.\n"
		"DIR: checks a plain folder against model.sig, trusting only --key, --cert-chain\n"
		"or --trusted-root (without them, what the store trusts), like the reference\n"
		"tool's verify key / verify certificate. Keyless (Sigstore) signatures are checked\n"
		"offline as far as a trusted root allows; the result says what was not checked.\n"
		"Exit 3 when a signature is invalid, its signer untrusted, or a file differs.",
	.options = options,
	.min_args = 1,
	.max_args = 1,
};

/* ------------------------------------------------------------------ output */

static void iso_time(char *buf, size_t cap, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *mode_name(const arca_sig *s)
{
	return s->mode == ARCA_SIG_KEY ? "key" : s->mode == ARCA_SIG_CERTIFICATE ?
		"certificate" : "keyless";
}

static json_t *check_json(const arca_sig_check *c)
{
	const arca_sig_verdict *v = &c->verdict;
	json_t *files = json_array();
	for (size_t i = 0; i < c->n_files; i++)
		json_array_append_new(files, json_pack("{s:s,s:s,s:s?,s:s?}", "name",
			c->files[i].name, "state", arca_sig_file_state_name(c->files[i].state),
			"signed_sha256", c->files[i].signed_sha256, "found_sha256",
			c->files[i].found_sha256));
	char when[32] = "";
	if (c->sig.integrated_time)
		iso_time(when, sizeof(when), c->sig.integrated_time);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:o}", "origin", c->origin ? c->origin :
		"", "state", arca_sig_state_name(v->state), "signer", v->signer, "trusted_by",
		v->anchor[0] ? v->anchor : NULL, "reason", v->reason[0] ? v->reason : NULL, "files",
		files);
	if (c->sig.payload) {
		json_object_set_new(o, "mode", json_string(mode_name(&c->sig)));
		json_object_set_new(o, "root_digest", json_string(c->sig.root));
		json_object_set_new(o, "model_name", json_string(c->sig.subject ? c->sig.subject :
			""));
	}
	if (c->sig.identity && c->sig.identity[0])
		json_object_set_new(o, "identity", json_string(c->sig.identity));
	if (c->sig.issuer && c->sig.issuer[0])
		json_object_set_new(o, "issuer", json_string(c->sig.issuer));
	json_object_set_new(o, "signed_at", when[0] ? json_string(when) : c->created_at ?
		json_string(c->created_at) : json_null());
	json_object_set_new(o, "checked", json_string(v->checked));
	json_object_set_new(o, "not_checked", json_string(v->unchecked));
	return o;
}

static void print_check(const arca_sig_check *c)
{
	const arca_sig_verdict *v = &c->verdict;
	size_t ok = 0;
	for (size_t i = 0; i < c->n_files; i++)
		ok += c->files[i].state == ARCA_SIG_FILE_OK;
	printf("%s %s signature", arca_sig_state_name(v->state), c->origin ? c->origin : "");
	if (c->sig.payload)
		printf(" (%s mode) by %s", mode_name(&c->sig), v->signer);
	if (v->anchor[0])
		printf(", trusted as %s", v->anchor);
	if (c->created_at)
		printf(", recorded %s", c->created_at);
	if (c->sig.integrated_time) {
		char when[32];
		iso_time(when, sizeof(when), c->sig.integrated_time);
		printf(", logged %s", when);
	}
	printf("\n  %zu of %zu files match", ok, c->n_files);
	if (c->sig.payload)
		printf("; root digest sha256:%s", c->sig.root);
	printf("\n");
	if (v->reason[0])
		printf("  why: %s\n", v->reason);
	if (v->checked[0])
		printf("  checked: %s\n", v->checked);
	if (v->unchecked[0])
		printf("  not checked: %s\n", v->unchecked);
}

static const char *worst(const arca_sig_check *checks, size_t n, arca_err err)
{
	if (err == ARCA_OK)
		return "verified";
	const char *state = n ? arca_sig_state_name(checks[0].verdict.state) : "error";
	for (size_t i = 0; i < n; i++)
		if (checks[i].verdict.state == ARCA_SIG_INVALID)
			return "invalid";
	return state;
}

static int report(const cli_ctx *ctx, const char *subject, const arca_sig_check *checks,
	size_t n, arca_err err, uint64_t bytes, double seconds)
{
	int rc = err == ARCA_OK ? CLI_EXIT_OK : cli_exit_code(err);
	if (ctx->json) {
		json_t *list = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, check_json(&checks[i]));
		int print_rc = cli_print_json(json_pack("{s:s,s:b,s:s,s:I,s:f,s:o}", "subject",
			subject, "ok", err == ARCA_OK, "result", worst(checks, n, err), "bytes_hashed",
			(json_int_t)bytes, "seconds", seconds, "signatures", list));
		if (err < 0)
			fprintf(stderr, "arca: verify %s: %s\n", subject, arca_error_last());
		return print_rc ? print_rc : rc;
	}
	if (!ctx->quiet)
		for (size_t i = 0; i < n; i++)
			print_check(&checks[i]);
	if (err < 0)
		return cli_fail(ctx, err, "verify %s", subject);
	if (!ctx->quiet) {
		char size[32];
		cli_format_size(size, sizeof(size), bytes);
		printf("verified %s (%s hashed in %.2f s)\n", subject, size, seconds);
	}
	return rc;
}

static void on_progress(uint64_t done, uint64_t total, void *payload)
{
	cli_progress_update(payload, "", done, total);
}

/* ------------------------------------------------------------------ the two forms */

static int verify_folder(const cli_ctx *ctx, const char *dir)
{
	char default_sig[4096];
	snprintf(default_sig, sizeof(default_sig), "%s/model.sig", dir);
	arca_trust_set trust = { 0 };
	arca_store *store = NULL;
	arca_err err = ARCA_OK;
	size_t given = opt.keys.n + opt.cert_chain.n + opt.trusted_root.n;
	if (!given && (err = cli_open_store(&store, ctx, ARCA_LOCK_SHARED)) == ARCA_OK)
		err = arca_trust_set_load(&trust, store);
	for (size_t i = 0; err == ARCA_OK && i < opt.keys.n; i++)
		err = arca_trust_set_add_file(&trust, ARCA_ANCHOR_KEY, opt.keys.items[i]);
	for (size_t i = 0; err == ARCA_OK && i < opt.cert_chain.n; i++)
		err = arca_trust_set_add_file(&trust, ARCA_ANCHOR_CA, opt.cert_chain.items[i]);
	for (size_t i = 0; err == ARCA_OK && i < opt.trusted_root.n; i++)
		err = arca_trust_set_add_file(&trust, ARCA_ANCHOR_SIGSTORE, opt.trusted_root.items[i]);
	if (err < 0) {
		int rc = cli_fail(ctx, err, "verify %s", dir);
		arca_trust_set_dispose(&trust);
		arca_store_free(store);
		return rc;
	}
	cli_progress bar;
	cli_progress_init(&bar, ctx, "hashing");
	arca_folder_verify_opts fo = { .dir = dir, .sig_path = opt.sig ? opt.sig : default_sig,
		.trust = &trust, .identity = opt.identity, .issuer = opt.issuer,
		.ignore_paths = opt.ignore.items, .n_ignore = opt.ignore.n, .threads = opt.threads,
		.progress = on_progress, .payload = &bar };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	arca_sig_check c;
	err = arca_verify_folder(&c, &fo);
	cli_progress_finish(&bar);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int rc;
	if (err < 0 && !c.sig.payload) {
		rc = cli_fail(ctx, err, "verify %s", dir);
	} else {
		rc = report(ctx, dir, &c, 1, err, c.bytes_hashed, (double)(t1.tv_sec - t0.tv_sec) +
			(double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
	arca_sig_check_dispose(&c);
	arca_trust_set_dispose(&trust);
	arca_store_free(store);
	return rc;
}

static int verify_ref(const cli_ctx *ctx, const char *text)
{
	arca_ref ref;
	arca_err err = arca_ref_parse(&ref, text);
	if (err < 0)
		return cli_usage_error(ctx, "%s", arca_error_last());
	if (opt.keys.n || opt.cert_chain.n || opt.trusted_root.n || opt.ignore.n)
		return cli_usage_error(ctx, "--key, --cert-chain, --trusted-root and --ignore-paths "
			"are for a folder; a REF is checked against what the store trusts (arca key "
			"trust)");
	arca_store *store;
	if ((err = cli_open_store(&store, ctx, ARCA_LOCK_EXCLUSIVE)) < 0)
		return cli_fail(ctx, err, "verify");
	cli_progress bar;
	cli_progress_init(&bar, ctx, "hashing");
	arca_store_verify_opts vo = { .ref = &ref, .sig_path = opt.sig, .identity = opt.identity,
		.issuer = opt.issuer, .record = 1, .threads = opt.threads, .progress = on_progress,
		.payload = &bar };
	arca_store_verify_result r;
	err = arca_store_verify(&r, store, &vo);
	cli_progress_finish(&bar);
	int rc = r.n_checks || r.subject ? report(ctx, r.subject ? r.subject : text, r.checks,
		r.n_checks, err, r.bytes_hashed, r.seconds) : cli_fail(ctx, err, "verify %s", text);
	arca_store_verify_result_dispose(&r);
	arca_store_free(store);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_verify_spec, argc, argv);
	if (rc >= 0)
		return rc;
	struct stat st;
	const char *arg = ctx.args[0];
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		return verify_folder(&ctx, arg);
	return verify_ref(&ctx, arg);
}
