/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/serve_routes.c — which URL goes where in arca serve, and the answers that carry
 * file bytes:
 *
 *   /{org}/{name}/resolve/{rev}/{path}   git file: 200 with the bytes, ETag "<git blob id>";
 *                                        LFS file: 302 to /api/storage/{sha256} on the host
 *                                        the client used, with X-Linked-Etag "<sha256>" and
 *                                        X-Linked-Size, the way the Hub redirects to its CDN
 *   /api/resolve-cache/models/{org}/{name}/{rev}/{path}   the bytes directly, any file
 *   /api/storage/{sha256}                the bytes of a blob that a complete snapshot's file
 *                                        is; ETag "<sha256>", so a client that reads the
 *                                        ETag after following the redirect names it right
 *
 * Every file answer carries X-Repo-Commit (but storage, which knows no commit) and supports
 * HEAD, Range and If-None-Match; a missing file is 404 EntryNotFound with X-Repo-Commit,
 * which clients use to remember that the path does not exist at that commit.
 */
#include "store/serve_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/path.h"

/* ------------------------------------------------------------------ file bytes */

/* Opens the blob of a file whose catalog size is `size`; on failure the answer is queued. */
static int open_content(int *fd, serve_req *r, const char *sha256, uint64_t size,
	enum MHD_Result *ret)
{
	uint64_t actual;
	arca_err err = arca_store_open_blob_fd(fd, &actual, r->store, sha256);
	if (err == ARCA_OK && actual != size) {
		/* a damaged blob is not sent under a length it does not have; fsck finds it */
		close(*fd);
		err = arca_error_set(ARCA_ECORRUPT, "blob %s has %llu bytes, the catalog says %llu",
			sha256, (unsigned long long)actual, (unsigned long long)size);
	}
	if (err == ARCA_ENOTFOUND) {
		*ret = arca_serve__reply_error(r, 404, "EntryNotFound", NULL,
			"Entry not found: the store no longer holds this file's content");
		return 0;
	}
	if (err < 0) {
		*ret = arca_serve__reply_failure(r, err);
		return 0;
	}
	return 1;
}

static enum MHD_Result resolve(serve_req *r, const char *org, const char *name,
	const char *rev_name, size_t path_from, int redirect_lfs)
{
	char *path = arca_serve__join(r, path_from, r->n_segs);
	if (!path)
		return arca_serve__reply_failure(r, ARCA_ENOMEM);
	if (arca_path_check_relative(path, strlen(path)) < 0) {
		arca_error_clear();
		free(path);
		return arca_serve__reply_error(r, 400, NULL, NULL, "Invalid file path");
	}
	serve_rev rev;
	enum MHD_Result ret;
	if (!arca_serve__open_revision(&rev, r, org, name, rev_name, &ret)) {
		free(path);
		return ret;
	}
	arca_file file;
	serve_entry e;
	arca_err err = arca_catalog_find_file(&file, arca_store_catalog(r->store), rev.snap.id,
		path);
	if (err == ARCA_ENOTFOUND) {
		arca_error_clear();
		ret = arca_serve__reply_error(r, 404, "EntryNotFound", rev.commit,
			"Entry not found: %.300s", path);
		goto cleanup;
	}
	if (err == ARCA_OK && (err = arca_serve__describe(&e, r->store, &rev, &file)) < 0)
		arca_file_dispose(&file);
	if (err < 0) {
		ret = arca_serve__reply_failure(r, err);
		goto cleanup;
	}
	char etag[ARCA_SHA256_HEX + 2], size[24], location[400];
	snprintf(etag, sizeof(etag), "\"%s\"", e.etag);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)file.size);
	serve_header headers[] = {
		{ "X-Repo-Commit", rev.commit },
		{ e.lfs ? "X-Linked-Etag" : NULL, etag },
		{ e.lfs ? "X-Linked-Size" : NULL, size },
		{ NULL, NULL }, /* Location and ETag, for the redirect */
		{ NULL, NULL },
		{ NULL, NULL },
	};
	const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "If-None-Match");
	if (e.lfs && redirect_lfs && !(inm && strstr(inm, etag))) {
		char base[300];
		arca_serve__base_url(base, sizeof(base), r);
		snprintf(location, sizeof(location), "%s/api/storage/%s", base, file.sha256);
		headers[3] = (serve_header){ "Location", location };
		headers[4] = (serve_header){ "ETag", etag };
		char body[480];
		snprintf(body, sizeof(body), "Found. Redirecting to %s", location);
		ret = arca_serve__reply_text(r, 302, body, headers);
	} else {
		int fd;
		if (open_content(&fd, r, file.sha256, file.size, &ret))
			ret = arca_serve__reply_file(r, fd, file.size, etag,
				arca_serve__content_type(path), headers);
	}
	arca_file_dispose(&file);
cleanup:
	arca_serve__rev_dispose(&rev);
	free(path);
	return ret;
}

