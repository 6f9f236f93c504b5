#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tiktoken.model checkpoints (Kimi K2's tokenizer format) through arca convert and arca
# tokenize: a tiny deepseek2 model whose only tokenizer is tiktoken.model +
# tokenizer_config.json (the vendored test vocabulary, tests/data/tokenizers/tiktoken)
# converts to a `gpt2` vocabulary with pre-tokenizer "kimi-k2", llama.cpp loads it, and
# arca's ids equal llama.cpp's on a text of several scripts. The same for GLM-4-9B-chat's
# format (a tiktoken-format tokenizer.model, ChatGLM4Tokenizer; pre-tokenizer "chatglm-bpe").
# Skipped without tests/node's node-llama-cpp.
. "$(dirname "$0")/lib.sh"

need_node_module node-llama-cpp
TIK="$ARCA_SOURCE/tests/data/tokenizers/tiktoken"
run 0 "$ARCA" init
make_llm "$T/k" --arch deepseek2 --no-tokenizer --vocab 16448 --layers 2 --seed 6
zstd -dqf "$TIK/tiktoken.model.zst" -o "$T/k/tiktoken.model" ||
	fail "cannot decompress tiktoken.model (the zstd program: scripts/setup-debian.sh)"
cp "$TIK/tokenizer_config.json" "$T/k/"
run 0 "$ARCA" add "$T/k" --as acme/k -q
run 0 "$ARCA" convert acme/k --quant q8_0 --out "$T/k.gguf" -q
run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/k.gguf" --check-load

TEXT=$'Hello 世界。\n你好，Kimi! <|im_end|>  tabs\tand  spaces 12345 😀 naïve CAFÉ\'s'
run 0 "$ARCA" tokenize acme/k:q8_0 --json -- "$TEXT"
ours=$(json 'd["ids"]')
[ "$(json "len(d[\"ids\"])")" -gt 20 ] || fail "too few ids: $ours"
run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/k.gguf" --tokenize "$TEXT"
[ "$(json 'd["ids"]')" = "$ours" ] || fail "arca $ours, llama.cpp $(json 'd["ids"]')"

# and the whole parity corpus as one text (every script, CRLF, runs of blanks, specials)
CORPUS=$(cat "$ARCA_SOURCE/tests/data/tokenizer_corpus/corpus.txt")
run 0 "$ARCA" tokenize acme/k:q8_0 --json -- "$CORPUS"
ours=$(json 'd["ids"]')
run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/k.gguf" --tokenize "$CORPUS"
[ "$(json 'd["ids"]')" = "$ours" ] || fail "corpus: arca and llama.cpp differ"

# GLM-4-9B-chat: the ranks as tokenizer.model, its special tokens fixed after them
make_llm "$T/g" --arch chatglm --layers 2 --seed 6 --tokenizer chatglm4 --fast-random
run 0 "$ARCA" add "$T/g" --as acme/g -q
run 0 "$ARCA" convert acme/g --quant q8_0 --out "$T/g.gguf" -q
TEXT=$'Hello 世界。\n你好，GLM! <|user|>  tabs\tand  spaces 12345 😀 naïve CAFÉ\'s [gMASK]<sop>'
run 0 "$ARCA" tokenize "$T/g.gguf" --json -- "$TEXT"
ours=$(json 'd["ids"]')
expect_json '[d["ids"][i] for i in (18, -2, -1)]' "[16391, 16386, 16388]"
run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/g.gguf" --tokenize "$TEXT"
[ "$(json 'd["ids"]')" = "$ours" ] || fail "chatglm4: arca $ours, llama.cpp $(json 'd["ids"]')"
run 0 "$ARCA" tokenize "$T/g.gguf" --json -- "$CORPUS"
ours=$(json 'd["ids"]')
run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/g.gguf" --tokenize "$CORPUS"
[ "$(json 'd["ids"]')" = "$ours" ] || fail "chatglm4 corpus: arca and llama.cpp differ"
pass
