#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every architecture the CPU path runs, in F32, F16, BF16, Q8_0 and Q4_K_M, through the GPU
# backend over the CPU emulation of CUDA against the CPU path (gpu_check.sh's tolerances):
# qwen2, qwen3, llama, qwen3moe, deepseek2, glm4, glm4moe, minimax-m2, chatglm, internlm2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gpu_check.sh"
: "${ARCA_GPU_COMPARE_EMU:?the emulated gpu_compare (tests/CMakeLists.txt)}"
COMPARE=$ARCA_GPU_COMPARE_EMU

run 0 "$ARCA" init
for arch in qwen2 qwen3 llama qwen3moe deepseek2 glm4 glm4moe minimax-m2 chatglm internlm2; do
	LAYERS=2 gpu_models $arch 21
	for q in f32 f16 bf16 q8_0 q4_k_m; do
		gpu_compare $arch $q
	done
done
[ "$(gpu_steps_total)" -ge 200 ] || fail "too few greedy steps compared: $(gpu_steps_total)"
pass
