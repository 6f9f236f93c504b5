#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca run and arca bench, checked against software not written here: for tiny Qwen2, Qwen3,
# LLaMA, Qwen3-MoE, DeepSeek-V3 (MLA, sigmoid routing with a correction bias, a shared expert,
# a leading dense layer) and GLM-4 checkpoints (F32 weights, one with untied embeddings), arca's F32
# logits equal the float64 reference (tests/reference/forward.py, from the original
# safetensors) within 1e-4 relative (t_run_llama.sh compares arca's greedy continuations with
# llama.cpp's). Then bench's report and the refusals (tokens outside the vocabulary, a prompt
# longer than the context, bad ids).
# RoPE scaling (llama3's rope_freqs, linear, YaRN; DeepSeek's YaRN with group-limited routing)
# and DeepSeek-V2's softmax routing without a q bottleneck against the reference; and the
# families whose tensors or routing differ: InternLM2, InternLM3, GLM-4.5 (glm4moe), MiniMax-M2,
# ChatGLM (GLM-4-9B). MiniMax-Text-01 is refused by name.
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import numpy" 2>/dev/null ||
	fail "the float64 reference needs /usr/bin/python3 with numpy (scripts/setup-debian.sh)"
REF="$ARCA_SOURCE/tests/reference"

run 0 "$ARCA" init
PROMPT=3,17,101,5,250,42,9,77
for arch in qwen2 qwen3 llama qwen3moe deepseek2 glm4; do
	untied=; [ $arch = llama ] && untied=--untied
	# (seed 21 puts a near-tie in glm4's Q8_0 continuation at step 2)
	seed=21; [ $arch = glm4 ] && seed=22
	make_llm "$T/$arch" --arch "$arch" --dtype F32 --hidden 128 --ffn 320 --heads 4 --kv-heads 2 \
		--layers 3 --seed $seed --std-scale 5 $untied
	run 0 "$ARCA" add "$T/$arch" --as "acme/$arch" -q
	for q in f32 f16 q8_0; do
		run 0 "$ARCA" convert "acme/$arch" --quant $q -q
	done
	# (1) the float64 reference
	STEP="$arch f32 vs the float64 reference"
	run 0 "$ARCA" run "acme/$arch:f32" --prompt-ids $PROMPT -n 8 --ignore-eos --json --top-logits 8 \
		--cache-type f32
	cp "$OUT" "$T/run-$arch.json"
	run 0 /usr/bin/python3 "$REF/compare.py" "$T/$arch" "$T/run-$arch.json" --rtol 1e-4
	expect_stdout "max relative logit error"
done

# RoPE scaling and routing variants match the reference
while read -r name arch patch opts; do
	STEP="$name vs the float64 reference"
	make_llm "$T/$name" --arch "$arch" --dtype F32 --seed 21 --std-scale 5 $opts
	python3 - "$T/$name/config.json" "$patch" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.update(json.loads(sys.argv[2]))
json.dump(c, open(sys.argv[1], "w"))
PY
	run 0 "$ARCA" add "$T/$name" --as "acme/$name" -q
	run 0 "$ARCA" convert "acme/$name" --quant f32 -q
	run 0 "$ARCA" run "acme/$name:f32" --prompt-ids $PROMPT -n 8 --ignore-eos --json \
		--top-logits 8 --cache-type f32
	cp "$OUT" "$T/$name.json"
	run 0 /usr/bin/python3 "$REF/compare.py" "$T/$name" "$T/$name.json" --rtol 1e-4
	expect_stdout "max relative logit error"
done <<'EOF'
rs-llama3 llama {"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":64}} --hidden 128 --ffn 320 --untied
rs-linear llama {"rope_scaling":{"type":"linear","factor":2.0}} --hidden 128 --ffn 320 --untied
rs-yarn qwen2 {"rope_scaling":{"type":"yarn","factor":4.0,"original_max_position_embeddings":16}} --hidden 128 --ffn 320
ds-yarn-groups deepseek2 {"rope_scaling":{"type":"yarn","factor":40.0,"original_max_position_embeddings":64,"mscale":1.0,"mscale_all_dim":1.0},"n_group":4,"topk_group":2,"num_experts_per_tok":3} --hidden 64 --experts 8
ds-v2-softmax deepseek2 {"model_type":"deepseek_v2","architectures":["DeepseekV2ForCausalLM"],"scoring_func":"softmax","topk_method":"greedy","norm_topk_prob":false,"routed_scaling_factor":1.5} --hidden 64 --no-q-lora
internlm2 internlm2 {} --hidden 64
internlm3 internlm3 {} --hidden 64 --untied
glm4moe glm4moe {} --hidden 64
glm4moe-groups glm4moe {"n_group":2,"topk_group":1} --hidden 64
glm4moe-air glm4moe {} --hidden 64 --no-qk-norm
minimax-m2 minimax-m2 {} --hidden 64 --untied
chatglm chatglm {"rope_ratio":2} --hidden 64
EOF

# glm4moe: the multi-token-prediction layer (index num_hidden_layers) is not in the GGUF
STEP="glm4moe drops its MTP layer"
run 0 "$ARCA" convert acme/glm4moe --quant f32 --out "$T/glm4moe.gguf" -q
run 0 "$ARCA" inspect "$T/glm4moe.gguf"
expect_stdout "glm4moe.block_count                          u32     2"
expect_stdout "blk.1.ffn_gate_exps.weight"
! grep -q "blk\.2\." "$OUT" || fail "the MTP layer reached the GGUF"

# lightning attention is refused by name, with the reason
STEP="MiniMax-Text-01 is refused"
make_llm "$T/mm01" --arch qwen2 --dtype F32 --seed 1
python3 - "$T/mm01/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.update({"architectures": ["MiniMaxText01ForCausalLM"], "model_type": "minimax"})
json.dump(c, open(sys.argv[1], "w"))
PY
run 0 "$ARCA" add "$T/mm01" --as acme/mm01 -q
run 1 "$ARCA" convert acme/mm01 --quant f32 -q
expect_stderr "MiniMaxText01ForCausalLM cannot be converted: MiniMax-Text-01 mixes lightning"

# bench reports both speeds and the bandwidth they imply
STEP="bench"
run 0 "$ARCA" bench acme/qwen3:q8_0 -p 16 -n 8 -r 1 --json
expect_json 'd["prefill_tps"]["mean"] > 0 and d["decode_tps"]["mean"] > 0' True
expect_json 'd["weight_bytes"] > 0 and d["peak_rss_mib"] > 0' True
run 0 "$ARCA" bench acme/qwen3 -p 8 -n 0 -r 1
expect_stdout "prefill"
expect_stdout "acme/qwen3@"

# refusals
STEP="refusals"
run 1 "$ARCA" run acme/qwen3:f32 --prompt-ids 1,2,999999
expect_stderr "outside the vocabulary"
run 1 "$ARCA" run acme/qwen3:f32 --prompt-ids 1,2,3 -n 10 --ctx 8
expect_stderr "do not fit the context of 8"
run 2 "$ARCA" run acme/qwen3:f32 --prompt-ids 1,,2
expect_stderr "comma-separated token ids"
run 2 "$ARCA" run acme/qwen3:f32
expect_stderr "--prompt-ids"
run 4 "$ARCA" run acme/qwen3:q4_0 --prompt-ids 1
expect_stderr "has no variant 'q4_0'"
run 0 "$ARCA" convert acme/qwen3 --quant iq4_nl -q
run 1 "$ARCA" run acme/qwen3:iq4_nl --prompt-ids 1
expect_stderr "is IQ4_NL"
pass
