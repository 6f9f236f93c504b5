/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/blob.c — putting blobs into the store and getting them out again.
 *
 * A put streams into tmp/ while hashing; commit checks the size and hash, fsyncs, renames
 * the file to objects/sha256/ab/cd… (read-only, 0444) and records it in the catalog. A
 * blob that is already there is replaced by the freshly verified bytes, which repairs a
 * damaged copy and costs one rename. Readers open, read, map, verify or export blobs by
 * hash; they never see a path.
 */
#include "store/store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"

/* ------------------------------------------------------------------ writing */

struct arca_blob_writer {
	arca_store *store;
	arca_atomic_file file;
	arca_digest *sha256;
	arca_digest *git_sha1;
	uint64_t written;
	int64_t expect_size;
	char expect_sha256[ARCA_SHA256_HEX];
	char expect_git_sha1[ARCA_SHA1_HEX];
};

arca_err arca_blob_writer_new(arca_blob_writer **out, arca_store *store,
	const arca_blob_writer_opts *opts)
{
	*out = NULL;
	arca_blob_writer_opts defaults = ARCA_BLOB_WRITER_OPTS_INIT;
	if (!opts)
		opts = &defaults;
	arca_err err;
	if (opts->expect_sha256 && (err = arca_store__check_hash(opts->expect_sha256)) < 0)
		return arca_error_prefix(err, "expected hash");
	if (opts->expect_git_sha1 && !arca_hex_is_lower(opts->expect_git_sha1, 40))
		return arca_error_set(ARCA_EINVALID, "expected git blob id '%.60s' is not 40 hex digits",
			opts->expect_git_sha1);
	int want_git = opts->want_git_sha1 || opts->expect_git_sha1;
	if (want_git && opts->expect_size < 0)
		return arca_error_set(ARCA_EINVALID, "blob writer: a git blob id needs the size first");
	arca_blob_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return arca_error_set(ARCA_ENOMEM, "blob writer: out of memory");
	w->store = store;
	w->file.fd = -1;
	w->expect_size = opts->expect_size;
	if (opts->expect_sha256)
		memcpy(w->expect_sha256, opts->expect_sha256, ARCA_SHA256_HEX);
	if (opts->expect_git_sha1)
		memcpy(w->expect_git_sha1, opts->expect_git_sha1, ARCA_SHA1_HEX);
	if ((err = arca_digest_new(&w->sha256, ARCA_DIGEST_SHA256)) < 0 ||
	    (want_git &&
		(err = arca_digest_new_gitblob(&w->git_sha1, (uint64_t)opts->expect_size)) < 0) ||
	    (err = arca_atomic_open(&w->file, store->tmp_dir, NULL)) < 0) {
		arca_blob_writer_free(w);
		return err;
	}
	*out = w;
	return ARCA_OK;
}

arca_err arca_blob_writer_write(arca_blob_writer *w, const void *buf, size_t len)
{
	arca_err err;
	if (w->expect_size >= 0 && w->written + len > (uint64_t)w->expect_size)
		return arca_error_set(ARCA_EMISMATCH, "blob: more than the expected %lld bytes arrived",
			(long long)w->expect_size);
	if ((err = arca_digest_update(w->sha256, buf, len)) < 0)
		return err;
	if (w->git_sha1 && (err = arca_digest_update(w->git_sha1, buf, len)) < 0)
		return err;
	if ((err = arca_atomic_write(&w->file, buf, len)) < 0)
		return err;
	w->written += len;
	return ARCA_OK;
}

/* Creates objects/sha256/ab/ when needed, fsyncing its parent so the new entry lasts. */
static arca_err make_fanout_dir(arca_store *store, const char *sha256)
{
	char *dir;
	if (asprintf(&dir, "%s/%.2s", store->objects_dir, sha256) < 0)
		return arca_error_set(ARCA_ENOMEM, "store blob: out of memory");
	arca_err err = ARCA_OK;
	if (mkdir(dir, 0755) == 0)
		err = arca_io_fsync_dir(store->objects_dir);
	else if (errno != EEXIST)
		err = arca_error_errno(errno, "mkdir %s", dir);
	free(dir);
	return err;
}

