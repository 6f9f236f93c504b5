/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify/sig_trust_probe.c — whether a text is a Sigstore trusted root (its media type), so
 * `arca key trust` can keep one. Reading one whole is verify/sig_trust_root.c's job.
 */
#include <jansson.h>
#include <string.h>

#include "arca/sign.h"

#define TRUSTED_ROOT_TYPE "application/vnd.dev.sigstore.trustedroot+json;version=0.1"

arca_err arca_sig_check_trusted_root(const char *text, size_t len, const char *what)
{
	if (len > (1u << 20))
		return arca_error_set(ARCA_EINVALID, "%s: too large for a Sigstore trusted root", what);
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *type = json_string_value(json_object_get(root, "mediaType"));
	arca_err err = ARCA_OK;
	if (!root)
		err = arca_error_set(ARCA_ECORRUPT, "%s: not JSON (line %d: %s)", what, jerr.line,
			jerr.text);
	else if (!type || strcmp(type, TRUSTED_ROOT_TYPE) != 0)
		err = arca_error_set(ARCA_EINVALID, "%s: not a Sigstore trusted root (mediaType %s)",
			what, type ? type : "missing");
	json_decref(root);
	return err;
}
