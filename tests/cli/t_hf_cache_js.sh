#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `arca checkout --layout hf-cache`, read by the Hub's own JavaScript client
# (@huggingface/hub, offline): a pulled repo with a tag and a nested file, and a local model
# beside it in the same cache, load whole with their refs, sizes and sha256. Skipped without
# tests/node's @huggingface/hub (t_hf_cache.sh checks the layout's rules without it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

need_node_module @huggingface/hub
make_model "$T/model" --hidden 256 --ffn 1024 --vocab 4096
mkdir -p "$T/model/sub/deeper" && echo nested > "$T/model/sub/deeper/file.txt"
commit=$(hub_add Org/Tiny-Model "$T/model" --tag v1)
start_hub
run 0 "$ARCA" init
run 0 "$ARCA" pull Org/Tiny-Model -q
run 0 "$ARCA" pull Org/Tiny-Model@v1 -q
make_model "$T/local" --seed 5
run 0 "$ARCA" add "$T/local" --as acme/local -q
weights=$(sha256sum "$T/model/model.safetensors" | cut -d' ' -f1)

cache="$T/hf-cache"
run 0 "$ARCA" checkout Org/Tiny-Model "$cache" --layout hf-cache -q
run 0 "$ARCA" checkout acme/local "$cache" --layout hf-cache -q
run 0 "$ARCA" checkout Org/Tiny-Model "$cache" --layout hf-cache -q   # again: still whole

run 0 node "$ARCA_SOURCE/tests/node/hf_cache_check.mjs" "$cache" Org/Tiny-Model main \
	sub/deeper/file.txt
expect_json 'd["warnings"]' "[]"
expect_json 'd["commit"]' "$commit"
expect_json 'sorted(d["refs"])' "['main', 'v1']"
expect_json 'd["files"]["model.safetensors"]["sha256"]' "$weights"
expect_json 'd["files"]["sub/deeper/file.txt"]["size"]' 7
expect_json 'len(d["files"])' 6
run 0 node "$ARCA_SOURCE/tests/node/hf_cache_check.mjs" "$cache" acme/local main
expect_json 'len(d["files"])' 5
pass
