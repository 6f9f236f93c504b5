/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/serve_internal.h — what the files of arca serve share (the contract is
 * arca/serve.h):
 *
 *   serve.c          the server: listening socket, libmicrohttpd, store handles, requests
 *                    from arrival to the access log
 *   serve_http.c     HTTP pieces: URL segments, queries, Range, the token, the answers
 *   serve_view.c     the store seen as a hub: models, revisions, files and their git oids
 *   serve_api.c      /api/models/...: model info, tree listings, refs, paths-info
 *   serve_routes.c   which URL goes where; resolve and storage (file bytes)
 *
 * A request's life: libmicrohttpd reads it; on_uri (serve.c) allocates its serve_req with
 * the target as sent; the access handler checks the token, collects a POST body, takes a
 * store handle from the pool and calls arca_serve__route, which queues exactly one answer
 * through the arca_serve__reply_* functions; on_completed logs it and frees the serve_req.
 */
#ifndef ARCA_STORE_SERVE_INTERNAL_H
#define ARCA_STORE_SERVE_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "arca/catalog.h"
#include "arca/serve.h"

/* Bytes of answers built in memory (listings, model info) and request bodies that may be
 * in flight at once; past it requests get 503 with Retry-After. */
#define SERVE_BUFFER_BUDGET ((size_t)64 << 20)
/* The largest POST body accepted (paths-info). */
#define SERVE_BODY_MAX ((size_t)256 << 10)
/* libmicrohttpd's buffer per connection: headers in and out. */
#define SERVE_CONNECTION_MEMORY ((size_t)32 << 10)

struct arca_server {
	struct MHD_Daemon *daemon;
	char address[96];          /* "127.0.0.1:8080" */
	char url[112];             /* "http://127.0.0.1:8080" */
	int loopback;
	char *token;               /* NULL: none */
	unsigned threads, max_connections, timeout_s;
	arca_serve_request_cb on_request;
	void *payload;
	/* store handles: one per worker thread, lent to a request while it reads the catalog */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_freed;
	arca_store **handles;
	size_t n_handles;
	arca_store **idle;
	size_t n_idle;
	atomic_size_t buffered;    /* see SERVE_BUFFER_BUDGET */
};

/* One request, from its arrival to its log line. */
typedef struct {
	arca_server *server;
	struct MHD_Connection *conn;
	char *target;              /* path and query as sent */
	const char *method;
	const char *version;
	int head;                  /* HEAD: headers only */
	int routed;                /* the access handler has seen the request's headers */
	time_t when;
	double start;
	char client[64];
	char *body;                /* POST body, at most SERVE_BODY_MAX */
	size_t body_len;
	int body_too_big;
	int status;                /* the answer queued, 0 until then */
	uint64_t bytes;            /* its body size (0 for HEAD) */
	arca_store *store;         /* a pool handle while routing */
	char **segs;               /* the path split on '/', each segment percent-decoded */
	size_t n_segs;
} serve_req;

typedef struct {
	const char *name, *value;
} serve_header;                /* arrays end with { NULL, NULL } */

/* ------------------------------------------------------------------ serve_http.c */

/* Percent-decodes s in place (len bytes), NUL-terminating; *len_out = decoded length
 * (the result may hold NUL bytes). -1 on a malformed escape. */
int arca_serve__percent_decode(char *s, size_t len, size_t *len_out);

/* Splits the raw path of r->target into r->segs. 0, or the HTTP status to refuse it with
 * (400: a bad escape, a NUL or backslash, a "." or ".." segment, also inside a decoded
 * %2F; 414: too many segments; 500: out of memory). */
int arca_serve__split_path(serve_req *r);

/* Segments lo..hi-1 joined with '/' (malloc'ed), or NULL when out of memory. */
char *arca_serve__join(const serve_req *r, size_t lo, size_t hi);

/* A query parameter, percent-decoded (malloc'ed; NULL when absent). */
char *arca_serve__query(const serve_req *r, const char *name);
/* A boolean query parameter: "true"/"1"/"yes" (any case) are true; absent: `fallback`. */
int arca_serve__query_bool(const serve_req *r, const char *name, int fallback);

typedef enum {
	SERVE_RANGE_NONE,          /* no Range, or one to ignore (malformed, several ranges) */
	SERVE_RANGE_OK,            /* *first..*last (inclusive) lie inside the content */
	SERVE_RANGE_UNSATISFIABLE, /* a valid range that misses the content: 416 */
} serve_range;

/* Reads a Range header value (NULL: none) against content of `size` bytes (RFC 9110
 * §14: one byte range, "a-b", "a-" or "-n"; numbers past 2^64 are clamped). */
serve_range arca_serve__parse_range(const char *value, uint64_t size, uint64_t *first,
	uint64_t *last);

