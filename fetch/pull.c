/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/pull.c — `arca pull` in the library (contract in arca/pull.h).
 *
 * Order of work:
 *   1. resolve the revision to a commit (with a lock: check the locked commit instead);
 *   2. list the files at that commit, select them (include/exclude), check against the lock;
 *   3. record the snapshot and one row per selected file (no blob yet) — an interrupted
 *      pull leaves an incomplete snapshot that the next pull finishes;
 *   4. reuse blobs the store already has; download the rest, recording each file with its
 *      blob and the hub's answer as soon as it is verified;
 *   5. hubs without commit URLs (resolve_again_after_download: ModelScope): resolve again,
 *      a revision that moved invalidates the listing;
 *   6. read card and licence from the stored blobs and mark the snapshot complete.
 */
#include "arca/pull.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arca/card.h"
#include "arca/catalog.h"
#include "arca/signatures.h"
#include "arca/snapshot.h"
#include "common/util.h"
#include "fetch/hub.h"
#include "fetch/transfer.h"

typedef struct {
	const arca_pull_opts *opts;
	arca_store *store;
	arca_catalog *cat;
	arca_hub *hub;
	arca_pull_result *out;
	const char *repo;
	char revision[256];
	char commit[ARCA_SHA256_HEX];
	char moved_to[512];   /* the repo's name now, when the hub says it was renamed */
	arca_hub_file *files; /* selected */
	size_t n_files;
	char *want_sha256;    /* per file: the locked sha256 or "" (array of 65-byte slots) */
	int stopped;
} pull_ctx;

static int emit(pull_ctx *p, arca_pull_event *ev)
{
	if (!p->opts->on_event)
		return 0;
	ev->hub = p->hub->ops->name;
	ev->repo = p->repo;
	ev->revision = p->revision;
	ev->commit = p->commit[0] ? p->commit : NULL;
	return p->opts->on_event(ev, p->opts->payload);
}

static arca_err warn(pull_ctx *p, const char *message)
{
	arca_pull_result *out = p->out;
	char **grown = realloc(out->warnings, (out->n_warnings + 1) * sizeof(*grown));
	if (!grown || !(grown[out->n_warnings] = strdup(message))) {
		if (grown)
			out->warnings = grown;
		return arca_error_set(ARCA_ENOMEM, "pull: out of memory");
	}
	out->warnings = grown;
	out->n_warnings++;
	arca_pull_event ev = { .kind = ARCA_PULL_WARNING, .message = message };
	emit(p, &ev);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ selection */

static int glob_matches(const char *pattern, const char *path)
{
	size_t n = strlen(pattern);
	if (n > 0 && pattern[n - 1] == '/') {
		/* "dir/" means everything under dir */
		return strncmp(path, pattern, n) == 0;
	}
	return fnmatch(pattern, path, 0) == 0;
}

int arca_pull_selects(const char *path, const char *const *include, size_t n_include,
	const char *const *exclude, size_t n_exclude)
{
	int included = n_include == 0;
	for (size_t i = 0; i < n_include && !included; i++)
		included = glob_matches(include[i], path);
	for (size_t i = 0; i < n_exclude && included; i++)
		included = !glob_matches(exclude[i], path);
	return included;
}

/* Keeps the selected files (moves them to the front), frees the others. */
static size_t select_files(arca_hub_file *files, size_t n, const arca_pull_opts *opts)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (arca_pull_selects(files[i].path, opts->include, opts->n_include, opts->exclude,
				opts->n_exclude)) {
			files[kept++] = files[i];
		} else {
			free(files[i].path);
		}
	}
	return kept;
}

/* ------------------------------------------------------------------ lock checks */

static const arca_pull_pin *find_pin(const arca_pull_opts *opts, const char *path)
{
	for (size_t i = 0; i < opts->n_locked_files; i++)
		if (!strcmp(opts->locked_files[i].path, path))
			return &opts->locked_files[i];
	return NULL;
}

