/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/tokenizer_bpe.c — encoding text that holds no special tokens: the split regexes
 * (each applied to the pieces of the one before, matches and the gaps between them both
 * kept, as Hugging Face's Split with behaviour Isolated), then byte-level BPE on every
 * piece: bytes become their characters' tokens, and the adjacent pair with the lowest merge
 * rank is merged until none is left. With ignore_merges (tiktoken vocabularies) a piece that
 * is itself a token is that token, merges or not.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/tokenizer_internal.h"

/* The token whose byte-level text is the piece, or -1. */
static int32_t whole_piece(const arca_tokenizer *t, const char *piece, size_t len)
{
	char small[256], *text = 2 * len <= sizeof(small) ? small : malloc(2 * len);
	if (!text)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int32_t id = t->byte_token[(unsigned char)piece[i]];
		const char *c = id >= 0 ? t->text[id] : NULL;
		size_t cl = c ? strlen(c) : 0;
		if (!cl || cl > 2) {
			o = 0;
			break;
		}
		memcpy(text + o, c, cl);
		o += cl;
	}
	int32_t id = o ? arca_tok__find_text(t, text, o) : -1;
	if (text != small)
		free(text);
	return id >= 0 && t->type[id] == TOK_NORMAL ? id : -1;
}

arca_err arca_tok__bpe(const arca_tokenizer *t, const char *piece, size_t len, int32_t **ids,
	size_t *n, size_t *cap)
{
	if (t->ignore_merges && len > 1) {
		int32_t id = whole_piece(t, piece, len);
		if (id >= 0)
			return arca_tok__push_id(ids, n, cap, id);
	}
	int32_t small[64], *sym = len <= 64 ? small : malloc(len * sizeof(int32_t));
	if (!sym)
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	size_t m = 0;
	for (size_t i = 0; i < len; i++) {
		int32_t id = t->byte_token[(unsigned char)piece[i]];
		if (id < 0) {
			if (sym != small)
				free(sym);
			return arca_error_set(ARCA_EINVALID, "tokenizer: the vocabulary has no token for "
				"byte 0x%02x", (unsigned char)piece[i]);
		}
		sym[m++] = id;
	}
	while (m > 1) {
		int32_t best_rank = INT32_MAX, merged = -1;
		size_t at = 0;
		for (size_t i = 0; i + 1 < m; i++) {
			const tok_slot *s = arca_tok__map_get(&t->merges,
				((uint64_t)(uint32_t)sym[i] << 32 | (uint32_t)sym[i + 1]) + 1);
			if (s && s->value < best_rank) {
				best_rank = s->value;
				merged = s->extra;
				at = i;
			}
		}
		if (merged < 0)
			break;
		sym[at] = merged;
		memmove(sym + at + 1, sym + at + 2, (m - at - 2) * sizeof(int32_t));
		m--;
	}
	arca_err err = ARCA_OK;
	for (size_t i = 0; i < m && err == ARCA_OK; i++)
		err = arca_tok__push_id(ids, n, cap, sym[i]);
	if (sym != small)
		free(sym);
	return err;
}

/* Applies split regex k (and the later ones) to s, BPE on the final pieces. */
static arca_err split_level(const arca_tokenizer *t, size_t k, const char *s, size_t len,
	int32_t **ids, size_t *n, size_t *cap, pcre2_match_data *md)
{
	if (!len)
		return ARCA_OK;
	if (k == t->n_split)
		return arca_tok__bpe(t, s, len, ids, n, cap);
	size_t at = 0;
	arca_err err = ARCA_OK;
	while (at < len && err == ARCA_OK) {
		int rc = pcre2_match(t->split[k], (PCRE2_SPTR)s, len, at, PCRE2_NO_UTF_CHECK, md, NULL);
		if (rc < 0) {
			if (rc != PCRE2_ERROR_NOMATCH)
				return arca_error_set(ARCA_EINVALID, "tokenizer: regex match failed (%d)", rc);
			break;
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		size_t b = ov[0], e = ov[1];
		if (e == b) { /* an empty match: step one character on */
			size_t next = b + 1;
			while (next < len && ((unsigned char)s[next] & 0xC0) == 0x80)
				next++;
			err = split_level(t, k + 1, s + at, next - at, ids, n, cap, md);
			at = next;
			continue;
		}
		if (b > at) /* the gap before the match is a piece of its own */
			err = split_level(t, k + 1, s + at, b - at, ids, n, cap, md);
		if (err == ARCA_OK)
			err = split_level(t, k + 1, s + b, e - b, ids, n, cap, md);
		at = e;
	}
	if (err == ARCA_OK && at < len)
		err = split_level(t, k + 1, s + at, len - at, ids, n, cap, md);
	return err;
}

arca_err arca_tok__encode_segment(const arca_tokenizer *t, const char *s, size_t len,
	int32_t **ids, size_t *n, size_t *cap)
{
	pcre2_match_data *md = t->n_split ? pcre2_match_data_create(4, NULL) : NULL;
	if (t->n_split && !md)
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	arca_err err = split_level(t, 0, s, len, ids, n, cap, md);
	pcre2_match_data_free(md);
	return err;
}
