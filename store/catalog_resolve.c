/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/catalog_resolve.c — arca_catalog_find_snapshot: turning a REF (hub, repo, revision)
 * into one snapshot, and saying what is there when it does not name exactly one.
 */
#include "store/catalog_internal.h"

#include <stdio.h>
#include <string.h>

static arca_err describe_revisions(char *buf, size_t cap, arca_catalog *cat, int64_t repo)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT name FROM refs WHERE repo = ?1 UNION ALL "
		"SELECT substr(commit_id, 1, 12) FROM snapshots WHERE repo = ?1 ORDER BY 1");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, repo);
	arca_catalog__join_rows(buf, cap, st);
	sqlite3_finalize(st);
	return ARCA_OK;
}

static arca_err find_repo(arca_catalog *cat, const arca_ref *ref, int64_t *repo_out,
	char *hub_out, size_t hub_cap)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT id, hub FROM repos WHERE repo_id = ?1 AND (?2 IS NULL OR hub = ?2) ORDER BY hub");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, ref->repo_id, -1, SQLITE_TRANSIENT);
	arca_catalog__bind_text_or_null(st, 2, ref->hub);
	int n = 0, rc;
	char hubs[256] = "";
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == 0) {
			*repo_out = sqlite3_column_int64(st, 0);
			arca_catalog__column_copy(hub_out, hub_cap, st, 1);
		}
		size_t used = strlen(hubs);
		snprintf(hubs + used, sizeof(hubs) - used, "%s%s", used ? ", " : "",
			sqlite3_column_text(st, 1));
	}
	if (rc != SQLITE_DONE)
		err = arca_catalog__db_error(cat, rc, "find model");
	sqlite3_finalize(st);
	if (err < 0)
		return err;
	if (n > 1)
		return arca_error_set(ARCA_EINVALID,
			"%s is in the store from several hubs (%s); name one, e.g. %s:%s", ref->repo_id,
			hubs, hub_out, ref->repo_id);
	if (n == 1)
		return ARCA_OK;

	/* not there: suggest a spelling that differs only in case */
	if ((err = arca_catalog__prepare(cat, &st, "SELECT hub || ':' || repo_id FROM repos "
			"WHERE repo_id = ?1 COLLATE NOCASE ORDER BY 1")) < 0)
		return err;
	sqlite3_bind_text(st, 1, ref->repo_id, -1, SQLITE_TRANSIENT);
	char similar[256];
	arca_catalog__join_rows(similar, sizeof(similar), st);
	sqlite3_finalize(st);
	if (ref->hub[0])
		return arca_error_set(ARCA_ENOTFOUND, "%s:%s is not in the store%s%s", ref->hub,
			ref->repo_id, similar[0] ? "; did you mean " : "", similar);
	return arca_error_set(ARCA_ENOTFOUND, "%s is not in the store%s%s", ref->repo_id,
		similar[0] ? "; did you mean " : "", similar);
}

arca_err arca_catalog_has_repo(arca_catalog *cat, const char *hub, const char *repo_id, int *out)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT EXISTS(SELECT 1 FROM repos WHERE hub = ? AND repo_id = ?)");
	if (err < 0)
		return err;
	sqlite3_bind_text(st, 1, hub, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, repo_id, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	else
		err = arca_catalog__db_error(cat, rc, "find model");
	sqlite3_finalize(st);
	return err;
}

static int is_hex_prefix(const char *s)
{
	size_t n = strlen(s);
	if (n < 7 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Looks up a ref name; *found_out = 0 when there is none. */
static arca_err find_by_ref(arca_catalog *cat, int64_t repo, const char *name, int64_t *id_out,
	int *found_out)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st,
		"SELECT snapshot FROM refs WHERE repo = ? AND name = ?");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, repo);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	*found_out = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW)
		*id_out = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		err = arca_catalog__db_error(cat, rc, "find ref");
	sqlite3_finalize(st);
	return err;
}

/* Snapshots of repo whose commit starts with prefix (or all when prefix is NULL). */
static arca_err count_snapshots(arca_catalog *cat, int64_t repo, const char *prefix,
	int64_t *id_out, int *count_out)
{
	sqlite3_stmt *st;
	arca_err err = arca_catalog__prepare(cat, &st, "SELECT id FROM snapshots WHERE repo = ?1 AND "
		"(?2 IS NULL OR substr(commit_id, 1, length(?2)) = ?2) ORDER BY id LIMIT 2");
	if (err < 0)
		return err;
	sqlite3_bind_int64(st, 1, repo);
	arca_catalog__bind_text_or_null(st, 2, prefix);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (n++ == 0)
			*id_out = sqlite3_column_int64(st, 0);
	if (rc != SQLITE_DONE)
		err = arca_catalog__db_error(cat, rc, "find snapshot");
	sqlite3_finalize(st);
	*count_out = n;
	return err;
}

arca_err arca_catalog_find_snapshot(arca_snapshot *out, arca_catalog *cat, const arca_ref *ref)
{
	memset(out, 0, sizeof(*out));
	int64_t repo = 0, id = 0;
	char hub[32];
	arca_err err = find_repo(cat, ref, &repo, hub, sizeof(hub));
	if (err < 0)
		return err;
	int found = 0;
	char have[512];
	if (ref->revision[0]) {
		if ((err = find_by_ref(cat, repo, ref->revision, &id, &found)) < 0)
			return err;
		if (!found && is_hex_prefix(ref->revision)) {
			int count;
			if ((err = count_snapshots(cat, repo, ref->revision, &id, &count)) < 0)
				return err;
			if (count > 1)
				return arca_error_set(ARCA_EINVALID, "%s:%s@%s: commit prefix is ambiguous",
					hub, ref->repo_id, ref->revision);
			found = count == 1;
		}
		if (!found) {
			describe_revisions(have, sizeof(have), cat, repo);
			return arca_error_set(ARCA_ENOTFOUND,
				"%s:%s has no revision '%s' in the store (have: %s)", hub, ref->repo_id,
				ref->revision, have);
		}
		return arca_catalog__load_snapshot(out, cat, id);
	}
	static const char *const defaults[] = { "main", "master" };
	for (size_t i = 0; i < 2 && !found; i++)
		if ((err = find_by_ref(cat, repo, defaults[i], &id, &found)) < 0)
			return err;
	if (!found) {
		int count;
		if ((err = count_snapshots(cat, repo, NULL, &id, &count)) < 0)
			return err;
		if (count != 1) {
			describe_revisions(have, sizeof(have), cat, repo);
			return arca_error_set(count ? ARCA_EINVALID : ARCA_ENOTFOUND,
				"%s:%s: %s; name one with @revision (have: %s)", hub, ref->repo_id,
				count ? "several revisions and no main branch" : "no snapshots", have);
		}
	}
	return arca_catalog__load_snapshot(out, cat, id);
}
