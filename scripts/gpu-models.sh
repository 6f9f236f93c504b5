#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/gpu-models.sh ARCA OUT_DIR — the tiny test GGUFs the GPU checks compare on: for
# each architecture in ARCHS a seeded 3-layer checkpoint (hidden 256, so the K-quants
# apply; FFN 512, 4 heads, 2 KV heads, seed 21, weights ×5 as tests/cli/gpu_check.sh makes
# them), added to a throw-away store and converted to every type in TYPES, as
# OUT_DIR/ARCH-TYPE.gguf. Then OUT_DIR/SHA256SUMS.
#
# Used twice: by scripts/gpu-prepare.sh here, and by scripts/gpu-check.sh on the GPU
# machine, because the 50 files (about 230 MB) do not fit what a device run carries
# (64 MiB with the working tree). The generator is seeded and the converter
# deterministic, so both places make the same bytes; gpu-check.sh compares the sums.
# Needs python3 (numpy makes it faster, not different).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=$1
out=$2
archs=${ARCHS:-"qwen2 qwen3 llama qwen3moe deepseek2 glm4 glm4moe minimax-m2 chatglm internlm2"}
types=${TYPES:-"f32 f16 bf16 q8_0 q4_k_m"}
jobs=${JOBS:-$(nproc)}
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-gpu-models-XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$out"

# one architecture, in a store of its own (so several run at once)
make_arch() {
	local arch=$1 q
	export ARCA_HOME=$work/store-$arch
	"$arca" init -q
	python3 "$root/tests/fixtures/make_tiny_model.py" "$work/$arch" --arch "$arch" \
		--dtype F32 --hidden 256 --ffn 512 --heads 4 --kv-heads 2 --layers 3 --seed 21 \
		--std-scale 5 >/dev/null
	"$arca" add "$work/$arch" --as "acme/$arch" -q
	for q in $types; do
		"$arca" convert "acme/$arch" --quant "$q" --out "$out/$arch-$q.gguf" -q
	done
}

pids=()
for arch in $archs; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
	make_arch "$arch" >"$work/$arch.log" 2>&1 &
	pids+=("$!:$arch")
done
failed=0
for p in "${pids[@]}"; do
	if ! wait "${p%%:*}"; then
		echo "gpu-models: ${p#*:} failed:" >&2
		cat "$work/${p#*:}.log" >&2
		failed=1
	fi
done
[ "$failed" = 0 ] || exit 1
(cd "$out" && sha256sum -- *.gguf >SHA256SUMS)
