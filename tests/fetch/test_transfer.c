/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tests/fetch/test_transfer.c — the download engine (fetch/transfer.h) against a loopback
 * HTTP server this test runs in a thread: two listeners on 127.0.0.1, a hub (the Hugging
 * Face resolve protocol: redirects with and without X-Repo-Commit, regular files served by
 * the hub itself) and a CDN (ranged bodies with Content-Range), each answering one request
 * per connection as a `behaviour` scripts it: Range ignored, a body cut short, an expired
 * link (403), 416, wrong bytes, a redirect loop. The hub client is the real one
 * (arca_hub_open_hf on the loopback endpoint), the store a real one in a temporary folder.
 *
 * Each case asserts the items' results (error code and message, the stored blob and its
 * sha256 from sha256sum), the requests the server saw (which ranges, where a resumed one
 * starts, that the token goes to the hub's origin and nowhere else), and that nothing
 * unverified is kept: no blob, and no partial when the bytes proved wrong.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "fetch/hub.h"
#include "fetch/transfer.h"
#include "support.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"
#define TOKEN "hf_loopback_secret"
#define CHUNK 65536u
#define BIG_SIZE (5 * CHUNK + 1234) /* six chunks, the last one short */
#define MAX_LOG 256
enum { HUB = 0, CDN = 1 };

/* ------------------------------------------------------------------ the server */

typedef struct {
	const char *name;
	unsigned char *data;
	size_t size;
	int lfs;
	char sha256[ARCA_SHA256_HEX];
	char git_sha1[ARCA_SHA1_HEX];
} served_file;

typedef struct {
	int listener;      /* HUB or CDN */
	char path[512];    /* with the query */
	char range[96];    /* the Range header's value, "" when none */
	int token;         /* carried "Authorization: Bearer TOKEN" */
	int auth;          /* carried any Authorization header */
	int status;        /* what the server answered */
} seen;

/* What the server does; all zero: a well-behaved hub with its CDN. */
typedef struct {
	int renamed;           /* the first resolve is a bare 307 to the repo's new name */
	int storage_on_hub;    /* storage links point at the hub's own origin */
	int no_metadata;       /* the hub's answers carry no X-Repo-Commit */
	int expire_first_link; /* storage answers 403 to each file's first link */
	int ignore_range;      /* storage answers ranged requests with 200 and the whole file */
	long cut_after;        /* > 0: storage sends this many body bytes, then closes, */
	long cut_from;         /*   for requests starting at this offset or later, */
	int cut_times;         /*   this many times (-1: always) */
	int corrupt;           /* storage flips the file's middle byte */
	int answer_416;        /* storage answers ranged requests with 416 */
	int shift_range;       /* storage's Content-Range names bytes one past those it sends */
	int loop;              /* storage redirects to itself */
} behaviour;

typedef struct {
	int fd[2];
	int port[2];
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t lock;
	behaviour b;
	served_file *files;
	size_t n_files;
	seen log[MAX_LOG];
	size_t n_log;
	int links[8];          /* per file: storage links handed out (the link's ?sig=) */
	int cuts;
} server;

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One answer: the status line, Content-Length `len`, the extra header lines, then the
 * first `send_len` bytes of the body (fewer than `len`: a cut connection). */
static void respond(server *s, seen *r, int fd, int status, const char *headers,
	const void *body, size_t len, size_t send_len)
{
	char head[2048];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n%s\r\n", status, len, headers ? headers : "");
	pthread_mutex_lock(&s->lock);
	r->status = status;
	pthread_mutex_unlock(&s->lock);
	if (send_all(fd, head, (size_t)n) == 0 && send_len)
		send_all(fd, body, send_len);
}

static int file_index(const server *s, const char *path)
{
	const char *name = strrchr(path, '/');
	size_t len = name ? strcspn(name + 1, "?") : 0;
	for (size_t i = 0; name && i < s->n_files; i++)
		if (strlen(s->files[i].name) == len && !strncmp(s->files[i].name, name + 1, len))
			return (int)i;
	return -1;
}

static void answer_resolve(server *s, seen *r, int fd, const served_file *f, int idx)
{
	char h[1024];
	if (s->b.renamed && !strncmp(r->path, "/acme/tiny/", 11)) {
		/* a renamed repo: a relative 307 without any metadata */
		snprintf(h, sizeof(h), "Location: /acme/tiny-renamed/resolve/" COMMIT "/%s\r\n", f->name);
		respond(s, r, fd, 307, h, "", 0, 0);
		return;
	}
	char meta[512] = "";
	if (!f->lfs) {
		/* a regular file: the hub serves it, the git blob id as ETag */
		if (!s->b.no_metadata)
			snprintf(meta, sizeof(meta), "X-Repo-Commit: " COMMIT "\r\nETag: \"%s\"\r\n",
				f->git_sha1);
		respond(s, r, fd, 200, meta, f->data, f->size, f->size);
		return;
	}
	pthread_mutex_lock(&s->lock);
	int sig = ++s->links[idx];
	pthread_mutex_unlock(&s->lock);
	if (!s->b.no_metadata)
		snprintf(meta, sizeof(meta), "X-Repo-Commit: " COMMIT "\r\nX-Linked-Etag: \"%s\"\r\n"
			"X-Linked-Size: %zu\r\n", f->sha256, f->size);
	snprintf(h, sizeof(h), "%sLocation: http://127.0.0.1:%d/%s/%s?sig=%d\r\n", meta,
		s->b.storage_on_hub ? s->port[HUB] : s->port[CDN],
		s->b.storage_on_hub ? "storage" : "cdn", f->name, sig);
	respond(s, r, fd, 302, h, "", 0, 0);
}

static void answer_storage(server *s, seen *r, int fd, const served_file *f)
{
	char h[1024];
	const char *q = strstr(r->path, "sig=");
	if (s->b.loop) {
		snprintf(h, sizeof(h), "Location: %s\r\n", r->path);
		respond(s, r, fd, 302, h, "", 0, 0);
		return;
	}
	if (s->b.expire_first_link && q && atoi(q + 4) == 1) {
		respond(s, r, fd, 403, NULL, "expired", 7, 7);
		return;
	}
	unsigned long long a = 0, b = f->size - 1;
	int ranged = r->range[0] && sscanf(r->range, "bytes=%llu-%llu", &a, &b) == 2;
	if (ranged && s->b.answer_416) {
		snprintf(h, sizeof(h), "Content-Range: bytes */%zu\r\n", f->size);
		respond(s, r, fd, 416, h, "", 0, 0);
		return;
	}
	if (!ranged || s->b.ignore_range || b >= f->size || a > b)
		a = 0, b = f->size - 1;
	size_t len = (size_t)(b - a + 1);
	unsigned char *body = malloc(len);
	memcpy(body, f->data + a, len);
	if (s->b.corrupt && f->size / 2 >= a && f->size / 2 <= b)
		body[f->size / 2 - a] ^= 0x40;
	size_t send_len = len;
	pthread_mutex_lock(&s->lock);
	if (s->b.cut_after > 0 && (long)a >= s->b.cut_from && (size_t)s->b.cut_after < len &&
	    (s->b.cut_times < 0 || s->cuts < s->b.cut_times)) {
		send_len = (size_t)s->b.cut_after;
		s->cuts++;
	}
	pthread_mutex_unlock(&s->lock);
	if (a == 0 && b == f->size - 1 && !(ranged && !s->b.ignore_range)) {
		respond(s, r, fd, 200, NULL, body, len, send_len);
	} else {
		int k = s->b.shift_range;
		snprintf(h, sizeof(h), "Content-Range: bytes %llu-%llu/%zu\r\n", a + k, b + k, f->size);
		respond(s, r, fd, 206, h, body, len, send_len);
	}
	free(body);
}

/* Reads one request, logs it, answers it. */
static void handle_connection(server *s, int listener, int fd)
{
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[8192];
	size_t used = 0;
	while (used < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + used, sizeof(buf) - 1 - used, 0);
		if (n <= 0)
			return;
		used += (size_t)n;
		buf[used] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	seen req;
	memset(&req, 0, sizeof(req));
	req.listener = listener;
	if (sscanf(buf, "GET %511s HTTP/1.1", req.path) != 1)
		return;
	for (char *line = strstr(buf, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
		char *h = line + 2;
		size_t len = strcspn(h, "\r");
		if (!strncasecmp(h, "Range: ", 7))
			snprintf(req.range, sizeof(req.range), "%.*s", (int)(len - 7), h + 7);
		if (!strncasecmp(h, "Authorization: ", 15)) {
			req.auth = 1;
			req.token = len == 15 + strlen("Bearer " TOKEN) &&
				!strncmp(h + 15, "Bearer " TOKEN, len - 15);
		}
	}
	pthread_mutex_lock(&s->lock);
	seen *r = s->n_log < MAX_LOG ? &s->log[s->n_log++] : NULL;
	if (r)
		*r = req;
	pthread_mutex_unlock(&s->lock);
	if (!r)
		return;
	int idx = file_index(s, req.path);
	if (idx < 0) {
		respond(s, r, fd, 404, "X-Error-Code: EntryNotFound\r\n", "", 0, 0);
	} else if (listener == HUB && strstr(req.path, "/resolve/" COMMIT "/")) {
		answer_resolve(s, r, fd, &s->files[idx], idx);
	} else if ((listener == CDN && !strncmp(req.path, "/cdn/", 5)) ||
	           (listener == HUB && !strncmp(req.path, "/storage/", 9))) {
		answer_storage(s, r, fd, &s->files[idx]);
	} else {
		respond(s, r, fd, 404, NULL, "", 0, 0);
	}
}

static void *serve(void *payload)
{
	server *s = payload;
	while (!atomic_load(&s->stop)) {
		struct pollfd p[2] = { { s->fd[HUB], POLLIN, 0 }, { s->fd[CDN], POLLIN, 0 } };
		if (poll(p, 2, 20) <= 0)
			continue;
		for (int l = 0; l < 2; l++) {
			if (!(p[l].revents & POLLIN))
				continue;
			int c = accept(s->fd[l], NULL, NULL);
			if (c < 0)
				continue;
			handle_connection(s, l, c);
			shutdown(c, SHUT_WR);
			close(c);
		}
	}
	return NULL;
}

static void server_start(server *s)
{
	pthread_mutex_init(&s->lock, NULL);
	for (int l = 0; l < 2; l++) {
		struct sockaddr_in a;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t alen = sizeof(a);
		s->fd[l] = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(s->fd[l] >= 0);
		assert_int_equal(bind(s->fd[l], (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(listen(s->fd[l], 64), 0);
		assert_int_equal(getsockname(s->fd[l], (struct sockaddr *)&a, &alen), 0);
		s->port[l] = ntohs(a.sin_port);
	}
	atomic_store(&s->stop, 0);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	close(s->fd[HUB]);
	close(s->fd[CDN]);
	pthread_mutex_destroy(&s->lock);
}

/* ------------------------------------------------------------------ fixture */

enum { CONFIG, SMALL, BIG, N_FILES };

/* The files served, made and hashed once for all cases. */
static served_file files[N_FILES];

typedef struct {
	server srv;
	served_file *files;
	arca_hub_file listing[N_FILES];
	char *home;
	char *tmp;
	arca_store *store;
	arca_http *http;
	arca_hub *hub;
	char retries[16][ARCA_ERROR_MAX + 300];
	int n_retries;
} fixture;

/* Deterministic bytes, hashed by independent tools (sha256sum, python3's hashlib). */
static void make_file(served_file *f, const char *name, size_t size, int lfs, uint32_t seed,
	const char *dir)
{
	f->name = name;
	f->size = size;
	f->lfs = lfs;
	f->data = malloc(size);
	for (size_t i = 0; i < size; i++) {
		seed = seed * 1664525u + 1013904223u;
		f->data[i] = (unsigned char)(seed >> 24);
	}
	t_write_file(dir, name, (const char *)f->data, size);
	char *path = t_path(dir, name);
	char *sha = t_shell_line("sha256sum '%s' | cut -d' ' -f1", path);
	char *git = t_git_blob_id(path);
	assert_int_equal(strlen(sha), 64);
	memcpy(f->sha256, sha, ARCA_SHA256_HEX);
	memcpy(f->git_sha1, git, ARCA_SHA1_HEX);
	free(sha);
	free(git);
	free(path);
}

static int make_files(void **state)
{
	(void)state;
	/* loopback only: no proxy from the environment may take the requests */
	setenv("no_proxy", "*", 1);
	setenv("NO_PROXY", "*", 1);
	char *dir = t_tempdir();
	make_file(&files[CONFIG], "config.json", 700, 0, 1, dir);
	make_file(&files[SMALL], "small.bin", 1000, 1, 2, dir);
	make_file(&files[BIG], "model.safetensors", BIG_SIZE, 1, 3, dir);
	t_remove_tree(dir);
	free(dir);
	return 0;
}

static int free_files(void **state)
{
	(void)state;
	for (int i = 0; i < N_FILES; i++)
		free(files[i].data);
	return 0;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->files = files;
	/* the hub's listing of them: LFS files by sha256, regular ones by git blob id */
	for (int i = 0; i < N_FILES; i++) {
		arca_hub_file *l = &f->listing[i];
		l->path = strdup(f->files[i].name);
		l->size = f->files[i].size;
		l->lfs = f->files[i].lfs;
		if (l->lfs)
			memcpy(l->sha256, f->files[i].sha256, ARCA_SHA256_HEX);
		else
			memcpy(l->git_sha1, f->files[i].git_sha1, ARCA_SHA1_HEX);
	}
	f->srv.files = f->files;
	f->srv.n_files = N_FILES;
	server_start(&f->srv);

	f->store = t_store_new(&f->home);
	f->tmp = t_path(f->home, "tmp");
	arca_http_opts ho = ARCA_HTTP_OPTS_INIT;
	ho.backoff_base_ms = 5;
	ho.max_retries = 3;
	ho.connect_timeout_s = 5;
	ho.stall_timeout_s = 5;
	assert_int_equal(arca_http_new(&f->http, &ho), ARCA_OK);
	char endpoint[64];
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", f->srv.port[HUB]);
	arca_hub_opts opts = { endpoint, TOKEN };
	assert_int_equal(arca_hub_open_hf(&f->hub, f->http, &opts), ARCA_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	server_stop(&f->srv);
	arca_hub_free(f->hub);
	arca_http_free(f->http);
	arca_store_free(f->store);
	t_remove_tree(f->home);
	free(f->home);
	free(f->tmp);
	for (int i = 0; i < N_FILES; i++)
		free(f->listing[i].path);
	free(f);
	return 0;
}

static void note_retry(const char *message, void *payload)
{
	fixture *f = payload;
	if (f->n_retries < 16)
		snprintf(f->retries[f->n_retries++], sizeof(f->retries[0]), "%s", message);
}

/* Fetches the listed files `which` (CONFIG, SMALL, BIG) into items, as a pull does. */
static arca_err transfer(fixture *f, arca_transfer_item *items, const int *which, size_t n,
	int connections)
{
	memset(items, 0, n * sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		items[i].file = &f->listing[which[i]];
		items[i].url = f->hub->ops->file_url(f->hub, "acme/tiny", COMMIT, "main",
			items[i].file);
		assert_non_null(items[i].url);
	}
	arca_transfer_opts o;
	memset(&o, 0, sizeof(o));
	o.store = f->store;
	o.http = f->http;
	o.hub = f->hub;
	o.repo = "acme/tiny";
	o.commit = COMMIT;
	o.jobs = 2;
	o.connections = connections;
	o.chunk_size = CHUNK;
	o.on_retry = note_retry;
	o.payload = f;
	return arca_transfer_run(items, n, &o);
}

static void dispose(arca_transfer_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		arca_transfer_item_dispose(&items[i]);
}

/* ------------------------------------------------------------------ checks */

/* The item is stored: its digests are the file's, and the store holds exactly its bytes. */
static void expect_stored(fixture *f, const arca_transfer_item *item, int which)
{
	const served_file *s = &f->files[which];
	if (item->err != ARCA_OK)
		fail_msg("%s: %d %s", s->name, item->err, item->message ? item->message : "");
	assert_string_equal(item->digests.sha256, s->sha256);
	assert_int_equal(item->digests.size, s->size);
	arca_blob_reader *r;
	assert_int_equal(arca_store_open_blob(&r, f->store, s->sha256), ARCA_OK);
	unsigned char *got = malloc(s->size + 1);
	size_t n;
	assert_int_equal(arca_blob_pread(r, got, s->size + 1, 0, &n), ARCA_OK);
	assert_int_equal(n, s->size);
	assert_memory_equal(got, s->data, s->size);
	free(got);
	arca_blob_reader_free(r);
}

/* The item failed with `err`, its message names the file and says `mentions`, and no blob
 * of the file's hash is in the store. */
static void expect_failed(fixture *f, const arca_transfer_item *item, int which, arca_err err,
	const char *mentions)
{
	const served_file *s = &f->files[which];
	if (item->err != err)
		fail_msg("%s: error %d (%s), expected %d", s->name, item->err,
			item->message ? item->message : "none", err);
	assert_non_null(item->message);
	if (!strstr(item->message, s->name) || !strstr(item->message, mentions))
		fail_msg("message '%s' does not name %s and say '%s'", item->message, s->name, mentions);
	uint64_t size;
	assert_int_equal(arca_store_stat_blob(f->store, s->sha256, &size), ARCA_ENOTFOUND);
}

/* Requests of a listener whose path starts with `prefix` (NULL: any). */
static int count_requests(fixture *f, int listener, const char *prefix)
{
	int n = 0;
	pthread_mutex_lock(&f->srv.lock);
	for (size_t i = 0; i < f->srv.n_log; i++)
		if (f->srv.log[i].listener == listener &&
		    (!prefix || !strncmp(f->srv.log[i].path, prefix, strlen(prefix))))
			n++;
	pthread_mutex_unlock(&f->srv.lock);
	return n;
}

/* Requests of a listener for a path starting with `prefix`, with exactly this Range. */
static int count_ranges(fixture *f, int listener, const char *prefix, const char *range)
{
	int n = 0;
	pthread_mutex_lock(&f->srv.lock);
	for (size_t i = 0; i < f->srv.n_log; i++)
		if (f->srv.log[i].listener == listener && !strcmp(f->srv.log[i].range, range) &&
		    !strncmp(f->srv.log[i].path, prefix, strlen(prefix)))
			n++;
	pthread_mutex_unlock(&f->srv.lock);
	return n;
}

/* The token went with every request to the hub's origin and with none elsewhere. */
static void expect_token_only_to_hub(fixture *f)
{
	pthread_mutex_lock(&f->srv.lock);
	for (size_t i = 0; i < f->srv.n_log; i++) {
		const seen *r = &f->srv.log[i];
		if (r->listener == HUB && !r->token)
			fail_msg("request %zu to the hub (%s) without the token", i, r->path);
		if (r->listener == CDN && r->auth)
			fail_msg("request %zu to the CDN (%s) carried an Authorization header", i, r->path);
	}
	pthread_mutex_unlock(&f->srv.lock);
}

/* Each chunk of the large file asked exactly once from listener's `prefix`. */
static void expect_chunk_ranges(fixture *f, int listener, const char *prefix)
{
	for (unsigned c = 0; c * CHUNK < BIG_SIZE; c++) {
		char range[64];
		unsigned end = (c + 1) * CHUNK < BIG_SIZE ? (c + 1) * CHUNK : BIG_SIZE;
		snprintf(range, sizeof(range), "bytes=%u-%u", c * CHUNK, end - 1);
		int n = count_ranges(f, listener, prefix, range);
		if (n != 1)
			fail_msg("chunk %u (%s) asked %d times, expected once", c, range, n);
	}
}

/* ------------------------------------------------------------------ cases */

/* A regular file the hub serves itself (200 with X-Repo-Commit and its git blob id as ETag)
 * and a small LFS file behind a redirect to the CDN: one plain request each, no Range, both
 * hashes right; the token goes to the hub only. */
static void test_small_files(void **state)
{
	fixture *f = *state;
	arca_transfer_item items[2];
	const int which[] = { CONFIG, SMALL };
	assert_int_equal(transfer(f, items, which, 2, 4), ARCA_OK);
	expect_stored(f, &items[0], CONFIG);
	expect_stored(f, &items[1], SMALL);
	assert_string_equal(items[0].digests.git_sha1, f->files[CONFIG].git_sha1);
	assert_string_equal(items[1].digests.git_sha1, f->files[SMALL].git_sha1);
	assert_int_equal(items[1].received, f->files[SMALL].size);
	assert_int_equal(count_requests(f, HUB, "/acme/tiny/resolve/" COMMIT "/"), 2);
	assert_int_equal(count_requests(f, CDN, "/cdn/small.bin?sig=1"), 1);
	assert_int_equal(count_requests(f, CDN, NULL), 1);
	assert_int_equal(count_ranges(f, CDN, "/cdn/", ""), 1);
	expect_token_only_to_hub(f);
	/* the hub's answer that carried the metadata is the evidence */
	char *ev = json_dumps(items[1].evidence, 0);
	assert_non_null(strstr(ev, "file metadata"));
	assert_non_null(strstr(ev, f->files[SMALL].sha256));
	free(ev);
	assert_int_equal(t_count_entries(f->tmp), 0);
	dispose(items, 2);
}

/* A large file: every chunk asked exactly once, by ranged requests to the CDN; the bytes
 * arrive once (received = size), nothing is left in tmp/. */
static void test_large_file_in_chunks(void **state)
{
	fixture *f = *state;
	arca_transfer_item item;
	const int which[] = { BIG };
	assert_int_equal(transfer(f, &item, which, 1, 3), ARCA_OK);
	expect_stored(f, &item, BIG);
	assert_int_equal(item.received, BIG_SIZE);
	assert_int_equal(item.resumed, 0);
	expect_chunk_ranges(f, CDN, "/cdn/model.safetensors");
	assert_int_equal(count_requests(f, CDN, NULL), 6);
	assert_int_equal(count_requests(f, HUB, NULL), 1);
	expect_token_only_to_hub(f);
	assert_int_equal(t_count_entries(f->tmp), 0);
	dispose(&item, 1);
}

/* The CDN answers a ranged request with 200 and the whole file: the file becomes one
 * stream from byte 0 (the other chunk requests are dropped, none is made after), and is
 * still verified. */
static void test_server_ignores_range(void **state)
{
	fixture *f = *state;
	f->srv.b.ignore_range = 1;
	arca_transfer_item item;
	const int which[] = { BIG };
	assert_int_equal(transfer(f, &item, which, 1, 3), ARCA_OK);
	expect_stored(f, &item, BIG);
	int cdn = count_requests(f, CDN, NULL);
	if (cdn < 1 || cdn > 3)
		fail_msg("%d requests to the CDN; the first 200 must end the ranged ones", cdn);
	assert_int_equal(t_count_entries(f->tmp), 0);
	dispose(&item, 1);
}

/* The connection is cut 40000 bytes into the first chunk: the retry asks for the rest of
 * that chunk, from byte 40000, and no byte is fetched twice. */
static void test_cut_and_resume(void **state)
{
	fixture *f = *state;
	f->srv.b.cut_after = 40000;
	f->srv.b.cut_times = 1;
	arca_transfer_item item;
	const int which[] = { BIG };
	assert_int_equal(transfer(f, &item, which, 1, 1), ARCA_OK);
	expect_stored(f, &item, BIG);
	assert_int_equal(f->srv.cuts, 1);
	assert_int_equal(count_ranges(f, CDN, "/cdn/", "bytes=0-65535"), 1);
	assert_int_equal(count_ranges(f, CDN, "/cdn/", "bytes=40000-65535"), 1);
	assert_int_equal(count_requests(f, CDN, NULL), 7);
	assert_int_equal(item.received, BIG_SIZE);
	assert_int_equal(f->n_retries, 1);
	assert_non_null(strstr(f->retries[0], "model.safetensors"));
	assert_non_null(strstr(f->retries[0], "retrying"));
	assert_int_equal(t_count_entries(f->tmp), 0);
	dispose(&item, 1);
}

/* Chunk 3 is cut after 100 bytes on every try: the engine gives up (ARCA_ENET, "gave up")
 * but keeps the partial with chunks 0-2 recorded; the next run, with a healthy CDN,
 * resumes: it asks only for chunks 3-5. */
static void test_give_up_then_resume(void **state)
{
	fixture *f = *state;
	f->srv.b.cut_after = 100;
	f->srv.b.cut_from = 3 * CHUNK;
	f->srv.b.cut_times = -1;
	arca_transfer_item item;
	const int which[] = { BIG };
	assert_int_equal(transfer(f, &item, which, 1, 1), ARCA_OK);
	expect_failed(f, &item, BIG, ARCA_ENET, "gave up after 4 tries");
	/* within the run each retry continued where the cut left chunk 3 */
	assert_int_equal(count_ranges(f, CDN, "/cdn/", "bytes=196708-262143"), 1);
	assert_true(t_count_entries(f->tmp) > 0); /* the partial and its state */
	dispose(&item, 1);

	memset(&f->srv.b, 0, sizeof(f->srv.b));
	pthread_mutex_lock(&f->srv.lock);
	f->srv.n_log = 0;
	pthread_mutex_unlock(&f->srv.lock);
	assert_int_equal(transfer(f, &item, which, 1, 1), ARCA_OK);
	expect_stored(f, &item, BIG);
	assert_int_equal(item.resumed, 1);
	assert_int_equal(count_requests(f, CDN, NULL), 3);
	assert_int_equal(count_ranges(f, CDN, "/cdn/", "bytes=196608-262143"), 1);
	assert_int_equal(count_ranges(f, CDN, "/cdn/", "bytes=262144-327679"), 1);
	assert_int_equal(count_ranges(f, CDN, "/cdn/", "bytes=327680-328913"), 1);
	assert_int_equal(t_count_entries(f->tmp), 0);
	dispose(&item, 1);
}

/* Storage on the hub's own origin (a self-hosted mirror): its answers carry no
 * X-Repo-Commit, which is fine, since the hub's redirect carried the metadata; being the
 * hub's origin, it gets the token. */
static void test_storage_on_hub_origin(void **state)
{
	fixture *f = *state;
	f->srv.b.storage_on_hub = 1;
	arca_transfer_item items[2];
	const int which[] = { SMALL, BIG };
	assert_int_equal(transfer(f, items, which, 2, 3), ARCA_OK);
	expect_stored(f, &items[0], SMALL);
	expect_stored(f, &items[1], BIG);
	assert_int_equal(count_requests(f, CDN, NULL), 0);
	assert_int_equal(count_requests(f, HUB, "/storage/small.bin"), 1);
	assert_int_equal(count_requests(f, HUB, "/storage/model.safetensors"), 6);
	expect_chunk_ranges(f, HUB, "/storage/model.safetensors");
	expect_token_only_to_hub(f);
	dispose(items, 2);
}

/* A renamed repo: the resolve answers a bare 307 (no X-Repo-Commit), the next hop on the
 * hub carries the metadata, then the CDN. Both hub answers are evidence. */
static void test_renamed_repo_hop(void **state)
{
	fixture *f = *state;
	f->srv.b.renamed = 1;
	arca_transfer_item item;
	const int which[] = { BIG };
	assert_int_equal(transfer(f, &item, which, 1, 2), ARCA_OK);
	expect_stored(f, &item, BIG);
	assert_int_equal(count_requests(f, HUB, "/acme/tiny/resolve/"), 1);
	assert_int_equal(count_requests(f, HUB, "/acme/tiny-renamed/resolve/"), 1);
	expect_token_only_to_hub(f);
	assert_int_equal(json_array_size(item.evidence), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(item.evidence, 0),
		"what")), "redirect");
	assert_string_equal(json_string_value(json_object_get(json_array_get(item.evidence, 1),
		"what")), "file metadata");
	assert_string_equal(json_string_value(json_object_get(json_array_get(item.evidence, 1),
		"repo")), "acme/tiny-renamed");
	dispose(&item, 1);
}

/* No answer carries X-Repo-Commit: nothing proves the commit, so the file fails
 * (ARCA_ENET, not a hash mismatch) and is not stored. */
static void test_no_commit_anywhere(void **state)
{
	fixture *f = *state;
	f->srv.b.no_metadata = 1;
	arca_transfer_item items[2];
	const int which[] = { CONFIG, SMALL };
	assert_int_equal(transfer(f, items, which, 2, 2), ARCA_OK);
	expect_failed(f, &items[0], CONFIG, ARCA_ENET, "X-Repo-Commit");
	expect_failed(f, &items[1], SMALL, ARCA_ENET, "X-Repo-Commit");
	assert_int_equal(t_count_entries(f->tmp), 0);
	dispose(items, 2);
}

/* The storage link is refused (403, expired): the hub is asked again and its fresh link
 * delivers. */
static void test_expired_link_resolved_again(void **state)
{
	fixture *f = *state;
	f->srv.b.expire_first_link = 1;
	arca_transfer_item item;
	const int which[] = { BIG };
	assert_int_equal(transfer(f, &item, which, 1, 1), ARCA_OK);
	expect_stored(f, &item, BIG);
	assert_int_equal(count_requests(f, HUB, "/acme/tiny/resolve/"), 2);
	assert_int_equal(count_requests(f, CDN, "/cdn/model.safetensors?sig=1"), 1);
	assert_int_equal(count_requests(f, CDN, "/cdn/model.safetensors?sig=2"), 6);
	assert_int_equal(f->n_retries, 1);
	assert_non_null(strstr(f->retries[0], "HTTP 403"));
	expect_token_only_to_hub(f);
	dispose(&item, 1);
}

/* 416: the server has fewer bytes than listed. ARCA_EMISMATCH, and the partial is gone. */
static void test_416_is_a_mismatch(void **state)
{
	fixture *f = *state;
	f->srv.b.answer_416 = 1;
	arca_transfer_item item;
	const int which[] = { BIG };
	assert_int_equal(transfer(f, &item, which, 1, 2), ARCA_OK);
	expect_failed(f, &item, BIG, ARCA_EMISMATCH, "HTTP 416");
	assert_int_equal(t_count_entries(f->tmp), 0);
	dispose(&item, 1);
}

/* A Content-Range that is not the range asked for: ARCA_EMISMATCH naming it, and the
 * partial with bytes from that server is discarded. */
static void test_wrong_content_range(void **state)
{
	fixture *f = *state;
	f->srv.b.shift_range = 1;
	arca_transfer_item item;
	const int which[] = { BIG };
	assert_int_equal(transfer(f, &item, which, 1, 2), ARCA_OK);
	expect_failed(f, &item, BIG, ARCA_EMISMATCH, "Content-Range 'bytes 1-65536/328914'");
	assert_int_equal(t_count_entries(f->tmp), 0);
	dispose(&item, 1);
}

/* Wrong bytes of the right length: sha256 mismatch for a large and a small file; neither
 * is stored and the large file's partial is discarded, not kept for resuming. */
static void test_wrong_bytes(void **state)
{
	fixture *f = *state;
	f->srv.b.corrupt = 1;
	arca_transfer_item items[2];
	const int which[] = { SMALL, BIG };
	assert_int_equal(transfer(f, items, which, 2, 3), ARCA_OK);
	expect_failed(f, &items[0], SMALL, ARCA_EMISMATCH, "sha256 mismatch");
	expect_failed(f, &items[1], BIG, ARCA_EMISMATCH, "sha256 mismatch");
	assert_non_null(strstr(items[1].message, f->files[BIG].sha256));
	assert_int_equal(t_count_entries(f->tmp), 0);
	dispose(items, 2);
}

/* The CDN redirects to itself: after 10 hops, ARCA_ENET naming the loop. */
static void test_redirect_loop(void **state)
{
	fixture *f = *state;
	f->srv.b.loop = 1;
	arca_transfer_item item;
	const int which[] = { SMALL };
	assert_int_equal(transfer(f, &item, which, 1, 1), ARCA_OK);
	expect_failed(f, &item, SMALL, ARCA_ENET, "more than 10 redirects (a loop?)");
	assert_int_equal(count_requests(f, CDN, NULL), 10);
	assert_int_equal(t_count_entries(f->tmp), 0);
	dispose(&item, 1);
}

/* The options the contract requires: chunks of at least 64 KiB, a job and a connection. */
static void test_rejected_options(void **state)
{
	fixture *f = *state;
	arca_transfer_opts o;
	memset(&o, 0, sizeof(o));
	o.store = f->store;
	o.http = f->http;
	o.hub = f->hub;
	o.jobs = 1;
	o.connections = 1;
	o.chunk_size = CHUNK - 1;
	assert_int_equal(arca_transfer_run(NULL, 0, &o), ARCA_EINVALID);
	assert_error_mentions("64 KiB");
	o.chunk_size = CHUNK;
	o.connections = 0;
	assert_int_equal(arca_transfer_run(NULL, 0, &o), ARCA_EINVALID);
	assert_int_equal(count_requests(f, HUB, NULL), 0);
}

int main(void)
{
#define CASE(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		CASE(test_small_files),
		CASE(test_large_file_in_chunks),
		CASE(test_server_ignores_range),
		CASE(test_cut_and_resume),
		CASE(test_give_up_then_resume),
		CASE(test_storage_on_hub_origin),
		CASE(test_renamed_repo_hop),
		CASE(test_no_commit_anywhere),
		CASE(test_expired_link_resolved_again),
		CASE(test_416_is_a_mismatch),
		CASE(test_wrong_content_range),
		CASE(test_wrong_bytes),
		CASE(test_redirect_loop),
		CASE(test_rejected_options),
	};
	return cmocka_run_group_tests(tests, make_files, free_files);
}
