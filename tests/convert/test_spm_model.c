/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/convert/test_spm_model.c — the SentencePiece ModelProto reader: the vendored models
 * read with their pieces, types and settings; every truncation of a real file and a table
 * of hostile inputs is either a smaller well-formed message or ARCA_ECORRUPT naming the file,
 * never a crash or a read outside the buffer (run under ASan by the fuzz build).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/sentencepiece.h"
#include "support.h"

static char *read_model(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/tokenizers/spm/%s", ARCA_TEST_DATA, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void test_reads_vendored_models(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_model("unigram.model", &len);
	arca_spm_model *m;
	assert_int_equal(arca_spm_model_parse(&m, buf, len, "unigram.model"), ARCA_OK);
	assert_int_equal(m->model_type, ARCA_SPM_UNIGRAM);
	assert_true(m->byte_fallback);
	assert_int_equal(m->unk_id, 0);
	assert_int_equal(m->bos_id, 1);
	assert_int_equal(m->eos_id, 2);
	assert_int_equal(m->pad_id, -1);
	assert_string_equal(m->pieces[0].text, "<unk>");
	assert_int_equal(m->pieces[0].type, ARCA_SPM_UNKNOWN);
	assert_int_equal(m->pieces[1].type, ARCA_SPM_CONTROL);
	assert_string_equal(m->pieces[3].text, "<0x00>");
	assert_int_equal(m->pieces[3].type, ARCA_SPM_BYTE);
	assert_int_equal(m->pieces[258].type, ARCA_SPM_BYTE);
	assert_int_equal(m->pieces[259].type, ARCA_SPM_NORMAL);
	assert_true(m->pieces[259].score < 0);
	assert_string_equal(m->normalizer_name, "identity");
	assert_true(m->add_dummy_prefix);
	assert_false(m->remove_extra_whitespaces);
	assert_true(m->escape_whitespaces);
	assert_false(m->has_charsmap);
	uint32_t n_full = m->n_pieces;
	assert_true(n_full > 1000);
	arca_spm_model_free(m);

	/* every prefix: a well-formed shorter message, or ECORRUPT naming the file */
	size_t corrupt = 0;
	for (size_t cut = 0; cut < len; cut++) {
		arca_err err = arca_spm_model_parse(&m, buf, cut, "unigram.model");
		if (err == ARCA_OK) {
			assert_true(m->n_pieces <= n_full);
			arca_spm_model_free(m);
			continue;
		}
		assert_int_equal(err, ARCA_ECORRUPT);
		assert_error_mentions("unigram.model");
		corrupt++;
	}
	assert_true(corrupt > len / 2);
	free(buf);

	buf = read_model("bpe.model", &len);
	assert_int_equal(arca_spm_model_parse(&m, buf, len, "bpe.model"), ARCA_OK);
	assert_int_equal(m->model_type, ARCA_SPM_BPE);
	assert_int_equal(m->n_pieces, 1200);
	arca_spm_model_free(m);
	free(buf);
}

/* pieces "a" "b" "c" (ids 0..2, so the default special ids fit) */
#define ABC "\x0a\x03\x0a\x01\x61\x0a\x03\x0a\x01\x62\x0a\x03\x0a\x01\x63"

static const struct {
	const char *what, *bytes;
	size_t len;
	const char *mentions;
} hostile[] = {
	{ "empty", "", 0, "no pieces" },
	{ "a lone tag", "\x0a", 1, "past the end" },
	{ "length past the end", "\x0a\x7f\x0a\x01\x61", 5, "past the end" },
	{ "eleven-byte varint", "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12,
		"64 bits" },
	{ "varint over 64 bits", "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11, "64 bits" },
	{ "a group", ABC "\x0b", 16, "group" },
	{ "wire type 7", ABC "\x0f", 16, "group" },
	{ "field 0", "\x02\x00", 2, "field number" },
	{ "pieces as a number", "\x08\x01", 2, "wire type" },
	{ "a piece without text", ABC "\x0a\x02\x18\x01", 19, "no text" },
	{ "an empty piece", ABC "\x0a\x02\x0a\x00", 19, "empty" },
	{ "a NUL in a piece", ABC "\x0a\x04\x0a\x02\x61\x00", 21, "UTF-8" },
	{ "a piece not UTF-8", ABC "\x0a\x03\x0a\x01\xff", 20, "UTF-8" },
	{ "piece type 9", ABC "\x0a\x05\x0a\x01\x64\x18\x09", 22, "type 9" },
	{ "a NaN score", ABC "\x0a\x08\x0a\x01\x64\x15\x00\x00\xc0\x7f", 25, "NaN" },
	{ "score as a varint", ABC "\x0a\x05\x0a\x01\x64\x10\x01", 22, "wire type" },
	{ "a cut 32-bit score", ABC "\x0a\x05\x0a\x01\x64\x15\x00", 22, "32-bit" },
	{ "model_type 9", ABC "\x12\x02\x18\x09", 19, "model_type" },
	{ "bos id beyond the pieces", ABC "\x12\x03\xc8\x02\x07", 20, "beyond" },
	{ "an id below -1", ABC "\x12\x0c\xc8\x02\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01",
		29, "out of range" },
	{ "a normalizer name not UTF-8", ABC "\x1a\x03\x0a\x01\xfe", 20, "UTF-8" },
	{ "a normalizer flag as bytes", ABC "\x1a\x03\x1a\x01\x00", 20, "wire type" },
};

static void test_hostile_inputs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		arca_spm_model *m = (arca_spm_model *)1;
		arca_err err = arca_spm_model_parse(&m, hostile[i].bytes, hostile[i].len, "bad.model");
		if (err != ARCA_ECORRUPT)
			fail_msg("%s: got %d, want ARCA_ECORRUPT", hostile[i].what, err);
		assert_null(m);
		if (!strstr(arca_error_last(), "bad.model") ||
		    !strstr(arca_error_last(), hostile[i].mentions))
			fail_msg("%s: message \"%s\" should name bad.model and say \"%s\"",
				hostile[i].what, arca_error_last(), hostile[i].mentions);
	}
	/* unknown fields of every wire type are skipped; known ones are read */
	static const char ok[] = ABC "\x20\x05" "\x29\x01\x02\x03\x04\x05\x06\x07\x08"
		"\x35\x01\x02\x03\x04" "\x12\x05\x18\x02\x98\x02\x01" "\x1a\x02\x18\x00";
	arca_spm_model *m;
	assert_int_equal(arca_spm_model_parse(&m, ok, sizeof(ok) - 1, "ok.model"), ARCA_OK);
	assert_int_equal(m->n_pieces, 3);
	assert_int_equal(m->model_type, ARCA_SPM_BPE);
	assert_true(m->byte_fallback);
	assert_false(m->add_dummy_prefix);
	assert_null(m->normalizer_name);
	arca_spm_model_free(m);
	arca_spm_model_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_vendored_models),
		cmocka_unit_test(test_hostile_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
