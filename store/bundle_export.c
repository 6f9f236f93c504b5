/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/bundle_export.c — `arca export`: the manifest from the catalog, planned into volumes
 * when a split size is given, optionally signed, then each volume streamed blob by blob from
 * the store (bounded memory: one buffer per volume, zstd's window per worker).
 */
#include "store/bundle_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arca/signatures.h"
#include "store/bundle_volume_writer.h"

#define COPY_BUF (1u << 20)
#define ENTRY_OVERHEAD 2048u      /* tar header, pax header, padding: at most */
#define FIXED_OVERHEAD (64u << 10)
#define SIG_RESERVE (16u << 10)

void arca_bundle_export_result_dispose(arca_bundle_export_result *r)
{
	for (size_t i = 0; r->volumes && i < r->n_volumes; i++)
		free(r->volumes[i]);
	free(r->volumes);
	free(r->key_name);
	memset(r, 0, sizeof(*r));
}

/* The largest a volume can grow to with this plan: blob bytes, zstd's worst expansion,
 * tar overhead per entry, the manifest, signature and volume header. */
static uint64_t worst_volume(const arca_bundle__manifest *m)
{
	uint64_t worst = 0;
	for (size_t k = 0; k < m->n_volumes; k++) {
		const arca_bundle__volume *v = &m->volumes[k];
		uint64_t size = v->bytes + v->bytes / 256 + (uint64_t)(v->n + 3) * ENTRY_OVERHEAD +
			m->len + SIG_RESERVE + FIXED_OVERHEAD;
		worst = size > worst ? size : worst;
	}
	return worst;
}

/* Plans volumes no larger than split (0: one volume). */
static arca_err plan(arca_bundle__manifest *m, uint64_t split)
{
	arca_err err = arca_bundle__manifest_plan(m, 0);
	if (err < 0 || !split)
		return err;
	uint64_t fixed = m->len + SIG_RESERVE + FIXED_OVERHEAD + 4 * ENTRY_OVERHEAD + split / 256;
	uint64_t capacity = split > fixed ? split - fixed : 0;
	for (int round = 0; round < 16; round++) {
		if (capacity < (64u << 10))
			break;
		if ((err = arca_bundle__manifest_plan(m, capacity)) < 0)
			return err;
		uint64_t worst = worst_volume(m);
		if (worst <= split)
			return ARCA_OK;
		uint64_t cut = worst - split + ENTRY_OVERHEAD;
		capacity = capacity > cut ? capacity - cut : 0;
	}
	return arca_error_set(ARCA_EINVALID, "export: --split %" PRIu64 " bytes is too small for "
		"this bundle (its manifest alone is %zu bytes); give at least %" PRIu64 " bytes", split,
		m->len, fixed + (1u << 20));
}

static arca_err sign_manifest(char **sig_out, arca_bundle_export_result *out,
	arca_store *store, const arca_bundle__manifest *m, const arca_bundle_export_opts *o)
{
	arca_key *key = NULL;
	arca_key_record rec;
	arca_err err = arca_keys_load_own(&key, &rec, store, o->key, o->passphrase);
	if (err < 0)
		return arca_error_prefix(err, "export: sign the bundle");
	arca_sign_file file = { ARCA_BUNDLE_MANIFEST_NAME, { 0 } };
	memcpy(file.sha256, m->id, ARCA_SHA256_HEX);
	char name[80];
	snprintf(name, sizeof(name), "arca-bundle-%.12s", m->id);
	err = arca_sign_bundle(sig_out, key, name, &file, 1, NULL, 0);
	if (err == ARCA_OK && !(out->key_name = strdup(rec.name)))
		err = arca_error_set(ARCA_ENOMEM, "export: out of memory");
	if (err == ARCA_OK)
		memcpy(out->key_id, rec.key_id, ARCA_SHA256_HEX);
	arca_key_record_dispose(&rec);
	arca_key_free(key);
	return err;
}

typedef struct {
	arca_store *store;
	const arca_bundle_export_opts *o;
	const arca_bundle__manifest *m;
	const char *sig;
	unsigned char *buf;
	uint64_t done, total;
	time_t mtime;
} exporter;

static arca_err copy_entry(exporter *x, arca_volume_writer *w, const arca_bundle__entry *e)
{
	const arca_bundle__blob *b = &x->m->blobs[e->blob];
	char name[128];
	arca_bundle__entry_name(name, sizeof(name), x->m, e);
	arca_blob_reader *r = NULL;
	arca_err err = arca_store_open_blob(&r, x->store, b->sha256);
	if (err == ARCA_OK && arca_blob_reader_size(r) != b->size)
		err = arca_error_set(ARCA_EMISMATCH, "blob %s is %" PRIu64 " bytes in the store, the "
			"catalog says %" PRIu64 " (arca fsck)", b->sha256, arca_blob_reader_size(r),
			b->size);
	if (err == ARCA_OK)
		err = arca_volume_writer_begin(w, name, e->size, x->mtime);
	for (uint64_t off = 0; err == ARCA_OK && off < e->size;) {
		size_t want = e->size - off < COPY_BUF ? (size_t)(e->size - off) : COPY_BUF, got = 0;
		if ((err = arca_blob_pread(r, x->buf, want, e->offset + off, &got)) < 0)
			break;
		if (got == 0) {
			err = arca_error_set(ARCA_EMISMATCH, "blob %s ends early (arca fsck)", b->sha256);
			break;
		}
		if ((err = arca_volume_writer_data(w, x->buf, got)) < 0)
			break;
		off += got;
		x->done += got;
		if (x->o->progress && x->o->progress(b->sha256, x->done, x->total, x->o->payload))
			err = arca_error_set(ARCA_EINTERRUPTED, "export: interrupted");
	}
	arca_blob_reader_free(r);
	return err;
}

static arca_err write_volume(exporter *x, arca_bundle_export_result *out, size_t k,
	const char *path)
{
	arca_volume_writer *w = NULL;
	int threads = x->o->threads > 0 ? x->o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	char *vol = arca_bundle__volume_json(x->m, k + 1);
	arca_err err = vol ? arca_volume_writer_open(&w, path, x->o->level > 0 ? x->o->level : 3,
		threads, &out->threads) : arca_error_set(ARCA_ENOMEM, "export: out of memory");
	if (err == ARCA_OK)
		err = arca_volume_writer_entry(w, ARCA_BUNDLE_MANIFEST_NAME, x->m->text, x->m->len,
			x->mtime);
	if (err == ARCA_OK && x->sig)
		err = arca_volume_writer_entry(w, ARCA_BUNDLE_SIG_NAME, x->sig, strlen(x->sig),
			x->mtime);
	if (err == ARCA_OK)
		err = arca_volume_writer_entry(w, ARCA_BUNDLE_VOLUME_NAME, vol, strlen(vol), x->mtime);
	for (size_t i = 0; err == ARCA_OK && i < x->m->volumes[k].n; i++)
		err = copy_entry(x, w, &x->m->volumes[k].entries[i]);
	uint64_t bytes = 0;
	if (err == ARCA_OK)
		err = arca_volume_writer_commit(w, &bytes);
	out->bytes_written += bytes;
	arca_volume_writer_free(w);
	free(vol);
	return err;
}

static arca_err volume_paths(arca_bundle_export_result *out, const arca_bundle_export_opts *o,
	size_t n)
{
	if (!(out->volumes = calloc(n, sizeof(*out->volumes))))
		return arca_error_set(ARCA_ENOMEM, "export: out of memory");
	for (size_t k = 0; k < n; k++) {
		int rc = o->split_size ? asprintf(&out->volumes[k], "%s.%03zu", o->out_path, k + 1) :
			asprintf(&out->volumes[k], "%s", o->out_path);
		if (rc < 0) {
			out->volumes[k] = NULL;
			return arca_error_set(ARCA_ENOMEM, "export: out of memory");
		}
		if (access(out->volumes[k], F_OK) == 0)
			return arca_error_set(ARCA_EEXISTS, "export: %s already exists; remove it or "
				"choose another name", out->volumes[k]);
	}
	return ARCA_OK;
}

arca_err arca_bundle_export(arca_bundle_export_result *out, arca_store *store,
	const arca_bundle_export_opts *o)
{
	memset(out, 0, sizeof(*out));
	arca_bundle__manifest m;
	arca_err err = arca_bundle__manifest_build(&m, store, o->refs, o->n_refs);
	if (err < 0)
		return err;
	char *sig = NULL;
	exporter x = { store, o, &m, NULL, malloc(COPY_BUF), 0, 0, time(NULL) };
	if (!x.buf)
		err = arca_error_set(ARCA_ENOMEM, "export: out of memory");
	if (err == ARCA_OK)
		err = plan(&m, o->split_size);
	if (err == ARCA_OK && o->sign)
		err = sign_manifest(&sig, out, store, &m, o);
	x.sig = sig;
	if (err == ARCA_OK)
		err = volume_paths(out, o, m.n_volumes);
	for (size_t i = 0; i < m.n_blobs; i++)
		x.total += m.blobs[i].size;
	size_t written = 0;
	for (size_t k = 0; err == ARCA_OK && k < m.n_volumes; k++)
		if ((err = write_volume(&x, out, k, out->volumes[k])) == ARCA_OK)
			written++;
	if (err == ARCA_OK) {
		memcpy(out->id, m.id, ARCA_SHA256_HEX);
		out->n_volumes = m.n_volumes;
		out->n_blobs = m.n_blobs;
		out->blob_bytes = x.total;
		size_t i;
		json_t *s;
		json_array_foreach(m.snapshots, i, s)
			out->n_variants += json_array_size(json_object_get(s, "variants"));
		out->n_snapshots = json_array_size(m.snapshots);
	} else {
		/* only what this run wrote: volume_paths refused names that were there */
		for (size_t k = 0; k < written; k++)
			unlink(out->volumes[k]);
		out->n_volumes = m.n_volumes;
		arca_bundle_export_result_dispose(out);
	}
	free(sig);
	free(x.buf);
	arca_bundle__manifest_dispose(&m);
	return err;
}