arca_err arca_blob_writer_commit(arca_blob_writer *w, arca_file_digests *out)
{
	arca_err err;
	arca_file_digests d;
	memset(&d, 0, sizeof(d));
	if (w->expect_size >= 0 && w->written != (uint64_t)w->expect_size)
		return arca_error_set(ARCA_EMISMATCH, "size mismatch (expected %lld bytes, got %llu)",
			(long long)w->expect_size, (unsigned long long)w->written);
	unsigned char raw[ARCA_SHA256_LEN];
	if ((err = arca_digest_final(w->sha256, raw)) < 0)
		return err;
	arca_hex_encode(d.sha256, raw, ARCA_SHA256_LEN);
	if (w->expect_sha256[0] && strcmp(w->expect_sha256, d.sha256) != 0)
		return arca_error_set(ARCA_EMISMATCH, "sha256 mismatch (expected %s, got %s)",
			w->expect_sha256, d.sha256);
	if (w->git_sha1) {
		if ((err = arca_digest_final(w->git_sha1, raw)) < 0)
			return err;
		arca_hex_encode(d.git_sha1, raw, ARCA_SHA1_LEN);
		if (w->expect_git_sha1[0] && strcmp(w->expect_git_sha1, d.git_sha1) != 0)
			return arca_error_set(ARCA_EMISMATCH,
				"git blob id mismatch (expected %s, got %s; sha256 %s)", w->expect_git_sha1,
				d.git_sha1, d.sha256);
	}
	d.size = w->written;

	if ((err = arca_store__install_blob(w->store, &w->file, &d)) < 0)
		return err;
	if (out)
		*out = d;
	return ARCA_OK;
}

arca_err arca_store__install_blob(arca_store *store, arca_atomic_file *file,
	const arca_file_digests *d)
{
	char *path = arca_store__blob_path(store, d->sha256);
	if (!path)
		return arca_error_set(ARCA_ENOMEM, "store blob: out of memory");
	arca_err err = make_fanout_dir(store, d->sha256);
	if (err == ARCA_OK)
		err = arca_atomic_commit_to(file, path, 0444);
	free(path);
	if (err < 0)
		return err;
	arca_blob_record rec;
	memset(&rec, 0, sizeof(rec));
	memcpy(rec.sha256, d->sha256, sizeof(rec.sha256));
	memcpy(rec.git_sha1, d->git_sha1, sizeof(rec.git_sha1));
	rec.size = rec.stored_size = d->size;
	snprintf(rec.encoding, sizeof(rec.encoding), "raw");
	return arca_catalog_put_blob(store->catalog, &rec);
}

void arca_blob_writer_free(arca_blob_writer *w)
{
	if (!w)
		return;
	arca_atomic_dispose(&w->file);
	arca_digest_free(w->sha256);
	arca_digest_free(w->git_sha1);
	free(w);
}

typedef struct {
	arca_blob_writer *w;
	const char *path;
} put_ctx;

/* A block of the file into the writer; more bytes than fstat said means the file grew. */
static arca_err write_block(void *ctx, const void *buf, size_t len)
{
	put_ctx *p = ctx;
	arca_err err = arca_blob_writer_write(p->w, buf, len);
	if (err == ARCA_EMISMATCH)
		err = arca_error_set(ARCA_EIO, "%s: file grew while it was being stored", p->path);
	return err;
}

