#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca serve as a Hugging Face endpoint: a model pulled from the test hub (with the hub's
# oids as evidence) and a local one, served on loopback with the test hub gone: model info,
# tree pages, resolve headers for git and LFS files, ranges, errors with X-Error-Code, path
# traversal refused, the token, another process writing meanwhile, and `arca pull` from the
# server into a second store that ends up identical and verified.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"
. "$(dirname "$0")/serve.sh"

make_model "$T/model" --hidden 256 --ffn 1024 --vocab 4096
mkdir -p "$T/model/sub/deeper" && echo nested > "$T/model/sub/deeper/file.txt"
printf 'spaced out\n' > "$T/model/sub/with space é.txt"
commit=$(hub_add acme/pulled "$T/model" --tag v1)
start_hub --page-size 3
run 0 "$ARCA" init
run 0 "$ARCA" pull acme/pulled -q
run 0 "$ARCA" pull acme/pulled@v1 -q
# the hub's own listing, to compare the served one with
run 0 python3 - "$HUB" "$commit" <<'PY'
import json, sys, urllib.request
hub, commit = sys.argv[1:3]
url, entries = "%s/api/models/acme/pulled/tree/%s?recursive=true" % (hub, commit), []
while url:
    with urllib.request.urlopen(url) as r:
        entries += json.load(r)
        link = r.headers.get("Link")
    url = link[1:link.index(">")] if link else None
print(json.dumps(sorted((e for e in entries if e["type"] == "file"), key=lambda e: e["path"])))
PY
cp "$OUT" "$T/hub_files.json"
stop_hub
unset HF_ENDPOINT MODELSCOPE_ENDPOINT
make_model "$T/local" --seed 5
run 0 "$ARCA" add "$T/local" --as acme/local -q
run 0 "$ARCA" show acme/local --json
local_commit=$(json 'd["commit"]')
weights=$(sha256sum "$T/model/model.safetensors" | cut -d' ' -f1)
weights_size=$(stat -c %s "$T/model/model.safetensors")
config_oid=$(git_blob_id "$T/model/config.json")
config_size=$(stat -c %s "$T/model/config.json")
echo "secret outside the store" > "$T/secret.txt"

# usage errors come before anything is opened
run 2 "$ARCA" serve --token a --token-file "$T/secret.txt"
expect_stderr "not both"
run 2 "$ARCA" serve --json --access-log -
run 1 "$ARCA" serve --listen 'not an address:x'
expect_stderr "listen address"
printf '  \nsecond line\n' > "$T/blank"
run 1 "$ARCA" serve --token-file "$T/blank"
expect_stderr "the first line is blank"
run 4 "$ARCA" serve --token-file "$T/none"
expect_stderr "--token-file $T/none"

start_serve
json_line() { python3 -c 'import json,sys; print(eval(sys.argv[2], {"d": json.loads(open(sys.argv[1]).readline())}))' "$T/serve.json" "$1"; }
[ "$(json_line 'd["loopback"]')" = True ] || fail "not on loopback"
[ "$(json_line 'd["token"]')" = False ] || fail "a token was reported"
case "$URL" in http://127.0.0.1:[1-9]*) ;; *) fail "unexpected URL $URL" ;; esac

# ------------------------------------------------------------------ model info
probe GET "$URL/api/models/acme/pulled"
expect_json 'd["status"]' 200
expect_json 'd["json"]["id"]' acme/pulled
expect_json 'd["json"]["sha"]' "$commit"
expect_json 'd["json"]["private"]' False
expect_json 'len(d["json"]["siblings"])' 7
expect_json '"license:apache-2.0" in d["json"]["tags"]' True
expect_json 'd["json"]["cardData"]["license"]' apache-2.0
for rev in v1 "$commit" main HEAD; do
	probe GET "$URL/api/models/acme/pulled/revision/$rev"
	expect_json 'd["json"]["sha"]' "$commit"
