/* SPDX-License-Identifier: Apache-2.0 */
/*
 * convert/tokenizer_spm.c — a SentencePiece tokenizer.model (+ tokenizer_config.json,
 * added_tokens.json, config.json) → GGUF `llama` vocabulary, following the formats
 * reference §8.5: pieces as tokens (`▁` kept), their scores, the proto's UNKNOWN / CONTROL /
 * UNUSED / BYTE types (everything else NORMAL), [PAD<id>] up to config.json's vocab_size,
 * added tokens as USER_DEFINED or CONTROL with score −1000. Also what arca's own tokenizer
 * needs and llama.cpp ignores: tokenizer.arca.spm_model_type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arca/sentencepiece.h"
#include "convert/tokenizer_internal.h"

typedef struct {
	char **text;
	float *score;
	int32_t *type;
	uint32_t n;
} spm_vocab;

static void vocab_free(spm_vocab *v)
{
	for (uint32_t i = 0; v->text && i < v->n; i++)
		free(v->text[i]);
	free(v->text);
	free(v->score);
	free(v->type);
}

static char *metaspace_to_space(const char *s)
{
	char *out = strdup(s), *o = out;
	if (!out)
		return NULL;
	for (const char *p = s; *p;) {
		if (!strncmp(p, "\xe2\x96\x81", 3)) {
			*o++ = ' ';
			p += 3;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* An added token replaces the text and type at its id (score −1000). */
static arca_err set_added(spm_vocab *v, json_int_t id, const char *content, int special,
	const char *file)
{
	if (id < 0 || id >= (json_int_t)v->n)
		return arca_error_set(ARCA_EINVALID, "%s: added token '%.40s' has id %lld, outside "
			"the vocabulary of %u", file, content, (long long)id, v->n);
	if (!content[0])
		return arca_error_set(ARCA_EINVALID, "%s: added token %lld is empty", file,
			(long long)id);
	special = special || arca_convert__looks_special(content);
	char *text = special ? strdup(content) : metaspace_to_space(content);
	if (!text)
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	free(v->text[id]);
	v->text[id] = text;
	v->type[id] = special ? TOKT_CONTROL : TOKT_USER_DEFINED;
	v->score[id] = -1000.0f;
	return ARCA_OK;
}

static arca_err build(spm_vocab *v, const arca_spm_model *m, const arca_tokenizer_sources *src,
	json_t *tok_config)
{
	uint32_t n = src->vocab_size ? src->vocab_size : m->n_pieces;
	if (n < m->n_pieces)
		return arca_error_set(ARCA_EINVALID, "tokenizer.model has %u pieces, more than the "
			"model's vocab_size %u (config.json)", m->n_pieces, n);
	v->n = n;
	v->text = calloc(n, sizeof(*v->text));
	v->score = calloc(n, sizeof(*v->score));
	v->type = calloc(n, sizeof(*v->type));
	if (!v->text || !v->score || !v->type)
		return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	for (uint32_t i = 0; i < n; i++) {
		char pad[32];
		if (i < m->n_pieces) {
			const arca_spm_piece *p = &m->pieces[i];
			v->text[i] = strdup(p->text);
			v->score[i] = p->score;
			v->type[i] = p->type == ARCA_SPM_UNKNOWN || p->type == ARCA_SPM_CONTROL ||
				p->type == ARCA_SPM_UNUSED || p->type == ARCA_SPM_BYTE ? p->type : TOKT_NORMAL;
		} else {
			snprintf(pad, sizeof(pad), "[PAD%u]", i);
			v->text[i] = strdup(pad);
			v->score[i] = -10000.0f;
			v->type[i] = TOKT_UNUSED;
		}
		if (!v->text[i])
			return arca_error_set(ARCA_ENOMEM, "tokenizer: out of memory");
	}
	arca_err err = ARCA_OK;
	if (src->added_tokens_json) {
		json_error_t jerr;
		json_t *added = json_loads(src->added_tokens_json, 0, &jerr);
		if (!json_is_object(added)) {
			json_decref(added);
			return arca_error_set(ARCA_EINVALID, "added_tokens.json: not a JSON object of "
				"token → id");
		}
		const char *key;
		json_t *id;
		json_object_foreach(added, key, id) {
			if (!json_is_integer(id)) {
				err = arca_error_set(ARCA_EINVALID, "added_tokens.json: '%.40s' has no "
					"integer id", key);
				break;
			}
			if ((err = set_added(v, json_integer_value(id), key, 0, "added_tokens.json")) < 0)
				break;
		}
		json_decref(added);
		if (err < 0)
			return err;
	}
	const char *key;
	json_t *entry;
	json_object_foreach(json_object_get(tok_config, "added_tokens_decoder"), key, entry) {
		char *end;
		long long id = strtoll(key, &end, 10);
		const char *content = json_string_value(json_object_get(entry, "content"));
		if (*end || end == key || !content)
			return arca_error_set(ARCA_EINVALID, "tokenizer_config.json: added_tokens_decoder "
				"entry '%.20s' needs a numeric id and a content", key);
		if ((err = set_added(v, id, content, json_is_true(json_object_get(entry, "special")),
				"tokenizer_config.json")) < 0)
			return err;
	}
	return ARCA_OK;
}

