/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_serve.c — `arca serve`: the store as a read-only Hugging Face endpoint
 * (arca/serve.h), until SIGINT or SIGTERM. This file owns the terminal side: options, the
 * token file, the descriptor limit, the start line, the access log, and waiting for a signal.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "arca/serve.h"
#include "cli.h"

static struct {
	const char *listen;
	const char *token;
	const char *token_file;
	const char *access_log;
	int threads;
	int max_connections;
	int timeout;
} opt;

static const cli_option options[] = {
	{ "listen", 'l', CLI_STRING, "ADDR:PORT", "where to listen (default " ARCA_SERVE_LISTEN
		"; 0.0.0.0:PORT for every interface; port 0 picks a free one)", &opt.listen },
	{ "token", 0, CLI_STRING, "TOKEN", "require 'Authorization: Bearer TOKEN' (clients: "
		"HF_TOKEN); visible to other users in ps, prefer --token-file", &opt.token },
	{ "token-file", 0, CLI_STRING, "FILE", "the same, the token being the first line of FILE",
		&opt.token_file },
	{ "access-log", 0, CLI_STRING, "FILE", "append a line per request to FILE ('-': stdout)",
		&opt.access_log },
	{ "threads", 0, CLI_INT, "N", "worker threads (default: one per CPU)", &opt.threads },
	{ "max-connections", 0, CLI_INT, "N", "open connections at most (default 2048, less "
		"when the descriptor limit is lower)", &opt.max_connections },
	{ "timeout", 0, CLI_INT, "SECONDS", "close a connection idle this long, also one that "
		"stops reading (default 30)", &opt.timeout },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

const cli_spec cmd_serve_spec = {
	.name = "serve",
	.args = "[--listen ADDR:PORT]",
	.summary = "serve the store as a read-only Hugging Face endpoint",
	.description =
		"Answers the Hugging Face Hub's API from the store, read-only, so that clients on a\n"
		"network without the Hub set HF_ENDPOINT=http://HOST:PORT and work unchanged\n"
		"(huggingface_hub, transformers, huggingface.js, arca pull): model info, file\n"
		"listings, refs, resolve with ranges and the Hub's headers. Models are named\n"
		"org/name: the store's hf: model of that name, else its local: one (arca add), else\n"
		"its modelscope: one. Revisions are the store's refs (main, tags) and commits; a\n"
		"local snapshot's commit is shown by its first 40 hex digits. Only complete\n"
		"snapshots are served. docs/serve.md lists the endpoints and headers.\n"
		"\n"
		"It listens on loopback unless --listen names another address; any other address\n"
		"without --token is served to whoever can connect (a warning says so). The store is\n"
		"opened, not locked: other arca commands keep working on it, and what they add is\n"
		"served at once. Prints where it listens (with --json: one line {\"url\", ...}),\n"
		"then serves until SIGINT or SIGTERM, and exits 0.",
	.options = options,
	.min_args = 0,
	.max_args = 0,
};

/* ------------------------------------------------------------------ access log */

static FILE *access_log;

static void log_request(const arca_serve_request *req, void *payload)
{
	(void)payload;
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	gmtime_r(&req->when, &tm);
	char status[8] = "-";
	if (req->status)
		snprintf(status, sizeof(status), "%d", req->status);
	/* the Common Log Format, then the seconds taken and whether the answer went out whole */
	flockfile(access_log);
	fprintf(access_log, "%s - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"%s %s %s\" %s %llu "
		"%.3f %s\n", req->client, tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
		tm.tm_min, tm.tm_sec, req->method, req->target, req->version, status,
		(unsigned long long)req->bytes, req->seconds, req->completed ? "ok" : "aborted");
	funlockfile(access_log);
}

/* ------------------------------------------------------------------ setup */

/* The first line of a token file without surrounding spaces, as HF clients trim tokens. */
static arca_err read_token_file(char **out, const char *path)
{
	char *line;
	arca_err err = cli_read_secret_line(&line, path, "--token-file");
	if (err < 0)
		return err;
	char *start = line + strspn(line, " \t");
	size_t n = strlen(start);
	while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
		n--;
	*out = n ? strndup(start, n) : NULL;
	cli_free_passphrase(line);
	if (!n)
		return arca_error_set(ARCA_EINVALID, "--token-file %s: the first line is blank", path);
	return *out ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "--token-file: out of memory");
}

