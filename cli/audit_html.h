/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/audit_html.h — the audit's HTML report (cli/audit_html.c).
 */
#ifndef ARCA_CLI_AUDIT_HTML_H
#define ARCA_CLI_AUDIT_HTML_H

#include <jansson.h>

#include "arca/error.h"

/* Writes the page for an audit's JSON document (cmd_audit.c) to path, atomically. */
arca_err cli_audit_html_write(const char *path, json_t *doc);

#endif