arca_err arca_convert__tokenizer_spm(arca_gguf_writer *w, const arca_tokenizer_sources *src,
	json_t *tok_config, json_t *config)
{
	arca_spm_model *m = NULL;
	spm_vocab v = { 0 };
	arca_err err = arca_spm_model_parse(&m, src->spm_model, src->spm_model_len,
		"tokenizer.model");
	if (err < 0)
		return err;
	if (m->model_type != ARCA_SPM_UNIGRAM && m->model_type != ARCA_SPM_BPE) {
		err = arca_error_set(ARCA_EUNSUPPORTED, "tokenizer.model: SentencePiece model type %s "
			"is not supported (unigram and bpe are)", m->model_type == ARCA_SPM_WORD ?
			"word" : "char");
		goto cleanup;
	}
	if ((err = build(&v, m, src, tok_config)) < 0 ||
	    (err = arca_convert__check_unique(v.text, v.n, "tokenizer.model")) < 0)
		goto cleanup;
	/* ids from the proto (bos, eos, unk, sep, pad, mask order); tokenizer_config's texts
	 * take precedence, config.json fills what neither names */
	int32_t ids[6] = { m->bos_id, m->eos_id, m->unk_id, -1, m->pad_id, -1 };
	if ((err = arca_gguf_add_str(w, "tokenizer.ggml.model", "llama")) < 0 ||
	    (err = arca_gguf_add_str(w, "tokenizer.ggml.pre", "default")) < 0 ||
	    (err = arca_gguf_add_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v.text,
			v.n)) < 0 ||
	    (err = arca_gguf_add_arr(w, "tokenizer.ggml.scores", ARCA_GGUF_F32, v.score,
			v.n)) < 0 ||
	    (err = arca_gguf_add_arr(w, "tokenizer.ggml.token_type", ARCA_GGUF_I32, v.type,
			v.n)) < 0 ||
	    (err = arca_gguf_add_bool(w, "tokenizer.ggml.add_space_prefix",
			m->add_dummy_prefix)) < 0 ||
	    (err = arca_gguf_add_bool(w, "tokenizer.ggml.remove_extra_whitespaces",
			m->remove_extra_whitespaces)) < 0 ||
	    (err = arca_convert__add_special_ids(w, v.text, v.n, tok_config, config, ids)) < 0 ||
	    (err = arca_convert__add_chat_template(w, tok_config, src->chat_template)) < 0 ||
	    (err = arca_gguf_add_str(w, "tokenizer.arca.spm_model_type",
			m->model_type == ARCA_SPM_UNIGRAM ? "unigram" : "bpe")) < 0)
		goto cleanup;
cleanup:
	vocab_free(&v);
	arca_spm_model_free(m);
	return err;
}
