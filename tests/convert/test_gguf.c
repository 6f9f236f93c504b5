/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/convert/test_gguf.c — the GGUF writer and reader. A file our writer makes reads
 * back with every key, type and offset; files built byte by byte here (not with our writer)
 * check the reader's layout against the format, and a table of malformed files must each
 * fail with a clear error naming the file, never crash or read out of bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "arca/quant.h"
#include "support.h"

/* ------------------------------------------------------------ a byte builder */

static void put(t_buffer *b, const void *p, size_t n) { t_buffer_sink(b, p, n); }
static void put_u32(t_buffer *b, uint32_t v)
{
	unsigned char x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	put(b, x, 4);
}
static void put_u64(t_buffer *b, uint64_t v)
{
	unsigned char x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	put(b, x, 8);
}
static void put_str(t_buffer *b, const char *s)
{
	put_u64(b, strlen(s));
	put(b, s, strlen(s));
}
static void put_header(t_buffer *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
	put(b, "GGUF", 4);
	put_u32(b, version);
	put_u64(b, n_tensors);
	put_u64(b, n_kv);
}
static void put_kv_u32(t_buffer *b, const char *key, uint32_t v)
{
	put_str(b, key);
	put_u32(b, ARCA_GGUF_U32);
	put_u32(b, v);
}
static void put_kv_str(t_buffer *b, const char *key, const char *v)
{
	put_str(b, key);
	put_u32(b, ARCA_GGUF_STRING);
	put_str(b, v);
}
static void put_tinfo(t_buffer *b, const char *name, uint32_t n_dims, const uint64_t *ne,
	uint32_t type, uint64_t offset)
{
	put_str(b, name);
	put_u32(b, n_dims);
	for (uint32_t d = 0; d < n_dims; d++)
		put_u64(b, ne[d]);
	put_u32(b, type);
	put_u64(b, offset);
}
static void pad_to(t_buffer *b, size_t align)
{
	static const unsigned char zero[64];
	while (b->len % align)
		put(b, zero, 1);
}
static void put_zeros(t_buffer *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(b, "", 1);
}

/* ------------------------------------------------------------ writer round trip */