arca_err arca_store_put_file(arca_store *store, const char *path, arca_file_digests *out,
	arca_copy_progress_cb progress, void *payload)
{
	int fd;
	uint64_t size;
	arca_err err = arca_io_open_regular(&fd, &size, path);
	if (err < 0)
		return err;
	arca_blob_writer *w = NULL;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	arca_blob_writer_opts opts = ARCA_BLOB_WRITER_OPTS_INIT;
	opts.expect_size = (int64_t)size;
	opts.want_git_sha1 = 1;
	uint64_t done;
	if ((err = arca_blob_writer_new(&w, store, &opts)) < 0)
		goto cleanup;
	put_ctx ctx = { w, path };
	if ((err = arca_io_stream(fd, ARCA_HASH_BLOCK, write_block, &ctx, progress, payload,
			"store", path, &done)) < 0)
		goto cleanup;
	if ((err = arca_blob_writer_commit(w, out)) < 0) {
		if (err == ARCA_EMISMATCH)
			err = arca_error_set(ARCA_EIO, "%s: file shrank while it was being stored", path);
		else
			arca_error_prefix(err, "store %s", path);
	}
cleanup:
	arca_blob_writer_free(w);
	close(fd);
	return err;
}

arca_err arca_store_put_buffer(arca_store *store, const void *buf, size_t len,
	arca_file_digests *out)
{
	arca_blob_writer_opts opts = ARCA_BLOB_WRITER_OPTS_INIT;
	opts.expect_size = (int64_t)len;
	opts.want_git_sha1 = 1;
	arca_blob_writer *w;
	arca_err err = arca_blob_writer_new(&w, store, &opts);
	if (err < 0)
		return err;
	if ((err = arca_blob_writer_write(w, buf, len)) == ARCA_OK)
		err = arca_blob_writer_commit(w, out);
	arca_blob_writer_free(w);
	return err;
}

/* ------------------------------------------------------------------ reading */

struct arca_blob_reader {
	int fd;
	uint64_t size;
	uint64_t pos;
	char sha256[ARCA_SHA256_HEX];
};

/* Opens the blob file read-only; ARCA_ENOTFOUND naming the blob when it is absent. */
static arca_err open_blob_fd(arca_store *store, const char *sha256, int *fd_out,
	uint64_t *size_out)
{
	arca_err err = arca_store__check_hash(sha256);
	if (err < 0)
		return err;
	char *path = arca_store__blob_path(store, sha256);
	if (!path)
		return arca_error_set(ARCA_ENOMEM, "open blob: out of memory");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno == ENOENT ?
			arca_error_set(ARCA_ENOTFOUND, "blob %s is missing from the store", sha256) :
			arca_error_errno(errno, "open blob %s", sha256);
		free(path);
		return err;
	}
	free(path);
	struct stat st;
	if (fstat(fd, &st) != 0) {
		err = arca_error_errno(errno, "stat blob %s", sha256);
		close(fd);
		return err;
	}
	*fd_out = fd;
	*size_out = (uint64_t)st.st_size;
	return ARCA_OK;
}

arca_err arca_store_stat_blob(arca_store *store, const char *sha256, uint64_t *size_out)
{
	int fd;
	arca_err err = open_blob_fd(store, sha256, &fd, size_out);
	if (err == ARCA_OK)
		close(fd);
	return err;
}

arca_err arca_store_open_blob_fd(int *fd_out, uint64_t *size_out, arca_store *store,
	const char *sha256)
{
	*fd_out = -1;
	return open_blob_fd(store, sha256, fd_out, size_out);
}

arca_err arca_store_open_blob(arca_blob_reader **out, arca_store *store, const char *sha256)
{
	*out = NULL;
	arca_blob_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return arca_error_set(ARCA_ENOMEM, "open blob: out of memory");
	arca_err err = open_blob_fd(store, sha256, &r->fd, &r->size);
	if (err < 0) {
		free(r);
		return err;
	}
	memcpy(r->sha256, sha256, ARCA_SHA256_HEX);
	*out = r;
	return ARCA_OK;
}

arca_err arca_blob_read(arca_blob_reader *r, void *buf, size_t len, size_t *got_out)
{
	arca_err err = arca_blob_pread(r, buf, len, r->pos, got_out);
	if (err == ARCA_OK)
		r->pos += *got_out;
	return err;
}

