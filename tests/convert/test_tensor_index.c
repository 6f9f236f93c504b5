/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/convert/test_tensor_index.c — the tensor index of convert/tensor_index.c and its
 * catalog rows (store/catalog_tensors.c). A safetensors image built here is indexed and each
 * row checked against values computed independently: offsets from the header read with
 * jansson (not arca's reader), hashes of the byte ranges, statistics as float64 sums over
 * the values the test generated. Sketches: a tensor with itself has cosine 1, with a small
 * perturbation close to 1, with an unrelated tensor close to 0, and F16 and Q8_0 GGUF copies
 * of it close to 1. Rows survive the catalog round trip and shared tensors are found.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/catalog.h"
#include "arca/digest.h"
#include "arca/gguf.h"
#include "arca/quant.h"
#include "arca/safetensors.h"
#include "arca/tensor_index.h"
#include "support.h"

#define ROWS 64
#define COLS 256
#define N (ROWS * COLS)

/* ------------------------------------------------------------ generated values */

static uint64_t rng_state;
static double uniform(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}
static float gaussian(void)
{
	double u = uniform(), v = uniform();
	return (float)(sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v));
}

typedef struct {
	float base[N], perturbed[N], unrelated[N];
	uint16_t bf16[N];
	int32_t ints[4];
} values;

static values *make_values(void)
{
	values *v = calloc(1, sizeof(*v));
	assert_non_null(v);
	rng_state = 42;
	for (size_t i = 0; i < N; i++) {
		v->base[i] = 0.02f * gaussian() + 0.001f;
		if (i % 97 == 0)
			v->base[i] = 0.0f;
	}
	for (size_t i = 0; i < N; i++) {
		v->perturbed[i] = v->base[i] + 0.002f * gaussian(); /* ~10% of its spread */
		v->unrelated[i] = 0.02f * gaussian();
		v->bf16[i] = arca_fp32_to_bf16(v->base[i]);
	}
	for (int i = 0; i < 4; i++)
		v->ints[i] = i * 7 - 3;
	return v;
}

/* ------------------------------------------------------------ a safetensors image */

static const char *const st_names[] = { "a", "a_copy", "a_perturbed", "b_bf16", "ints", "u" };
enum { T_A, T_COPY, T_PERT, T_BF16, T_INTS, T_U, N_ST };

static t_buffer make_safetensors(const values *v)
{
	arca_st_spec specs[N_ST] = {
		{ "a", ARCA_ST_F32, 2, { ROWS, COLS } },
		{ "a_copy", ARCA_ST_F32, 2, { ROWS, COLS } },
		{ "a_perturbed", ARCA_ST_F32, 2, { ROWS, COLS } },
		{ "b_bf16", ARCA_ST_BF16, 2, { ROWS, COLS } },
		{ "ints", ARCA_ST_I32, 1, { 4 } },
		{ "u", ARCA_ST_F32, 2, { ROWS, COLS } },
	};
	t_buffer b = { 0 };
	uint64_t data_bytes;
	assert_int_equal(arca_safetensors_write_header(t_buffer_sink, &b, specs, N_ST, NULL,
		&data_bytes), ARCA_OK);
	t_buffer_sink(&b, v->base, sizeof(v->base));
	t_buffer_sink(&b, v->base, sizeof(v->base));
	t_buffer_sink(&b, v->perturbed, sizeof(v->perturbed));
	t_buffer_sink(&b, v->bf16, sizeof(v->bf16));
	t_buffer_sink(&b, v->ints, sizeof(v->ints));
	t_buffer_sink(&b, v->unrelated, sizeof(v->unrelated));
	return b;
}

static const arca_tensor_record *find_row(const arca_tensor_record *rows, size_t n,
	const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	fail_msg("no row for %s", name);
	return NULL;
}

static void expect_sha256(const char *hex, const void *data, size_t len)
{
	unsigned char raw[ARCA_SHA256_LEN];
	char want[ARCA_SHA256_HEX];
	assert_int_equal(arca_sha256_buffer(raw, data, len), ARCA_OK);
	arca_hex_encode(want, raw, sizeof(raw));
	assert_string_equal(hex, want);
}

