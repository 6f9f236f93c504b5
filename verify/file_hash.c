/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/file_hash.c — hashing whole files: one sequential pass in ARCA_HASH_BLOCK reads,
 * SHA-256 always and the git blob SHA-1 on request, with the size checked against fstat so
 * a file that grows or shrinks under us is an error, not a wrong digest.
 */
#include "arca/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"

typedef struct {
	arca_digest *sha256, *sha1;
} digests;

static arca_err hash_block(void *ctx, const void *buf, size_t len)
{
	digests *d = ctx;
	arca_err err = arca_digest_update(d->sha256, buf, len);
	if (err == ARCA_OK && d->sha1)
		err = arca_digest_update(d->sha1, buf, len);
	return err;
}

arca_err arca_hash_fd(arca_file_digests *out, int fd, const char *what, unsigned flags,
	arca_hash_progress_cb progress, void *payload)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return arca_error_errno(errno, "stat %s", what);
	off_t start = lseek(fd, 0, SEEK_CUR);
	if (start < 0)
		start = 0;
	uint64_t expect = st.st_size > start ? (uint64_t)(st.st_size - start) : 0;
	posix_fadvise(fd, start, 0, POSIX_FADV_SEQUENTIAL);

	digests d = { NULL, NULL };
	arca_err err;
	if ((err = arca_digest_new(&d.sha256, ARCA_DIGEST_SHA256)) < 0)
		goto cleanup;
	if ((flags & ARCA_HASH_GIT_SHA1) && (err = arca_digest_new_gitblob(&d.sha1, expect)) < 0)
		goto cleanup;
	uint64_t done;
	if ((err = arca_io_stream(fd, ARCA_HASH_BLOCK, hash_block, &d, progress, payload, "hash",
			what, &done)) < 0)
		goto cleanup;
	if (done != expect) {
		err = arca_error_set(ARCA_EIO, "hash %s: file changed size while being read "
			"(%llu bytes expected, %llu read)", what, (unsigned long long)expect,
			(unsigned long long)done);
		goto cleanup;
	}
	unsigned char raw[ARCA_SHA256_LEN];
	if ((err = arca_digest_final(d.sha256, raw)) < 0)
		goto cleanup;
	arca_hex_encode(out->sha256, raw, ARCA_SHA256_LEN);
	out->git_sha1[0] = '\0';
	if (d.sha1) {
		if ((err = arca_digest_final(d.sha1, raw)) < 0)
			goto cleanup;
		arca_hex_encode(out->git_sha1, raw, ARCA_SHA1_LEN);
	}
	out->size = done;
cleanup:
	arca_digest_free(d.sha256);
	arca_digest_free(d.sha1);
	return err;
}

arca_err arca_hash_file(arca_file_digests *out, const char *path, unsigned flags,
	arca_hash_progress_cb progress, void *payload)
{
	int fd;
	uint64_t size;
	arca_err err = arca_io_open_regular(&fd, &size, path);
	if (err < 0)
		return err;
	err = arca_hash_fd(out, fd, path, flags, progress, payload);
	close(fd);
	return err;
}
