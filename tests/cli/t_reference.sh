#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The float64 reference (tests/reference/forward.py) agrees with llama.cpp, so that both it and
# arca's converter are trusted before arca's runtime is compared with them. For tiny F32
# checkpoints of qwen2, qwen3, llama (untied, so the Q/K row permutation matters), qwen3moe,
# deepseek2, glm4, internlm2 (fused grouped wqkv, split and permuted), internlm3 (as llama),
# glm4moe (GLM-4.5: sigmoid routing, shared expert, a dense first layer, partial NEOX RoPE,
# per-head q/k norms, an MTP layer that must be dropped), minimax-m2 (q/k norms over all heads,
# partial RoPE, sigmoid routing) and chatglm (GLM-4-9B: fused q/k/v with bias, RoPE on half of
# each head), and variants that reach other paths of both the converter and the
# reference (BF16, F16 in shards, FP8 blocks; YaRN and linear RoPE scaling; DeepSeek-V3 YaRN mscale
# with group-limited routing; DeepSeek-V2 softmax routing): `arca convert --quant f32`, run the
# GGUF through llama.cpp (node-llama-cpp, K/V cache in F32) greedily for 8 tokens, and check with
# compare.py that every step's top-5 log-probability differences equal the reference's logit
# differences within 1e-4 of the row's largest |logit| (here < 3e-4 absolute) and that the
# continuation is the reference's greedy one. Then compare.py must refuse logits of another
# model, and its array and model-folder modes must accept the reference's own rows.
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import numpy" 2>/dev/null ||
	fail "the float64 reference needs /usr/bin/python3 with numpy (scripts/setup-debian.sh)"
need_node_module node-llama-cpp
REF="$ARCA_SOURCE/tests/reference"
LLAMA_RUN="$ARCA_SOURCE/tests/node/llama_run.mjs"
PROMPT=3,17,101,5,250,42,9,77
N=8

run 0 "$ARCA" init
# name arch dtype config.json-changes (a Python dict, no spaces; - for none) generator options
# (seeds picked so that no step is a near-tie)
while read -r name arch dtype patch opts; do
	STEP="$name: generate"
	make_llm "$T/$name" --arch "$arch" --dtype "$dtype" --layers 2 --heads 4 --kv-heads 2 \
		--std-scale 5 $opts
	if [ "$patch" != - ]; then
		/usr/bin/python3 -c 'import json, sys
c = json.load(open(sys.argv[1])); c.update(eval(sys.argv[2])); json.dump(c, open(sys.argv[1], "w"))' \
			"$T/$name/config.json" "$patch" || fail "could not change config.json"
	fi
	run 0 "$ARCA" add "$T/$name" --as "acme/$name" -q
	run 0 "$ARCA" convert "acme/$name" --quant f32 --out "$T/$name.gguf" -q

	STEP="$name: llama.cpp"
	run 0 node "$LLAMA_RUN" "$T/$name.gguf" --prompt-ids $PROMPT -n $N --ignore-eos --threads 1 \
		--top 5 --top-every-step --kv-f32
	cp "$OUT" "$T/$name-llama.json"

	STEP="$name: reference"
	run 0 /usr/bin/python3 "$REF/forward.py" "$T/$name" --ids $PROMPT --generate $N --top 10
	cp "$OUT" "$T/$name-ref.json"
	expect_json 'len(d["steps"]) == '$N' and d["positions"][0]["pos"] == 7' True
	# every reference step has a clear winner, so the greedy continuations must be equal
	expect_json 'min(s["margin"] for s in d["steps"]) > 1e-3' True

	STEP="$name: reference vs llama.cpp"
	run 0 /usr/bin/python3 "$REF/compare.py" "$T/$name-ref.json" "$T/$name-llama.json" --rtol 1e-4
	expect_stdout "greedy agrees on $N of $N steps"
	echo "  $name: $(cat "$OUT")"
