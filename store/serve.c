/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store/serve.c — the arca serve server (arca/serve.h): the listening socket, libmicrohttpd
 * with a pool of epoll worker threads, one store handle per worker, and each request from
 * its arrival to its access-log report. What a request is answered with is decided in
 * serve_routes.c.
 *
 * Bounds, so that neither many clients nor slow ones can pin memory: at most
 * max_connections connections (each with a fixed SERVE_CONNECTION_MEMORY buffer), an idle
 * timeout that also ends a client that stops reading, POST bodies of at most
 * SERVE_BODY_MAX, and the SERVE_BUFFER_BUDGET for answers built in memory. File bytes go
 * from the page cache to the socket by sendfile and are never buffered here.
 */
#include "store/serve_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

#define MAX_THREADS 64

/* ------------------------------------------------------------------ store handles */

static arca_store *take_handle(arca_server *s)
{
	pthread_mutex_lock(&s->pool_lock);
	while (s->n_idle == 0)
		pthread_cond_wait(&s->pool_freed, &s->pool_lock);
	arca_store *store = s->idle[--s->n_idle];
	pthread_mutex_unlock(&s->pool_lock);
	return store;
}

static void give_handle(arca_server *s, arca_store *store)
{
	pthread_mutex_lock(&s->pool_lock);
	s->idle[s->n_idle++] = store;
	pthread_cond_signal(&s->pool_freed);
	pthread_mutex_unlock(&s->pool_lock);
}

/* ------------------------------------------------------------------ requests */

/* libmicrohttpd would decode the path and the query itself; the routes need the path
 * split before decoding (a %2F stays inside its segment), so both arrive as sent. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *uri)
{
	(void)cls;
	(void)conn;
	return strlen(uri);
}

/* Called first for each request: its serve_req, which the access handler then receives. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	serve_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->server = cls;
	r->conn = conn;
	r->target = strdup(uri ? uri : "");
	r->when = time(NULL);
	r->start = arca_time_monotonic();
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(r->client, sizeof(r->client), "-");
	if (info && info->client_addr) {
		socklen_t len = info->client_addr->sa_family == AF_INET6 ?
			sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		getnameinfo(info->client_addr, len, r->client, sizeof(r->client), NULL, 0,
			NI_NUMERICHOST);
	}
	return r;
}

static void free_req(serve_req *r)
{
	for (size_t i = 0; i < r->n_segs; i++)
		free(r->segs[i]);
	free(r->segs);
	if (r->body)
		atomic_fetch_sub(&r->server->buffered, SERVE_BODY_MAX);
	free(r->body);
	free(r->target);
	free(r);
}

/* The target for the log: bytes that could break a log line (controls, space, '"',
 * non-ASCII) as %XX, at most 2000 of them. */
static void printable_target(char *out, size_t cap, const char *target)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)target; *p && o + 4 < cap; p++) {
		if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			o += (size_t)snprintf(out + o, cap - o, "%%%02X", *p);
		else
			out[o++] = (char)*p;
	}
	out[o] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	(void)conn;
	arca_server *s = cls;
	serve_req *r = *con_cls;
	if (!r)
		return;
	if (s->on_request && r->method) {
		char target[2048];
		printable_target(target, sizeof(target), r->target ? r->target : "");
		arca_serve_request report = {
			.when = r->when, .client = r->client, .method = r->method, .target = target,
			.version = r->version ? r->version : "-", .status = r->status,
			.bytes = r->bytes, .seconds = arca_time_monotonic() - r->start,
			.completed = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK,
		};
		s->on_request(&report, s->payload);
	}
	free_req(r);
	*con_cls = NULL;
}

