#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Builds the fake hub's root folder (tests/hub/fakehub.py reads it) from local model folders.

Owns the fixture format: ROOT/blobs/<sha256> (one file per distinct content) and
ROOT/repos.json (repos, refs, tags, commits and their file tables). Standard library only.

    make_fixture.py ROOT add --repo org/name [--hub hf|modelscope|both] [--branch B]
                    [--tag T]... [--gated auto|manual] [--private] [--token TOK]...
                    [--direct] [--message M] [--date ISO] DIR

`add` records DIR's files (recursively, sorted relative paths) as a NEW commit of the repo
(created if needed), whose parent is the current commit of the branch; it moves the branch
(default `main`, plus `master` when the repo is on ModelScope) and each tag to it, and prints
the commit id.
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile

LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".onnx", ".msgpack", ".h5")
LFS_MIN_SIZE = 10 * 1024 * 1024
BASE_DATE = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
CHUNK = 4 * 1024 * 1024


def lfs_pointer(sha256, size):
    return ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
            % (sha256, size)).encode()


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def hash_file(path):
    """Returns (sha256 hex, git blob sha1 hex, size), reading the file once."""
    size = os.path.getsize(path)
    s256 = hashlib.sha256()
    s1 = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as f:
        while True:
            block = f.read(CHUNK)
            if not block:
                break
            s256.update(block)
            s1.update(block)
    return s256.hexdigest(), s1.hexdigest(), size


def is_lfs(path, size):
    return path.endswith(LFS_SUFFIXES) or size > LFS_MIN_SIZE


def list_files(top):
    """Relative '/'-separated paths of the regular files under top, sorted."""
    out = []
    for d, dirs, files in os.walk(top):
        dirs.sort()
        for name in files:
            full = os.path.join(d, name)
            if os.path.isfile(full):
                out.append(os.path.relpath(full, top).replace(os.sep, "/"))
    return sorted(out)


def store_blob(root, src, sha256):
    dest = os.path.join(root, "blobs", sha256)
    if os.path.exists(dest):
        return
    fd, tmp = tempfile.mkstemp(dir=os.path.join(root, "blobs"), prefix=".tmp-")
    os.close(fd)
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest)


def file_record(root, top, rel):
    src = os.path.join(top, rel)
    sha256, sha1, size = hash_file(src)
    store_blob(root, src, sha256)
    rec = {"sha256": sha256, "git_sha1": sha1, "size": size, "lfs": is_lfs(rel, size)}
    if rec["lfs"]:
        pointer = lfs_pointer(sha256, size)
        rec["pointer_oid"] = git_blob_sha1(pointer)
        rec["pointer_size"] = len(pointer)
    return rec


def commit_id(parent, files):
    text = "parent %s\n" % (parent or "none")
    text += "".join("%s\0%s\n" % (p, files[p]["sha256"]) for p in sorted(files))
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()


def load_state(root):
    path = os.path.join(root, "repos.json")
    if not os.path.exists(path):
        return {"repos": {}}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_state(root, state):
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".repos-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1, sort_keys=True)
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, os.path.join(root, "repos.json"))


def new_repo(hubs):
    return {"hubs": hubs, "gated": False, "private": False, "tokens": [], "direct": False,
            "refs": {}, "tags": {}, "commits": {}}


def hubs_of(choice):
    return {"hf": ["hf"], "modelscope": ["modelscope"], "both": ["hf", "modelscope"]}[choice]


def default_date(repo):
    when = BASE_DATE + datetime.timedelta(hours=len(repo["commits"]))
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def update_settings(repo, a):
    repo["hubs"] = sorted(set(repo.get("hubs", [])) | set(hubs_of(a.hub)))
    if a.gated:
        repo["gated"] = a.gated
    if a.private:
        repo["private"] = True
    if a.direct:
        repo["direct"] = True
    repo["tokens"] = sorted(set(repo.get("tokens", [])) | set(a.token))


def branches_to_move(repo, a):
    if a.branch:
        return [a.branch]
    return ["main", "master"] if "modelscope" in repo["hubs"] else ["main"]


def cmd_add(a):
    if not os.path.isdir(a.dir):
        sys.exit("make_fixture: %s is not a folder" % a.dir)
    os.makedirs(os.path.join(a.root, "blobs"), exist_ok=True)
    state = load_state(a.root)
    repo = state["repos"].setdefault(a.repo, new_repo(hubs_of(a.hub)))
    update_settings(repo, a)
    branches = branches_to_move(repo, a)
    parent = repo["refs"].get(branches[0])
    files = {rel: file_record(a.root, a.dir, rel) for rel in list_files(a.dir)}
    cid = commit_id(parent, files)
    if cid not in repo["commits"]:  # same parent and files: the same commit, keep it as is
        repo["commits"][cid] = {
            "parent": parent, "date": a.date or default_date(repo), "files": files,
            "message": a.message or "Upload %d files" % len(files), "author": "fakehub"}
    for b in branches:
        repo["refs"][b] = cid
    for t in a.tag:
        repo["tags"][t] = cid
    save_state(a.root, state)
    print(cid)
    return 0


def parse_args(argv):
    p = argparse.ArgumentParser(description="Build a fake hub root folder.")
    p.add_argument("root")
    sub = p.add_subparsers(dest="cmd", required=True)
    add = sub.add_parser("add", help="add a folder as a new commit of a repo")
    add.add_argument("--repo", required=True, help="org/name")
    add.add_argument("--hub", choices=["hf", "modelscope", "both"], default="both")
    add.add_argument("--branch", default=None)
    add.add_argument("--tag", action="append", default=[])
    add.add_argument("--gated", choices=["auto", "manual"], default=None)
    add.add_argument("--private", action="store_true")
    add.add_argument("--direct", action="store_true",
                     help="answer downloads with 200 directly: HF regular (non-LFS) "
                          "files without the 307, ModelScope files without the 302")
    add.add_argument("--token", action="append", default=[])
    add.add_argument("--message", default=None)
    add.add_argument("--date", default=None, help="commit date, ISO-8601 (default: fixed)")
    add.add_argument("dir")
    a = p.parse_args(argv)
    if a.repo.count("/") != 1 or not all(a.repo.split("/")):
        p.error("--repo must be org/name")
    return a


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    return cmd_add(a)


if __name__ == "__main__":
    sys.exit(main())
