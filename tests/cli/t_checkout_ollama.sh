#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `arca checkout REF:VARIANT DIR --layout ollama`: tiny Qwen2 and Llama variants written into
# one Ollama store are what Ollama reads (tests/fixtures/ollama_check.py walks the folder as
# `ollama list` does, from Ollama's documented layout, and renders the templates); a second
# checkout rewrites nothing, a second model leaves the first alone, a damaged blob is replaced,
# bad names and snapshots are refused, and a checkout that fails partway leaves no manifest
# and no temporary file. t_checkout_ollama_llama.sh has llama.cpp load the model blob.
. "$(dirname "$0")/lib.sh"

CHECK="$ARCA_SOURCE/tests/fixtures/ollama_check.py"
O="$T/ollama"
QWEN=qwen2.5-tiny-instruct:q8_0
QWEN_MANIFEST="$O/manifests/registry.ollama.ai/library/qwen2.5-tiny-instruct/q8_0"

# check_store DIR [--gguf NAME=FILE ...]: the independent reading passes; its report in $T/check.json
check_store() {
	python3 "$CHECK" check "$@" >"$T/check.json" 2>"$T/check.err" ||
		fail "ollama_check.py: $(cat "$T/check.err")"
}
# checked EXPR: a Python expression over the checker's report (bound to `d`)
checked() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$T/check.json" "$1"
}
# state DIR: every file with its inode, size and modification time
state() { find "$1" -type f -printf '%p %i %s %T@\n' | sort; }

run 0 "$ARCA" init
make_llm "$T/qwen2" --arch qwen2 --seed 3
run 0 "$ARCA" add "$T/qwen2" --as acme/Qwen2.5-Tiny-Instruct -q
run 0 "$ARCA" convert acme/Qwen2.5-Tiny-Instruct --quant q8_0 --out "$T/qwen2.gguf" -q
make_llm "$T/llama" --arch llama --seed 4
run 0 "$ARCA" add "$T/llama" --as acme/Tiny-Llama -q
run 0 "$ARCA" convert acme/Tiny-Llama --quant q8_0 --out "$T/llama.gguf" -q

# --- refused before anything is written ------------------------------------------------------
run 2 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct "$O" --layout ollama
expect_stderr "acme/Qwen2.5-Tiny-Instruct is a snapshot"
expect_stderr "arca convert acme/Qwen2.5-Tiny-Instruct --quant"
run 4 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q4_0 "$O" --layout ollama
expect_stderr "has no variant 'q4_0' (has: q8_0)"
long=$(printf 'x%.0s' $(seq 81))
for bad in "" "a/b/c/d" "-model" "_ok/-bad" "dotted.ns/model" "model:" "model:t:ag" "mo del" \
	"model/" "/model" "a..b" "model:-tag" "$long" "ns/$long:tag"; do
	run 2 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$O" --layout ollama --name "$bad"
	expect_stderr "arca: checkout: --name: Ollama name"
done
run 2 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$T/plain" --name x
expect_stderr "--name goes with --layout ollama"
run 2 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$T/plain"
expect_stderr "use --layout ollama"
[ ! -e "$O" ] && [ ! -e "$T/plain" ] || fail "a refused checkout created its folder"

# --- the first model --------------------------------------------------------------------------
run 0 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$O" --layout ollama --json
expect_json 'd["layout"]' ollama
expect_json 'd["name"]' "$QWEN"
expect_json 'd["manifest"]' "$QWEN_MANIFEST"
expect_json 'd["template"]' chatml
expect_json '[l["mediaType"].split(".")[-1] for l in d["layers"]]' \
	"['model', 'template', 'license', 'params']"
expect_json 'd["layers"][0]["how"]' linked
expect_json 'd["layers"][1]["how"]' written
expect_json 'd["verified"]' True
expect_json 'd["manifest_existed"]' False
qwen_id=$(json 'd["model_id"]')
params_digest=$(json 'd["layers"][3]["digest"][7:]')
check_store "$O" --gguf "$QWEN=$T/qwen2.gguf"
[ "$(checked "d['models']['$QWEN']['id']")" = "$qwen_id" ] || fail "the model ID is not the manifest's hash"
[ "$(checked "d['models']['$QWEN']['params']")" = "{'stop': ['<|im_start|>', '<|im_end|>']}" ] ||
	fail "params: $(checked "d['models']['$QWEN']['params']")"
