#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A local fake of the Hugging Face Hub and ModelScope for arca's tests and benchmarks.

Owns the wire behaviour of the test hub (the protocol: docs/pull.md): two loopback
listeners, `hub` (HF API, resolve, ModelScope API, /_control/) and `cdn` (/blob/<sha256>
signed, /oss/<sha256>), serving a fixture folder built by make_fixture.py, plus injectable
faults and a request log. This file is the server (request parsing, shared state, HTTP
I/O); hub_data.py holds the fixture and replies, hub_routes.py the answers. Python
standard library only.

    fakehub.py --root ROOT [--hub-port 0] [--cdn-port 0] [--ready-file F] [--page-size 1000]
               [--sig-ttl 3600] [--public-gated-metadata] [--prefix /PATH]
               [--storage cdn|same-host] [--verbose]

When both listen it writes {"hub": URL, "cdn": URL, "endpoint": URL, "pid": N} to the ready
file (tmp + rename) and prints it; it runs until SIGTERM or SIGINT. `endpoint` is what clients
use as HF_ENDPOINT: the hub URL plus the prefix. repos.json is re-read whenever it changes.

The shapes real hubs and mirrors take, one switch each (flags at start, or /_control/config):
  prefix            every hub route lives under a path (HF_ENDPOINT=https://host/prefix, as
                    Artifactory/Nexus remotes and self-hosted mirrors have it)
  storage           "cdn": LFS bytes from the second listener, which refuses tokens (the
                    Hub); "same-host": from the hub listener itself, under the prefix
                    (self-hosted mirrors, arca serve), tokens accepted
  storage_base      LFS redirects point at this URL instead (a real web server such as
                    nginx serving the blobs folder as /blob/<sha256>, for benchmarks)
  link_base         pagination links point at this base instead of the hub (a mirror whose
                    links name huggingface.co)
  resolve_redirect  {"status": 308, "to": BASE}: every resolve answers a redirect to BASE with
                    the same path and no metadata (a mirror sending clients elsewhere)
  xet_only_over     N: LFS files over N bytes are Xet-only: the resolve carries X-Xet-Hash and
                    storage answers 400, as the Hub's bridge does for files over ~400 GB
  xet_hashes        the tree listing carries xetHash for LFS files
  sig_ttl           lifetime of signed storage links in seconds (expiry mid-transfer)
Renamed repos (state op rename_repo) answer every API and resolve request under the old name
with a relative 307 to the new name that carries no metadata, as the Hub does.

Control API on the hub listener (never logged, never faulted):
  POST /_control/fault  {"match": SUBSTRING of path?query (raw or decoded; "" = all),
                         "kind": KIND, "count": N (1; -1 forever), "server": "hub"|"cdn",
                         "method": "GET"|..., params} -> {"ok": true, "id": N}
      cut{after} trickle{rate} ignore_range gzip status{status,headers,body} corrupt{offset,xor}
      wrong_size{delta} no_commit redirect_loop{absolute} html bad_json empty_body
      not_modified delay{seconds} wrong_sha256{path} no_sha256{path,shape} null_files
      (no_sha256: ModelScope lists the file with its Sha256 "missing", "empty" or "null";
       null_files: ModelScope answers Data.Files = null)
  GET  /_control/faults   active faults;   POST /_control/reset   clears faults and the log
  GET  /_control/log      [{server, method, path, query, range, auth, cookie, status, fault}]
  POST /_control/state    {"op": move_ref{repo,ref,commit[,kind:"tag"]} | delete_repo{repo} |
                           set_gated{repo,gated} | set_private{repo,private} |
                           set_direct{repo,direct} | set_tokens{repo,tokens} |
                           set_hubs{repo,hubs} | replace_blob{sha256,content_b64} |
                           rename_repo{repo,to}}
  POST /_control/config   {"page_size", "sig_ttl", "public_gated_metadata", "prefix",
                           "storage", "link_base", "resolve_redirect", "xet_only_over",
                           "xet_hashes"} (any subset)
  GET  /_control/info     {"hub", "cdn", "endpoint", "pid"}
