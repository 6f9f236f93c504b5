/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/verify_snapshot.c — `arca verify` (arca/signatures.h): the signatures recorded for a
 * snapshot or variant, or one given, checked in the spec's order against the store's trust
 * and the files' blobs re-hashed on all cores; a plain folder against a model.sig with
 * trust given on the command line; and the check a pull runs on a repo's own model.sig.
 * Each result is recorded on the signature's catalog row.
 */
#include "arca/signatures.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/io.h"
#include "common/util.h"
#include "store/sig_target.h"
#include "verify/hash_jobs.h"

void arca_sig_check_dispose(arca_sig_check *c)
{
	free(c->origin);
	free(c->created_at);
	arca_sig_dispose(&c->sig);
	arca_sign_files_free(c->on_hand, c->n_on_hand);
	free(c->files);
	memset(c, 0, sizeof(*c));
}

void arca_store_verify_result_dispose(arca_store_verify_result *r)
{
	for (size_t i = 0; r->checks && i < r->n_checks; i++)
		arca_sig_check_dispose(&r->checks[i]);
	free(r->checks);
	free(r->subject);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ reading bundles */

static arca_err read_blob_text(char **out, size_t *len_out, arca_store *store,
	const char *sha256)
{
	*out = NULL;
	arca_blob_reader *r;
	arca_err err = arca_store_open_blob(&r, store, sha256);
	if (err < 0)
		return err;
	uint64_t size = arca_blob_reader_size(r);
	size_t got = 0;
	char *text = NULL;
	if (size > ARCA_SIG_MAX)
		err = arca_error_set(ARCA_ECORRUPT, "signature blob %s: %llu bytes, more than a "
			"signature may have (%u)", sha256, (unsigned long long)size, ARCA_SIG_MAX);
	else if (!(text = malloc((size_t)size + 1)))
		err = arca_error_set(ARCA_ENOMEM, "read signature: out of memory");
	while (err == ARCA_OK && got < size) {
		size_t n;
		if ((err = arca_blob_read(r, text + got, (size_t)size - got, &n)) == ARCA_OK && !n)
			err = arca_error_set(ARCA_EIO, "signature blob %s ends early", sha256);
		got += n;
	}
	arca_blob_reader_free(r);
	if (err < 0) {
		free(text);
		return err;
	}
	text[size] = '\0';
	*out = text;
	*len_out = (size_t)size;
	return ARCA_OK;
}

/* ------------------------------------------------------------------ re-hashing */

typedef struct {
	arca_sign_file *file;
	char name[ARCA_SHA256_HEX];   /* the blob the catalog says holds it */
} blob_job;

static arca_err hash_blob(void *ctx, void *item, arca_hash_progress_cb progress,
	void *payload)
{
	blob_job *job = item;
	arca_file_digests d;
	arca_err err = arca_store_hash_blob(ctx, job->name, &d, progress, payload);
	if (err == ARCA_OK)
		memcpy(job->file->sha256, d.sha256, ARCA_SHA256_HEX);
	else if (err == ARCA_ENOTFOUND)
		job->file->sha256[0] = '\0';   /* missing from the store */
	return err == ARCA_ENOTFOUND ? ARCA_OK : err;
}

/* Replaces each file's catalog digest with its blob's digest now. */
static arca_err rehash(arca_sig_target *t, arca_store *store, const arca_store_verify_opts *o,
	uint64_t *bytes_out)
{
	blob_job *items = calloc(t->n ? t->n : 1, sizeof(*items));
	arca_hash_job *jobs = calloc(t->n ? t->n : 1, sizeof(*jobs));
	arca_err err = items && jobs ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "verify: out of "
		"memory");
	for (size_t i = 0; err == ARCA_OK && i < t->n; i++) {
		items[i].file = &t->files[i];
		memcpy(items[i].name, t->files[i].sha256, ARCA_SHA256_HEX);
		jobs[i] = (arca_hash_job){ .item = &items[i], .size = t->sizes[i] };
		*bytes_out += t->sizes[i];
	}
	if (err == ARCA_OK)
		err = arca_hash_jobs_run(jobs, t->n, o->threads, hash_blob, store, o->progress,
			o->payload);
	for (size_t i = 0; err == ARCA_OK && i < t->n; i++)
		if (jobs[i].err < 0)
			err = arca_error_set(jobs[i].err, "%s", jobs[i].message);
	arca_hash_jobs_dispose(jobs, t->n);
	free(jobs);
	free(items);
	return err;
}

