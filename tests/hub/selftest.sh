#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tests/hub/selftest.sh — checks the fake hub (fakehub.py + make_fixture.py) with curl: builds a
# fixture from a generated tiny model, starts the hub, and exercises every endpoint, error,
# control call and fault. Exit 0 when all checks pass; otherwise lists what failed.
# Needs bash, curl, python3. Set ARCA_HUB_BENCH_MB=1024 to also time CDN throughput.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/fakehub-selftest-XXXXXX")
ROOT="$T/root"
HUB_PID=""
FAILS=0
CHECKS=0

cleanup() {
	[ -n "$HUB_PID" ] && kill "$HUB_PID" 2>/dev/null && wait "$HUB_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() { # check WHAT COND-RESULT(0/1)...: counts a check
	CHECKS=$((CHECKS + 1))
	[ "$2" = 0 ] || fail "$1"
}
py() { python3 -c "$@"; }

# req CURL-ARGS...: response headers in $T/h, body in $T/b, status in $CODE, curl exit in $RC
req() {
	CODE=$(curl -sS -o "$T/b" -D "$T/h" -w '%{http_code}' "$@" 2>"$T/curl.err")
	RC=$?
}
# hdr NAME: value of NAME in the last response block of $T/h
hdr() {
	tr -d '\r' <"$T/h" | awk '/^HTTP\//{buf=""} {buf=buf $0 "\n"} END{printf "%s", buf}' |
		grep -i "^$1:" | tail -n 1 | cut -d: -f2- | sed 's/^ //'
}
# jv EXPR: evaluates a Python expression over the JSON body (bound to d)
jv() { py 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/b" "$1" 2>/dev/null; }

eq() { # eq WHAT GOT WANT
	CHECKS=$((CHECKS + 1))
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}
code() { eq "$1 (status)" "$CODE" "$2"; }
hdr_is() { eq "$1 (header $2)" "$(hdr "$2")" "$3"; }
json_is() { eq "$1 ($2)" "$(jv "$2")" "$3"; }
no_hdr() { eq "$1 (no header $2)" "$(hdr "$2")" ""; }
same_file() { CHECKS=$((CHECKS + 1)); cmp -s "$2" "$3" || fail "$1: body differs from $3"; }

sha256() { sha256sum "$1" | cut -d' ' -f1; }
gitsha1() { py 'import hashlib,sys; d=open(sys.argv[1],"rb").read(); print(hashlib.sha1(b"blob %d\0" % len(d) + d).hexdigest())' "$1"; }
# head_extra PATH-ON-HUB-OR-CDN-URL: bytes a server sends after a HEAD answer's headers (want 0)
head_extra() {
	py '
import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
s = socket.create_connection((u.hostname, u.port))
s.sendall(("HEAD %s?%s HTTP/1.1\r\nHost: x\r\n\r\n" % (u.path, u.query)).encode())
s.settimeout(0.5)
data = b""
try:
    while True:
        part = s.recv(65536)
        if not part:
            break
        data += part
except socket.timeout:
    pass
head, sep, rest = data.partition(b"\r\n\r\n")
print(len(rest) if sep else "no-header-end")' "$1"
}
control() { curl -sS -o "$T/ctl" -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data "$2" "$HUB/_control/$1"; }
fault() { eq "set fault $1" "$(control fault "$1")" 200; }
hub_reset() { control reset "{}" >/dev/null; }

# ----------------------------------------------------------------------------- fixture
M="$T/model"
python3 "$SRC/tests/fixtures/make_tiny_model.py" --no-tokenizer "$M" >/dev/null || { echo "cannot make model"; exit 1; }
mkdir -p "$M/sub/deep"
printf 'hello\n' >"$M/sub/a.txt"
printf 'deep\n' >"$M/sub/deep/b.txt"
printf 'odd name\n' >"$M/sub/with space é.txt"
: >"$M/empty.txt"
MF="python3 $HERE/make_fixture.py $ROOT"
C1=$($MF add --repo org/tiny --hub both --tag v1 "$M") || { echo "make_fixture failed"; exit 1; }
$MF add --repo org/tiny --branch refs/pr/1 "$M" >/dev/null
$MF add --repo org/gated --hub hf --gated manual --token goodtok "$M" >/dev/null
$MF add --repo org/private --hub both --private --token secret "$M" >/dev/null
$MF add --repo org/hfonly --hub hf "$M" >/dev/null
mkdir -p "$T/small" && printf 'small\n' >"$T/small/notes.txt"
$MF add --repo org/direct --hub both --direct "$M" >/dev/null
$MF add --repo org/scratch --hub both "$T/small" >/dev/null
eq "commit id is 40 hex" "$(echo "$C1" | grep -cE '^[0-9a-f]{40}$')" 1
eq "make_fixture pointed master" "$(py 'import json,sys; r=json.load(open(sys.argv[1]))["repos"]["org/tiny"]; print(r["refs"]["master"]==r["refs"]["main"]==sys.argv[2], r["tags"]["v1"]==sys.argv[2])' "$ROOT/repos.json" "$C1")" "True True"
eq "hf-only repo has no master" "$(py 'import json,sys; print(sorted(json.load(open(sys.argv[1]))["repos"]["org/hfonly"]["refs"]))' "$ROOT/repos.json")" "['main']"
eq "commit id formula" "$(py '
import hashlib,json,sys
c=json.load(open(sys.argv[1]))["repos"]["org/tiny"]["commits"][sys.argv[2]]
t="parent none\n"+"".join("%s\0%s\n"%(p,c["files"][p]["sha256"]) for p in sorted(c["files"]))
print(hashlib.sha1(t.encode()).hexdigest())' "$ROOT/repos.json" "$C1")" "$C1"

SAFE_SHA=$(sha256 "$M/model.safetensors")
SAFE_SIZE=$(stat -c %s "$M/model.safetensors")
CONF_SHA1=$(gitsha1 "$M/config.json")
CONF_SIZE=$(stat -c %s "$M/config.json")
POINTER_OID=$(py 'import hashlib,sys; p=("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %s\n"%(sys.argv[1],sys.argv[2])).encode(); print(hashlib.sha1(b"blob %d\0"%len(p)+p).hexdigest())' "$SAFE_SHA" "$SAFE_SIZE")

# ----------------------------------------------------------------------------- start
python3 "$HERE/fakehub.py" --root "$ROOT" --ready-file "$T/ready" --page-size 2 >"$T/hub.out" 2>"$T/hub.err" &
HUB_PID=$!
for _ in $(seq 100); do [ -s "$T/ready" ] && break; sleep 0.1; done
[ -s "$T/ready" ] || { echo "hub did not start"; cat "$T/hub.err"; exit 1; }
HUB=$(py 'import json,sys; print(json.load(open(sys.argv[1]))["hub"])' "$T/ready")
CDN=$(py 'import json,sys; print(json.load(open(sys.argv[1]))["cdn"])' "$T/ready")
eq "ready pid" "$(py 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$T/ready")" "$HUB_PID"
eq "ready line on stdout" "$(head -n 1 "$T/hub.out")" "$(cat "$T/ready")"

