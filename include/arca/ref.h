/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/ref.h — the names a user types for models: REF = [hub:]org/name[@revision][:variant]
 *
 *   Qwen/Qwen3-0.6B                 the default revision of a model, any hub
 *   hf:Qwen/Qwen3-0.6B@main         Hugging Face, branch main
 *   modelscope:Qwen/Qwen3-0.6B      ModelScope ("ms:" is the short form)
 *   local:acme/tiny@v1              a folder brought in with `arca add`
 *   Qwen/Qwen3-0.6B@0123abcd        a commit, full or an unambiguous prefix (>= 7 hex digits)
 *   Qwen/Qwen3-0.6B@main:q4_k_m     a converted variant
 *
 * org and name follow the Hub's rules: letters, digits, '_', '-' and '.', starting and ending
 * with a letter, digit or '_', no "--" or "..", at most 96 bytes each. A revision is at most
 * 255 printable bytes without spaces or ':' (it may contain '/', as in refs/pr/1).
 */
#ifndef ARCA_REF_H
#define ARCA_REF_H

#include "arca/error.h"

#include <stddef.h>

typedef struct {
	char hub[16];        /* "" when not given; else "hf", "modelscope" or "local" */
	char repo_id[200];   /* "org/name" */
	char revision[256];  /* "" when not given */
	char variant[64];    /* "" when not given; lowercase */
} arca_ref;

/* Parses text into out. ARCA_EINVALID with a message saying what is wrong. */
arca_err arca_ref_parse(arca_ref *out, const char *text);

/* Writes the canonical text of ref (hub prefix only when set). Returns what snprintf does. */
int arca_ref_format(char *buf, size_t cap, const arca_ref *ref);

/* ARCA_OK when `hub` names a known hub; fills the canonical spelling ("ms" → "modelscope"). */
arca_err arca_ref_canonical_hub(char out[16], const char *hub);

#endif
