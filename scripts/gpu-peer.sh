#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/gpu-peer.sh — llama.cpp's llama-bench built with CUDA, on the GPU machine, in a
# call of its own: run ON the GPU machine from the repository root, after
# `scripts/gpu-prepare.sh` here staged build-gpu-peer/ (it does when bench/native_llama.sh's
# CUDA build exists; PEER=1 makes that build first), as
#     run(command: "scripts/gpu-peer.sh", carry: ["build-gpu-peer"], timeout_s: 600)
# right after scripts/gpu-check.sh's call (the machine is still warm). llama-bench is
# 68 MB (41 packed): with arca's programs and libraries it would pass what one call carries.
#
#  1. peer.tar.xz unpacked outside the carry; the machine's libcublas.so.13 and libnccl.so.2
#     found (scripts/gpu-libs.sh); llama-bench --help starts with them;
#  2. bench/gpu_bench.sh with ARCA=none: by default the 7B shape in Q4_K_M, Q8_0 and F16
#     (what fits the few minutes a session has left after gpu-check.sh), the same prompt,
#     generation and repetitions as gpu-check.sh's bench, the same files (gguf_synth), the
#     ceilings again, llama-bench -ngl 99 -fa 1 on each.
#
# Writes $OUT/gpu_peer.json (gpu_table.py's --json); here, merge it into gpu-check.sh's
# table with: bench/gpu_table.py RESULTS CEILINGS --peer gpu_peer.json, or read its rows.
# Environment: BUDGET (seconds, default 240: with gpu-check.sh's 400 and the machine's
# start, a session's 15 minutes), SHAPES, TYPES, PROMPT, GEN, REPS (as gpu_bench.sh),
# STAGE (the staged folder, default build-gpu-peer). No arguments; --help prints this.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
case ${1:-} in
-h | --help)
	sed -n '3,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0 ;;
"") ;;
*)
	echo "gpu-peer: takes no arguments (the environment chooses; --help)" >&2
	exit 2 ;;
esac
stage=${STAGE:-build-gpu-peer}
out=${OUT:-}
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/arca-gpu-peer-out-XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-gpu-peer-XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS
echo "== gpu-peer: $(date -u)"
command -v nvidia-smi >/dev/null && nvidia-smi -L
if [ ! -f "$stage/peer.tar.xz" ]; then
	echo "gpu-peer: no $stage/peer.tar.xz (scripts/gpu-prepare.sh stages it when the CUDA" \
		"build of llama.cpp exists; carry [\"$stage\"])" >&2
	exit 1
fi
mkdir -p "$work/peer"
tar -xJf "$stage/peer.tar.xz" -C "$work/peer" || exit 1
# shellcheck source=scripts/gpu-libs.sh
. scripts/gpu-libs.sh
libs=$work/peer
for f in libcublas.so.13 libnccl.so.2; do
	if d=$(cuda_lib_dir "$f"); then
		libs=$libs:$d
	fi
done
echo "libraries: $libs"
if ! LD_LIBRARY_PATH=$libs "$work/peer/llama-bench" --help >/dev/null 2>"$work/err"; then
	echo "gpu-peer: llama-bench does not start here:" >&2
	cat "$work/err" >&2
	exit 1
fi
SHAPES=${SHAPES:-qwen2.5-7b} TYPES=${TYPES:-"q4_k_m q8_0 f16"} \
BUDGET=$((${BUDGET:-240} - (SECONDS - start))) ARCA=none SYNTH="$stage/gguf_synth" \
	LLAMA_BENCH="$work/peer/llama-bench" LLAMA_LIBS="$libs" BENCH_JSON="$out/gpu_peer.json" \
	bench/gpu_bench.sh
rc=$?
echo "(gpu_peer.json in $out; $((SECONDS - start)) s)"
exit "$rc"
