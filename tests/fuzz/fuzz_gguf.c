/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/fuzz_gguf.c — libFuzzer target for the GGUF reader: any byte string is either
 * refused with an error or yields metadata and tensors that can all be read inside the
 * buffer, and every tensor's bytes can be dequantized (ASan and UBSan check both).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "arca/quant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len); /* libFuzzer calls it */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	arca_gguf *g;
	if (arca_gguf_open_buffer(&g, data, len, "fuzz.gguf") != ARCA_OK)
		return 0;
	volatile uint8_t sink = 0;
	const arca_gguf_kv *kv;
	for (size_t i = 0; (kv = arca_gguf_kv_at(g, i)); i++) {
		sink ^= kv->key.len ? (uint8_t)kv->key.ptr[kv->key.len - 1] : 0;
		if (kv->type == ARCA_GGUF_STRING && kv->v.s.len)
			sink ^= (uint8_t)kv->v.s.ptr[kv->v.s.len - 1];
		if (kv->type == ARCA_GGUF_ARRAY) {
			for (uint64_t e = 0; e < kv->n_elems && kv->strs; e++)
				if (kv->strs[e].len)
					sink ^= (uint8_t)kv->strs[e].ptr[kv->strs[e].len - 1];
		}
		char *s;
		char key[256];
		size_t n = kv->key.len < sizeof(key) - 1 ? kv->key.len : sizeof(key) - 1;
		memcpy(key, kv->key.ptr, n);
		key[n] = '\0';
		if (arca_gguf_get_str(g, key, &s) == ARCA_OK)
			free(s);
	}
	const arca_gguf_tensor *t;
	for (size_t i = 0; (t = arca_gguf_tensor_at(g, i)); i++) {
		const uint8_t *p = arca_gguf_tensor_data(g, t);
		if (t->nbytes)
			sink ^= p[0] ^ p[t->nbytes - 1];
		/* decode the first rows of small tensors (bounded work per input) */
		const arca_ggml_type_info *info = arca_ggml_type_info_get(t->type);
		uint64_t n_el = info ? t->nbytes / info->type_size * info->block_size : 0;
		if (info && n_el && n_el <= (1u << 16)) {
			float *out = malloc(n_el * sizeof(float));
			if (out && arca_dequantize(t->type, p, out, n_el) == ARCA_OK)
				sink ^= (uint8_t)(out[n_el - 1] != out[n_el - 1]);
			free(out);
		}
	}
	(void)sink;
	arca_gguf_free(g);
	return 0;
}
