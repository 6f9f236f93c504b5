/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/bundle_import.c — `arca import`: finds the volumes, reads and checks the manifest
 * and its signature before writing anything, streams every planned entry into the store
 * (hash-checked by the blob writer; pieces of split blobs through a partial), refuses
 * anything the plan does not name, then records the snapshots in one transaction
 * (store/bundle_apply.c).
 */
#include "store/bundle_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "arca/signatures.h"
#include "common/io.h"
#include "store/byte_pipe.h"

#define READ_BUF (1u << 20)
#define RATIO_AFTER (64ull << 20)
/* Blobs up to this size get their git blob id computed on the way in (it names small files
 * in hf-cache checkouts and serve); larger ones are LFS files, named by their SHA-256. */
#define GIT_SHA1_MAX (16u << 20)

const char *arca_bundle_outcome_name(arca_bundle_outcome outcome)
{
	return outcome == ARCA_BUNDLE_IMPORTED ? "imported" :
		outcome == ARCA_BUNDLE_COMPLETED ? "completed" : "already stored";
}

void arca_bundle_import_result_dispose(arca_bundle_import_result *r)
{
	for (size_t i = 0; r->snapshots && i < r->n_snapshots; i++) {
		arca_bundle_imported *s = &r->snapshots[i];
		free(s->subject);
		free(s->signature_state);
		for (size_t k = 0; k < s->n_refs_kept; k++)
			free(s->refs_kept[k]);
		free(s->refs_kept);
	}
	free(r->snapshots);
	free(r->signature);
	free(r->signer);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ one volume */

typedef struct {
	char *path;
	struct archive *ar;
	char *manifest, *sig, *volume;
	size_t manifest_len, sig_len;
	size_t index;               /* 1-based, from arca-volume.json */
	size_t count;
} volume;

static void volume_close(volume *v)
{
	if (v->ar)
		archive_read_free(v->ar);
	v->ar = NULL;
}

static void volume_dispose(volume *v)
{
	volume_close(v);
	free(v->path);
	free(v->manifest);
	free(v->sig);
	free(v->volume);
	memset(v, 0, sizeof(*v));
}

static arca_err ar_error(const volume *v, const char *doing)
{
	const char *why = archive_error_string(v->ar);
	return arca_error_set(ARCA_ECORRUPT, "%s: %s: %s", v->path, doing,
		why ? why : "not a zstd-compressed tar");
}

/* The next entry, which must be a regular file named `want` (NULL: any of the three
 * header names) of at most `max` bytes. */
static arca_err next_entry(volume *v, struct archive_entry **e, const char *want, uint64_t max)
{
	int rc = archive_read_next_header(v->ar, e);
	if (rc == ARCHIVE_EOF)
		return arca_error_set(ARCA_ECORRUPT, "%s ends before %s (truncated, or not a whole "
			"volume)", v->path, want ? want : "its header");
	if (rc != ARCHIVE_OK)
		return ar_error(v, "read the next entry");
	const char *name = archive_entry_pathname(*e);
	if (archive_entry_filetype(*e) != AE_IFREG || archive_entry_hardlink(*e) ||
	    archive_entry_symlink(*e))
		return arca_error_set(ARCA_ECORRUPT, "%s: entry %s is not a regular file (links, "
			"folders and devices are not in the format)", v->path, name ? name : "?");
	if (!name || (want && strcmp(name, want) != 0))
		return arca_error_set(ARCA_ECORRUPT, "%s: entry %s where the format has %s", v->path,
			name ? name : "(no name)", want ? want : "the manifest");
	if (!archive_entry_size_is_set(*e) || archive_entry_size(*e) < 0 ||
	    (uint64_t)archive_entry_size(*e) > max)
		return arca_error_set(ARCA_ECORRUPT, "%s: entry %s has no size or more than %" PRIu64
			" bytes", v->path, name, max);
	return ARCA_OK;
}

static arca_err read_small(volume *v, struct archive_entry *e, char **out, size_t *len_out)
{
	size_t len = (size_t)archive_entry_size(e);
	char *buf = malloc(len + 1);
	if (!buf)
		return arca_error_set(ARCA_ENOMEM, "import: out of memory");
	size_t got = 0;
	while (got < len) {
		la_ssize_t n = archive_read_data(v->ar, buf + got, len - got);
		if (n <= 0) {
			free(buf);
			return n == 0 ? arca_error_set(ARCA_ECORRUPT, "%s: %s ends early", v->path,
				archive_entry_pathname(e)) : ar_error(v, archive_entry_pathname(e));
		}
		got += (size_t)n;
	}
	buf[len] = 0;
	*out = buf;
	*len_out = len;
	return ARCA_OK;
}

/* Opens a volume and reads its header entries; it is left before its first blob. */
static arca_err volume_open(volume *v)
{
	volume_close(v);
	free(v->manifest);
	free(v->sig);
	free(v->volume);
	v->manifest = v->sig = v->volume = NULL;
	v->sig_len = 0;
	if (!(v->ar = archive_read_new()))
		return arca_error_set(ARCA_ENOMEM, "import: out of memory");
	archive_read_support_filter_zstd(v->ar);
	archive_read_support_format_tar(v->ar);
	if (archive_read_open_filename(v->ar, v->path, READ_BUF) != ARCHIVE_OK) {
		const char *why = archive_error_string(v->ar);
		return arca_error_set(access(v->path, R_OK) ? ARCA_ENOTFOUND : ARCA_ECORRUPT,
			"%s: %s", v->path, why ? why : "cannot be read");
	}
	struct archive_entry *e;
	size_t len;
	arca_err err = next_entry(v, &e, ARCA_BUNDLE_MANIFEST_NAME, ARCA_BUNDLE_MANIFEST_MAX);
	if (err == ARCA_OK)
		err = read_small(v, e, &v->manifest, &v->manifest_len);
	if (err == ARCA_OK)
		err = next_entry(v, &e, NULL, ARCA_SIG_MAX);
	if (err == ARCA_OK && !strcmp(archive_entry_pathname(e), ARCA_BUNDLE_SIG_NAME)) {
		if ((err = read_small(v, e, &v->sig, &v->sig_len)) == ARCA_OK)
			err = next_entry(v, &e, ARCA_BUNDLE_VOLUME_NAME, 4096);
	} else if (err == ARCA_OK && strcmp(archive_entry_pathname(e), ARCA_BUNDLE_VOLUME_NAME)) {
		err = arca_error_set(ARCA_ECORRUPT, "%s: entry %s where the format has %s",
			v->path, archive_entry_pathname(e), ARCA_BUNDLE_VOLUME_NAME);
	}
	if (err == ARCA_OK)
		err = read_small(v, e, &v->volume, &len);
	return err;
}

/* arca-volume.json against the manifest. */
static arca_err volume_check(volume *v, const arca_bundle__manifest *m)
{
	json_t *o = json_loads(v->volume, JSON_REJECT_DUPLICATES, NULL);
	json_t *k = json_object_get(o, "volume"), *n = json_object_get(o, "volumes");
	const char *id = json_string_value(json_object_get(o, "bundle"));
	arca_err err = ARCA_OK;
	if (!json_is_integer(k) || !json_is_integer(n) || !id || json_object_size(o) != 3)
		err = arca_error_set(ARCA_ECORRUPT, "%s: %s is malformed", v->path,
			ARCA_BUNDLE_VOLUME_NAME);
	else if (strcmp(id, m->id) != 0)
		err = arca_error_set(ARCA_ECORRUPT, "%s: its header names bundle %.12s…, its "
			"manifest is %.12s…", v->path, id, m->id);
	else if (json_integer_value(n) != (json_int_t)m->n_volumes || json_integer_value(k) < 1 ||
		 json_integer_value(k) > json_integer_value(n))
		err = arca_error_set(ARCA_ECORRUPT, "%s: volume %" JSON_INTEGER_FORMAT " of %"
			JSON_INTEGER_FORMAT " does not fit the manifest's %zu volumes", v->path,
			json_integer_value(k), json_integer_value(n), m->n_volumes);
	else
		v->index = (size_t)json_integer_value(k), v->count = m->n_volumes;
	json_decref(o);
	return err;
}

/* ------------------------------------------------------------------ the signature */

static arca_err check_signature(arca_bundle_import_result *out, arca_store *store,
	const volume *v, const arca_bundle__manifest *m, const arca_bundle_import_opts *o)
{
	if (!v->sig) {
		if (!o->allow_unsigned)
			return arca_error_set(ARCA_EINVALID, "%s is not signed; import it anyway with "
				"--unsigned", v->path);
		out->signature = strdup("unsigned");
		return out->signature ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "import: out of memory");
	}
	arca_sig sig;
	arca_err err = arca_sig_parse(&sig, v->sig, v->sig_len, ARCA_BUNDLE_SIG_NAME);
	if (err < 0)
		return arca_error_prefix(err == ARCA_ENOMEM ? err : ARCA_EMISMATCH, "%s", v->path);
	arca_trust_set trust;
	if ((err = arca_trust_set_load(&trust, store)) < 0) {
		arca_sig_dispose(&sig);
		return err;
	}
	arca_sig_verdict verdict;
	arca_sig_judge(&verdict, &sig, trust.anchors, trust.n, NULL, NULL);
	arca_sign_file file = { ARCA_BUNDLE_MANIFEST_NAME, { 0 } };
	memcpy(file.sha256, m->id, ARCA_SHA256_HEX);
	if (verdict.state != ARCA_SIG_INVALID && arca_sig_check_files(&sig, &file, 1) < 0) {
		verdict.state = ARCA_SIG_INVALID;
		snprintf(verdict.reason, sizeof(verdict.reason), "it signs another manifest: %s",
			arca_error_last());
	}
	out->signer = strdup(verdict.signer[0] ? verdict.signer : "unknown");
	if (verdict.state == ARCA_SIG_INVALID)
		err = arca_error_set(ARCA_EMISMATCH, "%s: the bundle's signature is invalid: %s",
			v->path, verdict.reason);
	else if (verdict.state != ARCA_SIG_VERIFIED && !o->trust_signer)
		err = arca_error_set(ARCA_EINVALID, "%s: the bundle's signer is not trusted here: "
			"%s; or import it with --trust-signer", v->path, verdict.reason);
	if (err == ARCA_OK)
		out->signature = strdup(verdict.state == ARCA_SIG_VERIFIED ? "verified" : "accepted");
	if (err == ARCA_OK && (!out->signature || !out->signer))
		err = arca_error_set(ARCA_ENOMEM, "import: out of memory");
	arca_trust_set_dispose(&trust);
	arca_sig_dispose(&sig);
	return err;
}

