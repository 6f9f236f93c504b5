#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca convert and arca inspect: tiny Qwen2, Qwen3 and Llama checkpoints convert to F16,
# Q8_0 and Q4_K_M GGUF; the MoE, MLA and GLM-4 tables convert; the round trip GGUF →
# safetensors → GGUF is exact for F32/F16/BF16; bad input is refused. That llama.cpp loads
# and runs these GGUF files, and that arca quantizes as llama.cpp does, is
# t_convert_llama.sh.
. "$(dirname "$0")/lib.sh"

run 0 "$ARCA" init

# --- the three main architectures in F16, Q8_0, Q4_K_M ----------------------------------
for arch in qwen2 qwen3 llama; do
	make_llm "$T/$arch" --arch "$arch" --hidden 256 --ffn 512 --heads 4 --kv-heads 2 --seed 3
	run 0 "$ARCA" add "$T/$arch" --as "acme/$arch" -q
	for q in f16 q8_0 q4_k_m; do
		run 0 "$ARCA" convert "acme/$arch" --quant $q --out "$T/$arch-$q.gguf" --json
		expect_json 'd["variant"]' $q
		expect_json 'd["arch"]' $arch
	done
done
# a BF16 checkpoint converts to BF16 by default
run 0 "$ARCA" convert acme/qwen3 --json
expect_json 'd["variant"]' bf16

# the same conversion again is reused, and lineage is recorded
run 0 "$ARCA" convert acme/qwen2 --quant q8_0
expect_stdout "already in the store"
run 0 "$ARCA" show acme/qwen2 --json
expect_json 'sorted(a["name"] for a in d["lineage"])' "['f16', 'q4_k_m', 'q8_0']"
expect_json '[a["params"]["arch"] for a in d["lineage"]][0]' qwen2

# --- MoE, MLA and GLM-4 ---------------------------------------------------------------------
for arch in qwen3moe deepseek2 glm4; do
	make_llm "$T/$arch" --arch "$arch" --seed 4
	run 0 "$ARCA" add "$T/$arch" --as "acme/$arch" -q
	run 0 "$ARCA" convert "acme/$arch" --quant f16 --out "$T/$arch.gguf" -q
done
run 0 "$ARCA" inspect acme/deepseek2:f16 --json
expect_json '[t["ne"] for t in d["tensors"] if t["name"]=="blk.0.attn_k_b.weight"][0]' "[16, 32, 4]"
expect_json '[t["ne"] for t in d["tensors"] if t["name"]=="blk.1.ffn_up_exps.weight"][0]' "[64, 64, 4]"
expect_json 'd["metadata"]["deepseek2.attention.head_count_kv"]["value"]' 1
# DeepSeek-V3's multi-token-prediction layer (eh_proj, enorm, hnorm, shared_head, and a
# decoder layer at index num_hidden_layers) is dropped, as llama.cpp never runs it
make_llm "$T/ds-mtp" --arch deepseek2 --seed 4 --mtp
run 0 "$ARCA" add "$T/ds-mtp" --as acme/ds-mtp -q
run 0 "$ARCA" convert acme/ds-mtp --quant f16 -q
run 0 "$ARCA" inspect acme/ds-mtp:f16 --json
expect_json 'd["metadata"]["deepseek2.block_count"]["value"]' 2
expect_json 'sorted(t["name"] for t in d["tensors"] if t["name"].startswith("blk.2."))' "[]"

# --- requantizing a stored variant gives what quantizing the source gives ----------------
make_llm "$T/q" --arch qwen3 --hidden 256 --ffn 768 --layers 3 --dtype F32 --seed 5
run 0 "$ARCA" add "$T/q" --as acme/q -q
run 0 "$ARCA" convert acme/q --quant f32 --out "$T/q-f32.gguf" -q
run 0 "$ARCA" convert acme/q --quant q4_0 --out "$T/q-arca-q4_0.gguf" -q
run 0 "$ARCA" convert acme/q:f32 --quant q4_0 --out "$T/q-requant-q4_0.gguf" -q
python3 "$ARCA_SOURCE/tests/fixtures/gguf_tensors.py" compare "$T/q-requant-q4_0.gguf" \
	"$T/q-arca-q4_0.gguf" >"$T/cmp.txt" || fail "requantized q4_0 differs: $(cat "$T/cmp.txt")"
run 0 "$ARCA" inspect acme/q:q4_0 --json
expect_json 'd["metadata"]["general.file_type"]["value"]' 2

