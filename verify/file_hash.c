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

	arca_digest *sha256 = NULL, *sha1 = NULL;
	unsigned char *buf = NULL;
	arca_err err;
	if ((err = arca_digest_new(&sha256, ARCA_DIGEST_SHA256)) < 0)
		goto cleanup;
	if ((flags & ARCA_HASH_GIT_SHA1) && (err = arca_digest_new_gitblob(&sha1, expect)) < 0)
		goto cleanup;
	buf = malloc(ARCA_HASH_BLOCK);
	if (!buf) {
		err = arca_error_set(ARCA_ENOMEM, "hash %s: out of memory", what);
		goto cleanup;
	}
	uint64_t done = 0;
	for (;;) {
		size_t got;
		if ((err = arca_io_read_full(fd, buf, ARCA_HASH_BLOCK, &got, what)) < 0)
			goto cleanup;
		if (got == 0)
			break;
		if ((err = arca_digest_update(sha256, buf, got)) < 0)
			goto cleanup;
		if (sha1 && (err = arca_digest_update(sha1, buf, got)) < 0)
			goto cleanup;
		done += got;
		if (progress && progress(done, payload)) {
			err = arca_error_set(ARCA_EINTERRUPTED, "hash %s: interrupted", what);
			goto cleanup;
		}
		if (got < ARCA_HASH_BLOCK)
			break;
	}
	if (done != expect) {
		err = arca_error_set(ARCA_EIO, "hash %s: file changed size while being read "
			"(%llu bytes expected, %llu read)", what, (unsigned long long)expect,
			(unsigned long long)done);
		goto cleanup;
	}
	unsigned char raw[ARCA_SHA256_LEN];
	if ((err = arca_digest_final(sha256, raw)) < 0)
		goto cleanup;
	arca_hex_encode(out->sha256, raw, ARCA_SHA256_LEN);
	out->git_sha1[0] = '\0';
	if (sha1) {
		if ((err = arca_digest_final(sha1, raw)) < 0)
			goto cleanup;
		arca_hex_encode(out->git_sha1, raw, ARCA_SHA1_LEN);
	}
	out->size = done;
cleanup:
	free(buf);
	arca_digest_free(sha256);
	arca_digest_free(sha1);
	return err;
}

arca_err arca_hash_file(arca_file_digests *out, const char *path, unsigned flags,
	arca_hash_progress_cb progress, void *payload)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return arca_error_errno(errno, "open %s", path);
	struct stat st;
	arca_err err;
	if (fstat(fd, &st) != 0)
		err = arca_error_errno(errno, "stat %s", path);
	else if (!S_ISREG(st.st_mode))
		err = arca_error_set(ARCA_EINVALID, "%s: not a regular file", path);
	else
		err = arca_hash_fd(out, fd, path, flags, progress, payload);
	close(fd);
	return err;
}
