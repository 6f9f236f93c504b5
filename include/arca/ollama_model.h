/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/ollama_model.h — a stored GGUF variant as an Ollama model (`arca checkout REF:VARIANT
 * DIR --layout ollama`): what Ollama reads beside the GGUF, worked out from the GGUF's own
 * metadata and the snapshot's licence, then laid out with arca/ollama.h:
 *
 *   model     the variant's GGUF blob, as it is in the store (hard link or copy)
 *   template  a Go template for the chat form, when arca knows Ollama's form of it
 *   license   the snapshot's licence files (LICENSE, NOTICE, ...), else its licence id
 *   params    {"stop": [...]}: the form's turn markers and the tokenizer's end tokens
 *   config    ConfigV2: gguf, the architecture as family, parameter count, file type
 *
 * The chat form is recognised by the runtime (arca/chat_template.h), which this module may
 * not call, so the caller passes its name in. A model with no known form gets no template
 * layer: current Ollama then applies the GGUF's own tokenizer.chat_template.
 *
 * The caller holds the store lock (shared). Nothing here prints or exits.
 */
#ifndef ARCA_OLLAMA_MODEL_H
#define ARCA_OLLAMA_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "arca/catalog.h"
#include "arca/digest.h"
#include "arca/error.h"
#include "arca/ollama.h"
#include "arca/store.h"

/* A licence file of the snapshot, kept as a store blob. */
typedef struct {
	char *path;
	char sha256[ARCA_SHA256_HEX];
} arca_ollama_license_file;

/* What a variant brings to Ollama. Strings are malloc'ed and owned by the struct. */
typedef struct {
	char what[400];                 /* "hub:org/name@commit12:variant", for messages */
	char variant[64];
	char repo_id[200];
	char sha256[ARCA_SHA256_HEX];   /* the GGUF blob */
	uint64_t size;
	char arch[64];                  /* general.architecture: Ollama's model family */
	uint64_t n_params;              /* elements of every tensor */
	char model_type[32];            /* n_params as Ollama shows it: "494.03M", "7.6B" */
	char file_type[16];             /* general.file_type by llama.cpp's name: "Q4_K_M" */
	char *chat_template;            /* tokenizer.chat_template; NULL when none */
	char **end_tokens;              /* texts of the EOS / EOT / EOM tokens, no repeats */
	size_t n_end_tokens;
	arca_ollama_license_file *license_files;
	size_t n_license_files;
	char *license_text;             /* without files: the licence id (and link); else NULL */
} arca_ollama_model;

/* Opens variant `variant` of a snapshot: its GGUF is read once for the facts above.
 * ARCA_ENOTFOUND (naming the variants there are) when it was never converted or has no
 * GGUF; ARCA_EUNSUPPORTED for a GGUF split into several files (Ollama loads one). */
arca_err arca_ollama_model_open(arca_ollama_model *out, arca_store *store,
	const arca_snapshot *snap, const char *variant);
void arca_ollama_model_dispose(arca_ollama_model *model);

/* A chat form's Ollama template (Go text/template over .System and .Messages) and the
 * strings that end a turn in it. */
typedef struct {
	const char *form;               /* arca_chat_form_name(): "chatml", "llama3", "deepseek" */
	const char *text;
	const char *const *stops;       /* NULL-terminated */
} arca_ollama_template;

/* The template for a chat form name, or NULL when arca has none for it. */
const arca_ollama_template *arca_ollama_template_for(const char *form);

/* n as Ollama shows a parameter count: "1B", "7.6B", "494.03M", "25K", "980". */
int arca_ollama_human_number(char *buf, size_t cap, uint64_t n);

typedef struct {
	const char *dir;                /* the OLLAMA_MODELS root */
	const arca_ollama_name *name;
	const char *chat_form;          /* the model's recognised chat form, or NULL */
	int copy;
	int no_verify;
	arca_snapshot_progress_cb progress;
	void *payload;
} arca_ollama_checkout_opts;

typedef struct {
	arca_ollama_result written;
	const char *template_form;      /* the form whose template was written, or NULL */
	const char *no_template;        /* when none: why, and what Ollama does instead (static) */
	const char *no_license;         /* when no licence layer: why (static) */
	size_t n_stops;                 /* strings in the params layer (0: none written) */
} arca_ollama_checkout_result;

void arca_ollama_checkout_result_dispose(arca_ollama_checkout_result *result);

/* Writes the model into opts->dir as Ollama's store (arca/ollama.h) under opts->name. */
arca_err arca_ollama_model_checkout(arca_ollama_checkout_result *out, arca_store *store,
	const arca_ollama_model *model, const arca_ollama_checkout_opts *opts);

#endif