/* ------------------------------------------------------------------ blobs */

typedef struct {
	arca_store *store;
	const arca_bundle__manifest *m;
	const arca_bundle_import_opts *o;
	arca_bundle_import_result *out;
	unsigned char *buf;
	arca_byte_pipe *pipe;
	uint64_t done, total;
	uint64_t bytes_before;   /* compressed bytes of earlier volumes */
} importer;

/* Reads `len` bytes of the current entry and hands them to the consumer on the pipe's
 * worker thread (so decompressing and hashing overlap), checking the decompression ratio
 * as it goes. Returns once the consumer has seen every byte. */
static arca_err pour(importer *im, volume *v, uint64_t len, const char *what,
	arca_byte_pipe_fn consume, void *ctx)
{
	unsigned ratio = im->o->max_ratio ? im->o->max_ratio : 1000;
	arca_err err = ARCA_OK;
	while (err == ARCA_OK && len) {
		unsigned char *buf = consume ? arca_byte_pipe_slot(im->pipe) : im->buf;
		la_ssize_t n = archive_read_data(v->ar, buf, len < READ_BUF ? len : READ_BUF);
		if (n < 0) {
			err = ar_error(v, what);
			break;
		}
		if (n == 0) {
			err = arca_error_set(ARCA_ECORRUPT, "%s: %s ends early", v->path, what);
			break;
		}
		if (consume && (err = arca_byte_pipe_push(im->pipe, (size_t)n, consume, ctx)) < 0)
			break;
		len -= (uint64_t)n;
		im->done += (uint64_t)n;
		int64_t raw = archive_filter_bytes(v->ar, -1), plain = archive_filter_bytes(v->ar, 0);
		if (plain > (int64_t)RATIO_AFTER && raw > 0 && plain / raw > (int64_t)ratio)
			err = arca_error_set(ARCA_ECORRUPT, "%s: more than %u bytes out for each byte "
				"in (a decompression bomb?)", v->path, ratio);
		else if (im->o->progress && im->o->progress(what, im->done, im->total,
				im->o->payload))
			err = arca_error_set(ARCA_EINTERRUPTED, "import: interrupted");
	}
	if (consume) {
		arca_error_saved saved;
		arca_error_save(&saved);
		arca_err drained = arca_byte_pipe_drain(im->pipe);
		if (err < 0)
			arca_error_restore(&saved);
		else
			err = drained;
	}
	return err;
}

