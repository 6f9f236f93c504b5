#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca serve read by the Hub's own JavaScript client (@huggingface/hub, with hubUrl pointing
# at the server): model info, the paged listing, downloadFile of every file and a whole
# snapshotDownload, for a pulled model (by tag) and a local one, with and without a token;
# every byte identical to the store's. Skipped without tests/node's @huggingface/hub.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"
. "$(dirname "$0")/serve.sh"

need_node_module @huggingface/hub
make_model "$T/model" --hidden 256 --ffn 1024 --vocab 4096
mkdir -p "$T/model/sub/deeper" && echo nested > "$T/model/sub/deeper/file.txt"
commit=$(hub_add Org/Tiny-Model "$T/model" --tag v1)
start_hub --page-size 2
run 0 "$ARCA" init
run 0 "$ARCA" pull Org/Tiny-Model@v1 -q
stop_hub
unset HF_ENDPOINT
make_model "$T/local" --seed 5
run 0 "$ARCA" add "$T/local" --as acme/local -q

# what the store holds, path → sha256
store_files() {
	run 0 "$ARCA" show "$1" --json
	json 'json.dumps({f["path"]: f["sha256"] for f in d["file_list"]}, sort_keys=True)'
}
# what the client saw through one of its three paths (listed, downloaded, snapshot)
client_files() {
	json 'json.dumps({p: f["sha256"] for p, f in d["'"$1"'"].items()}, sort_keys=True)'
}

start_serve
for ref in Org/Tiny-Model@v1 acme/local; do
	repo=${ref%@*}
	rev=main
	[ "$ref" != "$repo" ] && rev=${ref#*@}
	want=$(store_files "$ref")
	run 0 "$ARCA" show "$ref" --json
	want_commit=$(json 'd["commit"][:40]')
	run 0 node "$ARCA_SOURCE/tests/node/hf_serve_check.mjs" "$URL" "$repo" "$rev" "$T/cache-$repo"
	expect_json 'd["sha"]' "$want_commit"
	expect_json 'd["folder"].endswith("/snapshots/'"$want_commit"'")' True
	[ "$(client_files downloaded)" = "$want" ] || fail "$ref: downloadFile bytes differ from the store's"
	[ "$(client_files snapshot)" = "$want" ] || fail "$ref: snapshotDownload bytes differ from the store's"
done
expect_json 'sorted(d["listed"])' "['LICENSE', 'README.md', 'config.json', 'generation_config.json', 'model.safetensors']"
# the LFS file of the pulled model kept its sha256 name in the client's cache
[ -f "$T/cache-Org/Tiny-Model/models--Org--Tiny-Model/blobs/$(sha256sum "$T/model/model.safetensors" | cut -d' ' -f1)" ] ||
	fail "the client's cache does not name the weights by their sha256"
stop_serve

printf 'hf_js_token\n' > "$T/token"
start_serve --token-file "$T/token"
run 1 node "$ARCA_SOURCE/tests/node/hf_serve_check.mjs" "$URL" Org/Tiny-Model v1 "$T/cache-no-token"
run 0 node "$ARCA_SOURCE/tests/node/hf_serve_check.mjs" "$URL" Org/Tiny-Model v1 "$T/cache-token" hf_js_token
[ "$(client_files snapshot)" = "$(store_files Org/Tiny-Model@v1)" ] || fail "with a token: bytes differ"
stop_serve
pass
