/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/checkout_ollama.h — `arca checkout REF:VARIANT DIR --layout ollama [--name NAME]`,
 * the part of cmd_checkout.c that writes a GGUF variant into Ollama's store.
 */
#ifndef ARCA_CLI_CHECKOUT_OLLAMA_H
#define ARCA_CLI_CHECKOUT_OLLAMA_H

#include "arca/ref.h"
#include "arca/snapshot.h"
#include "cli.h"

typedef struct {
	const char *ref_text;  /* as typed */
	const arca_ref *ref;
	const char *dir;
	const char *name;      /* --name, or NULL */
	int copy;
	int no_verify;
	arca_snapshot_progress_cb progress; /* drives a cli_progress bar (its payload) */
} cli_checkout_ollama_args;

/* Runs the checkout and prints its report; returns the exit code. */
int cli_checkout_ollama(const cli_ctx *ctx, const cli_checkout_ollama_args *args);

#endif