static arca_err to_writer(void *ctx, const void *buf, size_t n)
{
	return arca_blob_writer_write(ctx, buf, n);
}

typedef struct {
	arca_partial *p;
	uint64_t at;
} piece_sink;

static arca_err to_partial(void *ctx, const void *buf, size_t n)
{
	piece_sink *s = ctx;
	arca_err err = arca_io_pwrite_all(arca_partial_fd(s->p), buf, n, s->at, "bundle piece");
	s->at += n;
	return err;
}

/* Whether the store has the blob: in the catalog and on disk. A file the catalog does not
 * know (left by an interrupted write) is written again, which records it. */
static int have_blob(arca_store *store, const arca_bundle__blob *b)
{
	uint64_t size;
	arca_blob_record rec;
	if (arca_catalog_get_blob(arca_store_catalog(store), b->sha256, &rec) < 0) {
		arca_error_clear();
		return 0;
	}
	return arca_store_stat_blob(store, b->sha256, &size) == ARCA_OK && size == b->size;
}

static arca_err whole_blob(importer *im, volume *v, const arca_bundle__blob *b, const char *name)
{
	if (have_blob(im->store, b))
		return pour(im, v, b->size, name, NULL, NULL);
	arca_blob_writer_opts wo = ARCA_BLOB_WRITER_OPTS_INIT;
	wo.expect_sha256 = b->sha256;
	wo.expect_size = (int64_t)b->size;
	wo.want_git_sha1 = b->size <= GIT_SHA1_MAX;
	arca_blob_writer *w = NULL;
	arca_err err = arca_blob_writer_new(&w, im->store, &wo);
	if (err == ARCA_OK)
		err = pour(im, v, b->size, name, to_writer, w);
	arca_file_digests d;
	if (err == ARCA_OK && (err = arca_blob_writer_commit(w, &d)) == ARCA_EMISMATCH)
		arca_error_prefix(err, "%s: %s", v->path, name);
	arca_blob_writer_free(w);
	if (err == ARCA_OK) {
		im->out->n_blobs_new++;
		im->out->blob_bytes_new += b->size;
	}
	return err;
}

