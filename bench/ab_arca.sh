#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two builds of arca on the same work, alternating, for "did this change make it slower?"
# (a restructuring, a new kernel): quantization (`arca convert` of a BF16 GGUF to q8_0 and
# q4_k_m, input GB/s) and inference (`arca bench` prefill and decode tokens/s on a
# Qwen2.5-0.5B-shaped model in q8_0 and q4_k_m). Each measurement alternates A and B ROUNDS
# times (default 3), so a noisy machine hits both alike; medians and B/A ratios at the end.
#
#   ARCA_A=/path/to/old/arca ARCA_B=build/arca bench/ab_arca.sh
#
# SIZE_GIB (default 1) sizes the quantization input; PROMPT/GEN (default 256/64) the bench.
# Needs /usr/bin/python3 with numpy (scripts/setup-debian.sh) and the vendored Qwen3 tokenizer.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
a=${ARCA_A:?ARCA_A must name the first arca binary}
b=${ARCA_B:-$root/build/arca}
rounds=${ROUNDS:-3}
size_gib=${SIZE_GIB:-1}
prompt=${PROMPT:-256}
gen=${GEN:-64}
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-ab-XXXXXX")
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
results="$work/results.txt"

echo "inputs: a BF16 qwen3 checkpoint of ~$size_gib GiB and a Qwen2.5-0.5B-shaped qwen2..."
layers=$(python3 -c "import math; print(math.ceil($size_gib * 2**30 / (2 * 50331648)))")
/usr/bin/python3 "$root/tests/fixtures/make_tiny_model.py" "$work/big" --arch qwen3 \
	--hidden 2048 --ffn 6144 --heads 16 --kv-heads 8 --layers "$layers" --fast-random >/dev/null
mkdir -p "$work/tok"
for f in tokenizer.json tokenizer_config.json; do
	zstd -dqf "$root/tests/data/tokenizers/qwen3/$f.zst" -o "$work/tok/$f"
done
/usr/bin/python3 "$root/tests/fixtures/make_tiny_model.py" "$work/small" --arch qwen2 \
	--hidden 896 --layers 24 --heads 14 --kv-heads 2 --ffn 4864 --vocab 151936 \
	--tokenizer-dir "$work/tok" --fast-random >/dev/null
for side in a b; do
	bin=$([ $side = a ] && echo "$a" || echo "$b")
	export ARCA_HOME="$work/store-$side"
	"$bin" init -q
	"$bin" add "$work/big" --as ab/big -q
	"$bin" convert ab/big --quant bf16 --json > "$work/bf16-$side.json"
	"$bin" add "$work/small" --as ab/small -q
	"$bin" convert ab/small --quant q8_0 -q
	"$bin" convert ab/small --quant q4_k_m -q
done
rm -rf "$work/big" "$work/small"

now() { date +%s.%N; }
# A store as it was after the inputs were made (blobs hard-linked, the catalog copied), so
# every conversion really converts: both builds skip a conversion already recorded.
fresh_store() { # SIDE -> $work/run-SIDE
	local from="$work/store-$1" to="$work/run-$1"
	[ ! -e "$to" ] || { chmod -R u+w "$to"; rm -rf "$to"; }
	mkdir -p "$to/tmp" "$to/keys"
	cp -al "$from/objects" "$to/objects"
	cp "$from"/catalog.db* "$to/"
	touch "$to/lock"
}
for round in $(seq 1 "$rounds"); do
	for side in a b; do
		bin=$([ $side = a ] && echo "$a" || echo "$b")
		for q in q8_0 q4_k_m; do
			fresh_store $side
			export ARCA_HOME="$work/run-$side"
			sync
			t0=$(now)
			"$bin" convert ab/big:bf16 --quant "$q" -q
			echo "$side convert-$q $(python3 -c "print($(now) - $t0)")" >> "$results"
			"$bin" bench "ab/small:$q" --prompt "$prompt" --gen "$gen" --reps 1 --json > "$work/b.json"
			python3 - "$work/b.json" "$side" "$q" >> "$results" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def mean(v):
    return v["mean"] if isinstance(v, dict) else v
print("%s prefill-%s %s" % (sys.argv[2], sys.argv[3], mean(d["prefill_tps"])))
print("%s decode-%s %s" % (sys.argv[2], sys.argv[3], mean(d["decode_tps"])))
PY
		done
	done
done

input=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["size"])' "$work/bf16-a.json")
python3 - "$results" "$input" "$a" "$b" "$rounds" <<'PY'
import collections, statistics, sys
path, input_bytes, a, b, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
vals = collections.defaultdict(list)
for line in open(path):
    side, what, v = line.split()
    vals[(what, side)].append(float(v))
print("A = %s\nB = %s\nmedian of %s alternating rounds" % (a, b, rounds))
print("%-18s %12s %12s %9s   %s" % ("measure", "A", "B", "B/A", "ranges"))
for what in sorted({w for w, _ in vals}):
    ma, mb = statistics.median(vals[(what, "a")]), statistics.median(vals[(what, "b")])
    if what.startswith("convert"):
        ga, gb = input_bytes / ma / 1e9, input_bytes / mb / 1e9
        print("%-18s %9.3f GB/s %8.3f GB/s %8.2fx   A %.2f-%.2f s, B %.2f-%.2f s" % (what, ga, gb,
              gb / ga, min(vals[(what, "a")]), max(vals[(what, "a")]), min(vals[(what, "b")]),
              max(vals[(what, "b")])))
    else:
        print("%-18s %8.1f t/s %8.1f t/s %8.2fx   A %.1f-%.1f, B %.1f-%.1f" % (what, ma, mb,
              mb / ma, min(vals[(what, "a")]), max(vals[(what, "a")]), min(vals[(what, "b")]),
              max(vals[(what, "b")])))
PY
