/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/digest.h — content digests: streaming SHA-256 and SHA-1 through OpenSSL EVP (which
 * picks SHA-NI or AVX2 code at run time), git blob ids ("blob <len>\0" + bytes), hex
 * and base64 encoding, and a file hasher that reads in large blocks.
 *
 * A digest handle is owned by its creator and used by one thread at a time. Nothing here
 * prints or exits.
 */
#ifndef ARCA_DIGEST_H
#define ARCA_DIGEST_H

#include "arca/error.h"

#include <stddef.h>
#include <stdint.h>

#define ARCA_SHA256_LEN 32
#define ARCA_SHA1_LEN 20
#define ARCA_SHA256_HEX 65 /* 64 hex digits + NUL */
#define ARCA_SHA1_HEX 41

typedef enum { ARCA_DIGEST_SHA256, ARCA_DIGEST_SHA1 } arca_digest_kind;

typedef struct arca_digest arca_digest;

arca_err arca_digest_new(arca_digest **out, arca_digest_kind kind);

/* A SHA-1 already fed with the git blob header for content of `len` bytes; feeding exactly
 * `len` bytes then finishing gives the id `git hash-object` prints. */
arca_err arca_digest_new_gitblob(arca_digest **out, uint64_t len);

arca_err arca_digest_update(arca_digest *d, const void *buf, size_t len);

/* Writes the digest (32 or 20 bytes) and leaves the handle ready for a new message of the
 * same kind (a gitblob handle must be re-created for a new length). */
arca_err arca_digest_final(arca_digest *d, unsigned char *out);

void arca_digest_free(arca_digest *d);

/* One-shot helpers. */
arca_err arca_sha256_buffer(unsigned char out[ARCA_SHA256_LEN], const void *buf, size_t len);
/* The same as lowercase hex. */
arca_err arca_sha256_buffer_hex(char out[ARCA_SHA256_HEX], const void *buf, size_t len);
arca_err arca_gitblob_buffer(unsigned char out[ARCA_SHA1_LEN], const void *buf, size_t len);

/* Lowercase hex of n bytes into out (2n+1 bytes with the NUL). */
void arca_hex_encode(char *out, const unsigned char *in, size_t n);

/* Exactly 2n hex digits (either case) into n bytes; ARCA_EINVALID otherwise. */
arca_err arca_hex_decode(unsigned char *out, size_t n, const char *hex);

/* True when s is exactly `digits` lowercase hex digits. */
int arca_hex_is_lower(const char *s, size_t digits);

/* Standard base64 with padding (RFC 4648 §4), no line breaks, through OpenSSL's block
 * coder: malloc'ed and NUL-terminated; NULL when out of memory or too long. */
char *arca_base64_encode(const void *data, size_t len);

/* Strict decoding of the same: length a multiple of 4, the alphabet only, '=' only as the
 * last one or two characters. malloc'ed (*len_out bytes); NULL with *malformed = 1 when
 * the text is not that, *malformed = 0 when out of memory. */
unsigned char *arca_base64_decode(const char *text, size_t n, size_t *len_out,
	int *malformed);

/* Digests of a whole file, computed in one pass. */
typedef struct {
	uint64_t size;
	char sha256[ARCA_SHA256_HEX];
	char git_sha1[ARCA_SHA1_HEX]; /* "" unless ARCA_HASH_GIT_SHA1 was asked */
} arca_file_digests;

enum { ARCA_HASH_GIT_SHA1 = 1 };

/* Progress while hashing: bytes done so far of this file. Return non-zero to stop
 * (the hasher then returns ARCA_EINTERRUPTED). */
typedef int (*arca_hash_progress_cb)(uint64_t done, void *payload);

/* Hashes the file at `path`, reading in large blocks. Fails ARCA_EIO if the file changes
 * size while it is read. */
arca_err arca_hash_file(arca_file_digests *out, const char *path, unsigned flags,
	arca_hash_progress_cb progress, void *payload);

/* Same for an open descriptor (read from its current offset to the end). */
arca_err arca_hash_fd(arca_file_digests *out, int fd, const char *what, unsigned flags,
	arca_hash_progress_cb progress, void *payload);

/* The read block size the hashers use (8 MiB). */
#define ARCA_HASH_BLOCK (8u << 20)

#endif
