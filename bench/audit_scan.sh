#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `arca audit FORK --scan` over a catalog of MODELS (default 1000) indexed synthetic models:
# the time to rank every stored model as a base from the tensor index (hashes, then
# sketches; no weights read), and of the whole scan + audit against the best candidate.
#
# The models are small Llama-shaped BF16 checkpoints of LAYERS (default 24) layers, each
# with 9 tensors per layer plus embeddings and norms (so MODELS x (9 x LAYERS + 3) index
# rows: 219,000 for the defaults), made by one python process with seeded random values
# (the norms all ones, as real initialisations are: the scan must skip them). Among them a
# base and a fine-tune of two of its layers; the scan must put the base first.
# Prints the median and range of RUNS (default 5) runs of each. Needs /usr/bin/python3 with
# numpy; about 25 MB of disk per 100 models. KEEP=DIR keeps the store in DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
models=${MODELS:-1000}
layers=${LAYERS:-24}
runs=${RUNS:-5}
if [ -n "${KEEP:-}" ]; then  # KEEP=DIR: work there and leave the store for a look after
	work=$KEEP
	rm -rf "$work"
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/arca-bench-XXXXXX")
	trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
fi
export ARCA_HOME=$work/store
py=/usr/bin/python3

echo "making $models models of $layers layers..."
$py - "$work/models" "$models" "$layers" "$root/tests/fixtures" <<'PY'
import json, os, sys
import numpy as np
sys.path.insert(0, sys.argv[4])
import make_fork
out, n, layers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
H, F, V = 64, 128, 256
def bf16(x):
    u = np.asarray(x, dtype=np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2").tobytes()
def model(seed):
    rng = np.random.default_rng(seed)
    t = {"model.embed_tokens.weight": ("BF16", [V, H], bf16(rng.standard_normal(V * H) * 0.02))}
    for i in range(layers):
        p = "model.layers.%d." % i
        for name, shape in (("input_layernorm", [H]), ("post_attention_layernorm", [H])):
            t[p + name + ".weight"] = ("BF16", shape, bf16(np.ones(H)))
        for name, shape in (("self_attn.q_proj", [H, H]), ("self_attn.k_proj", [H // 2, H]),
                            ("self_attn.v_proj", [H // 2, H]), ("self_attn.o_proj", [H, H]),
                            ("mlp.gate_proj", [F, H]), ("mlp.up_proj", [F, H]),
                            ("mlp.down_proj", [H, F])):
            t[p + name + ".weight"] = ("BF16", shape,
                                       bf16(rng.standard_normal(shape[0] * shape[1]) * 0.02))
    t["model.norm.weight"] = ("BF16", [H], bf16(np.ones(H)))
    t["lm_head.weight"] = ("BF16", [V, H], bf16(rng.standard_normal(V * H) * 0.02))
    return t
for i in range(n):
    d = os.path.join(out, "m%05d" % i)
    os.makedirs(d)
    t = model(1000 + i)
    if i == n - 1:  # the fork: model 0 with layers 1 and 3 moved a little
        t = model(1000)
        rng = np.random.default_rng(5)
        for name, (dtype, shape, raw) in list(t.items()):
            if make_fork.layer_of(name) in (1, 3):
                w = make_fork.decode(dtype, raw).astype(np.float64)
                w += rng.standard_normal(w.size) * 0.01 * np.linalg.norm(w) / np.sqrt(w.size)
                t[name] = (dtype, shape, bf16(w))
    make_fork.write_safetensors(os.path.join(d, "model.safetensors"), None, t)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"], "hidden_size": H}, f)
PY
"$arca" init -q
echo "adding and indexing them..."
start=$(date +%s)
for d in "$work"/models/m*; do
	"$arca" add "$d" --as "bench/$(basename "$d")" -q
done
fork="bench/$(basename "$(ls -d "$work"/models/m* | tail -1)")"
echo "  $(($(date +%s) - start)) s; catalog $(du -h "$ARCA_HOME"/catalog* 2>/dev/null | head -1 | cut -f1)"

# times CMD...: median and range of $runs wall times, in seconds
times() {
	local t=()
	for _ in $(seq "$runs"); do
		local s e
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		t+=("$(echo "$e - $s" | bc)")
	done
	printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f s (%.3f-%.3f)", a[int((NR+1)/2)], a[1], a[NR]}'
}

"$arca" audit "$fork" --scan --shallow --json > "$work/scan.json"
$py - "$work/scan.json" "$models" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["scan"]
best = d["candidates"][0]
print("scan: %d models, %d indexed files; best %s (identical %.0f%%, est. cosine %.4f); "
      "in-process %.3f s" % (d["models"], d["files"], best["owner"],
                            100 * best["identical_frac"], best["est_cosine"], d["seconds"]))
assert best["owner"].startswith("local:bench/m00000@"), "the base is not first"
PY
echo "arca audit --scan --shallow      $(times "$arca" audit "$fork" --scan --shallow)"
echo "arca audit --scan (+ audit)      $(times "$arca" audit "$fork" --scan)"
