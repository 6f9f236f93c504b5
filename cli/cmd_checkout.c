/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_checkout.c — `arca checkout REF DIR`: write a snapshot's files into a folder, as
 * they are or as the Hugging Face cache lays them out; with --layout ollama a GGUF variant
 * into Ollama's store (checkout_ollama.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/ref.h"
#include "arca/snapshot.h"
#include "checkout_ollama.h"
#include "cli.h"

static struct {
	int force;
	int copy;
	int no_verify;
	const char *layout;
	const char *name;
} opt;

static const cli_option options[] = {
	{ "force", 'f', CLI_FLAG, NULL, "write into a non-empty folder, replacing files", &opt.force },
	{ "copy", 0, CLI_FLAG, NULL, "copy files instead of hard-linking them", &opt.copy },
	{ "no-verify", 0, CLI_FLAG, NULL, "do not re-hash blobs on the way out (with --layout "
		"ollama, nor blobs already in DIR)", &opt.no_verify },
	{ "layout", 0, CLI_STRING, "LAYOUT", "plain (default), hf-cache (DIR is a "
		"huggingface_hub cache root, e.g. ~/.cache/huggingface/hub) or ollama (DIR is an "
		"OLLAMA_MODELS root, e.g. ~/.ollama/models)", &opt.layout },
	{ "name", 0, CLI_STRING, "NAME[:TAG]", "with --layout ollama: the model's name, "
		"[host/][namespace/]model[:tag] (default: the repo's name, lowercased, and the "
		"variant as tag)", &opt.name },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_checkout_spec = {
	.name = "checkout",
	.args = "REF[:VARIANT] DIR",
	.summary = "write a snapshot's files into a folder",
	.description =
		"Writes the files of REF under DIR with their original paths. Each blob is re-hashed\n"
		"first; one whose bytes changed on disk is refused (exit 3). Files are hard links to\n"
		"the store when DIR is on the same filesystem (read-only, sharing the store's copy)\n"
		"and copies otherwise. DIR must be empty or missing unless --force is given.\n"
		"\n"
		"--layout hf-cache writes DIR/models--org--name/{blobs,snapshots,refs,trees} the way\n"
		"huggingface_hub keeps its cache, so HF_HUB_CACHE=DIR HF_HUB_OFFLINE=1 loads the model;\n"
		"DIR may already hold other models.\n"
		"\n"
		"--layout ollama writes a GGUF variant (REF:q4_k_m; make one with arca convert) into\n"
		"Ollama's store at DIR: blobs/sha256-<hex> for the GGUF, a chat template (when arca\n"
		"knows the model's chat form; otherwise Ollama uses the GGUF's own), the licence, stop\n"
		"words and the config, then manifests/<host>/<namespace>/<model>/<tag> last, so\n"
		"OLLAMA_MODELS=DIR ollama run NAME works offline. Blobs already in DIR are re-hashed\n"
		"and replaced when damaged; other models in DIR are left alone; a manifest of the same\n"
		"name is replaced. A variant split into several GGUF files is refused.",
	.options = options,
	.min_args = 2,
	.max_args = 2,
};

static int on_progress(const char *path, uint64_t file_done, uint64_t file_size,
	uint64_t total_done, uint64_t total_size, void *payload)
{
	(void)file_done;
	(void)file_size;
	return cli_progress_update(payload, path, total_done, total_size);
}

int cmd_checkout(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_checkout_spec, argc, argv);
	if (rc >= 0)
		return rc;
	int hf_cache = opt.layout && !strcmp(opt.layout, "hf-cache");
	int ollama = opt.layout && !strcmp(opt.layout, "ollama");
	if (opt.layout && !hf_cache && !ollama && strcmp(opt.layout, "plain") != 0)
		return cli_usage_error(&ctx, "checkout: --layout is plain, hf-cache or ollama, not "
			"'%s'", opt.layout);
	if (opt.name && !ollama)
		return cli_usage_error(&ctx, "checkout: --name goes with --layout ollama");
	arca_ref ref;
	if (arca_ref_parse(&ref, ctx.args[0]) < 0)
		return cli_usage_error(&ctx, "checkout: %s", arca_error_last());
	if (ollama && !ref.variant[0])
		return cli_usage_error(&ctx, "checkout: %s is a snapshot; Ollama runs a GGUF variant: "
			"give REF:VARIANT (make one with: arca convert %s --quant q4_k_m)", ctx.args[0],
			ctx.args[0]);
	if (ollama) {
		cli_checkout_ollama_args a = { ctx.args[0], &ref, ctx.args[1], opt.name, opt.copy,
			opt.no_verify, on_progress };
		return cli_checkout_ollama(&ctx, &a);
	}
	if (ref.variant[0])
		return cli_usage_error(&ctx, "checkout: %s: variants are not checked out as folders "
			"(use --layout ollama, or arca convert --out FILE)", ctx.args[0]);
	arca_store *store;
	arca_err err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "checkout %s", ctx.args[0]);
	arca_snapshot snap;
	if ((err = arca_catalog_find_snapshot(&snap, arca_store_catalog(store), &ref)) < 0) {
		rc = cli_fail(&ctx, err, "checkout %s", ctx.args[0]);
		arca_store_free(store);
		return rc;
	}
	cli_progress bar;
	cli_progress_init(&bar, &ctx, "checking out");
	arca_checkout_opts co = { .dir = ctx.args[1], .force = opt.force, .copy = opt.copy,
		.no_verify = opt.no_verify, .progress = on_progress, .payload = &bar };
	arca_checkout_result res;
	err = hf_cache ? arca_snapshot_checkout_hfcache(&res, store, &snap, &co) :
		arca_snapshot_checkout(&res, store, &snap, &co);
	cli_progress_finish(&bar);
	if (err < 0) {
		rc = cli_fail(&ctx, err, "checkout %s", ctx.args[0]);
	} else if (ctx.json) {
		json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:b}", "ref",
			ctx.args[0], "commit", snap.commit, "dir", ctx.args[1], "layout",
			hf_cache ? "hf-cache" : "plain", "files", (json_int_t)res.n_files,
			"linked", (json_int_t)res.n_linked, "copied", (json_int_t)res.n_copied,
			"bytes", (json_int_t)res.bytes, "verified", !opt.no_verify);
		if (doc && hf_cache) {
			json_object_set_new(doc, "tree_file", json_boolean(res.tree_written));
			if (res.tree_skipped)
				json_object_set_new(doc, "tree_file_skipped", json_string(res.tree_skipped));
		}
		rc = cli_print_json(doc);
	} else {
		rc = CLI_EXIT_OK;
		if (!ctx.quiet) {
			char size[32];
			cli_format_size(size, sizeof(size), res.bytes);
			printf("checked out %s:%s@%.12s into %s: %zu files, %s (%zu hard-linked, %zu "
				"copied)%s\n", snap.hub, snap.repo_id, snap.commit, ctx.args[1], res.n_files,
				size, res.n_linked, res.n_copied, opt.no_verify ? "" : ", all verified");
			if (res.tree_skipped)
				printf("no trees/%.40s.json written: %s\n", snap.commit, res.tree_skipped);
		}
	}
	arca_snapshot_dispose(&snap);
	arca_store_free(store);
	return rc;
}
