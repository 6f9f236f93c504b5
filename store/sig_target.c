/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/sig_target.c — what a store signature covers (store/sig_target.h): a complete
 * snapshot's files or a variant's outputs, sorted as model signing orders them.
 */
#include "store/sig_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/catalog_internal.h"

static arca_err grow_files(arca_sig_target *t, size_t n)
{
	t->files = calloc(n ? n : 1, sizeof(*t->files));
	t->sizes = calloc(n ? n : 1, sizeof(*t->sizes));
	if (!t->files || !t->sizes)
		return arca_error_set(ARCA_ENOMEM, "signature: out of memory");
	return ARCA_OK;
}

static arca_err take_snapshot_files(arca_sig_target *t, arca_catalog *cat)
{
	arca_file *files = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_files(&files, &n, cat, t->snap.id);
	if (err == ARCA_OK)
		err = grow_files(t, n);
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		if (!files[i].sha256[0]) {
			err = arca_error_set(ARCA_EINVALID, "%s: %s has no verified content yet",
				t->subject, files[i].path);
			break;
		}
		t->files[i].name = files[i].path;
		files[i].path = NULL;
		memcpy(t->files[i].sha256, files[i].sha256, ARCA_SHA256_HEX);
		t->sizes[i] = files[i].size;
		t->n++;
	}
	arca_files_free(files, n);
	return err;
}

static arca_err take_variant_files(arca_sig_target *t, arca_catalog *cat)
{
	arca_artifact_file *files = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_artifact_outputs(&files, &n, cat, t->artifact);
	if (err == ARCA_OK)
		err = grow_files(t, n);
	for (size_t i = 0; i < n && err == ARCA_OK; i++) {
		t->files[i].name = files[i].path;
		files[i].path = NULL;
		memcpy(t->files[i].sha256, files[i].sha256, ARCA_SHA256_HEX);
		t->sizes[i] = files[i].size;
		t->n++;
	}
	arca_artifact_files_free(files, n);
	return err;
}

typedef struct {
	arca_sign_file f;
	uint64_t size;
} file_and_size;

static int by_signing_order(const void *a, const void *b)
{
	return arca_sign_compare_paths(((const file_and_size *)a)->f.name,
		((const file_and_size *)b)->f.name);
}

/* Sorts files and sizes together, as model signing orders paths. */
static arca_err sort_files(arca_sig_target *t)
{
	file_and_size *p = malloc((t->n ? t->n : 1) * sizeof(*p));
	if (!p)
		return arca_error_set(ARCA_ENOMEM, "signature: out of memory");
	for (size_t i = 0; i < t->n; i++)
		p[i] = (file_and_size){ t->files[i], t->sizes[i] };
	qsort(p, t->n, sizeof(*p), by_signing_order);
	for (size_t i = 0; i < t->n; i++) {
		t->files[i] = p[i].f;
		t->sizes[i] = p[i].size;
	}
	free(p);
	return ARCA_OK;
}

static arca_err finish(arca_sig_target *t, arca_catalog *cat, const char *variant)
{
	if (strcmp(t->snap.state, "complete") != 0)
		return arca_error_set(ARCA_EINVALID, "%s:%s@%.12s is not complete; finish it with "
			"arca pull first", t->snap.hub, t->snap.repo_id, t->snap.commit);
	const char *name = strrchr(t->snap.repo_id, '/');
	name = name ? name + 1 : t->snap.repo_id;
	if (asprintf(&t->subject, "%s:%s@%.12s%s%s", t->snap.hub, t->snap.repo_id,
			t->snap.commit, variant ? ":" : "", variant ? variant : "") < 0 ||
	    asprintf(&t->model_name, "%s%s%s", name, variant ? "-" : "", variant ? variant : "") < 0)
		return arca_error_set(ARCA_ENOMEM, "signature: out of memory");
	arca_err err = t->artifact ? take_variant_files(t, cat) : take_snapshot_files(t, cat);
	if (err == ARCA_OK)
		err = sort_files(t);
	return err;
}

arca_err arca_sig_target_load(arca_sig_target *out, arca_store *store, const arca_ref *ref)
{
	memset(out, 0, sizeof(*out));
	arca_catalog *cat = arca_store_catalog(store);
	arca_err err = arca_catalog_find_snapshot(&out->snap, cat, ref);
	if (err == ARCA_OK && ref->variant[0]) {
		arca_artifact art;
		err = arca_catalog_find_artifact(&art, cat, out->snap.id, ref->variant);
		if (err == ARCA_ENOTFOUND)
			err = arca_error_set(ARCA_ENOTFOUND, "%s:%s@%.12s has no variant '%s' (arca show "
				"%s lists them)", out->snap.hub, out->snap.repo_id, out->snap.commit,
				ref->variant, out->snap.repo_id);
		if (err == ARCA_OK) {
			out->artifact = art.id;
			arca_artifact_dispose(&art);
		}
	}
	if (err == ARCA_OK)
		err = finish(out, cat, ref->variant[0] ? ref->variant : NULL);
	if (err < 0)
		arca_sig_target_dispose(out);
	return err;
}

arca_err arca_sig_target_load_snapshot(arca_sig_target *out, arca_store *store,
	int64_t snapshot)
{
	memset(out, 0, sizeof(*out));
	arca_catalog *cat = arca_store_catalog(store);
	arca_err err = arca_catalog__load_snapshot(&out->snap, cat, snapshot);
	if (err == ARCA_OK) {
		/* a pull checks before it marks the snapshot complete */
		free(out->snap.state);
		out->snap.state = strdup("complete");
		err = out->snap.state ? finish(out, cat, NULL) :
			arca_error_set(ARCA_ENOMEM, "signature: out of memory");
	}
	if (err < 0)
		arca_sig_target_dispose(out);
	return err;
}

void arca_sig_target_dispose(arca_sig_target *t)
{
	arca_snapshot_dispose(&t->snap);
	arca_sign_files_free(t->files, t->n);
	free(t->sizes);
	free(t->subject);
	free(t->model_name);
	memset(t, 0, sizeof(*t));
}