/* A piece of a blob split across volumes: pieces go, in order, into a partial whose state
 * is how many bytes from the start are there; the last one turns it into the blob. */
static arca_err blob_piece(importer *im, volume *v, const arca_bundle__blob *b,
	const arca_bundle__entry *e, const char *name)
{
	if (have_blob(im->store, b))
		return pour(im, v, e->size, name, NULL, NULL);
	arca_partial *p = NULL;
	arca_err err = arca_store_partial_open(&p, im->store, b->sha256, b->size);
	if (err < 0)
		return err;
	const char *saved = arca_partial_saved_state(p);
	uint64_t have = saved ? strtoull(saved, NULL, 10) : 0;
	if (e->offset != have) {
		/* already there, or an earlier piece is missing: this one is read past */
		err = pour(im, v, e->size, name, NULL, NULL);
		arca_partial_close(p, 0);
		return err;
	}
	piece_sink sink = { p, e->offset };
	char state[32];
	err = pour(im, v, e->size, name, to_partial, &sink);
	snprintf(state, sizeof(state), "%" PRIu64, e->offset + e->size);
	if (err == ARCA_OK)
		err = arca_partial_save_state(p, state);
	arca_file_digests d;
	if (err == ARCA_OK && e->offset + e->size == b->size &&
	    lseek(arca_partial_fd(p), 0, SEEK_SET) == 0 &&
	    (err = arca_hash_fd(&d, arca_partial_fd(p), name, ARCA_HASH_GIT_SHA1, NULL,
			NULL)) == ARCA_OK) {
		if (strcmp(d.sha256, b->sha256) != 0) {
			err = arca_error_set(ARCA_EMISMATCH, "%s: the pieces of blob %s hash to %s",
				v->path, b->sha256, d.sha256);
			arca_partial_close(p, 1);
			return err;
		}
		if ((err = arca_partial_commit(p, &d)) == ARCA_OK) {
			im->out->n_blobs_new++;
			im->out->blob_bytes_new += b->size;
		}
	}
	arca_partial_close(p, err < 0 && err != ARCA_EINTERRUPTED);
	return err;
}

