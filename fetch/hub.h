/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fetch/hub.h — one interface over the hubs arca mirrors from (Hugging Face, ModelScope).
 *
 * A pull asks a hub, in order: resolve the revision to a commit; list the files at it with
 * their hashes; for each file, the URL of the first request; then checks the hub's first
 * answer for each file (commit, size, etag, read on the redirect itself) and, at the end,
 * whether the revision still points where it did. Every answer the hub gives is kept as
 * evidence (URL, status, the headers that matter, Date). Errors the hub reports (gated,
 * missing repo, bad token, unknown revision) become arca errors with plain messages. The
 * token never appears in a message or in evidence.
 */
#ifndef ARCA_FETCH_HUB_H
#define ARCA_FETCH_HUB_H

#include <jansson.h>
#include <stdint.h>

#include "arca/digest.h"
#include "arca/error.h"
#include "fetch/http.h"

typedef struct {
	char *path;
	uint64_t size;
	char sha256[ARCA_SHA256_HEX];  /* "" when the hub gives none (HF regular files) */
	char git_sha1[ARCA_SHA1_HEX];  /* "" when the hub gives none (ModelScope) */
	char xet_hash[ARCA_SHA256_HEX]; /* the Xet file id when the hub lists one, else "" */
	int lfs;
} arca_hub_file;

void arca_hub_files_free(arca_hub_file *files, size_t n);

typedef struct arca_hub arca_hub;

typedef struct arca_hub_opts arca_hub_opts;

/* What a hub is: its name and the ways it differs, as data (pull.c asks these fields, never
 * the name), and its operations. One table in hub.c lists every hub. */
typedef struct {
	const char *name;             /* "hf", "modelscope": as REFs and the catalog spell it */
	const char *title;            /* "Hugging Face", "ModelScope": for messages */
	const char *default_revision; /* what a REF without @revision means */
	/* Files can be fetched by any commit, so a locked commit the revision has moved away
	 * from can still be pulled (HF). Without it only the revision's newest commit can be:
	 * a moved revision is an error (ModelScope). */
	int fetches_old_commits;
	/* File URLs name the revision, not the commit (ModelScope has no commit URLs), so the
	 * revision is resolved again after the download: a commit that moved meanwhile fails
	 * the pull instead of mixing two commits. */
	int resolve_again_after_download;
	/* A client for the hub (endpoint and token from opts, else the environment). */
	arca_err (*open)(arca_hub **out, arca_http *http, const arca_hub_opts *opts);
	/* The commit the revision names now (40 or 64 hex) into commit_out. */
	arca_err (*resolve)(arca_hub *hub, const char *repo, const char *revision,
		char commit_out[ARCA_SHA256_HEX], json_t *evidence);
	/* Every file at the commit (HF) or revision (ModelScope), paths checked safe. */
	arca_err (*list)(arca_hub *hub, const char *repo, const char *commit, const char *revision,
		arca_hub_file **files_out, size_t *n_out, json_t *evidence);
	/* URL of the first request for a file (malloc'ed). */
	char *(*file_url)(arca_hub *hub, const char *repo, const char *commit,
		const char *revision, const arca_hub_file *file);
	/* Checks one answer (a 3xx or a 2xx) of a file's resolve phase: the first request
	 * and the redirects after it, until an answer carries the hub's metadata for the file
	 * (HF: X-Repo-Commit with X-Linked-Etag on a redirect or ETag on a 2xx; ModelScope,
	 * whose answers carry none: the first answer). Metadata are checked against the
	 * listing and *carried_out set to 1; a redirect without them is recorded as a hop and
	 * followed (*carried_out = 0); a 2xx without them is an error. Storage answers are
	 * never passed here. Appends the answer to `evidence`. */
	arca_err (*check_answer)(arca_hub *hub, const char *repo, const char *commit,
		const arca_hub_file *file, const char *url, const arca_http_response *resp,
		json_t *evidence, int *carried_out);
	/* Turns a non-2xx answer of the hub's own host into an error naming `what`. */
	arca_err (*answer_error)(arca_hub *hub, const char *what, const arca_http_response *resp);
	void (*free)(arca_hub *hub);
} arca_hub_ops;

