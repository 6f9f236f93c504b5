#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A local fake of the Hugging Face Hub and ModelScope for arca's tests and benchmarks.

Owns the wire behaviour of the test hub (docs: /work/shared/spec/hub-protocol.md section 3):
two loopback listeners, `hub` (HF API, resolve, ModelScope API, /_control/) and `cdn`
(/blob/<sha256> signed, /oss/<sha256>), serving a fixture folder built by make_fixture.py,
plus injectable faults and a request log. Python standard library only.

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
import base64
import calendar
import gzip
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
LOG_LIMIT = 200000
FAULT_KINDS = {
    "cut", "trickle", "ignore_range", "gzip", "status", "corrupt", "wrong_size", "no_commit",
    "redirect_loop", "html", "bad_json", "empty_body", "not_modified", "delay", "wrong_sha256",
    "no_sha256", "null_files",
}
CONFIG_KEYS = ("page_size", "sig_ttl", "public_gated_metadata", "prefix", "storage",
               "storage_base", "link_base", "resolve_redirect", "xet_only_over", "xet_hashes")
ALL_HUBS = ("hf", "modelscope")  # a hand-written repo without "hubs" is on both
TEXT_SUFFIXES = (".md", ".txt", ".py", ".yaml", ".yml", ".model", ".jinja", ".tiktoken")


# ----------------------------------------------------------------------------- helpers

def json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256, size):
    return ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
            % (sha256, size)).encode()


def iso_to_unix(text):
    try:
        return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    except (TypeError, ValueError):
        return 0


def truthy(value):
    return str(value).lower() in ("1", "true", "yes", "on")


def content_type_for(path):
    if path.endswith(".json"):
        return "application/json"
    base = path.rsplit("/", 1)[-1]
    if path.endswith(TEXT_SUFFIXES) or "." not in base:
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def parse_range(value, total):
    """(start, end) inclusive, "unsatisfiable", or None when the header is to be ignored."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value or "")
    if not m or (m.group(1) == "" and m.group(2) == ""):
        return None
    first, last = m.group(1), m.group(2)
    if first == "":
        n = int(last)
        if n == 0 or total == 0:
            return "unsatisfiable"
        return max(0, total - n), total - 1
    start = int(first)
    end = int(last) if last else total - 1
    if last and end < start:
        return None
    if start >= total:
        return "unsatisfiable"
    return start, min(end, total - 1)


def cookie_value(header, name):
    for part in (header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key == name:
            return value.strip().strip('"')
    return None


def card_scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.startswith("[") and text.endswith("]"):
        return [card_scalar(x) for x in text[1:-1].split(",") if x.strip()]
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def parse_card(text):
    """README front matter, simply: top-level `key: value` scalars and `- item` lists."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    data, list_key = {}, None
    for line in lines[1:]:
        stripped = line.strip()
        if stripped == "---":
            return data
        if stripped.startswith("- ") or stripped == "-":
            if list_key is not None:
                data[list_key] = (data[list_key] or []) + [card_scalar(stripped[1:])]
            continue
        if line[:1] in (" ", "\t", "#") or ":" not in line:
            continue
        name, _, value = line.partition(":")
        key = name.strip()
        data[key] = card_scalar(value) if value.strip() else None
        list_key = None if value.strip() else key
    return {}


# ----------------------------------------------------------------------------- replies

class Answer(Exception):
    """Raised by a handler to answer at once (usually an error)."""

    def __init__(self, reply):
        super().__init__(reply.status)
        self.reply = reply


class Reply:
    """Status, headers (without Content-Length) and a body: bytes or a slice of a file."""

    def __init__(self, status, body=b"", ctype=None, headers=()):
        self.status = status
        self.headers = list(headers)
        if ctype:
            self.headers.insert(0, ("Content-Type", ctype))
        self.body = body
        self.file = None
        self.offset = 0
        self.length = len(body)
        self.rangeable = False

    @classmethod
    def from_file(cls, path, ctype, headers=()):
        r = cls(200, b"", ctype, headers)
        r.file = path
        r.length = os.path.getsize(path)
        r.rangeable = True
        r.headers.append(("Accept-Ranges", "bytes"))
        return r

    def get(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def drop(self, name):
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]

    def set(self, name, value):
        self.drop(name)
        self.headers.append((name, value))

    def has_body(self):
        return self.status >= 200 and self.status not in (204, 304)

    def read(self, start, count):
        if self.file is None:
            return self.body[start:start + count]
        with open(self.file, "rb") as f:
            f.seek(self.offset + start)
            return f.read(count)

    def read_all(self):
        return self.read(0, self.length)


def json_reply(obj, status=200, headers=()):
    return Reply(status, json_bytes(obj), "application/json; charset=utf-8", headers)


def hf_error(status, code, message, headers=()):
    extra = [("X-Error-Code", code)] if code else []
    extra.append(("X-Error-Message", message))
    return json_reply({"error": message}, status, extra + list(headers))


def ms_envelope(ctx, data, code=200, message="success"):
    return {"Code": code, "Success": code == 200, "Data": data, "Message": message,
            "RequestId": ctx.header("X-Request-ID") or secrets.token_hex(16)}


def ms_ok(ctx, data):
    return json_reply(ms_envelope(ctx, data))


