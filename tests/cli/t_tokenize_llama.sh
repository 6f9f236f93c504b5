#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca tokenize against llama.cpp's tokenizer (node-llama-cpp's prebuilt CPU build) on the
# same GGUF: a tiny model carrying the real Qwen3 tokenizer, and a text of several scripts,
# special tokens, runs of spaces and tabs, digits and an emoji gives the same ids. Then the
# same vocabulary with MiniMax-M2's pre-tokenizer (tests/data/tokenizers/minimax_m2) on a
# tiny minimax-m2 model: llama.cpp's ids on that text and on the corpus without its lines
# holding combining marks (llama.cpp's rewrite of the o200k split leaves \p{M} out of its
# letter runs; there arca gives the ids of Hugging Face's tokenizers, test_tokenizer.c). Skipped
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
PRE="$ARCA_SOURCE/tests/data/tokenizers/minimax_m2/pre_tokenizer.json"
python3 - "$T/tok/tokenizer.json" "$PRE" <<'PY' ||
import json, sys
tok = json.load(open(sys.argv[1], encoding="utf-8"))
tok["pre_tokenizer"] = json.load(open(sys.argv[2], encoding="utf-8"))
json.dump(tok, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False)
PY
	fail "cannot write the MiniMax-M2 style tokenizer.json"
make_llm "$T/mm" --arch minimax-m2 --hidden 64 --ffn 128 --layers 1 --heads 4 --kv-heads 2 \
	--tokenizer-dir "$T/tok" --vocab 151936 --seed 9 --untied --fast-random
run 0 "$ARCA" add "$T/mm" --as acme/mm -q
run 0 "$ARCA" convert acme/mm --quant q8_0 --out "$T/mm.gguf" -q
CORPUS=$(python3 -c 'import sys, unicodedata
text = open(sys.argv[1], encoding="utf-8").read().split("\n")
print("\n".join(l for l in text if not any(unicodedata.category(c).startswith("M") for c in l)))
' "$ARCA_SOURCE/tests/data/tokenizer_corpus/corpus.txt")
for text in "$TEXT" "$CORPUS"; do
	run 0 "$ARCA" tokenize "$T/mm.gguf" --json -- "$text"
	ours=$(json 'd["ids"]')
	run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/mm.gguf" --tokenize "$text"
	[ "$(json 'd["ids"]')" = "$ours" ] || fail "minimax-m2: arca and llama.cpp differ"
done
pass
