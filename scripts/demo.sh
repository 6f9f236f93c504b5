#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The built-in demo: a local test hub (tests/hub/fakehub.py on loopback) serves a tiny
# generated model; arca pulls it into a fresh store under build/demo/, verifies every byte,
# shows what it recorded, writes it back out as a plain folder and as a Hugging Face cache,
# converts it to GGUF, audits the GGUF against its source (a requantization, proved byte
# for byte), runs it with arca's own runtime, records and re-checks its
# behavioural fingerprint, signs it and verifies the signature (from the store and from
# the restored folder), checks the store, and carries it in a signed bundle into a second
# store, where the signature, the blobs and the fingerprint check out again. Every step
# is a real arca command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
demo=$root/build/demo
rm -rf "$demo"
mkdir -p "$demo"
export ARCA_HOME=$demo/store

step() { printf '\n$ %s\n' "$*"; "$@"; }

python3 "$root/tests/fixtures/make_tiny_model.py" "$demo/tiny-qwen" --arch qwen2 --seed 42 \
	--hidden 256 --ffn 1024 --vocab 4096 --base-model Qwen/Qwen2.5-0.5B >/dev/null
commit=$(python3 "$root/tests/hub/make_fixture.py" "$demo/hub" add --repo demo/tiny-qwen \
	--tag v1.0 "$demo/tiny-qwen")
python3 "$root/tests/hub/fakehub.py" --root "$demo/hub" --ready-file "$demo/hub.ready" \
	>"$demo/hub.log" 2>&1 &
hub_pid=$!
trap 'kill $hub_pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do [ -s "$demo/hub.ready" ] && break; sleep 0.1; done
export HF_ENDPOINT
HF_ENDPOINT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hub"])' \
	"$demo/hub.ready")
echo "test hub on $HF_ENDPOINT serving demo/tiny-qwen at commit $commit"

step "$arca" init
step "$arca" pull demo/tiny-qwen@v1.0
step "$arca" pull demo/tiny-qwen
step "$arca" ls
step "$arca" show demo/tiny-qwen
step "$arca" checkout demo/tiny-qwen "$demo/restored"
diff -r "$demo/tiny-qwen" "$demo/restored" >/dev/null
echo "(restored copy is byte-identical to what the hub served)"
step "$arca" checkout demo/tiny-qwen "$demo/hf-cache" --layout hf-cache
step "$arca" convert demo/tiny-qwen --quant q8_0
step "$arca" convert demo/tiny-qwen --quant f16
step "$arca" audit demo/tiny-qwen:q8_0 --base demo/tiny-qwen --html "$demo/audit.html"
step "$arca" run demo/tiny-qwen:q8_0 -p "The model archive" -n 16 --ignore-eos
step "$arca" validate demo/tiny-qwen:q8_0
step "$arca" validate demo/tiny-qwen:q8_0
step "$arca" key new
step "$arca" sign demo/tiny-qwen -o "$demo/restored/model.sig"
step "$arca" sign demo/tiny-qwen:q8_0
step "$arca" verify demo/tiny-qwen
"$arca" key export default > "$demo/signer.pem"
step "$arca" verify "$demo/restored" --key "$demo/signer.pem"
step "$arca" fsck
# the air-gapped side: a bundle into a second store that trusts the signer
step "$arca" export demo/tiny-qwen -o "$demo/tiny-qwen.arca" --sign
ARCA_HOME="$demo/airgap" step "$arca" init
ARCA_HOME="$demo/airgap" step "$arca" key trust "$demo/signer.pem" --name site-a
ARCA_HOME="$demo/airgap" step "$arca" import "$demo/tiny-qwen.arca"
ARCA_HOME="$demo/airgap" step "$arca" verify demo/tiny-qwen:q8_0
ARCA_HOME="$demo/airgap" step "$arca" validate demo/tiny-qwen:q8_0
echo
echo "demo ok: store in $ARCA_HOME"
