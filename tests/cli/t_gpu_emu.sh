#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The GPU backend run over the CPU emulation of CUDA (runtime/cuda/emu.h), so its kernels
# and forward pass are checked on every machine: for a dense model with biases (qwen2), a
# mixture of experts (qwen3moe) and latent attention with shared experts (deepseek2), in
# Q8_0 and Q4_K_M, the logits of a prompt and of each greedy step agree with the CPU path
# (gpu_check.sh), also with only some layers on the GPU (--gpu-layers), and against the
# same GGUF on the CPU for F16, and a decode step whose keys are split among blocks; a
# prompt's products through (emulated) cuBLAS for every weight type, and without it; then the command line: run/bench/validate --gpu, a
# validation fingerprint recorded on the CPU matched on the GPU, no host KV cache for the GPU's
# layers, the errors for a cache
# type the GPU does not keep, too little device memory (naming the layers that fit) and
# a weight type it does not read or rows it cannot step through. t_gpu_emu_matrix.sh covers
# every architecture and type.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gpu_check.sh"
: "${ARCA_GPU_COMPARE_EMU:?the emulated gpu_compare (tests/CMakeLists.txt)}"
COMPARE=$ARCA_GPU_COMPARE_EMU
EMU=$ARCA_GPU_EMU_CLI

# Under the sanitizers (scripts/test.sh sets ARCA_TEST_SANITIZED) every path runs once:
# Q8_0 alone (the K-quants differ only in blocks.cuh's decoding), one long prompt, one GPU
# validation — the emulation is several times slower there.
quant="q8_0 q4_k_m"
[ -n "${ARCA_TEST_SANITIZED:-}" ] && quant=q8_0
run 0 "$ARCA" init
TYPES="f32 f16 bf16 $quant" gpu_models qwen2 21
TYPES="f32 $quant" gpu_models qwen3moe 22
TYPES="f32 f16 $quant" gpu_models deepseek2 21
for arch in qwen2 qwen3moe deepseek2; do
	for q in $quant; do
		gpu_compare $arch $q
	done
	# the layers after the first on the CPU: F32, where the CPU path is exact too (its
	# quantized products round activations to 8 bits, which would hide the split's error)
	gpu_compare $arch f32 --gpu-layers 1
	expect_json 'd["gpu_layers"]' 1
done
gpu_compare qwen2 f16 --reference same
# a decode step over 160 cached positions in a 2048-token context: the keys split among
# the blocks of each head (two of sixteen hold keys; the default 256-token context splits
# in two) and merged (flash-decoding). DeepSeek in F16: over many random tokens a
# quantized MoE variant meets router near-ties, where the half-precision prompt tiles may
# choose another expert than the CPU, and that one position then differs wholesale
# (gpu_compare's positions_over shows it).
gpu_compare qwen2 q8_0 --ctx 2048 --random-prompt 160
# a prompt after 37 cached positions: the prompt kernel's query blocks (16 queries) and key
# steps (32) start mid-way
gpu_compare qwen2 f16 --ctx 512 --random-prompt 100 --prefix 37
[ -n "${ARCA_TEST_SANITIZED:-}" ] || gpu_compare deepseek2 f16 --ctx 2048 --random-prompt 160
[ "$(gpu_steps_total)" -ge 30 ] || fail "too few greedy steps compared: $(gpu_steps_total)"

# A prompt's dense products go through cuBLAS (runtime/cuda/gemm.cu; here the emulation's
# cublasGemmEx) from 4 tokens for F32 weights, 16 for F16/BF16, 64 for quantized ones: the
# long prompts above took it. ARCA_GPU_BLAS=2 sends the short ones there too, for every
# type: F32 as float products, F16 and BF16 read in place with converted activations,
# quantized rows decoded to half in chunks (the emulation's chunk is 16,384 weights, so a
# 256-wide matrix takes several). ARCA_GPU_BLAS=off leaves them to the tile kernels.
gpu_compare qwen2 q8_0 --random-prompt 80
expect_json 'd["kernels"]' "cuda-emulator+cublas (arca CPU emulation of CUDA)"
expect_json 'd["products"]' "emulated cuBLAS"
for q in f32 f16 bf16 $quant; do
	ARCA_GPU_BLAS=2 gpu_compare qwen2 "$q"
done
ARCA_GPU_BLAS=2 gpu_compare qwen2 f16 --reference same
ARCA_GPU_BLAS=2 gpu_compare qwen3moe q8_0
ARCA_GPU_BLAS=off gpu_compare qwen2 q8_0 --random-prompt 80
expect_json 'd["kernels"]' "cuda-emulator (arca CPU emulation of CUDA)"
expect_json 'd["products"]' "tile kernels (cuBLAS not used: ARCA_GPU_BLAS=off)"
run 1 env ARCA_GPU_BLAS=1 "$EMU" run "$T/qwen2-q8_0.gguf" --gpu --prompt-ids 3 -n 1
expect_stderr "ARCA_GPU_BLAS=1: give off, or the fewest tokens a product takes to cuBLAS"