static void test_write_then_read(void **state)
{
	(void)state;
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	assert_int_equal(arca_gguf_add_str(w, "general.architecture", "qwen3"), ARCA_OK);
	assert_int_equal(arca_gguf_add_u32(w, "qwen3.block_count", 2), ARCA_OK);
	assert_int_equal(arca_gguf_add_i32(w, "x.neg", -7), ARCA_OK);
	assert_int_equal(arca_gguf_add_u64(w, "x.big", 1ULL << 40), ARCA_OK);
	assert_int_equal(arca_gguf_add_f32(w, "x.eps", 1e-6f), ARCA_OK);
	assert_int_equal(arca_gguf_add_bool(w, "x.flag", 1), ARCA_OK);
	const char *toks[] = { "a", "", "\xe4\xbd\xa0" };
	assert_int_equal(arca_gguf_add_arr_str(w, "tokenizer.ggml.tokens", toks, 3), ARCA_OK);
	float scores[] = { 0.5f, -1.0f, 2.0f };
	assert_int_equal(arca_gguf_add_arr(w, "tokenizer.ggml.scores", ARCA_GGUF_F32, scores, 3),
		ARCA_OK);
	/* a key may not appear twice */
	assert_int_equal(arca_gguf_add_u32(w, "qwen3.block_count", 3), ARCA_EINVALID);
	assert_true(arca_gguf_writer_has_key(w, "x.flag"));

	uint64_t ne_a[] = { 64, 3 }, ne_b[] = { 5 }, ne_c[] = { 256, 2 };
	assert_int_equal(arca_gguf_add_tensor(w, "a.weight", 2, ne_a, ARCA_GGML_Q8_0), ARCA_OK);
	assert_int_equal(arca_gguf_add_tensor(w, "b.bias", 1, ne_b, ARCA_GGML_F32), ARCA_OK);
	assert_int_equal(arca_gguf_add_tensor(w, "c.weight", 2, ne_c, ARCA_GGML_Q4_K), ARCA_OK);
	/* names are unique and ne[0] holds whole blocks */
	assert_int_not_equal(arca_gguf_add_tensor(w, "b.bias", 1, ne_b, ARCA_GGML_F32), ARCA_OK);
	uint64_t ne_bad[] = { 33 };
	assert_int_not_equal(arca_gguf_add_tensor(w, "d", 1, ne_bad, ARCA_GGML_Q8_0), ARCA_OK);
	assert_int_equal(arca_gguf_writer_tensor_count(w), 3);
	assert_int_equal(arca_gguf_writer_tensor_bytes(w, 0), 3 * 2 * 34);
	assert_int_equal(arca_gguf_writer_tensor_bytes(w, 1), 20);
	assert_int_equal(arca_gguf_writer_tensor_bytes(w, 2), 2 * 144);

	t_buffer b = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &b), ARCA_OK);
	assert_int_equal(b.len % 32, 0);
	unsigned char payload[1024];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)(i * 7 + 1);
	assert_int_equal(arca_gguf_write_tensor_data(w, t_buffer_sink, &b, 0, payload, 204), ARCA_OK);
	/* the streaming form, in two pieces */
	assert_int_equal(arca_gguf_tensor_begin(w, 1), ARCA_OK);
	assert_int_equal(arca_gguf_tensor_write(w, t_buffer_sink, &b, payload + 300, 12), ARCA_OK);
	assert_int_equal(arca_gguf_tensor_write(w, t_buffer_sink, &b, payload + 312, 8), ARCA_OK);
	assert_int_equal(arca_gguf_tensor_end(w, t_buffer_sink, &b), ARCA_OK);
	/* out of order, or longer than the tensor, is refused */
	assert_int_equal(arca_gguf_write_tensor_data(w, t_buffer_sink, &b, 0, payload, 204),
		ARCA_EINVALID);
	assert_int_equal(arca_gguf_tensor_begin(w, 2), ARCA_OK);
	assert_int_equal(arca_gguf_tensor_write(w, t_buffer_sink, &b, payload + 500, 289),
		ARCA_EINVALID);
	assert_int_equal(arca_gguf_tensor_write(w, t_buffer_sink, &b, payload + 500, 288), ARCA_OK);
	assert_int_equal(arca_gguf_tensor_end(w, t_buffer_sink, &b), ARCA_OK);
	assert_int_equal(b.len, arca_gguf_writer_file_size(w));
	arca_gguf_writer_free(w);

	/* a tensor cut short is refused when it ends */
	arca_gguf_writer *w2;
	t_buffer b2 = { 0 };
	assert_int_equal(arca_gguf_writer_new(&w2, 32), ARCA_OK);
	assert_int_equal(arca_gguf_add_tensor(w2, "a", 2, ne_a, ARCA_GGML_Q8_0), ARCA_OK);
	assert_int_equal(arca_gguf_write_header(w2, t_buffer_sink, &b2), ARCA_OK);
	assert_int_equal(arca_gguf_write_tensor_data(w2, t_buffer_sink, &b2, 0, payload, 100),
		ARCA_EINVALID);
	arca_gguf_writer_free(w2);
	free(b2.data);

	arca_gguf *g;
	if (arca_gguf_open_buffer(&g, b.data, b.len, "mem.gguf") != ARCA_OK)
		fail_msg("%s", arca_error_last());
	assert_int_equal(arca_gguf_version(g), 3);
	assert_int_equal(arca_gguf_alignment(g), 32);
	assert_int_equal(arca_gguf_kv_count(g), 8);
	assert_string_equal(arca_gguf_vtype_name(arca_gguf_kv_at(g, 2)->type), "i32");
	assert_int_equal(arca_gguf_kv_at(g, 2)->v.i, -7);
	uint32_t u32;
	uint64_t u64;
	float f;
	int flag;
	char *s;
	assert_int_equal(arca_gguf_get_u32(g, "qwen3.block_count", &u32), ARCA_OK);
	assert_int_equal(u32, 2);
	assert_int_equal(arca_gguf_get_u64(g, "x.big", &u64), ARCA_OK);
	assert_int_equal(u64, 1ULL << 40);
	assert_int_equal(arca_gguf_get_u64(g, "qwen3.block_count", &u64), ARCA_OK); /* widened */
	assert_int_equal(u64, 2);
	assert_int_equal(arca_gguf_get_f32(g, "x.eps", &f), ARCA_OK);
	assert_true(f == 1e-6f);
	assert_int_equal(arca_gguf_get_bool(g, "x.flag", &flag), ARCA_OK);
	assert_int_equal(flag, 1);
	assert_int_equal(arca_gguf_get_str(g, "general.architecture", &s), ARCA_OK);
	assert_string_equal(s, "qwen3");
	free(s);
	/* wrong types and absent keys are errors, not asserts */
	assert_int_equal(arca_gguf_get_u32(g, "general.architecture", &u32), ARCA_EINVALID);
	assert_int_equal(arca_gguf_get_u32(g, "x.big", &u32), ARCA_EINVALID);
	assert_int_equal(arca_gguf_get_u32(g, "nope", &u32), ARCA_ENOTFOUND);
	const arca_gguf_kv *arr;
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.tokens", ARCA_GGUF_STRING, &arr),
		ARCA_OK);
	assert_int_equal(arr->n_elems, 3);
	assert_int_equal(arr->strs[1].len, 0);
	assert_memory_equal(arr->strs[2].ptr, "\xe4\xbd\xa0", 3);
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.tokens", ARCA_GGUF_F32, &arr),
		ARCA_EINVALID);
	assert_int_equal(arca_gguf_get_arr(g, "tokenizer.ggml.scores", ARCA_GGUF_F32, &arr),
		ARCA_OK);
	float s1;
	memcpy(&s1, arr->elems + 4, 4);
	assert_true(s1 == -1.0f);

	assert_int_equal(arca_gguf_tensor_count(g), 3);
	const arca_gguf_tensor *t = arca_gguf_find_tensor(g, "c.weight");
	assert_non_null(t);
	assert_int_equal(t->type, ARCA_GGML_Q4_K);
	assert_int_equal(t->n_dims, 2);
	assert_int_equal(t->ne[0], 256);
	assert_int_equal(t->ne[1], 2);
	assert_int_equal(t->ne[2], 1);
	assert_int_equal(t->nbytes, 288);
	assert_int_equal(t->offset, 224 + 32); /* 204 → 224, 20 → 32 */
	assert_memory_equal(arca_gguf_tensor_data(g, t), payload + 500, 288);
	t = arca_gguf_find_tensor(g, "b.bias");
	assert_memory_equal(arca_gguf_tensor_data(g, t), payload + 300, 20);
	/* padding is zeros */
	const unsigned char *pad = (const unsigned char *)arca_gguf_tensor_data(g, t) + 20;
	for (int i = 0; i < 12; i++)
		assert_int_equal(pad[i], 0);
	assert_null(arca_gguf_find_tensor(g, "nope"));
	arca_gguf_free(g);
	free(b.data);
}