# ----------------------------------------------------------------------------- HF: info, refs
req "$HUB/api/models/org/tiny"
code "model info" 200
json_is "model info" 'd["id"], d["sha"], d["private"], d["gated"]' "('org/tiny', '$C1', False, False)"
json_is "model info" '"license:apache-2.0" in d["tags"], d["cardData"]["license"], d["cardData"]["language"]' "(True, 'apache-2.0', ['en', 'zh'])"
json_is "model info siblings" '[s["rfilename"] for s in d["siblings"]][:3], "size" in d["siblings"][0]' "(['LICENSE', 'README.md', 'config.json'], False)"
json_is "model info" 'd["lastModified"]' "2026-11-01T00:00:00.000Z"
req "$HUB/api/models/org/tiny?blobs=true"
json_is "blobs=true lfs" '[s for s in d["siblings"] if s["rfilename"]=="model.safetensors"][0]["lfs"]["sha256"]' "$SAFE_SHA"
json_is "blobs=true blobId" '[(s["size"],s["blobId"]) for s in d["siblings"] if s["rfilename"]=="config.json"][0]' "($CONF_SIZE, '$CONF_SHA1')"
json_is "blobs=true lfs blobId" '[s["blobId"] for s in d["siblings"] if s["rfilename"]=="model.safetensors"][0]' "$POINTER_OID"
req "$HUB/api/models/org/tiny?expand=sha&expand=private"
json_is "expand filter" 'sorted(d)' "['_id', 'id', 'private', 'sha']"
for rev in v1 "$C1" refs%2Fpr%2F1 refs%2Fheads%2Fmain; do
	req "$HUB/api/models/org/tiny/revision/$rev"
	code "info at $rev" 200
	[ "$rev" = refs%2Fpr%2F1 ] || json_is "info at $rev" 'd["sha"]' "$C1"
done
req "$HUB/api/models/org/tiny/revision/nope"
code "info unknown revision" 404
hdr_is "info unknown revision" X-Error-Code RevisionNotFound
req "$HUB/api/models/org/tiny/revision/${C1:0:7}"
code "short sha is not a commit" 404
req "$HUB/api/models/org/tiny/refs"
code refs 200
json_is refs '[b["name"] for b in d["branches"]], d["tags"][0]["ref"], d["tags"][0]["targetCommit"]' "(['main', 'master', 'refs/pr/1'], 'refs/tags/v1', '$C1')"
json_is refs 'd["branches"][0]["ref"]' "refs/heads/main"

# ----------------------------------------------------------------------------- HF: tree
all_pages() { # all_pages URL: follows Link rel=next, prints "pages entries paths..."
	py '
import json, re, sys, urllib.request
url, pages, out = sys.argv[1], 0, []
while url:
    with urllib.request.urlopen(url) as r:
        out += json.load(r)
        m = re.match(r"<([^>]*)>; rel=\"next\"", r.headers.get("Link") or "")
    pages += 1
    url = m.group(1) if m else None
print(pages, len(out), json.dumps([(e["type"], e["path"]) for e in out]))' "$1"
}
TREE=$(all_pages "$HUB/api/models/org/tiny/tree/main?recursive=true&expand=false")
eq "tree recursive pages and count" "$(echo "$TREE" | cut -d' ' -f1-2)" "6 11"
eq "tree recursive sorted" "$(echo "$TREE" | cut -d' ' -f3- | py 'import json,sys; l=json.load(sys.stdin); print([p for t,p in l]==sorted(p for t,p in l), [p for t,p in l if t=="directory"])')" "True ['sub', 'sub/deep']"
req "$HUB/api/models/org/tiny/tree/main?recursive=true&expand=false"
eq "tree Link" "$(hdr Link)" "<$HUB/api/models/org/tiny/tree/main?recursive=true&expand=false&cursor=2>; rel=\"next\""
TREE=$(all_pages "$HUB/api/models/org/tiny/tree/main")
eq "tree root non-recursive" "$(echo "$TREE" | cut -d' ' -f3-)" '[["file", "LICENSE"], ["file", "README.md"], ["file", "config.json"], ["file", "empty.txt"], ["file", "generation_config.json"], ["file", "model.safetensors"], ["directory", "sub"]]'
TREE=$(all_pages "$HUB/api/models/org/tiny/tree/main/sub")
eq "tree sub" "$(echo "$TREE" | cut -d' ' -f3-)" '[["file", "sub/a.txt"], ["directory", "sub/deep"], ["file", "sub/with space \u00e9.txt"]]'
TREE=$(all_pages "$HUB/api/models/org/tiny/tree/main/sub%2Fdeep?recursive=false")
eq "tree sub/deep encoded as one segment" "$(echo "$TREE" | cut -d' ' -f3-)" '[["file", "sub/deep/b.txt"]]'
req "$HUB/api/models/org/tiny/tree/main?recursive=true&cursor=4"
json_is "tree lfs entry" '[(e["oid"], e["size"], e["lfs"]["oid"], e["lfs"]["size"], e["lfs"]["pointerSize"]) for e in d if e["path"]=="model.safetensors"][0]' "('$POINTER_OID', $SAFE_SIZE, '$SAFE_SHA', $SAFE_SIZE, 131)"
req "$HUB/api/models/org/tiny/tree/main?recursive=true&cursor=2"
json_is "tree file entry" '[e for e in d if e["path"]=="config.json"][0]' "{'type': 'file', 'oid': '$CONF_SHA1', 'size': $CONF_SIZE, 'path': 'config.json'}"
req "$HUB/api/models/org/tiny/tree/main?recursive=true&expand=true"
json_is "tree expand" 'd[0]["lastCommit"]["id"], "securityFileStatus" in d[0]' "('$C1', True)"
req "$HUB/api/models/org/tiny/tree/main/nope"
code "tree missing path" 404
hdr_is "tree missing path" X-Error-Code EntryNotFound
req "$HUB/api/models/org/tiny/tree/nope"
code "tree missing revision" 404
hdr_is "tree missing revision" X-Error-Code RevisionNotFound
req -X POST --data 'paths=config.json&paths=sub&paths=missing&paths=model.safetensors&expand=false' "$HUB/api/models/org/tiny/paths-info/main"
code "paths-info" 200
json_is "paths-info" '[(e["type"], e["path"]) for e in d]' "[('file', 'config.json'), ('directory', 'sub'), ('file', 'model.safetensors')]"