# the command line over the emulated GPU
M=$T/qwen2-q8_0.gguf
STEP="arca run --gpu"
run 0 "$EMU" run "$M" --gpu --prompt-ids 3,17,101,5 -n 6 --ignore-eos --json
expect_json 'd["device"]' "arca CPU emulation of CUDA (3 of 3 layers)"
expect_json 'd["kernels"]' "cuda-emulator+cublas (arca CPU emulation of CUDA)"
gpu_tokens=$(json '[t["id"] for t in d["tokens"]]')
run 0 "$ARCA" run "$M" --cache-type f16 --prompt-ids 3,17,101,5 -n 6 --ignore-eos --json
[ "$(json '[t["id"] for t in d["tokens"]]')" = "$gpu_tokens" ] ||
	fail "GPU tokens $gpu_tokens differ from the CPU's"
run 0 "$EMU" run "$M" --device cuda:0 --gpu-layers 2 --prompt-ids 3,17,101,5 -n 6 --ignore-eos --json
[ "$(json '[t["id"] for t in d["tokens"]]')" = "$gpu_tokens" ] || fail "--gpu-layers 2 tokens differ"
run 0 "$EMU" bench "$M" --gpu -p 16 -n 4 -r 1 --json
expect_json 'd["gpu_layers"]' 3
expect_json 'd["cache_type"]' f16
expect_json 'd["device"]' "arca CPU emulation of CUDA"
expect_json 'd["gpu_products"]' "emulated cuBLAS"
run 0 "$EMU" bench "$M" --gpu -p 16 -n 4 -r 1
expect_stdout "on arca CPU emulation of CUDA (3 of 3 layers)"
expect_stdout "a prompt's products on the GPU: emulated cuBLAS"
# the host keeps a KV cache only for the layers the CPU runs
expect_stdout "0 B in host memory"
run 0 "$ARCA" bench "$M" -p 16 -n 4 -r 1 --json
cpu_kv=$(json 'd["kv_host_bytes"]')
run 0 "$EMU" bench "$M" --gpu --gpu-layers 2 -p 16 -n 4 -r 1 --json
expect_json 'd["kv_host_bytes"] * 3' "$cpu_kv"

# validate: fingerprints made on a GPU are kept apart from the CPU's (its products round
# otherwise, so near-ties may go the other way) and match the next GPU run
run 0 "$ARCA" validate acme/qwen2:q8_0 --cache-type f16 --no-source
expect_stdout "prompt set arca-validate-v1+kv-f16,"
run 0 "$EMU" validate acme/qwen2:q8_0 --gpu --no-source
expect_stdout "prompt set arca-validate-v1+kv-f16+gpu,"
expect_stdout "fingerprint recorded"
if [ -z "${ARCA_TEST_SANITIZED:-}" ]; then
	run 0 "$EMU" validate acme/qwen2:q8_0 --gpu --no-source --json
	expect_json 'd["status"]' same
fi

# errors
run 2 "$EMU" run "$M" --gpu --cache-type q8_0 --prompt-ids 3 -n 1
expect_stderr "on a GPU the KV cache is f16"
run 2 "$EMU" run "$M" --gpu-layers 1 --prompt-ids 3 -n 1
expect_stderr "--gpu-layers needs a GPU"
run 2 "$EMU" run "$M" --gpu --device cuda:0 --prompt-ids 3 -n 1
expect_stderr "not both"
run 1 "$EMU" run "$M" --device cuda:3 --prompt-ids 3 -n 1
expect_stderr "no GPU cuda:3"
run 1 env ARCA_GPU_EMU_CC=7.5 "$EMU" run "$M" --gpu --prompt-ids 3 -n 1
expect_stderr "compute capability 7.5; arca's GPU kernels need 8.0 or newer"
run 1 env ARCA_GPU_EMU_MEMORY=1500000 "$EMU" run "$M" --gpu --prompt-ids 3 -n 1
expect_stderr "layers fit (--gpu-layers"
run 0 "$ARCA" convert acme/qwen2 --quant q3_k --out "$T/q3.gguf" -q
run 1 "$EMU" run "$T/q3.gguf" --gpu --prompt-ids 3 -n 1
expect_stderr "the GPU backend does not read Q3_K weights"
# rows the kernels cannot step through eight at a time (hidden 68): refused, not a fault
make_llm "$T/odd" --arch qwen2 --dtype F32 --hidden 68 --ffn 136 --heads 2 --kv-heads 2 \
	--layers 1 --seed 5
run 0 "$ARCA" add "$T/odd" --as acme/odd -q
run 0 "$ARCA" convert acme/odd --quant f16 --out "$T/odd.gguf" -q
run 0 "$ARCA" run "$T/odd.gguf" --prompt-ids 3,4 -n 2
run 1 "$EMU" run "$T/odd.gguf" --gpu --prompt-ids 3,4 -n 2
expect_stderr "layer 0: rows of 68 F16 weights: the GPU backend reads rows in steps of 8"
# the peer's script for the GPU machine (scripts/gpu-peer.sh): its help, and clear errors
# here, where nothing is staged for it
run 0 "$ARCA_SOURCE/scripts/gpu-peer.sh" --help
expect_stdout "llama-bench built with CUDA"
run 2 "$ARCA_SOURCE/scripts/gpu-peer.sh" --bogus
expect_stderr "gpu-peer: takes no arguments"
run 1 env STAGE="$T/no-peer" "$ARCA_SOURCE/scripts/gpu-peer.sh"
expect_stderr "gpu-peer: no $T/no-peer/peer.tar.xz"
if [ -z "${ARCA_GPU_COMPARE:-}" ]; then
	run 1 "$ARCA" run "$M" --gpu --prompt-ids 3 -n 1
	expect_stderr "built without the CUDA backend"
fi
pass
