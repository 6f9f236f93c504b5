#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca pull against the test hub: pinned by commit, every file verified against the hub's
# hashes, licence/card/evidence recorded, idempotent, include/exclude, pagination, tags,
# tokens never stored, the token kept off the CDN.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

make_model "$T/model" --hidden 256 --ffn 1024 --vocab 4096 --base-model Qwen/Qwen2.5-0.5B
mkdir -p "$T/model/onnx" && echo "onnx bytes" > "$T/model/onnx/model.onnx"
commit=$(hub_add acme/tiny "$T/model" --tag v1.0)
start_hub --page-size 2

# first use: the default store is created and said so once; an explicit --store that is
# not there is an error (a typo), as are commands that only read
ARCA_HOME="$T/first/store" run 0 "$ARCA" pull acme/tiny --include config.json
expect_stderr "created a new store at $T/first/store"
ARCA_HOME="$T/first/store" run 0 "$ARCA" pull acme/tiny --include README.md
[ ! -s "$ERR" ] || fail "the store was announced twice"
ARCA_HOME="$T/first/other" run 0 "$ARCA" add "$T/model" --as acme/local -q
[ -f "$T/first/other/catalog.db" ] || fail "add did not create the store"
run 4 "$ARCA" pull acme/tiny --store "$T/first/typo"
expect_stderr "no store at $T/first/typo"
[ ! -e "$T/first/typo" ] || fail "--store DIR was created"
ARCA_HOME="$T/first/none" run 4 "$ARCA" ls
[ ! -e "$T/first/none" ] || fail "ls created a store"

run 0 "$ARCA" init

# a first pull: 6 files listed over 3 pages; the 6 MB weights come as 1 MiB ranged chunks
run 0 "$ARCA" pull acme/tiny --chunk-mib 1 --json
expect_stdout '"event":"resolved"'
expect_stdout "\"commit\":\"$commit\""
expect_stdout '"event":"listed","files":6,"to_fetch":6'
expect_stdout '"event":"done"'
[ "$(grep -c '"event":"file"' "$OUT")" = 6 ] || fail "six file events expected"
[ "$(hub_log_count 'r["path"].endswith("/tree/'"$commit"'") or "/tree/'"$commit"'" in r["path"]')" -ge 3 ] \
	|| fail "the listing was not paginated"
[ "$(hub_log_count 'r["server"]=="cdn" and r["range"]')" -ge 6 ] || fail "no ranged requests"
[ "$(hub_log_count 'r["server"]=="cdn" and r["auth"]')" = 0 ] || fail "a token went to the CDN"
# every resolve asked for the pinned commit, never the branch
[ "$(hub_log_count '"/resolve/main/" in r["path"]')" = 0 ] || fail "downloaded by branch name"

run 0 "$ARCA" show acme/tiny --json
expect_json 'd["hub"]' hf
expect_json 'd["commit"]' "$commit"
expect_json 'd["state"]' complete
expect_json 'd["refs"]' "['main']"
expect_json 'd["license"]["summary"]' apache-2.0
expect_json 'd["card"]["base_model"]' Qwen/Qwen2.5-0.5B
expect_json 'd["evidence"]["answers"][0]["x_repo_commit"] if "x_repo_commit" in d["evidence"]["answers"][0] else d["evidence"]["answers"][0]["sha"]' "$commit"
expect_json '[f["path"] for f in d["file_list"]]' \
	"['LICENSE', 'README.md', 'config.json', 'generation_config.json', 'model.safetensors', 'onnx/model.onnx']"
weights=$(sha256sum "$T/model/model.safetensors" | cut -d' ' -f1)
expect_json '[f["sha256"] for f in d["file_list"] if f["path"]=="model.safetensors"][0]' "$weights"
expect_json '[f["evidence"][0]["x_linked_etag"] for f in d["file_list"] if f["path"]=="model.safetensors"][0]' "\"$weights\""
expect_json '[f["evidence"][0]["x_repo_commit"] for f in d["file_list"] if f["path"]=="model.safetensors"][0]' "$commit"
expect_json '[f["oid_kind"] for f in d["file_list"] if f["path"]=="config.json"][0]' git-sha1
run 0 "$ARCA" checkout acme/tiny "$T/out"
diff -r "$T/model" "$T/out" >/dev/null || fail "pulled files differ from the hub's"

# idempotent: nothing is fetched again
hub_reset
run 0 "$ARCA" pull acme/tiny
expect_stdout "0 downloaded, 0 reused, 6 already there"
[ "$(hub_log_count 'r["server"]=="cdn"')" = 0 ] || fail "a second pull downloaded again"

# a tag resolves to the same commit; a full commit id works as a revision
run 0 "$ARCA" pull hf:acme/tiny@v1.0 -q
run 0 "$ARCA" pull "acme/tiny@$commit" -q
run 0 "$ARCA" show acme/tiny@v1.0 --json
expect_json 'd["commit"]' "$commit"

# include/exclude: a partial snapshot first, completed by a later pull
make_model "$T/second" --seed 9
commit2=$(hub_add acme/second "$T/second")
run 0 "$ARCA" pull acme/second --include '*.json' --exclude 'generation_*' --json
expect_stdout '"event":"listed","files":1,'
run 0 "$ARCA" show acme/second --json
expect_json '[f["path"] for f in d["file_list"]]' "['config.json']"
run 0 "$ARCA" pull acme/second
expect_stdout "1 already there"
run 0 "$ARCA" show acme/second --json
expect_json 'd["files"]' 5
expect_json 'd["state"]' complete
run 4 "$ARCA" pull acme/second --include '*.gguf'
expect_stderr "no files match the include/exclude patterns"

# a token is used but never stored: not in the catalog, not in messages
SECRET=hf_topsecret_value_123
run 0 "$ARCA" pull acme/tiny --token "$SECRET" -q
! grep -rqa "$SECRET" "$ARCA_HOME" || fail "the token was written into the store"
[ "$(hub_log_count 'r["server"]=="hub" and r["auth"]')" -ge 1 ] || fail "the token was not sent"

# usage errors
run 2 "$ARCA" pull
expect_stderr "give either REF or -m MANIFEST"
run 2 "$ARCA" pull local:acme/tiny
expect_stderr "local snapshots come from arca add"
run 2 "$ARCA" pull acme/tiny:q4_k_m
run 2 "$ARCA" pull acme/tiny --hub nowhere
expect_stderr "unknown hub"
pass
