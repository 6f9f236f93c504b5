/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/fuzz_tiktoken.c — libFuzzer target for the tiktoken.model converter (base64
 * lines, ranks, merges derived from ranks): any byte string is either refused with an error
 * or becomes GGUF tokenizer metadata that the GGUF writer accepts (ASan checks the reads).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arca/gguf.h"
#include "arca/tokenizer_meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len); /* libFuzzer calls it */

static arca_err sink(void *payload, const void *buf, size_t len)
{
	(void)payload, (void)buf, (void)len;
	return ARCA_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *text = malloc(len + 1);  /* the converter gets files NUL-terminated */
	if (!text)
		return 0;
	memcpy(text, data, len);
	text[len] = '\0';
	arca_gguf_writer *w;
	if (arca_gguf_writer_new(&w, 32) == ARCA_OK) {
		arca_tokenizer_sources src = { .tiktoken_model = text, .tiktoken_model_len = len };
		if (arca_tokenizer_to_gguf(w, &src) == ARCA_OK)
			(void)arca_gguf_write_header(w, sink, NULL);
		arca_gguf_writer_free(w);
	}
	free(text);
	return 0;
}