/* ------------------------------------------------------------------ one signature */

/* The files on hand for a check: a copy of the target's, less those missing from disk. */
static arca_err copy_on_hand(arca_sig_check *c, const arca_sign_file *files, size_t n)
{
	c->on_hand = calloc(n ? n : 1, sizeof(*c->on_hand));
	if (!c->on_hand)
		return arca_error_set(ARCA_ENOMEM, "verify: out of memory");
	for (size_t i = 0; i < n; i++) {
		if (!files[i].sha256[0])
			continue;
		arca_sign_file *f = &c->on_hand[c->n_on_hand];
		if (!(f->name = strdup(files[i].name)))
			return arca_error_set(ARCA_ENOMEM, "verify: out of memory");
		memcpy(f->sha256, files[i].sha256, ARCA_SHA256_HEX);
		c->n_on_hand++;
	}
	return ARCA_OK;
}

/* Parses, judges and compares. A bundle that does not parse is an invalid signature here
 * (the check's verdict says why); only running out of memory is an error. */
static arca_err check_bundle(arca_sig_check *c, const char *text, size_t len,
	const arca_sig_anchor *anchors, size_t n_anchors, const char *identity,
	const char *issuer)
{
	arca_err err = arca_sig_parse(&c->sig, text, len, c->origin);
	if (err == ARCA_ENOMEM)
		return err;
	if (err < 0) {
		c->verdict.state = ARCA_SIG_INVALID;
		snprintf(c->verdict.reason, sizeof(c->verdict.reason), "%s", arca_error_last());
		arca_error_clear();
		return ARCA_OK;
	}
	arca_sig_judge(&c->verdict, &c->sig, anchors, n_anchors, identity, issuer);
	if ((err = arca_sig_compare_files(&c->files, &c->n_files, &c->sig, c->on_hand,
			c->n_on_hand)) < 0)
		return err;
	if (c->verdict.state != ARCA_SIG_INVALID)
		arca_sig_verdict_files(&c->verdict, c->files, c->n_files);
	return ARCA_OK;
}

static const char *mode_name(arca_sig_mode mode)
{
	return mode == ARCA_SIG_KEY ? "key" : mode == ARCA_SIG_CERTIFICATE ? "certificate" :
		"keyless";
}

static char *details_json(const arca_sig_check *c)
{
	const arca_sig *s = &c->sig;
	const arca_sig_verdict *v = &c->verdict;
	json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "mode", mode_name(s->mode), "root",
		s->root, "files", (json_int_t)s->n_files, "reason", v->reason, "checked",
		v->checked, "unchecked", v->unchecked);
	if (!o)
		return NULL;
	if (v->anchor[0])
		json_object_set_new(o, "trusted_by", json_string(v->anchor));
	if (s->identity && s->identity[0])
		json_object_set_new(o, "identity", json_string(s->identity));
	if (s->issuer && s->issuer[0])
		json_object_set_new(o, "issuer", json_string(s->issuer));
	if (s->integrated_time)
		json_object_set_new(o, "integrated_time", json_integer(s->integrated_time));
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

/* The row a bundle already has for this subject (0: none). */
static arca_err find_row(int64_t *id_out, arca_catalog *cat, const arca_sig_target *t,
	const char *bundle_sha256)
{
	arca_signature_record *recs = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_signatures(&recs, &n, cat, t->snap.id, t->artifact);
	for (size_t i = 0; err == ARCA_OK && i < n && !*id_out; i++)
		if (!strcmp(recs[i].bundle_blob, bundle_sha256))
			*id_out = recs[i].id;
	arca_signature_records_free(recs, n);
	return err;
}

