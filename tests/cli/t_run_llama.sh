#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca run against llama.cpp (node-llama-cpp's prebuilt CPU build) on the same GGUF: for tiny
# Qwen2, Qwen3, LLaMA (untied embeddings), Qwen3-MoE, DeepSeek-V3 and GLM-4 checkpoints in
# F32, F16 and Q8_0, arca's greedy continuation equals llama.cpp's up to the first near-tie,
# and at least 4 steps come before it (llama_greedy.sh). Skipped without tests/node's
# node-llama-cpp (t_run.sh checks arca run against the float64 reference without it).
# t_run_llama_families.sh does the same for InternLM2/3, GLM-4.5, MiniMax-M2 and ChatGLM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/llama_greedy.sh"

need_node_module node-llama-cpp

run 0 "$ARCA" init
greedy_vs_llama qwen2 21
greedy_vs_llama qwen3 21
greedy_vs_llama llama 21 --untied
greedy_vs_llama qwen3moe 21
greedy_vs_llama deepseek2 21
greedy_vs_llama glm4 22   # (seed 21 puts a near-tie in its Q8_0 continuation at step 2)
pass
