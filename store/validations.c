/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/validations.c — whether a stored variant still behaves as recorded: a new
 * fingerprint against the newest earlier record of the same commit and variant, and the
 * record of it (arca/catalog.h). Only catalog data: the fingerprint itself is the
 * runtime's (arca/validate.h), and the runtime never sees the catalog.
 */
#include "arca/catalog.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

const char *arca_validation_status_name(arca_validation_status status)
{
	switch (status) {
	case ARCA_VALIDATION_NOT_RECORDED: return "not recorded";
	case ARCA_VALIDATION_RECORDED: return "recorded";
	case ARCA_VALIDATION_SAME: return "same";
	case ARCA_VALIDATION_DIFFERS: return "differs";
	}
	return "?";
}

/* Two JSON texts with the same value; text that is not JSON equals nothing. */
static int same_json(const char *a_text, const char *b_text)
{
	json_t *a = a_text ? json_loads(a_text, 0, NULL) : NULL;
	json_t *b = b_text ? json_loads(b_text, 0, NULL) : NULL;
	int same = a && b && json_equal(a, b);
	json_decref(a);
	json_decref(b);
	return same;
}

/* The "kernels" a record's metrics name, into buf ("" when none). */
static void record_kernels(char *buf, size_t cap, const char *metrics_json)
{
	json_t *m = json_loads(metrics_json ? metrics_json : "{}", 0, NULL);
	const char *k = json_string_value(json_object_get(m, "kernels"));
	snprintf(buf, cap, "%s", k ? k : "");
	json_decref(m);
}

arca_err arca_validation_check(arca_validation_verdict *out, arca_catalog *cat,
	const arca_validation_run *run)
{
	memset(out, 0, sizeof(*out));
	arca_validation rec;
	arca_err err = arca_catalog_last_validation(&rec, cat, run->commit, run->variant,
		run->prompt_set, 0);
	if (err == ARCA_ENOTFOUND) {
		arca_error_clear();
		return ARCA_OK;
	}
	if (err < 0)
		return err;
	out->had_record = 1;
	snprintf(out->at, sizeof(out->at), "%s", rec.at ? rec.at : "?");
	out->same_tokens = same_json(run->tokens_json, rec.tokens_json);
	char kernels[128];
	record_kernels(kernels, sizeof(kernels), rec.metrics_json);
	out->digest_comparable = kernels[0] && run->kernels && !strcmp(kernels, run->kernels);
	out->same_digest = rec.logits_digest && run->logits_digest &&
		!strcmp(rec.logits_digest, run->logits_digest);
	int differs = !out->same_tokens || (out->digest_comparable && !out->same_digest);
	out->status = differs ? ARCA_VALIDATION_DIFFERS : ARCA_VALIDATION_SAME;
	arca_validation_dispose(&rec);
	return ARCA_OK;
}

arca_err arca_validation_record(arca_validation_verdict *out, arca_catalog *cat,
	const arca_validation_run *run)
{
	arca_err err = arca_validation_check(out, cat, run);
	if (err == ARCA_OK)
		err = arca_catalog_add_validation(cat, run->artifact, run->prompt_set,
			run->tokens_json, run->logits_digest, run->metrics_json, &out->id);
	if (err < 0)
		return err;
	if (!out->had_record)
		out->status = ARCA_VALIDATION_RECORDED;
	return ARCA_OK;
}