# --- round trip GGUF → safetensors → GGUF, exact for F32 / F16 / BF16 ------------------------
# (also InternLM2, whose wqkv is rebuilt from attn_q/k/v, and ChatGLM, glm4moe whose rotary
# inv_freq and MTP layer the GGUF never held)
for case in llama:F32 llama:F16 llama:BF16 internlm2:F32 chatglm:BF16 glm4moe:F32; do
	arch=${case%:*} dt=${case#*:} lower=$(echo ${case#*:} | tr A-Z a-z)
	name=rt-$arch-$dt
	make_llm "$T/$name" --arch $arch --dtype $dt --seed 6
	run 0 "$ARCA" add "$T/$name" --as acme/$name -q
	run 0 "$ARCA" convert acme/$name --quant $lower --out "$T/a-$name.gguf" -q
	run 0 "$ARCA" convert acme/$name:$lower --to safetensors --out "$T/back-$name" --json
	expect_json 'd["variant"]' "hf-$lower"
	[ -f "$T/back-$name/model.safetensors" ] && [ -f "$T/back-$name/config.json" ] \
		&& [ -f "$T/back-$name/tokenizer.json" ] || fail "the HF folder is incomplete"
	run 0 "$ARCA" add "$T/back-$name" --as acme/$name-again -q
	run 0 "$ARCA" convert acme/$name-again --quant $lower --out "$T/b-$name.gguf" -q
	# the tensors are identical (metadata differs only in general.name)
	python3 "$ARCA_SOURCE/tests/fixtures/gguf_tensors.py" compare "$T/a-$name.gguf" \
		"$T/b-$name.gguf" >"$T/cmp.txt" || fail "$case round trip is not exact: $(cat "$T/cmp.txt")"
	# and the safetensors hold the original values (norms come back as F32, widened exactly)
	python3 - "$T/$name/model.safetensors" "$T/back-$name/model.safetensors" <<'PY' || fail "$case safetensors differ"
import json, re, struct, sys
def values(p):
    b = open(p, "rb").read(); n, = struct.unpack_from("<Q", b); h = json.loads(b[8:8 + n])
    h.pop("__metadata__", None)
    out = {}
    for k, v in h.items():
        raw = b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
        if v["dtype"] == "F32":
            vals = struct.unpack("<%df" % (len(raw) // 4), raw)
        elif v["dtype"] == "F16":
            vals = struct.unpack("<%de" % (len(raw) // 2), raw)
        else:
            vals = [struct.unpack("<f", struct.pack("<I", u << 16))[0]
                    for u in struct.unpack("<%dH" % (len(raw) // 2), raw)]
        out[k] = (v["shape"], list(vals))
    return out
x, y = values(sys.argv[1]), values(sys.argv[2])
# never in a GGUF: ChatGLM's rotary inv_freq, GLM-4.5's MTP layer (index 2 here)
x = {k: v for k, v in x.items() if not re.search(r"rotary_pos_emb|^model\.layers\.2\.", k)}
assert sorted(x) == sorted(y), set(x) ^ set(y)
bad = [k for k in x if x[k] != y[k]]
assert not bad, bad[:5]
PY
done

# --- inspect -----------------------------------------------------------------------------
run 0 "$ARCA" inspect "$T/qwen2/model.safetensors"
expect_stdout "safetensors, "
expect_stdout "model.embed_tokens.weight"
run 0 "$ARCA" inspect "$T/qwen2-q8_0.gguf" --json
expect_json 'd["format"]' gguf
expect_json 'd["metadata"]["general.architecture"]["value"]' qwen2
expect_json 'd["metadata"]["tokenizer.ggml.pre"]["value"]' qwen2
run 1 "$ARCA" inspect acme/qwen2 --file config.json
expect_stderr "neither GGUF"
run 0 "$ARCA" inspect acme/qwen2 --file model.safetensors --no-tensors
head -c 1000 "$T/qwen2-q8_0.gguf" > "$T/cut.gguf"
run 1 "$ARCA" inspect "$T/cut.gguf"
expect_stderr "cut.gguf"
run 4 "$ARCA" inspect "$T/none.gguf"
run 4 "$ARCA" inspect acme/qwen2:q2_k
expect_stderr "has no variant 'q2_k'"
expect_stderr "arca convert"

# --- bad input ---------------------------------------------------------------------------
make_llm "$T/nan" --arch qwen2 --nan model.layers.1.mlp.up_proj.weight
run 0 "$ARCA" add "$T/nan" --as acme/nan -q
run 1 "$ARCA" convert acme/nan --quant q8_0
expect_stderr "tensor model.layers.1.mlp.up_proj.weight has a NaN"
make_llm "$T/odd" --arch qwen2
python3 - "$T/odd/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["architectures"] = ["MambaForCausalLM"]
json.dump(c, open(sys.argv[1], "w"))
PY
run 0 "$ARCA" add "$T/odd" --as acme/odd -q
run 1 "$ARCA" convert acme/odd
expect_stderr "architecture MambaForCausalLM is not supported"
expect_stderr "qwen3 (Qwen3ForCausalLM)"
make_llm "$T/pre" --arch qwen2
python3 - "$T/pre/tokenizer.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1], encoding="utf-8"))
t["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+|\\s+"
json.dump(t, open(sys.argv[1], "w", encoding="utf-8"))
PY
run 0 "$ARCA" add "$T/pre" --as acme/pre -q
run 1 "$ARCA" convert acme/pre
expect_stderr "unknown pre-tokenizer"
make_model "$T/notok" --arch qwen2
run 0 "$ARCA" add "$T/notok" --as acme/notok -q
run 1 "$ARCA" convert acme/notok
expect_stderr "no tokenizer.json"
run 2 "$ARCA" convert acme/qwen2 --quant q9_9
expect_stderr "unknown type 'q9_9'"
run 2 "$ARCA" convert acme/qwen2 --to safetensors
expect_stderr "needs a GGUF variant"
run 2 "$ARCA" convert acme/qwen2:q8_0
expect_stderr "is already GGUF"
run 4 "$ARCA" convert acme/qwen2:q5_1 --quant q8_0
expect_stderr "has no variant 'q5_1'"
pass