/* With a lock, the selected files must be exactly the locked ones with the locked hashes
 * (as far as the listing shows them; files listed by git id are checked after download). */
static arca_err check_against_lock(pull_ctx *p, arca_hub_file *files, size_t *n)
{
	const arca_pull_opts *opts = p->opts;
	for (size_t i = 0; i < opts->n_locked_files; i++) {
		const arca_pull_pin *pin = &opts->locked_files[i];
		size_t k;
		for (k = 0; k < *n && strcmp(files[k].path, pin->path) != 0; k++)
			;
		if (k == *n)
			return arca_error_set(ARCA_EMISMATCH, "upstream changed: %s (locked at commit "
				"%.12s) is gone from the hub's listing", pin->path, p->commit);
		if (files[k].size != pin->size)
			return arca_error_set(ARCA_EMISMATCH, "upstream changed: %s is now %llu bytes, "
				"the lock says %llu", pin->path, (unsigned long long)files[k].size,
				(unsigned long long)pin->size);
		if (files[k].sha256[0] && strcmp(files[k].sha256, pin->sha256) != 0)
			return arca_error_set(ARCA_EMISMATCH, "upstream changed: %s now has sha256 %s, the "
				"lock says %s", pin->path, files[k].sha256, pin->sha256);
	}
	/* files the lock does not know were added upstream: the lock decides what we take */
	size_t kept = 0;
	for (size_t i = 0; i < *n; i++) {
		if (find_pin(opts, files[i].path))
			files[kept++] = files[i];
		else
			free(files[i].path);
	}
	*n = kept;
	return ARCA_OK;
}

static int has_hub_hash(const arca_hub_file *f)
{
	return f->sha256[0] || f->git_sha1[0];
}

/* Files the hub lists without any hash are fetched and hashed by arca (and marked so in
 * the evidence) unless the user requires hub hashes. */
static arca_err check_hub_hashes(pull_ctx *p)
{
	size_t n = 0;
	char names[400] = "";
	for (size_t i = 0; i < p->n_files; i++) {
		if (has_hub_hash(&p->files[i]))
			continue;
		if (p->opts->require_hashes)
			return arca_error_set(ARCA_EUNSUPPORTED, "%s: the hub lists no hash for it, and "
				"--require-hashes was given", p->files[i].path);
		size_t used = strlen(names);
		if (n < 5)
			snprintf(names + used, sizeof(names) - used, "%s%s", n ? ", " : "",
				p->files[i].path);
		n++;
	}
	if (n == 0)
		return ARCA_OK;
	char msg[600];
	snprintf(msg, sizeof(msg), "%zu file%s listed without a hub hash (%s%s): fetched and "
		"recorded with the sha256 arca computed (--require-hashes refuses them)", n,
		n == 1 ? "" : "s", names, n > 5 ? ", ..." : "");
	return warn(p, msg);
}

/* ------------------------------------------------------------------ resolving */