arca_err arca_blob_pread(arca_blob_reader *r, void *buf, size_t len, uint64_t offset,
	size_t *got_out)
{
	char what[80];
	snprintf(what, sizeof(what), "blob %s", r->sha256);
	return arca_io_pread_full(r->fd, buf, len, offset, got_out, what);
}

uint64_t arca_blob_reader_size(const arca_blob_reader *r)
{
	return r->size;
}

void arca_blob_reader_free(arca_blob_reader *r)
{
	if (!r)
		return;
	close(r->fd);
	free(r);
}

arca_err arca_store_map_blob(arca_blob_map **out, arca_store *store, const char *sha256)
{
	*out = NULL;
	int fd;
	uint64_t size;
	arca_err err = open_blob_fd(store, sha256, &fd, &size);
	if (err < 0)
		return err;
	arca_blob_map *map = calloc(1, sizeof(*map));
	if (!map) {
		close(fd);
		return arca_error_set(ARCA_ENOMEM, "map blob %s: out of memory", sha256);
	}
	map->size = size;
	if (size > 0) {
		void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			err = arca_error_errno(errno, "map blob %s", sha256);
			close(fd);
			free(map);
			return err;
		}
		map->data = p;
	} else {
		map->data = (const unsigned char *)"";
	}
	close(fd);
	*out = map;
	return ARCA_OK;
}

void arca_blob_map_free(arca_blob_map *map)
{
	if (!map)
		return;
	if (map->size > 0)
		munmap((void *)map->data, map->size);
	free(map);
}

arca_err arca_store_hash_blob(arca_store *store, const char *sha256, arca_file_digests *out,
	arca_hash_progress_cb progress, void *payload)
{
	int fd;
	uint64_t size;
	arca_err err = open_blob_fd(store, sha256, &fd, &size);
	if (err < 0)
		return err;
	char what[80];
	snprintf(what, sizeof(what), "blob %s", sha256);
	err = arca_hash_fd(out, fd, what, 0, progress, payload);
	close(fd);
	return err;
}

arca_err arca_store_verify_blob(arca_store *store, const char *sha256,
	arca_hash_progress_cb progress, void *payload)
{
	arca_file_digests d;
	arca_err err = arca_store_hash_blob(store, sha256, &d, progress, payload);
	if (err < 0)
		return err;
	if (strcmp(d.sha256, sha256) != 0)
		return arca_error_set(ARCA_EMISMATCH,
			"blob %s is corrupt: its bytes now hash to %s (changed on disk)", sha256, d.sha256);
	return ARCA_OK;
}

/* ------------------------------------------------------------------ export */

static arca_err copy_out(arca_store *store, const char *sha256, const char *dst_path,
	unsigned flags, arca_hash_progress_cb progress, void *payload)
{
	int fd;
	uint64_t size;
	arca_err err = open_blob_fd(store, sha256, &fd, &size);
	if (err < 0)
		return err;
	char *dst_dir = arca_io_dirname(dst_path);
	arca_atomic_file f = ARCA_ATOMIC_FILE_INIT;
	arca_digest *digest = NULL;
	unsigned char *buf = malloc(ARCA_HASH_BLOCK);
	if (!dst_dir || !buf) {
		err = arca_error_set(ARCA_ENOMEM, "copy blob %s: out of memory", sha256);
		goto cleanup;
	}
	if ((err = arca_atomic_open(&f, dst_dir, dst_path)) < 0)
		goto cleanup;
	if ((flags & ARCA_EXPORT_VERIFY) && (err = arca_digest_new(&digest, ARCA_DIGEST_SHA256)) < 0)
		goto cleanup;
	char what[80];
	snprintf(what, sizeof(what), "blob %s", sha256);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	uint64_t done = 0;
	for (;;) {
		size_t got;
		if ((err = arca_io_read_full(fd, buf, ARCA_HASH_BLOCK, &got, what)) < 0)
			goto cleanup;
		if (got == 0)
			break;
		if (digest && (err = arca_digest_update(digest, buf, got)) < 0)
			goto cleanup;
		if ((err = arca_atomic_write(&f, buf, got)) < 0)
			goto cleanup;
		done += got;
		if (progress && progress(done, payload)) {
			err = arca_error_set(ARCA_EINTERRUPTED, "copy blob %s: interrupted", sha256);
			goto cleanup;
		}
	}
	if (digest) {
		unsigned char raw[ARCA_SHA256_LEN];
		char hex[ARCA_SHA256_HEX];
		if ((err = arca_digest_final(digest, raw)) < 0)
			goto cleanup;
		arca_hex_encode(hex, raw, ARCA_SHA256_LEN);
		if (strcmp(hex, sha256) != 0) {
			err = arca_error_set(ARCA_EMISMATCH,
				"blob %s is corrupt: its bytes now hash to %s (changed on disk)", sha256, hex);
			goto cleanup;
		}
	}
	err = arca_atomic_commit(&f, 0644);
cleanup:
	arca_atomic_dispose(&f);
	arca_digest_free(digest);
	free(buf);
	free(dst_dir);
	close(fd);
	return err;
}

