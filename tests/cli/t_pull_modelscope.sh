#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca pull from ModelScope: branch/tag revisions pinned by the head commit, every file
# checked against the listing's Sha256, cookie or bearer auth, and the ModelScope-specific
# failures (commit ids refused, empty bodies, a revision that moves during the pull).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

make_model "$T/model" --hidden 256 --ffn 1024 --vocab 4096
commit=$(hub_add Qwen/Tiny "$T/model" --hub modelscope --tag v1.0)
hub_add acme/secret "$T/model" --hub modelscope --private --token ms-token >/dev/null
start_hub
run 0 "$ARCA" init

run 0 "$ARCA" pull modelscope:Qwen/Tiny --chunk-mib 1 --json
expect_stdout "\"hub\":\"modelscope\",\"repo\":\"Qwen/Tiny\",\"revision\":\"master\",\"commit\":\"$commit\""
expect_stdout '"how":"downloaded"'
run 0 "$ARCA" show modelscope:Qwen/Tiny --json
expect_json 'd["state"]' complete
expect_json 'd["refs"]' "['master']"
expect_json 'set(f["oid_kind"] for f in d["file_list"])' "{'sha256'}"
expect_json 'd["license"]["summary"]' apache-2.0
[ "$(hub_log_count '"/api/v1/models/Qwen/Tiny/repo" in r["path"] and "FilePath=" in r["query"]')" = 5 ] \
	|| fail "files were not fetched through the ModelScope download API"
run 0 "$ARCA" pull ms:Qwen/Tiny@v1.0 -q
run 0 "$ARCA" pull Qwen/Tiny --hub modelscope -q
run 0 "$ARCA" checkout modelscope:Qwen/Tiny "$T/out"
diff -r "$T/model" "$T/out" >/dev/null || fail "ModelScope copy differs"

# revisions: names only
run 1 "$ARCA" pull "ms:Qwen/Tiny@$commit"
expect_stderr "accepts only branch or tag names"
run 4 "$ARCA" pull ms:Qwen/Tiny@nope
expect_stderr "no branch or tag 'nope' on ModelScope (has: "
expect_stderr "v1.0"
run 4 "$ARCA" pull ms:acme/missing
expect_stderr "not found"

# private: denied without a token, fine with one (sent as cookie and bearer)
run 1 "$ARCA" pull ms:acme/secret
expect_stderr "access denied"
hub_reset
MODELSCOPE_API_TOKEN=ms-token run 0 "$ARCA" pull ms:acme/secret -q
[ "$(hub_log_count 'r["server"]=="hub" and r["cookie"] and r["auth"]')" -ge 1 ] \
	|| fail "the token was not sent as cookie and bearer"
[ "$(hub_log_count 'r["server"]=="cdn" and (r["cookie"] or r["auth"])')" = 0 ] \
	|| fail "the token went to the CDN"

fresh() { rm -rf "$ARCA_HOME"; "$ARCA" init -q; hub_reset; }
# a wrong Sha256 in the listing, an empty body ("actual e3b0c442..."), a truncated body
fresh
hub_fault '{"match": "/repo/files", "kind": "wrong_sha256", "path": "config.json", "count": -1}'
run 3 "$ARCA" pull ms:Qwen/Tiny
expect_stderr "config.json: sha256 mismatch (expected "
fresh
hub_fault '{"match": "/oss/", "kind": "empty_body", "count": -1}'
run 3 "$ARCA" pull ms:Qwen/Tiny
expect_stderr "bytes, got 0)"
fresh
hub_fault '{"match": "/oss/", "kind": "cut", "after": 1000, "count": 3}'
run 0 "$ARCA" pull ms:Qwen/Tiny --chunk-mib 1

# files listed without a Sha256 (absent, "" or null): fetched, hashed by arca and marked so;
# --require-hashes refuses them
for shape in missing empty null; do
	fresh
	hub_fault '{"match": "/repo/files", "kind": "no_sha256", "shape": "'$shape'", "count": -1}'
	run 0 "$ARCA" pull ms:Qwen/Tiny --chunk-mib 1
	expect_stderr "5 files listed without a hub hash"
	run 0 "$ARCA" show ms:Qwen/Tiny --json
	expect_json 'd["state"]' complete
	expect_json '[f["hub_hash"] for f in d["file_list"]]' "[False, False, False, False, False]"
	expect_json 'len(d["evidence"]["files_without_hub_hash"])' 5
	expect_json 'sorted(f["sha256"] for f in d["file_list"]) == sorted(__import__("hashlib").sha256(open(__import__("os").path.join("'"$T/model"'", f["path"]), "rb").read()).hexdigest() for f in d["file_list"])' True
	run 0 "$ARCA" show ms:Qwen/Tiny
	expect_stdout "model.safetensors  (no hub hash)"
	run 0 "$ARCA" fsck
done
fresh
hub_fault '{"match": "/repo/files", "kind": "no_sha256", "path": "config.json", "count": -1}'
run 1 "$ARCA" pull ms:Qwen/Tiny --require-hashes
expect_stderr "config.json: the hub lists no hash for it, and --require-hashes was given"
# a null file list is an empty repository, not an error
fresh
hub_fault '{"match": "/repo/files", "kind": "null_files", "count": -1}'
run 0 "$ARCA" pull ms:Qwen/Tiny
expect_stderr "no files at this revision"
run 0 "$ARCA" show ms:Qwen/Tiny --json
expect_json 'd["state"]' complete
expect_json 'len(d["file_list"])' 0

# the revision moves while files are downloading: the listing may belong to either commit
fresh
echo changed > "$T/model/changed.txt"
new=$(hub_add Qwen/Tiny "$T/model" --hub modelscope --branch other)
hub_fault '{"match": "/oss/", "kind": "delay", "seconds": 1, "count": 1}'
( sleep 0.4; hub_state '{"op": "move_ref", "repo": "Qwen/Tiny", "ref": "master", "commit": "'"$new"'"}' ) &
mover=$!
run 3 "$ARCA" pull ms:Qwen/Tiny
wait $mover
expect_stderr "moved from ${commit:0:12} to ${new:0:12} during the pull"
run 0 "$ARCA" show ms:Qwen/Tiny --json
expect_json 'd["state"]' incomplete
pass
