/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/verify/test_digest.c — SHA-256, SHA-1, git blob ids and hex against published
 * vectors, streaming in odd pieces, and whole-file hashing including a sparse file larger
 * than 4 GiB (whose expected digests were computed with sha256sum and git hash-object).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arca/digest.h"
#include "support.h"

static const struct {
	const char *input;
	const char *sha256;
	const char *git_sha1;
} vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"f2ba8f84ab5c1bce84a7b441cb1959cfc7093b7f" },
	{ "Hello, World!", "dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f",
		"b45ef6fec89518d314f546fd6c3025367b721684" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		"199f24ed041a6af4d09fa175444712eb1849af8d" },
};

static void test_buffer_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		unsigned char raw[32];
		char hex[65];
		const char *in = vectors[i].input;
		assert_int_equal(arca_sha256_buffer(raw, in, strlen(in)), ARCA_OK);
		arca_hex_encode(hex, raw, 32);
		assert_string_equal(hex, vectors[i].sha256);
		assert_int_equal(arca_gitblob_buffer(raw, in, strlen(in)), ARCA_OK);
		arca_hex_encode(hex, raw, 20);
		assert_string_equal(hex, vectors[i].git_sha1);
	}
}

static void test_streaming_in_pieces(void **state)
{
	(void)state;
	/* one million 'a': the FIPS 180-2 long vector, fed in pieces of awkward sizes */
	arca_digest *d;
	assert_int_equal(arca_digest_new(&d, ARCA_DIGEST_SHA256), ARCA_OK);
	char chunk[997];
	memset(chunk, 'a', sizeof(chunk));
	size_t left = 1000000;
	while (left) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
		assert_int_equal(arca_digest_update(d, chunk, n), ARCA_OK);
		left -= n;
	}
	unsigned char raw[32];
	char hex[65];
	assert_int_equal(arca_digest_final(d, raw), ARCA_OK);
	arca_hex_encode(hex, raw, 32);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* the handle is ready for a new message after final */
	assert_int_equal(arca_digest_update(d, "abc", 3), ARCA_OK);
	assert_int_equal(arca_digest_final(d, raw), ARCA_OK);
	arca_hex_encode(hex, raw, 32);
	assert_string_equal(hex, vectors[1].sha256);
	arca_digest_free(d);
	arca_digest_free(NULL);
}

static void test_sha1_plain(void **state)
{
	(void)state;
	arca_digest *d;
	assert_int_equal(arca_digest_new(&d, ARCA_DIGEST_SHA1), ARCA_OK);
	assert_int_equal(arca_digest_update(d, "abc", 3), ARCA_OK);
	unsigned char raw[20];
	char hex[41];
	assert_int_equal(arca_digest_final(d, raw), ARCA_OK);
	arca_hex_encode(hex, raw, 20);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	arca_digest_free(d);
}

/* RFC 4648 §10's vectors both ways; malformed text (length, alphabet, '=' not at the end,
 * whitespace OpenSSL would skip) is refused. */
static void test_base64(void **state)
{
	(void)state;
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
		"Zm9vYmFy" };
	for (size_t i = 0; i < 7; i++) {
		char *e = arca_base64_encode(plain[i], strlen(plain[i]));
		assert_non_null(e);
		assert_string_equal(e, coded[i]);
		free(e);
		size_t len;
		int malformed;
		unsigned char *d = arca_base64_decode(coded[i], strlen(coded[i]), &len, &malformed);
		assert_non_null(d);
		assert_int_equal(malformed, 0);
		assert_int_equal(len, strlen(plain[i]));
		assert_memory_equal(d, plain[i], len);
		free(d);
	}
	static const char *const bad[] = { "Zm9", "Zm=v", "Z===", " Zm9v", "Zm9v\n", "Zm9-",
		"Zm\0v" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len;
		int malformed = 0;
		assert_null(arca_base64_decode(bad[i], 4 + (i == 4), &len, &malformed));
		assert_int_equal(malformed, 1);
	}
}