done
probe GET "$URL/api/models/acme/pulled/revision/main?blobs=true"
expect_json '[s["lfs"]["sha256"] for s in d["json"]["siblings"] if s["rfilename"]=="model.safetensors"][0]' "$weights"
expect_json '[s["blobId"] for s in d["json"]["siblings"] if s["rfilename"]=="config.json"][0]' "$config_oid"
probe GET "$URL/api/models/acme/pulled/revision/main?expand=sha&expand=lastModified"
expect_json 'sorted(d["json"])' "['_id', 'id', 'lastModified', 'sha']"
probe GET "$URL/api/models/acme/local"
expect_json 'd["json"]["sha"]' "${local_commit:0:40}"
# a git file whose blob id the catalog lost is hashed on demand (tests may edit the catalog)
python3 - "$ARCA_HOME/catalog.db" "$(sha256sum < "$T/local/config.json" | cut -d' ' -f1)" <<'PY' ||
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("UPDATE blobs SET git_sha1 = NULL WHERE sha256 = ?", (sys.argv[2],)).rowcount == 1
db.commit()
PY
	fail "could not edit the catalog"
probe GET "$URL/api/models/acme/local/tree/main"
expect_json '[e["oid"] for e in d["json"] if e["path"] == "config.json"][0]' "$(git_blob_id "$T/local/config.json")"
probe GET "$URL/api/models/acme/pulled/refs"
expect_json 'sorted((b["name"], b["targetCommit"]) for b in d["json"]["branches"])' \
	"[('main', '$commit'), ('v1', '$commit')]"

# ------------------------------------------------------------------ tree, paged
run 0 python3 - "$URL" "$T/hub_files.json" "$T/model/sub" <<'PY'
import hashlib, json, os, sys, urllib.request
url, hub_files, sub = sys.argv[1:4]
def get(u):
    with urllib.request.urlopen(u) as r:
        return json.load(r), r.headers.get("Link")
# every page but the last links to the next, absolutely, on the same host
entries, u, pages = [], url + "/api/models/acme/pulled/tree/main?recursive=true&limit=2", 0
while u:
    page, link = get(u)
    entries += page
    pages += 1
    u = link[1:link.index(">")] if link else None
    assert not link or link.startswith("<" + url + "/") and link.endswith('rel="next"'), link
assert pages == 5, pages
files = sorted((e for e in entries if e["type"] == "file"), key=lambda e: e["path"])
# the hub's oids, sizes and LFS records, exactly
assert files == json.load(open(hub_files)), (files, open(hub_files).read())
dirs = {e["path"]: e["oid"] for e in entries if e["type"] == "directory"}
assert sorted(dirs) == ["sub", "sub/deeper"], dirs
# a folder's oid is its git tree id, computed here independently
def tree(path):
    items = []
    for name in os.listdir(path):
        p = os.path.join(path, name)
        if os.path.isdir(p):
            items.append((name + "/", b"40000 " + name.encode() + b"\0" + bytes.fromhex(tree(p))))
        else:
            data = open(p, "rb").read()
            oid = hashlib.sha1(b"blob %d\0" % len(data) + data).digest()
            items.append((name, b"100644 " + name.encode() + b"\0" + oid))
    body = b"".join(e for _, e in sorted(items, key=lambda t: t[0].encode()))
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()
assert dirs["sub"] == tree(sub), (dirs["sub"], tree(sub))
# one level at a time
top, link = get(url + "/api/models/acme/pulled/tree/main")
assert link is None and [e["path"] for e in top if e["type"] == "directory"] == ["sub"], top
inner, _ = get(url + "/api/models/acme/pulled/tree/main/sub")
assert sorted(e["path"] for e in inner) == ["sub/deeper", "sub/with space é.txt"], inner
print("ok")
PY
probe GET "$URL/api/models/acme/pulled/tree/main/nowhere"
expect_json 'd["status"]' 404
expect_json 'd["headers"]["x-error-code"]' EntryNotFound
expect_json 'd["headers"]["x-repo-commit"]' "$commit"
expect_status 400 GET "$URL/api/models/acme/pulled/tree/main?cursor=banana"
expect_status 400 GET "$URL/api/models/acme/pulled/tree/main?cursor=999"
probe POST "$URL/api/models/acme/pulled/paths-info/main" -H 'Content-Type: application/json' \
	--data '{"paths": ["config.json", "sub", "missing", "model.safetensors"], "expand": true}'
