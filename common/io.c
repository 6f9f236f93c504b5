/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/io.c — checked reads and writes, mkdir -p, directory fsync and the atomic writer
 * (tmp + fsync + rename + fsync dir). See io.h for the contract.
 */
#include "common/io.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

arca_io_hooks arca__io_hooks;

static ssize_t hooked_write(int fd, const void *buf, size_t len)
{
	return arca__io_hooks.write ? arca__io_hooks.write(fd, buf, len) : write(fd, buf, len);
}

static int hooked_fsync(int fd)
{
	return arca__io_hooks.fsync ? arca__io_hooks.fsync(fd) : fsync(fd);
}

arca_err arca_io_write_all(int fd, const void *buf, size_t len, const char *what)
{
	const unsigned char *p = buf;
	while (len > 0) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : len;
		ssize_t n = hooked_write(fd, p, chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return arca_error_errno(errno, "write %s", what);
		}
		if (n == 0)
			return arca_error_set(ARCA_EIO, "write %s: no progress", what);
		p += n;
		len -= (size_t)n;
	}
	return ARCA_OK;
}

/* Reads until len bytes, end of file or an error; at `offset` with pread, or from the
 * current position when offset is negative. */
static arca_err read_up_to(int fd, void *buf, size_t len, int64_t offset, size_t *got_out,
	const char *what)
{
	unsigned char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = offset < 0 ? read(fd, p + got, len - got) :
			pread(fd, p + got, len - got, (off_t)((uint64_t)offset + got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return arca_error_errno(errno, "read %s", what);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*got_out = got;
	return ARCA_OK;
}

arca_err arca_io_read_full(int fd, void *buf, size_t len, size_t *got_out, const char *what)
{
	return read_up_to(fd, buf, len, -1, got_out, what);
}

arca_err arca_io_pread_full(int fd, void *buf, size_t len, uint64_t offset, size_t *got_out,
	const char *what)
{
	if (offset > INT64_MAX)
		return arca_error_set(ARCA_EINVALID, "read %s: offset %llu is too large", what,
			(unsigned long long)offset);
	return read_up_to(fd, buf, len, (int64_t)offset, got_out, what);
}

arca_err arca_io_pwrite_all(int fd, const void *buf, size_t len, uint64_t offset,
	const char *what)
{
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return arca_error_errno(errno, "write %s", what);
		}
		if (n == 0)
			return arca_error_set(ARCA_EIO, "write %s: no progress", what);
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return ARCA_OK;
}

arca_err arca_io_fsync(int fd, const char *what)
{
	while (hooked_fsync(fd) != 0) {
		if (errno != EINTR)
			return arca_error_errno(errno, "fsync %s", what);
	}
	return ARCA_OK;
}

arca_err arca_io_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return arca_error_errno(errno, "open directory %s", dir);
	arca_err err = arca_io_fsync(fd, dir);
	close(fd);
	return err;
}

arca_err arca_io_mkdirs(const char *path, unsigned mode)
{
	if (!path[0])
		return arca_error_set(ARCA_EINVALID, "mkdir: empty path");
	char *copy = strdup(path);
	if (!copy)
		return arca_error_set(ARCA_ENOMEM, "mkdir %s: out of memory", path);
	arca_err err = ARCA_OK;
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, mode) != 0 && errno != EEXIST) {
			err = arca_error_errno(errno, "mkdir %s", copy);
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	if (err == ARCA_OK) {
		struct stat st;
		if (stat(path, &st) != 0)
			err = arca_error_errno(errno, "stat %s", path);
		else if (!S_ISDIR(st.st_mode))
			err = arca_error_set(ARCA_EEXISTS, "%s: exists and is not a directory", path);
	}
	free(copy);
	return err;
}

arca_err arca_io_open_regular(int *fd_out, uint64_t *size_out, const char *path)
{
	*fd_out = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return arca_error_errno(errno, "open %s", path);
	struct stat st;
	arca_err err = ARCA_OK;
	if (fstat(fd, &st) != 0)
		err = arca_error_errno(errno, "stat %s", path);
	else if (!S_ISREG(st.st_mode))
		err = arca_error_set(ARCA_EINVALID, "%s: not a regular file", path);
	if (err < 0) {
		close(fd);
		return err;
	}
	*fd_out = fd;
	*size_out = (uint64_t)st.st_size;
	return ARCA_OK;
}

arca_err arca_io_stream(int fd, size_t block_size, arca_io_consume_fn consume, void *ctx,
	int (*progress)(uint64_t done, void *payload), void *payload, const char *verb,
	const char *what, uint64_t *done_out)
{
	*done_out = 0;
	unsigned char *buf = malloc(block_size);
	if (!buf)
		return arca_error_set(ARCA_ENOMEM, "%s %s: out of memory", verb, what);
	arca_err err = ARCA_OK;
	uint64_t done = 0;
	for (;;) {
		size_t got;
		if ((err = arca_io_read_full(fd, buf, block_size, &got, what)) < 0 || got == 0)
			break;
		if ((err = consume(ctx, buf, got)) < 0)
			break;
		done += got;
		if (progress && progress(done, payload)) {
			err = arca_error_set(ARCA_EINTERRUPTED, "%s %s: interrupted", verb, what);
			break;
		}
		if (got < block_size)
			break; /* read_full stops short only at the end */
	}
	free(buf);
	*done_out = done;
	return err;
}

