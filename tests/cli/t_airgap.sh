#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The air-gapped restore, end to end: pull from the test hub, convert, validate, sign,
# export; then, with the hub stopped, import into a fresh store, verify, check out as a
# Hugging Face cache (loaded by @huggingface/hub offline), serve it and download every file
# with @huggingface/hub against arca serve (listFiles, downloadFile, snapshotDownload), and
# validate: the same fingerprint.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"
. "$(dirname "$0")/serve.sh"

make_llm "$T/m" --arch qwen2 --hidden 64 --ffn 128 --layers 1 --heads 2 --kv-heads 1 --seed 21
hub_add acme/tiny "$T/m" >/dev/null
start_hub

# --- the connected side ------------------------------------------------------------------
run 0 "$ARCA" pull acme/tiny@main -q
run 0 "$ARCA" show acme/tiny --json
commit=$(json 'd["commit"]')
run 0 "$ARCA" convert acme/tiny --quant q8_0 -q
run 0 "$ARCA" validate acme/tiny:q8_0 --json
expect_json 'd["status"]' recorded
digest=$(json 'd["logits_digest"]')
tokens=$(json 'json.dumps(d["tokens"], sort_keys=True)')
run 0 "$ARCA" key new -q
run 0 "$ARCA" sign acme/tiny -q
run 0 "$ARCA" sign acme/tiny:q8_0 -q
run 0 "$ARCA" key export default -o "$T/pub.pem"
run 0 "$ARCA" export acme/tiny -o "$T/tiny.arca" --sign -q
stop_hub
unset HF_ENDPOINT MODELSCOPE_ENDPOINT

# --- the air-gapped side: a fresh store, no hub --------------------------------------------
export ARCA_HOME="$T/airgap"
run 0 "$ARCA" init -q
run 0 "$ARCA" key trust "$T/pub.pem" --name site-a -q
run 0 "$ARCA" import "$T/tiny.arca" --json
expect_json 'd["signature"]' verified
expect_json 'd["snapshots"][0]["snapshot"]' "hf:acme/tiny@$commit"
run 0 "$ARCA" verify acme/tiny
run 0 "$ARCA" verify acme/tiny:q8_0
run 0 "$ARCA" fsck
run 0 "$ARCA" show acme/tiny --json
expect_json 'd["source"]' bundle
expect_json 'd["evidence"]["endpoint"] is not None' True

# the hub's own client loads the checkout offline
run 0 "$ARCA" checkout acme/tiny "$T/hf" --layout hf-cache -q
node "$ARCA_SOURCE/tests/node/hf_cache_check.mjs" "$T/hf" acme/tiny main > "$T/cache.json" ||
	fail "@huggingface/hub cannot load the hf-cache checkout offline"
python3 - "$T/cache.json" "$T/m" "$commit" <<'PY' || fail "the cache differs from the model"
import hashlib, json, os, sys
rep = json.load(open(sys.argv[1]))
assert rep["commit"] == sys.argv[3], rep["commit"]
for name in os.listdir(sys.argv[2]):
    want = hashlib.sha256(open(os.path.join(sys.argv[2], name), "rb").read()).hexdigest()
    assert rep["files"][name]["sha256"] == want, name
PY

# arca serve: the hub's own client downloads every file, byte for byte the model's
start_serve
node "$ARCA_SOURCE/tests/node/hf_serve_check.mjs" "$URL" acme/tiny main "$T/client-cache" \
	> "$T/served.json" || fail "@huggingface/hub cannot download from arca serve"
python3 - "$T/served.json" "$T/m" "$commit" <<'PY' || fail "what arca serve gave differs from the model"
import hashlib, json, os, sys
rep = json.load(open(sys.argv[1]))
assert rep["sha"] == sys.argv[3], rep["sha"]
names = sorted(os.listdir(sys.argv[2]))
assert sorted(rep["listed"]) == names, (sorted(rep["listed"]), names)
for name in names:
    want = hashlib.sha256(open(os.path.join(sys.argv[2], name), "rb").read()).hexdigest()
    assert rep["downloaded"][name]["sha256"] == want, name
    assert rep["snapshot"][name]["sha256"] == want, name
PY
stop_serve

# the variant still behaves as it did on the connected side
run 0 "$ARCA" validate acme/tiny:q8_0 --json
expect_json 'd["status"]' same
expect_json 'd["logits_digest"]' "$digest"
expect_json 'json.dumps(d["tokens"], sort_keys=True)' "$tokens"

pass