# ----------------------------------------------------------------------------- HF: resolve
req -I "$HUB/org/tiny/resolve/main/config.json"
code "resolve regular HEAD" 307
LOC=$(hdr Location)
eq "resolve regular Location" "$LOC" "/api/resolve-cache/models/org/tiny/$C1/config.json?etag=%22$CONF_SHA1%22"
hdr_is "resolve regular" X-Repo-Commit "$C1"
req -L "$HUB/org/tiny/resolve/main/config.json"
code "resolve regular GET -L" 200
same_file "resolve regular GET -L" "$T/b" "$M/config.json"
req "$HUB/api/resolve-cache/models/org/tiny/$C1/config.json"
code "resolve-cache without query" 200
hdr_is "resolve-cache" ETag "\"$CONF_SHA1\""
hdr_is "resolve-cache" X-Repo-Commit "$C1"
hdr_is "resolve-cache" Content-Length "$CONF_SIZE"
hdr_is "resolve-cache" Accept-Ranges bytes
same_file "resolve-cache body" "$T/b" "$M/config.json"
req -I "$HUB$LOC"
code "resolve-cache HEAD with query" 200
hdr_is "resolve-cache HEAD" Content-Length "$CONF_SIZE"
req -H 'Range: bytes=2-9' "$HUB/api/resolve-cache/models/org/tiny/$C1/config.json"
code "resolve-cache range" 206
hdr_is "resolve-cache range" Content-Range "bytes 2-9/$CONF_SIZE"
eq "resolve-cache range body" "$(cat "$T/b")" "$(head -c 10 "$M/config.json" | tail -c 8)"

req -I "$HUB/org/tiny/resolve/main/model.safetensors"
code "resolve lfs HEAD" 302
LOC=$(hdr Location)
HEAD_LEN=$(hdr Content-Length)
eq "resolve lfs Location" "$(echo "$LOC" | grep -cE "^$CDN/blob/$SAFE_SHA\?sig=[0-9a-f]+&exp=[0-9]+$")" 1
hdr_is "resolve lfs" X-Repo-Commit "$C1"
hdr_is "resolve lfs" X-Linked-Etag "\"$SAFE_SHA\""
hdr_is "resolve lfs" X-Linked-Size "$SAFE_SIZE"
hdr_is "resolve lfs" ETag "\"$POINTER_OID\""
no_hdr "resolve lfs" X-Xet-Hash
eq "resolve lfs HEAD has no body" "$(head_extra "$HUB/org/tiny/resolve/main/model.safetensors")" 0
req "$HUB/org/tiny/resolve/main/model.safetensors"
code "resolve lfs GET" 302
eq "resolve lfs GET length" "$(stat -c %s "$T/b")" "$HEAD_LEN"
req -L "$HUB/org/tiny/resolve/main/model.safetensors"
code "resolve lfs GET -L" 200
same_file "resolve lfs GET -L" "$T/b" "$M/model.safetensors"
req -L "$HUB/org/tiny/resolve/refs%2Fpr%2F1/sub/with%20space%20%C3%A9.txt"
code "resolve encoded rev and path" 200
same_file "resolve encoded path" "$T/b" "$M/sub/with space é.txt"
req -L "$HUB/org/tiny/resolve/$C1/sub%2Fdeep/b.txt"
code "resolve commit rev" 200
req -L "$HUB/org/tiny/resolve/v1/empty.txt"
code "resolve empty file" 200
eq "resolve empty file" "$(stat -c %s "$T/b")" 0
req "$HUB/org/direct/resolve/main/config.json"
code "direct mode regular" 200
req -I "$HUB/org/direct/resolve/main/model.safetensors"
code "direct mode keeps the LFS 302" 302
req "$HUB/org/direct/resolve/main/config.json"
hdr_is "direct mode" ETag "\"$(gitsha1 "$M/config.json")\""
hdr_is "direct mode" X-Repo-Commit "$(py 'import json,sys; print(json.load(open(sys.argv[1]))["repos"]["org/direct"]["refs"]["main"])' "$ROOT/repos.json")"

# ----------------------------------------------------------------------------- HF: errors
req -I "$HUB/org/missing/resolve/main/config.json"
code "missing repo anon" 401
hdr_is "missing repo anon" X-Error-Code RepoNotFound
req -H 'Authorization: Bearer sometok' "$HUB/org/missing/resolve/main/config.json"
code "missing repo with token" 404
hdr_is "missing repo with token" X-Error-Code RepoNotFound
json_is "error body" 'sorted(d)' "['error']"
req -I "$HUB/org/gated/resolve/main/config.json"
code "gated anon" 401
hdr_is "gated anon" X-Error-Code GatedRepo
req -I -H 'Authorization: Bearer othertok' "$HUB/org/gated/resolve/main/config.json"
code "gated wrong token" 403
hdr_is "gated wrong token" X-Error-Code GatedRepo
req -I -H 'Authorization: Bearer goodtok' "$HUB/org/gated/resolve/main/config.json"
code "gated good token" 307
req "$HUB/api/models/org/gated"
code "gated info anon" 401
req -I "$HUB/org/private/resolve/main/config.json"
code "private anon" 401
hdr_is "private anon" X-Error-Code RepoNotFound
req -I -H 'Authorization: Bearer othertok' "$HUB/org/private/resolve/main/config.json"
code "private wrong token" 404
req -H 'Authorization: Bearer secret' "$HUB/api/models/org/private"
code "private good token" 200
json_is "private info" 'd["private"]' True
req -I -H 'Authorization: Bearer badtoken' "$HUB/org/tiny/resolve/main/config.json"
code "bad token" 401
hdr_is "bad token" X-Error-Message "Invalid credentials in Authorization header"
hdr_is "bad token" X-Error-Code InvalidCredentials
req -I "$HUB/org/tiny/resolve/nope/config.json"
code "missing revision" 404
hdr_is "missing revision" X-Error-Code RevisionNotFound
req -I "$HUB/org/tiny/resolve/main/nope.json"
code "missing file" 404
hdr_is "missing file" X-Error-Code EntryNotFound
hdr_is "missing file" X-Repo-Commit "$C1"
req "$HUB/api/models/org/tiny/xet-read-token/main"
code "xet-read-token" 404
hdr_is "xet-read-token" X-Error-Code NotFound
req "$HUB/api/models/org/modelscope-only-none"
code "unknown repo info anon" 401