/* Writes the verdict onto the signature's row; a bundle with no row yet (from a file, or a
 * repo's own) is kept as a blob and gets one. */
static arca_err record(arca_sig_check *c, arca_store *store, const arca_sig_target *t,
	const char *text, size_t len, const char *source)
{
	arca_catalog *cat = arca_store_catalog(store);
	char *details = details_json(c);
	if (!details)
		return arca_error_set(ARCA_ENOMEM, "verify: out of memory");
	const char *state = arca_sig_state_name(c->verdict.state);
	const char *key_id = c->verdict.anchor_id[0] ? c->verdict.anchor_id : NULL;
	arca_file_digests d;
	arca_err err = ARCA_OK;
	if (!c->signature_id && (err = arca_store_put_buffer(store, text, len, &d)) == ARCA_OK)
		err = find_row(&c->signature_id, cat, t, d.sha256);
	if (err == ARCA_OK && c->signature_id) {
		err = arca_catalog_update_signature(cat, c->signature_id, state, key_id,
			c->verdict.signer, details);
	} else if (err == ARCA_OK) {
		arca_signature_record rec = { .snapshot = t->snap.id, .artifact = t->artifact,
			.key_id = (char *)key_id, .bundle_blob = d.sha256, .source = (char *)source,
			.state = (char *)state, .signer = c->verdict.signer, .details_json = details };
		err = arca_catalog_add_signature(cat, &rec, &c->signature_id);
	}
	free(details);
	return err;
}

/* ------------------------------------------------------------------ a store target */

static arca_err check_recorded(arca_store_verify_result *out, arca_store *store,
	arca_sig_target *t, const arca_trust_set *trust, const arca_store_verify_opts *o)
{
	arca_signature_record *recs = NULL;
	size_t n = 0;
	arca_err err = arca_catalog_list_signatures(&recs, &n, arca_store_catalog(store),
		t->snap.id, t->artifact);
	if (err == ARCA_OK && n == 0)
		err = arca_error_set(ARCA_ENOTFOUND, "%s has no signature; sign it with: arca sign "
			"%s, or check one with --sig model.sig", t->subject, t->subject);
	if (err == ARCA_OK && !(out->checks = calloc(n, sizeof(*out->checks))))
		err = arca_error_set(ARCA_ENOMEM, "verify: out of memory");
	for (size_t i = 0; err == ARCA_OK && i < n; i++) {
		arca_sig_check *c = &out->checks[out->n_checks++];
		char *text = NULL;
		size_t len = 0;
		c->signature_id = recs[i].id;
		c->origin = strdup(recs[i].source ? recs[i].source : "recorded");
		c->created_at = recs[i].created_at ? strdup(recs[i].created_at) : NULL;
		if (!c->origin)
			err = arca_error_set(ARCA_ENOMEM, "verify: out of memory");
		if (err == ARCA_OK)
			err = copy_on_hand(c, t->files, t->n);
		if (err == ARCA_OK)
			err = read_blob_text(&text, &len, store, recs[i].bundle_blob);
		if (err == ARCA_OK)
			err = check_bundle(c, text, len, trust->anchors, trust->n, o->identity,
				o->issuer);
		if (err == ARCA_OK && o->record)
			err = record(c, store, t, text, len, NULL);
		free(text);
	}
	arca_signature_records_free(recs, n);
	return err;
}

static arca_err check_file(arca_store_verify_result *out, arca_store *store,
	arca_sig_target *t, const arca_trust_set *trust, const arca_store_verify_opts *o)
{
	char *text = NULL;
	size_t len = 0;
	arca_err err = arca_io_read_file(&text, &len, o->sig_path, ARCA_SIG_MAX);
	if (err < 0)
		return err;
	arca_sig_check *c = out->checks = calloc(1, sizeof(*c));
	if (!c || !(c->origin = strdup(o->sig_path))) {
		free(text);
		return arca_error_set(ARCA_ENOMEM, "verify: out of memory");
	}
	out->n_checks = 1;
	/* a file that is not a signature at all is the user's error, not a mismatch */
	arca_sig probe;
	if ((err = arca_sig_parse(&probe, text, len, o->sig_path)) == ARCA_OK) {
		arca_sig_dispose(&probe);
		err = copy_on_hand(c, t->files, t->n);
	}
	if (err == ARCA_OK)
		err = check_bundle(c, text, len, trust->anchors, trust->n, o->identity, o->issuer);
	if (err == ARCA_OK && o->record && c->verdict.state != ARCA_SIG_INVALID)
		err = record(c, store, t, text, len, "file");
	free(text);
	return err;
}