/* Adds a POST body chunk; a body over SERVE_BODY_MAX is dropped and remembered. */
static void take_body(serve_req *r, const char *data, size_t len)
{
	if (r->body_too_big)
		return;
	if (!r->body) {
		size_t before = atomic_fetch_add(&r->server->buffered, SERVE_BODY_MAX);
		if (before + SERVE_BODY_MAX > SERVE_BUFFER_BUDGET ||
		    !(r->body = malloc(SERVE_BODY_MAX + 1))) {
			atomic_fetch_sub(&r->server->buffered, SERVE_BODY_MAX);
			r->body_too_big = 1;
			return;
		}
	}
	if (len > SERVE_BODY_MAX - r->body_len) {
		r->body_too_big = 1;
		return;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
}

static enum MHD_Result answer(serve_req *r)
{
	int refused = arca_serve__split_path(r);
	if (refused == 500)
		return arca_serve__reply_failure(r, ARCA_ENOMEM);
	if (refused)
		return arca_serve__reply_error(r, (unsigned)refused, NULL, NULL,
			"Invalid path (bad escape, NUL, backslash, '.' or '..' segment)");
	r->store = take_handle(r->server);
	enum MHD_Result ret = arca_serve__route(r);
	give_handle(r->server, r->store);
	r->store = NULL;
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
	const char *method, const char *version, const char *upload_data,
	size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)url; /* r->target has it, with the query */
	serve_req *r = *con_cls;
	if (!r || !r->target)
		return MHD_NO;
	if (!r->routed) {
		r->routed = 1;
		r->conn = conn;
		r->method = method;
		r->version = version;
		r->head = !strcmp(method, "HEAD");
		int auth = arca_serve__authorized(r);
		if (auth < 0)
			return arca_serve__reply_error(r, 401, "RepoNotFound", NULL,
				"Authentication required: this arca serve needs a token "
				"(Authorization: Bearer, e.g. HF_TOKEN)");
		if (auth == 0)
			return arca_serve__reply_error(r, 401, "InvalidCredentials", NULL,
				"Invalid credentials in Authorization header");
		return MHD_YES; /* answered once the whole request (any body) has arrived */
	}
	if (*upload_data_size > 0) {
		take_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return answer(r);
}

/* ------------------------------------------------------------------ listening */

/* Binds and listens; fills the address, URL and loopback flag. */
static arca_err open_listener(arca_server *s, const char *listen_text, int *fd_out)
{
	char host[128], port[8];
	if (arca_serve__parse_listen(listen_text, host, sizeof(host), port, sizeof(port)) < 0)
		return arca_error_set(ARCA_EINVALID, "listen address '%s': expected ADDR:PORT, "
			"[IPV6]:PORT or PORT", listen_text);
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return arca_error_set(ARCA_EINVALID, "listen address '%s': %s", listen_text,
			gai_strerror(rc));
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1;
	arca_err err = ARCA_OK;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 4096) != 0)
		err = arca_error_errno(errno, "listen on %s", listen_text);
	freeaddrinfo(res);
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	if (err == ARCA_OK && getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
		err = arca_error_errno(errno, "listen on %s", listen_text);
	if (err < 0) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	char ip[INET6_ADDRSTRLEN] = "";
	unsigned bound_port;
	if (addr.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addr;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		bound_port = ntohs(a->sin6_port);
		s->loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) || (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)
			&& a->sin6_addr.s6_addr[12] == 127);
		snprintf(s->address, sizeof(s->address), "[%s]:%u", ip, bound_port);
		snprintf(s->url, sizeof(s->url), "http://[%s]:%u",
			IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) ? "::1" : ip, bound_port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&addr;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		bound_port = ntohs(a->sin_port);
		s->loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		snprintf(s->address, sizeof(s->address), "%s:%u", ip, bound_port);
		snprintf(s->url, sizeof(s->url), "http://%s:%u",
			a->sin_addr.s_addr == htonl(INADDR_ANY) ? "127.0.0.1" : ip, bound_port);
	}
	*fd_out = fd;
	return ARCA_OK;
}

/* The connection limit the process's descriptor limit allows: a connection sending a file
 * holds two descriptors (socket and blob), and the store handles hold some of their own. */
