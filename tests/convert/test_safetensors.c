/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/convert/test_safetensors.c — the safetensors reader on a valid file written by our
 * writer, and on one table of malformed files: each must fail with ARCA_ECORRUPT and a
 * message naming the file (and the tensor where there is one), never crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/safetensors.h"
#include "support.h"

static void test_write_then_read(void **state)
{
	(void)state;
	arca_st_spec specs[] = {
		{ "model.embed_tokens.weight", ARCA_ST_BF16, 2, { 4, 8 } },
		{ "model.norm.weight", ARCA_ST_F32, 1, { 8 } },
		{ "empty", ARCA_ST_F16, 2, { 0, 3 } },
		{ "scalar", ARCA_ST_I64, 0, { 0 } },
	};
	t_buffer b = { 0 };
	uint64_t data_bytes;
	assert_int_equal(arca_safetensors_write_header(t_buffer_sink, &b, specs, 4,
		"{\"format\":\"pt\"}", &data_bytes), ARCA_OK);
	assert_int_equal(b.len % 8, 0);
	assert_int_equal(data_bytes, 4 * 8 * 2 + 8 * 4 + 0 + 8);
	for (uint64_t i = 0; i < data_bytes; i++) {
		unsigned char byte = (unsigned char)i;
		t_buffer_sink(&b, &byte, 1);
	}
	arca_safetensors *st;
	if (arca_safetensors_open_buffer(&st, b.data, b.len, "mem.safetensors") != ARCA_OK)
		fail_msg("%s", arca_error_last());
	assert_int_equal(arca_safetensors_count(st), 4);
	const arca_st_tensor *t = arca_safetensors_find(st, "model.norm.weight");
	assert_non_null(t);
	assert_int_equal(t->dtype, ARCA_ST_F32);
	assert_int_equal(t->n_dims, 1);
	assert_int_equal(t->shape[0], 8);
	assert_int_equal(t->begin, 64);
	assert_int_equal(((const unsigned char *)arca_safetensors_data(st, t))[0], 64);
	t = arca_safetensors_find(st, "scalar");
	assert_int_equal(t->n_dims, 0);
	assert_int_equal(t->n_elements, 1);
	t = arca_safetensors_find(st, "empty");
	assert_int_equal(t->n_elements, 0);
	assert_string_equal(arca_safetensors_metadata(st), "{\"format\":\"pt\"}");
	assert_null(arca_safetensors_find(st, "nope"));
	arca_safetensors_free(st);
	free(b.data);
}

/* A file from a header text and a data length. */
static t_buffer make(const char *header, size_t data_len)
{
	t_buffer b = { 0 };
	size_t n = strlen(header);
	unsigned char prefix[8];
	for (int i = 0; i < 8; i++)
		prefix[i] = (unsigned char)((uint64_t)n >> (8 * i));
	t_buffer_sink(&b, prefix, 8);
	t_buffer_sink(&b, header, n);
	for (size_t i = 0; i < data_len; i++) {
		unsigned char z = 0;
		t_buffer_sink(&b, &z, 1);
	}
	return b;
}

static const struct {
	const char *header;
	size_t data_len;
	const char *reason;
} bad[] = {
	{ "[1,2]", 0, "not a JSON object" },
	{ "{\"a\":", 0, "header JSON" },
	{ "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
	  "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate" },
	{ "{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype" },
	{ "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape[0]" },
	{ "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4, "shape[0]" },
	{ "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.0,4]}}", 4, "data_offsets" },
	{ "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "data_offsets" },
	{ "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "make 8 bytes" },
	{ "{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2, "whole bytes" },
	{ "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "a hole" },
	{ "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
	  "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "overlapping" },
	{ "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 3, "truncated" },
	{ "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 9, "trailing bytes" },
	{ "{\"w\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296,4294967296],"
	  "\"data_offsets\":[0,4]}}", 4, "overflows" },
	{ "{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
	  "dimensions" },
	{ "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
	  "exactly dtype" },
	{ "{\"__metadata__\":{\"format\":1}}", 0, "is not a string" },
	{ "{\"__metadata__\":[]}", 0, "not an object" },
	{ "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 4,
	  "header JSON" },
	{ " {}", 0, "does not start with" },
	{ "{\"\xff\xfe\":{}}", 0, "header JSON" },
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t_buffer b = make(bad[i].header, bad[i].data_len);
		arca_safetensors *st = NULL;
		arca_err err = arca_safetensors_open_buffer(&st, b.data, b.len, "bad.safetensors");
		if (err != ARCA_ECORRUPT)
			fail_msg("case %zu (%s) gave %d", i, bad[i].reason, err);
		assert_null(st);
		assert_error_mentions("bad.safetensors");
		if (!strstr(arca_error_last(), bad[i].reason))
			fail_msg("case %zu: '%s' lacks '%s'", i, arca_error_last(), bad[i].reason);
		free(b.data);
	}
}

static void test_lengths(void **state)
{
	(void)state;
	arca_safetensors *st;
	unsigned char tiny[7] = { 0 };
	assert_int_equal(arca_safetensors_open_buffer(&st, tiny, 7, "t"), ARCA_ECORRUPT);
	assert_error_mentions("too small");
	unsigned char huge[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}' };
	assert_int_equal(arca_safetensors_open_buffer(&st, huge, 16, "t"), ARCA_ECORRUPT);
	assert_error_mentions("100 MB limit");
	unsigned char past[16] = { 100, 0, 0, 0, 0, 0, 0, 0, '{', '}' };
	assert_int_equal(arca_safetensors_open_buffer(&st, past, 16, "t"), ARCA_ECORRUPT);
	assert_error_mentions("past the end");
}

static void test_dtypes(void **state)
{
	(void)state;
	arca_st_dtype d;
	assert_int_equal(arca_st_dtype_from_name(&d, "BF16"), ARCA_OK);
	assert_int_equal(d, ARCA_ST_BF16);
	assert_int_equal(arca_st_dtype_bits(ARCA_ST_F8_E4M3), 8);
	assert_int_equal(arca_st_dtype_bits(ARCA_ST_F6_E2M3), 6);
	assert_string_equal(arca_st_dtype_name(ARCA_ST_U64), "U64");
	assert_int_equal(arca_st_dtype_from_name(&d, "bf16"), ARCA_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_then_read),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_dtypes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
