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
# `arca bench FILE --gpu -p PROMPT -n GEN -r REPS --json`; the file deleted. Prints the
# table last (bench/gpu_table.py: weight bytes per token, decode tok/s, the roofline
# tok/s = copy bandwidth / weight bytes per token, decode % of it, prefill tok/s, the
# prefill FLOP rate and its % of the bf16 product rate) and writes everything as JSON to
# BENCH_JSON (default $OUT/gpu_bench.json when OUT is set). Exit 1 when a row failed
# (gguf_synth or arca bench; a row skipped for the budget is not a failure).
#
# Environment: SHAPES (default "qwen2.5-0.5b qwen2.5-7b qwen2.5-14b"; gguf_synth --list),
# TYPES ("q4_k_m q8_0 bf16 f16"), PROMPT (512), GEN (128), REPS (3), BUDGET (seconds for
# the whole script, 0 = none: a row is skipped when what is left is less than its
# estimate, 15 s + 2 s per GB of its file), ROW_TIMEOUT (300 s for one arca bench),
# DEVICE_FLAGS (default --gpu; "" benchmarks the CPU: how this script is tested without
# a GPU), CEILINGS=0 skips the PyTorch measurements, BUILD (build-gpu) with ARCA and
# SYNTH the programs, SYNTH_DIR where the files go.
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
start=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/arca-gpu-bench-XXXXXX")
file=
trap 'rm -f "$file"; rm -rf "$work"' EXIT
export ARCA_HOME=$work/store
"$arca" init -q
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

# record SHAPE TYPE STATUS [SYNTH_JSON_FILE] [BENCH_JSON_FILE] [ERROR_FILE]
record() {
	python3 - "$@" >>"$results" <<'PY'
import json, sys
a = sys.argv[1:] + [""] * 6
def load(p):
    try:
        return json.load(open(p)) if p else None
    except (OSError, ValueError):
        return None
err = open(a[5]).read()[-2000:].strip() if a[5] else ""
print(json.dumps({"shape": a[0], "type": a[1], "status": a[2], "synth": load(a[3]),
                  "bench": load(a[4]), "error": err or None}))
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
		left=$((budget - (SECONDS - start)))
		if [ "$budget" != 0 ] && [ "$left" -lt "$need" ]; then
			echo "$shape $type: skipped, ${left}s left of the budget, about ${need}s needed" >&2
			record "$shape" "$type" skipped "$work/size.json"
			continue
		fi
		if ! dir=$(place_for "$bytes"); then
			echo "$shape $type: skipped, no room for $bytes bytes" >&2
			record "$shape" "$type" no-room "$work/size.json"
			continue
		fi
		file=$dir/arca-gpu-bench-$shape-$type.gguf
		echo "$shape $type: $((bytes >> 20)) MiB in $dir..." >&2
		if ! "$synth" --shape "$shape" --type "$type" --out "$file" >"$work/synth.json" \
				2>"$work/err"; then
			record "$shape" "$type" synth-failed "$work/size.json" "" "$work/err"
			rm -f "$file"
			continue
		fi
		echo "  written in $(json seconds <"$work/synth.json") s ($(json gbps <"$work/synth.json") GB/s)" >&2
		status=ok
		timeout "$row_timeout" "$arca" bench "$file" "${device_flags[@]}" -p "$prompt" \
			-n "$gen" -r "$reps" --json >"$work/bench.json" 2>"$work/err" || status=failed
		[ "$status" = ok ] || { echo "$shape $type: arca bench failed:" >&2; cat "$work/err" >&2; }
		record "$shape" "$type" "$status" "$work/synth.json" "$work/bench.json" "$work/err"
		rm -f "$file"
		file=
	done
done
echo >&2
python3 "$root/bench/gpu_table.py" "$results" "$ceilings" ${bench_json:+--json "$bench_json"}