/* Statistics of float values in float64, the direct way. */
static void expect_stats(const arca_tensor_record *r, const float *x, size_t n)
{
	double sum = 0, sumsq = 0, mn = INFINITY, mx = -INFINITY;
	size_t zeros = 0;
	for (size_t i = 0; i < n; i++) {
		sum += x[i];
		sumsq += (double)x[i] * x[i];
		mn = fmin(mn, x[i]);
		mx = fmax(mx, x[i]);
		zeros += x[i] == 0.0f;
	}
	double mean = sum / (double)n;
	double var = 0;
	for (size_t i = 0; i < n; i++)
		var += ((double)x[i] - mean) * ((double)x[i] - mean);
	var /= (double)n;
	assert_true(r->has_values);
	assert_true(fabs(r->mean - mean) < 1e-9);
	assert_true(fabs(r->std - sqrt(var)) < 1e-7);
	assert_true(fabs(r->rms - sqrt(sumsq / (double)n)) < 1e-9);
	assert_true(fabs(r->l2 - sqrt(sumsq)) < 1e-7);
	assert_true(r->min == mn && r->max == mx);
	assert_true(fabs(r->zero_frac - (double)zeros / (double)n) < 1e-12);
}

static void test_safetensors_rows(void **state)
{
	(void)state;
	values *v = make_values();
	t_buffer b = make_safetensors(v);
	arca_tensor_record *rows;
	size_t n;
	const char *format;
	if (arca_tensor_index_buffer(&rows, &n, &format, b.data, b.len, "mem.safetensors", 2) < 0)
		fail_msg("%s", arca_error_last());
	assert_string_equal(format, "safetensors");
	assert_int_equal(n, N_ST);

	/* offsets from the header, read here with jansson */
	uint64_t hlen = 0;
	for (int i = 7; i >= 0; i--)
		hlen = hlen << 8 | b.data[i];
	json_error_t jerr;
	json_t *header = json_loadb((const char *)b.data + 8, (size_t)hlen, 0, &jerr);
	assert_non_null(header);
	for (size_t i = 0; i < N_ST; i++) {
		const arca_tensor_record *r = find_row(rows, n, st_names[i]);
		json_t *t = json_object_get(header, st_names[i]);
		uint64_t begin = (uint64_t)json_integer_value(json_array_get(json_object_get(t,
			"data_offsets"), 0));
		uint64_t end = (uint64_t)json_integer_value(json_array_get(json_object_get(t,
			"data_offsets"), 1));
		assert_int_equal(r->offset, 8 + hlen + begin);
		assert_int_equal(r->nbytes, end - begin);
		assert_string_equal(r->dtype, json_string_value(json_object_get(t, "dtype")));
		expect_sha256(r->sha256, b.data + r->offset, (size_t)r->nbytes);
	}
	json_decref(header);
	const arca_tensor_record *a = find_row(rows, n, "a");
	assert_string_equal(a->shape_json, "[64,256]");
	assert_int_equal(a->n_elements, N);
	expect_stats(a, v->base, N);
	expect_stats(find_row(rows, n, "u"), v->unrelated, N);

	/* integers are hashed, not decoded */
	const arca_tensor_record *ints = find_row(rows, n, "ints");
	assert_false(ints->has_values);
	assert_string_equal(ints->shape_json, "[4]");

	/* sketches */
	const arca_tensor_record *copy = find_row(rows, n, "a_copy");
	assert_string_equal(a->sha256, copy->sha256);
	double self = arca_tensor_sketch_cosine(a->sketch, copy->sketch);
	double pert = arca_tensor_sketch_cosine(a->sketch, find_row(rows, n, "a_perturbed")->sketch);
	double bf16 = arca_tensor_sketch_cosine(a->sketch, find_row(rows, n, "b_bf16")->sketch);
	double other = arca_tensor_sketch_cosine(a->sketch, find_row(rows, n, "u")->sketch);
	print_message("cosines: self %.6f perturbed %.4f bf16 %.6f unrelated %.4f\n", self, pert,
		bf16, other);
	assert_true(fabs(self - 1.0) < 1e-9);
	assert_true(pert > 0.95 && pert < 1.0);
	assert_true(bf16 > 0.999);
	assert_true(fabs(other) < 0.35);

	/* the same on one thread */
	arca_tensor_record *rows1;
	size_t n1;
	assert_int_equal(arca_tensor_index_buffer(&rows1, &n1, &format, b.data, b.len, "mem", 1),
		ARCA_OK);
	assert_int_equal(n1, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(rows1[i].sha256, rows[i].sha256);
		assert_memory_equal(rows1[i].sketch, rows[i].sketch, sizeof(rows[i].sketch));
	}
	arca_tensor_records_free(rows1, n1);
	arca_tensor_records_free(rows, n);
	free(b.data);
	free(v);
}