static arca_err resolve(pull_ctx *p, json_t *api)
{
	const arca_pull_opts *opts = p->opts;
	const arca_hub_ops *ops = p->hub->ops;
	arca_err err = ops->resolve(p->hub, p->repo, p->revision, p->commit, api);
	if (err < 0)
		return err;
	if (opts->locked_commit && strcmp(opts->locked_commit, p->commit) != 0) {
		if (!ops->fetches_old_commits)
			return arca_error_set(ARCA_EMISMATCH, "upstream changed: %s@%s moved from the "
				"locked commit %.12s to %.12s, and %s serves only the newest commit of a "
				"revision", p->repo, p->revision, opts->locked_commit, p->commit, ops->title);
		char msg[512];
		snprintf(msg, sizeof(msg), "%s@%s has moved upstream to %.12s; pulling the locked "
			"commit %.12s", p->repo, p->revision, p->commit, opts->locked_commit);
		if ((err = warn(p, msg)) < 0)
			return err;
		char head[ARCA_SHA256_HEX];
		memcpy(head, p->commit, sizeof(head));
		err = ops->resolve(p->hub, p->repo, opts->locked_commit, p->commit, api);
		if (err == ARCA_ENOTFOUND)
			return arca_error_set(ARCA_EMISMATCH, "upstream changed: the locked commit %.12s "
				"of %s is gone (%s is now at %.12s)", opts->locked_commit, p->repo,
				p->revision, head);
		if (err < 0)
			return err;
	}
	/* a renamed repo: say so once, and keep the name the hub answered under */
	size_t i;
	json_t *answer;
	json_array_foreach(api, i, answer) {
		const char *moved = json_string_value(json_object_get(answer, "moved_to"));
		if (!moved || p->moved_to[0])
			continue;
		snprintf(p->moved_to, sizeof(p->moved_to), "%s", moved);
		char msg[700];
		snprintf(msg, sizeof(msg), "%s has moved to %s on the hub; pulled from there, kept "
			"under the name asked for", p->repo, moved);
		if ((err = warn(p, msg)) < 0)
			return err;
	}
	arca_pull_event ev = { .kind = ARCA_PULL_RESOLVED };
	emit(p, &ev);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ catalog */

static arca_err record_snapshot(pull_ctx *p, json_t *evidence, int *existed)
{
	char *evidence_text = json_dumps(evidence, JSON_COMPACT);
	arca_snapshot_new snap = {
		.hub = p->hub->ops->name, .repo_id = p->repo, .commit = p->commit,
		.revision = p->revision, .source = "hub", .origin = p->hub->endpoint,
		.evidence_json = evidence_text,
	};
	arca_err err = evidence_text ? arca_catalog_create_snapshot(p->cat, &snap,
		&p->out->snapshot, existed) : arca_error_set(ARCA_ENOMEM, "pull: out of memory");
	free(evidence_text);
	return err;
}

static void to_catalog_file(arca_file *out, const arca_hub_file *f)
{
	memset(out, 0, sizeof(*out));
	out->path = f->path;
	out->size = f->size;
	if (has_hub_hash(f)) {
		out->hub_oid = (char *)(f->sha256[0] ? f->sha256 : f->git_sha1);
		out->oid_kind = (char *)(f->sha256[0] ? "sha256" : "git-sha1");
	}
}

/* Which selected files the snapshot already has verified (1) and records rows for the
 * rest. Returns the number still to fetch. */
static arca_err record_pending(pull_ctx *p, unsigned char *have, size_t *todo_out)
{
	arca_file *rows = NULL;
	size_t n_rows = 0;
	arca_err err = arca_catalog_list_files(&rows, &n_rows, p->cat, p->out->snapshot);
	if (err < 0)
		return err;
	size_t todo = 0;
	if ((err = arca_catalog_begin(p->cat)) < 0)
		goto cleanup;
	for (size_t i = 0; i < p->n_files && err == ARCA_OK; i++) {
		const arca_hub_file *f = &p->files[i];
		have[i] = 0;
		for (size_t k = 0; k < n_rows; k++) {
			if (strcmp(rows[k].path, f->path) != 0)
				continue;
			have[i] = rows[k].sha256[0] && rows[k].size == f->size;
			break;
		}
		if (have[i])
			continue;
		arca_file row;
		to_catalog_file(&row, f);
		err = arca_catalog_add_file(p->cat, p->out->snapshot, &row);
		todo++;
	}
	/* rows an earlier pull of this commit left unverified and this pull does not select
	 * (a file it excludes now) would keep the snapshot from ever completing */
	for (size_t k = 0; k < n_rows && err == ARCA_OK; k++) {
		if (rows[k].sha256[0])
			continue;
		int selected = 0;
		for (size_t i = 0; i < p->n_files && !selected; i++)
			selected = !strcmp(rows[k].path, p->files[i].path);
		if (!selected)
			err = arca_catalog_remove_file(p->cat, p->out->snapshot, rows[k].path);
	}
	if (err == ARCA_OK && todo > 0)
		err = arca_catalog_mark_incomplete(p->cat, p->out->snapshot);
	if (err == ARCA_OK)
		err = arca_catalog_commit(p->cat);
	else
		arca_catalog_rollback(p->cat);
cleanup:
	arca_files_free(rows, n_rows);
	*todo_out = todo;
	return err;
}

static arca_err record_file(pull_ctx *p, const arca_hub_file *f, const arca_file_digests *d,
	json_t *evidence)
{
	arca_file row;
	to_catalog_file(&row, f);
	memcpy(row.sha256, d->sha256, sizeof(row.sha256));
	if (!has_hub_hash(f) && evidence)
		json_array_append_new(evidence, json_pack("{s:s,s:s}", "what", "no hub hash", "note",
			"the hub listed no hash for this file; its sha256 was computed by arca"));
	char *text = evidence ? json_dumps(evidence, JSON_COMPACT) : NULL;
	row.evidence_json = text;
	arca_err err = arca_catalog_add_file(p->cat, p->out->snapshot, &row);
	free(text);
	return err;
}

/* The blob already in the store for a file, if any (by sha256, else by git blob id). */
static int find_existing(pull_ctx *p, const arca_hub_file *f, arca_file_digests *d)
{
	if (!has_hub_hash(f))
		return 0;
	arca_blob_record rec;
	arca_err err = f->sha256[0] ? arca_catalog_get_blob(p->cat, f->sha256, &rec) :
		arca_catalog_find_blob_by_git_sha1(p->cat, f->git_sha1, &rec);
	uint64_t size;
	if (err < 0 || rec.size != f->size ||
	    arca_store_stat_blob(p->store, rec.sha256, &size) < 0 || size != f->size) {
		arca_error_clear();
		return 0;
	}
	memset(d, 0, sizeof(*d));
	memcpy(d->sha256, rec.sha256, sizeof(d->sha256));
	memcpy(d->git_sha1, rec.git_sha1, sizeof(d->git_sha1));
	d->size = rec.size;
	return 1;
}

static arca_err check_locked_hash(pull_ctx *p, const arca_hub_file *f, const char *sha256)
{
	const arca_pull_pin *pin = find_pin(p->opts, f->path);
	if (pin && strcmp(pin->sha256, sha256) != 0)
		return arca_error_set(ARCA_EMISMATCH, "upstream changed: %s now has sha256 %s, the "
			"lock says %s", f->path, sha256, pin->sha256);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ transfer */

typedef struct {
	pull_ctx *p;
	arca_err first_error;
	char first_message[ARCA_ERROR_MAX];
} transfer_ctx;

static void on_item_done(arca_transfer_item *item, void *payload)
{
	transfer_ctx *t = payload;
	pull_ctx *p = t->p;
	const arca_hub_file *f = item->file;
	arca_pull_event ev = { .kind = ARCA_PULL_FILE_DONE, .path = f->path, .size = f->size };
	arca_err err = item->err;
	if (err == ARCA_OK && (err = check_locked_hash(p, f, item->digests.sha256)) == ARCA_OK)
		err = record_file(p, f, &item->digests, item->evidence);
	if (err < 0 && item->err == ARCA_OK) {
		item->err = err;
		free(item->message);
		item->message = strdup(arca_error_last());
	}
	if (item->err < 0) {
		if (item->err != ARCA_EINTERRUPTED && t->first_error == ARCA_OK) {
			t->first_error = item->err;
			snprintf(t->first_message, sizeof(t->first_message), "%s",
				item->message ? item->message : "failed");
		}
		ev.err = item->err;
		ev.message = item->message;
	} else {
		p->out->n_downloaded++;
		ev.sha256 = item->digests.sha256;
		ev.how = item->resumed ? "resumed" : "downloaded";
	}
	p->out->bytes_received += item->received;
	emit(p, &ev);
}

static int on_progress(const arca_transfer_progress *progress, void *payload)
{
	transfer_ctx *t = payload;
	arca_pull_event ev = { .kind = ARCA_PULL_PROGRESS, .done = progress->done,
		.total = progress->total, .path = progress->path, .file_done = progress->file_done,
		.size = progress->file_size };
	if (emit(t->p, &ev))
		t->p->stopped = 1;
	return t->p->stopped;
}

static void on_retry(const char *message, void *payload)
{
	transfer_ctx *t = payload;
	arca_pull_event ev = { .kind = ARCA_PULL_RETRY, .message = message };
	emit(t->p, &ev);
}

static int larger_first(const void *a, const void *b)
{
	const arca_transfer_item *x = a, *y = b;
	if (x->file->size != y->file->size)
		return x->file->size < y->file->size ? 1 : -1;
	return strcmp(x->file->path, y->file->path);
}

static arca_err fetch_missing(pull_ctx *p, arca_http *http, const unsigned char *have)
{
	arca_transfer_item *items = calloc(p->n_files ? p->n_files : 1, sizeof(*items));
	if (!items)
		return arca_error_set(ARCA_ENOMEM, "pull: out of memory");
	size_t n = 0;
	arca_err err = ARCA_OK;
	for (size_t i = 0; i < p->n_files && err == ARCA_OK; i++) {
		const arca_hub_file *f = &p->files[i];
		arca_file_digests d;
		if (have[i])
			continue;
		if (find_existing(p, f, &d)) {
			if ((err = check_locked_hash(p, f, d.sha256)) == ARCA_OK &&
			    (err = record_file(p, f, &d, NULL)) == ARCA_OK) {
				p->out->n_reused++;
				arca_pull_event ev = { .kind = ARCA_PULL_FILE_DONE, .path = f->path,
					.size = f->size, .sha256 = d.sha256, .how = "reused" };
				emit(p, &ev);
			}
			continue;
		}
		items[n].file = f;
		items[n].url = p->hub->ops->file_url(p->hub, p->repo, p->commit, p->revision, f);
		if (!items[n++].url)
			err = arca_error_set(ARCA_ENOMEM, "pull: out of memory");
	}
	if (err == ARCA_OK && n > 0) {
		qsort(items, n, sizeof(*items), larger_first);
		transfer_ctx t = { p, ARCA_OK, "" };
		const arca_pull_opts *o = p->opts;
		arca_transfer_opts topts = {
			.store = p->store, .http = http, .hub = p->hub, .repo = p->repo,
			.commit = p->commit, .jobs = o->jobs > 0 ? o->jobs : 4,
			.connections = o->connections > 0 ? o->connections : 8,
			.chunk_size = o->chunk_size ? o->chunk_size : (32u << 20),
			.on_item_done = on_item_done, .on_progress = on_progress, .on_retry = on_retry,
			.payload = &t,
		};
		err = arca_transfer_run(items, n, &topts);
		if (err == ARCA_OK && t.first_error < 0) {
			size_t failed = 0;
			for (size_t i = 0; i < n; i++)
				failed += items[i].err < 0;
			err = arca_error_set(t.first_error, "%s%s", t.first_message, failed > 1 ?
				" (and other files failed too; run the pull again to retry them)" : "");
		}
	}
	for (size_t i = 0; i < n; i++)
		arca_transfer_item_dispose(&items[i]);
	free(items);
	return err;
}

/* ------------------------------------------------------------------ completion */

/* The repo's own model.sig, checked with the catalog's digests (just verified against the
 * hub) and recorded; its verdict goes into the evidence. An invalid one stops the pull
 * before the snapshot is marked complete; so does anything short of verified when the
 * user asked for a signer. */
static arca_err check_signature(pull_ctx *p, json_t *evidence)
{
	const arca_pull_opts *o = p->opts;
	int demanded = o->identity || o->issuer || o->require_signature;
	arca_sig_check c;
	arca_err err = arca_store_check_upstream_signature(&c, p->store, p->out->snapshot,
		o->identity, o->issuer);
	if (err == ARCA_ENOTFOUND) {
		arca_error_clear();
		return demanded ? arca_error_set(ARCA_EMISMATCH, "the repo has no model.sig, and a "
			"signature was required") : ARCA_OK;
	}
	if (err < 0)
		return err;
	const arca_sig_verdict *v = &c.verdict;
	const char *state = arca_sig_state_name(v->state);
	json_t *e = json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s}", "file", "model.sig",
		"state", state, "signer", v->signer, "trusted_by", v->anchor[0] ? v->anchor : NULL,
		"identity", c.sig.identity && c.sig.identity[0] ? c.sig.identity : NULL, "reason",
		v->reason[0] ? v->reason : NULL, "checked", v->checked, "not_checked", v->unchecked);
	if (e)
		json_object_set_new(evidence, "signature", e);
	p->out->signature_state = strdup(state);
	p->out->signature_signer = strdup(v->signer);
	p->out->signature_reason = v->reason[0] ? strdup(v->reason) : NULL;
	if (v->state == ARCA_SIG_INVALID || (demanded && v->state != ARCA_SIG_VERIFIED))
		err = arca_error_set(ARCA_EMISMATCH, "the repo's model.sig is %s: %s; the snapshot "
			"stays incomplete", state, v->reason);
	arca_sig_check_dispose(&c);
	return err;
}

