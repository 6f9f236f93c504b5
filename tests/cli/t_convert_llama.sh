#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca convert's GGUF files, checked against llama.cpp (node-llama-cpp's prebuilt CPU build):
# tiny Qwen2, Qwen3 and Llama checkpoints in F16, Q8_0 and Q4_K_M, the MoE, MLA and GLM-4
# tables in F16 and a block-FP8 checkpoint in F32 load in llama.cpp and generate; quantized
# tensors equal what llama.cpp's own quantizer makes from the same F32 GGUF, bit for bit.
# Skipped without tests/node's node-llama-cpp (t_convert.sh checks convert without it).
. "$(dirname "$0")/lib.sh"

need_node_module node-llama-cpp
LLAMA="$ARCA_SOURCE/tests/node/llama_run.mjs"

run 0 "$ARCA" init

# llama_loads FILE ARCH: llama.cpp loads the GGUF and generates greedily from a prompt
llama_loads() {
	run 0 node "$LLAMA" "$1" --check-load
	expect_json 'd["arch"]' "$2"
	run 0 node "$LLAMA" "$1" --prompt "Hello world, the model" -n 6 --ignore-eos --threads 2
	expect_json 'len(d["tokens"])' 6
}

# --- the three main architectures in F16, Q8_0, Q4_K_M ----------------------------------
for arch in qwen2 qwen3 llama; do
	make_llm "$T/$arch" --arch "$arch" --hidden 256 --ffn 512 --heads 4 --kv-heads 2 --seed 3
	run 0 "$ARCA" add "$T/$arch" --as "acme/$arch" -q
	for q in f16 q8_0 q4_k_m; do
		run 0 "$ARCA" convert "acme/$arch" --quant $q --out "$T/$arch-$q.gguf" -q
		llama_loads "$T/$arch-$q.gguf" $arch
	done
done

# --- MoE, MLA and GLM-4 ---------------------------------------------------------------------
for arch in qwen3moe deepseek2 glm4; do
	make_llm "$T/$arch" --arch "$arch" --seed 4
	run 0 "$ARCA" add "$T/$arch" --as "acme/$arch" -q
	run 0 "$ARCA" convert "acme/$arch" --quant f16 --out "$T/$arch.gguf" -q
	llama_loads "$T/$arch.gguf" $arch
done

# --- block FP8, dequantized on the way in (t_convert_fp8.sh checks the values) -------------
make_llm "$T/fp8" --arch qwen3 --dtype FP8 --hidden 64 --ffn 96 --seed 7
run 0 "$ARCA" add "$T/fp8" --as acme/fp8 -q
run 0 "$ARCA" convert acme/fp8 --quant f32 --out "$T/fp8.gguf" -q
run 0 node "$LLAMA" "$T/fp8.gguf" --check-load
expect_json 'd["arch"]' qwen3

# --- bit-identical to llama.cpp's quantizer --------------------------------------------------
libdir=$(python3 "$ARCA_SOURCE/bench/llama_quantize.py" --find-lib "$ARCA_SOURCE/tests/node") &&
	[ -n "$libdir" ] || fail "llama.cpp's library is not in tests/node"
make_llm "$T/q" --arch qwen3 --hidden 256 --ffn 768 --layers 3 --dtype F32 --seed 5
run 0 "$ARCA" add "$T/q" --as acme/q -q
run 0 "$ARCA" convert acme/q --quant f32 --out "$T/q-f32.gguf" -q
for q in q8_0 q4_0 q4_k_m q5_k_m q6_k; do
	run 0 "$ARCA" convert acme/q --quant $q --out "$T/q-arca-$q.gguf" -q
	pure=--pure; case $q in *_m) pure= ;; esac   # plain types are --pure in arca
	run 0 python3 "$ARCA_SOURCE/bench/llama_quantize.py" "$libdir" "$T/q-f32.gguf" \
		"$T/q-llama-$q.gguf" $q --threads 2 $pure
	python3 "$ARCA_SOURCE/tests/fixtures/gguf_tensors.py" compare "$T/q-arca-$q.gguf" \
		"$T/q-llama-$q.gguf" >"$T/cmp.txt" || fail "$q differs from llama.cpp: $(cat "$T/cmp.txt")"
	llama_loads "$T/q-arca-$q.gguf" qwen3
done
pass
