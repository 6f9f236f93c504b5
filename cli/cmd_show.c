/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/cmd_show.c — `arca show REF`: everything the store knows about one snapshot: files
 * and hashes, licence, card fields, hub evidence, and what was derived from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/card.h"
#include "arca/ref.h"
#include "cli.h"

const cli_spec cmd_show_spec = {
	.name = "show",
	.args = "REF",
	.summary = "show a snapshot: files, hashes, licence, card, lineage",
	.description =
		"REF is [hub:]org/name[@revision]; without a revision the main branch (or the only\n"
		"snapshot) is shown. A revision may be a ref name or a commit prefix.",
	.options = NULL,
	.min_args = 1,
	.max_args = 1,
};

/* The tensor index of the snapshot's weight files and its variants' (arca index): how many
 * there are, how many are indexed, with how many tensors; null when it cannot be read. */
static json_t *tensor_index_json(arca_catalog *cat, int64_t snapshot)
{
	arca_weight_blob *w;
	size_t n;
	if (arca_catalog_list_weight_blobs(&w, &n, cat, snapshot, 0) < 0)
		return json_null();
	size_t indexed = 0;
	int64_t tensors = 0;
	for (size_t i = 0; i < n; i++) {
		indexed += w[i].index_version > 0;
		tensors += w[i].n_tensors;
	}
	arca_weight_blobs_free(w, n);
	return json_pack("{s:b,s:I,s:I,s:I}", "indexed", indexed == n, "files", (json_int_t)n,
		"files_indexed", (json_int_t)indexed, "tensors", (json_int_t)tensors);
}

/* Card fields worth a line of their own, in this order. */
static const char *const card_fields[] = {
	"license", "license_name", "license_link", "base_model", "base_model_relation",
	"new_version", "pipeline_tag", "library_name", "language", "datasets", "tags",
};

static void print_card(json_t *card)
{
	if (!json_is_object(card)) {
		printf("card        (no front matter)\n");
		return;
	}
	for (size_t i = 0; i < sizeof(card_fields) / sizeof(card_fields[0]); i++) {
		json_t *v = json_object_get(card, card_fields[i]);
		if (!v)
			continue;
		char *text = json_is_string(v) ? strdup(json_string_value(v)) :
			json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("card.%-*s %.200s\n", 7, card_fields[i], text ? text : "?");
		free(text);
	}
}

static json_t *files_json(const arca_file *files, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const arca_file *f = &files[i];
		json_t *evidence = f->evidence_json ? json_loads(f->evidence_json, 0, NULL) : NULL;
		json_array_append_new(arr, json_pack("{s:s,s:I,s:s?,s:s?,s:s?,s:s?,s:b,s:o}", "path",
			f->path, "size", (json_int_t)f->size, "sha256", f->sha256[0] ? f->sha256 : NULL,
			"git_sha1", f->git_sha1[0] ? f->git_sha1 : NULL, "hub_oid", f->hub_oid,
			"oid_kind", f->oid_kind, "hub_hash", f->hub_oid != NULL,
			"evidence", evidence ? evidence : json_null()));
	}
	return arr;
}

static json_t *artifacts_json(const arca_artifact *arts, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *params = arts[i].params_json ? json_loads(arts[i].params_json, 0, NULL) : NULL;
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:o,s:s,s:s}", "id",
			(json_int_t)arts[i].id, "kind", arts[i].kind, "name", arts[i].name,
			"params", params ? params : json_null(), "tool_version", arts[i].tool_version,
			"created_at", arts[i].created_at));
	}
	return arr;
}

/* One line per signature: its state, where it came from, who signed, when it was checked. */
static void print_signatures(const char *signatures_json)
{
	json_t *sigs = signatures_json ? json_loads(signatures_json, 0, NULL) : NULL;
	size_t i;
	json_t *sig;
	if (!json_array_size(sigs))
		printf("signature   none (arca sign, or a model.sig in the repo)\n");
	json_array_foreach(sigs, i, sig) {
		const char *verified = json_string_value(json_object_get(sig, "verified_at"));
		printf("signature   %s (%s), by %s%s%s\n",
			json_string_value(json_object_get(sig, "state")),
			json_string_value(json_object_get(sig, "source")),
			json_string_value(json_object_get(sig, "signer")),
			verified ? ", last verified " : "", verified ? verified : "");
	}
	json_decref(sigs);
}