static arca_err complete(pull_ctx *p, json_t *evidence)
{
	arca_file *rows = NULL;
	size_t n_rows = 0;
	char *card = NULL, *license = NULL, *warning = NULL, *evidence_text = NULL;
	arca_err err = check_signature(p, evidence);
	if (err == ARCA_OK)
		err = arca_catalog_list_files(&rows, &n_rows, p->cat, p->out->snapshot);
	if (err == ARCA_OK)
		err = arca_snapshot_describe(p->store, rows, n_rows, &card, &license, &warning);
	if (err == ARCA_OK && warning)
		err = warn(p, warning);
	if (err == ARCA_OK && !(evidence_text = json_dumps(evidence, JSON_COMPACT)))
		err = arca_error_set(ARCA_ENOMEM, "pull: out of memory");
	if (err == ARCA_OK && (err = arca_catalog_begin(p->cat)) == ARCA_OK) {
		if ((err = arca_catalog_update_snapshot(p->cat, p->out->snapshot, license, card,
				evidence_text)) == ARCA_OK &&
		    (err = arca_catalog_complete_snapshot(p->cat, p->out->snapshot)) == ARCA_OK &&
		    (err = arca_catalog_set_ref(p->cat, p->out->snapshot, p->revision)) == ARCA_OK)
			err = arca_catalog_commit(p->cat);
		else
			arca_catalog_rollback(p->cat);
	}
	if (err == ARCA_OK) {
		p->out->license_summary = arca_card_license_summary(license);
		p->out->files = calloc(p->n_files ? p->n_files : 1, sizeof(*p->out->files));
		for (size_t i = 0; p->out->files && i < p->n_files; i++) {
			for (size_t k = 0; k < n_rows; k++) {
				if (strcmp(rows[k].path, p->files[i].path) != 0)
					continue;
				p->out->files[i].path = strdup(rows[k].path);
				p->out->files[i].size = rows[k].size;
				p->out->files[i].sha256 = strdup(rows[k].sha256);
			}
		}
	}
	arca_files_free(rows, n_rows);
	free(card);
	free(license);
	free(warning);
	free(evidence_text);
	return err;
}

