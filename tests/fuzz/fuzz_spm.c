/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fuzz/fuzz_spm.c — libFuzzer target for the SentencePiece tokenizer.model reader:
 * any byte string is either refused with an error or yields pieces whose every byte can
 * be read (ASan checks the reads), with types and special ids in range.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arca/sentencepiece.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len); /* libFuzzer calls it */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	arca_spm_model *m;
	if (arca_spm_model_parse(&m, data, len, "fuzz.model") != ARCA_OK)
		return 0;
	volatile size_t sink = 0;
	for (uint32_t i = 0; i < m->n_pieces; i++) {
		sink += strlen(m->pieces[i].text);
		if (m->pieces[i].type < ARCA_SPM_NORMAL || m->pieces[i].type > ARCA_SPM_BYTE)
			__builtin_trap();
	}
	if (m->bos_id >= (int64_t)m->n_pieces || m->unk_id >= (int64_t)m->n_pieces)
		__builtin_trap();
	if (m->normalizer_name)
		sink += strlen(m->normalizer_name);
	(void)sink;
	arca_spm_model_free(m);
	return 0;
}
