#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca audit against generated forks of tiny Llama and Qwen2 bases (tests/fixtures/make_fork.py),
# each classified, with the changed layers exactly: a re-upload with another card; BF16→F16;
# the base's own Q8_0 variant (proof: its bytes reproduced); a fine-tune moving layer 0 far
# and layer 2 a little (layer 0's cosine lower); hidden units permuted in every layer plus a
# small fine-tune (found by aligning units: the tensors' own cosines are ~0); a vocabulary
# extension; a merge taking layers 2-3 from another model (named from the tensor index); a
# rank-4 update of two q_proj (rank estimated 4); an unrelated model of the same shape. The
# card checks: a missing base_model, a wrong one, a changed licence, a wrong relation;
# --fail-on-claims. --scan finds the base from the index, --shallow reads no weights.
. "$(dirname "$0")/lib.sh"

FORK="$ARCA_SOURCE/tests/fixtures/make_fork.py"
fork() { python3 "$FORK" "$@" >/dev/null || fail "make_fork.py $*"; }

run 0 "$ARCA" init
run 0 "$ARCA" audit --help
expect_stdout "usage: arca audit FORK"
run 2 "$ARCA" audit acme/x
expect_stderr "either --base BASE or --scan"
run 2 "$ARCA" audit acme/x --base acme/y --scan
run 2 "$ARCA" audit acme/x --base acme/y --shallow
expect_stderr "--shallow goes with --scan"

