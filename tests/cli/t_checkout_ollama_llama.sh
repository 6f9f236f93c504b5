#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `arca checkout --layout ollama`, checked with llama.cpp (node-llama-cpp's prebuilt CPU build,
# the engine under Ollama's GGUF runner): the model blob Ollama would load loads and generates,
# and a chat turn rendered through the template layer (tests/fixtures/ollama_check.py) and
# tokenized as Ollama's runner does (special tokens parsed, BOS added when the GGUF asks) gives
# the same tokens as `arca run --chat`. Skipped without tests/node's node-llama-cpp
# (t_checkout_ollama.sh checks the layout without it).
. "$(dirname "$0")/lib.sh"

need_node_module node-llama-cpp
LLAMA="$ARCA_SOURCE/tests/node/llama_run.mjs"
CHECK="$ARCA_SOURCE/tests/fixtures/ollama_check.py"
O="$T/ollama"

run 0 "$ARCA" init
for arch in qwen2 llama; do
	make_llm "$T/$arch" --arch "$arch" --seed 3
	run 0 "$ARCA" add "$T/$arch" --as "acme/tiny-$arch" -q
	run 0 "$ARCA" convert "acme/tiny-$arch" --quant q8_0 -q
	run 0 "$ARCA" checkout "acme/tiny-$arch:q8_0" "$O" --layout ollama --json
	name=$(json 'd["name"]')
	blob="$O/blobs/sha256-$(json 'd["layers"][0]["digest"][7:]')"

	# llama.cpp loads what Ollama would load, and generates a token
	run 0 node "$LLAMA" "$blob" --check-load
	expect_json 'd["arch"]' "$arch"
	run 0 node "$LLAMA" "$blob" --prompt "Hello world" -n 1 --ignore-eos --threads 2
	expect_json 'len(d["tokens"])' 1

	# Ollama's prompt for one system + user turn is arca's chat form, token for token
	run 0 "$ARCA" run "acme/tiny-$arch:q8_0" --chat --system "Be brief." -p "Hello there" -n 1 \
		--threads 2 --json
	want=$(json 'd["prompt_ids"]')
	python3 "$CHECK" render "$O" "$name" --system "Be brief." --user "Hello there" \
		>"$T/prompt.txt" || fail "$name: the template does not render"
	prompt=$(cat "$T/prompt.txt"; printf x)   # keep the trailing newline
	run 0 node "$LLAMA" "$blob" --tokenize "${prompt%x}"
	got=$(json 'd["ids"]')
	[ "$got" = "$want" ] || fail "$name: Ollama's prompt tokenizes to $got, arca run --chat to $want"
done
pass