arca_err arca_io_read_file(char **out, size_t *len_out, const char *path, size_t max_len)
{
	*out = NULL;
	int fd;
	uint64_t size;
	arca_err err = arca_io_open_regular(&fd, &size, path);
	if (err < 0)
		return err;
	char *buf = NULL;
	if (size > max_len) {
		err = arca_error_set(ARCA_EINVALID, "%s: %llu bytes, more than the %zu allowed", path,
			(unsigned long long)size, max_len);
		goto cleanup;
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		err = arca_error_set(ARCA_ENOMEM, "read %s: out of memory", path);
		goto cleanup;
	}
	size_t got = 0;
	if ((err = arca_io_read_full(fd, buf, (size_t)size, &got, path)) < 0)
		goto cleanup;
	buf[got] = '\0';
	*out = buf;
	buf = NULL;
	if (len_out)
		*len_out = got;
cleanup:
	free(buf);
	close(fd);
	return err;
}

arca_err arca_io_dir_is_empty(const char *path, int *empty_out)
{
	DIR *dir = opendir(path);
	if (!dir)
		return arca_error_errno(errno, "open directory %s", path);
	int empty = 1;
	struct dirent *e;
	while ((e = readdir(dir))) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			empty = 0;
			break;
		}
	}
	closedir(dir);
	*empty_out = empty;
	return ARCA_OK;
}

char *arca_io_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

arca_err arca_io_write_file(const char *path, const void *buf, size_t len, unsigned mode)
{
	char *dir = arca_io_dirname(path);
	if (!dir)
		return arca_error_set(ARCA_ENOMEM, "write %s: out of memory", path);
	arca_atomic_file f = ARCA_ATOMIC_FILE_INIT;
	arca_err err = arca_atomic_open(&f, dir, path);
	if (err == ARCA_OK)
		err = arca_atomic_write(&f, buf, len);
	if (err == ARCA_OK)
		err = arca_atomic_commit(&f, mode);
	arca_atomic_dispose(&f);
	free(dir);
	return err;
}

/* ----------------------------------------------------------------- atomic writer */

arca_err arca_atomic_open(arca_atomic_file *f, const char *tmp_dir, const char *final_path)
{
	f->fd = -1;
	f->tmp_path = NULL;
	f->final_path = final_path ? strdup(final_path) : NULL;
	if ((final_path && !f->final_path) || asprintf(&f->tmp_path, "%s/.arca-tmp-XXXXXX", tmp_dir) < 0) {
		f->tmp_path = NULL;
		arca_atomic_dispose(f);
		return arca_error_set(ARCA_ENOMEM, "write in %s: out of memory", tmp_dir);
	}
	f->fd = mkostemp(f->tmp_path, O_CLOEXEC);
	if (f->fd < 0) {
		arca_err err = arca_error_errno(errno, "create temporary file in %s", tmp_dir);
		free(f->tmp_path);
		f->tmp_path = NULL;
		arca_atomic_dispose(f);
		return err;
	}
	return ARCA_OK;
}

static const char *shown_name(const arca_atomic_file *f)
{
	return f->final_path ? f->final_path : f->tmp_path;
}

arca_err arca_atomic_write(arca_atomic_file *f, const void *buf, size_t len)
{
	return arca_io_write_all(f->fd, buf, len, shown_name(f));
}

arca_err arca_atomic_commit_to(arca_atomic_file *f, const char *final_path, unsigned mode)
{
	char *copy = strdup(final_path);
	if (!copy)
		return arca_error_set(ARCA_ENOMEM, "write %s: out of memory", final_path);
	free(f->final_path);
	f->final_path = copy;
	return arca_atomic_commit(f, mode);
}

arca_err arca_atomic_commit(arca_atomic_file *f, unsigned mode)
{
	arca_err err;
	if (!f->final_path)
		return arca_error_set(ARCA_EINVALID, "commit %s: no target path", f->tmp_path);
	if ((err = arca_io_fsync(f->fd, f->final_path)) < 0)
		return err;
	if (fchmod(f->fd, mode) != 0)
		return arca_error_errno(errno, "chmod %s", f->final_path);
	int fd = f->fd;
	f->fd = -1;
	if (close(fd) != 0)
		return arca_error_errno(errno, "close %s", f->final_path);
	/* rename last, so no reader ever sees a partial file */
	if (rename(f->tmp_path, f->final_path) != 0)
		return arca_error_errno(errno, "rename %s to %s", f->tmp_path, f->final_path);
	free(f->tmp_path);
	f->tmp_path = NULL;
	char *dir = arca_io_dirname(f->final_path);
	if (!dir)
		return arca_error_set(ARCA_ENOMEM, "fsync directory of %s: out of memory",
			f->final_path);
	err = arca_io_fsync_dir(dir);
	free(dir);
	return err;
}

void arca_atomic_dispose(arca_atomic_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp_path)
		unlink(f->tmp_path);
	free(f->tmp_path);
	free(f->final_path);
	f->fd = -1;
	f->tmp_path = NULL;
	f->final_path = NULL;
}