expect_json '[e["path"] for e in d["json"]]' "['config.json', 'sub', 'model.safetensors']"
expect_json 'd["json"][0]["lastCommit"]["id"]' "$commit"
probe POST "$URL/api/models/acme/pulled/paths-info/v1" --data 'paths=config.json&paths=sub%2Fdeeper'
expect_json '[(e["type"], e["path"]) for e in d["json"]]' "[('file', 'config.json'), ('directory', 'sub/deeper')]"

# ------------------------------------------------------------------ resolve: git file
probe HEAD "$URL/acme/pulled/resolve/main/config.json"
expect_json 'd["status"]' 200
expect_json 'd["headers"]["etag"]' "\"$config_oid\""
expect_json 'd["headers"]["x-repo-commit"]' "$commit"
expect_json 'd["headers"]["content-length"]' "$config_size"
expect_json 'd["headers"]["accept-ranges"]' bytes
expect_json 'd["headers"]["content-type"]' application/json
expect_json 'd["length"]' 0
probe GET "$URL/acme/pulled/resolve/$commit/config.json" --out "$T/got"
cmp -s "$T/got" "$T/model/config.json" || fail "config.json differs"
probe GET "$URL/acme/pulled/resolve/v1/sub/with%20space%20%C3%A9.txt"
expect_json 'd["sha256"]' "$(sha256sum < "$T/model/sub/with space é.txt" | cut -d" " -f1)"
probe GET "$URL/acme/pulled/resolve/main/config.json" -H "If-None-Match: \"$config_oid\""
expect_json 'd["status"]' 304

# ------------------------------------------------------------------ resolve: LFS file
probe HEAD "$URL/acme/pulled/resolve/main/model.safetensors"
expect_json 'd["status"]' 302
expect_json 'd["headers"]["location"]' "$URL/api/storage/$weights"
expect_json 'd["headers"]["x-linked-etag"]' "\"$weights\""
expect_json 'd["headers"]["x-linked-size"]' "$weights_size"
expect_json 'd["headers"]["x-repo-commit"]' "$commit"
probe GET "$URL/api/storage/$weights"
expect_json 'd["status"]' 200
expect_json 'd["sha256"]' "$weights"
expect_json 'd["headers"]["etag"]' "\"$weights\""
expect_json 'd["headers"]["accept-ranges"]' bytes
probe HEAD "$URL/api/storage/$weights"
expect_json 'd["headers"]["content-length"]' "$weights_size"
expect_status 404 GET "$URL/api/storage/$(printf '%064d' 0)"
expect_status 404 GET "$URL/api/storage/nothex"
# the direct path the Hub's resolve cache uses serves the bytes without a redirect
probe GET "$URL/api/resolve-cache/models/acme/pulled/$commit/model.safetensors"
expect_json 'd["status"]' 200
expect_json 'd["sha256"]' "$weights"

# ------------------------------------------------------------------ ranges
last=$((weights_size - 1))
probe GET "$URL/api/storage/$weights" -H 'Range: bytes=0-9'
expect_json 'd["status"]' 206
expect_json 'd["headers"]["content-range"]' "bytes 0-9/$weights_size"
expect_json 'd["length"]' 10
[ "$(json 'd["sha256"]')" = "$(head -c 10 "$T/model/model.safetensors" | sha256sum | cut -d' ' -f1)" ] ||
	fail "the first 10 bytes differ"
probe GET "$URL/api/storage/$weights" -H 'Range: bytes=-16'
expect_json 'd["headers"]["content-range"]' "bytes $((weights_size - 16))-$last/$weights_size"
[ "$(json 'd["sha256"]')" = "$(tail -c 16 "$T/model/model.safetensors" | sha256sum | cut -d' ' -f1)" ] ||
	fail "the last 16 bytes differ"
probe GET "$URL/acme/pulled/resolve/main/config.json" -H 'Range: bytes=100-'
expect_json 'd["headers"]["content-range"]' "bytes 100-$((config_size - 1))/$config_size"
expect_json 'd["headers"]["x-repo-commit"]' "$commit"
for r in "bytes=$weights_size-" "bytes=99999999999999999999999-" "bytes=-0"; do
	probe GET "$URL/api/storage/$weights" -H "Range: $r"
	expect_json 'd["status"]' 416
	expect_json 'd["headers"]["content-range"]' "bytes */$weights_size"