for arch in llama qwen2; do
	B="$T/$arch"
	shape=(--arch "$arch" --layers 4 --hidden 64 --ffn 128 --heads 4 --kv-heads 2 --untied)
	make_llm "$B" "${shape[@]}" --seed 11
	make_llm "$B-other" "${shape[@]}" --seed 12
	run 0 "$ARCA" add "$B" --as "acme/$arch" -q
	run 0 "$ARCA" add "$B-other" --as "acme/$arch-other" -q
	fork "$B" "$B-copy" identical --card "base_model=acme/$arch"
	fork "$B" "$B-f16" f16 --card "base_model=acme/$arch" --card base_model_relation=quantized
	fork "$B" "$B-ft0" finetune --layers 0 --noise 5e-2
	fork "$B-ft0" "$B-ft" finetune --layers 2 --noise 2e-3 --card "base_model=acme/$arch" \
		--card base_model_relation=finetune --card license=mit
	fork "$B" "$B-perm" permute --noise 1e-3
	fork "$B" "$B-vocab" vocab --extra 64 --card "base_model=acme/somebody-else"
	fork "$B" "$B-merge" merge --other "$B-other" --layers 2,3
	fork "$B" "$B-lora" lowrank --layers 0,2 --rank 4 --noise 1e-2 --card \
		"base_model=acme/$arch" --card base_model_relation=merge
	for f in copy f16 ft perm vocab merge lora; do
		run 0 "$ARCA" add "$B-$f" --as "acme/$arch-$f" -q
	done
	run 0 "$ARCA" convert "acme/$arch" --quant q8_0 -q

	audit() { run 0 "$ARCA" audit "acme/$arch-$1" --base "acme/$arch" --json; }
	claim() { json "[c['agrees'] for c in d['claims'] if c['field'] == '$1'][0]"; }

	# --- re-upload with another card: proof, and its base_model claim agrees
	audit copy
	expect_json 'd["relation"]' re-upload
	expect_json 'd["level"]' proof
	expect_json 'd["confidence"]' 1.0
	expect_json 'd["changed_layers"]' "[]"
	[ "$(claim base_model)" = True ] || fail "a true base_model claim should agree"
	[ "$(claim license)" = True ] || fail "the same licence should agree"

	# --- BF16 -> F16: a conversion; the card's "quantized" fits
	audit f16
	expect_json 'd["relation"]' conversion
	expect_json 'd["changed_layers"]' "[]"
	[ "$(claim base_model_relation)" = True ] || fail "quantized should fit a conversion"

	# --- the base's Q8_0 variant: requantization, proved by the same bytes
	run 0 "$ARCA" audit "acme/$arch:q8_0" --base "acme/$arch" --json
	expect_json 'd["relation"]' requantization
	expect_json 'd["level"]' proof
	expect_json 'd["counts"].get("requantized", 0) > 0' True
	expect_json '[c["agrees"] for c in d["claims"]]' "[None, None, None]"
	expect_json 'd["disagreements"]' 0

	# --- fine-tune: layers 0 (far) and 2 (a little); the licence changed to mit
	audit ft
	expect_json 'd["relation"]' fine-tune
	expect_json 'd["changed_layers"]' "[0, 2]"
	expect_json "[l['status'] for l in d['layers']]" "['changed', 'same', 'changed', 'same']"
	expect_json 'd["layers"][0]["min_cosine"] < d["layers"][2]["min_cosine"] < 1' True
	expect_json 'd["layers"][2]["min_cosine"] > 0.999' True
	[ "$(claim base_model)" = True ] || fail "the fine-tune's base_model should agree"
	[ "$(claim base_model_relation)" = True ] || fail "finetune should fit a fine-tune"
	[ "$(claim license)" = False ] || fail "apache-2.0 -> mit should disagree"
	expect_json "[c['message'] for c in d['claims'] if c['field'] == 'license'][0]" \
		"the licence changed from apache-2.0 (base) to mit"
	run 1 "$ARCA" audit "acme/$arch-ft" --base "acme/$arch" --fail-on-claims -q
	run 0 "$ARCA" audit "acme/$arch-copy" --base "acme/$arch" --fail-on-claims -q
	run 0 "$ARCA" audit "acme/$arch-ft" --base "acme/$arch"
	expect_stdout "relation: fine-tune"
	expect_stdout "DISAGREES   the licence changed from apache-2.0 (base) to mit"

	# --- permuted hidden units + a small fine-tune: the plain cosine is ~0, aligned ~1
	audit perm
	expect_json 'd["relation"]' "permuted fine-tune"
	expect_json 'd["changed_layers"]' "[0, 1, 2, 3]"
	expect_json 'abs(d["global_cosine"]) < 0.1' True
	expect_json 'd["alignment"]["permuted"]' True
	expect_json 'd["alignment"]["residual_matched"] > 0.9' True
	expect_json 'd["alignment"]["cosine"] > 0.99' True
	expect_json 'all(l["units_matched"] > 0.9 and l["cosine"] > 0.99 for l in d["alignment"]["layers"])' True
	[ "$(claim base_model)" = False ] || fail "a hidden base should be reported"

	# --- vocabulary extension; the card names another base
	audit vocab
	expect_json 'd["relation"]' "vocabulary extension"
	expect_json 'd["new_rows"]' 64
	expect_json 'd["changed_layers"]' "[]"
	[ "$(claim base_model)" = False ] || fail "a wrong base_model should disagree"
	expect_json "[c['message'] for c in d['claims'] if c['field'] == 'base_model'][0].startswith('the card names acme/somebody-else as its base')" True

	# --- merge: layers 2 and 3 from the other model, named by their bytes
	audit merge
	expect_json 'd["relation"]' "partial merge"
	expect_json 'd["changed_layers"]' "[2, 3]"
	expect_json "[l['status'] for l in d['layers']]" "['same', 'same', 'foreign', 'foreign']"
	expect_json "all('acme/$arch-other@' in l['source'] for l in d['layers'][2:])" True
	expect_json "[o['owner'].split('@')[0] for o in d['others']]" "['local:acme/$arch-other']"

	# --- rank-4 update of q_proj in layers 0 and 2; "merge" does not fit it
	audit lora
	expect_json 'd["relation"]' "low-rank update"
	expect_json 'd["low_rank"]' 4
	expect_json 'd["changed_layers"]' "[0, 2]"
	expect_json "sorted(r['name'] for r in d['ranks'])" \
		"['model.layers.0.self_attn.q_proj.weight', 'model.layers.2.self_attn.q_proj.weight']"
	[ "$(claim base_model_relation)" = False ] || fail "merge should not fit a low-rank update"

	# --- another rank: 8, in one layer
	if [ "$arch" = llama ]; then
		fork "$B" "$B-lora8" lowrank --layers 1 --rank 8 --noise 2e-2
		run 0 "$ARCA" audit "$B-lora8" --base "$B" --json
		expect_json 'd["relation"]' "low-rank update"
		expect_json 'd["low_rank"]' 8
		expect_json 'd["changed_layers"]' "[1]"
		# a full-rank change of the same matrices is a fine-tune, not a low-rank update
		fork "$B" "$B-full" lowrank --layers 1 --rank 64 --noise 2e-2
		run 0 "$ARCA" audit "$B-full" --base "$B" --json
		expect_json 'd["relation"]' fine-tune
		expect_json '[r["rank"] for r in d["ranks"]]' "[-1]"
	fi

	# --- unrelated model of the same shape
	audit other
	expect_json 'd["relation"]' unrelated
	expect_json 'd["alignment"]["done"] and d["alignment"]["residual_matched"] < 0.2' True

	# --- the scan: the fine-tune's nearest stored model is its base (or the re-upload of
	# it, bytes for bytes the same); --shallow stops after the ranking
	run 0 "$ARCA" audit "acme/$arch-ft" --scan --json
	expect_json "d['scan']['candidates'][0]['owner'].split('@')[0] in ('local:acme/$arch', 'local:acme/$arch-copy')" True
	expect_json 'd["scan"]["candidates"][0]["est_cosine"] > 0.9' True
	expect_json 'd["relation"]' fine-tune
	run 0 "$ARCA" audit "acme/$arch-ft" --scan --shallow --json
	expect_json '"relation" in d' False
	expect_json "all(not c['owner'].startswith('local:acme/$arch-ft@') for c in d['scan']['candidates'])" True
	# the unrelated model resembles nothing stored but the merge that took two of its layers
	run 0 "$ARCA" audit "acme/$arch-other" --scan --shallow --json
	expect_json "[c['owner'].split('@')[0] for c in d['scan']['candidates'] if c['owner'].startswith('local:acme/$arch')]" \
		"['local:acme/$arch-merge']"