def ms_error(ctx, status, message):
    return json_reply(ms_envelope(ctx, None, status, message), status)


# ----------------------------------------------------------------------------- fixture

class Fixture:
    """A read-only view of one version of repos.json."""

    def __init__(self, data, blobs):
        repos = data.get("repos") if isinstance(data, dict) else None
        self.repos = repos if isinstance(repos, dict) else {}
        self.data_renamed = data.get("renamed") if isinstance(data, dict) else None
        self.blobs = blobs
        self.cache = {}

    def repo(self, repo_id):
        r = self.repos.get(repo_id)
        return r if isinstance(r, dict) else None

    def renamed(self, repo_id):
        """The repo's new name when it was renamed (and nothing took the old name)."""
        table = self.data_renamed
        new = table.get(repo_id) if isinstance(table, dict) else None
        return new if isinstance(new, str) and repo_id not in self.repos else None

    @staticmethod
    def resolve(repo, rev, names_only=False):
        refs, tags = repo.get("refs") or {}, repo.get("tags") or {}
        for prefix, table in (("refs/heads/", refs), ("refs/tags/", tags)):
            if rev.startswith(prefix) and rev[len(prefix):] in table:
                return table[rev[len(prefix):]]
        if rev in refs:
            return refs[rev]
        if rev in tags:
            return tags[rev]
        if not names_only and COMMIT_RE.match(rev) and rev in (repo.get("commits") or {}):
            return rev
        return None

    @staticmethod
    def commit(repo, cid):
        c = (repo.get("commits") or {}).get(cid)
        return c if isinstance(c, dict) else {}

    def files(self, repo, cid):
        files = self.commit(repo, cid).get("files")
        return files if isinstance(files, dict) else {}

    def dirs(self, repo, cid):
        key = ("dirs", id(repo), cid)
        if key not in self.cache:
            out = set()
            for p in self.files(repo, cid):
                parts = p.split("/")
                for i in range(1, len(parts)):
                    d = "/".join(parts[:i])
                    if d:
                        out.add(d)
            self.cache[key] = out
        return self.cache[key]

    def history(self, repo, cid):
        """Commit ids from cid back to the root, newest first (stops on a loop)."""
        out, seen = [], set()
        while cid and cid not in seen and cid in (repo.get("commits") or {}):
            seen.add(cid)
            out.append(cid)
            cid = self.commit(repo, cid).get("parent")
        return out

    def last_touch(self, repo, cid, path):
        want = self.files(repo, cid).get(path, {}).get("sha256")
        last = cid
        for older in self.history(repo, cid)[1:]:
            if self.files(repo, older).get(path, {}).get("sha256") != want:
                break
            last = older
        return last

    def blob_path(self, sha256):
        if not isinstance(sha256, str) or not SHA256_RE.match(sha256):
            return None
        path = os.path.join(self.blobs, sha256)
        return path if os.path.isfile(path) else None

    def card(self, repo, cid):
        key = ("card", id(repo), cid)
        if key not in self.cache:
            f = self.files(repo, cid).get("README.md") or {}
            path = self.blob_path(f.get("sha256"))
            text = ""
            if path:
                with open(path, "rb") as fh:
                    text = fh.read(1 << 20).decode("utf-8", "replace")
            self.cache[key] = parse_card(text)
        return self.cache[key]


def file_oid(f):
    """The git oid the tree API shows: the content's, or for LFS the pointer's."""
    if f.get("lfs"):
        return f.get("pointer_oid") or git_blob_sha1(lfs_pointer(f.get("sha256", ""), size_of(f)))
    return f.get("git_sha1", "")


def size_of(f):
    size = f.get("size", 0)
    return size if isinstance(size, int) else 0


def pointer_size(f):
    return f.get("pointer_size") or len(lfs_pointer(f.get("sha256", ""), size_of(f)))


