#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Each curated family as its users get it, with its own tokenizer FORMAT and no
# tokenizer.json (make_tiny_model.py --tokenizer: the committed test vocabularies of
# tests/data/tokenizers): InternLM2/2.5 (internlm2) and InternLM3 (llama) with a SentencePiece
# BPE tokenizer.model, Yi (llama) with a SentencePiece unigram tokenizer.model, Kimi K2
# (deepseek2) with tiktoken.model + tokenizer_config.json, GLM-4-9B-chat (chatglm) with a
# tiktoken-format tokenizer.model. Each: arca add, convert (F32, Q8_0), Q8_0's greedy
# continuation equal to llama.cpp's on the same GGUF (llama_greedy.sh; F32 and F16 of each
# architecture are in t_run_llama*.sh, and the tokenizer does not change the forward pass;
# llama.cpp keeps K/V in F32 here, so that no near-tie of its F16 cache decides a step),
# arca run from text, and arca validate twice (recorded with the agreement to F32, then the
# same); GLM-4-9B-chat also runs in its chat form. Skipped without tests/node's
# node-llama-cpp.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/llama_greedy.sh"

need_node_module node-llama-cpp

# family NAME ARCH TOKENIZER SEED [GENERATOR OPTIONS]
family() {
	local name=$1 arch=$2 tok=$3 seed=$4
	shift 4
	NAME=$name QUANTS=q8_0 KV_F32=1 greedy_vs_llama "$arch" "$seed" --tokenizer "$tok" \
		--fast-random "$@"
	[ -f "$T/$name/tokenizer.json" ] && fail "$name: the checkpoint has a tokenizer.json"
	run 0 "$ARCA" convert "acme/$name" --quant f32 -q
	run 0 "$ARCA" convert "acme/$name" --quant q8_0 -q
	run 0 "$ARCA" run "acme/$name:q8_0" -p "Hello 世界, 1234" -n 4 --ignore-eos --json
	expect_json 'len(d["prompt_ids"]) > 3 and len(d["tokens"]) == 4' True
	run 0 "$ARCA" validate "acme/$name:q8_0" --json
	expect_json 'd["status"]' recorded
	expect_json 'd["metrics"]["agreement"]["source"]' f32
	run 0 "$ARCA" validate "acme/$name:q8_0" --json
	expect_json 'd["status"]' same
}

run 0 "$ARCA" init
family internlm2 internlm2 spm-bpe 21
family internlm3 internlm3 spm-bpe 22 --untied
family yi llama spm-unigram 22
family kimi deepseek2 tiktoken 21
family glm-4-9b-chat chatglm chatglm4 21
# and its chat form: [gMASK]<sop><|user|>\n…<|assistant|> (the specials after the 16384 ranks)
run 0 "$ARCA" run acme/glm-4-9b-chat:q8_0 --chat -p "hi" -n 2 --ignore-eos --json
expect_json 'd["prompt_ids"][:3] + d["prompt_ids"][-1:]' "[16386, 16388, 16391, 16392]"
pass
