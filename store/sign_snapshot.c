/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/sign_snapshot.c — `arca sign` (arca/signatures.h): a model-signing signature over
 * every file of a snapshot or a variant's outputs (but the git paths and model.sig, which
 * the reference verifier leaves out of a folder), with one of the store's own keys; kept
 * as a blob and recorded as verified by that key.
 */
#include "arca/signatures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/io.h"
#include "store/sig_target.h"

void arca_store_sign_result_dispose(arca_store_sign_result *r)
{
	free(r->bundle);
	free(r->key_name);
	free(r->subject);
	memset(r, 0, sizeof(*r));
}

/* The files a signature lists: the target's, less what the verifier would not hash. */
static size_t signable(arca_sign_file *files, size_t n)
{
	size_t n_ignore, kept = 0;
	const char *const *ignore = arca_sign_default_ignores(&n_ignore);
	for (size_t i = 0; i < n; i++)
		if (!arca_sign_path_ignored(files[i].name, ignore, n_ignore))
			files[kept++] = files[i];
	return kept;
}

static arca_err record(arca_store_sign_result *out, arca_store *store,
	const arca_sig_target *t)
{
	arca_file_digests d;
	arca_err err = arca_store_put_buffer(store, out->bundle, out->bundle_len, &d);
	if (err < 0)
		return err;
	memcpy(out->bundle_sha256, d.sha256, sizeof(out->bundle_sha256));
	char *details = NULL;
	if (asprintf(&details, "{\"root\":\"%s\",\"files\":%zu,\"mode\":\"key\"}", out->root,
			out->n_files) < 0)
		return arca_error_set(ARCA_ENOMEM, "sign: out of memory");
	arca_signature_record rec = { .snapshot = t->snap.id, .artifact = t->artifact,
		.key_id = out->key_id, .bundle_blob = out->bundle_sha256, .source = "arca",
		.state = "verified", .signer = out->key_name, .details_json = details };
	err = arca_catalog_add_signature(arca_store_catalog(store), &rec, &out->signature_id);
	free(details);
	return err;
}

arca_err arca_store_sign(arca_store_sign_result *out, arca_store *store,
	const arca_store_sign_opts *opts)
{
	memset(out, 0, sizeof(*out));
	arca_sig_target t;
	arca_key *key = NULL;
	arca_key_record rec;
	arca_err err = arca_sig_target_load(&t, store, opts->ref);
	if (err < 0)
		return err;
	if ((err = arca_keys_load_own(&key, &rec, store, opts->key, opts->passphrase)) < 0)
		goto cleanup;
	/* the bundle is written over a kept subset; the target's own list stays whole */
	arca_sign_file *files = malloc((t.n ? t.n : 1) * sizeof(*files));
	if (!files) {
		err = arca_error_set(ARCA_ENOMEM, "sign: out of memory");
		goto cleanup_key;
	}
	memcpy(files, t.files, t.n * sizeof(*files));
	out->n_files = signable(files, t.n);
	static const char *const ignore[] = { "model.sig" };
	err = arca_sign_bundle(&out->bundle, key, t.model_name, files, out->n_files, ignore, 1);
	if (err == ARCA_OK)
		err = arca_sign_root_digest(out->root, files, out->n_files);
	free(files);
	if (err < 0)
		goto cleanup_key;
	out->bundle_len = strlen(out->bundle);
	snprintf(out->key_id, sizeof(out->key_id), "%s", rec.key_id);
	out->key_name = strdup(rec.name ? rec.name : rec.key_id);
	out->subject = strdup(t.subject);
	if (!out->key_name || !out->subject)
		err = arca_error_set(ARCA_ENOMEM, "sign: out of memory");
	if (err == ARCA_OK)
		err = record(out, store, &t);
	if (err == ARCA_OK && opts->out_path)
		err = arca_io_write_file(opts->out_path, out->bundle, out->bundle_len, 0644);
cleanup_key:
	arca_key_record_dispose(&rec);
	arca_key_free(key);
cleanup:
	if (err < 0)
		arca_store_sign_result_dispose(out);
	arca_sig_target_dispose(&t);
	return err;
}
