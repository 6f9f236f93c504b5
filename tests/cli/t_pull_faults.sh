#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca pull when the hub or the network misbehaves: each fault either heals by retrying
# from where the bytes stopped, or ends in a clear error with the documented exit code,
# and nothing unverified is ever recorded as verified.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

make_model "$T/model" --hidden 256 --ffn 1024 --vocab 4096
commit=$(hub_add acme/tiny "$T/model")
start_hub
run 0 "$ARCA" init
weights=$(sha256sum "$T/model/model.safetensors" | cut -d' ' -f1)
config_sha1=$(git_blob_id "$T/model/config.json") || exit 1

fresh() { rm -rf "$ARCA_HOME"; "$ARCA" init -q; hub_reset; }
verified_files() {
	"$ARCA" show acme/tiny --json | python3 -c \
		'import json,sys; print(sum(1 for f in json.load(sys.stdin)["file_list"] if f["sha256"]))'
}

# --- faults that heal -----------------------------------------------------------------
# connection cut mid-body: the chunk is asked again from the byte where it stopped
fresh
hub_fault '{"match": "/blob/'"$weights"'", "kind": "cut", "after": 300000, "count": 2}'
run 0 "$ARCA" pull acme/tiny --chunk-mib 1
[ "$(hub_log_count 'r["server"]=="cdn" and r["range"] and not r["range"].endswith("=0-1048575") and r["range"].split("=")[1].split("-")[0] not in [str(i*1048576) for i in range(8)]')" -ge 1 ] \
	|| fail "no request resumed inside a chunk"
run 0 "$ARCA" fsck

# one 500 and one 503 from the hub, a 429 with Retry-After
fresh
hub_fault '{"match": "/resolve/", "kind": "status", "status": 500, "count": 1}'
hub_fault '{"match": "/api/models/acme/tiny/revision", "kind": "status", "status": 503, "count": 1}'
hub_fault '{"match": "/tree/", "kind": "status", "status": 429, "count": 1, "headers": {"Retry-After": "1"}}'
ARCA_ISATTY=1 run 0 "$ARCA" pull acme/tiny
expect_stderr "HTTP 429; retrying in 1.0 s"
expect_stderr "HTTP 503"

# the server ignores Range: the file comes as one stream, still verified
fresh
hub_fault '{"match": "/blob/", "kind": "ignore_range", "count": -1}'
run 0 "$ARCA" pull acme/tiny --chunk-mib 1
run 0 "$ARCA" show acme/tiny --json
expect_json 'd["state"]' complete

# a slow (trickling) CDN is slow, not an error
fresh
hub_fault '{"match": "/blob/", "kind": "trickle", "rate": 2000000, "count": 2}'
run 0 "$ARCA" pull acme/tiny --chunk-mib 1

# --- faults that end the pull -----------------------------------------------------------
# wrong bytes of the right length: sha256 mismatch, exit 3, nothing kept as verified
fresh
hub_fault '{"match": "/blob/'"$weights"'", "kind": "corrupt", "count": -1}'
run 3 "$ARCA" pull acme/tiny --chunk-mib 1
expect_stderr "model.safetensors: sha256 mismatch (expected $weights, got "
[ "$(verified_files)" = 4 ] || fail "the corrupt file was recorded"
run 0 "$ARCA" show acme/tiny --json
expect_json 'd["state"]' incomplete
[ -z "$(ls "$ARCA_HOME/tmp")" ] || fail "the bad bytes were kept for resuming"
run 3 "$ARCA" fsck
expect_stderr "incomplete hf:acme/tiny@"
# a small file with wrong bytes fails its git blob id (only config.json: "/config.json" leaves
# generation_config.json and tokenizer_config.json, whose failure could be named first)
fresh
hub_fault '{"match": "/config.json", "kind": "corrupt", "count": -1}'
run 3 "$ARCA" pull acme/tiny
expect_stderr "config.json: git blob id mismatch (expected $config_sha1"

# the hub's redirect names another size or no commit
fresh
hub_fault '{"match": "/resolve/", "kind": "wrong_size", "count": -1}'
run 3 "$ARCA" pull acme/tiny
expect_stderr "X-Linked-Size says"
fresh
# no X-Repo-Commit anywhere: a failure (exit 1), not a hash that did not match (exit 3)
hub_fault '{"match": "/resolve/", "kind": "no_commit", "count": -1}'
run 1 "$ARCA" pull acme/tiny
expect_stderr "carried X-Repo-Commit"
[ "$(verified_files)" = 4 ] || fail "the file without X-Repo-Commit was recorded"
fresh
hub_fault '{"match": "/blob/", "kind": "redirect_loop", "count": -1}'
run 1 "$ARCA" pull acme/tiny
expect_stderr "redirects (a loop?)"

# a truncated body on every try: gives up, keeps what it has for the next run
fresh
hub_fault '{"match": "/blob/", "kind": "cut", "after": 100, "count": -1}'
run 1 "$ARCA" pull acme/tiny --chunk-mib 1
expect_stderr "gave up after"
hub_reset
run 0 "$ARCA" pull acme/tiny --chunk-mib 1
run 0 "$ARCA" fsck

# the hub answers HTML or broken JSON
fresh
hub_fault '{"match": "/api/models/acme/tiny/revision", "kind": "html", "count": 1}'
run 1 "$ARCA" pull acme/tiny
expect_stderr "instead of JSON"
hub_fault '{"match": "/tree/", "kind": "bad_json", "count": 1}'
run 1 "$ARCA" pull acme/tiny
expect_stderr "malformed JSON"

# 429 storm: every answer rate-limited; arca gives up and says why
fresh
hub_fault '{"match": "/api/models/", "kind": "status", "status": 429, "count": -1, "headers": {"Retry-After": "0"}}'
run 1 "$ARCA" pull acme/tiny
expect_stderr "rate limited by the hub (HTTP 429)"
expect_stderr "pass a token"
hub_reset
hub_fault '{"match": "/api/models/", "kind": "status", "status": 429, "count": -1, "headers": {"RateLimit": "\"resolvers\";r=0;t=3600"}}'
run 1 "$ARCA" pull acme/tiny
expect_stderr "for longer than we wait"

# the repo disappears between listing and download
fresh
hub_fault '{"match": "/resolve/", "kind": "status", "status": 404, "count": -1, "headers": {"X-Error-Code": "RepoNotFound"}}'
run 4 "$ARCA" pull acme/tiny
expect_stderr "repository not found"

# a listed size that differs from the body
fresh
python3 - "$HUBROOT/repos.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
for c in d["repos"]["acme/tiny"]["commits"].values():
    c["files"]["config.json"]["size"] += 5
json.dump(d, open(p + ".tmp", "w")); __import__("os").replace(p + ".tmp", p)
PY
run 3 "$ARCA" pull acme/tiny
expect_stderr "config.json: the listing says"
pass