[ "$(checked "'Apache License' in d['models']['$QWEN']['licenses'][0]")" = True ] ||
	fail "the licence layer is not the snapshot's LICENSE"
[ "$(checked "d['models']['$QWEN']['config']['model_family']")" = qwen2 ] || fail "model_family"
[ "$(checked "d['models']['$QWEN']['config']['file_type']")" = Q8_0 ] || fail "file_type"
# the template, rendered as Ollama's chat endpoint does, is ChatML
python3 "$CHECK" render "$O" "$QWEN" --system "Be brief." --user "Hi" >"$T/r.txt" ||
	fail "the template does not render"
printf '%s\n' '<|im_start|>system' 'Be brief.<|im_end|>' '<|im_start|>user' 'Hi<|im_end|>' \
	'<|im_start|>assistant' >"$T/want.txt"
cmp -s "$T/r.txt" "$T/want.txt" || fail "ChatML rendered as: $(cat -A "$T/r.txt")"

# --- a second checkout rewrites nothing -------------------------------------------------------
state "$O" >"$T/before.txt"
run 0 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$O" --layout ollama --json
expect_json 'sorted({l["how"] for l in d["layers"]} | {d["config"]["how"]})' "['kept']"
expect_json 'd["manifest_unchanged"]' True
expect_json 'd["model_id"]' "$qwen_id"
state "$O" >"$T/after.txt"
cmp -s "$T/before.txt" "$T/after.txt" ||
	fail "a second checkout rewrote files: $(diff "$T/before.txt" "$T/after.txt")"
run 0 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$O" --layout ollama
expect_stdout "as $QWEN (ID $qwen_id)"
expect_stdout "5 already there"
expect_stdout "(already there, unchanged)"
expect_stdout "OLLAMA_MODELS=$O ollama run $QWEN"

# --- a second model beside it, named: the first stays as it was --------------------------------
run 0 "$ARCA" checkout acme/Tiny-Llama:q8_0 "$O" --layout ollama --name acme/Tiny-Llama:v1 --json
expect_json 'd["name"]' acme/tiny-llama:v1
expect_json 'd["manifest"]' "$O/manifests/registry.ollama.ai/acme/tiny-llama/v1"
expect_json 'd["template"]' llama3
run 0 "$ARCA" checkout acme/Tiny-Llama:q8_0 "$O" --layout ollama --name localhost:5000/acme/tiny-llama
expect_stdout "as localhost:5000/acme/tiny-llama:q8_0"
state "$O" | grep -Ff <(cut -d' ' -f1 "$T/before.txt") >"$T/after.txt"
cmp -s "$T/before.txt" "$T/after.txt" || fail "the second model changed the first's files"
check_store "$O" --gguf "$QWEN=$T/qwen2.gguf" --gguf "acme/tiny-llama:v1=$T/llama.gguf"
[ "$(checked "sorted(d['models'])")" = \
	"['acme/tiny-llama:v1', 'localhost:5000/acme/tiny-llama:q8_0', '$QWEN']" ] ||
	fail "models listed: $(checked "sorted(d['models'])")"
[ "$(checked "d['models']['acme/tiny-llama:v1']['params']['stop']")" = \
	"['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>']" ] || fail "llama3 stop words"
python3 "$CHECK" render "$O" acme/tiny-llama:v1 --system "Be brief." --user "Hi" >"$T/r.txt" ||
	fail "the llama3 template does not render"
H='<|start_header_id|>' E='<|end_header_id|>'
printf '%s\n\n' "${H}system$E" "Be brief.<|eot_id|>${H}user$E" "Hi<|eot_id|>${H}assistant$E" \
	>"$T/want.txt"
cmp -s "$T/r.txt" "$T/want.txt" || fail "Llama 3 rendered as: $(cat -A "$T/r.txt")"

# --- a chat template arca has no Ollama form for: no template layer, and it says so -----------
make_llm "$T/glm" --arch glm4 --seed 5
run 0 "$ARCA" add "$T/glm" --as acme/glm -q
run 0 "$ARCA" convert acme/glm --quant q8_0 -q
run 0 "$ARCA" checkout acme/glm:q8_0 "$O" --layout ollama
expect_stdout "no template layer: arca has no Ollama template"
expect_stdout "tokenizer.chat_template"
run 0 "$ARCA" checkout acme/glm:q8_0 "$O" --layout ollama --json
expect_json 'd["template"]' None
expect_json '"template" in [l["mediaType"].split(".")[-1] for l in d["layers"]]' False
check_store "$O"
[ "$(checked "'[gMASK]' in d['models']['glm:q8_0']['gguf_chat_template']")" = True ] ||
	fail "the GGUF lost its own chat template"

