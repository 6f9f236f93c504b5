/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/ollama.h — Ollama's local model store as a checkout layout: model names, and writing
 * one model's blobs and manifest into an OLLAMA_MODELS folder so `ollama run NAME` finds it
 * offline. What goes into the layers (the GGUF, template, params, licence, config) is decided
 * by arca/ollama_model.h; this module only lays bytes out the way Ollama reads them:
 *
 *   DIR/blobs/sha256-<64 hex>                      one file per blob, named by its SHA-256
 *   DIR/manifests/<host>/<namespace>/<model>/<tag> {"schemaVersion":2,"mediaType":...,
 *                                                   "config":{...},"layers":[{...},...]}\n
 *
 * Invariants:
 *   1. Every file appears by rename from a temporary file in its own folder, so Ollama never
 *      reads a partial blob or manifest; on failure the temporary file is removed.
 *   2. The manifest is written last: a model whose blobs are not all in place is never
 *      listed. A manifest with the same bytes is left alone (a second checkout rewrites
 *      nothing); one with other bytes is replaced.
 *   3. A blob already in DIR is re-hashed before it is trusted (Ollama itself never re-hashes
 *      on run); one whose bytes do not match its name is replaced. Nothing else in DIR (other
 *      models' blobs and manifests) is touched.
 *   4. Blobs from the store are hard links when DIR is on the store's filesystem (they keep
 *      the store's read-only mode), copies otherwise (mode 0644, as Ollama writes them).
 *
 * The caller holds the store lock (shared). Nothing here prints or exits.
 */
#ifndef ARCA_OLLAMA_H
#define ARCA_OLLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "arca/digest.h"
#include "arca/error.h"
#include "arca/snapshot.h"
#include "arca/store.h"

/* ------------------------------------------------------------------ names */

/* Ollama's limits: host 1–350 bytes, the other parts 1–80. */
#define ARCA_OLLAMA_HOST_MAX 350
#define ARCA_OLLAMA_PART_MAX 80
#define ARCA_OLLAMA_DEFAULT_HOST "registry.ollama.ai"
#define ARCA_OLLAMA_DEFAULT_NAMESPACE "library"

typedef struct {
	char host[ARCA_OLLAMA_HOST_MAX + 1];
	char namespace[ARCA_OLLAMA_PART_MAX + 1];
	char model[ARCA_OLLAMA_PART_MAX + 1];
	char tag[ARCA_OLLAMA_PART_MAX + 1];
} arca_ollama_name;

/* Parses `[host/][namespace/]model[:tag]` as `ollama run` does: host defaults to
 * registry.ollama.ai, namespace to library, the tag to default_tag. Each part follows
 * Ollama's rules: first character a letter, digit or '_', then also '-', '_' and '.' ('.'
 * not in the namespace), ':' only in the host. Letters are lowered (older Ollama releases
 * lower names when they build the manifest path). ARCA_EINVALID naming the part at fault. */
arca_err arca_ollama_name_parse(arca_ollama_name *out, const char *text,
	const char *default_tag);

/* The default name of a repository's model: its name part ("Qwen2.5-0.5B-Instruct" of
 * "Qwen/Qwen2.5-0.5B-Instruct") lowered, characters Ollama refuses turned into '-', cut to
 * 80 bytes; default host and namespace; `tag` (itself checked). */
arca_err arca_ollama_name_from_repo(arca_ollama_name *out, const char *repo_id,
	const char *tag);

/* The name as `ollama list` shows it: "model:tag", "ns/model:tag" or "host/ns/model:tag". */
int arca_ollama_name_format(char *buf, size_t cap, const arca_ollama_name *name);

/* ------------------------------------------------------------------ writing a model */

#define ARCA_OLLAMA_MEDIA_MODEL "application/vnd.ollama.image.model"
#define ARCA_OLLAMA_MEDIA_TEMPLATE "application/vnd.ollama.image.template"
#define ARCA_OLLAMA_MEDIA_PARAMS "application/vnd.ollama.image.params"
#define ARCA_OLLAMA_MEDIA_LICENSE "application/vnd.ollama.image.license"
#define ARCA_OLLAMA_MEDIA_CONFIG "application/vnd.docker.container.image.v1+json"
#define ARCA_OLLAMA_MEDIA_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

/* One layer to write: a blob of the store (sha256 set), or bytes held in memory. */
typedef struct {
	const char *media_type;
	const char *sha256;    /* a store blob; NULL: data/len */
	const void *data;
	size_t len;
} arca_ollama_layer;

/* What the config blob (Ollama's ConfigV2) says of the model; the writer adds
 * model_format "gguf", model_families [model_family], this build's architecture (Go's
 * name: amd64, arm64) and os "linux". */
typedef struct {
	const char *model_family;        /* general.architecture: "qwen2" */
	const char *model_type;          /* the parameter count as Ollama shows it: "494.03M" */
	const char *file_type;           /* the quantization: "Q4_K_M" */
} arca_ollama_config;

typedef struct {
	const char *dir;                 /* the OLLAMA_MODELS root */
	const arca_ollama_name *name;
	const arca_ollama_layer *layers; /* in manifest order */
	size_t n_layers;
	const arca_ollama_config *config;
	int copy;                        /* never hard-link */
	int no_verify;                   /* trust store blobs and existing blobs of the right size */
	arca_snapshot_progress_cb progress; /* may be NULL; path = the layer's media type */
	void *payload;
} arca_ollama_write_opts;

typedef enum {
	ARCA_OLLAMA_LINKED,   /* a hard link to the store's blob */
	ARCA_OLLAMA_COPIED,   /* copied from the store */
	ARCA_OLLAMA_WRITTEN,  /* written from memory */
	ARCA_OLLAMA_KEPT,     /* already there with these bytes (re-hashed unless no_verify) */
} arca_ollama_blob_how;

/* "linked", "copied", "written", "kept". */
const char *arca_ollama_blob_how_name(arca_ollama_blob_how how);

typedef struct {
	const char *media_type;      /* borrowed from the input */
	char digest[8 + ARCA_SHA256_HEX]; /* "sha256:<hex>" */
	uint64_t size;
	arca_ollama_blob_how how;
	int replaced;                /* a file of that name with other bytes was replaced */
} arca_ollama_blob;

typedef struct {
	char *manifest_path;         /* malloc'ed */
	char model_id[13];           /* `ollama list`'s ID: the manifest's sha256, 12 digits */
	arca_ollama_blob config;
	arca_ollama_blob *layers;    /* n_layers, malloc'ed, in manifest order */
	size_t n_layers;
	int manifest_existed;        /* a manifest for this name was there before */
	int manifest_unchanged;      /* ... with the same bytes, so it was left alone */
	uint64_t bytes;              /* blob bytes the model uses */
} arca_ollama_result;

void arca_ollama_result_dispose(arca_ollama_result *result);

/* Writes every layer and the config as blobs under opts->dir/blobs, then the manifest
 * (invariants above); the config blob and the manifest are JSON as Go's encoder writes it
 * (compact, fields in Ollama's struct order, a trailing newline). ARCA_EMISMATCH when a
 * store blob's bytes changed on disk, ARCA_EEXISTS when a folder or a non-file is in the
 * way of a blob or the manifest, the I/O error (naming the file) otherwise; on any error
 * the manifest is not written. */
arca_err arca_ollama_write(arca_ollama_result *out, arca_store *store,
	const arca_ollama_write_opts *opts);

#endif
