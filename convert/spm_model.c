/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/spm_model.c — the strict protobuf reader behind arca/sentencepiece.h. A cursor
 * walks one message at a time inside [p, end); every length is checked against the bytes of
 * its enclosing message before it is used, so hostile input ends in ARCA_ECORRUPT, never in
 * a read past the buffer. Pieces are counted in a first pass, so the array is allocated once
 * at its exact size (bounded by the file: a piece takes at least two bytes).
 */
#include "arca/sentencepiece.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

typedef struct {
	const uint8_t *p, *end;
	const char *name;   /* the file, for messages */
} cursor;

static arca_err corrupt(const cursor *c, const char *what)
{
	return arca_error_set(ARCA_ECORRUPT, "%s: not a SentencePiece model: %s", c->name, what);
}

static arca_err read_varint(cursor *c, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 70; shift += 7) {
		if (c->p >= c->end)
			return corrupt(c, "a number runs past the end of its message");
		uint8_t b = *c->p++;
		if (shift == 63 && b > 1)
			return corrupt(c, "a number does not fit 64 bits");
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return ARCA_OK;
		}
	}
	return corrupt(c, "a number is longer than ten bytes");
}

/* One field: its number and wire type; for length-delimited fields the payload as a
 * sub-cursor, for numbers the value (fixed32 in the low bits). */
typedef struct {
	uint32_t field;
	int wire;
	uint64_t value;
	cursor sub;
} field;

static arca_err next_field(cursor *c, field *f)
{
	uint64_t tag;
	arca_err err = read_varint(c, &tag);
	if (err < 0)
		return err;
	f->field = (uint32_t)(tag >> 3);
	f->wire = (int)(tag & 7);
	if (f->field == 0 || tag >> 3 > 0x1fffffff)
		return corrupt(c, "a field number is out of range");
	switch (f->wire) {
	case 0:
		return read_varint(c, &f->value);
	case 1:
		if (c->end - c->p < 8)
			return corrupt(c, "a 64-bit field runs past the end of its message");
		memcpy(&f->value, c->p, 8);
		c->p += 8;
		return ARCA_OK;
	case 5: {
		uint32_t v;
		if (c->end - c->p < 4)
			return corrupt(c, "a 32-bit field runs past the end of its message");
		memcpy(&v, c->p, 4);
		c->p += 4;
		f->value = v;
		return ARCA_OK;
	}
	case 2: {
		uint64_t len;
		if ((err = read_varint(c, &len)) < 0)
			return err;
		if (len > (uint64_t)(c->end - c->p))
			return corrupt(c, "a length runs past the end of its message");
		f->sub = (cursor){ c->p, c->p + len, c->name };
		c->p += len;
		return ARCA_OK;
	}
	default:
		return corrupt(c, "a group or unknown wire type");
	}
}

static arca_err want_wire(const cursor *c, const field *f, int wire, const char *what)
{
	if (f->wire == wire)
		return ARCA_OK;
	return arca_error_set(ARCA_ECORRUPT, "%s: not a SentencePiece model: %s has wire type %d "
		"(expected %d)", c->name, what, f->wire, wire);
}

static int valid_utf8(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp);
		if (k <= 0 || cp == 0)
			return 0;
		i += (size_t)k;
	}
	return 1;
}

static arca_err read_piece(cursor *c, arca_spm_piece *out, uint32_t index)
{
	field f;
	arca_err err;
	int have_text = 0;
	out->type = ARCA_SPM_NORMAL;
	while (c->p < c->end) {
		if ((err = next_field(c, &f)) < 0)
			return err;
		if (f.field == 1) {
			if ((err = want_wire(c, &f, 2, "piece text")) < 0)
				return err;
			size_t n = (size_t)(f.sub.end - f.sub.p);
			if (!n || !valid_utf8(f.sub.p, n))
				return arca_error_set(ARCA_ECORRUPT, "%s: piece %u is empty or not UTF-8 "
					"text", c->name, index);
			free(out->text);
			if (!(out->text = strndup((const char *)f.sub.p, n)))
				return arca_error_set(ARCA_ENOMEM, "%s: out of memory", c->name);
			have_text = 1;
		} else if (f.field == 2) {
			if ((err = want_wire(c, &f, 5, "piece score")) < 0)
				return err;
			uint32_t bits = (uint32_t)f.value;
			memcpy(&out->score, &bits, 4);
			if (out->score != out->score)
				return arca_error_set(ARCA_ECORRUPT, "%s: piece %u has a NaN score", c->name,
					index);
		} else if (f.field == 3) {
			if ((err = want_wire(c, &f, 0, "piece type")) < 0)
				return err;
			if (f.value < ARCA_SPM_NORMAL || f.value > ARCA_SPM_BYTE)
				return arca_error_set(ARCA_ECORRUPT, "%s: piece %u has type %llu (1..6 are "
					"known)", c->name, index, (unsigned long long)f.value);
			out->type = (int)f.value;
		}
	}
	if (!have_text)
		return arca_error_set(ARCA_ECORRUPT, "%s: piece %u has no text", c->name, index);
	return ARCA_OK;
}