/* A file built by hand from the format description: our reader finds the same layout. */
static void test_read_handmade(void **state)
{
	(void)state;
	t_buffer b = { 0 };
	put_header(&b, 3, 2, 2);
	put_kv_u32(&b, "general.alignment", 64);
	put_kv_str(&b, "general.name", "hand");
	uint64_t ne1[] = { 4, 2 }, ne2[] = { 32 };
	put_tinfo(&b, "w", 2, ne1, ARCA_GGML_F32, 0);
	put_tinfo(&b, "q", 1, ne2, ARCA_GGML_Q8_0, 64);
	pad_to(&b, 64);
	size_t data_at = b.len;
	for (int i = 0; i < 8; i++) {
		float v = (float)i;
		put(&b, &v, 4);
	}
	put_zeros(&b, 32);
	put_zeros(&b, 34);
	arca_gguf *g;
	if (arca_gguf_open_buffer(&g, b.data, b.len, "hand.gguf") != ARCA_OK)
		fail_msg("%s", arca_error_last());
	assert_int_equal(arca_gguf_alignment(g), 64);
	assert_int_equal(arca_gguf_data_offset(g), data_at);
	const arca_gguf_tensor *t = arca_gguf_tensor_at(g, 0);
	assert_string_equal(t->name, "w");
	assert_int_equal(t->nbytes, 32);
	float v3;
	memcpy(&v3, (const char *)arca_gguf_tensor_data(g, t) + 12, 4);
	assert_true(v3 == 3.0f);
	assert_int_equal(arca_gguf_tensor_at(g, 1)->nbytes, 34);
	arca_gguf_free(g);

	/* version 2 files are read too */
	b.data[4] = 2;
	assert_int_equal(arca_gguf_open_buffer(&g, b.data, b.len, "v2.gguf"), ARCA_OK);
	assert_int_equal(arca_gguf_version(g), 2);
	arca_gguf_free(g);
	free(b.data);
}