static arca_err read_volume(importer *im, volume *v)
{
	const arca_bundle__volume *plan = &im->m->volumes[v->index - 1];
	arca_err err = volume_open(v);
	for (size_t i = 0; err == ARCA_OK && i < plan->n; i++) {
		const arca_bundle__entry *e = &plan->entries[i];
		const arca_bundle__blob *b = &im->m->blobs[e->blob];
		char name[128];
		struct archive_entry *ae;
		arca_bundle__entry_name(name, sizeof(name), im->m, e);
		if ((err = next_entry(v, &ae, name, e->size)) < 0)
			break;
		if ((uint64_t)archive_entry_size(ae) != e->size) {
			err = arca_error_set(ARCA_ECORRUPT, "%s: entry %s is %" PRId64 " bytes, the plan "
				"says %" PRIu64, v->path, name, (int64_t)archive_entry_size(ae), e->size);
			break;
		}
		err = e->size == b->size ? whole_blob(im, v, b, name) : blob_piece(im, v, b, e, name);
	}
	struct archive_entry *ae;
	int rc = err == ARCA_OK ? archive_read_next_header(v->ar, &ae) : ARCHIVE_EOF;
	if (rc == ARCHIVE_OK)
		err = arca_error_set(ARCA_ECORRUPT, "%s: entry %s after the last one the plan names",
			v->path, archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "?");
	else if (rc != ARCHIVE_EOF)
		err = ar_error(v, "read the end of the archive");
	if (err == ARCA_OK) {
		im->bytes_before += (uint64_t)archive_filter_bytes(v->ar, -1);
		im->out->bytes_read = im->bytes_before;
		im->out->n_volumes_read++;
	}
	volume_close(v);
	return err;
}

/* ------------------------------------------------------------------ the volume set */

/* NAME.NNN → its siblings NAME.001 ... NAME.<count> that exist, when not given. */
static arca_err add_siblings(volume **vols, size_t *n, size_t count)
{
	const char *first = (*vols)[0].path;
	size_t len = strlen(first), digits = 0;
	while (digits < len && isdigit((unsigned char)first[len - 1 - digits]))
		digits++;
	if (digits < 3 || digits == len || first[len - 1 - digits] != '.')
		return ARCA_OK;
	for (size_t k = 1; k <= count; k++) {
		char *path = NULL;
		if (asprintf(&path, "%.*s%0*zu", (int)(len - digits), first, (int)digits, k) < 0)
			return arca_error_set(ARCA_ENOMEM, "import: out of memory");
		int have = access(path, F_OK) != 0;
		for (size_t i = 0; !have && i < *n; i++)
			have = !strcmp((*vols)[i].path, path);
		if (have) {
			free(path);
			continue;
		}
		volume *grown = realloc(*vols, (*n + 1) * sizeof(**vols));
		if (!grown) {
			free(path);
			return arca_error_set(ARCA_ENOMEM, "import: out of memory");
		}
		*vols = grown;
		memset(&grown[*n], 0, sizeof(grown[*n]));
		grown[(*n)++].path = path;
	}
	return ARCA_OK;
}

static int by_index(const void *a, const void *b)
{
	const volume *x = a, *y = b;
	return (x->index > y->index) - (x->index < y->index);
}

/* Every planned blob in the store; else the volumes still needed, named. */
static arca_err all_there(importer *im)
{
	const arca_bundle__manifest *m = im->m;
	char need[256] = "";
	size_t n_need = 0, n_missing = 0;
	for (size_t k = 0; k < m->n_volumes; k++) {
		int missing = 0;
		for (size_t i = 0; i < m->volumes[k].n; i++) {
			const arca_bundle__blob *b = &m->blobs[m->volumes[k].entries[i].blob];
			if (!have_blob(im->store, b)) {
				missing = 1;
				n_missing++;
			}
		}
		if (missing && n_need++ < 8)
			snprintf(need + strlen(need), sizeof(need) - strlen(need), "%s%zu",
				n_need > 1 ? ", " : "", k + 1);
	}
	if (!n_need)
		return ARCA_OK;
	return arca_error_set(ARCA_EINVALID, "bundle %.12s… needs volume%s %s%s of %zu (%zu blob%s "
		"missing); the %zu blob%s read so far stay in the store for the next import", m->id,
		n_need == 1 ? "" : "s", need, n_need > 8 ? " and more" : "", m->n_volumes, n_missing,
		n_missing == 1 ? "" : "s", im->out->n_blobs_new, im->out->n_blobs_new == 1 ? "" : "s");
}

static arca_err enough_space(importer *im)
{
	uint64_t need = 0;
	for (size_t i = 0; i < im->m->n_blobs; i++)
		if (!have_blob(im->store, &im->m->blobs[i]))
			need += im->m->blobs[i].size;
	struct statvfs fs;
	if (statvfs(arca_store_home(im->store), &fs) != 0)
		return ARCA_OK;
	uint64_t free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
	if (need > free_bytes)
		return arca_error_set(ARCA_EIO, "import: the bundle needs %" PRIu64 " more bytes in "
			"the store, the disk has %" PRIu64 " free", need, free_bytes);
	return ARCA_OK;
}

