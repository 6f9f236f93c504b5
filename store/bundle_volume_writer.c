/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/bundle_volume_writer.c — one bundle volume being written: libarchive makes the pax
 * tar, libzstd compresses it with worker threads (libarchive's own zstd filter has no
 * threads option in Debian 12's 3.6), and the bytes go to a temporary file beside the
 * volume that is fsync'ed and renamed when the volume is complete.
 */
#include "store/bundle_volume_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "common/io.h"

struct arca_volume_writer {
	struct archive *ar;
	ZSTD_CCtx *zc;
	arca_atomic_file file;
	unsigned char *out;
	size_t out_cap;
	uint64_t written;
	arca_err err;            /* the first error inside a libarchive callback */
	char path[4096];
};

/* Compresses `len` bytes (or, with end, finishes the frame) and writes what comes out. */
static arca_err pump(arca_volume_writer *w, const void *buf, size_t len, ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	for (;;) {
		ZSTD_outBuffer out = { w->out, w->out_cap, 0 };
		size_t left = ZSTD_compressStream2(w->zc, &out, &in, end);
		if (ZSTD_isError(left))
			return arca_error_set(ARCA_EIO, "%s: zstd: %s", w->path, ZSTD_getErrorName(left));
		if (out.pos) {
			arca_err err = arca_atomic_write(&w->file, w->out, out.pos);
			if (err < 0)
				return err;
			w->written += out.pos;
		}
		if (end == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return ARCA_OK;
	}
}

static la_ssize_t on_write(struct archive *ar, void *ctx, const void *buf, size_t len)
{
	arca_volume_writer *w = ctx;
	if (w->err == ARCA_OK)
		w->err = pump(w, buf, len, ZSTD_e_continue);
	if (w->err < 0) {
		archive_set_error(ar, EIO, "%s", arca_error_last());
		return -1;
	}
	return (la_ssize_t)len;
}

static arca_err archive_error(arca_volume_writer *w, const char *doing)
{
	if (w->err < 0)
		return w->err;
	return arca_error_set(ARCA_EIO, "%s: %s: %s", w->path, doing, archive_error_string(w->ar));
}

arca_err arca_volume_writer_open(arca_volume_writer **out, const char *path, int level,
	int threads, int *threads_used)
{
	arca_volume_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return arca_error_set(ARCA_ENOMEM, "export: out of memory");
	*out = w;
	w->file = (arca_atomic_file)ARCA_ATOMIC_FILE_INIT;
	snprintf(w->path, sizeof(w->path), "%s", path);
	char *dir = arca_io_dirname(path);
	arca_err err = dir ? arca_atomic_open(&w->file, dir, path) :
		arca_error_set(ARCA_ENOMEM, "export: out of memory");
	free(dir);
	if (err < 0)
		return err;
	w->out_cap = ZSTD_CStreamOutSize() * 8;
	if (!(w->out = malloc(w->out_cap)) || !(w->zc = ZSTD_createCCtx()))
		return arca_error_set(ARCA_ENOMEM, "export: out of memory");
	size_t r = ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1);
	if (ZSTD_isError(r))
		return arca_error_set(ARCA_EINVALID, "export: zstd level %d: %s", level,
			ZSTD_getErrorName(r));
	if (threads > 1) {
		r = ZSTD_CCtx_setParameter(w->zc, ZSTD_c_nbWorkers, threads);
		if (ZSTD_isError(r))
			return arca_error_set(ARCA_EUNSUPPORTED, "export: this libzstd cannot compress "
				"with %d threads (%s); give --threads 1", threads, ZSTD_getErrorName(r));
	}
	*threads_used = threads > 1 ? threads : 1;
	if (!(w->ar = archive_write_new()))
		return arca_error_set(ARCA_ENOMEM, "export: out of memory");
	if (archive_write_set_format_pax_restricted(w->ar) != ARCHIVE_OK ||
	    archive_write_add_filter_none(w->ar) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->ar, 0) != ARCHIVE_OK ||
	    archive_write_open2(w->ar, w, NULL, on_write, NULL, NULL) != ARCHIVE_OK)
		return archive_error(w, "start the archive");
	return ARCA_OK;
}

arca_err arca_volume_writer_begin(arca_volume_writer *w, const char *name, uint64_t size,
	time_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return arca_error_set(ARCA_ENOMEM, "export: out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, mtime, 0);
	int rc = archive_write_header(w->ar, e);
	archive_entry_free(e);
	return rc == ARCHIVE_OK ? ARCA_OK : archive_error(w, name);
}

arca_err arca_volume_writer_data(arca_volume_writer *w, const void *buf, size_t len)
{
	while (len) {
		la_ssize_t n = archive_write_data(w->ar, buf, len);
		if (n <= 0)
			return archive_error(w, "write");
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
	return ARCA_OK;
}

arca_err arca_volume_writer_entry(arca_volume_writer *w, const char *name, const void *buf,
	size_t len, time_t mtime)
{
	arca_err err = arca_volume_writer_begin(w, name, len, mtime);
	return err < 0 ? err : arca_volume_writer_data(w, buf, len);
}

arca_err arca_volume_writer_commit(arca_volume_writer *w, uint64_t *bytes_out)
{
	if (archive_write_close(w->ar) != ARCHIVE_OK)
		return archive_error(w, "finish the archive");
	arca_err err = pump(w, NULL, 0, ZSTD_e_end);
	if (err == ARCA_OK)
		err = arca_atomic_commit(&w->file, 0644);
	if (err == ARCA_OK && bytes_out)
		*bytes_out = w->written;
	return err;
}

void arca_volume_writer_free(arca_volume_writer *w)
{
	if (!w)
		return;
	if (w->ar)
		archive_write_free(w->ar);
	ZSTD_freeCCtx(w->zc);
	free(w->out);
	arca_atomic_dispose(&w->file);
	free(w);
}