/* Splits "ADDR:PORT", "[ADDR]:PORT" or "PORT" (loopback) into host and port; -1 when the
 * text is none of these. */
int arca_serve__parse_listen(const char *text, char *host, size_t host_cap, char *port,
	size_t port_cap);

/* 1 when the request carries "Authorization: Bearer <the token>" (compared in constant
 * time), or no token is configured; 0 for a wrong one, -1 for none at all. */
int arca_serve__authorized(const serve_req *r);

/* "http://host:port" as the client reached us (its Host header when that is a plain
 * host[:port]), else the server's URL, into buf. */
void arca_serve__base_url(char *buf, size_t cap, const serve_req *r);

/* Queue one answer. Each returns what the access handler returns; the response objects
 * are the callee's. `extra` headers may be NULL. */
enum MHD_Result arca_serve__reply_json(serve_req *r, unsigned status, json_t *doc,
	const serve_header *extra);
/* doc with 200, or for err < 0 the failure answer (doc dropped). */
enum MHD_Result arca_serve__reply_result(serve_req *r, arca_err err, json_t *doc,
	const serve_header *extra);
enum MHD_Result arca_serve__reply_text(serve_req *r, unsigned status, const char *text,
	const serve_header *extra);
/* An error the way the Hub writes it: X-Error-Code (when code is not NULL),
 * X-Error-Message, X-Repo-Commit (when commit is not NULL), body {"error": message}. */
enum MHD_Result arca_serve__reply_error(serve_req *r, unsigned status, const char *code,
	const char *commit, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The answer for an arca error that is not the client's fault: 503 (busy) or 500. */
enum MHD_Result arca_serve__reply_failure(serve_req *r, arca_err err);
/* A file's bytes from fd (taken over: closed in every case) with If-None-Match (304),
 * If-Range and Range (206, 416) applied. etag is the quoted ETag. */
enum MHD_Result arca_serve__reply_file(serve_req *r, int fd, uint64_t size, const char *etag,
	const char *content_type, const serve_header *extra);

/* Content-Type by file name, as the Hub's CDN answers. */
const char *arca_serve__content_type(const char *path);

/* ------------------------------------------------------------------ serve_view.c */

/* A model revision as the store serves it. */
typedef struct {
	char hub[16];
	char repo_id[200];
	char org[100];
	arca_snapshot snap;
	char commit[41];           /* what clients see: the first 40 hex digits */
} serve_rev;

/* How the Hub would list one file. */
typedef struct {
	int lfs;
	char oid[ARCA_SHA1_HEX];   /* the tree's oid: git blob id, or the LFS pointer's */
	char etag[ARCA_SHA256_HEX];/* the content's name: sha256 (LFS) or git blob id */
	size_t pointer_size;       /* LFS only */
} serve_entry;

/* Finds the model org/name (hub, repo_id and org of *out; no snapshot). On failure the
 * answer (404 RepoNotFound, 500) is already queued in *ret and 0 is returned. */
int arca_serve__find_model(serve_rev *out, serve_req *r, const char *org, const char *name,
	enum MHD_Result *ret);

/* Finds org/name and revision rev ("" or "HEAD": the default branch). On failure the
 * answer (404 RepoNotFound or RevisionNotFound, 500) is already queued in *ret and 0 is
 * returned; 1 when found (dispose with arca_serve__rev_dispose). */
int arca_serve__open_revision(serve_rev *out, serve_req *r, const char *org, const char *name,
	const char *rev, enum MHD_Result *ret);
void arca_serve__rev_dispose(serve_rev *rev);

/* Describes a file of rev; fills f->git_sha1 by hashing the blob when the catalog lacks
 * it for a git file. */
arca_err arca_serve__describe(serve_entry *out, arca_store *store, const serve_rev *rev,
	arca_file *f);

/* The git tree oid of the folder holding files[lo..hi) (sorted by path), all of whose
 * paths start with `prefix_len` bytes of folder name plus '/'. */
arca_err arca_serve__tree_oid(char out[ARCA_SHA1_HEX], arca_store *store, const serve_rev *rev,
	arca_file *files, size_t lo, size_t hi, size_t prefix_len);

/* ------------------------------------------------------------------ serve_api.c */

enum MHD_Result arca_serve__model_info(serve_req *r, const char *org, const char *name,
	const char *rev);
enum MHD_Result arca_serve__tree(serve_req *r, const char *org, const char *name, const char *rev,
	const char *path);
enum MHD_Result arca_serve__refs(serve_req *r, const char *org, const char *name);
enum MHD_Result arca_serve__paths_info(serve_req *r, const char *org, const char *name,
	const char *rev);

/* ------------------------------------------------------------------ serve_routes.c */

/* Answers a request whose headers (and body) have arrived and whose token was checked. */
enum MHD_Result arca_serve__route(serve_req *r);

#endif