/* Raises the soft descriptor limit to the hard one: each connection needs one or two. */
static void raise_descriptor_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int print_start(const cli_ctx *ctx, const arca_server *server, const char *store,
	int has_token)
{
	const char *url = arca_server_url(server);
	if (ctx->json) {
		json_t *doc = json_pack("{s:s,s:s,s:s,s:b,s:b,s:i,s:i,s:i}", "url", url, "listen",
			arca_server_address(server), "store", store, "loopback",
			arca_server_is_loopback(server), "token", has_token, "threads",
			(int)arca_server_threads(server), "max_connections",
			(int)arca_server_max_connections(server), "pid", (int)getpid());
		if (!doc || json_dumpf(doc, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0) {
			json_decref(doc);
			return CLI_EXIT_FAILED;
		}
		json_decref(doc);
		fputc('\n', stdout);
	} else if (!ctx->quiet) {
		printf("serving %s at %s; set HF_ENDPOINT=%s\n", store, url, url);
		printf("(%s, %u threads, up to %u connections%s; stop with Ctrl-C)\n",
			arca_server_address(server), arca_server_threads(server),
			arca_server_max_connections(server), has_token ? ", token required" : "");
	}
	if (fflush(stdout) != 0)
		return CLI_EXIT_FAILED;
	if (!arca_server_is_loopback(server) && !has_token)
		cli_warn(ctx, "serve: listening on %s without --token: anyone who can reach it can "
			"read every model in the store", arca_server_address(server));
	return -1;
}

int cmd_serve(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_serve_spec, argc, argv);
	if (rc >= 0)
		return rc;
	if (opt.token && opt.token_file)
		return cli_usage_error(&ctx, "serve: give --token or --token-file, not both");
	if (opt.token && !opt.token[0])
		return cli_usage_error(&ctx, "serve: --token is empty");
	if (opt.access_log && !strcmp(opt.access_log, "-") && ctx.json)
		return cli_usage_error(&ctx, "serve: --json keeps stdout for its one line; give "
			"--access-log a file");
	char *token = NULL, *home = NULL;
	arca_err err;
	if (opt.token_file && (err = read_token_file(&token, opt.token_file)) < 0)
		return cli_fail(&ctx, err, "serve");
	if (opt.access_log) {
		access_log = !strcmp(opt.access_log, "-") ? stdout : fopen(opt.access_log, "ae");
		if (!access_log) {
			fprintf(stderr, "arca: serve: --access-log %s: %s\n", opt.access_log,
				strerror(errno));
			cli_free_passphrase(token);
			return CLI_EXIT_FAILED;
		}
		setvbuf(access_log, NULL, _IOLBF, 0);
	}
	raise_descriptor_limit();
	sigset_t stop, before;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	arca_store *store = NULL;
	arca_server *server = NULL;
	err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err == ARCA_OK)
		err = cli_store_path(&home, &ctx);
	arca_serve_opts so = ARCA_SERVE_OPTS_INIT;
	so.listen = opt.listen;
	so.token = opt.token ? opt.token : token;
	so.threads = (unsigned)opt.threads;
	so.max_connections = (unsigned)opt.max_connections;
	so.timeout_s = (unsigned)opt.timeout;
	so.on_request = access_log ? log_request : NULL;
	/* the workers start with these signals blocked, so they reach this thread only */
	pthread_sigmask(SIG_BLOCK, &stop, &before);
	if (err == ARCA_OK && cli_interrupted)
		err = arca_error_set(ARCA_EINTERRUPTED, "interrupted before it started");
	if (err == ARCA_OK)
		err = arca_server_start(&server, store, &so);
	/* the server has its own handles; holding the lock would keep gc out for its lifetime */
	arca_store_free(store);
	if (err < 0) {
		rc = cli_fail(&ctx, err, "serve");
		goto cleanup;
	}
	if ((rc = print_start(&ctx, server, home, so.token != NULL)) >= 0)
		goto cleanup;
	while (!cli_interrupted)
		sigsuspend(&before);
	rc = CLI_EXIT_OK; /* a server ends by being told to: that is success */
cleanup:;
	int served = server != NULL;
	arca_server_stop(server);
	pthread_sigmask(SIG_SETMASK, &before, NULL);
	if (access_log && access_log != stdout)
		fclose(access_log);
	if (served && !ctx.json && !ctx.quiet && rc == CLI_EXIT_OK)
		fprintf(stderr, "arca: serve: stopped\n");
	cli_free_passphrase(token);
	free(home);
	return rc;
}
