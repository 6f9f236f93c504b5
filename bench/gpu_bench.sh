#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# GPU inference speed against the GPU's own ceilings. Run ON the GPU machine (scripts/
# gpu-check.sh calls it), from a build with the CUDA backend (scripts/gpu-prepare.sh).
#
# First the two ceilings, measured in this run with PyTorch (bench/gpu_ceilings.py: the
# device-to-device copy bandwidth, read + write, and the dense bf16 matrix-product rate,
# random data, events, median of 30). Then for each shape in SHAPES and type in TYPES:
# a GGUF of random weights in that shape (bench/gguf_synth: Qwen2.5's shapes, the types
# `arca convert` gives each tensor) written into /dev/shm when it has room, else TMPDIR;
# `arca bench FILE --gpu -p PROMPT -n GEN -r REPS --json`; the prompt again with the tile
# kernels instead of cuBLAS (ARCA_GPU_BLAS=off, -n 0; TILES=0 skips it); llama.cpp's
# llama-bench built with CUDA on the same file when there is one (LLAMA_BENCH; default
# $BUILD/llama/llama-bench, which scripts/gpu-prepare.sh stages from bench/native_llama.sh's
# CUDA build: every layer on the GPU, flash attention, the same prompt and generation
# lengths and repetitions); the file deleted. Prints the table last (bench/gpu_table.py:
# weight bytes per token, decode tok/s, the roofline tok/s = copy bandwidth / weight bytes
# per token, decode % of it, prefill tok/s, the prefill FLOP rate and its % of the bf16
# product rate, prefill with the tiles, llama.cpp's prefill and decode and arca's ratios to
# them) and writes everything as JSON to BENCH_JSON (default $OUT/gpu_bench.json when OUT
# is set). Exit 1 when a row failed (gguf_synth or arca bench; a row skipped for the
# budget is not a failure; llama-bench failing is reported in the row, not failed).
#
# Environment: SHAPES (default "qwen2.5-0.5b qwen2.5-7b qwen2.5-14b"; gguf_synth --list),
# TYPES ("q4_k_m q8_0 bf16 f16"), PROMPT (512), GEN (128), REPS (3), BUDGET (seconds for
# the whole script, 0 = none: a row is skipped when what is left is less than its
# estimate, 15 s + 2 s per GB of its file, and as much again with llama-bench), ROW_TIMEOUT
# (300 s for one arca bench or llama-bench), LLAMA_LIBS (folders llama-bench's CUDA runtime
# and cuBLAS are in, for its LD_LIBRARY_PATH),
# DEVICE_FLAGS (default --gpu; "" benchmarks the CPU: how this script is tested without
# a GPU), CEILINGS=0 skips the PyTorch measurements, BUILD (build-gpu) with ARCA and
# SYNTH the programs (ARCA=none: llama-bench alone, as scripts/gpu-peer.sh runs it),
# SYNTH_DIR where the files go.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build-gpu}
arca=${ARCA:-$build/arca}
synth=${SYNTH:-$build/bench/gguf_synth}
shapes=${SHAPES:-"qwen2.5-0.5b qwen2.5-7b qwen2.5-14b"}
types=${TYPES:-"q4_k_m q8_0 bf16 f16"}
prompt=${PROMPT:-512}
gen=${GEN:-128}
reps=${REPS:-3}
budget=${BUDGET:-0}
row_timeout=${ROW_TIMEOUT:-300}
read -r -a device_flags <<<"${DEVICE_FLAGS---gpu}"
bench_json=${BENCH_JSON:-${OUT:+$OUT/gpu_bench.json}}
tiles=${TILES:-1}
llama=${LLAMA_BENCH:-$build/llama/llama-bench}
[ -x "$llama" ] || llama=
start=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/arca-gpu-bench-XXXXXX")
file=
trap 'rm -f "$file"; rm -rf "$work"' EXIT
export ARCA_HOME=$work/store
[ "$arca" = none ] || "$arca" init -q
results=$work/results.jsonl
: >"$results"