static arca_err open_all(volume **vols_out, size_t *n_out, arca_bundle__manifest *m,
	const arca_bundle_import_opts *o)
{
	volume *vols = calloc(o->n_paths ? o->n_paths : 1, sizeof(*vols));
	size_t n = 0;
	arca_err err = vols ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "import: out of memory");
	for (size_t i = 0; err == ARCA_OK && i < o->n_paths; i++)
		if (!(vols[n++].path = strdup(o->paths[i])))
			err = arca_error_set(ARCA_ENOMEM, "import: out of memory");
	if (err == ARCA_OK && n == 0)
		err = arca_error_set(ARCA_EINVALID, "import: no bundle given");
	if (err == ARCA_OK && (err = volume_open(&vols[0])) == ARCA_OK)
		err = arca_bundle__manifest_parse(m, vols[0].manifest, vols[0].manifest_len,
			vols[0].path);
	if (err == ARCA_OK)
		err = add_siblings(&vols, &n, m->n_volumes);
	for (size_t i = 0; err == ARCA_OK && i < n; i++) {
		if (i > 0 && (err = volume_open(&vols[i])) < 0)
			break;
		if (vols[i].manifest_len != m->len || memcmp(vols[i].manifest, m->text, m->len) != 0)
			err = arca_error_set(ARCA_ECORRUPT, "%s is a volume of another bundle than %s",
				vols[i].path, vols[0].path);
		else if ((vols[i].sig_len != vols[0].sig_len) ||
			 (vols[i].sig && memcmp(vols[i].sig, vols[0].sig, vols[i].sig_len) != 0))
			err = arca_error_set(ARCA_ECORRUPT, "%s: its signature differs from %s's",
				vols[i].path, vols[0].path);
		else
			err = volume_check(&vols[i], m);
		volume_close(&vols[i]); /* read_volume opens it again: one open file at a time */
		for (size_t j = 0; err == ARCA_OK && j < i; j++)
			if (vols[j].index == vols[i].index)
				err = arca_error_set(ARCA_EINVALID, "%s and %s are both volume %zu",
					vols[j].path, vols[i].path, vols[i].index);
	}
	if (err == ARCA_OK)
		qsort(vols, n, sizeof(*vols), by_index);
	*vols_out = vols;
	*n_out = n;
	return err;
}

arca_err arca_bundle_import(arca_bundle_import_result *out, arca_store *store,
	const arca_bundle_import_opts *o)
{
	memset(out, 0, sizeof(*out));
	arca_bundle__manifest m;
	memset(&m, 0, sizeof(m));
	volume *vols = NULL;
	size_t n = 0;
	importer im = { store, &m, o, out, malloc(READ_BUF), NULL, 0, 0, 0 };
	arca_err err = im.buf ? arca_byte_pipe_new(&im.pipe, 4, READ_BUF) :
		arca_error_set(ARCA_ENOMEM, "import: out of memory");
	if (err == ARCA_OK)
		err = open_all(&vols, &n, &m, o);
	if (err == ARCA_OK) {
		memcpy(out->id, m.id, ARCA_SHA256_HEX);
		out->n_volumes = m.n_volumes;
		out->n_blobs = m.n_blobs;
		err = check_signature(out, store, &vols[0], &m, o);
	}
	if (err == ARCA_OK)
		err = enough_space(&im);
	for (size_t k = 0; err == ARCA_OK && k < n; k++)
		for (size_t i = 0; i < m.volumes[vols[k].index - 1].n; i++)
			im.total += m.volumes[vols[k].index - 1].entries[i].size;
	for (size_t k = 0; err == ARCA_OK && k < n; k++)
		err = read_volume(&im, &vols[k]);
	if (err == ARCA_OK)
		err = all_there(&im);
	if (err == ARCA_OK && (err = arca_catalog_begin(arca_store_catalog(store))) == ARCA_OK) {
		err = arca_bundle__apply(out, store, &m, vols[0].path);
		if (err == ARCA_OK)
			err = arca_catalog_commit(arca_store_catalog(store));
		else
			arca_catalog_rollback(arca_store_catalog(store));
	}
	for (size_t k = 0; k < n; k++)
		volume_dispose(&vols[k]);
	free(vols);
	arca_byte_pipe_free(im.pipe);
	free(im.buf);
	arca_bundle__manifest_dispose(&m);
	return err;
}