static arca_err read_trainer(cursor *c, arca_spm_model *m)
{
	field f;
	arca_err err;
	while (c->p < c->end) {
		if ((err = next_field(c, &f)) < 0)
			return err;
		int32_t *id = f.field == 40 ? &m->unk_id : f.field == 41 ? &m->bos_id :
			f.field == 42 ? &m->eos_id : f.field == 43 ? &m->pad_id : NULL;
		if (f.field != 3 && f.field != 35 && !id)
			continue;
		if ((err = want_wire(c, &f, 0, "a trainer setting")) < 0)
			return err;
		if (f.field == 3) {
			if (f.value < ARCA_SPM_UNIGRAM || f.value > ARCA_SPM_CHAR)
				return corrupt(c, "model_type is not unigram, bpe, word or char");
			m->model_type = (int)f.value;
		} else if (f.field == 35) {
			m->byte_fallback = f.value != 0;
		} else {
			/* int32 fields: negatives are sign-extended to 64 bits */
			int64_t v = (int64_t)f.value;
			if (v < -1 || v > INT32_MAX)
				return corrupt(c, "a special token id is out of range");
			*id = (int32_t)v;
		}
	}
	return ARCA_OK;
}

static arca_err read_normalizer(cursor *c, arca_spm_model *m)
{
	field f;
	arca_err err;
	while (c->p < c->end) {
		if ((err = next_field(c, &f)) < 0)
			return err;
		if (f.field == 1 || f.field == 2) {
			if ((err = want_wire(c, &f, 2, "a normalizer string")) < 0)
				return err;
			if (f.field == 2) {
				m->has_charsmap = f.sub.end > f.sub.p;
				continue;
			}
			size_t n = (size_t)(f.sub.end - f.sub.p);
			if (!valid_utf8(f.sub.p, n))
				return corrupt(c, "the normalizer name is not UTF-8 text");
			free(m->normalizer_name);
			if (!(m->normalizer_name = strndup((const char *)f.sub.p, n)))
				return arca_error_set(ARCA_ENOMEM, "%s: out of memory", c->name);
		} else if (f.field >= 3 && f.field <= 5) {
			if ((err = want_wire(c, &f, 0, "a normalizer flag")) < 0)
				return err;
			int *flag = f.field == 3 ? &m->add_dummy_prefix : f.field == 4 ?
				&m->remove_extra_whitespaces : &m->escape_whitespaces;
			*flag = f.value != 0;
		}
	}
	return ARCA_OK;
}

arca_err arca_spm_model_parse(arca_spm_model **out, const void *buf, size_t len,
	const char *name)
{
	*out = NULL;
	cursor top = { buf, (const uint8_t *)buf + len, name ? name : "tokenizer.model" };
	field f;
	arca_err err;
	uint64_t n = 0;
	/* pass 1: the message is well formed at the top level; count the pieces */
	for (cursor c = top; c.p < c.end;) {
		if ((err = next_field(&c, &f)) < 0)
			return err;
		if (f.field >= 1 && f.field <= 3 && (err = want_wire(&c, &f, 2, "a ModelProto "
				"part")) < 0)
			return err;
		n += f.field == 1;
	}
	if (n == 0)
		return corrupt(&top, "no pieces");
	if (n > (1u << 24))
		return corrupt(&top, "more than 16M pieces");
	arca_spm_model *m = calloc(1, sizeof(*m));
	if (!m || !(m->pieces = calloc(n, sizeof(*m->pieces)))) {
		free(m);
		return arca_error_set(ARCA_ENOMEM, "%s: out of memory", top.name);
	}
	m->model_type = ARCA_SPM_UNIGRAM;
	m->unk_id = 0, m->bos_id = 1, m->eos_id = 2, m->pad_id = -1;
	m->add_dummy_prefix = m->remove_extra_whitespaces = m->escape_whitespaces = 1;
	err = ARCA_OK;
	for (cursor c = top; c.p < c.end && err == ARCA_OK;) {
		if ((err = next_field(&c, &f)) < 0)
			break;
		if (f.field == 1) {
			uint32_t index = m->n_pieces++; /* counted now, so free() sees it */
			err = read_piece(&f.sub, &m->pieces[index], index);
		}
		else if (f.field == 2)
			err = read_trainer(&f.sub, m);
		else if (f.field == 3)
			err = read_normalizer(&f.sub, m);
	}
	int32_t ids[4] = { m->unk_id, m->bos_id, m->eos_id, m->pad_id };
	for (int i = 0; i < 4 && err == ARCA_OK; i++)
		if (ids[i] >= (int64_t)m->n_pieces)
			err = arca_error_set(ARCA_ECORRUPT, "%s: special token id %d is beyond the %u "
				"pieces", top.name, ids[i], m->n_pieces);
	if (err < 0) {
		arca_spm_model_free(m);
		return err;
	}
	*out = m;
	return ARCA_OK;
}

void arca_spm_model_free(arca_spm_model *m)
{
	if (!m)
		return;
	for (uint32_t i = 0; i < m->n_pieces; i++)
		free(m->pieces[i].text);
	free(m->pieces);
	free(m->normalizer_name);
	free(m);
}
