/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arca/serve.h — `arca serve`: a read-only Hugging Face–compatible HTTP endpoint over a
 * store, so clients on an air-gapped network set HF_ENDPOINT and work unchanged.
 *
 * What it answers (docs/serve.md has the headers and the error table):
 *   GET  /api/models/{org}/{name}[/revision/{rev}]     model info (sha, siblings, card)
 *   GET  /api/models/{org}/{name}/tree/{rev}[/{path}]  file listing, paged by Link headers
 *   GET  /api/models/{org}/{name}/refs                 the store's refs as branches
 *   POST /api/models/{org}/{name}/paths-info/{rev}     entries for named paths
 *   HEAD|GET /{org}/{name}/resolve/{rev}/{path}        git files: 200 with the bytes; LFS
 *                                                      files: 302 to /api/storage/{sha256}
 *   HEAD|GET /api/storage/{sha256}                     the bytes of an LFS file (ranges)
 *
 * A name org/name is the store's hf: model of that name, else its local: one, else its
 * modelscope: one. Only complete snapshots are served; a snapshot's commit is shown by its
 * first 40 hex digits (local snapshots have 64), which clients take for a git commit.
 * URL paths are split on '/', then percent-decoded per segment; a file path is only ever
 * looked up in the catalog, never joined onto a folder, and ".", "..", NUL or backslash
 * segments are refused with 400. Blobs are opened through the store API and sent with
 * sendfile.
 *
 * Threads: libmicrohttpd runs `threads` worker threads (epoll); each takes one of the
 * server's own store handles while it reads the catalog, so the caller's store is not used
 * after arca_server_start returns (its lock may be released: the catalog is SQLite in WAL
 * mode and other arca processes keep writing while this serves). Memory stays bounded: at
 * most max_connections connections with a fixed buffer each, an idle timeout, and a budget
 * for answers built in memory (listings), past which requests get 503 and Retry-After.
 *
 * Nothing here prints or exits: requests are reported through the on_request callback.
 */
#ifndef ARCA_SERVE_H
#define ARCA_SERVE_H

#include "arca/error.h"
#include "arca/store.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct arca_server arca_server;

/* One answered request, as an access log records it. Borrowed for the callback's duration. */
typedef struct {
	time_t when;          /* when the request arrived */
	const char *client;   /* the peer's address, "127.0.0.1" */
	const char *method;
	const char *target;   /* path and query as sent; control characters, spaces and '"' as %XX */
	const char *version;  /* "HTTP/1.1" */
	int status;           /* 0 when no answer was queued (the client left first) */
	uint64_t bytes;       /* body bytes of the answer (0 for HEAD) */
	double seconds;       /* from the request's arrival to the end of the answer */
	int completed;        /* 0: the client left or timed out before the answer was sent */
} arca_serve_request;

/* Called from the worker threads, possibly several at once. */
typedef void (*arca_serve_request_cb)(const arca_serve_request *request, void *payload);

typedef struct {
	const char *listen;        /* "ADDR:PORT", "[V6ADDR]:PORT" or "PORT"; NULL: ARCA_SERVE_LISTEN.
	                              Port 0 picks a free port (arca_server_url tells which). */
	const char *token;         /* NULL: no token needed; else "Authorization: Bearer <token>" */
	unsigned threads;          /* 0: one per CPU (at most 64) */
	unsigned max_connections;  /* 0: ARCA_SERVE_MAX_CONNECTIONS */
	unsigned timeout_s;        /* idle connection timeout; 0: ARCA_SERVE_TIMEOUT_S */
	arca_serve_request_cb on_request; /* NULL: nothing reported */
	void *payload;
} arca_serve_opts;

#define ARCA_SERVE_LISTEN "127.0.0.1:8080"
#define ARCA_SERVE_MAX_CONNECTIONS 2048
#define ARCA_SERVE_TIMEOUT_S 30
#define ARCA_SERVE_OPTS_INIT { NULL, NULL, 0, 0, 0, NULL, NULL }

/* Binds the address and starts serving the store at `store`'s home, which is opened again
 * once per worker thread: `store` itself is not used after this returns, so the caller may
 * release its lock or free it. ARCA_EINVALID for a malformed address, ARCA_EIO (with the
 * reason) when the address cannot be bound. */
arca_err arca_server_start(arca_server **out, arca_store *store, const arca_serve_opts *opts);

/* What clients set HF_ENDPOINT to: "http://127.0.0.1:8080" (a wildcard address is shown as
 * the loopback address of its family). Borrowed. */
const char *arca_server_url(const arca_server *server);

/* The address bound, "127.0.0.1:8080" or "[::]:8080". Borrowed. */
const char *arca_server_address(const arca_server *server);

/* 1 when the address bound is a loopback address (only this machine can connect). */
int arca_server_is_loopback(const arca_server *server);

/* The worker threads and the connection limit in use. */
unsigned arca_server_threads(const arca_server *server);
unsigned arca_server_max_connections(const arca_server *server);

/* Stops accepting, closes every connection, joins the threads and frees. NULL is a no-op. */
void arca_server_stop(arca_server *server);

#endif