# ----------------------------------------------------------------------------- CDN
BLOB="$CDN/blob/$SAFE_SHA"
SIGNED=$(curl -sS -o /dev/null -w '%{redirect_url}' "$HUB/org/tiny/resolve/main/model.safetensors")
req "$SIGNED"
code "cdn full" 200
same_file "cdn full" "$T/b" "$M/model.safetensors"
hdr_is "cdn full" Content-Length "$SAFE_SIZE"
hdr_is "cdn" Accept-Ranges bytes
ET=$(hdr ETag)
eq "cdn etag differs from sha256" "$(echo "$ET" | grep -c "cdn-")$(echo "$ET" | grep -c "$SAFE_SHA")" "10"
req -I "$SIGNED"
code "cdn HEAD" 200
hdr_is "cdn HEAD" Content-Length "$SAFE_SIZE"
req -H 'Range: bytes=100-199' "$SIGNED"
code "cdn range a-b" 206
hdr_is "cdn range a-b" Content-Range "bytes 100-199/$SAFE_SIZE"
eq "cdn range a-b body" "$(sha256 "$T/b")" "$(tail -c +101 "$M/model.safetensors" | head -c 100 | sha256sum | cut -d' ' -f1)"
req -H "Range: bytes=$((SAFE_SIZE - 10))-" "$SIGNED"
code "cdn range a-" 206
hdr_is "cdn range a-" Content-Range "bytes $((SAFE_SIZE - 10))-$((SAFE_SIZE - 1))/$SAFE_SIZE"
req -H 'Range: bytes=-5' "$SIGNED"
code "cdn range -n" 206
hdr_is "cdn range -n" Content-Length 5
eq "cdn range -n body" "$(sha256 "$T/b")" "$(tail -c 5 "$M/model.safetensors" | sha256sum | cut -d' ' -f1)"
req -H "Range: bytes=0-$((SAFE_SIZE + 50))" "$SIGNED"
code "cdn range past end clamps" 206
hdr_is "cdn range past end" Content-Range "bytes 0-$((SAFE_SIZE - 1))/$SAFE_SIZE"
req -H "Range: bytes=$SAFE_SIZE-" "$SIGNED"
code "cdn range start >= total" 416
hdr_is "cdn 416" Content-Range "bytes */$SAFE_SIZE"
req -H 'Authorization: Bearer sometok' "$SIGNED"
code "cdn rejects Authorization" 403
req "$BLOB"
code "cdn missing signature" 403
req "$BLOB?sig=00&exp=9999999999"
code "cdn bad signature" 403
eq "set sig_ttl" "$(control config '{"sig_ttl": -10}')" 200
EXPIRED=$(curl -sS -o /dev/null -w '%{redirect_url}' "$HUB/org/tiny/resolve/main/model.safetensors")
control config '{"sig_ttl": 3600}' >/dev/null
req "$EXPIRED"
code "cdn expired signature" 403
eq "cdn expired message" "$(cat "$T/b")" "signature expired"
req "$CDN/oss/$SAFE_SHA"
code "cdn oss needs no signature" 200
same_file "cdn oss" "$T/b" "$M/model.safetensors"
req "$CDN/blob/$(printf '0%.0s' $(seq 64))?sig=a&exp=1"
code "cdn unknown blob / bad sig" 403
req "$CDN/oss/$(printf '0%.0s' $(seq 64))"
code "cdn unknown blob" 404
req "$CDN/oss/..%2Frepos.json"
code "cdn refuses non-hash names" 404
# keep-alive: two requests on one connection, the first a sendfile body
curl -sv -o /dev/null -o /dev/null "$SIGNED" "$CDN/oss/$SAFE_SHA" 2>"$T/v"
eq "keep-alive after a sendfile body" "$(grep -ci 're-using existing connection\|reusing existing' "$T/v")" 1

