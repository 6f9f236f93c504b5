/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/card.h — what a model says about itself: the model card's YAML front matter
 * (README.md between "---" lines) as JSON, and the licence drawn from it and from the
 * LICENSE/NOTICE files beside it.
 *
 * The card is parsed with libyaml under limits (1 MiB of front matter, nesting depth 64,
 * 100 000 nodes after alias expansion), so a hostile README cannot exhaust memory. Results
 * are malloc'ed JSON text owned by the caller. Nothing here prints or exits.
 */
#ifndef ARCA_CARD_H
#define ARCA_CARD_H

#include "arca/error.h"

#include <stddef.h>

/* Parses the front matter of a README. *json_out is a JSON object, or NULL when the README
 * has no front matter. ARCA_EINVALID (message gives line and reason) on malformed YAML. */
arca_err arca_card_parse(char **json_out, const char *readme, size_t len);

/* True when a top-level file name looks like a licence or notice (LICENSE, LICENCE.txt,
 * LICENSE-MODEL, COPYING, NOTICE, ... any case). */
int arca_card_is_license_file(const char *path);

typedef struct {
	const char *path; /* as stored in the snapshot */
	const char *text; /* the file's first bytes */
	size_t len;
} arca_license_file;

/* Builds the licence record of a snapshot:
 *   {"summary": "apache-2.0", "id": <card license>, "name": <license_name>,
 *    "link": <license_link>, "files": [paths], "detected": [{"path", "id"}]}
 * summary is the card's licence id ("other: <name>" for "other"), else what the licence
 * files' text identifies ("<id> (from <file>)"), else "unknown". card_json may be NULL. */
arca_err arca_card_license(char **json_out, const char *card_json,
	const arca_license_file *files, size_t n_files);

/* The "summary" of a licence record, malloc'ed ("unknown" when absent or unreadable). */
char *arca_card_license_summary(const char *license_json);

#endif
