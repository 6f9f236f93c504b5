/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_key.c — `arca key new|ls|export|trust|untrust`: the store's signing keys and what
 * it trusts (public keys, root certificates, Sigstore trusted roots). Private keys are
 * never printed: `new` says where the private half lives, `export` gives the public half.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arca/signatures.h"
#include "cli.h"

static struct {
	const char *name;
	const char *passphrase_file;
	const char *out;
} opt;

/* ------------------------------------------------------------------ output */

static const char *kind_of(const arca_key_record *k)
{
	return !strcmp(k->algorithm, "x509") ? "root certificates" :
		!strcmp(k->algorithm, "sigstore-root") ? "Sigstore trusted root" : "public key";
}

static json_t *key_json(arca_store *store, const arca_key_record *k)
{
	return json_pack("{s:s?,s:s,s:s,s:s,s:s,s:b,s:s}", "name", k->name, "key_id", k->key_id,
		"algorithm", k->algorithm, "kind", kind_of(k), "trust", k->trust, "own",
		arca_keys_is_own(store, k), "created_at", k->created_at);
}

static int print_key(const cli_ctx *ctx, arca_store *store, const arca_key_record *k,
	const char *verb)
{
	if (ctx->json)
		return cli_print_json(key_json(store, k));
	if (!ctx->quiet)
		printf("%s %s %s (%s, id %.16s…), %s\n", verb, arca_keys_is_own(store, k) ?
			"signing key" : kind_of(k), k->name ? k->name : "?", k->algorithm, k->key_id,
			k->trust);
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ key new */

static const cli_option new_options[] = {
	{ "name", 0, CLI_STRING, "NAME", "the key's name (default: 'default', or key-<id>)",
		&opt.name },
	{ "passphrase-file", 0, CLI_STRING, "FILE", "encrypt the private key with the first "
		"line of FILE (or set ARCA_KEY_PASSPHRASE)", &opt.passphrase_file },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

static const cli_spec key_new_spec = {
	.name = "key new",
	.args = "[--name NAME] [--passphrase-file FILE]",
	.summary = "make a signing key (ECDSA P-256)",
	.description =
		"Makes an ECDSA P-256 key pair for arca sign. The private key is written to the\n"
		"store's keys/ folder (mode 0600), encrypted with AES-256 when a passphrase is\n"
		"given; it is never printed. The public key is trusted by this store; give it to\n"
		"others with: arca key export NAME.",
	.options = new_options,
	.min_args = 0,
	.max_args = 0,
};

static int key_new(const cli_ctx *ctx, arca_store *store)
{
	char *pass = NULL;
	arca_err err = cli_read_passphrase(&pass, opt.passphrase_file);
	if (err < 0)
		return cli_fail(ctx, err, "key new");
	arca_key_record k;
	err = arca_keys_new(&k, store, opt.name, pass);
	if (err < 0) {
		cli_free_passphrase(pass);
		return cli_fail(ctx, err, "key new");
	}
	int rc;
	if (ctx->json) {
		json_t *doc = key_json(store, &k);
		json_object_set_new(doc, "encrypted", json_boolean(pass != NULL));
		json_object_set_new(doc, "public_pem", json_string(k.public_pem));
		rc = cli_print_json(doc);
	} else {
		rc = print_key(ctx, store, &k, "made");
		if (!ctx->quiet)
			printf("private key: %s/keys/%s.pem (mode 0600%s)\npublic key: arca key export "
				"%s\n", arca_store_home(store), k.key_id, pass ? ", encrypted" : "", k.name);
	}
	cli_free_passphrase(pass);
	arca_key_record_dispose(&k);
	return rc;
}

/* ------------------------------------------------------------------ key ls */

static const cli_option no_options[] = { { NULL, 0, 0, NULL, NULL, NULL } };

static const cli_spec key_ls_spec = {
	.name = "key ls",
	.args = "",
	.summary = "list keys, root certificates and Sigstore roots",
	.description =
		"Lists the store's own signing keys (trust 'own'), the public keys, root\n"
		"certificates and Sigstore trusted roots it trusts, and those marked untrusted.",
	.options = no_options,
	.min_args = 0,
	.max_args = 0,
};

static int key_ls(const cli_ctx *ctx, arca_store *store)
{
	arca_key_record *keys = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_keys(&keys, &n, arca_store_catalog(store));
	if (err < 0)
		return cli_fail(ctx, err, "key ls");
	int rc = CLI_EXIT_OK;
	if (ctx->json) {
		json_t *list = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, key_json(store, &keys[i]));
		rc = cli_print_json(list);
	} else if (n == 0) {
		if (!ctx->quiet)
			printf("no keys (make one: arca key new; trust one: arca key trust PUB.pem)\n");
	} else {
		printf("%-20s %-10s %-14s %-22s %s\n", "NAME", "TRUST", "ALGORITHM", "KIND", "ID");
		for (size_t i = 0; i < n; i++)
			printf("%-20s %-10s %-14s %-22s %.16s\n", keys[i].name ? keys[i].name : "-",
				keys[i].trust, keys[i].algorithm, kind_of(&keys[i]), keys[i].key_id);
	}
	arca_key_records_free(keys, n);
	return rc;
}

/* ------------------------------------------------------------------ key export */

static const cli_option export_options[] = {
	{ "out", 'o', CLI_STRING, "FILE", "write to FILE instead of standard output",
		&opt.out },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

static const cli_spec key_export_spec = {
	.name = "key export",
	.args = "NAME [-o FILE]",
	.summary = "print a key's public half (PEM)",
	.description =
		"Prints the public key (PEM SubjectPublicKeyInfo) of NAME, the form\n"
		"model_signing verify key --public-key and arca verify --key read; for trusted\n"
		"root certificates, the certificates; for a Sigstore root, its JSON. Never the\n"
		"private key.",
	.options = export_options,
	.min_args = 1,
	.max_args = 1,
};

static int key_export(const cli_ctx *ctx, arca_store *store)
{
	arca_key_record k;
	arca_err err = arca_catalog_find_key(&k, arca_store_catalog(store), ctx->args[0]);
	if (err < 0)
		return cli_fail(ctx, err, "key export");
	int rc = CLI_EXIT_OK;
	if (ctx->json) {
		json_t *doc = key_json(store, &k);
		json_object_set_new(doc, "public_pem", json_string(k.public_pem));
		rc = cli_print_json(doc);
	} else if (opt.out) {
		FILE *f = fopen(opt.out, "w");
		if (!f || fputs(k.public_pem, f) < 0 || fclose(f) != 0) {
			if (f)
				fclose(f);
			rc = cli_fail(ctx, arca_error_errno(errno, "write %s", opt.out), "key export");
		} else if (!ctx->quiet) {
			fprintf(stderr, "wrote %s (%s)\n", opt.out, kind_of(&k));
		}
	} else {
		fputs(k.public_pem, stdout);
	}
	arca_key_record_dispose(&k);
	return rc;
}

/* ------------------------------------------------------------------ key trust / untrust */

static const cli_option trust_options[] = {
	{ "name", 0, CLI_STRING, "NAME", "the name to keep it under (default: the file's)",
		&opt.name },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

static const cli_spec key_trust_spec = {
	.name = "key trust",
	.args = "FILE|NAME [--name NAME]",
	.summary = "trust a public key, root certificates or a Sigstore root",
	.description =
		"Trusts what FILE holds: a PEM public key (key-mode signatures by it verify),\n"
		"PEM certificates (roots for certificate-mode signatures: the signer's chain must\n"
		"end at one), or a Sigstore trusted root (trusted_root.json: keyless signatures are\n"
		"checked offline against its Fulcio CAs and transparency-log keys). A private key\n"
		"is refused. Given the NAME of a key marked untrusted, trusts it again.",
	.options = trust_options,
	.min_args = 1,
	.max_args = 1,
};

static int key_trust(const cli_ctx *ctx, arca_store *store)
{
	const char *arg = ctx->args[0];
	arca_key_record k;
	FILE *probe = fopen(arg, "r");
	arca_err err;
	if (probe) {
		fclose(probe);
		err = arca_keys_trust_file(&k, store, arg, opt.name);
	} else {
		err = arca_keys_retrust(&k, store, arg);
		if (err == ARCA_ENOTFOUND)
			err = arca_error_set(ARCA_ENOTFOUND, "%s is neither a file nor a key this store "
				"knows (arca key ls)", arg);
	}
	if (err < 0)
		return cli_fail(ctx, err, "key trust %s", arg);
	int rc = print_key(ctx, store, &k, "trusted");
	arca_key_record_dispose(&k);
	return rc;
}

static const cli_spec key_untrust_spec = {
	.name = "key untrust",
	.args = "NAME",
	.summary = "stop trusting a key or root",
	.description =
		"Marks NAME untrusted: signatures it made are reported as by an untrusted signer\n"
		"(exit 3 from arca verify). The key stays listed, so arca can still say who signed;\n"
		"an own key's private half stays in keys/ and it can sign again once trusted again\n"
		"(arca key trust NAME).",
	.options = no_options,
	.min_args = 1,
	.max_args = 1,
};

static int key_untrust(const cli_ctx *ctx, arca_store *store)
{
	arca_key_record k;
	arca_err err = arca_keys_untrust(&k, store, ctx->args[0]);
	if (err < 0)
		return cli_fail(ctx, err, "key untrust");
	int rc = print_key(ctx, store, &k, "untrusted");
	arca_key_record_dispose(&k);
	return rc;
}

/* ------------------------------------------------------------------ dispatch */

typedef struct {
	const cli_spec *spec;
	int (*run)(const cli_ctx *ctx, arca_store *store);
	arca_lock_mode lock;
} key_command;

static const key_command commands[] = {
	{ &key_new_spec, key_new, ARCA_LOCK_EXCLUSIVE },
	{ &key_ls_spec, key_ls, ARCA_LOCK_SHARED },
	{ &key_export_spec, key_export, ARCA_LOCK_SHARED },
	{ &key_trust_spec, key_trust, ARCA_LOCK_EXCLUSIVE },
	{ &key_untrust_spec, key_untrust, ARCA_LOCK_EXCLUSIVE },
};

#define N_KEY_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const cli_spec cmd_key_spec = {
	.name = "key",
	.args = "new|ls|export|trust|untrust ...",
	.summary = "signing keys and trusted keys, certificates, Sigstore roots",
	.description =
		"  arca key new [--name NAME] [--passphrase-file FILE]   make a signing key\n"
		"  arca key ls                                        list keys and roots\n"
		"  arca key export NAME [-o FILE]                     print a public key\n"
		"  arca key trust FILE|NAME [--name NAME]             trust a key, CA or root\n"
		"  arca key untrust NAME                              stop trusting one\n"
		"Run 'arca key <subcommand> --help' for details.",
	.options = no_options,
	.min_args = 1,
	.max_args = -1,
};

int cmd_key(int argc, char **argv)
{
	const key_command *cmd = NULL;
	for (size_t i = 0; argc > 1 && i < N_KEY_COMMANDS; i++)
		if (!strcmp(commands[i].spec->name + 4, argv[1]))
			cmd = &commands[i];
	cli_ctx ctx;
	if (!cmd) {
		int rc = cli_parse(&ctx, &cmd_key_spec, argc, argv);
		if (rc >= 0)
			return rc;
		return cli_usage_error(&ctx, "key: '%s' is not a key subcommand (new, ls, export, "
			"trust, untrust)", ctx.args[0]);
	}
	int rc = cli_parse(&ctx, cmd->spec, argc - 1, argv + 1);
	if (rc >= 0)
		return rc;
	arca_store *store;
	arca_err err = cmd->lock == ARCA_LOCK_EXCLUSIVE && cmd->run == key_new ?
		cli_open_or_create_store(&store, &ctx, cmd->lock) :
		cli_open_store(&store, &ctx, cmd->lock);
	if (err < 0)
		return cli_fail(&ctx, err, "%s", cmd->spec->name);
	rc = cmd->run(&ctx, store);
	arca_store_free(store);
	return rc;
}
