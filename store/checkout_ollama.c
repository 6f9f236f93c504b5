/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/checkout_ollama.c — writing one model into Ollama's store (see arca/ollama.h for the
 * layout and its invariants): blobs first, each checked or put in place by rename, then the
 * manifest by rename, so `ollama list` never shows a model whose blobs are not all there.
 *
 * Ollama trusts whatever sits under a blob's name (it re-hashes only when it pulls), so a
 * blob already in the folder is re-hashed before it is kept, and replaced when its bytes
 * are not the ones its name promises.
 */
#include "arca/ollama.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/io.h"

#define MANIFEST_MAX (1u << 20) /* an existing manifest larger than this is not ours */

const char *arca_ollama_blob_how_name(arca_ollama_blob_how how)
{
	switch (how) {
	case ARCA_OLLAMA_LINKED: return "linked";
	case ARCA_OLLAMA_COPIED: return "copied";
	case ARCA_OLLAMA_WRITTEN: return "written";
	case ARCA_OLLAMA_KEPT: return "kept";
	}
	return "?";
}

void arca_ollama_result_dispose(arca_ollama_result *result)
{
	free(result->manifest_path);
	free(result->layers);
	memset(result, 0, sizeof(*result));
}

typedef struct {
	arca_store *store;
	const arca_ollama_write_opts *opts;
	char *blobs_dir;
	const char *media_type; /* the layer in progress */
	uint64_t size, before, total;
} write_ctx;

static int on_bytes(uint64_t done, void *payload)
{
	write_ctx *c = payload;
	return c->opts->progress(c->media_type, done, c->size, c->before + done, c->total,
		c->opts->payload);
}

static arca_hash_progress_cb hash_progress(const write_ctx *c)
{
	return c->opts->progress ? on_bytes : NULL;
}

/* Whether the file at `path` already holds the blob: 1 yes, 0 no (absent, or other bytes:
 * *replace_out = 1 then), or an error (a folder in the way, a read failure). */
static arca_err holds_blob(int *yes_out, int *replace_out, write_ctx *c, const char *path,
	const char *sha256, uint64_t size)
{
	*yes_out = 0;
	*replace_out = 0;
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return ARCA_OK; /* absent, or a dangling link the rename will replace */
		return arca_error_errno(errno, "stat %s", path);
	}
	if (!S_ISREG(st.st_mode))
		return arca_error_set(ARCA_EEXISTS, "%s: something that is not a file is in the way",
			path);
	if ((uint64_t)st.st_size != size) {
		*replace_out = 1;
		return ARCA_OK;
	}
	if (c->opts->no_verify) {
		*yes_out = 1;
		return ARCA_OK;
	}
	arca_file_digests d;
	arca_err err = arca_hash_file(&d, path, 0, hash_progress(c), c);
	if (err < 0)
		return err;
	*yes_out = !strcmp(d.sha256, sha256);
	*replace_out = !*yes_out;
	return ARCA_OK;
}

static arca_err blob_path(char **out, const write_ctx *c, const char *sha256)
{
	if (asprintf(out, "%s/sha256-%s", c->blobs_dir, sha256) < 0) {
		*out = NULL;
		return arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
	}
	return ARCA_OK;
}

static arca_err put_store_blob(arca_ollama_blob *res, write_ctx *c, const char *sha256)
{
	arca_err err = arca_store_stat_blob(c->store, sha256, &res->size);
	if (err < 0)
		return err;
	c->size = res->size;
	char *path;
	if ((err = blob_path(&path, c, sha256)) < 0)
		return err;
	int present;
	if ((err = holds_blob(&present, &res->replaced, c, path, sha256, res->size)) == ARCA_OK) {
		if (present) {
			res->how = ARCA_OLLAMA_KEPT;
		} else {
			unsigned flags = (c->opts->copy ? ARCA_EXPORT_COPY : 0) |
				(c->opts->no_verify ? 0 : ARCA_EXPORT_VERIFY);
			arca_export_how how = ARCA_EXPORTED_COPY;
			err = arca_store_export_blob(c->store, sha256, path, flags, hash_progress(c), c,
				&how);
			res->how = how == ARCA_EXPORTED_LINK ? ARCA_OLLAMA_LINKED : ARCA_OLLAMA_COPIED;
		}
	}
	free(path);
	return err;
}

static arca_err put_memory_blob(arca_ollama_blob *res, write_ctx *c, const void *data,
	size_t len)
{
	char sha256[ARCA_SHA256_HEX];
	arca_err err = arca_sha256_buffer_hex(sha256, data, len);
	if (err < 0)
		return err;
	snprintf(res->digest, sizeof(res->digest), "sha256:%s", sha256);
	res->size = len;
	c->size = len;
	char *path;
	if ((err = blob_path(&path, c, sha256)) < 0)
		return err;
	int present;
	if ((err = holds_blob(&present, &res->replaced, c, path, sha256, len)) == ARCA_OK) {
		res->how = present ? ARCA_OLLAMA_KEPT : ARCA_OLLAMA_WRITTEN;
		if (!present)
			err = arca_io_write_file(path, data, len, 0644);
	}
	free(path);
	return err;
}

static arca_err put_layer(arca_ollama_blob *res, write_ctx *c, const arca_ollama_layer *layer)
{
	res->media_type = layer->media_type;
	c->media_type = layer->media_type;
	arca_err err;
	if (layer->sha256) {
		snprintf(res->digest, sizeof(res->digest), "sha256:%s", layer->sha256);
		err = put_store_blob(res, c, layer->sha256);
	} else {
		err = put_memory_blob(res, c, layer->data, layer->len);
	}
	if (err < 0)
		return arca_error_prefix(err, "%s layer", layer->media_type);
	c->before += res->size;
	if (c->opts->progress && c->opts->progress(layer->media_type, res->size, res->size,
			c->before, c->total, c->opts->payload))
		return arca_error_set(ARCA_EINTERRUPTED, "ollama checkout: interrupted");
	return ARCA_OK;
}