# ----------------------------------------------------------------------------- ModelScope
MS="$HUB/api/v1/models"
req "$MS/org/tiny"
code "ms info" 200
json_is "ms info" 'd["Code"], d["Success"], d["Message"], d["Data"]["Name"], d["Data"]["Path"]' "(200, True, 'success', 'tiny', 'org')"
req "$MS/org/missing"
code "ms info missing" 404
json_is "ms info missing" 'd["Code"], d["Success"]' "(404, False)"
req "$MS/org/hfonly"
code "ms info hf-only repo" 404
req "$MS/org/tiny/revisions"
code "ms revisions" 200
json_is "ms revisions" 'sorted(b["Revision"] for b in d["Data"]["RevisionMap"]["Branches"]), [t["Revision"] for t in d["Data"]["RevisionMap"]["Tags"]], type(d["Data"]["RevisionMap"]["Tags"][0]["CreatedAt"]).__name__' "(['main', 'master', 'refs/pr/1'], ['v1'], 'int')"
req "$MS/org/tiny/repo/files?Revision=master&Recursive=True"
code "ms files" 200
json_is "ms files" '[(f["Path"], f["Type"]) for f in d["Data"]["Files"]][-4:]' "[('sub/a.txt', 'blob'), ('sub/deep', 'tree'), ('sub/deep/b.txt', 'blob'), ('sub/with space é.txt', 'blob')]"
json_is "ms files lfs entry" '[(f["Name"], f["Size"], f["Sha256"], f["IsLFS"], f["Revision"], f["Mode"], f["InCheck"]) for f in d["Data"]["Files"] if f["Path"]=="model.safetensors"][0]' "('model.safetensors', $SAFE_SIZE, '$SAFE_SHA', True, '$C1', '33188', False)"
json_is "ms files regular entry" '[(f["Sha256"], f["IsLFS"]) for f in d["Data"]["Files"] if f["Path"]=="config.json"][0]' "('$(sha256 "$M/config.json")', False)"
req "$MS/org/tiny/repo/files?Revision=master&Recursive=False"
json_is "ms files non-recursive" '[f["Path"] for f in d["Data"]["Files"]][-2:]' "['model.safetensors', 'sub']"
req "$MS/org/tiny/repo/files?Revision=master&Recursive=True&Root=sub/deep"
json_is "ms files Root" '[f["Path"] for f in d["Data"]["Files"]]' "['sub/deep/b.txt']"
req "$MS/org/tiny/repo/files?Revision=$C1&Recursive=True"
code "ms files commit id as revision" 404
json_is "ms files commit id" 'd["Code"], d["Success"]' "(404, False)"
req "$MS/org/tiny/repo/files?Revision=nope&Recursive=True"
code "ms files unknown revision" 404
req "$MS/org/tiny/repo/files?Revision=v1&Recursive=True"
code "ms files tag revision" 200
req "$MS/org/tiny/commits?Ref=master&PageNumber=1&PageSize=10"
code "ms commits" 200
json_is "ms commits" 'd["Data"]["Commit"][0]["Id"], d["Data"]["Commit"][0]["ShortId"], d["Data"]["TotalCount"], type(d["Data"]["Commit"][0]["CommittedDate"]).__name__' "('$C1', '${C1:0:8}', 1, 'int')"
req -I "$MS/org/tiny/repo?Revision=master&FilePath=model.safetensors"
code "ms download HEAD" 302
hdr_is "ms download HEAD" Location "$CDN/oss/$SAFE_SHA"
eq "ms download HEAD no body" "$(head_extra "$MS/org/tiny/repo?Revision=master&FilePath=model.safetensors")" 0
eq "cdn HEAD no body" "$(head_extra "$CDN/oss/$SAFE_SHA")" 0
req -L "$MS/org/tiny/repo?Revision=master&FilePath=sub%2Fwith+space+%C3%A9.txt"
code "ms download quote_plus path" 200
same_file "ms download" "$T/b" "$M/sub/with space é.txt"
req -L -H "Range: bytes=10-$((SAFE_SIZE - 1))" "$MS/org/tiny/repo?Revision=master&FilePath=model.safetensors"
code "ms download closed range" 206
eq "ms download range size" "$(stat -c %s "$T/b")" "$((SAFE_SIZE - 10))"
req "$MS/org/tiny/repo?Revision=master&FilePath=nope.bin"
code "ms download missing file" 404
req "$MS/org/direct/repo?Revision=master&FilePath=config.json"
code "ms direct download" 200
req "$HUB/api/v1/repos/internalAccelerationInfo"
code "ms internalAccelerationInfo" 404
req "$MS/org/private/repo/files?Revision=master&Recursive=True"
code "ms private anon" 403
json_is "ms private anon" 'd["Code"]' 403
req -b 'm_session_id=secret' "$MS/org/private/repo/files?Revision=master&Recursive=True"
code "ms private cookie" 200
req -H 'Authorization: Bearer secret' "$MS/org/private/revisions"
code "ms private bearer" 200
req -b 'm_session_id=wrong' "$MS/org/private"
code "ms private wrong cookie" 403

# ----------------------------------------------------------------------------- live reload, state
printf 'changed\n' >>"$M/config.json"
C2=$($MF add --repo org/tiny --hub both "$M")
CONF_SHA1=$(gitsha1 "$M/config.json")
CONF_SIZE=$(stat -c %s "$M/config.json")
req "$HUB/api/models/org/tiny"
json_is "reload after make_fixture" 'd["sha"]' "$C2"
eq "second commit has parent" "$(py 'import json,sys; print(json.load(open(sys.argv[1]))["repos"]["org/tiny"]["commits"][sys.argv[2]]["parent"])' "$ROOT/repos.json" "$C2")" "$C1"
req "$MS/org/tiny/commits?Ref=master&PageNumber=1&PageSize=1"
json_is "ms commits newest first" '[c["Id"] for c in d["Data"]["Commit"]], d["Data"]["TotalCount"]' "(['$C2'], 2)"
req "$MS/org/tiny/repo/files?Revision=master&Recursive=True"
json_is "ms files Revision = last commit touching" '{f["Path"]: f["Revision"] for f in d["Data"]["Files"]}["config.json"], {f["Path"]: f["Revision"] for f in d["Data"]["Files"]}["LICENSE"]' "('$C2', '$C1')"
req "$HUB/api/models/org/tiny/revision/v1"
json_is "tag stays" 'd["sha"]' "$C1"
eq "move_ref" "$(control state "{\"op\":\"move_ref\",\"repo\":\"org/tiny\",\"ref\":\"main\",\"commit\":\"$C1\"}")" 200
req "$HUB/api/models/org/tiny"
json_is "after move_ref" 'd["sha"]' "$C1"
eq "move_ref unknown commit" "$(control state '{"op":"move_ref","repo":"org/tiny","ref":"main","commit":"0000000000000000000000000000000000000000"}')" 400
control state "{\"op\":\"move_ref\",\"repo\":\"org/tiny\",\"ref\":\"main\",\"commit\":\"$C2\"}" >/dev/null
eq "set_gated" "$(control state '{"op":"set_gated","repo":"org/tiny","gated":"manual"}')" 200
req -I "$HUB/org/tiny/resolve/main/config.json"
code "after set_gated" 401
hdr_is "after set_gated" X-Error-Code GatedRepo
control state '{"op":"set_gated","repo":"org/tiny","gated":false}' >/dev/null
req -I "$HUB/org/tiny/resolve/main/config.json"
code "after set_gated false" 307
SMALL_SHA=$(sha256 "$T/small/notes.txt")
eq "replace_blob" "$(control state "{\"op\":\"replace_blob\",\"sha256\":\"$SMALL_SHA\",\"content_b64\":\"$(printf 'tampered!\n' | base64)\"}")" 200
req -L "$MS/org/scratch/repo?Revision=master&FilePath=notes.txt"
eq "after replace_blob" "$(cat "$T/b")" "tampered!"
eq "delete_repo" "$(control state '{"op":"delete_repo","repo":"org/scratch"}')" 200
req "$HUB/api/models/org/scratch"
code "after delete_repo" 401
eq "unknown state op" "$(control state '{"op":"nope"}')" 400

