/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_sign.c — `arca sign REF[:VARIANT]`: an OpenSSF model-signing signature over a
 * snapshot's files or a variant's outputs with one of the store's keys, kept in the store
 * and, with --out, written where the reference tool looks for it.
 */
#include <stdio.h>

#include "arca/signatures.h"
#include "cli.h"

static struct {
	const char *key;
	const char *passphrase_file;
	const char *out;
} opt;

static const cli_option options[] = {
	{ "key", 'k', CLI_STRING, "NAME", "the store's own key to sign with (default: the only "
		"one)", &opt.key },
	{ "passphrase-file", 0, CLI_STRING, "FILE", "the key's passphrase is the first line of "
		"FILE (or set ARCA_KEY_PASSPHRASE)", &opt.passphrase_file },
	{ "out", 'o', CLI_STRING, "FILE", "also write the signature to FILE (model.sig)",
		&opt.out },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_sign_spec = {
	.name = "sign",
	.args = "REF[:VARIANT] [--key NAME] [-o model.sig]",
	.summary = "sign a snapshot or variant (OpenSSF model signing)",
	.description =
		"Signs every file of the snapshot (or the variant's outputs) with one of the\n"
		"store's keys (arca key new): an OpenSSF model-signing v1.0 signature in key mode\n"
		"(Sigstore bundle, DSSE, in-toto statement; files listed with their SHA-256 in the\n"
		"spec's order). The git paths and model.sig are left out, as the reference verifier\n"
		"leaves them out of a folder. The signature is kept in the store (arca verify REF\n"
		"checks it); -o writes it as a file, e.g. into a checkout, where\n"
		"  model_signing verify key DIR --signature DIR/model.sig --public_key PUB.pem\n"
		"accepts it (PUB.pem from arca key export NAME).",
	.options = options,
	.min_args = 1,
	.max_args = 1,
};

int cmd_sign(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_sign_spec, argc, argv);
	if (rc >= 0)
		return rc;
	arca_ref ref;
	arca_err err = arca_ref_parse(&ref, ctx.args[0]);
	if (err < 0)
		return cli_usage_error(&ctx, "%s", arca_error_last());
	char *pass = NULL;
	if ((err = cli_read_passphrase(&pass, opt.passphrase_file)) < 0)
		return cli_fail(&ctx, err, "sign");
	arca_store *store;
	if ((err = cli_open_store(&store, &ctx, ARCA_LOCK_EXCLUSIVE)) < 0) {
		cli_free_passphrase(pass);
		return cli_fail(&ctx, err, "sign");
	}
	arca_store_sign_opts so = { .ref = &ref, .key = opt.key, .passphrase = pass,
		.out_path = opt.out };
	arca_store_sign_result r;
	err = arca_store_sign(&r, store, &so);
	cli_free_passphrase(pass);
	if (err < 0) {
		rc = cli_fail(&ctx, err, "sign %s", ctx.args[0]);
		arca_store_free(store);
		return rc;
	}
	rc = CLI_EXIT_OK;
	if (ctx.json) {
		rc = cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:s?}", "subject",
			r.subject, "key", r.key_name, "key_id", r.key_id, "root_digest", r.root, "files",
			(json_int_t)r.n_files, "signature_blob", r.bundle_sha256, "signature_id",
			(json_int_t)r.signature_id, "out", opt.out));
	} else if (!ctx.quiet) {
		printf("signed %s: %zu file%s, root digest sha256:%s, key %s (%.16s…)\n",
			r.subject, r.n_files, r.n_files == 1 ? "" : "s", r.root, r.key_name, r.key_id);
		if (opt.out)
			printf("wrote %s\n", opt.out);
	}
	arca_store_sign_result_dispose(&r);
	arca_store_free(store);
	return rc;
}
