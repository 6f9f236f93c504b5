#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca tokenize against llama.cpp's tokenizer (node-llama-cpp's prebuilt CPU build) on the
# same GGUF: a tiny model carrying the real Qwen3 tokenizer, and a text of several scripts,
# special tokens, runs of spaces and tabs, digits and an emoji gives the same ids. Skipped
# without tests/node's node-llama-cpp (t_validate.sh checks tokenize without it).
. "$(dirname "$0")/lib.sh"

need_node_module node-llama-cpp
mkdir -p "$T/tok"
for f in tokenizer.json tokenizer_config.json; do
	zstd -dqf "$ARCA_SOURCE/tests/data/tokenizers/qwen3/$f.zst" -o "$T/tok/$f" ||
		fail "cannot decompress $f (the zstd program: scripts/setup-debian.sh)"
done
run 0 "$ARCA" init
make_llm "$T/m" --arch qwen3 --hidden 128 --ffn 256 --layers 2 --heads 4 --kv-heads 2 \
	--tokenizer-dir "$T/tok" --vocab 151936 --seed 9 --std-scale 5
run 0 "$ARCA" add "$T/m" --as acme/m -q
run 0 "$ARCA" convert acme/m --quant q8_0 --out "$T/m-q8_0.gguf" -q

TEXT=$'Hello 世界! <|im_start|>user\n  tabs\tand  spaces 12345 😀'
run 0 "$ARCA" tokenize acme/m:q8_0 --json -- "$TEXT"
ours=$(json 'd["ids"]')
run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/m-q8_0.gguf" --tokenize "$TEXT"
[ "$(json 'd["ids"]')" = "$ours" ] || fail "tokenize: arca $ours, llama.cpp $(json 'd["ids"]')"
pass