# ----------------------------------------------------------------------------- odd paths
py '
import json, sys
p = sys.argv[1]
d = json.load(open(p))
r = d["repos"]["org/tiny"]
c = r["commits"][r["refs"]["main"]]
f = c["files"]["config.json"]
for odd in ("../x", "/abs", "a\u0000b", "sub/../../y"):
    c["files"][odd] = dict(f)
json.dump(d, open(p + ".new", "w"))
' "$ROOT/repos.json" && mv "$ROOT/repos.json.new" "$ROOT/repos.json"
TREE=$(all_pages "$HUB/api/models/org/tiny/tree/main?recursive=true")
eq "odd paths listed verbatim" "$(echo "$TREE" | cut -d' ' -f3- | py 'import json,sys; l=[p for t,p in json.load(sys.stdin)]; print(all(x in l for x in ("../x","/abs","a\u0000b","sub/../../y")))')" True
req "$MS/org/tiny/repo/files?Revision=master&Recursive=True"
json_is "odd paths in ms files" 'sorted(f["Path"] for f in d["Data"]["Files"] if f["Path"] in ("../x","/abs","a\u0000b"))' "['../x', '/abs', 'a\\x00b']"
req -L "$HUB/org/tiny/resolve/main/a%00b"
code "resolve odd path" 200
req "$HUB/api/models/org/tiny"
code "info with odd paths" 200
printf '{"repos": {"org/broken": {"hubs": ["hf","modelscope"], "refs": {"main": "x", "master": "x"}, "commits": {"x": {"files": {"f": {}}}}}}}\n' >"$T/broken.json"
cp "$ROOT/repos.json" "$T/saved.json"
cp "$T/broken.json" "$ROOT/repos.json"
for u in "$HUB/api/models/org/broken" "$HUB/api/models/org/broken/tree/main?recursive=true" "$MS/org/broken/repo/files?Revision=master&Recursive=True" "$HUB/org/broken/resolve/main/f"; do
	req -L "$u"
	eq "sparse fixture does not crash: $u" "$(case $CODE in 200|302|307|404|500) echo ok;; *) echo "$CODE";; esac)" ok
done
cp "$T/saved.json" "$ROOT/repos.json"

# ----------------------------------------------------------------------------- concurrency
# 64 parallel readers on both listeners while the state changes under them
PIDS=""
for i in $(seq 16); do
	for u in "$HUB/api/models/org/tiny/tree/main?recursive=true" "$MS/org/tiny/repo/files?Revision=master&Recursive=True" "$CDN/oss/$SAFE_SHA" "$HUB/org/tiny/resolve/main/config.json"; do
		curl -sSL -o /dev/null -w '%{http_code}\n' "$u" >>"$T/codes" &
		PIDS="$PIDS $!"
	done
	[ "$i" = 8 ] && control state "{\"op\":\"move_ref\",\"repo\":\"org/tiny\",\"ref\":\"main\",\"commit\":\"$C1\"}" >/dev/null
done
for p in $PIDS; do wait "$p"; done
control state "{\"op\":\"move_ref\",\"repo\":\"org/tiny\",\"ref\":\"main\",\"commit\":\"$C2\"}" >/dev/null
eq "parallel readers all 200" "$(sort "$T/codes" | uniq -c | sed 's/^ *//')" "64 200"

# ----------------------------------------------------------------------------- control: log
hub_reset
curl -s -o /dev/null -H 'Range: bytes=0-1' -H 'Authorization: Bearer x' -b 'm_session_id=y' "$HUB/api/models/org/tiny?blobs=true"
curl -s -o /dev/null -L "$HUB/org/tiny/resolve/main/model.safetensors"
req "$HUB/_control/log"
json_is "log entries" 'len(d), d[0]["server"], d[0]["method"], d[0]["path"], d[0]["query"], d[0]["range"], d[0]["auth"], d[0]["cookie"], d[0]["status"]' "(3, 'hub', 'GET', '/api/models/org/tiny', 'blobs=true', 'bytes=0-1', True, True, 200)"
json_is "log cdn entry" 'd[2]["server"], d[2]["path"], d[2]["status"], d[2]["auth"]' "('cdn', '/blob/$SAFE_SHA', 200, False)"
hub_reset
req "$HUB/_control/log"
json_is "log after reset" 'len(d)' 0