done <<'EOF'
qwen2 qwen2 F32 - --hidden 128 --ffn 320 --seed 21
qwen3 qwen3 F32 - --hidden 64 --seed 21
llama llama F32 - --hidden 128 --ffn 320 --seed 21 --untied
qwen3moe qwen3moe F32 - --hidden 64 --seed 3
deepseek2 deepseek2 F32 - --hidden 64 --seed 3
glm4 glm4 F32 - --hidden 64 --seed 3
qwen3-bf16 qwen3 BF16 - --hidden 128 --ffn 256 --seed 5
qwen3-f16-shards qwen3 F16 - --hidden 64 --seed 4 --shards 3
deepseek2-fp8 deepseek2 FP8 - --hidden 64 --seed 3
qwen2-yarn qwen2 F32 {"rope_scaling":{"type":"yarn","factor":4.0,"original_max_position_embeddings":1024}} --hidden 128 --ffn 320 --seed 21
llama-linear llama F32 {"rope_scaling":{"type":"linear","factor":2.0}} --hidden 128 --ffn 320 --seed 21 --untied
llama-llama3 llama F32 {"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":64}} --hidden 128 --ffn 320 --seed 21 --untied
deepseek2-yarn-groups deepseek2 F32 {"rope_scaling":{"type":"yarn","factor":40.0,"original_max_position_embeddings":64,"mscale":1.0,"mscale_all_dim":1.0},"n_group":4,"topk_group":2,"num_experts_per_tok":3} --hidden 64 --seed 3 --experts 8
deepseek2-v2 deepseek2 F32 {"model_type":"deepseek_v2","architectures":["DeepseekV2ForCausalLM"],"scoring_func":"softmax","topk_method":"greedy","norm_topk_prob":False,"routed_scaling_factor":1.5} --hidden 64 --seed 3
internlm2 internlm2 F32 - --hidden 64 --seed 3
internlm3 internlm3 F32 - --hidden 64 --seed 3 --untied
glm4moe glm4moe F32 - --hidden 64 --seed 3
minimax-m2 minimax-m2 F32 - --hidden 64 --seed 3 --untied
chatglm chatglm F32 - --hidden 64 --seed 4
EOF

# compare.py is not vacuous: another model's logits fail
STEP="compare.py refuses another model's logits"
run 1 /usr/bin/python3 "$REF/compare.py" "$T/qwen3-ref.json" "$T/qwen2-llama.json" --rtol 1e-4
expect_stdout "FAIL"

# its other modes: the model folder (teacher forcing), and full logit rows in .npy / .f32
STEP="compare.py modes"
run 0 /usr/bin/python3 "$REF/compare.py" "$T/llama" "$T/llama-llama.json" --rtol 1e-4
expect_stdout "greedy agrees on $N of $N steps"
/usr/bin/python3 - "$REF" "$T/llama" "$T/llama-ref.json" "$T" <<'PY' || fail "could not write logit arrays"
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import forward
ref = json.load(open(sys.argv[3]))
ids = ref["prompt_ids"] + ref["tokens"][:-1]
rows = forward.logits(sys.argv[2], ids)[len(ref["prompt_ids"]) - 1:].astype(np.float32)
np.save(sys.argv[4] + "/steps.npy", rows)
rows.tofile(sys.argv[4] + "/steps.f32")
rows[2, ref["steps"][2]["top"][3][0]] += 0.01   # one of the reference's top 10
np.save(sys.argv[4] + "/bad.npy", rows)
PY
run 0 /usr/bin/python3 "$REF/compare.py" "$T/llama-ref.json" "$T/steps.npy"
expect_stdout "greedy agrees on $N of $N steps"
run 0 /usr/bin/python3 "$REF/compare.py" "$T/llama-ref.json" "$T/steps.f32"
expect_stdout "greedy agrees on $N of $N steps"
run 1 /usr/bin/python3 "$REF/compare.py" "$T/llama-ref.json" "$T/bad.npy"
expect_stdout "FAIL: step 2, token"
pass
