/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_export.c — `arca export REF[:VARIANT]... -o FILE.arca`: snapshots, variants and
 * every blob they use in one bundle (or numbered volumes) for a machine with no network.
 */
#include <stdio.h>
#include <stdlib.h>

#include "arca/bundle.h"
#include "cli.h"

static struct {
	const char *out;
	const char *split;
	int sign;
	const char *key;
	const char *passphrase_file;
	int level;
	int threads;
} opt;

static const cli_option options[] = {
	{ "out", 'o', CLI_STRING, "FILE", "the bundle to write (required; with --split: "
		"FILE.001, FILE.002, ...)", &opt.out },
	{ "split", 0, CLI_STRING, "SIZE", "volumes of at most SIZE bytes each (4G, 700M) for "
		"removable media", &opt.split },
	{ "sign", 0, CLI_FLAG, NULL, "sign the bundle with the store's own key (arca key new)",
		&opt.sign },
	{ "key", 'k', CLI_STRING, "NAME", "sign with this own key (implies --sign)", &opt.key },
	{ "passphrase-file", 0, CLI_STRING, "FILE", "the key's passphrase is the first line of "
		"FILE (or set ARCA_KEY_PASSPHRASE)", &opt.passphrase_file },
	{ "level", 0, CLI_INT, "N", "zstd level, 1-19 (default 3)", &opt.level },
	{ "threads", 'j', CLI_INT, "N", "zstd compression threads (default: one per CPU)",
		&opt.threads },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_export_spec = {
	.name = "export",
	.args = "REF[:VARIANT]... -o FILE.arca [--split SIZE] [--sign]",
	.summary = "write snapshots and variants into a bundle for an air-gapped machine",
	.description =
		"Writes one bundle (a zstd-compressed pax tar) holding a manifest of each snapshot\n"
		"(repo, commit, files with sizes and hashes, licence, card, hub evidence, refs),\n"
		"its variants (lineage, validation fingerprints), their signatures, and every blob\n"
		"they use, once. REF takes the snapshot with all its variants; REF:VARIANT the\n"
		"snapshot's files and that variant. --split writes numbered volumes, none larger\n"
		"than SIZE; a blob larger than a volume is carried in pieces. --sign signs the\n"
		"manifest (which names every blob's SHA-256) with an own key; arca import checks it\n"
		"against the keys the importing store trusts. The format: docs/bundle.md.",
	.options = options,
	.min_args = 1,
	.max_args = -1,
};

static int on_progress(const char *item, uint64_t done, uint64_t total, void *payload)
{
	return cli_progress_update(payload, item, done, total);
}

int cmd_export(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_export_spec, argc, argv);
	if (rc >= 0)
		return rc;
	if (!opt.out)
		return cli_usage_error(&ctx, "export: give the bundle to write with -o FILE.arca");
	uint64_t split = 0;
	if (opt.split && cli_parse_size(opt.split, &split) < 0)
		return cli_usage_error(&ctx, "export: --split: %s", arca_error_last());
	if (opt.split && split == 0)
		return cli_usage_error(&ctx, "export: --split must be more than 0");
	if (opt.level < 0 || opt.level > 19 || opt.threads < 0 || opt.threads > 256)
		return cli_usage_error(&ctx, "export: --level is 1-19, --threads 1-256");
	arca_ref *refs = calloc((size_t)ctx.n_args, sizeof(*refs));
	if (!refs)
		return cli_fail(&ctx, ARCA_ENOMEM, "export");
	for (int i = 0; i < ctx.n_args; i++)
		if (arca_ref_parse(&refs[i], ctx.args[i]) < 0) {
			free(refs);
			return cli_usage_error(&ctx, "%s", arca_error_last());
		}
	char *pass = NULL;
	arca_store *store = NULL;
	arca_err err = ARCA_OK;
	if ((opt.sign || opt.key) && (err = cli_read_passphrase(&pass, opt.passphrase_file)) < 0) {
		free(refs);
		return cli_fail(&ctx, err, "export");
	}
	if ((err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED)) < 0) {
		cli_free_passphrase(pass);
		free(refs);
		return cli_fail(&ctx, err, "export");
	}
	cli_progress progress;
	cli_progress_init(&progress, &ctx, "exporting");
	arca_bundle_export_opts eo = { refs, (size_t)ctx.n_args, opt.out, split, opt.sign || opt.key,
		opt.key, pass, opt.level, opt.threads, on_progress, &progress };
	arca_bundle_export_result r;
	err = arca_bundle_export(&r, store, &eo);
	cli_progress_finish(&progress);
	cli_free_passphrase(pass);
	free(refs);
	arca_store_free(store);
	if (err < 0)
		return cli_fail(&ctx, err, "export");
	rc = CLI_EXIT_OK;
	if (ctx.json) {
		json_t *vols = json_array();
		for (size_t i = 0; i < r.n_volumes; i++)
			json_array_append_new(vols, json_string(r.volumes[i]));
		rc = cli_print_json(json_pack("{s:s,s:o,s:I,s:I,s:I,s:I,s:I,s:b,s:s?,s:s?,s:i}", "bundle",
			r.id, "volumes", vols, "snapshots", (json_int_t)r.n_snapshots, "variants",
			(json_int_t)r.n_variants, "blobs", (json_int_t)r.n_blobs, "blob_bytes",
			(json_int_t)r.blob_bytes, "bytes", (json_int_t)r.bytes_written, "signed",
			r.key_name != NULL, "key", r.key_name, "key_id", r.key_name ? r.key_id : NULL,
			"threads", r.threads));
	} else if (!ctx.quiet) {
		char in[32], out[32];
		cli_format_size(in, sizeof(in), r.blob_bytes);
		cli_format_size(out, sizeof(out), r.bytes_written);
		printf("exported %zu snapshot%s, %zu variant%s, %zu blob%s (%s) into %s%s (%s), "
			"bundle %.12s\n", r.n_snapshots, r.n_snapshots == 1 ? "" : "s", r.n_variants,
			r.n_variants == 1 ? "" : "s", r.n_blobs, r.n_blobs == 1 ? "" : "s", in,
			r.n_volumes == 1 ? "" : "volumes ", r.n_volumes == 1 ? r.volumes[0] : opt.out,
			out, r.id);
		for (size_t i = 0; r.n_volumes > 1 && i < r.n_volumes; i++)
			printf("  %s\n", r.volumes[i]);
		if (r.key_name)
			printf("signed with key %s (%.16s…)\n", r.key_name, r.key_id);
		else
			printf("not signed: arca import needs --unsigned for it (sign with --sign)\n");
	}
	arca_bundle_export_result_dispose(&r);
	return rc;
}
