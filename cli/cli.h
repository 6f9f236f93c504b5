/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cli.h — what every arca subcommand shares: the option table that drives both parsing
 * and --help, the common options (--store, --json, --quiet, --help), opening and locking the
 * store, error reporting as "arca: <what>: <why>", exit codes, JSON output and progress.
 *
 * Exit codes (the only ones arca uses):
 *   0 ok · 1 failed · 2 usage · 3 verification failed (hash, signature, validation)
 *   4 not found (ref, revision, blob, file) · 130 interrupted
 */
#ifndef ARCA_CLI_H
#define ARCA_CLI_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "arca/catalog.h"
#include "arca/error.h"
#include "arca/store.h"

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILED = 1,
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_VERIFY = 3,
	CLI_EXIT_NOTFOUND = 4,
	CLI_EXIT_INTERRUPTED = 130,
};

typedef enum { CLI_FLAG, CLI_STRING, CLI_INT, CLI_LIST } cli_opt_type;

/* A repeatable option's values (CLI_LIST), pointing into argv. */
#define CLI_LIST_MAX 64
typedef struct {
	const char *items[CLI_LIST_MAX];
	size_t n;
} cli_list;

typedef struct {
	const char *long_name;
	char short_name;       /* 0: none */
	cli_opt_type type;
	const char *arg_name;  /* for --help: "DIR", "N" */
	const char *help;
	void *dest;            /* int * for CLI_FLAG/CLI_INT, const char ** for CLI_STRING,
	                          cli_list * for CLI_LIST */
} cli_option;

typedef struct {
	const char *name;
	const char *args;        /* "DIR --as REF" for the usage line */
	const char *summary;     /* one line, for `arca --help` */
	const char *description; /* paragraphs for `arca <cmd> --help` */
	const cli_option *options; /* terminated by { NULL } */
	int min_args, max_args;  /* positional arguments (-1: no limit) */
} cli_spec;

/* Options every command has, filled by cli_parse. */
typedef struct {
	const cli_spec *spec;
	const char *store_dir; /* --store, else NULL (default location) */
	int json;
	int quiet;
	int show_progress;     /* stderr is a terminal (or ARCA_ISATTY=1), not --json/--quiet */
	char **args;           /* positional arguments */
	int n_args;
} cli_ctx;

/* Parses argv (argv[0] is the command name). Returns -1 to go on, else an exit code
 * (0 after printing --help, 2 after a usage error). */
int cli_parse(cli_ctx *ctx, const cli_spec *spec, int argc, char **argv);

/* Prints "arca: <what>: <message>" for err and returns the exit code it maps to. */
int cli_fail(const cli_ctx *ctx, arca_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prints "arca: <message>" plus a --help hint and returns CLI_EXIT_USAGE. */
int cli_usage_error(const cli_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints a warning to stderr (always, even with --json; never with --quiet). */
void cli_warn(const cli_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The exit code for a library error. */
int cli_exit_code(arca_err err);

/* Opens the store named by --store / ARCA_HOME / the default, and takes its lock (waiting
 * up to ARCA_LOCK_TIMEOUT seconds, default 60, saying so on stderr). */
arca_err cli_open_store(arca_store **out, const cli_ctx *ctx, arca_lock_mode mode);
/* The same, creating the default store first when there is none (commands that put things
 * in: pull, add), and saying so on stderr. An explicit --store must exist. */
arca_err cli_open_or_create_store(arca_store **out, const cli_ctx *ctx, arca_lock_mode mode);

/* The store path the command will use (malloc'ed). */
arca_err cli_store_path(char **out, const cli_ctx *ctx);

/* Writes one JSON document to stdout, takes ownership of `doc`. Returns 0 or 1. */
int cli_print_json(json_t *doc);

/* "1.5 GiB", "512 B". */
void cli_format_size(char *buf, size_t cap, uint64_t bytes);

/* A file or folder that exists here (no store needed), rather than a REF. */
int cli_is_local(const char *target);

/* A tensor shape as a JSON array of integers. */
json_t *cli_shape_json(uint32_t n, const uint64_t *shape);

/* "4G", "700M", "64k", "4GiB", "123" (bytes): K, M, G, T are powers of 1024. */
arca_err cli_parse_size(const char *text, uint64_t *out);

/* Set by SIGINT/SIGTERM; progress callbacks return it so work stops cleanly. */
extern volatile sig_atomic_t cli_interrupted;
void cli_install_signal_handlers(void);

/* A private key's passphrase: the first line of `file`, else $ARCA_KEY_PASSPHRASE, else
 * NULL (none). Free with cli_free_passphrase, which wipes it. */
arca_err cli_read_passphrase(char **out, const char *file);
/* The first line of a secret file (without its line end); ARCA_EINVALID when it is empty.
 * `what` names the file in errors ("--token-file"). Free with cli_free_passphrase. */
arca_err cli_read_secret_line(char **out, const char *file, const char *what);
void cli_free_passphrase(char *pass);

/* ------------------------------------------------------------------ snapshots as output */

/* A snapshot record as a JSON object (the shape `ls --json` and `show --json` share). */
json_t *cli_snapshot_json(const arca_snapshot *snap);

/* "hub:org/name" of a snapshot into buf. */
void cli_snapshot_name(char *buf, size_t cap, const arca_snapshot *snap);

/* ------------------------------------------------------------------ progress */

typedef struct {
	int enabled;
	const char *verb;
	double start;
	double last_draw;
	int drawn;
} cli_progress;

void cli_progress_init(cli_progress *p, const cli_ctx *ctx, const char *verb);
/* Redraws at most ten times a second. Returns cli_interrupted (for use as a callback result). */
int cli_progress_update(cli_progress *p, const char *item, uint64_t done, uint64_t total);
/* Same, with the item's own bytes (item_done of item_size) shown beside its name. */
int cli_progress_update_item(cli_progress *p, const char *item, uint64_t item_done,
	uint64_t item_size, uint64_t done, uint64_t total);
void cli_progress_finish(cli_progress *p);
/* A progress callback over bytes (done, total) for a cli_progress payload: diff, audit. */
int cli_progress_bytes(uint64_t done, uint64_t total, void *payload);

/* ------------------------------------------------------------------ commands */

typedef struct {
	const cli_spec *spec;
	int (*run)(int argc, char **argv);
} cli_command;

int cmd_init(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_fsck(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_audit(int argc, char **argv);

extern const cli_spec cmd_init_spec, cmd_add_spec, cmd_ls_spec, cmd_show_spec,
	cmd_checkout_spec, cmd_fsck_spec, cmd_gc_spec, cmd_rm_spec, cmd_pull_spec,
	cmd_convert_spec, cmd_inspect_spec, cmd_bench_spec, cmd_run_spec,
	cmd_tokenize_spec, cmd_validate_spec, cmd_key_spec, cmd_sign_spec, cmd_verify_spec,
	cmd_export_spec, cmd_import_spec, cmd_serve_spec, cmd_index_spec, cmd_diff_spec,
	cmd_audit_spec;

/* Indexes the tensors of what a command just stored (arca/tensor_index.h): ref non-NULL:
 * what it names; else a snapshot with its variants (artifact 0) or one variant. A file that
 * cannot be indexed is a warning, never a failure of the command (cmd_index.c). */
void cli_index_new(const cli_ctx *ctx, arca_store *store, const arca_ref *ref,
	int64_t snapshot, int64_t artifact);

#endif