/* ------------------------------------------------------------------ the pull */

void arca_pull_result_dispose(arca_pull_result *result)
{
	for (size_t i = 0; result->files && i < result->n_files; i++) {
		free((char *)result->files[i].path);
		free((char *)result->files[i].sha256);
	}
	free(result->files);
	for (size_t i = 0; i < result->n_warnings; i++)
		free(result->warnings[i]);
	free(result->warnings);
	free(result->license_summary);
	free(result->signature_state);
	free(result->signature_signer);
	free(result->signature_reason);
	memset(result, 0, sizeof(*result));
}

static void on_http_log(const char *message, void *payload)
{
	pull_ctx *p = payload;
	arca_pull_event ev = { .kind = ARCA_PULL_RETRY, .message = message };
	emit(p, &ev);
}

arca_err arca_pull(arca_pull_result *out, arca_store *store, const arca_pull_opts *opts)
{
	memset(out, 0, sizeof(*out));
	double started = arca_time_monotonic();
	pull_ctx p = { .opts = opts, .store = store, .cat = arca_store_catalog(store), .out = out,
		.repo = opts->ref->repo_id };
	arca_http_opts hopts = ARCA_HTTP_OPTS_INIT;
	if (opts->connect_timeout_s > 0)
		hopts.connect_timeout_s = opts->connect_timeout_s;
	if (opts->stall_timeout_s > 0)
		hopts.stall_timeout_s = opts->stall_timeout_s;
	if (opts->backoff_base_ms > 0)
		hopts.backoff_base_ms = opts->backoff_base_ms;
	if (opts->max_retries > 0)
		hopts.max_retries = opts->max_retries;
	hopts.log = on_http_log;
	hopts.payload = &p;
	arca_http *http = NULL;
	json_t *api = json_array(), *evidence = NULL;
	unsigned char *have = NULL;
	arca_err err = api ? arca_http_new(&http, &hopts) :
		arca_error_set(ARCA_ENOMEM, "pull: out of memory");
	arca_hub_opts hub_opts = { opts->endpoint, opts->token };
	if (err == ARCA_OK)
		err = arca_hub_open(&p.hub, opts->ref->hub, http, &hub_opts);
	if (err < 0)
		goto cleanup;
	snprintf(p.revision, sizeof(p.revision), "%s", opts->ref->revision[0] ?
		opts->ref->revision : p.hub->ops->default_revision);
	snprintf(out->hub, sizeof(out->hub), "%s", p.hub->ops->name);
	snprintf(out->revision, sizeof(out->revision), "%s", p.revision);
	if ((err = resolve(&p, api)) < 0)
		goto cleanup;
	memcpy(out->commit, p.commit, sizeof(out->commit));
	size_t n_listed = 0;
	if ((err = p.hub->ops->list(p.hub, p.repo, p.commit, p.revision, &p.files, &n_listed,
			api)) < 0)
		goto cleanup;
	p.n_files = select_files(p.files, n_listed, opts);
	if (opts->locked_commit && (err = check_against_lock(&p, p.files, &p.n_files)) < 0)
		goto cleanup;
	if (p.n_files == 0 && n_listed > 0) {
		err = arca_error_set(ARCA_ENOTFOUND, "%s@%s: no files match the include/exclude "
			"patterns", p.repo, p.revision);
		goto cleanup;
	}
	if (n_listed == 0 && (err = warn(&p, "the repository has no files at this revision; "
			"recorded as an empty snapshot")) < 0)
		goto cleanup;
	if ((err = check_hub_hashes(&p)) < 0)
		goto cleanup;
	char now[32];
	arca_time_now_iso(now, sizeof(now));
	json_t *include = json_array(), *exclude = json_array();
	for (size_t i = 0; i < opts->n_include; i++)
		json_array_append_new(include, json_string(opts->include[i]));
	for (size_t i = 0; i < opts->n_exclude; i++)
		json_array_append_new(exclude, json_string(opts->exclude[i]));
	evidence = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:O}", "pulled_at", now, "hub",
		p.hub->ops->name, "endpoint", p.hub->endpoint, "revision", p.revision, "commit",
		p.commit, "arca_version", ARCA_VERSION, "include", include, "exclude", exclude,
		"answers", api);
	if (evidence && p.moved_to[0])
		json_object_set_new(evidence, "moved_to", json_string(p.moved_to));
	json_t *unhashed = json_array();
	for (size_t i = 0; unhashed && i < p.n_files; i++)
		if (!has_hub_hash(&p.files[i]))
			json_array_append_new(unhashed, json_string(p.files[i].path));
	if (evidence && json_array_size(unhashed))
		json_object_set(evidence, "files_without_hub_hash", unhashed);
	json_decref(unhashed);
	/* what a Hugging Face cache of this snapshot needs to list it as the hub does: whether
	 * it holds the whole listing, and the Xet ids the listing gave */
	json_t *xet = json_object();
	for (size_t i = 0; xet && i < p.n_files; i++)
		if (p.files[i].xet_hash[0])
			json_object_set_new(xet, p.files[i].path, json_string(p.files[i].xet_hash));
	if (evidence) {
		json_object_set_new(evidence, "listed_files", json_integer((json_int_t)n_listed));
		json_object_set_new(evidence, "selected_files", json_integer((json_int_t)p.n_files));
		if (json_object_size(xet))
			json_object_set(evidence, "xet_hashes", xet);
	}
	json_decref(xet);
	int existed;
	if (!evidence) {
		err = arca_error_set(ARCA_ENOMEM, "pull: out of memory");
		goto cleanup;
	}
	if ((err = record_snapshot(&p, evidence, &existed)) < 0)
		goto cleanup;
	if (!(have = calloc(p.n_files ? p.n_files : 1, 1))) {
		err = arca_error_set(ARCA_ENOMEM, "pull: out of memory");
		goto cleanup;
	}
	size_t todo;
	if ((err = record_pending(&p, have, &todo)) < 0)
		goto cleanup;
	out->n_files = p.n_files;
	for (size_t i = 0; i < p.n_files; i++)
		out->total_size += p.files[i].size;
	arca_pull_event listed = { .kind = ARCA_PULL_LISTED, .n_files = p.n_files,
		.n_todo = todo, .total = out->total_size };
	emit(&p, &listed);
	for (size_t i = 0; i < p.n_files; i++) {
		if (!have[i])
			continue;
		arca_pull_event ev = { .kind = ARCA_PULL_FILE_DONE, .path = p.files[i].path,
			.size = p.files[i].size, .how = "present" };
		emit(&p, &ev);
	}
	if ((err = fetch_missing(&p, http, have)) < 0)
		goto cleanup;
	if (p.hub->ops->resolve_again_after_download) {
		char again[ARCA_SHA256_HEX];
		if ((err = p.hub->ops->resolve(p.hub, p.repo, p.revision, again, api)) < 0)
			goto cleanup;
		if (strcmp(again, p.commit) != 0) {
			err = arca_error_set(ARCA_EMISMATCH, "%s@%s moved from %.12s to %.12s during the "
				"pull; pull again", p.repo, p.revision, p.commit, again);
			goto cleanup;
		}
	}
	err = complete(&p, evidence);
cleanup:
	if (err < 0) {
		arca_error_prefix(err, "%s%s%s@%s", opts->ref->hub[0] ? opts->ref->hub : "",
			opts->ref->hub[0] ? ":" : "", opts->ref->repo_id, p.revision[0] ? p.revision :
			(opts->ref->revision[0] ? opts->ref->revision : "default"));
		arca_pull_result_dispose(out);
	}
	out->seconds = arca_time_monotonic() - started;
	free(have);
	json_decref(evidence);
	json_decref(api);
	arca_hub_files_free(p.files, p.n_files);
	arca_hub_free(p.hub);
	arca_http_free(http);
	return err;
}
