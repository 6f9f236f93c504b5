/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/main.c — arca's entry point: the table of subcommands, `arca --help`, `--version`,
 * and dispatch. Each subcommand lives in its own cmd_<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "arca/runtime.h"
#include "cli.h"

static const cli_command commands[] = {
	{ &cmd_init_spec, cmd_init },
	{ &cmd_add_spec, cmd_add },
	{ &cmd_pull_spec, cmd_pull },
	{ &cmd_convert_spec, cmd_convert },
	{ &cmd_inspect_spec, cmd_inspect },
	{ &cmd_diff_spec, cmd_diff },
	{ &cmd_audit_spec, cmd_audit },
	{ &cmd_run_spec, cmd_run },
	{ &cmd_tokenize_spec, cmd_tokenize },
	{ &cmd_validate_spec, cmd_validate },
	{ &cmd_bench_spec, cmd_bench },
	{ &cmd_ls_spec, cmd_ls },
	{ &cmd_show_spec, cmd_show },
	{ &cmd_checkout_spec, cmd_checkout },
	{ &cmd_serve_spec, cmd_serve },
	{ &cmd_fsck_spec, cmd_fsck },
	{ &cmd_gc_spec, cmd_gc },
	{ &cmd_rm_spec, cmd_rm },
	{ &cmd_key_spec, cmd_key },
	{ &cmd_sign_spec, cmd_sign },
	{ &cmd_verify_spec, cmd_verify },
	{ &cmd_export_spec, cmd_export },
	{ &cmd_import_spec, cmd_import },
	{ &cmd_index_spec, cmd_index },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
	fprintf(out, "usage: arca <command> [options] [arguments]\n\n"
		"arca keeps open model weights: it snapshots model revisions with proof of what they\n"
		"were, stores them content-addressed, and restores them offline.\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].spec->name, commands[i].spec->summary);
	fprintf(out, "\nREF is [hub:]org/name[@revision] (hub: hf, modelscope, local).\n"
		"Run 'arca <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			for (size_t i = 0; i < N_COMMANDS; i++) {
				if (!strcmp(commands[i].spec->name, argv[2])) {
					char *help_argv[] = { argv[2], "--help", NULL };
					return commands[i].run(2, help_argv);
				}
			}
		}
		print_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		const char *gpu = arca_runtime_gpu_backend();
		printf("arca %s\nruntime: CPU kernels %s; GPU backend %s\n", ARCA_VERSION,
			arca_runtime_kernels(), gpu ? gpu : "none (built without nvcc)");
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (!strcmp(commands[i].spec->name, name)) {
			cli_install_signal_handlers();
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "arca: '%s' is not an arca command (see 'arca --help')\n", name);
	return CLI_EXIT_USAGE;
}
