/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime/tokenizer_map.c — the tokenizer's open-addressing hash maps (text → id, merge
 * pair → rank), the text lookup and the growing id list that both the loader and encoder
 * (tokenizer.c) and the BPE merger (tokenizer_bpe.c) use; below both, so neither needs
 * the other's internals.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/tokenizer_internal.h"

uint64_t arca_tok__hash_text(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h ? h : 1;
}

arca_err arca_tok__map_init(tok_map *m, size_t entries)
{
	size_t size = 16;
	while (size < entries * 2)
		size *= 2;
	m->slots = calloc(size, sizeof(*m->slots));
	m->mask = size - 1;
	return m->slots ? ARCA_OK : arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
}

static uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	return k ^ (k >> 33);
}

/* Inserts unless present; 1 when inserted. Text keys may collide in the hash: callers of
 * by_text store the id and compare texts (probing on), see find_text. */
int arca_tok__map_put(tok_map *m, uint64_t key, int32_t value, int32_t extra)
{
	for (size_t i = mix(key) & m->mask;; i = (i + 1) & m->mask) {
		if (!m->slots[i].key) {
			m->slots[i] = (tok_slot){ key, value, extra };
			return 1;
		}
		if (m->slots[i].key == key && m->slots[i].extra == extra)
			return 0;
	}
}

const tok_slot *arca_tok__map_get(const tok_map *m, uint64_t key)
{
	for (size_t i = mix(key) & m->mask;; i = (i + 1) & m->mask) {
		if (!m->slots[i].key)
			return NULL;
		if (m->slots[i].key == key)
			return &m->slots[i];
	}
}

int32_t arca_tok__find_text(const arca_tokenizer *t, const char *s, size_t n)
{
	uint64_t key = arca_tok__hash_text(s, n);
	for (size_t i = mix(key) & t->by_text.mask;; i = (i + 1) & t->by_text.mask) {
		const tok_slot *sl = &t->by_text.slots[i];
		if (!sl->key)
			return -1;
		if (sl->key == key && strlen(t->text[sl->value]) == n &&
		    !memcmp(t->text[sl->value], s, n))
			return sl->value;
	}
}

arca_err arca_tok__push_id(int32_t **ids, size_t *n, size_t *cap, int32_t id)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		int32_t *p = realloc(*ids, c * sizeof(*p));
		if (!p)
			return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
		*ids = p;
		*cap = c;
	}
	(*ids)[(*n)++] = id;
	return ARCA_OK;
}
