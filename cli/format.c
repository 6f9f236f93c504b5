/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/format.c — how snapshots look in output, shared by ls and show so both speak of a
 * snapshot the same way in text and in JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static json_t *parsed_or_null(const char *text)
{
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;
	return v ? v : json_null();
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *cli_snapshot_json(const arca_snapshot *snap)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "hub", json_string(snap->hub));
	json_object_set_new(o, "repo_id", json_string(snap->repo_id));
	json_object_set_new(o, "commit", json_string(snap->commit));
	json_object_set_new(o, "refs", parsed_or_null(snap->refs_json));
	json_object_set_new(o, "revision_asked", string_or_null(snap->revision));
	json_object_set_new(o, "state", json_string(snap->state));
	json_object_set_new(o, "files", json_integer(snap->n_files));
	json_object_set_new(o, "size", json_integer((json_int_t)snap->total_size));
	json_object_set_new(o, "source", json_string(snap->source));
	json_object_set_new(o, "origin", string_or_null(snap->origin));
	json_object_set_new(o, "created_at", json_string(snap->created_at));
	json_object_set_new(o, "completed_at", string_or_null(snap->completed_at));
	json_object_set_new(o, "license", parsed_or_null(snap->license_json));
	json_object_set_new(o, "signature", string_or_null(snap->signature_state));
	json_object_set_new(o, "signatures", parsed_or_null(snap->signatures_json));
	return o;
}

void cli_snapshot_name(char *buf, size_t cap, const arca_snapshot *snap)
{
	snprintf(buf, cap, "%s:%s", snap->hub, snap->repo_id);
}
