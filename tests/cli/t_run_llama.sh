#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca run against llama.cpp (node-llama-cpp's prebuilt CPU build) on the same GGUF: for tiny
# Qwen2, Qwen3, LLaMA (untied embeddings), Qwen3-MoE, DeepSeek-V3, GLM-4, InternLM2, InternLM3,
# GLM-4.5 (glm4moe), MiniMax-M2 and ChatGLM (GLM-4-9B) checkpoints in
# F32, F16 and Q8_0, arca's greedy continuation equals llama.cpp's up to the first near-tie,
# and at least 4 steps come before it. Skipped without tests/node's node-llama-cpp
# (t_run.sh checks arca run against the float64 reference without it).
. "$(dirname "$0")/lib.sh"

need_node_module node-llama-cpp

# same_greedy OURS THEIRS: the continuations agree up to the first near-tie (top two of
# arca's logits closer than 0.005: llama.cpp keeps K/V in F16, so such a step may go either
# way) and at least 4 steps come before it.
same_greedy() {
	python3 - "$1" "$2" <<'PY' || fail "greedy continuations differ from llama.cpp's"
import json, sys
ours, theirs = json.load(open(sys.argv[1]))["tokens"], json.load(open(sys.argv[2]))["tokens"]
for i, (a, b) in enumerate(zip(ours, theirs)):
    top = a["top"]
    if top[0][1] - top[1][1] < 0.005:
        break
    if a["id"] != b:
        sys.exit("step %d: arca %d, llama.cpp %d (arca %s, llama.cpp %s)"
                 % (i, a["id"], b, [t["id"] for t in ours], theirs))
if i < 4:
    sys.exit("only %d steps before a near-tie: pick another prompt" % i)
PY
}

run 0 "$ARCA" init
PROMPT=3,17,101,5,250,42,9,77
for arch in qwen2 qwen3 llama qwen3moe deepseek2 glm4 internlm2 internlm3 glm4moe minimax-m2 \
	chatglm; do
	# (llama.cpp's minimax-m2 needs an output matrix of its own)
	untied=; case $arch in llama|internlm3|minimax-m2) untied=--untied ;; esac
	# (seed 21 puts a near-tie in glm4's Q8_0 continuation at step 2, in chatglm's F32 one)
	seed=21; case $arch in glm4|chatglm) seed=22 ;; esac
	make_llm "$T/$arch" --arch "$arch" --dtype F32 --hidden 128 --ffn 320 --heads 4 --kv-heads 2 \
		--layers 3 --seed $seed --std-scale 5 $untied
	run 0 "$ARCA" add "$T/$arch" --as "acme/$arch" -q
	for q in f32 f16 q8_0; do
		STEP="$arch $q vs llama.cpp"
		run 0 "$ARCA" convert "acme/$arch" --quant $q --out "$T/$arch-$q.gguf" -q
		run 0 "$ARCA" run "$T/$arch-$q.gguf" --prompt-ids $PROMPT -n 12 --ignore-eos --json \
			--top-logits 2
		cp "$OUT" "$T/ours.json"
		# MoE routing is discontinuous: llama.cpp's default F16 KV cache can flip a near-tie
		# between experts that no output logit shows, so the MoE model compares with an F32
		# cache on both sides
		kv=; case $arch in qwen3moe|deepseek2|glm4moe|minimax-m2) kv=--kv-f32 ;; esac
		run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/$arch-$q.gguf" --prompt-ids $PROMPT \
			-n 12 --ignore-eos --threads 2 $kv
		cp "$OUT" "$T/theirs.json"
		same_greedy "$T/ours.json" "$T/theirs.json"
	done
done
pass