"""
import argparse
import gzip
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hub_data import Store, cookie_value, json_reply, size_of
from hub_routes import apply_range, route, route_control, transform

LOG_LIMIT = 200000

# ----------------------------------------------------------------------------- shared state

class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []
        self.next_id = 1

    def add(self, spec):
        with self.lock:
            spec = dict(spec, id=self.next_id)
            spec.setdefault("count", 1)
            self.next_id += 1
            self.items.append(spec)
            return spec["id"]

    def reset(self):
        with self.lock:
            self.items = []

    def list(self):
        with self.lock:
            return [dict(f) for f in self.items]

    @staticmethod
    def _matches(f, server, method, target):
        if f.get("server") not in (None, server):
            return False
        if f.get("method") not in (None, method):
            return False
        m = f.get("match", "")
        return m in target or m in urllib.parse.unquote(target)

    def take(self, server, method, target):
        with self.lock:
            for f in self.items:
                if f["count"] != 0 and self._matches(f, server, method, target):
                    if f["count"] > 0:
                        f["count"] -= 1
                    found = dict(f)
                    self.items = [x for x in self.items if x["count"] != 0]
                    return found
        return None


class RequestLog:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []

    def add(self, entry):
        with self.lock:
            self.items.append(entry)
            if len(self.items) > LOG_LIMIT:
                del self.items[:len(self.items) - LOG_LIMIT]
        return entry

    def set_status(self, entry, status):
        with self.lock:
            entry["status"] = status

    def dump(self):
        with self.lock:
            return [dict(e) for e in self.items]

    def reset(self):
        with self.lock:
            self.items = []


class Hub:
    """Everything both listeners share."""

    def __init__(self, args):
        self.store = Store(args.root)
        self.faults = Faults()
        self.log = RequestLog()
        self.secret = secrets.token_bytes(16)
        self.config_lock = threading.Lock()
        self.page_size = args.page_size
        self.sig_ttl = args.sig_ttl
        self.public_gated_metadata = args.public_gated_metadata
        self.prefix = (args.prefix or "").rstrip("/")
        self.storage = args.storage
        self.storage_base_url = args.storage_base
        self.link_base = None
        self.resolve_redirect = None
        self.xet_only_over = None
        self.xet_hashes = False
        self.verbose = args.verbose
        self.hub_base = self.cdn_base = ""

    def endpoint(self):
        return self.hub_base + self.prefix

    def storage_base(self):
        if self.storage_base_url:
            return self.storage_base_url
        return self.endpoint() if self.storage == "same-host" else self.cdn_base

    def xet_only(self, f):
        return self.xet_only_over is not None and f.get("lfs") and size_of(f) > self.xet_only_over

    def sign(self, sha256, exp):
        msg = ("%s:%d" % (sha256, exp)).encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    def signed_url(self, sha256):
        exp = int(time.time()) + self.sig_ttl
        return "%s/blob/%s?sig=%s&exp=%d" % (self.storage_base(), sha256,
                                             self.sign(sha256, exp), exp)


class Ctx:
    """One parsed request."""

    def __init__(self, handler, hub, role, body):
        self.hub, self.role, self.body = hub, role, body
        self.method = handler.command
        self.target = handler.path
        self.raw_path, _, self.query_string = handler.path.partition("?")
        self.query = urllib.parse.parse_qs(self.query_string, keep_blank_values=True)
        # the path under the hub's prefix; None when the request is outside it
        prefix = hub.prefix if role == "hub" else ""
        self.path = self.raw_path
        if prefix:
            inside = self.raw_path.startswith(prefix + "/")
            self.path = self.raw_path[len(prefix):] if inside else None
        self.segs = [urllib.parse.unquote(s) for s in (self.path or "").split("/")[1:]]
        self.raw_segs = [urllib.parse.unquote(s) for s in self.raw_path.split("/")[1:]]
        self.headers = handler.headers
        auth = self.headers.get("Authorization")
        self.auth_present = auth is not None
        self.token = None
        if auth is not None:
            scheme, _, value = auth.strip().partition(" ")
            self.token = value.strip() if scheme.lower() == "bearer" else ""
        self.cookie_token = cookie_value(self.headers.get("Cookie"), "m_session_id")
        self.fx = hub.store.current()
        self.fault = None

    def header(self, name):
        return self.headers.get(name)

    def q(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def fault_kind(self):
        return self.fault.get("kind") if self.fault else None


# ----------------------------------------------------------------------------- HTTP I/O

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and a small body go out as two writes

    def version_string(self):
        return "fakehub/1"

    def do_GET(self):
        self.serve()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_GET

    def handle(self):
        try:
            super().handle()
        except (OSError, ValueError):
            self.close_connection = True

    def log_message(self, fmt, *args):
        if self.server.hub.verbose:
            sys.stderr.write("fakehub %s: %s\n" % (self.server.role, fmt % args))

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            return b""
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def serve(self):
        hub, role = self.server.hub, self.server.role
        ctx = Ctx(self, hub, role, self.read_body())
        if role == "hub" and ctx.raw_segs[:1] == ["_control"]:
            self.write(route_control(ctx), None)
            return
        ctx.fault = hub.faults.take(role, ctx.method, ctx.target)
        entry = hub.log.add({
            "server": role, "method": ctx.method, "path": ctx.raw_path,
            "query": ctx.query_string, "range": self.headers.get("Range"),
            "auth": ctx.auth_present, "cookie": self.headers.get("Cookie") is not None,
            "status": None, "fault": ctx.fault_kind()})
        reply = self.answer(ctx)
        hub.log.set_status(entry, reply.status)
        self.write(reply, ctx.fault)

    def answer(self, ctx):
        if ctx.fault_kind() == "delay":
            time.sleep(float(ctx.fault.get("seconds", 1)))
        try:
            reply = route(ctx)
            if ctx.fault_kind() != "ignore_range":
                reply = apply_range(reply, self.headers.get("Range"))
            return transform(ctx, reply, ctx.fault)
        except Exception:  # a bug or an odd fixture: answer 500, keep serving
            text = traceback.format_exc()
            sys.stderr.write(text)
            return json_reply({"error": "fakehub internal error", "trace": text}, 500)

    # -- writing

    def write(self, reply, fault):
        kind = fault.get("kind") if fault else None
        if kind == "gzip" and reply.has_body():
            self.write_gzip(reply)
            return
        self.send_response(reply.status)
        for k, v in reply.headers:
            self.send_header(k, v)
        if reply.has_body():
            self.send_header("Content-Length", str(reply.length))
        self.end_headers()
        if self.command == "HEAD" or not reply.has_body():
            return
        self.write_body(reply, fault or {})

    def write_body(self, reply, fault):
        kind, n = fault.get("kind"), reply.length
        if kind == "cut":
            self.send_part(reply, 0, min(n, max(0, int(fault.get("after", 0)))))
            self.hard_close()
        elif kind == "trickle":
            self.send_slowly(reply, float(fault.get("rate", 1024)))
        elif kind == "corrupt":
            self.send_corrupted(reply, int(fault.get("offset", n // 2)), int(fault.get("xor", 255)))
        else:
            self.send_part(reply, 0, n)

    def send_part(self, reply, start, count):
        if count <= 0:
            return
        if reply.file is None:
            self.wfile.write(reply.body[start:start + count])
            return
        with open(reply.file, "rb") as f:
            sent = self.connection.sendfile(f, reply.offset + start, count)
        if sent != count:  # the blob shrank under us: do not leave the client waiting
            self.hard_close()

    def send_slowly(self, reply, rate):
        rate = max(rate, 1.0)
        step = max(1, min(65536, int(rate / 20)))
        t0, done = time.monotonic(), 0
        while done < reply.length:
            chunk = reply.read(done, min(step, reply.length - done))
            if not chunk:
                self.hard_close()
                return
            self.wfile.write(chunk)
            done += len(chunk)
            delay = t0 + done / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def send_corrupted(self, reply, offset, xor):
        n = reply.length
        if not 0 <= offset < n:
            self.send_part(reply, 0, n)
            return
        self.send_part(reply, 0, offset)
        byte = reply.read(offset, 1)
        self.wfile.write(bytes([(byte[0] if byte else 0) ^ (xor & 0xFF)]))
        self.send_part(reply, offset + 1, n - offset - 1)

    def write_gzip(self, reply):
        data = gzip.compress(reply.read_all(), mtime=0)
        self.send_response(reply.status)
        for k, v in reply.headers:
            self.send_header(k, v)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            return
        for i in range(0, len(data), 16384):
            part = data[i:i + 16384]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def hard_close(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port, role, hub):
        super().__init__(("127.0.0.1", port), Handler)
        self.role, self.hub = role, hub

    def handle_error(self, request, client_address):
        if self.hub.verbose:
            super().handle_error(request, client_address)


# ----------------------------------------------------------------------------- main

def write_ready(path, line):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(line + "\n")
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Fake Hugging Face / ModelScope hub for tests.")
    p.add_argument("--root", required=True, help="fixture folder (make_fixture.py)")
    p.add_argument("--hub-port", type=int, default=0)
    p.add_argument("--cdn-port", type=int, default=0)
    p.add_argument("--ready-file", default=None)
    p.add_argument("--page-size", type=int, default=1000, help="tree entries per page")
    p.add_argument("--sig-ttl", type=int, default=3600, help="CDN signature lifetime, s")
    p.add_argument("--public-gated-metadata", action="store_true",
                   help="like the real Hub: /api/models answers for gated repos without access")
    p.add_argument("--prefix", default="", help="serve the hub under this path")
    p.add_argument("--storage", default="cdn", choices=("cdn", "same-host"),
                   help="where LFS bytes come from: the second listener or the hub itself")
    p.add_argument("--storage-base", default=None,
                   help="LFS redirects point at URL/blob/<sha256> (an external server)")
    p.add_argument("--verbose", action="store_true", help="log requests and errors to stderr")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    hub = Hub(args)
    servers = [Server(args.hub_port, "hub", hub), Server(args.cdn_port, "cdn", hub)]
    hub.hub_base = "http://127.0.0.1:%d" % servers[0].server_address[1]
    hub.cdn_base = "http://127.0.0.1:%d" % servers[1].server_address[1]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    line = json.dumps({"hub": hub.hub_base, "cdn": hub.cdn_base, "endpoint": hub.endpoint(),
                       "pid": os.getpid()})
    write_ready(args.ready_file, line)
    print(line, flush=True)
    while not stop.wait(0.5):
        pass
    for s in servers:
        s.shutdown()
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