/* ------------------------------------------------------------ GGUF copies */

static t_buffer make_gguf(const float *x, int type, void **qbytes_out, size_t *qlen_out)
{
	size_t qlen = (size_t)arca_ggml_row_size(type, COLS) * ROWS;
	void *q = malloc(qlen);
	assert_non_null(q);
	assert_int_equal(arca_quantize_rows(type, x, q, ROWS, COLS), ARCA_OK);
	arca_gguf_writer *w;
	assert_int_equal(arca_gguf_writer_new(&w, 32), ARCA_OK);
	assert_int_equal(arca_gguf_add_str(w, "general.architecture", "test"), ARCA_OK);
	uint64_t ne[] = { COLS, ROWS }, ne_b[] = { 5 };
	float bias[5] = { 1, 2, 3, 4, 5 };
	assert_int_equal(arca_gguf_add_tensor(w, "b.bias", 1, ne_b, ARCA_GGML_F32), ARCA_OK);
	assert_int_equal(arca_gguf_add_tensor(w, "a.weight", 2, ne, type), ARCA_OK);
	t_buffer b = { 0 };
	assert_int_equal(arca_gguf_write_header(w, t_buffer_sink, &b), ARCA_OK);
	assert_int_equal(arca_gguf_write_tensor_data(w, t_buffer_sink, &b, 0, bias, sizeof(bias)),
		ARCA_OK);
	assert_int_equal(arca_gguf_write_tensor_data(w, t_buffer_sink, &b, 1, q, qlen), ARCA_OK);
	arca_gguf_writer_free(w);
	*qbytes_out = q;
	*qlen_out = qlen;
	return b;
}

static void test_gguf_rows(void **state)
{
	(void)state;
	values *v = make_values();
	static const int types[] = { ARCA_GGML_F16, ARCA_GGML_Q8_0 };
	static const char *const names[] = { "F16", "Q8_0" };
	float sketches[2][ARCA_TENSOR_SKETCH_DIM];
	arca_tensor_record *st_rows;
	size_t n_st;
	const char *format;
	t_buffer st = make_safetensors(v);
	assert_int_equal(arca_tensor_index_buffer(&st_rows, &n_st, &format, st.data, st.len, "st",
		0), ARCA_OK);
	const arca_tensor_record *a = find_row(st_rows, n_st, "a");
	for (size_t k = 0; k < 2; k++) {
		void *q;
		size_t qlen;
		t_buffer b = make_gguf(v->base, types[k], &q, &qlen);
		arca_tensor_record *rows;
		size_t n;
		if (arca_tensor_index_buffer(&rows, &n, &format, b.data, b.len, "mem.gguf", 2) < 0)
			fail_msg("%s", arca_error_last());
		assert_string_equal(format, "gguf");
		assert_int_equal(n, 2);
		const arca_tensor_record *r = find_row(rows, n, "a.weight");
		assert_string_equal(r->dtype, names[k]);
		assert_string_equal(r->shape_json, "[256,64]");
		assert_int_equal(r->n_elements, N);
		assert_int_equal(r->nbytes, qlen);
		assert_int_equal(r->offset % 32, 0);
		assert_true(r->offset + r->nbytes <= b.len);
		/* the range holds exactly the bytes the quantizer made */
		assert_memory_equal(b.data + r->offset, q, qlen);
		expect_sha256(r->sha256, q, qlen);
		const arca_tensor_record *bias = find_row(rows, n, "b.bias");
		assert_true(bias->has_values && bias->mean == 3.0 && bias->min == 1 && bias->max == 5);
		/* statistics of the dequantized copy, within the quantization's error */
		float *deq = malloc(N * sizeof(float));
		assert_non_null(deq);
		assert_int_equal(arca_dequantize(types[k], q, deq, N), ARCA_OK);
		expect_stats(r, deq, N);
		free(deq);
		assert_true(fabs(r->std - a->std) < 0.01 * a->std);
		double cos = arca_tensor_sketch_cosine(a->sketch, r->sketch);
		print_message("%s vs F32: sketch cosine %.6f\n", names[k], cos);
		assert_true(cos > 0.999);
		memcpy(sketches[k], r->sketch, sizeof(sketches[k]));
		arca_tensor_records_free(rows, n);
		free(b.data);
		free(q);
	}
	assert_true(arca_tensor_sketch_cosine(sketches[0], sketches[1]) > 0.999);
	arca_tensor_records_free(st_rows, n_st);
	free(st.data);
	free(v);
}