/* ------------------------------------------------------------ malformed files */

typedef struct {
	const char *name;
	void (*build)(t_buffer *b);
	arca_err expect;
	const char *mentions;
} bad_case;

static void one_tensor_file(t_buffer *b, uint32_t type, uint64_t ne0, uint64_t offset,
	size_t data_len)
{
	put_header(b, 3, 1, 0);
	put_tinfo(b, "t", 1, &ne0, type, offset);
	pad_to(b, 32);
	put_zeros(b, data_len);
}

static void b_empty(t_buffer *b) { put(b, "GG", 2); }
static void b_magic(t_buffer *b) { put(b, "GGML\3\0\0\0", 8); put_zeros(b, 16); }
static void b_swapped(t_buffer *b)
{
	put(b, "GGUF", 4);
	put(b, "\0\0\0\3", 4);
	put_zeros(b, 16);
}
static void b_future(t_buffer *b) { put_header(b, 4, 0, 0); }
static void b_v1(t_buffer *b) { put_header(b, 1, 0, 0); }
static void b_truncated_counts(t_buffer *b) { put(b, "GGUF\3\0\0\0\0\0", 10); }
static void b_negative_count(t_buffer *b) { put_header(b, 3, UINT64_MAX, 0); }
static void b_too_many_kv(t_buffer *b) { put_header(b, 3, 0, 1ULL << 40); }
static void b_too_many_tensors(t_buffer *b) { put_header(b, 3, 1ULL << 40, 0); }
static void b_key_lies(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_u64(b, 1ULL << 20); /* key length past the end */
	put(b, "abc", 3);
}
static void b_key_huge(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_u64(b, UINT64_MAX - 3);
	put_zeros(b, 16);
}
static void b_empty_key(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_str(b, "");
	put_u32(b, ARCA_GGUF_U32);
	put_u32(b, 1);
}
static void b_dup_key(t_buffer *b)
{
	put_header(b, 3, 0, 2);
	put_kv_u32(b, "general.x", 1);
	put_kv_u32(b, "general.x", 2);
}
static void b_unknown_vtype(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_str(b, "k");
	put_u32(b, 13);
	put_u32(b, 0);
}
static void b_nested_array(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_str(b, "k");
	put_u32(b, ARCA_GGUF_ARRAY);
	put_u32(b, ARCA_GGUF_ARRAY);
	put_u64(b, 1);
	put_zeros(b, 16);
}
static void b_array_lies(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_str(b, "k");
	put_u32(b, ARCA_GGUF_ARRAY);
	put_u32(b, ARCA_GGUF_U64);
	put_u64(b, 1000); /* 8000 bytes announced, 16 present */
	put_zeros(b, 16);
}
static void b_array_huge(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_str(b, "k");
	put_u32(b, ARCA_GGUF_ARRAY);
	put_u32(b, ARCA_GGUF_STRING);
	put_u64(b, 1ULL << 62);
	put_zeros(b, 16);
}
static void b_string_elem_lies(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_str(b, "k");
	put_u32(b, ARCA_GGUF_ARRAY);
	put_u32(b, ARCA_GGUF_STRING);
	put_u64(b, 2);
	put_str(b, "ok");
	put_u64(b, 99);
	put(b, "short", 5);
}
static void b_alignment_type(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_kv_str(b, "general.alignment", "32");
}
static void b_alignment_value(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_kv_u32(b, "general.alignment", 24);
}
static void b_alignment_zero(t_buffer *b)
{
	put_header(b, 3, 0, 1);
	put_kv_u32(b, "general.alignment", 0);
}
static void b_unknown_type(t_buffer *b) { one_tensor_file(b, 4, 32, 0, 64); } /* Q4_2: removed */
static void b_type_out_of_range(t_buffer *b) { one_tensor_file(b, 1000, 32, 0, 64); }
static void b_partial_block(t_buffer *b) { one_tensor_file(b, ARCA_GGML_Q8_0, 33, 0, 64); }
static void b_misplaced(t_buffer *b) { one_tensor_file(b, ARCA_GGML_F32, 4, 8, 64); }
static void b_data_short(t_buffer *b) { one_tensor_file(b, ARCA_GGML_F32, 16, 0, 60); }
static void b_no_data(t_buffer *b)
{
	uint64_t ne = 4;
	put_header(b, 3, 1, 0);
	put_tinfo(b, "t", 1, &ne, ARCA_GGML_F32, 0);
}
static void b_dims(t_buffer *b)
{
	uint64_t ne[5] = { 1, 1, 1, 1, 1 };
	put_header(b, 3, 1, 0);
	put_tinfo(b, "t", 5, ne, ARCA_GGML_F32, 0);
	put_zeros(b, 64);
}
static void b_zero_dims(t_buffer *b)
{
	put_header(b, 3, 1, 0);
	put_tinfo(b, "t", 0, NULL, ARCA_GGML_F32, 0);
	put_zeros(b, 64);
}
static void b_negative_ne(t_buffer *b)
{
	uint64_t ne[2] = { 4, UINT64_MAX };
	put_header(b, 3, 1, 0);
	put_tinfo(b, "t", 2, ne, ARCA_GGML_F32, 0);
	put_zeros(b, 64);
}
static void b_overflow(t_buffer *b)
{
	uint64_t ne[4] = { 1ULL << 20, 1ULL << 20, 1ULL << 20, 1ULL << 20 };
	put_header(b, 3, 1, 0);
	put_tinfo(b, "t", 4, ne, ARCA_GGML_F32, 0);
	put_zeros(b, 64);
}
static void b_long_name(t_buffer *b)
{
	char name[80];
	memset(name, 'n', 64);
	name[64] = 0;
	uint64_t ne = 4;
	put_header(b, 3, 1, 0);
	put_tinfo(b, name, 1, &ne, ARCA_GGML_F32, 0);
	pad_to(b, 32);
	put_zeros(b, 32);
}
static void b_dup_tensor(t_buffer *b)
{
	uint64_t ne = 8;
	put_header(b, 3, 2, 0);
	put_tinfo(b, "t", 1, &ne, ARCA_GGML_F32, 0);
	put_tinfo(b, "t", 1, &ne, ARCA_GGML_F32, 32);
	pad_to(b, 32);
	put_zeros(b, 64);
}
static void b_overlap(t_buffer *b)
{
	uint64_t ne = 16;
	put_header(b, 3, 2, 0);
	put_tinfo(b, "a", 1, &ne, ARCA_GGML_F32, 0);
	put_tinfo(b, "b", 1, &ne, ARCA_GGML_F32, 32); /* a is 64 bytes long */
	pad_to(b, 32);
	put_zeros(b, 128);
}
static void b_nul_in_name(t_buffer *b)
{
	uint64_t ne = 4;
	put_header(b, 3, 1, 0);
	put_u64(b, 3);
	put(b, "a\0b", 3);
	put_u32(b, 1);
	put_u64(b, ne);
	put_u32(b, ARCA_GGML_F32);
	put_u64(b, 0);
	pad_to(b, 32);
	put_zeros(b, 32);
}