# ----------------------------------------------------------------------------- faults
CONF_URL="$HUB/api/resolve-cache/models/org/tiny/$C2/config.json"
fault "{\"match\":\"/blob/\",\"kind\":\"cut\",\"after\":1000}"
req "$SIGNED"
eq "cut: curl sees a short body" "$RC $(stat -c %s "$T/b") $(hdr Content-Length)" "18 1000 $SAFE_SIZE"
req "$SIGNED"
code "cut applies once" 200
fault '{"match":"config.json","kind":"trickle","rate":400}'
START=$(date +%s.%N)
req "$CONF_URL"
ELAPSED=$(py "print(round($(date +%s.%N) - $START, 1))")
same_file "trickle body" "$T/b" "$M/config.json"
eq "trickle is slow ($ELAPSED s)" "$(py "print($ELAPSED >= 0.8)")" True
fault '{"match":"/blob/","kind":"ignore_range"}'
req -H 'Range: bytes=0-9' "$SIGNED"
eq "ignore_range" "$CODE $(stat -c %s "$T/b")" "200 $SAFE_SIZE"
fault '{"match":"config.json","kind":"gzip"}'
req -H 'Accept-Encoding: gzip' "$CONF_URL"
hdr_is "gzip" Content-Encoding gzip
hdr_is "gzip" Transfer-Encoding chunked
no_hdr "gzip" Content-Length
eq "gzip body" "$(gzip -dc <"$T/b" | sha256sum | cut -d' ' -f1)" "$(sha256 "$M/config.json")"
fault '{"match":"model.safetensors","kind":"status","status":429,"headers":{"Retry-After":"1","RateLimit":"\"resolvers\";r=0;t=1"}}'
req -I "$HUB/org/tiny/resolve/main/model.safetensors"
code "status 429" 429
hdr_is "status 429" RateLimit '"resolvers";r=0;t=1'
hdr_is "status 429" Retry-After 1
req -I "$HUB/org/tiny/resolve/main/model.safetensors"
code "status fault used up" 302
fault '{"match":"/api/models/org/tiny","kind":"status","status":503,"count":2,"body":"down"}'
req "$HUB/api/models/org/tiny"; A=$CODE; B=$(cat "$T/b")
req "$HUB/api/models/org/tiny"; A="$A $CODE"
req "$HUB/api/models/org/tiny"; A="$A $CODE"
eq "status 503 twice" "$A $B" "503 503 200 down"
req "$HUB/_control/log"
json_is "log records faults" '[(e["status"], e["fault"]) for e in d][-3:]' "[(503, 'status'), (503, 'status'), (200, None)]"
fault '{"match":"/blob/","kind":"corrupt","offset":5}'
req "$SIGNED"
eq "corrupt: same length" "$(stat -c %s "$T/b")" "$SAFE_SIZE"
eq "corrupt: one byte at 5" "$(cmp -l "$T/b" "$M/model.safetensors" | awk '{print $1}' | tr '\n' ' ')" "6 "
fault '{"match":"config.json","kind":"corrupt"}'
req "$CONF_URL"
eq "corrupt in-memory-size file, middle" "$(cmp -l "$T/b" "$M/config.json" | awk '{print $1}' | tr '\n' ' ')" "$((CONF_SIZE / 2 + 1)) "
fault '{"match":"model.safetensors","kind":"wrong_size","delta":7}'
req -I "$HUB/org/tiny/resolve/main/model.safetensors"
hdr_is "wrong_size" X-Linked-Size "$((SAFE_SIZE + 7))"
fault '{"match":"resolve/main/config.json","kind":"no_commit"}'
req -I "$HUB/org/tiny/resolve/main/config.json"
code "no_commit" 307
no_hdr "no_commit" X-Repo-Commit
fault '{"match":"resolve/main/config.json","kind":"redirect_loop","count":-1}'
req -L --max-redirs 5 "$HUB/org/tiny/resolve/main/config.json"
eq "redirect_loop (curl exit 47)" "$CODE $RC" "302 47"
hub_reset
fault '{"match":"/api/models/org/tiny","kind":"html"}'
req "$HUB/api/models/org/tiny"
eq "html" "$CODE $(hdr Content-Type) $(head -c 6 "$T/b")" "200 text/html; charset=utf-8 <html>"
fault '{"match":"/api/models/org/tiny","kind":"bad_json"}'
req "$HUB/api/models/org/tiny"
eq "bad_json" "$CODE $(hdr Content-Type) $(jv 1 || echo unparsable)" "200 application/json unparsable"
fault '{"match":"/oss/","kind":"empty_body"}'
req -L "$MS/org/tiny/repo?Revision=master&FilePath=model.safetensors"
eq "empty_body" "$CODE $(hdr Content-Length) $(stat -c %s "$T/b")" "200 0 0"
fault '{"match":"resolve/main/config.json","kind":"not_modified"}'
req -I -H "If-None-Match: \"$CONF_SHA1\"" "$HUB/org/tiny/resolve/main/config.json"
code "not_modified" 304
fault '{"match":"/api/v1/models/org/tiny/revisions","kind":"delay","seconds":1}'
START=$(date +%s.%N)
req "$MS/org/tiny/revisions"
eq "delay" "$CODE $(py "print($(date +%s.%N) - $START >= 0.9)")" "200 True"
fault '{"match":"repo/files","kind":"wrong_sha256","path":"model.safetensors"}'
req "$MS/org/tiny/repo/files?Revision=master&Recursive=True"
json_is "wrong_sha256" '[f["Sha256"] == "'"$SAFE_SHA"'" for f in d["Data"]["Files"] if f["Path"] == "model.safetensors"][0], [f["Sha256"] == "'"$(sha256 "$M/LICENSE")"'" for f in d["Data"]["Files"] if f["Path"] == "LICENSE"][0]' "(False, True)"
fault '{"match":"/blob/","kind":"status","status":500,"server":"hub","count":-1}'
req "$SIGNED"
code "server filter: hub-only fault skips cdn" 200
fault '{"match":"/api/models/org/tiny","kind":"status","status":502,"method":"POST"}'
req "$HUB/api/models/org/tiny"
code "method filter" 200
req "$HUB/_control/faults"
json_is "faults listed" 'sorted(f["kind"] for f in d)' "['status', 'status']"
hub_reset
eq "unknown fault kind" "$(control fault '{"match":"x","kind":"nope"}')" 400
fault '{"match":"/blob/","kind":"cut","after":0,"count":-1}'
req "$SIGNED"; A="$RC"
req "$SIGNED"; A="$A $RC"
hub_reset
req "$SIGNED"
eq "count -1 then reset" "$A $RC" "18 18 0"
# a cut on one connection must not disturb a parallel download
fault '{"match":"/blob/","kind":"trickle","rate":200000}'
curl -s -o "$T/slow" "$SIGNED" &
SLOW=$!
sleep 0.2
req "$SIGNED"
wait $SLOW
eq "parallel: trickled and normal downloads" "$(cmp -s "$T/slow" "$M/model.safetensors" && echo ok) $CODE" "ok 200"
hub_reset

