#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Inference speed: `arca bench` against llama-bench built natively for this CPU (GGML_NATIVE,
# OpenMP; bench/native_llama.sh builds it once from node-llama-cpp's llama.cpp source into
# ~/.cache/arca-bench) on the same GGUF files, interleaved: every row runs llama-bench then
# arca (the order swaps each round) ROUNDS times (default 3), so a noisy machine hits both
# alike. Prints per row the medians, the min–max ranges over the rounds and arca/llama.
#
# Model: random weights in the shape of Qwen2.5-0.5B (hidden 896, 24 layers, 14 heads, 2 KV
# heads, FFN 4864, vocab 151936) in TYPES (default "q8_0 q4_k_m f16"); THREADS (default
# "1 2"); prompt PROMPT (512) and generate GEN (128) tokens from an empty context. LONG
# (default 4096; "" skips; e.g. "4096 16384") adds rows at long context: prefill of LONG tokens
# from empty, and decode of GEN tokens after LONG tokens already in the cache (llama-bench -d,
# arca bench --depth). CACHE_TYPE (default f16, llama.cpp's default) is the KV cache type both
# use. REPS (default 1) repetitions inside each tool per round. SHORT=0 leaves out the
# PROMPT/GEN rows (long rows only). GGUF_DIR: use GGUF_DIR/TYPE.gguf made earlier (the same
# model) instead of making them (minutes). WARMUP=0 skips both tools' warm-up runs (a full
# prompt each: on a slow machine the long rows double without it). Never run in CI.
#
# The decode roofline: bench/membw.c measures this machine's read bandwidth with each thread
# count at the start of every round; a decode row's roofline is that bandwidth over the bytes
# a token reads (arca bench's weight_bytes, plus the KV cache up to the mean position), and
# the table gives both tools' decode speed as a percentage of it.
# Needs tests/node installed (for the llama.cpp source), cmake, a C++ compiler, numpy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
prompt=${PROMPT:-512}
gen=${GEN:-128}
reps=${REPS:-1}
rounds=${ROUNDS:-3}
types=${TYPES:-"q8_0 q4_k_m f16"}
thread_counts=${THREADS:-"1 2"}
long=${LONG-4096}
ctype=${CACHE_TYPE:-f16}
short=${SHORT:-1}
warm=()
[ "${WARMUP:-1}" = 1 ] || warm=(--no-warmup)
# shellcheck source=bench/native_llama.sh
. "$root/bench/native_llama.sh"
llama=$(native_llama_bench)
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-native-XXXXXX")
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
export ARCA_HOME=$work/store
"$arca" init -q
results=$work/results.jsonl
cc -O3 -march=native -pthread "$root/bench/membw.c" -o "$work/membw"

if [ -n "${GGUF_DIR:-}" ]; then
	for q in $types; do ln -s "$(cd "$GGUF_DIR" && pwd)/$q.gguf" "$work/$q.gguf"; done
else
	mkdir -p "$work/tok"
	for f in tokenizer.json tokenizer_config.json; do
		zstd -dqf "$root/tests/data/tokenizers/qwen3/$f.zst" -o "$work/tok/$f"
	done
	echo "making a random Qwen2.5-0.5B-shaped checkpoint..."
	/usr/bin/python3 "$root/tests/fixtures/make_tiny_model.py" "$work/m" --arch qwen2 \
		--hidden 896 --layers 24 --heads 14 --kv-heads 2 --ffn 4864 --vocab 151936 \
		--tokenizer-dir "$work/tok" --fast-random >/dev/null
	"$arca" add "$work/m" --as bench/0.5b -q
	rm -rf "$work/m"
	for q in $types; do
		"$arca" convert bench/0.5b --quant "$q" --out "$work/$q.gguf" -q
	done
fi

# llama TYPE THREADS TEST P N D: one llama-bench measurement into the results.
llama() {
	local out
	out=$("$llama" -m "$work/$1.gguf" -t "$2" -p "$4" -n "$5" -d "$6" -r "$reps" -ctk "$ctype" \
		-ctv "$ctype" "${warm[@]}" -o jsonl 2>/dev/null)
	python3 -c 'import json,sys
for line in sys.argv[5].splitlines():
    r = json.loads(line)
    print(json.dumps({"side": "llama", "type": sys.argv[1], "threads": int(sys.argv[2]),
        "test": sys.argv[3], "tps": r["avg_ts"]}))' "$1" "$2" "$3" "$4" "$out" >>"$results"
}

# arca TYPE THREADS TEST P N D: the same measurement with `arca bench`.
arca_run() {
	local out
	out=$("$arca" bench "$work/$1.gguf" -t "$2" -p "$4" -n "$5" --depth "$6" -r "$reps" \
		--cache-type "$ctype" "${warm[@]}" --json)
	python3 -c 'import json,sys
a = json.loads(sys.argv[4])
tps = a["prefill_tps"]["mean"] if sys.argv[3].startswith("pp") else a["decode_tps"]["mean"]
print(json.dumps({"side": "arca", "type": sys.argv[1], "threads": int(sys.argv[2]),
    "test": sys.argv[3], "tps": tps, "kv_bytes_per_token": a.get("kv_bytes_per_token"),
    "weight_bytes": a["weight_bytes"], "depth": a["depth"], "gen": a["gen"],
    "peak_rss_mib": a["peak_rss_mib"]}))' \
		"$1" "$2" "$3" "$out" >>"$results"
}

# The rows: TEST P N D (one test per line).
tests=""
[ "$short" = 0 ] || tests="pp$prompt $prompt 0 0
tg$gen 0 $gen 0"
for l in $long; do
	tests="$tests${tests:+
}pp$l $l 0 0
tg$gen@d$l 0 $gen $l"
done

echo "llama-bench: $llama"
echo "rounds: $rounds, types: $types, threads: $thread_counts, KV cache: $ctype"
for r in $(seq 1 "$rounds"); do
	for t in $thread_counts; do
		"$work/membw" "$t" 1024 | python3 -c 'import json,sys
d = json.load(sys.stdin)
print(json.dumps({"side": "membw", "threads": d["threads"], "gbps": d["gbps"]}))' >>"$results"
	done
	for q in $types; do
		for t in $thread_counts; do
			while read -r name p n d; do
				echo "round $r: $q, $t threads, $name" >&2
				if [ $((r % 2)) = 1 ]; then
					llama "$q" "$t" "$name" "$p" "$n" "$d"
					arca_run "$q" "$t" "$name" "$p" "$n" "$d"
				else
					arca_run "$q" "$t" "$name" "$p" "$n" "$d"
					llama "$q" "$t" "$name" "$p" "$n" "$d"
				fi
			done <<<"$tests"
		done
	done
done
echo
python3 "$root/bench/native_table.py" "$results"
