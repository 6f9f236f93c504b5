#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca diff against generated forks of tiny Llama and Qwen2 bases (tests/fixtures/make_fork.py):
# a re-upload with another card is all identical; BF16→F16 is same values / converted; the
# base's own q8_0 variant is requantized tensor for tensor across formats (GGUF names mapped
# back, Llama's Q/K permutation undone: q/k cosine > 0.99), its bytes reproduced by
# quantizing the base again; a fine-tune of layers 1 and 3
# changes exactly those layers' tensors, with a cosine and relative L2 that numpy computes
# the same from the files; a vocabulary extension reshapes embed/lm_head with the shared rows
# the same and 64 new rows; a low-rank update changes only the q_proj it touched; an
# unrelated model has a global cosine near 0. Folders and files outside the store work too.
. "$(dirname "$0")/lib.sh"

FORK="$ARCA_SOURCE/tests/fixtures/make_fork.py"
fork() { python3 "$FORK" "$@" >/dev/null || fail "make_fork.py $*"; }

# verdicts: the set of verdicts in the JSON on stdout, sorted
verdicts() { json 'sorted({t["verdict"] for t in d["tensors"]})'; }
# names_with VERDICT: the sorted names of the tensors with that verdict
names_with() { json "sorted(t['name'] for t in d['tensors'] if t['verdict'] == '$1')"; }

run 0 "$ARCA" init
run 0 "$ARCA" diff --help
expect_stdout "usage: arca diff A B"
run 2 "$ARCA" diff only-one
expect_stderr "missing argument"

for arch in llama qwen2; do
	B="$T/$arch"
	make_llm "$B" --arch "$arch" --layers 4 --hidden 64 --ffn 128 --heads 4 --kv-heads 2 \
		--untied --seed 11
	run 0 "$ARCA" add "$B" --as "acme/$arch" -q
	fork "$B" "$B-copy" identical
	fork "$B" "$B-f16" f16
	fork "$B" "$B-ft" finetune --layers 1,3 --noise 1e-2
	fork "$B" "$B-vocab" vocab --extra 64
	fork "$B" "$B-lora" lowrank --layers 0,2 --rank 4 --noise 1e-2
	make_llm "$B-other" --arch "$arch" --layers 4 --hidden 64 --ffn 128 --heads 4 \
		--kv-heads 2 --untied --seed 12
	for f in copy f16 ft vocab lora other; do
		run 0 "$ARCA" add "$B-$f" --as "acme/$arch-$f" -q
	done
	run 0 "$ARCA" convert "acme/$arch" --quant q8_0 -q
	run 0 "$ARCA" convert "acme/$arch" --quant f16 -q
	N=$(python3 -c 'import json,sys; sys.path.insert(0, sys.argv[1]); import make_fork
print(len(make_fork.load(sys.argv[2])[1]))' "$ARCA_SOURCE/tests/fixtures" "$B") ||
		fail "cannot count tensors"

	# --- re-upload: every tensor identical, exit 0 even with --fail-on-change
	run 0 "$ARCA" diff "acme/$arch" "acme/$arch-copy" --json --fail-on-change
	expect_json 'd["summary"]["identical"]["tensors"]' "$N"
	expect_json "$(printf '%s' 'sorted({t["verdict"] for t in d["tensors"]})')" "['identical']"
	expect_json 'round(d["global_cosine"], 9)' 1.0
	run 0 "$ARCA" diff "acme/$arch" "acme/$arch-copy"
	expect_stdout "every tensor is identical"

	# --- BF16 -> F16: same values or converted, nothing changed
	run 0 "$ARCA" diff "acme/$arch" "acme/$arch-f16" --json
	got=$(verdicts)
	case "$got" in
	"['converted', 'same values']" | "['converted']" | "['same values']") ;;
	*) fail "BF16 -> F16 verdicts are $got" ;;
	esac
	expect_json 'all(t["dtype_a"] == "BF16" and t["dtype_b"] == "F16" for t in d["tensors"])' True

	# --- the base's own q8_0 variant: across formats, every matrix requantized
	run 0 "$ARCA" diff "acme/$arch" "acme/$arch:q8_0" --json
	expect_json 'd["b"]["format"]' gguf
	expect_json 'len(d["tensors"])' "$N"
	expect_json "sorted({t['verdict'] for t in d['tensors'] if len(t['shape_a']) == 2})" \
		"['requantized']"
	expect_json "sorted({t['verdict'] for t in d['tensors'] if len(t['shape_a']) == 1})" \
		"['same values']"
	expect_json 'all(t["dtype_b"] == "Q8_0" for t in d["tensors"] if len(t["shape_a"]) == 2)' True
	# q/k rows: if the permutation were not undone, rows would pair with other rows (cos ~ 0)
	expect_json "min(t['cosine'] for t in d['tensors'] if 'q_proj' in t['name'] or 'k_proj' in t['name']) > 0.99" True
	expect_json 'max(t["rel_l2"] for t in d["tensors"]) <= 1e-2' True
	# quantizing the base again gives the variant's bytes (llama's permuted q/k rows too)
	expect_json "all(t['reproduced'] for t in d['tensors'] if len(t['shape_a']) == 2)" True
	expect_json "all(0 < t['own_rel_l2'] < 1e-2 for t in d['tensors'] if len(t['shape_a']) == 2)" True
	expect_json 'd["changed_layers"]' "[]"
	# ... and against the f16 variant, GGUF against GGUF
	run 0 "$ARCA" diff "acme/$arch:f16" "acme/$arch:q8_0" --json
	expect_json "sorted({t['verdict'] for t in d['tensors'] if len(t['shape_a']) == 2})" \
		"['requantized']"

	# --- fine-tune of layers 1 and 3: exactly their tensors changed
	run 1 "$ARCA" diff "acme/$arch" "acme/$arch-ft" --json --fail-on-change
	expect_json 'd["changed_layers"]' "[1, 3]"
	want=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import make_fork