done

# a store indexed before file sketches were kept (schema < 5: NULL) scans the same, the
# sketches made from the tensor rows; arca index records them
run 0 "$ARCA" audit acme/llama-ft --scan --shallow --json
cp "$OUT" "$T/scan-before.json"
python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE tensor_index SET file_sketch = NULL, file_norm2 = NULL, n_matrices = NULL")
db.commit()' "$ARCA_HOME/catalog.db" || fail "cannot clear the file sketches"
run 0 "$ARCA" audit acme/llama-ft --scan --shallow --json
python3 -c 'import json, sys
a, b = (json.load(open(p))["scan"]["candidates"] for p in sys.argv[1:3])
assert [c["owner"] for c in a] == [c["owner"] for c in b]
assert all(abs(x["est_cosine"] - y["est_cosine"]) < 1e-6 for x, y in zip(a, b))' \
	"$T/scan-before.json" "$OUT" || fail "the scan changed without stored file sketches"
run 0 "$ARCA" index -q
python3 -c 'import sqlite3, sys
n = sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*) FROM tensor_index WHERE file_sketch IS NULL").fetchone()[0]
assert n == 0, n' "$ARCA_HOME/catalog.db" || fail "arca index did not record the file sketches"

# folders work without a store; no card claims can name a repo then
run 0 "$ARCA" audit "$T/llama-ft" --base "$T/llama" --json
expect_json 'd["relation"]' fine-tune
expect_json 'd["changed_layers"]' "[0, 2]"

# nothing in common by name: unrelated, and says why
python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import make_fork
make_fork.write_safetensors(sys.argv[2], None, {"foo.weight": ("F32", [2, 2], bytes(16))})' \
	"$ARCA_SOURCE/tests/fixtures" "$T/foo.safetensors" || fail "cannot write foo.safetensors"
run 0 "$ARCA" audit "$T/foo.safetensors" --base "$T/llama" --json
expect_json 'd["relation"]' unrelated
expect_json 'd["summary"].startswith("nothing to compare: no tensor of the fork has a counterpart")' True

# a snapshot added without an index cannot be scanned, and says what to run
make_llm "$T/plain" --arch llama --layers 2 --hidden 64 --ffn 128 --heads 4 --kv-heads 2 --seed 5
run 0 "$ARCA" add "$T/plain" --as acme/plain --no-index -q
run 1 "$ARCA" audit acme/plain --scan
expect_stderr "run \`arca index acme/plain\` first"
run 0 "$ARCA" index acme/plain -q
run 0 "$ARCA" audit acme/plain --scan --shallow
run 4 "$ARCA" audit acme/absent --base acme/llama
expect_stderr "acme/absent is not in the store"
pass
