#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Inference speed: `arca bench` against llama.cpp (node-llama-cpp's prebuilt CPU build, via
# tests/node/llama_bench.mjs) on the same GGUF files, same thread count, in one run, plus
# this machine's memory read bandwidth (bench/membw.c) for the decode roofline.
#
# Models: random weights in the shapes of Qwen2.5-0.5B (hidden 896, 24 layers, 14 heads,
# 2 KV heads, FFN 4864, vocab 151936) and, unless SHAPES=0.5b, Qwen2.5-1.5B (1536, 28,
# 12, 2, 8960), each in Q8_0, Q4_K_M and F16. For each: prefill tokens/s (PROMPT, default
# 512, tokens in one batch), decode tokens/s (GEN, default 128), peak resident memory,
# and decode as a fraction of the roofline (weight bytes per token / read bandwidth), with
# 1 thread and with all cores (THREADS="1 2" by default). Under node, llama.cpp's threads
# share the cores with node's own: its all-core numbers here can be lower than
# llama-bench's; the 1-thread rows have no such contention.
# Needs tests/node installed and /usr/bin/python3 with numpy.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
prompt=${PROMPT:-512}
gen=${GEN:-128}
reps=${REPS:-3}
shapes=${SHAPES:-"0.5b 1.5b"}
thread_counts=${THREADS:-"1 $(nproc)"}
threads=$(nproc)
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-bench-XXXXXX")
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
export ARCA_HOME=$work/store
"$arca" init -q

cc -O3 -march=native -pthread "$root/bench/membw.c" -o "$work/membw"
bw=$("$work/membw" "$threads" 1024 | python3 -c 'import json,sys; print(json.load(sys.stdin)["gbps"])')
echo "memory read bandwidth: $bw GB/s ($threads threads)"

mkdir -p "$work/tok"
for f in tokenizer.json tokenizer_config.json; do
	zstd -dqf "$root/tests/data/tokenizers/qwen3/$f.zst" -o "$work/tok/$f"
done

declare -A dims=([0.5b]="896 24 14 2 4864" [1.5b]="1536 28 12 2 8960")
rows=()
for shape in $shapes; do
	read -r hidden layers heads kv ffn <<<"${dims[$shape]}"
	echo "making a random Qwen2.5-$shape-shaped checkpoint..."
	/usr/bin/python3 "$root/tests/fixtures/make_tiny_model.py" "$work/m-$shape" --arch qwen2 \
		--hidden "$hidden" --layers "$layers" --heads "$heads" --kv-heads "$kv" --ffn "$ffn" \
		--vocab 151936 --tokenizer-dir "$work/tok" --fast-random >/dev/null
	"$arca" add "$work/m-$shape" --as "bench/$shape" -q
	rm -rf "$work/m-$shape"
	for q in q8_0 q4_k_m f16; do
		gguf="$work/$shape-$q.gguf"
		"$arca" convert "bench/$shape" --quant $q --out "$gguf" -q
		cat "$gguf" >/dev/null
		for t in $thread_counts; do
			a=$("$arca" bench "$gguf" -p "$prompt" -n "$gen" -r "$reps" -t "$t" --json)
			l=$(node "$root/tests/node/llama_bench.mjs" "$gguf" -p "$prompt" -n "$gen" \
				-r "$reps" --threads "$t")
			rows+=("$(python3 "$root/bench/bench_row.py" "$shape" "$q" "$t" "$bw" "$a" "$l")")
		done
		rm -f "$gguf"
	done
done
echo
echo "prompt $prompt, generate $gen, $reps repetitions (means); memory bandwidth $bw GB/s"
echo "shape type  thr | prefill tok/s: arca  llama  ratio | decode tok/s: arca llama ratio | roofline | peak RSS MiB: arca llama"
printf '%s\n' "${rows[@]}"
echo "(roofline: arca's decode as a share of bandwidth / weight bytes per token; llama's RSS includes node, ~50 MiB)"
