/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_import.c — `arca import FILE.arca...`: a bundle into this store, every blob and
 * signature checked before anything becomes visible.
 */
#include <stdio.h>

#include "arca/bundle.h"
#include "cli.h"

static struct {
	int trust_signer;
	int allow_unsigned;
} opt;

static const cli_option options[] = {
	{ "trust-signer", 0, CLI_FLAG, NULL, "accept a bundle signed by a key this store does not "
		"trust (this import only)", &opt.trust_signer },
	{ "unsigned", 0, CLI_FLAG, NULL, "accept a bundle that is not signed", &opt.allow_unsigned },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_import_spec = {
	.name = "import",
	.args = "FILE.arca... [--trust-signer | --unsigned]",
	.summary = "import a bundle made by arca export, verifying every blob and signature",
	.description =
		"Reads a bundle (or its volumes, in any order; FILE.001 finds FILE.002... beside\n"
		"it). First the manifest and the bundle's signature, against the keys this store\n"
		"trusts (arca key trust); then every blob, hashed as it is stored; anything the\n"
		"format does not have (other entries, links, paths, sizes that lie) is refused.\n"
		"Snapshots, refs, variants, validations and signatures appear in one transaction at\n"
		"the end, each signature checked here. A failed import records nothing; blobs it\n"
		"verified stay unreferenced (arca gc frees them) and a later import reuses them, so\n"
		"volumes can be imported in several runs. Importing again changes nothing. A ref\n"
		"that already names another snapshot here is left as it is (and said).\n"
		"Exit 3 when a blob, the manifest or a signature does not match.",
	.options = options,
	.min_args = 1,
	.max_args = -1,
};

static int on_progress(const char *item, uint64_t done, uint64_t total, void *payload)
{
	return cli_progress_update(payload, item, done, total);
}

static json_t *snapshot_json(const arca_bundle_imported *s)
{
	json_t *kept = json_array();
	for (size_t i = 0; i < s->n_refs_kept; i++)
		json_array_append_new(kept, json_string(s->refs_kept[i]));
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:s?,s:o}", "snapshot", s->subject, "outcome",
		arca_bundle_outcome_name(s->outcome), "files", (json_int_t)s->n_files, "variants",
		(json_int_t)s->n_variants, "signatures_added", (json_int_t)s->n_signatures,
		"signature_state", s->signature_state, "refs_kept", kept);
}

int cmd_import(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_import_spec, argc, argv);
	if (rc >= 0)
		return rc;
	if (opt.trust_signer && opt.allow_unsigned)
		return cli_usage_error(&ctx, "import: --trust-signer and --unsigned do not go together");
	arca_store *store = NULL;
	arca_err err = cli_open_or_create_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "import");
	cli_progress progress;
	cli_progress_init(&progress, &ctx, "importing");
	arca_bundle_import_opts io = { (const char *const *)ctx.args, (size_t)ctx.n_args,
		opt.trust_signer, opt.allow_unsigned, 0, on_progress, &progress };
	arca_bundle_import_result r;
	err = arca_bundle_import(&r, store, &io);
	cli_progress_finish(&progress);
	for (size_t i = 0; err == ARCA_OK && i < r.n_snapshots; i++) {
		arca_ref ref;
		if (arca_ref_parse(&ref, r.snapshots[i].subject) == ARCA_OK)
			cli_index_new(&ctx, store, &ref, 0, 0);
	}
	arca_store_free(store);
	if (err < 0) {
		rc = cli_fail(&ctx, err, "import");
		arca_bundle_import_result_dispose(&r);
		return rc;
	}
	rc = CLI_EXIT_OK;
	if (ctx.json) {
		json_t *snaps = json_array();
		for (size_t i = 0; i < r.n_snapshots; i++)
			json_array_append_new(snaps, snapshot_json(&r.snapshots[i]));
		rc = cli_print_json(json_pack("{s:s,s:s,s:s?,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "bundle",
			r.id, "signature", r.signature, "signer", r.signer, "volumes",
			(json_int_t)r.n_volumes, "volumes_read", (json_int_t)r.n_volumes_read, "blobs",
			(json_int_t)r.n_blobs, "blobs_stored", (json_int_t)r.n_blobs_new, "bytes_stored",
			(json_int_t)r.blob_bytes_new, "bytes_read", (json_int_t)r.bytes_read,
			"snapshots", snaps));
	} else if (!ctx.quiet) {
		char size[32];
		cli_format_size(size, sizeof(size), r.blob_bytes_new);
		printf("bundle %.12s: signature %s%s%s\n", r.id, r.signature,
			r.signer ? ", signed by " : "", r.signer ? r.signer : "");
		for (size_t i = 0; i < r.n_snapshots; i++) {
			const arca_bundle_imported *s = &r.snapshots[i];
			printf("%s %s: %zu file%s, %zu variant%s%s%s\n",
				arca_bundle_outcome_name(s->outcome), s->subject, s->n_files,
				s->n_files == 1 ? "" : "s", s->n_variants, s->n_variants == 1 ? "" : "s",
				s->signature_state ? ", signatures: " : "",
				s->signature_state ? s->signature_state : "");
			for (size_t k = 0; k < s->n_refs_kept; k++)
				printf("  ref %s already names another snapshot here; left as it is\n",
					s->refs_kept[k]);
		}
		printf("%zu of %zu blob%s stored (%s), every one hashed\n", r.n_blobs_new, r.n_blobs,
			r.n_blobs == 1 ? "" : "s", size);
	}
	arca_bundle_import_result_dispose(&r);
	return rc;
}