static unsigned connection_cap(unsigned wanted, unsigned threads)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return wanted;
	rlim_t reserved = 64 + 8 * (rlim_t)threads;
	rlim_t cap = rl.rlim_cur > reserved ? (rl.rlim_cur - reserved) / 2 : 16;
	return cap < wanted ? (unsigned)(cap < 16 ? 16 : cap) : wanted;
}

/* ------------------------------------------------------------------ start, stop */

arca_err arca_server_start(arca_server **out, arca_store *store, const arca_serve_opts *opts)
{
	*out = NULL;
	arca_serve_opts defaults = ARCA_SERVE_OPTS_INIT;
	if (!opts)
		opts = &defaults;
	arca_server *s = calloc(1, sizeof(*s));
	if (!s)
		return arca_error_set(ARCA_ENOMEM, "serve: out of memory");
	pthread_mutex_init(&s->pool_lock, NULL);
	pthread_cond_init(&s->pool_freed, NULL);
	atomic_init(&s->buffered, 0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	s->threads = opts->threads ? opts->threads : cpus > 0 ? (unsigned)cpus : 1;
	if (s->threads > MAX_THREADS)
		s->threads = MAX_THREADS;
	s->timeout_s = opts->timeout_s ? opts->timeout_s : ARCA_SERVE_TIMEOUT_S;
	s->max_connections = connection_cap(opts->max_connections ? opts->max_connections :
		ARCA_SERVE_MAX_CONNECTIONS, s->threads);
	s->on_request = opts->on_request;
	s->payload = opts->payload;
	arca_err err = ARCA_OK;
	if (opts->token && !(s->token = strdup(opts->token)))
		err = arca_error_set(ARCA_ENOMEM, "serve: out of memory");
	s->handles = calloc(s->threads, sizeof(*s->handles));
	s->idle = calloc(s->threads, sizeof(*s->idle));
	if (err == ARCA_OK && (!s->handles || !s->idle))
		err = arca_error_set(ARCA_ENOMEM, "serve: out of memory");
	for (unsigned i = 0; i < s->threads && err == ARCA_OK; i++) {
		if ((err = arca_store_open(&s->handles[i], arca_store_home(store))) == ARCA_OK) {
			s->n_handles++;
			s->idle[s->n_idle++] = s->handles[i];
		}
	}
	int fd = -1;
	if (err == ARCA_OK)
		err = open_listener(s, opts->listen ? opts->listen : ARCA_SERVE_LISTEN, &fd);
	if (err < 0) {
		arca_server_stop(s);
		return err;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		(strchr(s->address, '[') ? MHD_USE_IPv6 : 0);
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_THREAD_POOL_SIZE, s->threads,
		MHD_OPTION_CONNECTION_LIMIT, s->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, s->timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, SERVE_CONNECTION_MEMORY,
		MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_END);
	if (!s->daemon) {
		/* fd is not closed here: a daemon that failed to start may have closed it already */
		err = arca_error_set(ARCA_EIO, "serve on %s: libmicrohttpd could not start its "
			"threads", s->address);
		arca_server_stop(s);
		return err;
	}
	*out = s;
	return ARCA_OK;
}

const char *arca_server_url(const arca_server *server)
{
	return server->url;
}

const char *arca_server_address(const arca_server *server)
{
	return server->address;
}

int arca_server_is_loopback(const arca_server *server)
{
	return server->loopback;
}

unsigned arca_server_threads(const arca_server *server)
{
	return server->threads;
}

unsigned arca_server_max_connections(const arca_server *server)
{
	return server->max_connections;
}

void arca_server_stop(arca_server *server)
{
	if (!server)
		return;
	if (server->daemon)
		MHD_stop_daemon(server->daemon); /* joins the workers, closes every connection */
	for (size_t i = 0; i < server->n_handles; i++)
		arca_store_free(server->handles[i]);
	free(server->handles);
	free(server->idle);
	if (server->token) {
		memset(server->token, 0, strlen(server->token));
		free(server->token);
	}
	pthread_cond_destroy(&server->pool_freed);
	pthread_mutex_destroy(&server->pool_lock);
	free(server);
}