# json FIELD: a field of the JSON document on stdin
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# where a file of BYTES fits: /dev/shm (memory, no disk in the way) or TMPDIR
place_for() {
	local bytes=$1 d avail
	for d in ${SYNTH_DIR:-/dev/shm "${TMPDIR:-/tmp}"}; do
		if [ ! -d "$d" ] || [ ! -w "$d" ]; then continue; fi
		avail=$(df -PB1 "$d" | awk 'NR == 2 { print $4 }')
		if [ "$avail" -gt $((bytes + (1 << 30))) ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# record SHAPE TYPE STATUS [KEY=FILE]...: one line of results; KEY is synth, bench,
# tiles, llama (JSON files: null when missing or not JSON) or error (text)
record() {
	python3 - "$@" >>"$results" <<'PY'
import json, sys
shape, typ, status = sys.argv[1:4]
row = {"shape": shape, "type": typ, "status": status, "synth": None, "bench": None,
       "tiles": None, "llama": None, "error": None}
for kv in sys.argv[4:]:
    key, path = kv.split("=", 1)
    try:
        text = open(path).read()
    except OSError:
        continue
    if key == "error":
        row[key] = text[-2000:].strip() or None
        continue
    try:
        row[key] = json.loads(text)
    except ValueError:
        row[key] = None
print(json.dumps(row))
PY
}

ceilings=$work/ceilings.json
if [ "${CEILINGS:-1}" = 1 ]; then
	echo "measuring the ceilings (bench/gpu_ceilings.py)..." >&2
	python3 "$root/bench/gpu_ceilings.py" >"$ceilings" 2>"$work/ceilings.err" ||
		echo "{\"error\": \"gpu_ceilings.py failed: $(tail -c 300 "$work/ceilings.err" |
			tr -d '"\\\n')\"}" >"$ceilings"
	cat "$ceilings" >&2
else
	echo '{"error": "not measured (CEILINGS=0)"}' >"$ceilings"
fi

for shape in $shapes; do
	for type in $types; do
		"$synth" --shape "$shape" --type "$type" --size >"$work/size.json"
		bytes=$(json bytes <"$work/size.json")
		need=$((15 + 2 * bytes / 1000000000))
		[ -n "$llama" ] && need=$((need * 2))
		left=$((budget - (SECONDS - start)))
		if [ "$budget" != 0 ] && [ "$left" -lt "$need" ]; then
			echo "$shape $type: skipped, ${left}s left of the budget, about ${need}s needed" >&2
			record "$shape" "$type" skipped synth="$work/size.json"
			continue
		fi
		if ! dir=$(place_for "$bytes"); then
			echo "$shape $type: skipped, no room for $bytes bytes" >&2
			record "$shape" "$type" no-room synth="$work/size.json"
			continue
		fi
		file=$dir/arca-gpu-bench-$shape-$type.gguf
		echo "$shape $type: $((bytes >> 20)) MiB in $dir..." >&2
		if ! "$synth" --shape "$shape" --type "$type" --out "$file" >"$work/synth.json" \
				2>"$work/err"; then
			record "$shape" "$type" synth-failed synth="$work/size.json" error="$work/err"
			rm -f "$file"
			continue
		fi
		echo "  written in $(json seconds <"$work/synth.json") s ($(json gbps <"$work/synth.json") GB/s)" >&2
		status=ok
		rm -f "$work/bench.json" "$work/tiles.json" "$work/llama.json" "$work/err"
		if [ "$arca" != none ]; then
			timeout "$row_timeout" "$arca" bench "$file" "${device_flags[@]}" -p "$prompt" \
				-n "$gen" -r "$reps" --json >"$work/bench.json" 2>"$work/err" || status=failed
			[ "$status" = ok ] ||
				{ echo "$shape $type: arca bench failed:" >&2; cat "$work/err" >&2; }
		fi
		if [ "$arca" != none ] && [ "$status" = ok ] && [ "$tiles" = 1 ] && [ "$prompt" -gt 0 ]; then
			echo "  the prompt with the tile kernels (ARCA_GPU_BLAS=off)" >&2
			ARCA_GPU_BLAS=off timeout "$row_timeout" "$arca" bench "$file" "${device_flags[@]}" \
				-p "$prompt" -n 0 -r "$reps" --json >"$work/tiles.json" 2>>"$work/err" ||
				echo "  (failed: $(tail -n 1 "$work/err"))" >&2
		fi
		if [ -n "$llama" ]; then
			echo "  llama-bench (CUDA)" >&2
			LD_LIBRARY_PATH=${LLAMA_LIBS:+$LLAMA_LIBS:}${LD_LIBRARY_PATH:-} \
				timeout "$row_timeout" "$llama" -m "$file" -ngl 99 -fa 1 -p "$prompt" \
				-n "$gen" -r "$reps" -o json >"$work/llama.json" 2>"$work/llama.err" || {
				echo "  llama-bench failed: $(tail -n 3 "$work/llama.err")" >&2
				tail -c 1000 "$work/llama.err" >>"$work/err"
				[ "$arca" != none ] || status=failed   # the peer alone: its failure is the row's
			}
		fi
		record "$shape" "$type" "$status" synth="$work/synth.json" bench="$work/bench.json" \
			tiles="$work/tiles.json" llama="$work/llama.json" error="$work/err"
		rm -f "$file"
		file=
	done
done
echo >&2
python3 "$root/bench/gpu_table.py" "$results" "$ceilings" ${bench_json:+--json "$bench_json"}