struct arca_hub {
	const arca_hub_ops *ops;
	arca_http *http;            /* borrowed */
	char *endpoint;             /* no trailing '/' */
	char **auth_headers;        /* NULL-terminated; sent to the hub's own host only */
	int has_token;
};

struct arca_hub_opts {
	const char *endpoint; /* NULL: HF_ENDPOINT / MODELSCOPE_ENDPOINT, else the public hub */
	const char *token;    /* NULL: from the environment (HF_TOKEN, ...) */
};

/* The hubs (hf.c, modelscope.c). */
extern const arca_hub_ops arca_hub__hf_ops, arca_hub__modelscope_ops;

/* The hub named `name` (canonical spelling, arca_ref_canonical_hub), or NULL. */
const arca_hub_ops *arca_hub__find(const char *name);
/* "hf or modelscope": the names of the table, for messages. */
void arca_hub__names(char *buf, size_t cap);

/* A client for the hub named `name` ("": hf); ARCA_EINVALID naming the hubs there are for
 * any other name. */
arca_err arca_hub_open(arca_hub **out, const char *name, arca_http *http,
	const arca_hub_opts *opts);
arca_err arca_hub_open_hf(arca_hub **out, arca_http *http, const arca_hub_opts *opts);
arca_err arca_hub_open_modelscope(arca_hub **out, arca_http *http, const arca_hub_opts *opts);
void arca_hub_free(arca_hub *hub);

/* ------------------------------------------------------------------ shared helpers */

/* GET (or POST) a JSON document from the hub with its auth headers. Non-2xx answers go to
 * `on_error` (which must return an error); a body that is not JSON is ARCA_ENET naming
 * the URL and what came instead (HTML page, truncated JSON). */
typedef arca_err (*arca_hub_error_fn)(arca_hub *hub, const char *what,
	const arca_http_response *resp);
arca_err arca_hub__get_json(arca_hub *hub, const char *url, const char *post_body,
	const char *what, arca_hub_error_fn on_error, json_t **out, arca_http_response *resp_out);

/* The evidence record of one answer: {url, status, date, and each named header present}. */
json_t *arca_hub__evidence(const char *url, const arca_http_response *resp,
	const char *const *header_names);

/* Strips W/ and quotes from an ETag into out. */
void arca_hub__clean_etag(char *out, size_t cap, const char *etag);

/* Builds the auth header lines (each prefix followed by the token; NULL-terminated list)
 * for a token (NULL: none); sets has_token. */
arca_err arca_hub__set_auth(arca_hub *hub, const char *const *prefixes, const char *token);

/* Sorts a listing by path; a path listed twice is an error naming `what`. */
arca_err arca_hub__sort_files(arca_hub_file *files, size_t n, const char *what);

/* The next page of a listing from its Link header (rel="next"), on `endpoint`: a link on
 * the endpoint's origin as it is, another origin's path and query under the endpoint.
 * NULL when there is none. malloc'ed. */
char *arca_hub__next_page_url(const char *endpoint, const char *link);

/* A token as given (option, environment, file) with surrounding spaces, tabs, CR and LF
 * removed; NULL when nothing is left. malloc'ed. */
char *arca_hub__clean_token(const char *raw);

/* `path` with a leading "~" or "~/" turned into $HOME, then `suffix` appended. malloc'ed;
 * NULL when out of memory or "~" is used without HOME. */
char *arca_hub__expand_home(const char *path, const char *suffix);

/* A hub with these ops on this endpoint, sending the token (may be NULL) after each of the
 * header prefixes to the endpoint's origin. Takes endpoint and token (malloc'ed; NULL
 * endpoint: out of memory) whatever happens; the token is scrubbed before it is freed. */
arca_err arca_hub__new(arca_hub **out, const arca_hub_ops *ops, arca_http *http,
	char *endpoint, char *token, const char *const *prefixes);

/* Endpoint from an option, else an environment variable, else a default; no trailing '/'. */
char *arca_hub__endpoint(const char *option, const char *env_name, const char *fallback);

#endif
