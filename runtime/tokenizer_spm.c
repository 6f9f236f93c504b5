/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/tokenizer_spm.c — SentencePiece vocabularies (tokenizer.ggml.model "llama"):
 * one piece of text (no special tokens in it) → ids. Spaces become `▁` (U+2581), with one
 * more in front when the GGUF asks for a space prefix, then one of two searches:
 *
 *  - merge (SentencePiece's BPE, and llama.cpp's SPM tokenizer for every `llama` vocab):
 *    start from single characters; repeatedly merge the adjacent pair whose concatenation
 *    is a piece with the highest score (ties: the leftmost pair) until no pair is a piece.
 *  - viterbi (SentencePiece's unigram models, when tokenizer.arca.spm_model_type says
 *    "unigram"): the segmentation whose piece scores sum highest; a character no piece
 *    covers is an unknown of score min(score) − 10.
 *
 * Either way a piece that is not in the vocabulary (an unknown character) becomes its UTF-8
 * bytes as <0xXX> tokens when the vocabulary has them (byte fallback), else the unknown id,
 * one for a run of unknown characters (as SentencePiece's processor joins them).
 * Only NORMAL and USER_DEFINED pieces take part, as SentencePiece's own trie holds them.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/tokenizer_internal.h"

#define METASPACE "\xe2\x96\x81"

static size_t char_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* The id of a piece that may take part in encoding, or -1. */
static int32_t piece_id(const arca_tokenizer *t, const char *s, size_t n)
{
	int32_t id = arca_tok__find_text(t, s, n);
	if (id < 0 || (t->type[id] != TOK_NORMAL && t->type[id] != TOK_USER_DEFINED))
		return -1;
	return id;
}

/* An unknown stretch: its bytes as byte tokens, or the unknown id (once for a run: *prev_unk
 * says the last id pushed was one). */
static arca_err push_unknown(const arca_tokenizer *t, const char *s, size_t n, int32_t **ids,
	size_t *nids, size_t *cap, int *prev_unk)
{
	arca_err err = ARCA_OK;
	if (!t->spm_byte_fallback) {
		if (*prev_unk)
			return ARCA_OK;
		*prev_unk = 1;
		if (t->unk < 0)
			return arca_error_set(ARCA_EINVALID, "tokenizer: the text holds a character the "
				"vocabulary has no piece for, and it has neither byte tokens nor an unknown "
				"token");
		return arca_tok__push_id(ids, nids, cap, t->unk);
	}
	for (size_t i = 0; i < n && err == ARCA_OK; i++)
		err = arca_tok__push_id(ids, nids, cap, t->spm_byte[(unsigned char)s[i]]);
	return err;
}

/* ------------------------------------------------------------------ merge */

typedef struct {
	size_t start, len;
	long prev, next;
} symbol;

typedef struct {
	float score;
	long left, right;
	size_t len;         /* of the merged text, to see that the pair is still current */
} bigram;

typedef struct {
	bigram *items;
	size_t n, cap;
} heap;

/* a is ahead of b: higher score, then the leftmost */
static int ahead(const bigram *a, const bigram *b)
{
	return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static arca_err heap_push(heap *h, bigram b)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		bigram *items = realloc(h->items, cap * sizeof(*items));
		if (!items)
			return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
		h->items = items, h->cap = cap;
	}
	size_t i = h->n++;
	while (i && ahead(&b, &h->items[(i - 1) / 2])) {
		h->items[i] = h->items[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->items[i] = b;
	return ARCA_OK;
}

static bigram heap_pop(heap *h)
{
	bigram top = h->items[0], last = h->items[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && ahead(&h->items[c + 1], &h->items[c]))
			c++;
		if (!ahead(&h->items[c], &last))
			break;
		h->items[i] = h->items[c];
		i = c;
	}
	if (h->n)
		h->items[i] = last;
	return top;
}

static arca_err try_pair(const arca_tokenizer *t, const char *s, const symbol *sym, long left,
	heap *h)
{
	if (left < 0 || sym[left].next < 0)
		return ARCA_OK;
	long right = sym[left].next;
	size_t len = sym[left].len + sym[right].len;
	int32_t id = piece_id(t, s + sym[left].start, len);
	if (id < 0)
		return ARCA_OK;
	return heap_push(h, (bigram){ t->score[id], left, right, len });
}

static arca_err encode_merge(const arca_tokenizer *t, const char *s, size_t len,
	int32_t **ids, size_t *n, size_t *cap)
{
	symbol *sym = malloc(len * sizeof(*sym));
	heap h = { 0 };
	if (!sym)
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	long count = 0;
	for (size_t i = 0; i < len; count++) {
		size_t k = char_len((unsigned char)s[i]);
		if (k > len - i)
			k = len - i;
		sym[count] = (symbol){ i, k, count - 1, -1 };
		if (count)
			sym[count - 1].next = count;
		i += k;
	}
	arca_err err = ARCA_OK;
	for (long i = 0; i + 1 < count && err == ARCA_OK; i++)
		err = try_pair(t, s, sym, i, &h);
	while (h.n && err == ARCA_OK) {
		bigram b = heap_pop(&h);
		symbol *l = &sym[b.left], *r = &sym[b.right];
		if (!l->len || !r->len || l->len + r->len != b.len)
			continue; /* one side merged elsewhere since */
		l->len += r->len;
		r->len = 0;
		l->next = r->next;
		if (r->next >= 0)
			sym[r->next].prev = b.left;
		if ((err = try_pair(t, s, sym, l->prev, &h)) == ARCA_OK)
			err = try_pair(t, s, sym, b.left, &h);
	}
	int prev_unk = 0;
	for (long i = 0; count && i >= 0 && err == ARCA_OK; i = sym[i].next) {
		int32_t id = piece_id(t, s + sym[i].start, sym[i].len);
		if (id < 0) {
			err = push_unknown(t, s + sym[i].start, sym[i].len, ids, n, cap, &prev_unk);
			continue;
		}
		prev_unk = 0;
		err = arca_tok__push_id(ids, n, cap, id);
	}
	free(h.items);
	free(sym);
	return err;
}

/* ------------------------------------------------------------------ viterbi */

typedef struct {
	float score;     /* of the best path ending here */
	long start;      /* where its last piece starts; -1: not reached */
	int32_t id;      /* its last piece; -1: unknown */
} node;

static arca_err encode_viterbi(const arca_tokenizer *t, const char *s, size_t len,
	int32_t **ids, size_t *n, size_t *cap)
{
	node *best = malloc((len + 1) * sizeof(*best));
	long *path = malloc((len + 1) * sizeof(*path));
	if (!best || !path) {
		free(best);
		free(path);
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	}
	for (size_t i = 0; i <= len; i++)
		best[i] = (node){ 0, -1, -1 };
	best[0].start = 0;
	float unk_score = t->spm_min_score - 10.0f;
	for (size_t at = 0; at < len;) {
		size_t mb = char_len((unsigned char)s[at]);
		if (mb > len - at)
			mb = len - at;
		float here = best[at].score;
		int single = 0;
		for (size_t l = 1; l <= t->spm_max_len && at + l <= len; l++) {
			int32_t id = piece_id(t, s + at, l);
			if (id < 0)
				continue;
			/* SentencePiece sums in double and keeps the best in float: ties and
			 * near-ties fall the same way only when computed the same way */
			double sc = (t->type[id] == TOK_USER_DEFINED ?
				(double)l * t->spm_max_score - 0.1 : (double)t->score[id]) + here;
			node *target = &best[at + l];
			if (target->start < 0 || sc > (double)target->score)
				*target = (node){ (float)sc, (long)at, id };
			single |= l == mb;
		}
		if (!single) {
			node *target = &best[at + mb];
			float sc = unk_score + here;
			if (target->start < 0 || sc > target->score)
				*target = (node){ sc, (long)at, -1 };
		}
		at += mb;
	}
	/* walk back from the end, then emit in order */
	size_t np = 0;
	for (long end = (long)len; end > 0; end = best[end].start)
		path[np++] = end;
	arca_err err = ARCA_OK;
	int prev_unk = 0;
	for (size_t k = np; k-- > 0 && err == ARCA_OK;) {
		long end = path[k], start = best[end].start;
		if (best[end].id < 0) {
			err = push_unknown(t, s + start, (size_t)(end - start), ids, n, cap, &prev_unk);
			continue;
		}
		prev_unk = 0;
		err = arca_tok__push_id(ids, n, cap, best[end].id);
	}
	free(best);
	free(path);
	return err;
}

arca_err arca_tok__spm_encode(const arca_tokenizer *t, const char *s, size_t len,
	int32_t **ids, size_t *n, size_t *cap)
{
	size_t spaces = 0;
	for (size_t i = 0; i < len; i++)
		spaces += s[i] == ' ';
	size_t total = len + 2 * spaces + (t->add_space_prefix ? 3 : 0);
	char *buf = malloc(total ? total : 1), *o = buf;
	if (!buf)
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	if (t->add_space_prefix) {
		memcpy(o, METASPACE, 3);
		o += 3;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ') {
			memcpy(o, METASPACE, 3);
			o += 3;
		} else {
			*o++ = s[i];
		}
	}
	arca_err err = t->spm == ARCA_TOK__SPM_VITERBI ? encode_viterbi(t, buf, total, ids, n, cap) :
		encode_merge(t, buf, total, ids, n, cap);
	free(buf);
	return err;
}