static const bad_case bad_cases[] = {
	{ "too short for a magic", b_empty, ARCA_ECORRUPT, "no GGUF magic" },
	{ "GGML magic", b_magic, ARCA_ECORRUPT, "no GGUF magic" },
	{ "big-endian", b_swapped, ARCA_ECORRUPT, "byte-swapped" },
	{ "version 4", b_future, ARCA_EVERSION, "version 4" },
	{ "version 1", b_v1, ARCA_ECORRUPT, "version 1" },
	{ "counts cut off", b_truncated_counts, ARCA_ECORRUPT, "bad.gguf" },
	{ "negative count", b_negative_count, ARCA_ECORRUPT, "negative" },
	{ "2^40 keys", b_too_many_kv, ARCA_ECORRUPT, "cannot fit" },
	{ "2^40 tensors", b_too_many_tensors, ARCA_ECORRUPT, "cannot fit" },
	{ "key length past the end", b_key_lies, ARCA_ECORRUPT, "bad.gguf" },
	{ "key length near 2^64", b_key_huge, ARCA_ECORRUPT, "bad.gguf" },
	{ "empty key", b_empty_key, ARCA_ECORRUPT, "empty" },
	{ "duplicate key", b_dup_key, ARCA_ECORRUPT, "appears twice" },
	{ "unknown value type", b_unknown_vtype, ARCA_ECORRUPT, "unknown type" },
	{ "array of arrays", b_nested_array, ARCA_ECORRUPT, "arrays of arrays" },
	{ "array longer than the file", b_array_lies, ARCA_ECORRUPT, "bad.gguf" },
	{ "array of 2^62 strings", b_array_huge, ARCA_ECORRUPT, "bad.gguf" },
	{ "string element past the end", b_string_elem_lies, ARCA_ECORRUPT, "bad.gguf" },
	{ "alignment as a string", b_alignment_type, ARCA_ECORRUPT, "alignment" },
	{ "alignment 24", b_alignment_value, ARCA_ECORRUPT, "power of two" },
	{ "alignment 0", b_alignment_zero, ARCA_ECORRUPT, "power of two" },
	{ "removed type Q4_2", b_unknown_type, ARCA_ECORRUPT, "type 4" },
	{ "type 1000", b_type_out_of_range, ARCA_ECORRUPT, "type 1000" },
	{ "partial block", b_partial_block, ARCA_ECORRUPT, "block size" },
	{ "misplaced tensor", b_misplaced, ARCA_ECORRUPT, "offset 8" },
	{ "data cut short", b_data_short, ARCA_ECORRUPT, "past the end" },
	{ "no data section", b_no_data, ARCA_ECORRUPT, "bad.gguf" },
	{ "five dimensions", b_dims, ARCA_ECORRUPT, "dimensions" },
	{ "zero dimensions", b_zero_dims, ARCA_ECORRUPT, "dimensions" },
	{ "negative dimension", b_negative_ne, ARCA_ECORRUPT, "negative" },
	{ "size overflow", b_overflow, ARCA_ECORRUPT, "overflow" },
	{ "name of 64 bytes", b_long_name, ARCA_ECORRUPT, "name of 64 bytes" },
	{ "duplicate tensor", b_dup_tensor, ARCA_ECORRUPT, "appears twice" },
	{ "overlapping tensors", b_overlap, ARCA_ECORRUPT, "expected 64" },
	{ "NUL in a tensor name", b_nul_in_name, ARCA_ECORRUPT, "bad.gguf" },
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const bad_case *c = &bad_cases[i];
		t_buffer b = { 0 };
		c->build(&b);
		/* an exact-size copy so ASan sees any read past the end */
		unsigned char *copy = malloc(b.len ? b.len : 1);
		memcpy(copy, b.data, b.len);
		arca_gguf *g = (arca_gguf *)1;
		arca_err err = arca_gguf_open_buffer(&g, copy, b.len, "bad.gguf");
		if (err != c->expect)
			fail_msg("%s: got %d (%s), expected %d", c->name, err,
				err ? arca_error_last() : "accepted", c->expect);
		assert_null(g);
		if (!strstr(arca_error_last(), c->mentions))
			fail_msg("%s: message '%s' does not mention '%s'", c->name, arca_error_last(),
				c->mentions);
		if (!strstr(arca_error_last(), "bad.gguf"))
			fail_msg("%s: message '%s' does not name the file", c->name, arca_error_last());
		free(copy);
		free(b.data);
	}
}