static json_t *descriptor(const arca_ollama_blob *b)
{
	return json_pack("{s:s,s:s,s:I}", "mediaType", b->media_type, "digest", b->digest,
		"size", (json_int_t)b->size);
}

/* A document as Go's encoder writes it: compact, fields in the order given, a newline.
 * Takes the reference; NULL when out of memory. */
static char *go_json_text(json_t *doc)
{
	char *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	char *text = NULL;
	if (body && asprintf(&text, "%s\n", body) < 0)
		text = NULL;
	free(body);
	return text;
}

static char *manifest_text(const arca_ollama_result *res)
{
	json_t *layers = json_array();
	for (size_t i = 0; layers && i < res->n_layers; i++)
		json_array_append_new(layers, descriptor(&res->layers[i]));
	return go_json_text(layers ? json_pack("{s:i,s:s,s:o,s:o}", "schemaVersion", 2,
		"mediaType", ARCA_OLLAMA_MEDIA_MANIFEST, "config", descriptor(&res->config), "layers",
		layers) : NULL);
}

/* Go's runtime.GOARCH of this build: ConfigV2 records the platform that made the model. */
#if defined(__aarch64__)
#define CONFIG_ARCHITECTURE "arm64"
#else
#define CONFIG_ARCHITECTURE "amd64"
#endif

/* ConfigV2's fields in its struct order. */
static char *config_text(const arca_ollama_config *c)
{
	return go_json_text(json_pack("{s:s,s:s,s:[s],s:s,s:s,s:s,s:s}", "model_format", "gguf",
		"model_family", c->model_family, "model_families", c->model_family, "model_type",
		c->model_type, "file_type", c->file_type, "architecture", CONFIG_ARCHITECTURE, "os",
		"linux"));
}

/* Writes the manifest unless the same bytes are there already. */
static arca_err put_manifest(arca_ollama_result *out, const arca_ollama_write_opts *opts,
	const char *text)
{
	const arca_ollama_name *n = opts->name;
	char *dir;
	if (asprintf(&dir, "%s/manifests/%s/%s/%s", opts->dir, n->host, n->namespace,
			n->model) < 0 ||
	    asprintf(&out->manifest_path, "%s/%s", dir, n->tag) < 0)
		return arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
	arca_err err = arca_io_mkdirs(dir, 0755);
	free(dir);
	if (err < 0)
		return err;
	struct stat st;
	if (lstat(out->manifest_path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return arca_error_set(ARCA_EEXISTS, "%s: a folder is in the way of the manifest",
				out->manifest_path);
		out->manifest_existed = 1;
		char *old = NULL;
		size_t len;
		if (S_ISREG(st.st_mode) && arca_io_read_file(&old, &len, out->manifest_path,
				MANIFEST_MAX) == ARCA_OK)
			out->manifest_unchanged = len == strlen(text) && !memcmp(old, text, len);
		arca_error_clear();
		free(old);
		if (out->manifest_unchanged)
			return ARCA_OK;
	}
	return arca_io_write_file(out->manifest_path, text, strlen(text), 0644);
}

arca_err arca_ollama_write(arca_ollama_result *out, arca_store *store,
	const arca_ollama_write_opts *opts)
{
	memset(out, 0, sizeof(*out));
	write_ctx c = { store, opts, NULL, NULL, 0, 0, 0 };
	char *text = NULL, *config = config_text(opts->config);
	arca_err err = ARCA_OK;
	out->layers = calloc(opts->n_layers ? opts->n_layers : 1, sizeof(*out->layers));
	if (!config || !out->layers || asprintf(&c.blobs_dir, "%s/blobs", opts->dir) < 0) {
		c.blobs_dir = NULL;
		err = arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
		goto cleanup;
	}
	out->n_layers = opts->n_layers;
	c.total = strlen(config);
	for (size_t i = 0; i < opts->n_layers; i++) {
		uint64_t size = opts->layers[i].len;
		if (opts->layers[i].sha256 &&
		    (err = arca_store_stat_blob(store, opts->layers[i].sha256, &size)) < 0)
			goto cleanup;
		c.total += size;
	}
	if ((err = arca_io_mkdirs(c.blobs_dir, 0755)) < 0)
		goto cleanup;
	for (size_t i = 0; i < opts->n_layers; i++)
		if ((err = put_layer(&out->layers[i], &c, &opts->layers[i])) < 0)
			goto cleanup;
	arca_ollama_layer config_layer = { ARCA_OLLAMA_MEDIA_CONFIG, NULL, config,
		strlen(config) };
	if ((err = put_layer(&out->config, &c, &config_layer)) < 0)
		goto cleanup;
	out->bytes = c.before;
	if (!(text = manifest_text(out))) {
		err = arca_error_set(ARCA_ENOMEM, "ollama: out of memory");
		goto cleanup;
	}
	if ((err = put_manifest(out, opts, text)) < 0)
		goto cleanup;
	char hex[ARCA_SHA256_HEX];
	if ((err = arca_sha256_buffer_hex(hex, text, strlen(text))) == ARCA_OK) {
		snprintf(out->model_id, sizeof(out->model_id), "%.12s", hex);
	}
cleanup:
	free(text);
	free(config);
	free(c.blobs_dir);
	return err;
}
