/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cli.c — option parsing and --help from one table per command, error and exit code
 * conventions, store opening with a visible wait for the lock, JSON output.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

volatile sig_atomic_t cli_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	cli_interrupted = 1;
}

void cli_install_signal_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static const cli_option common_options[] = {
	{ "store", 0, CLI_STRING, "DIR", "the store to use (default: $ARCA_HOME, else "
		"$XDG_DATA_HOME/arca, else ~/.local/share/arca)", NULL },
	{ "json", 0, CLI_FLAG, NULL, "print one JSON document on stdout instead of text", NULL },
	{ "quiet", 'q', CLI_FLAG, NULL, "print nothing but errors", NULL },
	{ "help", 'h', CLI_FLAG, NULL, "show this help and exit", NULL },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

static void print_option(FILE *out, const cli_option *o)
{
	char left[64];
	int n = snprintf(left, sizeof(left), "%c%c%s--%s%s%s", o->short_name ? '-' : ' ',
		o->short_name ? o->short_name : ' ', o->short_name ? ", " : "  ", o->long_name,
		o->arg_name ? " " : "", o->arg_name ? o->arg_name : "");
	fprintf(out, "  %-26s%s%s\n", left, n > 26 ? "\n                            " : "", o->help);
}

static void print_help(const cli_spec *spec)
{
	printf("usage: arca %s %s\n\n%s\n", spec->name, spec->args, spec->summary);
	if (spec->description)
		printf("\n%s\n", spec->description);
	printf("\noptions:\n");
	for (const cli_option *o = spec->options; o && o->long_name; o++)
		print_option(stdout, o);
	for (const cli_option *o = common_options; o->long_name; o++)
		print_option(stdout, o);
	printf("\nexit status: 0 ok, 1 failed, 2 usage error, 3 verification failed, "
		"4 not found, 130 interrupted\n");
}

int cli_usage_error(const cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "arca: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'arca %s --help')\n", ctx->spec ? ctx->spec->name : "");
	return CLI_EXIT_USAGE;
}

/* Finds an option by long name in the command's table, then the common one. */
static const cli_option *find_long(const cli_spec *spec, const char *name, size_t len,
	int *is_common)
{
	for (int pass = 0; pass < 2; pass++) {
		const cli_option *table = pass == 0 ? spec->options : common_options;
		for (const cli_option *o = table; o && o->long_name; o++) {
			if (strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0) {
				*is_common = pass == 1;
				return o;
			}
		}
	}
	return NULL;
}

static const cli_option *find_short(const cli_spec *spec, char c, int *is_common)
{
	for (int pass = 0; pass < 2; pass++) {
		const cli_option *table = pass == 0 ? spec->options : common_options;
		for (const cli_option *o = table; o && o->long_name; o++) {
			if (o->short_name == c) {
				*is_common = pass == 1;
				return o;
			}
		}
	}
	return NULL;
}

static int apply_option(cli_ctx *ctx, const cli_option *o, int is_common, const char *value,
	int *help)
{
	if (is_common) {
		if (!strcmp(o->long_name, "store"))
			ctx->store_dir = value;
		else if (!strcmp(o->long_name, "json"))
			ctx->json = 1;
		else if (!strcmp(o->long_name, "quiet"))
			ctx->quiet = 1;
		else if (!strcmp(o->long_name, "help"))
			*help = 1;
		return -1;
	}
	switch (o->type) {
	case CLI_FLAG:
		*(int *)o->dest = 1;
		break;
	case CLI_STRING:
		*(const char **)o->dest = value;
		break;
	case CLI_LIST: {
		cli_list *list = o->dest;
		if (list->n == CLI_LIST_MAX)
			return cli_usage_error(ctx, "--%s given more than %d times", o->long_name,
				CLI_LIST_MAX);
		list->items[list->n++] = value;
		break;
	}
	case CLI_INT: {
		char *end;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || *end || end == value || v < 0 || v > 1000000000)
			return cli_usage_error(ctx, "--%s: '%s' is not a whole number", o->long_name,
				value);
		*(int *)o->dest = (int)v;
		break;
	}
	}
	return -1;
}