/* Every prefix of a valid file is refused cleanly (or, for the full length, accepted). */
static void test_every_truncation(void **state)
{
	(void)state;
	t_buffer b = { 0 };
	put_header(&b, 3, 2, 3);
	put_kv_u32(&b, "general.alignment", 32);
	put_kv_str(&b, "general.name", "cut");
	put_str(&b, "arr");
	put_u32(&b, ARCA_GGUF_ARRAY);
	put_u32(&b, ARCA_GGUF_STRING);
	put_u64(&b, 2);
	put_str(&b, "x");
	put_str(&b, "yz");
	uint64_t ne1 = 8, ne2 = 32;
	put_tinfo(&b, "a", 1, &ne1, ARCA_GGML_F32, 0);
	put_tinfo(&b, "b", 1, &ne2, ARCA_GGML_Q8_0, 32);
	pad_to(&b, 32);
	put_zeros(&b, 32 + 34);
	for (size_t n = 0; n <= b.len; n++) {
		unsigned char *copy = malloc(n ? n : 1);
		memcpy(copy, b.data, n);
		arca_gguf *g;
		arca_err err = arca_gguf_open_buffer(&g, copy, n, "cut.gguf");
		if (n == b.len) {
			assert_int_equal(err, ARCA_OK);
			arca_gguf_free(g);
		} else if (err != ARCA_ECORRUPT) {
			fail_msg("prefix of %zu bytes: %d", n, err);
		}
		free(copy);
	}
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_then_read),
		cmocka_unit_test(test_read_handmade),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_every_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
