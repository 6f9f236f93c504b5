/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_index.c — `arca index`: the tensor index (arca/tensor_index.h) of snapshots and
 * variants brought up to date: what is missing (or, with --force, everything named) is
 * indexed on all cores, with a summary and, for each REF, the stored files that share
 * tensor bytes with it. Also cli_index_new, which add, pull, convert and import call once
 * their snapshot or variant is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/ref.h"
#include "arca/tensor_index.h"
#include "cli.h"

static struct {
	int all;
	int force;
	int threads;
} opt;

static const cli_option options[] = {
	{ "all", 'a', CLI_FLAG, NULL, "every snapshot and variant in the store (the default "
		"without a REF)", &opt.all },
	{ "force", 'f', CLI_FLAG, NULL, "index again what is already indexed", &opt.force },
	{ "threads", 'j', CLI_INT, "N", "threads (default: one per CPU)", &opt.threads },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_index_spec = {
	.name = "index",
	.args = "[REF[:VARIANT]...] [--all] [--force] [-j N]",
	.summary = "index tensors (hashes, statistics, sketches) for audits",
	.description =
		"Records, for every tensor of the safetensors and GGUF files of each REF (a\n"
		"snapshot with its variants, or one :VARIANT), its dtype, shape, byte range, the\n"
		"sha256 of its bytes, statistics of its values and a sketch whose cosine estimates\n"
		"the tensors' cosine. add, pull, convert and import index what they store; this\n"
		"command indexes what is missing (stores made before, files that failed) or, with\n"
		"--force, everything named again. For each REF it lists the stored files that share\n"
		"tensor bytes with it. Exit 1 when a file could not be indexed (it is named).",
	.options = options,
	.min_args = 0,
	.max_args = -1,
};

/* ------------------------------------------------------------------ indexing */

static int on_progress(const char *item, uint64_t done, uint64_t total, void *payload)
{
	return cli_progress_update(payload, item, done, total);
}

static void add_result(arca_index_result *sum, arca_index_result *r)
{
	sum->n_blobs += r->n_blobs;
	sum->n_indexed += r->n_indexed;
	sum->n_skipped += r->n_skipped;
	sum->n_tensors += r->n_tensors;
	sum->bytes += r->bytes;
	sum->seconds += r->seconds;
	arca_index_failure *grown = r->n_failed ? realloc(sum->failures,
		(sum->n_failed + r->n_failed) * sizeof(*grown)) : sum->failures;
	if (grown) {
		sum->failures = grown;
		memcpy(grown + sum->n_failed, r->failures, r->n_failed * sizeof(*grown));
		sum->n_failed += r->n_failed;
		free(r->failures);
		r->failures = NULL;
		r->n_failed = 0;
	}
	arca_index_result_dispose(r);
}

void cli_index_new(const cli_ctx *ctx, arca_store *store, const arca_ref *ref,
	int64_t snapshot, int64_t artifact)
{
	arca_index_result r;
	arca_index_opts io = { 0 };
	arca_err err = ref ? arca_index_ref(&r, store, ref, &io) :
		arca_index_weights(&r, store, snapshot, artifact, &io);
	if (err < 0)
		cli_warn(ctx, "tensor index not updated: %s (arca index will retry)",
			arca_error_last());
	for (size_t i = 0; i < r.n_failed; i++)
		cli_warn(ctx, "tensor index: %s not indexed: %s (arca index will retry)",
			r.failures[i].path, r.failures[i].message);
	arca_index_result_dispose(&r);
}

/* ------------------------------------------------------------------ shared tensors */

static arca_err resolve(const arca_ref *ref, arca_catalog *cat, int64_t *snapshot_out,
	int64_t *artifact_out)
{
	arca_snapshot snap;
	arca_err err = arca_catalog_find_snapshot(&snap, cat, ref);
	if (err < 0)
		return err;
	*snapshot_out = snap.id;
	*artifact_out = 0;
	arca_snapshot_dispose(&snap);
	if (ref->variant[0]) {
		arca_artifact art;
		if ((err = arca_catalog_find_artifact(&art, cat, *snapshot_out, ref->variant)) < 0)
			return err;
		*artifact_out = art.id;
		arca_artifact_dispose(&art);
	}
	return ARCA_OK;
}

/* The ref's weight files with their index state, and who shares tensors with them. */
static arca_err ref_report(json_t **out, arca_catalog *cat, const arca_ref *ref,
	const char *text, int print)
{
	*out = NULL;
	int64_t snapshot, artifact;
	arca_err err = resolve(ref, cat, &snapshot, &artifact);
	if (err < 0)
		return err;
	arca_weight_blob *blobs;
	size_t n;
	if ((err = arca_catalog_list_weight_blobs(&blobs, &n, cat, snapshot, artifact)) < 0)
		return err;
	const char **hashes = calloc(n ? n : 1, sizeof(*hashes));
	json_t *files = json_array();
	for (size_t i = 0; hashes && i < n; i++) {
		hashes[i] = blobs[i].sha256;
		json_array_append_new(files, json_pack("{s:s,s:s,s:I,s:b,s:I}", "path",
			blobs[i].path, "sha256", blobs[i].sha256, "size", (json_int_t)blobs[i].size,
			"indexed", blobs[i].index_version > 0, "tensors",
			(json_int_t)blobs[i].n_tensors));
	}
	arca_tensor_overlap *shared = NULL;
	size_t n_shared = 0;
	err = hashes ? arca_catalog_tensor_overlaps(&shared, &n_shared, cat, hashes, n,
		snapshot) :
		arca_error_set(ARCA_ENOMEM, "index: out of memory");
	json_t *list = json_array();
	for (size_t i = 0; err == ARCA_OK && i < n_shared; i++) {
		const arca_tensor_overlap *o = &shared[i];
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:I,s:I}", "owner", o->owner,
			"path", o->path, "sha256", o->blob, "tensors", (json_int_t)o->n_shared,
			"bytes", (json_int_t)o->bytes_shared));
		if (print) {
			char size[32];
			cli_format_size(size, sizeof(size), o->bytes_shared);
			printf("%s shares %lld tensor%s (%s) with %s: %s\n", text,
				(long long)o->n_shared, o->n_shared == 1 ? "" : "s", size, o->owner, o->path);
		}
	}
	arca_tensor_overlaps_free(shared, n_shared);
	free(hashes);
	arca_weight_blobs_free(blobs, n);
	if (err < 0) {
		json_decref(files);
		json_decref(list);
		return err;
	}
	*out = json_pack("{s:s,s:o,s:o}", "ref", text, "files", files, "shared", list);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ the command */