# --- a damaged blob in DIR is found and replaced (the model blob is a link into the store:
# replace the file, never write through it) ------------------------------------------------------
model_blob="$O/blobs/sha256-$(sha256sum "$T/qwen2.gguf" | cut -d' ' -f1)"
size=$(stat -c %s "$model_blob")
rm -f "$model_blob" && head -c "$size" /dev/zero >"$model_blob"
printf '{"stop":[]}' >"$O/blobs/sha256-$params_digest"
run 0 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$O" --layout ollama --json
expect_json '[l["replaced"] for l in d["layers"]]' "[True, False, False, True]"
expect_json 'd["manifest_unchanged"]' True
expect_stderr "replaced $model_blob: its bytes did not match its name"
check_store "$O" --gguf "$QWEN=$T/qwen2.gguf"
# --no-verify trusts a blob of the right size (as Ollama does); the default does not
rm -f "$model_blob" && head -c "$size" /dev/zero >"$model_blob"
run 0 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$O" --layout ollama --no-verify --json
expect_json 'd["layers"][0]["how"]' kept
run 0 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$O" --layout ollama -q
cmp -s "$model_blob" "$T/qwen2.gguf" || fail "the zeroed blob was not replaced"
run 0 "$ARCA" fsck -q   # the store itself was never written through a link

# --- another manifest under the same name is replaced, and said so -----------------------------
run 0 "$ARCA" checkout acme/Tiny-Llama:q8_0 "$O" --layout ollama --name "$QWEN"
expect_stderr "replaced the manifest of $QWEN"
check_store "$O" --gguf "$QWEN=$T/llama.gguf"
[ -f "$model_blob" ] || fail "the replaced model's blob was removed"

# --- copies instead of links --------------------------------------------------------------------
run 0 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$T/copied" --layout ollama --copy --json
expect_json 'd["layers"][0]["how"]' copied
[ "$(stat -c %a "$T/copied/blobs/sha256-$(sha256sum "$T/qwen2.gguf" | cut -d' ' -f1)")" = 644 ] ||
	fail "a copied blob is not 0644"
check_store "$T/copied"

# --- failing partway: no manifest, no temporary file ------------------------------------------
# a folder where a later blob (params) goes: the model blob is written, then the write fails
mkdir -p "$T/broken/blobs/sha256-$params_digest"
run 1 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$T/broken" --layout ollama
expect_stderr "is in the way"
[ ! -e "$T/broken/manifests/registry.ollama.ai/library/qwen2.5-tiny-instruct/q8_0" ] ||
	fail "a failed checkout wrote its manifest"
[ -z "$(find "$T/broken" -name '.*' -o -name '*-partial')" ] || fail "temporary files left: $(find "$T/broken")"
rmdir "$T/broken/blobs/sha256-$params_digest"
# a folder in the way of the manifest
mkdir -p "$T/broken/manifests/registry.ollama.ai/library/qwen2.5-tiny-instruct/q8_0"
run 1 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$T/broken" --layout ollama
expect_stderr "a folder is in the way of the manifest"
rmdir "$T/broken/manifests/registry.ollama.ai/library/qwen2.5-tiny-instruct/q8_0"
run 0 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$T/broken" --layout ollama -q
check_store "$T/broken" --gguf "$QWEN=$T/qwen2.gguf"
# blobs/ read-only (root writes anyway, so only as another user)
if [ "$(id -u)" != 0 ]; then
	mkdir -p "$T/ro/blobs" && chmod a-w "$T/ro/blobs"
	run 1 "$ARCA" checkout acme/Qwen2.5-Tiny-Instruct:q8_0 "$T/ro" --layout ollama
	expect_stderr "Permission denied"
	[ ! -e "$T/ro/manifests" ] || fail "a failed checkout wrote its manifest"
	[ -z "$(find "$T/ro" -name '.*')" ] || fail "temporary files left"
	chmod u+w "$T/ro/blobs"
fi
pass
