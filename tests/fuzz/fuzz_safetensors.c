/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/fuzz_safetensors.c — libFuzzer target for the safetensors reader: any byte
 * string is either refused with an error or yields tensors whose every byte can be read
 * inside the buffer (ASan checks the reads).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arca/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len); /* libFuzzer calls it */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	arca_safetensors *st;
	if (arca_safetensors_open_buffer(&st, data, len, "fuzz.safetensors") != ARCA_OK)
		return 0;
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < arca_safetensors_count(st); i++) {
		const arca_st_tensor *t = arca_safetensors_tensor(st, i);
		const uint8_t *p = arca_safetensors_data(st, t);
		for (uint64_t b = 0; b < t->end - t->begin; b++)
			sink ^= p[b];
		if (arca_safetensors_find(st, t->name) == NULL)
			__builtin_trap();
		(void)arca_st_dtype_name(t->dtype);
	}
	const char *meta = arca_safetensors_metadata(st);
	if (meta)
		sink ^= (uint8_t)strlen(meta);
	(void)sink;
	arca_safetensors_free(st);
	return 0;
}
