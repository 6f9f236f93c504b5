#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca run against llama.cpp on the same GGUF (as t_run_llama.sh, llama_greedy.sh) for the
# families whose tensors or routing differ from t_run_llama.sh's: InternLM2 (grouped wqkv
# split), InternLM3 (as llama, untied), GLM-4.5 (glm4moe: sigmoid routing, shared expert,
# partial NEOX RoPE, an MTP layer dropped), MiniMax-M2 (whole-q/k norms; llama.cpp needs its
# own output matrix, so untied) and ChatGLM (GLM-4-9B: fused q/k/v). F32, F16 and Q8_0 each.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/llama_greedy.sh"

need_node_module node-llama-cpp

run 0 "$ARCA" init
greedy_vs_llama internlm2 21
greedy_vs_llama internlm3 21 --untied
greedy_vs_llama glm4moe 21
greedy_vs_llama minimax-m2 21 --untied
greedy_vs_llama chatglm 22   # (seed 21 puts a near-tie in its F32 continuation at step 2)
pass