int cli_parse(cli_ctx *ctx, const cli_spec *spec, int argc, char **argv)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->spec = spec;
	/* positional arguments are compacted into argv itself: the write index never passes
	 * the read index, and nothing needs freeing */
	ctx->args = argv + 1;
	int help = 0, only_args = 0;
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (only_args || a[0] != '-' || a[1] == '\0') {
			ctx->args[ctx->n_args++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		int is_common = 0, rc;
		const cli_option *o;
		const char *value = NULL;
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			if (!(o = find_long(spec, name, len, &is_common)))
				return cli_usage_error(ctx, "unknown option '--%.*s'", (int)len, name);
			if (o->type != CLI_FLAG) {
				if (eq)
					value = eq + 1;
				else if (i + 1 < argc)
					value = argv[++i];
				else
					return cli_usage_error(ctx, "--%s needs a value (%s)", o->long_name,
						o->arg_name);
			} else if (eq) {
				return cli_usage_error(ctx, "--%s takes no value", o->long_name);
			}
		} else {
			if (!(o = find_short(spec, a[1], &is_common)))
				return cli_usage_error(ctx, "unknown option '-%c'", a[1]);
			if (o->type != CLI_FLAG) {
				if (a[2])
					value = a + 2;
				else if (i + 1 < argc)
					value = argv[++i];
				else
					return cli_usage_error(ctx, "-%c needs a value (%s)", a[1], o->arg_name);
			} else if (a[2]) {
				return cli_usage_error(ctx, "-%c takes no value (write options separately)",
					a[1]);
			}
		}
		if ((rc = apply_option(ctx, o, is_common, value, &help)) >= 0)
			return rc;
	}
	if (help) {
		print_help(spec);
		return CLI_EXIT_OK;
	}
	if (ctx->n_args < spec->min_args)
		return cli_usage_error(ctx, "%s: missing argument (usage: arca %s %s)", spec->name,
			spec->name, spec->args);
	if (spec->max_args >= 0 && ctx->n_args > spec->max_args)
		return cli_usage_error(ctx, "%s: unexpected argument '%s'", spec->name,
			ctx->args[spec->max_args]);
	const char *forced = getenv("ARCA_ISATTY");
	int tty = forced && forced[0] ? strcmp(forced, "0") != 0 : isatty(STDERR_FILENO);
	ctx->show_progress = tty && !ctx->json && !ctx->quiet;
	return -1;
}

int cli_exit_code(arca_err err)
{
	switch (err) {
	case ARCA_OK: return CLI_EXIT_OK;
	/* 3 means a hash or signature did not match, nothing else: malformed files and hub
	 * answers are failures (1), however corrupt they look */
	case ARCA_EMISMATCH: return CLI_EXIT_VERIFY;
	case ARCA_ENOTFOUND: return CLI_EXIT_NOTFOUND;
	case ARCA_EINTERRUPTED: return CLI_EXIT_INTERRUPTED;
	default: return CLI_EXIT_FAILED;
	}
}

int cli_fail(const cli_ctx *ctx, arca_err err, const char *fmt, ...)
{
	(void)ctx;
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	const char *why = arca_error_last();
	if (err == ARCA_EINTERRUPTED && cli_interrupted)
		why = "interrupted";
	fprintf(stderr, "arca: %s: %s\n", what, why[0] ? why : arca_error_name(err));
	return cli_exit_code(err);
}