static json_t *summary_json(const arca_index_result *r, json_t *refs)
{
	json_t *failed = json_array();
	for (size_t i = 0; i < r->n_failed; i++)
		json_array_append_new(failed, json_pack("{s:s,s:s,s:s}", "path", r->failures[i].path,
			"sha256", r->failures[i].sha256, "error", r->failures[i].message));
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:i,s:o,s:o}", "blobs",
		(json_int_t)r->n_blobs, "indexed", (json_int_t)r->n_indexed, "skipped",
		(json_int_t)r->n_skipped, "tensors", (json_int_t)r->n_tensors, "bytes",
		(json_int_t)r->bytes, "seconds", r->seconds, "gb_per_s", r->seconds > 0 ?
		(double)r->bytes / r->seconds / 1e9 : 0.0, "index_version",
		ARCA_TENSOR_INDEX_VERSION, "failed", failed, "refs", refs);
}

int cmd_index(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_index_spec, argc, argv);
	if (rc >= 0)
		return rc;
	if (opt.all && ctx.n_args)
		return cli_usage_error(&ctx, "index: --all or REFs, not both");
	if (opt.threads < 0)
		return cli_usage_error(&ctx, "index: -j %d: a thread count is 0 or more", opt.threads);
	arca_ref *refs = calloc((size_t)ctx.n_args + 1, sizeof(*refs));
	if (!refs)
		return cli_fail(&ctx, ARCA_ENOMEM, "index");
	for (int i = 0; i < ctx.n_args; i++)
		if (arca_ref_parse(&refs[i], ctx.args[i]) < 0) {
			free(refs);
			return cli_usage_error(&ctx, "index: %s: %s", ctx.args[i], arca_error_last());
		}
	arca_store *store;
	arca_err err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0) {
		free(refs);
		return cli_fail(&ctx, err, "index");
	}
	cli_install_signal_handlers();
	cli_progress bar;
	cli_progress_init(&bar, &ctx, "indexing");
	arca_index_opts io = { .threads = opt.threads, .force = opt.force,
		.progress = on_progress, .payload = &bar };
	arca_index_result sum = { 0 }, r;
	const char *failed_ref = NULL;
	if (!ctx.n_args) {
		err = arca_index_weights(&r, store, 0, 0, &io);
		add_result(&sum, &r);
	}
	for (int i = 0; err == ARCA_OK && i < ctx.n_args; i++) {
		err = arca_index_ref(&r, store, &refs[i], &io);
		add_result(&sum, &r);
		if (err < 0)
			failed_ref = ctx.args[i];
	}
	cli_progress_finish(&bar);
	json_t *ref_docs = json_array();
	for (int i = 0; err == ARCA_OK && i < ctx.n_args; i++) {
		json_t *doc;
		if ((err = ref_report(&doc, arca_store_catalog(store), &refs[i], ctx.args[i],
			!ctx.json && !ctx.quiet)) < 0)
			failed_ref = ctx.args[i];
		else
			json_array_append_new(ref_docs, doc);
	}
	if (err < 0) {
		rc = cli_fail(&ctx, err, "index%s%s", failed_ref ? " " : "",
			failed_ref ? failed_ref : "");
		json_decref(ref_docs);
		goto cleanup;
	}
	for (size_t i = 0; i < sum.n_failed; i++)
		fprintf(stderr, "arca: index %s (blob %.12s): %s\n", sum.failures[i].path,
			sum.failures[i].sha256, sum.failures[i].message);
	rc = sum.n_failed ? CLI_EXIT_FAILED : CLI_EXIT_OK;
	if (ctx.json) {
		int print_rc = cli_print_json(summary_json(&sum, ref_docs));
		if (print_rc)
			rc = print_rc;
	} else {
		json_decref(ref_docs);
		if (!ctx.quiet) {
			char size[32];
			cli_format_size(size, sizeof(size), sum.bytes);
			printf("indexed %zu of %zu weight file%s (%zu already indexed, %zu failed): "
				"%llu tensors, %s in %.2f s (%.2f GB/s)\n", sum.n_indexed, sum.n_blobs,
				sum.n_blobs == 1 ? "" : "s", sum.n_skipped, sum.n_failed,
				(unsigned long long)sum.n_tensors, size, sum.seconds, sum.seconds > 0 ?
				(double)sum.bytes / sum.seconds / 1e9 : 0.0);
		}
	}
cleanup:
	arca_index_result_dispose(&sum);
	arca_store_free(store);
	free(refs);
	return rc;
}