print(sorted(n for n in make_fork.load(sys.argv[2])[1] if make_fork.layer_of(n) in (1, 3)))' \
		"$ARCA_SOURCE/tests/fixtures" "$B") || fail "cannot list layers 1 and 3"
	expect_json "$(printf '%s' "sorted(t['name'] for t in d['tensors'] if t['verdict'] == 'changed')")" "$want"
	expect_json "sorted({t['verdict'] for t in d['tensors'] if t['layer'] not in (1, 3)})" \
		"['identical']"
	expect_json "all(0.999 < t['cosine'] < 1 and 0.005 < t['rel_l2'] < 0.02 for t in d['tensors'] if t['verdict'] == 'changed')" True
	expect_json 'd["global_cosine"] > 0.999' True
	# independent check: numpy on the safetensors files gives the same cosine and rel L2
	cp "$OUT" "$T/ft.json"
	name=model.layers.1.mlp.up_proj.weight
	python3 "$FORK" compare "$B" "$B-ft" "$name" >"$T/np.json" || fail "numpy compare"
	python3 - "$T/ft.json" "$T/np.json" "$name" <<'EOF' || fail "arca and numpy disagree"
import json, sys
d = json.load(open(sys.argv[1]))
ref = json.load(open(sys.argv[2]))
t = next(t for t in d["tensors"] if t["name"] == sys.argv[3])
for k in ("cosine", "rel_l2"):
    if abs(t[k] - ref[k]) > 1e-6 * abs(ref[k]):
        sys.exit("%s: arca %r, numpy %r" % (k, t[k], ref[k]))
EOF
	run 0 "$ARCA" diff "acme/$arch" "acme/$arch-ft"
	expect_stdout "model.layers.1.mlp.up_proj.weight"
	expect_stdout "changed"
	expect_stdout_not "model.layers.2.mlp.up_proj.weight"

	# --- vocabulary extension: embed and lm_head reshaped, shared rows the same, 64 new
	run 0 "$ARCA" diff "acme/$arch" "acme/$arch-vocab" --json
	expect_json "$(printf '%s' "sorted(t['name'] for t in d['tensors'] if t['verdict'] == 'reshaped')")" \
		"['lm_head.weight', 'model.embed_tokens.weight']"
	expect_json "sorted({(t['new_rows'], t['shared_rows']) for t in d['tensors'] if t['verdict'] == 'reshaped'})" \
		"[(64, 'same')]"
	expect_json 'd["summary"]["identical"]["tensors"]' "$((N - 2))"
	run 0 "$ARCA" diff "acme/$arch" "acme/$arch-vocab"
	expect_stdout "shared rows same, +64 rows"

	# --- low-rank update of q_proj in layers 0 and 2
	run 0 "$ARCA" diff "acme/$arch" "acme/$arch-lora" --json
	expect_json "$(printf '%s' "sorted(t['name'] for t in d['tensors'] if t['verdict'] == 'changed')")" \
		"['model.layers.0.self_attn.q_proj.weight', 'model.layers.2.self_attn.q_proj.weight']"
	expect_json 'd["changed_layers"]' "[0, 2]"

	# --- unrelated model of the same shape: global cosine near 0, everything changed
	run 0 "$ARCA" diff "acme/$arch" "acme/$arch-other" --json
	expect_json 'abs(d["global_cosine"]) < 0.1' True
	expect_json "$(printf '%s' 'sorted({t["verdict"] for t in d["tensors"]})')" "['changed']"
	expect_json 'd["changed_layers"]' "[0, 1, 2, 3]"
done

# --- a GGUF file against the REF it came from; and what is not there
run 0 "$ARCA" convert acme/llama --quant q8_0 --out "$T/llama.gguf" -q
run 0 "$ARCA" diff "$T/llama.gguf" "acme/llama:q8_0" --json
expect_json "$(printf '%s' 'sorted({t["verdict"] for t in d["tensors"]})')" "['identical']"
# --- a folder or safetensors file outside the store (no store needed for two of them)
run 0 "$ARCA" diff "$T/llama" acme/llama --json
expect_json "$(printf '%s' 'sorted({t["verdict"] for t in d["tensors"]})')" "['identical']"
run 0 env ARCA_HOME="$T/no-store" "$ARCA" diff "$T/llama" "$T/llama-ft/model.safetensors" --json
expect_json 'd["changed_layers"]' "[1, 3]"
expect_json 'd["b"]["format"]' safetensors
mkdir "$T/empty"
run 1 "$ARCA" diff "$T/empty" acme/llama
expect_stderr "model.safetensors"
run 4 "$ARCA" diff acme/llama acme/nothing
expect_stderr "arca: diff acme/llama acme/nothing"
run 4 "$ARCA" diff acme/llama acme/llama:q4_0
pass