void cli_warn(const cli_ctx *ctx, const char *fmt, ...)
{
	if (ctx->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "arca: warning: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

arca_err cli_store_path(char **out, const cli_ctx *ctx)
{
	if (ctx->store_dir) {
		if (!ctx->store_dir[0])
			return arca_error_set(ARCA_EINVALID, "--store: empty path");
		*out = strdup(ctx->store_dir);
		return *out ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "out of memory");
	}
	return arca_store_default_home(out);
}

static void on_lock_wait(const char *holder, void *payload)
{
	const cli_ctx *ctx = payload;
	if (!ctx->quiet)
		fprintf(stderr, "arca: waiting for the store, in use by %s\n", holder);
}

arca_err cli_open_or_create_store(arca_store **out, const cli_ctx *ctx, arca_lock_mode mode)
{
	if (!ctx->store_dir) {
		/* the default store comes into being on first use, as a clone or a hub client's
		 * cache would; a --store DIR that is not there is more likely a typo */
		char *home, *catalog = NULL;
		arca_err err = cli_store_path(&home, ctx);
		if (err < 0)
			return err;
		if (asprintf(&catalog, "%s/catalog.db", home) < 0) {
			free(home);
			return arca_error_set(ARCA_ENOMEM, "out of memory");
		}
		int created = 0;
		if (access(catalog, F_OK) != 0 && errno == ENOENT &&
		    (err = arca_store_init(home, &created)) < 0)
			arca_error_prefix(err, "create the store at %s", home);
		if (err == ARCA_OK && created && !ctx->quiet)
			fprintf(stderr, "arca: created a new store at %s (ARCA_HOME or --store choose "
				"another)\n", home);
		free(catalog);
		free(home);
		if (err < 0)
			return err;
	}
	return cli_open_store(out, ctx, mode);
}

arca_err cli_open_store(arca_store **out, const cli_ctx *ctx, arca_lock_mode mode)
{
	char *home;
	arca_err err = cli_store_path(&home, ctx);
	if (err < 0)
		return err;
	err = arca_store_open(out, home);
	free(home);
	if (err < 0)
		return err;
	int timeout_ms = 60000;
	const char *env = getenv("ARCA_LOCK_TIMEOUT");
	if (env && env[0]) {
		char *end;
		double seconds = strtod(env, &end);
		if (*end || seconds < 0) {
			arca_store_free(*out);
			*out = NULL;
			return arca_error_set(ARCA_EINVALID, "ARCA_LOCK_TIMEOUT='%s' is not a number of "
				"seconds", env);
		}
		timeout_ms = (int)(seconds * 1000);
	}
	if ((err = arca_store_lock(*out, mode, timeout_ms, on_lock_wait, (void *)ctx)) < 0) {
		arca_store_free(*out);
		*out = NULL;
	}
	return err;
}

int cli_print_json(json_t *doc)
{
	if (!doc) {
		fprintf(stderr, "arca: out of memory building JSON output\n");
		return CLI_EXIT_FAILED;
	}
	int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (rc != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "arca: writing JSON to stdout: %s\n", strerror(errno));
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

int cli_is_local(const char *target)
{
	struct stat st;
	return stat(target, &st) == 0;
}

json_t *cli_shape_json(uint32_t n, const uint64_t *shape)
{
	json_t *a = json_array();
	for (uint32_t d = 0; d < n; d++)
		json_array_append_new(a, json_integer((json_int_t)shape[d]));
	return a;
}

void cli_format_size(char *buf, size_t cap, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, cap, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
}

arca_err cli_parse_size(const char *text, uint64_t *out)
{
	static const char units[] = "KMGT";
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (end == text || errno || text[0] == '-')
		return arca_error_set(ARCA_EINVALID, "'%s' is not a size (e.g. 4G, 700M)", text);
	const char *u = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
	if (*end && !u)
		return arca_error_set(ARCA_EINVALID, "'%s' is not a size (e.g. 4G, 700M)", text);
	unsigned shift = u ? 10u * (unsigned)(u - units + 1) : 0;
	if (u && (!strcmp(end + 1, "") || !strcasecmp(end + 1, "iB") || !strcasecmp(end + 1, "B")))
		end = "";
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return arca_error_set(ARCA_EINVALID, "'%s' is not a size (e.g. 4G, 700M)", text);
	*out = (uint64_t)v << shift;
	return ARCA_OK;
}