# ----------------------------------------------------------------------------- hub shapes
hub_reset
LFS=$(sha256 "$M/model.safetensors")
# a path prefix: every route under it, nothing outside; links and redirects keep it
eq "set prefix" "$(control config '{"prefix": "/pfx/hf", "storage": "same-host"}')" 200
req "$HUB/api/models/org/tiny"
code "outside the prefix" 404
req "$HUB/pfx/hf/api/models/org/tiny/tree/main?recursive=true"
code "tree under the prefix" 200
eq "Link keeps the prefix" "$(hdr Link)" "<$HUB/pfx/hf/api/models/org/tiny/tree/main?recursive=true&expand=false&cursor=2>; rel=\"next\""
req -I "$HUB/pfx/hf/org/tiny/resolve/main/config.json"
eq "resolve cache under the prefix" "$(hdr Location | cut -d"?" -f1)" "/pfx/hf/api/resolve-cache/models/org/tiny/$C2/config.json"
# same-host storage: the LFS redirect stays on the hub, which serves the bytes with a token
req -I "$HUB/pfx/hf/org/tiny/resolve/main/model.safetensors"
case "$(hdr Location)" in "$HUB/pfx/hf/blob/$LFS?"*) R=0 ;; *) R=1 ;; esac
check "same-host LFS Location" $R
req -H 'Authorization: Bearer secret' "$(hdr Location)"
code "same-host storage takes a token" 200
same_file "same-host storage bytes" "$T/b" "$M/model.safetensors"
req "$HUB/pfx/hf/api/v1/models/org/tiny/repo?Revision=master&FilePath=model.safetensors"
eq "ModelScope same-host Location" "$(hdr Location)" "$HUB/pfx/hf/oss/$LFS"
# pagination links naming another host
control config '{"prefix": "", "storage": "cdn", "link_base": "https://huggingface.invalid"}' >/dev/null
req "$HUB/api/models/org/tiny/tree/main?recursive=true"
eq "Link on link_base" "$(hdr Link)" "<https://huggingface.invalid/api/models/org/tiny/tree/main?recursive=true&expand=false&cursor=2>; rel=\"next\""
# a mirror's resolve redirect to another endpoint, without metadata
control config '{"link_base": null, "resolve_redirect": {"status": 308, "to": "https://upstream.invalid"}}' >/dev/null
req -I "$HUB/org/tiny/resolve/main/model.safetensors"
code "resolve redirect" 308
hdr_is "resolve redirect Location" Location "https://upstream.invalid/org/tiny/resolve/main/model.safetensors"
no_hdr "resolve redirect" X-Repo-Commit
control config '{"resolve_redirect": null}' >/dev/null
# Xet-only files: X-Xet-Hash on the resolve, 400 from storage, xetHash in the tree
control config '{"xet_only_over": 1000}' >/dev/null
req -I "$HUB/org/tiny/resolve/main/model.safetensors"
eq "Xet-only resolve names a Xet hash" "$(hdr X-Xet-Hash | wc -c)" 65
req "$(hdr Location)"
code "Xet-only storage" 400
req -X POST --data "paths=model.safetensors" "$HUB/api/models/org/tiny/paths-info/main"
json_is "Xet hash in the tree" '[len(e.get("xetHash", "")) for e in d if e["path"] == "model.safetensors"]' "[64]"
control config '{"xet_only_over": null}' >/dev/null
# a renamed repo: relative 307 to the new name, no metadata, API and resolve alike
eq "rename" "$(control state '{"op": "rename_repo", "repo": "org/hfonly", "to": "org/hf-v2"}')" 200
req "$HUB/api/models/org/hfonly/revision/main?x=1"
code "renamed API" 307
hdr_is "renamed API Location" Location "/api/models/org/hf-v2/revision/main?x=1"
req -I "$HUB/org/hfonly/resolve/main/config.json"
code "renamed resolve" 307
hdr_is "renamed resolve Location" Location "/org/hf-v2/resolve/main/config.json"
no_hdr "renamed resolve" X-Repo-Commit
req -L "$HUB/org/hfonly/resolve/main/config.json"
code "renamed resolve followed" 200
eq "rename back" "$(control state '{"op": "rename_repo", "repo": "org/hf-v2", "to": "org/hfonly"}')" 200
req "$HUB/api/models/org/hfonly"
code "renamed back" 200
# ModelScope listings without Sha256, and a null list
fault '{"match": "/repo/files", "kind": "no_sha256", "path": "config.json", "shape": "null"}'
req "$HUB/api/v1/models/org/tiny/repo/files?Revision=master&Recursive=True"
json_is "Sha256 null" '[f["Sha256"] for f in d["Data"]["Files"] if f["Path"] == "config.json"]' "[None]"
fault '{"match": "/repo/files", "kind": "no_sha256"}'
req "$HUB/api/v1/models/org/tiny/repo/files?Revision=master&Recursive=True"
json_is "Sha256 missing" 'sum("Sha256" in f for f in d["Data"]["Files"] if f["Type"] == "blob")' 0
fault '{"match": "/repo/files", "kind": "null_files"}'
req "$HUB/api/v1/models/org/tiny/repo/files?Revision=master&Recursive=True"
json_is "null file list" 'd["Data"]["Files"]' None
hub_reset

# ----------------------------------------------------------------------------- benchmark (opt-in)
if [ -n "${ARCA_HUB_BENCH_MB:-}" ]; then
	mkdir -p "$T/big"
	head -c "$((ARCA_HUB_BENCH_MB * 1024 * 1024))" /dev/urandom >"$T/big/big.safetensors"
	$MF add --repo org/big --hub hf "$T/big" >/dev/null
	SIZE=$((ARCA_HUB_BENCH_MB * 1024 * 1024))
	URL=$(curl -sS -o /dev/null -w '%{redirect_url}' "$HUB/org/big/resolve/main/big.safetensors")
	curl -s -o /dev/null "$URL" # warm the page cache
	S=$(date +%s.%N)
	curl -sS -o /dev/null "$URL"
	E=$(date +%s.%N)
	echo "bench: single curl of $ARCA_HUB_BENCH_MB MiB: $(py "print('%.0f MiB/s' % ($ARCA_HUB_BENCH_MB / ($E - $S)))")"
	PART=$((SIZE / 8))
	S=$(date +%s.%N)
	PIDS=""
	for i in 0 1 2 3 4 5 6 7; do
		curl -sS -o /dev/null -H "Range: bytes=$((i * PART))-$((i * PART + PART - 1))" "$URL" &
		PIDS="$PIDS $!"
	done
	for p in $PIDS; do wait "$p" || fail "bench: a ranged curl failed"; done
	E=$(date +%s.%N)
	echo "bench: 8 parallel ranged curls of $ARCA_HUB_BENCH_MB MiB: $(py "print('%.0f MiB/s' % ($ARCA_HUB_BENCH_MB / ($E - $S)))")"
	# one ranged part must be byte-exact
	curl -sS -o "$T/part" -H "Range: bytes=$((3 * PART))-$((4 * PART - 1))" "$URL"
	eq "bench ranged part" "$(sha256 "$T/part")" "$(tail -c +$((3 * PART + 1)) "$T/big/big.safetensors" | head -c "$PART" | sha256sum | cut -d' ' -f1)"
fi

# ----------------------------------------------------------------------------- end
kill "$HUB_PID" && wait "$HUB_PID"
eq "hub exits 0 on SIGTERM" "$?" 0
HUB_PID=""
if [ -s "$T/hub.err" ]; then
	fail "hub wrote to stderr:"
	cat "$T/hub.err"
fi
if [ "$FAILS" -ne 0 ]; then
	echo "selftest: $FAILS of $CHECKS checks failed"
	exit 1
fi
echo "selftest: all $CHECKS checks passed"