done
probe GET "$URL/api/storage/$weights" -H 'Range: bytes=5-99999999999999999999999'
expect_json 'd["headers"]["content-range"]' "bytes 5-$last/$weights_size"
# malformed, several ranges, another unit, a stale If-Range: the whole file
for r in "bytes=9-5" "bytes=abc" "bytes=0-1,5-6" "items=0-5" "bytes=--3" "bytes=1-2-3"; do
	probe GET "$URL/api/storage/$weights" -H "Range: $r"
	expect_json 'd["status"]' 200
	expect_json 'd["length"]' "$weights_size"
done
probe GET "$URL/api/storage/$weights" -H 'Range: bytes=0-9' -H 'If-Range: "stale"'
expect_json 'd["status"]' 200

# ------------------------------------------------------------------ errors as the Hub writes them
probe GET "$URL/api/models/acme/nothing"
expect_json 'd["status"]' 404
expect_json 'd["headers"]["x-error-code"]' RepoNotFound
expect_json '"error" in d["json"]' True
probe HEAD "$URL/acme/nothing/resolve/main/config.json"
expect_json 'd["headers"]["x-error-code"]' RepoNotFound
probe HEAD "$URL/acme/pulled/resolve/no-such-branch/config.json"
expect_json 'd["status"]' 404
expect_json 'd["headers"]["x-error-code"]' RevisionNotFound
probe GET "$URL/acme/pulled/resolve/main/missing.bin"
expect_json 'd["status"]' 404
expect_json 'd["headers"]["x-error-code"]' EntryNotFound
expect_json 'd["headers"]["x-repo-commit"]' "$commit"
expect_json 'd["json"]["error"]' "Entry not found: missing.bin"
expect_json 'd["headers"]["x-error-message"]' "Entry not found: missing.bin"
probe GET "$URL/api/datasets/acme/pulled"
expect_json 'd["headers"]["x-error-code"]' RepoNotFound
expect_status 405 DELETE "$URL/acme/pulled/resolve/main/config.json"

# ------------------------------------------------------------------ traversal
for p in "/acme/pulled/resolve/main/../../../../secret.txt" \
	"/acme/pulled/resolve/main/%2e%2e%2f%2e%2e%2fcatalog.db" \
	"/acme/pulled/resolve/main/sub%2f..%2f..%2f..%2fsecret.txt" \
	"/acme/pulled/resolve/main/config.json%00.txt" \
	"/acme/pulled/resolve/main/..%5c..%5ccatalog.db" \
	"/acme/pulled/resolve/main//etc/passwd" \
	"/acme/pulled/resolve/main/%2Fetc%2Fpasswd" \
	"/acme/pulled/resolve/main/sub/%2E" \
	"/acme/pulled/resolve/main/bad%zz" \
	"/%2e%2e/%2e%2e/resolve/main/secret.txt" \
	"/api/models/acme/pulled/tree/main/..%2f..%2f.." \
	"/api/storage/..%2f..%2fcatalog.db" \
	"/api/resolve-cache/models/acme/pulled/main/%2e%2e/catalog.db"; do
	probe GET "$URL$p"
	status=$(json 'd["status"]')
	case "$status" in 4??) ;; *) fail "$p: HTTP $status, expected a 4xx" ;; esac
	if grep -q "secret outside\|SQLite format\|root:" "$OUT"; then fail "$p: leaked a file"; fi
done

# ------------------------------------------------------------------ another process writes meanwhile
make_model "$T/later" --seed 11
mkdir -p "$T/later/a/b/c/d" && echo deep > "$T/later/a/b/c/d/e.txt"
run 0 "$ARCA" add "$T/later" --as acme/later -q
expect_status 200 GET "$URL/api/models/acme/later"
probe GET "$URL/api/models/acme/later/tree/main/a?recursive=1"
expect_json '[(e["type"][0], e["path"]) for e in d["json"]]' \
	"[('d', 'a/b'), ('d', 'a/b/c'), ('d', 'a/b/c/d'), ('f', 'a/b/c/d/e.txt')]"
