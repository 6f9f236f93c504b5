/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/progress.c — one status line on stderr for long work: item, bytes done of total,
 * percentage, rate and time left; redrawn at most ten times a second, only on a terminal
 * (or when ARCA_ISATTY=1 forces it for tests), never with --json or --quiet.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p, const cli_ctx *ctx, const char *verb)
{
	memset(p, 0, sizeof(*p));
	p->enabled = ctx->show_progress;
	p->verb = verb;
	p->start = now_seconds();
}

int cli_progress_update(cli_progress *p, const char *item, uint64_t done, uint64_t total)
{
	return cli_progress_update_item(p, item, 0, 0, done, total);
}

int cli_progress_update_item(cli_progress *p, const char *item, uint64_t item_done,
	uint64_t item_size, uint64_t done, uint64_t total)
{
	if (!p->enabled)
		return cli_interrupted;
	double now = now_seconds();
	if (p->drawn && now - p->last_draw < 0.1 && done < total)
		return cli_interrupted;
	p->last_draw = now;
	p->drawn = 1;
	char d[32], t[32], rate[48] = "", eta[48] = "";
	cli_format_size(d, sizeof(d), done);
	cli_format_size(t, sizeof(t), total);
	double elapsed = now - p->start;
	if (elapsed > 0.2 && done > 0) {
		double per_second = (double)done / elapsed;
		char r[32];
		cli_format_size(r, sizeof(r), (uint64_t)per_second);
		snprintf(rate, sizeof(rate), "  %s/s", r);
		if (total > done)
			snprintf(eta, sizeof(eta), "  ETA %.0fs", (double)(total - done) / per_second);
	}
	int percent = total ? (int)(100.0 * (double)done / (double)total) : 100;
	char own[80] = "";
	if (item_size) {
		char a[32], b[32];
		cli_format_size(a, sizeof(a), item_done);
		cli_format_size(b, sizeof(b), item_size);
		snprintf(own, sizeof(own), " %s/%s ·", a, b);
	}
	fprintf(stderr, "\r\033[K%s %.40s%s total %s / %s (%d%%)%s%s", p->verb, item ? item : "",
		own, d, t, percent, rate, eta);
	fflush(stderr);
	return cli_interrupted;
}

int cli_progress_bytes(uint64_t done, uint64_t total, void *payload)
{
	return cli_progress_update(payload, "", done, total);
}

void cli_progress_finish(cli_progress *p)
{
	if (p->enabled && p->drawn) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}
