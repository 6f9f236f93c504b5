/* SPDX-License-Identifier: Apache-2.0 */
/* convert/tokenizer_tiktoken.c — placeholder, filled in below. */
#include "convert/tokenizer_internal.h"

arca_err arca_convert__tokenizer_tiktoken(arca_gguf_writer *w,
	const arca_tokenizer_sources *src, json_t *tok_config, json_t *config)
{
	(void)w, (void)src, (void)tok_config, (void)config;
	return arca_error_set(ARCA_EUNSUPPORTED, "tiktoken.model is not supported yet");
}