/* Hard-links the blob to a temporary name beside dst, then renames it over dst.
 * *fallback_out = 1 when the filesystem cannot link (the caller copies instead). */
static arca_err link_out(arca_store *store, const char *sha256, const char *dst_path,
	int *fallback_out)
{
	*fallback_out = 0;
	char *src = arca_store__blob_path(store, sha256);
	char *dst_dir = arca_io_dirname(dst_path);
	char *tmp = NULL;
	arca_err err = ARCA_OK;
	if (!src || !dst_dir || asprintf(&tmp, "%s/.arca-link-%d-%.16s", dst_dir, (int)getpid(),
			sha256) < 0) {
		tmp = NULL;
		err = arca_error_set(ARCA_ENOMEM, "link blob %s: out of memory", sha256);
		goto cleanup;
	}
	unlink(tmp);
	if (link(src, tmp) != 0) {
		if (errno == EXDEV || errno == EPERM || errno == EMLINK || errno == ENOTSUP ||
		    errno == EOPNOTSUPP)
			*fallback_out = 1;
		else if (errno == ENOENT && access(src, F_OK) != 0)
			err = arca_error_set(ARCA_ENOTFOUND, "blob %s is missing from the store", sha256);
		else
			err = arca_error_errno(errno, "link %s to %s", src, tmp);
		goto cleanup;
	}
	if (rename(tmp, dst_path) != 0) {
		err = arca_error_errno(errno, "rename %s to %s", tmp, dst_path);
		unlink(tmp);
		goto cleanup;
	}
	/* when dst was already a link to the blob, rename() does nothing and leaves tmp */
	unlink(tmp);
	err = arca_io_fsync_dir(dst_dir);
cleanup:
	free(src);
	free(dst_dir);
	free(tmp);
	return err;
}

arca_err arca_store_export_blob(arca_store *store, const char *sha256, const char *dst_path,
	unsigned flags, arca_hash_progress_cb progress, void *payload, arca_export_how *how_out)
{
	arca_err err = arca_store__check_hash(sha256);
	if (err < 0)
		return err;
	if (!(flags & ARCA_EXPORT_COPY)) {
		if ((flags & ARCA_EXPORT_VERIFY) &&
		    (err = arca_store_verify_blob(store, sha256, progress, payload)) < 0)
			return err;
		int fallback;
		if ((err = link_out(store, sha256, dst_path, &fallback)) < 0)
			return err;
		if (!fallback) {
			if (how_out)
				*how_out = ARCA_EXPORTED_LINK;
			return ARCA_OK;
		}
		/* already verified above; the copy need not hash again */
		flags &= ~(unsigned)ARCA_EXPORT_VERIFY;
	}
	if ((err = copy_out(store, sha256, dst_path, flags, progress, payload)) < 0)
		return err;
	if (how_out)
		*how_out = ARCA_EXPORTED_COPY;
	return ARCA_OK;
}
