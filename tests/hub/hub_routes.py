# SPDX-License-Identifier: Apache-2.0
"""The test hub's answers (tests/hub/fakehub.py is the server): the Hugging Face API and
resolve routes, ModelScope's API, the CDN, the control API, routing under a prefix, and the
faults that transform a reply. Each handler takes the parsed request (fakehub.Ctx) and
returns a hub_data.Reply or raises hub_data.Answer. Python standard library only."""
import base64
import hashlib
import hmac
import json
import os
import time
import urllib.parse
import zlib

from hub_data import (ALL_HUBS, CONFIG_KEYS, FAULT_KINDS, SHA256_RE, Answer, Reply,
                      content_type_for, file_oid, hf_error, iso_to_unix, json_reply, ms_error,
                      ms_ok, parse_range, pointer_size, size_of, truthy)

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