/* ARCA_OK when one check verified and none is invalid; else the reason of the first invalid
 * one, or of the first that did not verify. */
static arca_err overall(const arca_sig_check *checks, size_t n)
{
	const arca_sig_check *verified = NULL, *invalid = NULL, *other = NULL;
	for (size_t i = 0; i < n; i++) {
		const arca_sig_check *c = &checks[i];
		if (c->verdict.state == ARCA_SIG_VERIFIED)
			verified = verified ? verified : c;
		else if (c->verdict.state == ARCA_SIG_INVALID)
			invalid = invalid ? invalid : c;
		else
			other = other ? other : c;
	}
	if (verified && !invalid)
		return ARCA_OK;
	const arca_sig_check *bad = invalid ? invalid : other;
	return arca_error_set(ARCA_EMISMATCH, "the %s signature is %s: %s", bad->origin,
		arca_sig_state_name(bad->verdict.state), bad->verdict.reason);
}

arca_err arca_store_verify(arca_store_verify_result *out, arca_store *store,
	const arca_store_verify_opts *opts)
{
	memset(out, 0, sizeof(*out));
	double start = arca_time_monotonic();
	arca_sig_target t;
	arca_trust_set trust;
	arca_err err = arca_sig_target_load(&t, store, opts->ref);
	if (err < 0)
		return err;
	if ((err = arca_trust_set_load(&trust, store)) < 0) {
		arca_sig_target_dispose(&t);
		return err;
	}
	if (!(out->subject = strdup(t.subject)))
		err = arca_error_set(ARCA_ENOMEM, "verify: out of memory");
	/* which signatures first: nothing is hashed for a subject with none */
	arca_signature_record *recs = NULL;
	size_t n_recs = 0;
	if (err == ARCA_OK && !opts->sig_path &&
	    (err = arca_catalog_list_signatures(&recs, &n_recs, arca_store_catalog(store),
			t.snap.id, t.artifact)) == ARCA_OK && n_recs == 0)
		err = arca_error_set(ARCA_ENOTFOUND, "%s has no signature; sign it with: arca sign "
			"%s, or check one with --sig model.sig", t.subject, t.subject);
	arca_signature_records_free(recs, n_recs);
	if (err == ARCA_OK && !opts->no_rehash)
		err = rehash(&t, store, opts, &out->bytes_hashed);
	if (err == ARCA_OK)
		err = opts->sig_path ? check_file(out, store, &t, &trust, opts) :
			check_recorded(out, store, &t, &trust, opts);
	if (err == ARCA_OK)
		err = overall(out->checks, out->n_checks);
	out->seconds = arca_time_monotonic() - start;
	arca_trust_set_dispose(&trust);
	arca_sig_target_dispose(&t);
	return err;
}

/* ------------------------------------------------------------------ a plain folder */

/* The signature file's path relative to dir when it lies inside it, else NULL. */
static char *inside(const char *dir, const char *path)
{
	char d[PATH_MAX], p[PATH_MAX];
	if (!realpath(dir, d) || !realpath(path, p))
		return NULL;
	size_t n = strlen(d);
	if (strncmp(p, d, n) != 0 || p[n] != '/')
		return NULL;
	return strdup(p + n + 1);
}