static void print_text(const arca_snapshot *s, const arca_file *files, size_t n_files,
	const arca_artifact *arts, size_t n_arts)
{
	char name[300], size[32];
	cli_snapshot_name(name, sizeof(name), s);
	cli_format_size(size, sizeof(size), s->total_size);
	printf("model       %s\n", name);
	printf("commit      %s\n", s->commit);
	json_t *refs = s->refs_json ? json_loads(s->refs_json, 0, NULL) : NULL;
	size_t i;
	json_t *r;
	printf("refs       ");
	json_array_foreach(refs, i, r)
		printf("%s%s", i ? ", " : " ", json_string_value(r));
	printf("%s\n", json_array_size(refs) ? "" : " (none)");
	json_decref(refs);
	printf("state       %s%s%s\n", s->state, s->completed_at ? " since " : "",
		s->completed_at ? s->completed_at : "");
	printf("source      %s%s%s\n", s->source, s->origin ? " " : "", s->origin ? s->origin : "");
	char *licence = arca_card_license_summary(s->license_json);
	printf("licence     %s\n", licence ? licence : "unknown");
	free(licence);
	json_t *lic = s->license_json ? json_loads(s->license_json, 0, NULL) : NULL;
	json_t *lic_files = json_object_get(lic, "files");
	if (json_array_size(lic_files) > 0) {
		char *text = json_dumps(lic_files, JSON_COMPACT);
		printf("licence.files %s\n", text ? text : "");
		free(text);
	}
	json_decref(lic);
	print_signatures(s->signatures_json);
	json_t *card = s->card_json ? json_loads(s->card_json, 0, NULL) : NULL;
	print_card(card);
	json_decref(card);
	printf("\nfiles (%zu, %s)\n", n_files, size);
	for (i = 0; i < n_files; i++) {
		cli_format_size(size, sizeof(size), files[i].size);
		/* a hub snapshot's file without a hub hash was only hashed by arca: say so */
		int unchecked = !strcmp(s->source, "hub") && !files[i].hub_oid;
		printf("  %10s  %s  %s  %s%s\n", size, files[i].sha256[0] ? files[i].sha256 :
			"(not verified yet)                                              ",
			files[i].git_sha1[0] ? files[i].git_sha1 : "-", files[i].path,
			unchecked ? "  (no hub hash)" : "");
	}
	printf("\nlineage (%zu derived)\n", n_arts);
	for (i = 0; i < n_arts; i++)
		printf("  %s %s  %s  arca %s  %s\n", arts[i].kind, arts[i].name,
			arts[i].params_json ? arts[i].params_json : "{}", arts[i].tool_version,
			arts[i].created_at);
}

int cmd_show(int argc, char **argv)
{
	cli_ctx ctx;
	int rc = cli_parse(&ctx, &cmd_show_spec, argc, argv);
	if (rc >= 0)
		return rc;
	arca_ref ref;
	if (arca_ref_parse(&ref, ctx.args[0]) < 0)
		return cli_usage_error(&ctx, "show: %s", arca_error_last());
	arca_store *store;
	arca_err err = cli_open_store(&store, &ctx, ARCA_LOCK_SHARED);
	if (err < 0)
		return cli_fail(&ctx, err, "show %s", ctx.args[0]);
	arca_catalog *cat = arca_store_catalog(store);
	arca_snapshot snap;
	arca_file *files = NULL;
	arca_artifact *arts = NULL;
	size_t n_files = 0, n_arts = 0;
	if ((err = arca_catalog_find_snapshot(&snap, cat, &ref)) < 0) {
		rc = cli_fail(&ctx, err, "show %s", ctx.args[0]);
		arca_store_free(store);
		return rc;
	}
	if ((err = arca_catalog_list_files(&files, &n_files, cat, snap.id)) < 0 ||
	    (err = arca_catalog_list_artifacts(&arts, &n_arts, cat, snap.id)) < 0) {
		rc = cli_fail(&ctx, err, "show %s", ctx.args[0]);
		goto cleanup;
	}
	rc = CLI_EXIT_OK;
	if (ctx.json) {
		json_t *doc = cli_snapshot_json(&snap);
		json_t *card = snap.card_json ? json_loads(snap.card_json, 0, NULL) : NULL;
		json_object_set_new(doc, "card", card ? card : json_null());
		json_t *evidence = snap.evidence_json ? json_loads(snap.evidence_json, 0, NULL) : NULL;
		json_object_set_new(doc, "evidence", evidence ? evidence : json_null());
		json_object_set_new(doc, "file_list", files_json(files, n_files));
		json_object_set_new(doc, "lineage", artifacts_json(arts, n_arts));
		json_object_set_new(doc, "tensor_index", tensor_index_json(cat, snap.id));
		rc = cli_print_json(doc);
	} else if (!ctx.quiet) {
		print_text(&snap, files, n_files, arts, n_arts);
	}
cleanup:
	arca_files_free(files, n_files);
	arca_artifacts_free(arts, n_arts);
	arca_snapshot_dispose(&snap);
	arca_store_free(store);
	return rc;
}
