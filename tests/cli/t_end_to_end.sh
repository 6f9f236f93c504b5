#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# init → add → ls → show → checkout → fsck → rm → gc on a generated tiny model, in text
# and JSON, checking what each step reports against the files themselves.
. "$(dirname "$0")/lib.sh"

make_model "$T/model" --arch qwen2 --seed 7 --base-model Qwen/Qwen2.5-0.5B
make_model "$T/other" --arch llama --seed 8 --license mit

run 0 "$ARCA" init
expect_stdout "created an empty arca store in $ARCA_HOME"
run 0 "$ARCA" init --json
expect_json 'd["created"]' False
# the version init reports is the newest one the catalog itself has applied
applied=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT max(version) FROM arca_schema").fetchone()[0])' "$ARCA_HOME/catalog.db")
expect_json 'd["schema_version"]' "$applied"
[ "$applied" -ge 3 ] || fail "the catalog has schema version $applied, expected the signature columns (3) or later"

run 0 "$ARCA" ls
expect_stdout "the store is empty"

run 0 "$ARCA" add "$T/model" --as acme/tiny-qwen@v1 --json
expect_json 'd["ref"]' "local:acme/tiny-qwen@v1"
expect_json 'd["files"]' 5
expect_json 'd["license"]' apache-2.0
expect_json 'd["already_stored"]' False
commit=$(json 'd["commit"]')
size=$(du -cb "$T"/model/* | tail -1 | cut -f1)
expect_json 'd["size"]' "$size"
expect_no_stderr

run 0 "$ARCA" add "$T/model" --as acme/tiny-qwen
expect_stdout "already stored; ref updated: local:acme/tiny-qwen@main (commit ${commit:0:12})"
run 0 "$ARCA" add "$T/other" --as hf:acme/tiny-llama@main -q
expect_no_stdout

run 0 "$ARCA" ls
expect_stdout "local:acme/tiny-qwen"
expect_stdout "main,v1"
expect_stdout "${commit:0:12}"
expect_stdout "hf:acme/tiny-llama"
expect_stdout "mit"
run 0 "$ARCA" ls qwen --json
expect_json 'len(d["snapshots"])' 1
expect_json 'd["snapshots"][0]["refs"]' "['main', 'v1']"
expect_json 'd["snapshots"][0]["state"]' complete

run 0 "$ARCA" show acme/tiny-qwen@v1
expect_stdout "commit      $commit"
expect_stdout "licence     apache-2.0"
expect_stdout "card.base_model Qwen/Qwen2.5-0.5B"
expect_stdout "$(sha256sum "$T/model/model.safetensors" | cut -d' ' -f1)"
weights_git=$(git_blob_id "$T/model/model.safetensors") || exit 1
expect_stdout "$weights_git"
expect_stdout "lineage (0 derived)"
run 0 "$ARCA" show "acme/tiny-qwen@${commit:0:10}" --json
expect_json 'd["card"]["base_model_relation"]' finetune
expect_json 'd["license"]["files"]' "['LICENSE']"
expect_json '[f["path"] for f in d["file_list"]]' \
	"['LICENSE', 'README.md', 'config.json', 'generation_config.json', 'model.safetensors']"
expect_json 'd["origin"]' "$(realpath "$T/model")"

run 0 "$ARCA" checkout acme/tiny-qwen "$T/out"
expect_stdout "5 files"
expect_stdout "all verified"
diff -r "$T/model" "$T/out" >/dev/null || fail "checkout differs from the original"
run 0 "$ARCA" checkout acme/tiny-qwen "$T/out2" --copy --json
expect_json 'd["copied"]' 5
expect_json 'd["verified"]' True
diff -r "$T/model" "$T/out2" >/dev/null || fail "copied checkout differs"

run 0 "$ARCA" fsck
# the two models share LICENSE and generation_config.json: 10 files, 8 blobs
expect_stdout "ok: 8 blobs"
run 0 "$ARCA" fsck --json -j 1
expect_json 'd["ok"]' True
expect_json 'd["blobs_checked"]' 8

run 0 "$ARCA" rm hf:acme/tiny-llama --json
expect_json 'd["snapshot"]["refs"]' "['main']"
run 4 "$ARCA" show hf:acme/tiny-llama
expect_stderr "is not in the store"
run 0 "$ARCA" fsck
expect_stdout "unreferenced"
run 0 "$ARCA" gc --dry-run
expect_stdout "would free 3 blobs"
run 0 "$ARCA" gc --json
expect_json 'len(d["blobs"])' 3
run 0 "$ARCA" fsck --json
expect_json 'd["problems"]' "[]"
expect_json 'd["blobs_checked"]' 5
# the kept model still checks out whole
run 0 "$ARCA" checkout acme/tiny-qwen@v1 "$T/out3"
diff -r "$T/model" "$T/out3" >/dev/null || fail "checkout after gc differs"
pass