run 0 env ARCA_LOCK_TIMEOUT=5 "$ARCA" gc --dry-run   # the server holds no lock

# ------------------------------------------------------------------ arca pull from the server
run 0 "$ARCA" key new --json
run 0 "$ARCA" key export default -o "$T/pub.pem"
run 0 "$ARCA" sign acme/pulled -o "$T/model.sig"
run 0 "$ARCA" show acme/pulled --json
json '[(f["path"], f["sha256"], f["size"]) for f in d["file_list"]]' > "$T/files.first"
ARCA_HOME="$T/second" HF_ENDPOINT="$URL" run 0 "$ARCA" pull acme/pulled --chunk-mib 1 -q
ARCA_HOME="$T/second" HF_ENDPOINT="$URL" run 0 "$ARCA" pull acme/local -q
ARCA_HOME="$T/second" run 0 "$ARCA" show acme/pulled --json
expect_json 'd["commit"]' "$commit"
json '[(f["path"], f["sha256"], f["size"]) for f in d["file_list"]]' > "$T/files.second"
cmp -s "$T/files.first" "$T/files.second" || fail "the mirrored snapshot's files differ"
expect_json '[f["oid_kind"] for f in d["file_list"] if f["path"]=="model.safetensors"][0]' sha256
ARCA_HOME="$T/second" run 0 "$ARCA" show acme/local --json
expect_json 'd["commit"]' "${local_commit:0:40}"
ARCA_HOME="$T/second" run 0 "$ARCA" fsck
ARCA_HOME="$T/second" run 0 "$ARCA" key trust "$T/pub.pem" --name first
ARCA_HOME="$T/second" run 0 "$ARCA" verify acme/pulled --sig "$T/model.sig"

# ------------------------------------------------------------------ the access log, the stop
grep -q '"HEAD /acme/pulled/resolve/main/config.json HTTP/1.1" 200 0 ' "$T/access.log" ||
	fail "the access log lacks the HEAD"
grep -q "\"GET /api/storage/$weights HTTP/1.1\" 200 $weights_size " "$T/access.log" ||
	fail "the access log lacks the storage GET with its size"
grep -q '^127.0.0.1 - - \[' "$T/access.log" || fail "the access log lacks the client"
stop_serve

# ------------------------------------------------------------------ the token
printf '  s3cret-token \n' > "$T/token"
start_serve --token-file "$T/token"
[ "$(json_line 'd["token"]')" = True ] || fail "the token was not reported"
probe GET "$URL/api/models/acme/pulled"
expect_json 'd["status"]' 401
expect_json 'd["headers"]["x-error-code"]' RepoNotFound
probe GET "$URL/api/models/acme/pulled" -H 'Authorization: Bearer wrong'
expect_json 'd["status"]' 401
expect_json 'd["headers"]["x-error-code"]' InvalidCredentials
expect_json 'd["headers"]["x-error-message"]' "Invalid credentials in Authorization header"
expect_status 401 GET "$URL/api/storage/$weights"
expect_status 401 GET "$URL/api/storage/$weights" -H 'Authorization: Bearer s3cret-token-and-more'
expect_status 200 GET "$URL/api/models/acme/pulled" -H 'Authorization: Bearer s3cret-token'
ARCA_HOME="$T/third" HF_ENDPOINT="$URL" run 1 "$ARCA" pull acme/pulled --token wrong
ARCA_HOME="$T/third" HF_ENDPOINT="$URL" HF_TOKEN=s3cret-token run 0 "$ARCA" pull acme/pulled -q
stop_serve

# without --json: where it listens, for people; SIGINT stops it too, with exit 0
"$ARCA" serve --listen 127.0.0.1:0 >"$T/text.out" 2>"$T/text.err" &
pid=$!
wait_ready "$T/text.out" "$pid" "$T/text.err" "arca serve"
grep -q "^serving $ARCA_HOME at http://127.0.0.1:[0-9]*; set HF_ENDPOINT=http://127.0.0.1:[0-9]*$" \
	"$T/text.out" || fail "unexpected start line: $(cat "$T/text.out")"
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || fail "arca serve exited $rc on SIGINT"
grep -q "stopped" "$T/text.err" || fail "no word that it stopped"
pass