arca_err arca_verify_folder(arca_sig_check *out, const arca_folder_verify_opts *opts)
{
	memset(out, 0, sizeof(*out));
	char *text = NULL, *self = NULL;
	size_t len = 0;
	const char **ignore = NULL;
	arca_err err = arca_io_read_file(&text, &len, opts->sig_path, ARCA_SIG_MAX);
	if (err < 0)
		return err;
	if (!(out->origin = strdup(opts->sig_path)))
		err = arca_error_set(ARCA_ENOMEM, "verify: out of memory");
	if (err == ARCA_OK)
		err = arca_sig_parse(&out->sig, text, len, opts->sig_path);
	size_t n_ignore = 0;
	if (err == ARCA_OK) {
		self = inside(opts->dir, opts->sig_path);
		ignore = calloc(out->sig.n_ignore + opts->n_ignore + 1, sizeof(*ignore));
		if (!ignore)
			err = arca_error_set(ARCA_ENOMEM, "verify: out of memory");
	}
	if (err == ARCA_OK) {
		for (size_t i = 0; i < out->sig.n_ignore; i++)
			ignore[n_ignore++] = out->sig.ignore_paths[i];
		for (size_t i = 0; i < opts->n_ignore; i++)
			ignore[n_ignore++] = opts->ignore_paths[i];
		if (self)
			ignore[n_ignore++] = self;
		arca_sign_folder_opts fo = { .dir = opts->dir, .ignore_paths = ignore,
			.n_ignore = n_ignore, .allow_symlinks = out->sig.allow_symlinks,
			.threads = opts->threads, .progress = opts->progress, .payload = opts->payload };
		err = arca_sign_folder_files(&out->on_hand, &out->n_on_hand, &out->bytes_hashed, &fo);
	}
	if (err == ARCA_OK) {
		arca_sig_judge(&out->verdict, &out->sig, opts->trust->anchors, opts->trust->n,
			opts->identity, opts->issuer);
		err = arca_sig_compare_files(&out->files, &out->n_files, &out->sig, out->on_hand,
			out->n_on_hand);
	}
	if (err == ARCA_OK && out->verdict.state != ARCA_SIG_INVALID)
		arca_sig_verdict_files(&out->verdict, out->files, out->n_files);
	if (err == ARCA_OK && out->verdict.state != ARCA_SIG_VERIFIED)
		err = arca_error_set(ARCA_EMISMATCH, "the signature is %s: %s",
			arca_sig_state_name(out->verdict.state), out->verdict.reason);
	free(ignore);
	free(self);
	free(text);
	return err;
}

/* ------------------------------------------------------------------ pull */

arca_err arca_store_check_upstream_signature(arca_sig_check *out, arca_store *store,
	int64_t snapshot, const char *identity, const char *issuer)
{
	memset(out, 0, sizeof(*out));
	arca_sig_target t;
	arca_trust_set trust;
	arca_err err = arca_sig_target_load_snapshot(&t, store, snapshot);
	if (err < 0)
		return err;
	const arca_sign_file *sig_file = NULL;
	for (size_t i = 0; i < t.n && !sig_file; i++)
		if (!strcmp(t.files[i].name, "model.sig"))
			sig_file = &t.files[i];
	if (!sig_file) {
		arca_sig_target_dispose(&t);
		return ARCA_ENOTFOUND;
	}
	char *text = NULL;
	size_t len = 0;
	if ((err = arca_trust_set_load(&trust, store)) < 0) {
		arca_sig_target_dispose(&t);
		return err;
	}
	if (!(out->origin = strdup("upstream")))
		err = arca_error_set(ARCA_ENOMEM, "verify: out of memory");
	if (err == ARCA_OK)
		err = copy_on_hand(out, t.files, t.n);
	if (err == ARCA_OK)
		err = read_blob_text(&text, &len, store, sig_file->sha256);
	if (err == ARCA_OK)
		err = check_bundle(out, text, len, trust.anchors, trust.n, identity, issuer);
	if (err == ARCA_OK)
		err = record(out, store, &t, text, len, "upstream");
	free(text);
	arca_trust_set_dispose(&trust);
	arca_sig_target_dispose(&t);
	if (err < 0)
		arca_sig_check_dispose(out);
	return err;
}