static enum MHD_Result storage(serve_req *r, const char *sha256)
{
	int served = 0;
	arca_err err = arca_hex_is_lower(sha256, 64) ?
		arca_catalog_blob_in_complete_snapshot(arca_store_catalog(r->store), sha256, &served) :
		ARCA_OK;
	if (err < 0)
		return arca_serve__reply_failure(r, err);
	/* only the files of what is served: no signature bundles, variants or half pulls */
	if (!served)
		return arca_serve__reply_error(r, 404, NULL, NULL, "No such file in storage");
	arca_blob_record blob;
	if ((err = arca_catalog_get_blob(arca_store_catalog(r->store), sha256, &blob)) < 0)
		return arca_serve__reply_failure(r, err);
	int fd;
	enum MHD_Result ret;
	if (!open_content(&fd, r, sha256, blob.size, &ret))
		return ret;
	char etag[ARCA_SHA256_HEX + 2];
	snprintf(etag, sizeof(etag), "\"%s\"", sha256);
	return arca_serve__reply_file(r, fd, blob.size, etag, "application/octet-stream", NULL);
}

/* ------------------------------------------------------------------ routing */

static int is(const serve_req *r, size_t i, const char *text)
{
	return i < r->n_segs && !strcmp(r->segs[i], text);
}

static int reading(const serve_req *r)
{
	return !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
}

static enum MHD_Result not_allowed(serve_req *r, const char *allow)
{
	serve_header h[] = { { "Allow", allow }, { NULL, NULL } };
	return arca_serve__reply_text(r, 405, "Method Not Allowed\n", h);
}

/* /api/models/{org}/{name}/... */
static enum MHD_Result route_models(serve_req *r)
{
	const char *org = r->segs[2], *name = r->segs[3];
	size_t n = r->n_segs;
	if (is(r, 4, "paths-info") && n == 6) {
		if (strcmp(r->method, "POST") != 0)
			return not_allowed(r, "POST");
		return arca_serve__paths_info(r, org, name, r->segs[5]);
	}
	if (!reading(r))
		return not_allowed(r, "GET, HEAD");
	if (n == 4 || (n == 5 && !r->segs[4][0]))
		return arca_serve__model_info(r, org, name, NULL);
	if (is(r, 4, "revision") && n >= 6) {
		/* a revision with unencoded slashes (refs/pr/1) spans the rest of the path */
		char *rev = arca_serve__join(r, 5, n);
		if (!rev)
			return arca_serve__reply_failure(r, ARCA_ENOMEM);
		enum MHD_Result ret = arca_serve__model_info(r, org, name, rev);
		free(rev);
		return ret;
	}
	if (is(r, 4, "refs") && n == 5)
		return arca_serve__refs(r, org, name);
	if (is(r, 4, "tree") && n >= 6) {
		size_t end = n;
		if (end > 6 && !r->segs[end - 1][0])
			end--; /* tree/main/sub/ is tree/main/sub */
		char *path = arca_serve__join(r, 6, end);
		if (!path)
			return arca_serve__reply_failure(r, ARCA_ENOMEM);
		enum MHD_Result ret;
		if (path[0] && arca_path_check_relative(path, strlen(path)) < 0) {
			arca_error_clear();
			ret = arca_serve__reply_error(r, 400, NULL, NULL, "Invalid path");
		} else {
			ret = arca_serve__tree(r, org, name, r->segs[5], path);
		}
		free(path);
		return ret;
	}
	return arca_serve__reply_error(r, 404, NULL, NULL, "Not Found");
}

enum MHD_Result arca_serve__route(serve_req *r)
{
	size_t n = r->n_segs;
	if (is(r, 0, "api")) {
		if (is(r, 1, "models") && n >= 4)
			return route_models(r);
		if ((is(r, 1, "datasets") || is(r, 1, "spaces")) && n >= 4)
			return arca_serve__reply_error(r, 404, "RepoNotFound", NULL,
				"Repository not found: arca serve serves models only");
		if (!reading(r))
			return not_allowed(r, "GET, HEAD");
		if (is(r, 1, "storage") && n == 3)
			return storage(r, r->segs[2]);
		if (is(r, 1, "resolve-cache") && is(r, 2, "models") && n >= 7)
			return resolve(r, r->segs[3], r->segs[4], r->segs[5], 6, 0);
		return arca_serve__reply_error(r, 404, NULL, NULL, "Not Found");
	}
	if (!reading(r))
		return not_allowed(r, "GET, HEAD");
	if (n >= 5 && is(r, 2, "resolve"))
		return resolve(r, r->segs[0], r->segs[1], r->segs[3], 4, 1);
	if (n >= 6 && (is(r, 0, "datasets") || is(r, 0, "spaces")) && is(r, 3, "resolve"))
		return arca_serve__reply_error(r, 404, "RepoNotFound", NULL,
			"Repository not found: arca serve serves models only");
	if (n == 1 && !r->segs[0][0])
		return arca_serve__reply_text(r, 200, "arca serve: a read-only Hugging Face endpoint; "
			"set HF_ENDPOINT to this URL\n", NULL);
	return arca_serve__reply_error(r, 404, NULL, NULL, "Not Found");
}
