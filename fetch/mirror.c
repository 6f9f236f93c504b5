/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/mirror.c — `arca pull -m MANIFEST` in the library (contract in arca/manifest.h):
 * every model of a manifest pulled in turn, pinned by the lock where it has an entry, and
 * the lock written afterwards, only when every model came through.
 */
#include "arca/manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/ref.h"

void arca_manifest_pull_result_dispose(arca_manifest_pull_result *result)
{
	free(result->lock_path);
	memset(result, 0, sizeof(*result));
}

/* The REF a manifest entry is pulled as, and the revision its lock entry is under (the
 * hub's default when the manifest names none). The manifest checked hub and repo, not the
 * revision. */
static arca_err model_ref(arca_ref *ref, const char **revision, const arca_manifest_model *m)
{
	char text[600];
	snprintf(text, sizeof(text), "%s:%s%s%s", m->hub, m->repo, m->revision[0] ? "@" : "",
		m->revision);
	arca_err err = arca_ref_parse(ref, text);
	if (err < 0)
		return err;
	if (ref->variant[0])
		return arca_error_set(ARCA_EINVALID, "%s: variants are made by arca convert, not "
			"pulled", text);
	*revision = m->revision[0] ? m->revision : arca_hub_default_revision(ref->hub);
	if (!*revision)
		return arca_error_set(ARCA_EINVALID, "cannot pull from hub '%s'", ref->hub);
	return ARCA_OK;
}

static int emit(const arca_manifest_pull_opts *opts, const arca_manifest_event *ev)
{
	return opts->on_model ? opts->on_model(ev, opts->payload) : 0;
}

arca_err arca_pull_manifest(arca_manifest_pull_result *out, arca_store *store,
	const arca_manifest_pull_opts *opts)
{
	memset(out, 0, sizeof(*out));
	out->failed_step = ARCA_MANIFEST_STEP_LOAD;
	arca_pull_fn pull = opts->pull_fn ? opts->pull_fn : arca_pull;
	arca_manifest manifest;
	arca_lockfile lock = { 0 };
	int changed = 0;
	arca_err err = arca_manifest_load(&manifest, opts->manifest_path);
	if (err < 0)
		return err;
	if (opts->lock_path)
		out->lock_path = strdup(opts->lock_path);
	else if (asprintf(&out->lock_path, "%s.lock", opts->manifest_path) < 0)
		out->lock_path = NULL;
	if (!out->lock_path) {
		err = arca_error_set(ARCA_ENOMEM, "out of memory");
		goto cleanup;
	}
	err = arca_lockfile_load(&lock, out->lock_path);
	out->lock_existed = err == ARCA_OK;
	if (err == ARCA_ENOTFOUND) {
		arca_error_clear();
		memset(&lock, 0, sizeof(lock));
		err = ARCA_OK;
	}
	if (err < 0)
		goto cleanup;
	out->n_models = manifest.n_models;
	for (size_t i = 0; i < manifest.n_models; i++) {
		const arca_manifest_model *m = &manifest.models[i];
		arca_manifest_event ev = { .kind = ARCA_MANIFEST_MODEL_NEXT, .index = i,
			.n_models = manifest.n_models, .model = m };
		if (emit(opts, &ev)) {
			out->stopped = 1;
			break;
		}
		arca_ref ref;
		const char *revision;
		if ((err = model_ref(&ref, &revision, m)) < 0) {
			out->failed_step = ARCA_MANIFEST_STEP_ENTRY;
			goto cleanup;
		}
		const arca_lockfile_entry *locked = opts->update_lock ? NULL :
			arca_lockfile_find(&lock, ref.hub, ref.repo_id, revision);
		arca_pull_opts po = *opts->pull;
		po.ref = &ref;
		po.include = (const char *const *)m->include;
		po.n_include = m->n_include;
		po.exclude = (const char *const *)m->exclude;
		po.n_exclude = m->n_exclude;
		po.locked_commit = locked ? locked->commit : NULL;
		po.locked_files = locked ? locked->files : NULL;
		po.n_locked_files = locked ? locked->n_files : 0;
		arca_pull_result res;
		err = pull(&res, store, &po);
		ev.ref = &ref;
		ev.locked = locked;
		if (err < 0) {
			out->n_failed++;
			if (out->models_err == ARCA_OK || err == ARCA_EMISMATCH)
				out->models_err = err;
			ev.kind = ARCA_MANIFEST_MODEL_FAILED;
			ev.err = err;
			err = ARCA_OK;
			if (emit(opts, &ev)) {
				out->stopped = 1;
				break;
			}
			continue;
		}
		out->n_pulled++;
		ev.kind = ARCA_MANIFEST_MODEL_PULLED;
		ev.result = &res;
		int stop = emit(opts, &ev);
		if (!locked) {
			err = arca_lockfile_set(&lock, ref.hub, ref.repo_id, revision, res.commit, res.files,
				res.n_files);
			changed = 1;
		}
		arca_pull_result_dispose(&res);
		if (err < 0) {
			out->failed_step = ARCA_MANIFEST_STEP_LOCK;
			goto cleanup;
		}
		if (stop) {
			out->stopped = 1;
			break;
		}
	}
	/* the lock is written only when every model came through, so it never pins a mix */
	if (changed && !out->n_failed && !out->stopped) {
		out->failed_step = ARCA_MANIFEST_STEP_WRITE;
		if ((err = arca_lockfile_save(&lock, out->lock_path, manifest.name)) < 0)
			goto cleanup;
		out->lock_written = 1;
	}
cleanup:
	arca_lockfile_dispose(&lock);
	arca_manifest_dispose(&manifest);
	return err;
}
