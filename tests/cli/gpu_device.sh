#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CUDA backend on a real GPU (registered by tests/CMakeLists.txt only when the build has
# it and `nvidia-smi -L` found a GPU when it was configured): every architecture in F32,
# F16, BF16, Q8_0 and Q4_K_M against the CPU path with gpu_check.sh's tolerances, a split
# with --gpu-layers, and arca run --gpu giving the CPU's greedy tokens for F32.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gpu_check.sh"
: "${ARCA_GPU_COMPARE:?gpu_compare built against CUDA (tests/CMakeLists.txt)}"
COMPARE=$ARCA_GPU_COMPARE

run 0 "$ARCA" init
for arch in qwen2 qwen3 llama qwen3moe deepseek2 glm4 glm4moe minimax-m2 chatglm internlm2; do
	gpu_models $arch 21
	for q in f32 f16 bf16 q8_0 q4_k_m; do
		gpu_compare $arch $q
	done
	gpu_compare $arch f32 --gpu-layers 1
done
[ "$(gpu_steps_total)" -ge 300 ] || fail "too few greedy steps compared: $(gpu_steps_total)"
M=$T/qwen2-f32.gguf
run 0 "$ARCA" run "$M" --gpu --prompt-ids 3,17,101,5 -n 8 --ignore-eos --json
gpu_tokens=$(json '[t["id"] for t in d["tokens"]]')
run 0 "$ARCA" run "$M" --cache-type f16 --prompt-ids 3,17,101,5 -n 8 --ignore-eos --json
[ "$(json '[t["id"] for t in d["tokens"]]')" = "$gpu_tokens" ] ||
	fail "GPU tokens $gpu_tokens differ from the CPU's"
pass