static void test_hex(void **state)
{
	(void)state;
	unsigned char out[4];
	assert_int_equal(arca_hex_decode(out, 4, "00fFa5C3"), ARCA_OK);
	assert_int_equal(out[0], 0x00);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(out[2], 0xa5);
	assert_int_equal(out[3], 0xc3);
	static const char *const bad[] = { "00ff", "00ffa5c3aa", "00ffa5cg", "", "zzzzzzzz" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(arca_hex_decode(out, 4, bad[i]), ARCA_EINVALID);
		assert_error_mentions("hex");
	}
	assert_true(arca_hex_is_lower("00ff", 4));
	assert_false(arca_hex_is_lower("00FF", 4));
	assert_false(arca_hex_is_lower("00ff0", 4));
	assert_false(arca_hex_is_lower("00f", 4));
}

static void test_hash_file_matches_sha256sum(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	/* 20 MiB + 3 bytes of a pattern: crosses several 8 MiB read blocks */
	size_t len = (20u << 20) + 3;
	char *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i * 2654435761u >> 13);
	t_write_file(dir, "blob.bin", buf, len);
	free(buf);
	char *path = t_path(dir, "blob.bin");
	arca_file_digests d;
	assert_int_equal(arca_hash_file(&d, path, ARCA_HASH_GIT_SHA1, NULL, NULL), ARCA_OK);
	assert_int_equal(d.size, len);
	char *expect = t_shell_line("sha256sum '%s' | cut -d' ' -f1", path);
	assert_string_equal(d.sha256, expect);
	free(expect);
	expect = t_git_blob_id(path);
	assert_string_equal(d.git_sha1, expect);
	free(expect);
	free(path);
	t_remove_tree(dir);
	free(dir);
}

static void test_hash_file_errors(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	arca_file_digests d;
	char *missing = t_path(dir, "nope");
	assert_int_equal(arca_hash_file(&d, missing, 0, NULL, NULL), ARCA_ENOTFOUND);
	assert_error_mentions(missing);
	assert_int_equal(arca_hash_file(&d, dir, 0, NULL, NULL), ARCA_EINVALID);
	assert_error_mentions("not a regular file");
	free(missing);
	t_remove_tree(dir);
	free(dir);
}

static int stop_early(uint64_t done, void *payload)
{
	(void)done;
	return ++*(int *)payload >= 1;
}

static void test_hash_interrupted(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	char *path = t_path(dir, "big");
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3 * ARCA_HASH_BLOCK), 0);
	close(fd);
	arca_file_digests d;
	int calls = 0;
	assert_int_equal(arca_hash_file(&d, path, 0, stop_early, &calls), ARCA_EINTERRUPTED);
	free(path);
	t_remove_tree(dir);
	free(dir);
}

/* 4 GiB + 5 bytes of zeros as a sparse file: the git header length no longer fits 32 bits.
 * Expected values from `sha256sum` and `git hash-object` on the same file. */
static void test_sparse_over_4gib(void **state)
{
	(void)state;
	char *dir = t_tempdir();
	char *path = t_path(dir, "sparse");
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4294967301LL), 0);
	close(fd);
	arca_file_digests d;
	assert_int_equal(arca_hash_file(&d, path, ARCA_HASH_GIT_SHA1, NULL, NULL), ARCA_OK);
	assert_int_equal(d.size, 4294967301ULL);
	assert_string_equal(d.sha256,
		"709fc0b74f7c916cedccb212d681c035f36ffbb31ebfe806eb40c31592744eb5");
	assert_string_equal(d.git_sha1, "1ce1580d0aa2ce166dba06ac4cce6c9e2d51520f");
	free(path);
	t_remove_tree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buffer_vectors),
		cmocka_unit_test(test_streaming_in_pieces),
		cmocka_unit_test(test_sha1_plain),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_hash_file_matches_sha256sum),
		cmocka_unit_test(test_hash_file_errors),
		cmocka_unit_test(test_hash_interrupted),
		cmocka_unit_test(test_sparse_over_4gib),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