class Store:
    """repos.json, reloaded when it changes; edits are atomic (tmp + rename)."""

    def __init__(self, root):
        self.root = root
        self.path = os.path.join(root, "repos.json")
        self.blobs = os.path.join(root, "blobs")
        self.lock = threading.Lock()
        self.key = None
        self.fx = Fixture({}, self.blobs)

    def _stat_key(self):
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns

    def current(self):
        with self.lock:
            key = self._stat_key()
            if key != self.key:
                self.key = key
                self.fx = Fixture(self._read(), self.blobs)
            return self.fx

    def _read(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return {"repos": {}}
        except (OSError, ValueError) as e:
            print("fakehub: cannot read %s: %s" % (self.path, e), file=sys.stderr)
            return {"repos": {}}

    def edit(self, change):
        """Applies change(data) to repos.json under the lock and writes it back."""
        with self.lock:
            data = self._read()
            change(data)
            self._write_json(data)
            self.key = None

    def _write_json(self, data):
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".repos-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.path)

    def write_blob(self, sha256, content):
        os.makedirs(self.blobs, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.blobs, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(self.blobs, sha256))


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


# ----------------------------------------------------------------------------- Hugging Face

def hf_repo(ctx, org, name, content):
    """Checks the token and access; returns (repo_id, repo) or raises the HF error."""
    tok = ctx.token
    if tok is not None and tok.startswith("bad"):
        raise Answer(hf_error(401, "InvalidCredentials",
                              "Invalid credentials in Authorization header"))
    repo_id = "%s/%s" % (org, name)
    repo = ctx.fx.repo(repo_id)
    allowed = tok is not None and tok in (repo or {}).get("tokens", [])
    if repo is None or "hf" not in repo.get("hubs", ALL_HUBS) or \
            (repo.get("private") and not allowed):
        status = 404 if ctx.auth_present else 401
        raise Answer(hf_error(status, "RepoNotFound", "Repository not found"))
    gate = content or not ctx.hub.public_gated_metadata
    if repo.get("gated") and not allowed and gate:
        if tok is None:
            msg = ("Access to model %s is restricted. You must have access to it and be "
                   "authenticated to access it. Please log in." % repo_id)
            raise Answer(hf_error(401, "GatedRepo", msg))
        msg = ("Access to model %s is restricted and you are not in the authorized list."
               % repo_id)
        raise Answer(hf_error(403, "GatedRepo", msg))
    return repo_id, repo


def hf_commit(ctx, repo, rev):
    cid = ctx.fx.resolve(repo, rev)
    if cid is None:
        raise Answer(hf_error(404, "RevisionNotFound", "Invalid rev id: %s" % rev))
    return cid


def hf_entry_missing(cid, path):
    return hf_error(404, "EntryNotFound", "Entry not found: %s" % path,
                    [("X-Repo-Commit", cid)])


def wrong_hex(hexstr):
    """A different hash of the same length (for the wrong_sha256 fault)."""
    if not hexstr:
        return "0" * 64
    return hexstr[:-1] + ("0" if hexstr[-1] != "0" else "1")


def fault_hits(ctx, path):
    return ctx.fault_kind() == "wrong_sha256" and ctx.fault.get("path", path) in path


def hf_file_entry(ctx, repo, cid, path, f, expand):
    e = {"type": "file", "oid": file_oid(f), "size": size_of(f), "path": path}
    if f.get("lfs"):
        sha = f.get("sha256", "")
        sha = wrong_hex(sha) if fault_hits(ctx, path) else sha
        e["lfs"] = {"oid": sha, "size": size_of(f), "pointerSize": pointer_size(f)}
        if ctx.hub.xet_hashes or ctx.hub.xet_only(f):
            e["xetHash"] = xet_hash(f)
    if expand:
        last = ctx.fx.last_touch(repo, cid, path)
        c = ctx.fx.commit(repo, last)
        e["lastCommit"] = {"id": last, "title": c.get("message", "").split("\n")[0],
                           "date": c.get("date", "")}
        e["securityFileStatus"] = {"status": "safe", "avScan": {"status": "safe"},
                                   "pickleImportScan": {"status": "unscanned"}}
    return e


def hf_dir_entry(ctx, repo, cid, path):
    names = sorted(p for p in ctx.fx.files(repo, cid) if p.startswith(path + "/"))
    digest = hashlib.sha1(("tree\0" + "\n".join(names)).encode("utf-8", "replace"))
    return {"type": "directory", "oid": digest.hexdigest(), "size": 0, "path": path}


def hf_entry(ctx, repo, cid, path, expand):
    f = ctx.fx.files(repo, cid).get(path)
    if isinstance(f, dict):
        return hf_file_entry(ctx, repo, cid, path, f, expand)
    return hf_dir_entry(ctx, repo, cid, path)


def tree_paths(files, dirs, prefix, recursive):
    base = prefix + "/" if prefix else ""
    out = set()
    for p in list(files) + list(dirs):
        rest = p[len(base):] if p.startswith(base) else ""
        if rest and (recursive or "/" not in rest):
            out.add(p)
    return sorted(out)


def hf_tree(ctx, org, name, rev, path):
    _, repo = hf_repo(ctx, org, name, content=False)
    cid = hf_commit(ctx, repo, rev)
    files, dirs = ctx.fx.files(repo, cid), ctx.fx.dirs(repo, cid)
    path = path.rstrip("/")
    if path and path not in dirs:
        raise Answer(hf_entry_missing(cid, path))
    recursive, expand = truthy(ctx.q("recursive", "")), truthy(ctx.q("expand", ""))
    names = tree_paths(files, dirs, path, recursive)
    try:
        start = int(ctx.q("cursor", "0"))
    except ValueError:
        raise Answer(json_reply({"error": "Invalid cursor"}, 400))
    size = max(1, ctx.hub.page_size)
    page = [hf_entry(ctx, repo, cid, p, expand) for p in names[start:start + size]]
    reply = json_reply(page)
    if start + size < len(names):
        # absolute, as the Hub writes it: on this host with the prefix, or on link_base
        base = ctx.hub.link_base + ctx.path if ctx.hub.link_base else ctx.hub.hub_base + ctx.raw_path
        link = "%s?recursive=%s&expand=%s&cursor=%d" % (
            base, str(recursive).lower(), str(expand).lower(), start + size)
        reply.headers.append(("Link", '<%s>; rel="next"' % link))
    return reply


def form_paths(ctx):
    ctype = (ctx.header("Content-Type") or "").lower()
    text = ctx.body.decode("utf-8", "replace")
    if "json" in ctype:
        data = json.loads(text or "{}")
        paths = data.get("paths", [])
        return (paths if isinstance(paths, list) else [paths]), truthy(data.get("expand"))
    form = urllib.parse.parse_qs(text, keep_blank_values=True)
    return form.get("paths", []), truthy((form.get("expand") or [""])[0])


def hf_paths_info(ctx, org, name, rev):
    _, repo = hf_repo(ctx, org, name, content=False)
    cid = hf_commit(ctx, repo, rev)
    try:
        paths, expand = form_paths(ctx)
    except ValueError:
        raise Answer(json_reply({"error": "Bad request body"}, 400))
    files, dirs = ctx.fx.files(repo, cid), ctx.fx.dirs(repo, cid)
    out, seen = [], set()
    for p in paths:
        if isinstance(p, str) and p not in seen and (p in files or p in dirs):
            seen.add(p)
            out.append(hf_entry(ctx, repo, cid, p, expand))
    return json_reply(out)


def card_tags(card):
    tags = card.get("tags") or []
    tags = list(tags) if isinstance(tags, list) else [tags]
    bases = card.get("base_model") or []
    bases = bases if isinstance(bases, list) else [bases]
    relation = card.get("base_model_relation")
    for b in bases:
        tags.append("base_model:%s" % b)
        if relation:
            tags.append("base_model:%s:%s" % (relation, b))
    if card.get("license"):
        tags.append("license:%s" % card["license"])
    return [str(t) for t in tags]


def hf_sibling(f, path, blobs):
    s = {"rfilename": path}
    if blobs:
        s["size"] = size_of(f)
        s["blobId"] = file_oid(f)
        if f.get("lfs"):
            s["lfs"] = {"sha256": f.get("sha256", ""), "size": size_of(f),
                        "pointerSize": pointer_size(f)}
    return s


def hf_model_info(ctx, org, name, rev):
    repo_id, repo = hf_repo(ctx, org, name, content=False)
    cid = hf_commit(ctx, repo, rev or "main")
    files = ctx.fx.files(repo, cid)
    card = ctx.fx.card(repo, cid)
    history = ctx.fx.history(repo, cid)
    blobs = truthy(ctx.q("blobs", ""))
    info = {
        "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id,
        "modelId": repo_id, "author": org, "sha": cid,
        "lastModified": ctx.fx.commit(repo, cid).get("date", ""),
        "createdAt": ctx.fx.commit(repo, history[-1]).get("date", "") if history else "",
        "private": bool(repo.get("private")), "gated": repo.get("gated") or False,
        "disabled": False, "downloads": 0, "likes": 0, "tags": card_tags(card),
        "cardData": card, "siblings": [hf_sibling(files[p], p, blobs) for p in sorted(files)],
        "spaces": [], "usedStorage": sum(size_of(f) for f in files.values()),
    }
    for key in ("library_name", "pipeline_tag"):
        if card.get(key):
            info[key] = card[key]
    wanted = ctx.query.get("expand")
    if wanted:
        info = {k: v for k, v in info.items() if k in ("_id", "id") or k in wanted}
    return json_reply(info)


def hf_refs(ctx, org, name):
    _, repo = hf_repo(ctx, org, name, content=False)

    def listing(table, kind):
        return [{"name": n, "ref": "refs/%s/%s" % (kind, n), "targetCommit": c}
                for n, c in sorted((table or {}).items())]
    return json_reply({"branches": listing(repo.get("refs"), "heads"),
                       "tags": listing(repo.get("tags"), "tags"), "converts": []})


def xet_hash(f):
    """A stand-in for the Xet file id (64 hex), stable per content."""
    return hashlib.sha256(("xet:" + f.get("sha256", "")).encode()).hexdigest()


def file_headers(f, cid):
    etag = f.get("sha256", "") if f.get("lfs") else f.get("git_sha1", "")
    return [("ETag", '"%s"' % etag), ("X-Repo-Commit", cid)]


def file_content(ctx, path, f, headers):
    blob = ctx.fx.blob_path(f.get("sha256"))
    if blob is None:
        raise Answer(json_reply({"error": "fixture blob missing for %s" % path}, 500))
    return Reply.from_file(blob, content_type_for(path), headers)


def hf_resolve(ctx, org, name, rev, path):
    repo_id, repo = hf_repo(ctx, org, name, content=True)
    cid = hf_commit(ctx, repo, rev)
    f = ctx.fx.files(repo, cid).get(path)
    if not isinstance(f, dict):
        raise Answer(hf_entry_missing(cid, path))
    if f.get("lfs"):
        return lfs_redirect(ctx, cid, f)
    if repo.get("direct"):
        return file_content(ctx, path, f, file_headers(f, cid))
    location = "%s/api/resolve-cache/models/%s/%s/%s?etag=%s" % (
        ctx.hub.prefix, repo_id, cid, urllib.parse.quote(path, safe="/"),
        urllib.parse.quote('"%s"' % f.get("git_sha1", ""), safe=""))
    body = ("Temporary Redirect. Redirecting to %s" % location).encode()
    return Reply(307, body, "text/plain; charset=utf-8",
                 [("Location", location), ("X-Repo-Commit", cid)])


def lfs_redirect(ctx, cid, f):
    url = ctx.hub.signed_url(f.get("sha256", ""))
    headers = [("Location", url), ("X-Repo-Commit", cid),
               ("X-Linked-Etag", '"%s"' % f.get("sha256", "")),
               ("X-Linked-Size", str(size_of(f))), ("ETag", '"%s"' % file_oid(f))]
    if ctx.hub.xet_only(f):
        headers.append(("X-Xet-Hash", xet_hash(f)))
    return Reply(302, ("Found. Redirecting to %s" % url).encode(), "text/plain; charset=utf-8",
                 headers)


def hf_resolve_cache(ctx, org, name, rev, path):
    _, repo = hf_repo(ctx, org, name, content=True)
    cid = hf_commit(ctx, repo, rev)
    f = ctx.fx.files(repo, cid).get(path)
    if not isinstance(f, dict):
        raise Answer(hf_entry_missing(cid, path))
    return file_content(ctx, path, f, file_headers(f, cid))


# ----------------------------------------------------------------------------- ModelScope

def ms_repo(ctx, org, name):
    tok = ctx.cookie_token if ctx.cookie_token is not None else ctx.token
    if tok is not None and tok.startswith("bad"):
        raise Answer(ms_error(ctx, 403, "invalid token"))
    repo_id = "%s/%s" % (org, name)
    repo = ctx.fx.repo(repo_id)
    if repo is None or "modelscope" not in repo.get("hubs", ALL_HUBS):
        raise Answer(ms_error(ctx, 404, "model %s not found" % repo_id))
    allowed = tok is not None and tok in repo.get("tokens", [])
    if (repo.get("private") or repo.get("gated")) and not allowed:
        raise Answer(ms_error(ctx, 403, "no permission to access model %s" % repo_id))
    return repo_id, repo


def ms_commit(ctx, repo, rev):
    cid = ctx.fx.resolve(repo, rev, names_only=True)
    if cid is None:
        raise Answer(ms_error(ctx, 404, "revision not found: %s" % rev))
    return cid


def ms_model_info(ctx, org, name):
    repo_id, repo = ms_repo(ctx, org, name)
    cid = ms_commit(ctx, repo, ctx.q("Revision") or "master")
    card = ctx.fx.card(repo, cid)
    history = ctx.fx.history(repo, cid)
    first = ctx.fx.commit(repo, history[-1]) if history else {}
    return ms_ok(ctx, {
        "Id": zlib.crc32(repo_id.encode()), "Name": name, "Path": org, "ChineseName": name,
        "Description": "", "License": card.get("license", ""), "Tags": card_tags(card),
        "Visibility": 1 if repo.get("private") else 5,
        "CreatedTime": iso_to_unix(first.get("date")),
        "LastUpdatedTime": iso_to_unix(ctx.fx.commit(repo, cid).get("date")),
        "LatestCommitId": cid})


def ms_revisions(ctx, org, name):
    _, repo = ms_repo(ctx, org, name)

    def listing(table):
        return [{"Revision": n, "CreatedAt": iso_to_unix(ctx.fx.commit(repo, c).get("date")),
                 "CreatedBy": "fakehub", "Description": ""} for n, c in sorted(table.items())]
    tags = listing(repo.get("tags") or {})
    tags.sort(key=lambda t: -t["CreatedAt"])
    return ms_ok(ctx, {"RevisionMap": {"Branches": listing(repo.get("refs") or {}),
                                       "Tags": tags}})


def ms_commit_entry(repo, fx, cid):
    c = fx.commit(repo, cid)
    msg = c.get("message", "")
    when = iso_to_unix(c.get("date"))
    return {"Id": cid, "ShortId": cid[:8], "Title": msg.split("\n")[0], "Message": msg,
            "AuthorName": c.get("author", "fakehub"), "AuthorEmail": "fakehub@example.invalid",
            "CommitterName": c.get("author", "fakehub"), "CommittedDate": when,
            "CreatedAt": when, "ParentIds": [c["parent"]] if c.get("parent") else []}


def int_param(ctx, name, default):
    try:
        return max(1, int(ctx.q(name, default)))
    except ValueError:
        return default


def ms_commits(ctx, org, name):
    _, repo = ms_repo(ctx, org, name)
    cid = ms_commit(ctx, repo, ctx.q("Ref") or "master")
    history = ctx.fx.history(repo, cid)
    number, size = int_param(ctx, "PageNumber", 1), int_param(ctx, "PageSize", 20)
    page = history[(number - 1) * size:number * size]
    return ms_ok(ctx, {"Commit": [ms_commit_entry(repo, ctx.fx, c) for c in page],
                       "TotalCount": len(history)})


def ms_file_entry(ctx, repo, cid, path, f):
    last = ctx.fx.last_touch(repo, cid, path)
    c = ctx.fx.commit(repo, last)
    sha = f.get("sha256", "")
    e = {"Name": path.rsplit("/", 1)[-1], "Path": path, "Type": "blob", "Size": size_of(f),
         "Sha256": wrong_hex(sha) if fault_hits(ctx, path) else sha,
         "IsLFS": bool(f.get("lfs")), "Id": file_oid(f), "Revision": last,
         "CommitMessage": c.get("message", ""), "CommittedDate": iso_to_unix(c.get("date")),
         "CommitterName": c.get("author", "fakehub"), "Mode": "33188", "InCheck": False}
    if ctx.fault_kind() == "no_sha256" and ctx.fault.get("path", path) in path:
        shape = ctx.fault.get("shape", "missing")
        if shape == "missing":
            del e["Sha256"]
        else:
            e["Sha256"] = "" if shape == "empty" else None
    return e


def ms_tree_entry(cid, path):
    return {"Name": path.rsplit("/", 1)[-1], "Path": path, "Type": "tree", "Size": 0,
            "Sha256": "", "IsLFS": False, "Id": "", "Revision": cid, "CommitMessage": "",
            "CommittedDate": 0, "CommitterName": "", "Mode": "40000", "InCheck": False}


def ms_files(ctx, org, name):
    _, repo = ms_repo(ctx, org, name)
    cid = ms_commit(ctx, repo, ctx.q("Revision") or "master")
    files, dirs = ctx.fx.files(repo, cid), ctx.fx.dirs(repo, cid)
    root = (ctx.q("Root") or "").strip("/")
    if root and root not in dirs:
        raise Answer(ms_error(ctx, 404, "path not found: %s" % root))
    out = []
    for p in tree_paths(files, dirs, root, truthy(ctx.q("Recursive", "false"))):
        f = files.get(p)
        out.append(ms_file_entry(ctx, repo, cid, p, f) if isinstance(f, dict)
                   else ms_tree_entry(cid, p))
    if ctx.fault_kind() == "null_files":
        out = None
    return ms_ok(ctx, {"Files": out, "IsVisual": 0})


def ms_download(ctx, org, name):
    _, repo = ms_repo(ctx, org, name)
    cid = ms_commit(ctx, repo, ctx.q("Revision") or "master")
    path = ctx.q("FilePath") or ""
    f = ctx.fx.files(repo, cid).get(path)
    if not isinstance(f, dict):
        raise Answer(ms_error(ctx, 404, "file not found: %s" % path))
    if repo.get("direct"):
        return file_content(ctx, path, f, [])
    url = "%s/oss/%s" % (ctx.hub.storage_base(), f.get("sha256", ""))
    return Reply(302, ("Found. Redirecting to %s" % url).encode(), "text/plain; charset=utf-8",
                 [("Location", url)])


# ----------------------------------------------------------------------------- CDN

def cdn_text(status, message, headers=()):
    return Reply(status, (message + "\n").encode(), "text/plain; charset=utf-8", headers)


def cdn_check_signature(ctx, sha256):
    sig, exp = ctx.q("sig"), ctx.q("exp")
    if not sig or not exp or not exp.isdigit():
        raise Answer(cdn_text(403, "missing signature"))
    if int(exp) < time.time():
        raise Answer(cdn_text(403, "signature expired"))
    if not hmac.compare_digest(sig, ctx.hub.sign(sha256, int(exp))):
        raise Answer(cdn_text(403, "bad signature"))


def cdn_blob(ctx, sha256, signed):
    if ctx.auth_present and ctx.role == "cdn":
        raise Answer(cdn_text(403, "Authorization header not accepted here"))
    if signed:
        cdn_check_signature(ctx, sha256)
    path = ctx.fx.blob_path(sha256)
    if path is None:
        raise Answer(cdn_text(404, "no such blob"))
    if ctx.hub.xet_only_over is not None and os.path.getsize(path) > ctx.hub.xet_only_over:
        raise Answer(cdn_text(400, "Bad Request"))
    etag = '"cdn-%s"' % hashlib.md5(sha256.encode()).hexdigest()
    return Reply.from_file(path, "application/octet-stream", [("ETag", etag)])


# ----------------------------------------------------------------------------- control API

def control_fault(ctx):
    spec = json.loads(ctx.body or b"{}")
    if not isinstance(spec, dict) or spec.get("kind") not in FAULT_KINDS:
        raise Answer(json_reply({"error": "unknown fault kind"}, 400))
    if not isinstance(spec.get("count", 1), int):
        raise Answer(json_reply({"error": "count must be an integer"}, 400))
    return json_reply({"ok": True, "id": ctx.hub.faults.add(spec)})


def state_repo(data, op):
    repo = (data.get("repos") or {}).get(op.get("repo"))
    if not isinstance(repo, dict):
        raise Answer(json_reply({"error": "no such repo: %s" % op.get("repo")}, 400))
    return repo


def state_move_ref(data, op):
    repo = state_repo(data, op)
    if op.get("commit") not in (repo.get("commits") or {}):
        raise Answer(json_reply({"error": "no such commit"}, 400))
    is_tag = op.get("kind") == "tag" or (
        op.get("kind") is None and op.get("ref") in (repo.get("tags") or {})
        and op.get("ref") not in (repo.get("refs") or {}))
    repo.setdefault("tags" if is_tag else "refs", {})[op["ref"]] = op["commit"]


def state_rename_repo(data, op):
    state_repo(data, op)
    new = op.get("to")
    if not isinstance(new, str) or new.count("/") != 1 or new in data["repos"]:
        raise Answer(json_reply({"error": "bad new name: %r" % new}, 400))
    data["repos"][new] = data["repos"].pop(op["repo"])
    data.setdefault("renamed", {})[op["repo"]] = new


def state_delete_repo(data, op):
    state_repo(data, op)
    del data["repos"][op["repo"]]


def state_set(field, key):
    def change(data, op):
        state_repo(data, op)[field] = op.get(key)
    return change


STATE_OPS = {
    "move_ref": state_move_ref, "delete_repo": state_delete_repo,
    "rename_repo": state_rename_repo,
    "set_gated": state_set("gated", "gated"), "set_private": state_set("private", "private"),
    "set_direct": state_set("direct", "direct"), "set_tokens": state_set("tokens", "tokens"),
    "set_hubs": state_set("hubs", "hubs"),
}


def control_state(ctx):
    op = json.loads(ctx.body or b"{}")
    if not isinstance(op, dict):
        raise Answer(json_reply({"error": "expected a JSON object"}, 400))
    if op.get("op") == "replace_blob":
        if not SHA256_RE.match(str(op.get("sha256", ""))):
            raise Answer(json_reply({"error": "sha256 must be 64 lowercase hex"}, 400))
        ctx.hub.store.write_blob(op["sha256"], base64.b64decode(op.get("content_b64", "")))
        return json_reply({"ok": True})
    change = STATE_OPS.get(op.get("op"))
    if change is None:
        raise Answer(json_reply({"error": "unknown op"}, 400))
    ctx.hub.store.edit(lambda data: change(data, op))
    return json_reply({"ok": True})


def control_config(ctx):
    conf = json.loads(ctx.body or b"{}")
    hub = ctx.hub
    if conf.get("storage", "cdn") not in ("cdn", "same-host"):
        raise Answer(json_reply({"error": "storage is cdn or same-host"}, 400))
    if "prefix" in conf:
        conf["prefix"] = (conf["prefix"] or "").rstrip("/")
    with hub.config_lock:
        for key in CONFIG_KEYS:
            if key in conf:
                setattr(hub, "storage_base_url" if key == "storage_base" else key, conf[key])
        return json_reply({k: getattr(hub, "storage_base_url" if k == "storage_base" else k)
                           for k in CONFIG_KEYS})


def control_reset(ctx):
    ctx.hub.faults.reset()
    ctx.hub.log.reset()
    return json_reply({"ok": True})


CONTROL = {
    ("POST", "fault"): control_fault, ("GET", "faults"): lambda c: json_reply(c.hub.faults.list()),
    ("POST", "reset"): control_reset, ("GET", "log"): lambda c: json_reply(c.hub.log.dump()),
    ("POST", "state"): control_state, ("POST", "config"): control_config,
    ("GET", "info"): lambda c: json_reply({"hub": c.hub.hub_base, "cdn": c.hub.cdn_base,
                                           "endpoint": c.hub.endpoint(), "pid": os.getpid()}),
}


def route_control(ctx):
    fn = CONTROL.get((ctx.method, ctx.raw_segs[1] if len(ctx.raw_segs) == 2 else ""))
    if fn is None:
        return json_reply({"error": "unknown control call"}, 404)
    try:
        return fn(ctx)
    except Answer as a:
        return a.reply
    except (ValueError, TypeError, KeyError) as e:
        return json_reply({"error": "bad request: %r" % e}, 400)


# ----------------------------------------------------------------------------- routing

def route_hf_api(ctx, s):
    """s = segments after /api/models/."""
    org, name, rest = s[0], s[1], s[2:]
    reading = ctx.method in ("GET", "HEAD")
    if not rest and reading:
        return hf_model_info(ctx, org, name, None)
    if rest[:1] == ["revision"] and len(rest) >= 2 and reading:
        return hf_model_info(ctx, org, name, "/".join(rest[1:]))
    if rest == ["refs"] and reading:
        return hf_refs(ctx, org, name)
    if rest[:1] == ["tree"] and len(rest) >= 2 and reading:
        return hf_tree(ctx, org, name, rest[1], "/".join(rest[2:]))
    if rest[:1] == ["paths-info"] and len(rest) >= 2 and ctx.method == "POST":
        return hf_paths_info(ctx, org, name, "/".join(rest[1:]))
    return None


def route_ms_api(ctx, s):
    """s = segments after /api/v1/models/."""
    org, name, rest = s[0], s[1], s[2:]
    if ctx.method not in ("GET", "HEAD"):
        return None
    table = {(): ms_model_info, ("revisions",): ms_revisions, ("commits",): ms_commits,
             ("repo", "files"): ms_files, ("repo",): ms_download}
    fn = table.get(tuple(rest))
    return fn(ctx, org, name) if fn else None


def renamed_redirect(ctx):
    """A relative 307 from a renamed repo's old name to its new one, no metadata."""
    s = ctx.segs
    if s[:2] == ["api", "models"] and len(s) >= 4:
        at = 2
    elif s[:3] == ["api", "resolve-cache", "models"] and len(s) >= 5:
        at = 3
    elif len(s) >= 3 and s[0] != "api" and s[2] == "resolve":
        at = 0
    else:
        return None
    new = ctx.fx.renamed("%s/%s" % (s[at], s[at + 1]))
    if new is None:
        return None
    raw = ctx.path.split("/")
    raw[at + 1:at + 3] = [urllib.parse.quote(x) for x in new.split("/")]
    location = ctx.hub.prefix + "/".join(raw) + ("?" + ctx.query_string if ctx.query_string else "")
    return Reply(307, ("Temporary Redirect. Redirecting to %s" % location).encode(),
                 "text/plain; charset=utf-8", [("Location", location)])


def route_hub(ctx):
    s, reading = ctx.segs, ctx.method in ("GET", "HEAD")
    if ctx.path is None:
        return hf_error(404, "NotFound", "Not Found (outside %s)" % ctx.hub.prefix)
    moved = renamed_redirect(ctx)
    if moved is not None:
        return moved
    redirect = ctx.hub.resolve_redirect
    if redirect and len(s) >= 5 and s[2] == "resolve" and s[0] != "api":
        location = redirect["to"] + ctx.path + ("?" + ctx.query_string if ctx.query_string else "")
        return Reply(int(redirect.get("status", 308)), b"Moved\n", "text/plain; charset=utf-8",
                     [("Location", location)])
    if ctx.hub.storage == "same-host" and len(s) == 2 and s[0] in ("blob", "oss") and reading:
        return cdn_blob(ctx, s[1], signed=(s[0] == "blob"))
    if s[:2] == ["api", "models"] and len(s) >= 4:
        return route_hf_api(ctx, s[2:])
    if s[:3] == ["api", "resolve-cache", "models"] and len(s) >= 7 and reading:
        return hf_resolve_cache(ctx, s[3], s[4], s[5], "/".join(s[6:]))
    if s == ["api", "v1", "repos", "internalAccelerationInfo"]:
        return ms_error(ctx, 404, "not found")
    if s[:3] == ["api", "v1", "models"] and len(s) >= 5:
        return route_ms_api(ctx, s[3:])
    if len(s) >= 5 and s[2] == "resolve" and s[0] != "api" and reading:
        return hf_resolve(ctx, s[0], s[1], s[3], "/".join(s[4:]))
    return None


def route_cdn(ctx):
    s = ctx.segs
    if len(s) == 2 and s[0] in ("blob", "oss") and ctx.method in ("GET", "HEAD"):
        return cdn_blob(ctx, s[1], signed=(s[0] == "blob"))
    return None


def route(ctx):
    try:
        reply = route_hub(ctx) if ctx.role == "hub" else route_cdn(ctx)
    except Answer as a:
        return a.reply
    if reply is None:
        if ctx.role == "cdn":
            return cdn_text(404, "not found")
        return hf_error(404, "NotFound", "Not Found")
    return reply


# ----------------------------------------------------------------------------- faults

def apply_range(reply, header):
    if not reply.rangeable or not header or reply.status != 200:
        return reply
    total = reply.length
    parsed = parse_range(header, total)
    if parsed is None:
        return reply
    if parsed == "unsatisfiable":
        return Reply(416, b"Range Not Satisfiable\n", "text/plain; charset=utf-8",
                     [("Content-Range", "bytes */%d" % total)])
    start, end = parsed
    reply.status = 206
    reply.offset += start
    reply.length = end - start + 1
    reply.headers.append(("Content-Range", "bytes %d-%d/%d" % (start, end, total)))
    return reply


def status_fault(ctx, f):
    status = int(f.get("status", 500))
    body = f.get("body")
    if body is None:
        body = json.dumps({"error": "injected status %d" % status})
    ctype = "application/json" if body[:1] in ("{", "[") else "text/plain; charset=utf-8"
    return Reply(status, body.encode(), ctype, list((f.get("headers") or {}).items()))


def redirect_fault(ctx, f):
    location = ctx.target
    if f.get("absolute"):
        base = ctx.hub.hub_base if ctx.role == "hub" else ctx.hub.cdn_base
        location = base + ctx.target
    return Reply(302, b"Found. Redirecting\n", "text/plain; charset=utf-8",
                 [("Location", location)])


def bad_json_fault(ctx, reply):
    text = reply.read(0, min(reply.length, 1 << 16)) if reply.has_body() else b""
    if not text.startswith((b"{", b"[")):
        text = b'{"error": "truncated answer", "items": [1, 2, 3]}'
    return Reply(200, text[:max(1, len(text) // 2)], "application/json")


def not_modified(reply):
    reply.status = 304
    for name in ("Content-Type", "Content-Range", "Accept-Ranges", "Location"):
        reply.drop(name)
    reply.body, reply.file, reply.length, reply.rangeable = b"", None, 0, False
    return reply


def empty_body(reply):
    reply.status = 200
    reply.drop("Content-Range")
    reply.drop("Location")
    reply.body, reply.file, reply.length, reply.rangeable = b"", None, 0, False
    return reply


def transform(ctx, reply, f):
    kind = f.get("kind") if f else None
    if kind == "status":
        return status_fault(ctx, f)
    if kind == "redirect_loop":
        return redirect_fault(ctx, f)
    if kind == "html":
        return Reply(200, b"<html><head><title>Portal</title></head><body>"
                          b"<h1>Please sign in</h1></body></html>\n", "text/html; charset=utf-8")
    if kind == "bad_json":
        return bad_json_fault(ctx, reply)
    if kind == "empty_body":
        return empty_body(reply)
    if kind == "not_modified":
        return not_modified(reply)
    if kind == "wrong_size" and reply.get("X-Linked-Size") is not None:
        reply.set("X-Linked-Size", str(int(reply.get("X-Linked-Size")) + int(f.get("delta", 1))))
    if kind == "no_commit":
        reply.drop("X-Repo-Commit")
    return reply


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