/* ------------------------------------------------------------ bad input */

static void test_corrupt(void **state)
{
	(void)state;
	static const char garbage[] = "\x10\0\0\0\0\0\0\0{\"a\": [1, 2, 3]}xx";
	arca_tensor_record *rows;
	size_t n;
	const char *format;
	arca_err err = arca_tensor_index_buffer(&rows, &n, &format, garbage, sizeof(garbage) - 1,
		"bad.safetensors", 2);
	assert_int_equal(err, ARCA_ECORRUPT);
	assert_error_mentions("bad.safetensors");
	assert_null(rows);
	err = arca_tensor_index_buffer(&rows, &n, &format, "GGUF\3\0\0\0", 8, "bad.gguf", 1);
	assert_int_equal(err, ARCA_ECORRUPT);
	assert_error_mentions("bad.gguf");
}

/* NaN and infinity are left out of the statistics and the sketch, never poison them */
static void test_non_finite(void **state)
{
	(void)state;
	float x[40];
	for (int i = 0; i < 40; i++)
		x[i] = (float)(i % 4);
	x[5] = NAN;
	x[17] = INFINITY;
	arca_st_spec spec = { "x", ARCA_ST_F32, 1, { 40 } };
	t_buffer b = { 0 };
	uint64_t data_bytes;
	assert_int_equal(arca_safetensors_write_header(t_buffer_sink, &b, &spec, 1, NULL,
		&data_bytes), ARCA_OK);
	t_buffer_sink(&b, x, sizeof(x));
	arca_tensor_record *rows;
	size_t n;
	const char *format;
	assert_int_equal(arca_tensor_index_buffer(&rows, &n, &format, b.data, b.len, "nan", 1),
		ARCA_OK);
	float finite[38];
	size_t m = 0;
	for (int i = 0; i < 40; i++)
		if (i != 5 && i != 17)
			finite[m++] = x[i];
	assert_true(rows[0].has_values);
	assert_true(isfinite(rows[0].mean) && isfinite(rows[0].l2));
	double sum = 0;
	for (size_t i = 0; i < m; i++)
		sum += finite[i];
	assert_true(fabs(rows[0].mean - sum / (double)m) < 1e-12);
	assert_true(rows[0].min == 0 && rows[0].max == 3);
	assert_true(fabs(rows[0].zero_frac - 10.0 / 40.0) < 1e-12);
	for (size_t i = 0; i < ARCA_TENSOR_SKETCH_DIM; i++)
		assert_true(isfinite(rows[0].sketch[i]));
	arca_tensor_records_free(rows, n);
	free(b.data);
}

/* ------------------------------------------------------------ the catalog */

