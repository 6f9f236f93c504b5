# SPDX-License-Identifier: Apache-2.0
"""The test hub's data side (tests/hub/fakehub.py is the server): constants, small helpers,
the replies handlers raise or return, and the fixture folder (repos.json + blobs/) that
make_fixture.py writes and the hub serves. Python standard library only."""
import calendar
import hashlib
import json
import os
import re
import secrets
import sys
import tempfile
import threading
import time


COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
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