static void test_catalog_round_trip(void **state)
{
	(void)state;
	char *home;
	arca_store *store = t_store_new(&home);
	arca_catalog *cat = arca_store_catalog(store);
	values *v = make_values();
	t_buffer b = make_safetensors(v);
	arca_file_digests d1;
	assert_int_equal(arca_store_put_buffer(store, b.data, b.len, &d1), ARCA_OK);
	arca_tensor_record *rows;
	size_t n;
	const char *format;
	assert_int_equal(arca_tensor_index_buffer(&rows, &n, &format, b.data, b.len, "st", 2),
		ARCA_OK);
	int version;
	assert_int_equal(arca_catalog_tensor_index_version(cat, d1.sha256, &version), ARCA_OK);
	assert_int_equal(version, 0);
	assert_int_equal(arca_catalog_put_tensor_index(cat, d1.sha256, format,
		ARCA_TENSOR_INDEX_VERSION, rows, n), ARCA_OK);
	/* again replaces, never doubles */
	assert_int_equal(arca_catalog_put_tensor_index(cat, d1.sha256, format,
		ARCA_TENSOR_INDEX_VERSION, rows, n), ARCA_OK);
	assert_int_equal(arca_catalog_tensor_index_version(cat, d1.sha256, &version), ARCA_OK);
	assert_int_equal(version, ARCA_TENSOR_INDEX_VERSION);
	arca_tensor_record *back;
	size_t n_back;
	assert_int_equal(arca_catalog_list_tensors(&back, &n_back, cat, d1.sha256), ARCA_OK);
	assert_int_equal(n_back, n);
	for (size_t i = 0; i < n; i++) {
		const arca_tensor_record *r = find_row(back, n_back, rows[i].name);
		assert_string_equal(r->sha256, rows[i].sha256);
		assert_string_equal(r->shape_json, rows[i].shape_json);
		assert_int_equal(r->offset, rows[i].offset);
		assert_int_equal(r->has_values, rows[i].has_values);
		if (r->has_values) {
			assert_memory_equal(r->sketch, rows[i].sketch, sizeof(r->sketch));
			assert_true(r->mean == rows[i].mean && r->max == rows[i].max);
		} else {
			assert_true(isnan(r->mean));
		}
	}
	arca_tensor_records_free(back, n_back);
	arca_tensor_records_free(rows, n);

	/* a second blob holding one of the same tensors: found through the hash index once a
	 * file uses it */
	void *q;
	size_t qlen;
	t_buffer g = make_gguf(v->base, ARCA_GGML_F32, &q, &qlen);
	arca_file_digests d2;
	assert_int_equal(arca_store_put_buffer(store, g.data, g.len, &d2), ARCA_OK);
	assert_int_equal(arca_tensor_index_buffer(&rows, &n, &format, g.data, g.len, "g", 2),
		ARCA_OK);
	assert_string_equal(find_row(rows, n, "a.weight")->sha256,
		find_row(rows, n, "a.weight")->sha256);
	assert_int_equal(arca_catalog_put_tensor_index(cat, d2.sha256, format,
		ARCA_TENSOR_INDEX_VERSION, rows, n), ARCA_OK);
	arca_tensor_records_free(rows, n);
	int64_t art;
	assert_int_equal(arca_catalog_add_artifact(cat, "gguf", "f32", 0, "{}", &art), ARCA_OK);
	assert_int_equal(arca_catalog_add_artifact_output(cat, art, d2.sha256, "x-f32.gguf"),
		ARCA_OK);
	const char *set[] = { d1.sha256 };
	arca_tensor_overlap *o;
	size_t n_o;
	assert_int_equal(arca_catalog_tensor_overlaps(&o, &n_o, cat, set, 1, 0), ARCA_OK);
	assert_int_equal(n_o, 1);
	assert_string_equal(o[0].blob, d2.sha256);
	assert_string_equal(o[0].path, "x-f32.gguf");
	assert_int_equal(o[0].n_shared, 1);   /* a.weight (F32 bytes equal "a" and "a_copy") */
	assert_int_equal(o[0].bytes_shared, N * 4);
	arca_tensor_overlaps_free(o, n_o);

	arca_weight_blob *w;
	size_t n_w;
	assert_int_equal(arca_catalog_list_weight_blobs(&w, &n_w, cat, 0, 0), ARCA_OK);
	assert_int_equal(n_w, 1);  /* the variant's output; the safetensors blob is no file of a snapshot */
	assert_int_equal(w[0].index_version, ARCA_TENSOR_INDEX_VERSION);
	assert_int_equal(w[0].n_tensors, 2);
	arca_weight_blobs_free(w, n_w);

	/* rows go with their blob */
	assert_int_equal(arca_catalog_delete_artifact(cat, art), ARCA_OK);
	assert_int_equal(arca_catalog_delete_blob(cat, d2.sha256), ARCA_OK);
	assert_int_equal(arca_catalog_list_tensors(&back, &n_back, cat, d2.sha256), ARCA_OK);
	assert_int_equal(n_back, 0);
	assert_int_equal(arca_catalog_tensor_index_version(cat, d2.sha256, &version), ARCA_OK);
	assert_int_equal(version, 0);

	free(g.data);
	free(q);
	free(b.data);
	free(v);
	arca_store_free(store);
	t_remove_tree(home);
	free(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safetensors_rows),
		cmocka_unit_test(test_gguf_rows),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_non_finite),
		cmocka_unit_test(test_catalog_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
