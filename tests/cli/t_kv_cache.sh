#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# --cache-type on run, bench and validate: the KV cache in f16 (default), f32 or q8_0.
# bench reports the cache's bytes per token (n_layer × 2 × kv_heads × head_dim × bytes per
# element; q8_0: 34 bytes per 32) and runs with tokens already in the cache (--depth);
# validate keeps one fingerprint per cache type: a q8_0 fingerprint is recorded beside the
# f16 one, never compared with it, and an f16 record that no longer matches still exits 3.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tok"
for f in tokenizer.json tokenizer_config.json; do
	zstd -dqf "$ARCA_SOURCE/tests/data/tokenizers/qwen3/$f.zst" -o "$T/tok/$f" ||
		fail "cannot decompress $f (the zstd program: scripts/setup-debian.sh)"
done
run 0 "$ARCA" init
# 2 layers, 2 kv heads of 32
make_llm "$T/m" --arch qwen3 --hidden 128 --ffn 256 --layers 2 --heads 4 --kv-heads 2 \
	--tokenizer-dir "$T/tok" --vocab 151936 --seed 9 --std-scale 5
run 0 "$ARCA" add "$T/m" --as acme/m -q
run 0 "$ARCA" convert acme/m --quant q8_0 -q

# run
for c in f32 f16 q8_0; do
	run 0 "$ARCA" run acme/m:q8_0 -p "The lighthouse" -n 4 --ignore-eos --cache-type $c
done
run 2 "$ARCA" run acme/m:q8_0 -p "The lighthouse" --cache-type q4_0
expect_stderr "unknown KV cache type 'q4_0'"

# bench: bytes per token, depth
run 0 "$ARCA" bench acme/m:q8_0 -p 16 -n 4 -r 1 --json
expect_json 'd["cache_type"], d["kv_bytes_per_token"]' "('f16', 512)"
# the whole context (prompt 16 + 1 positions) in host memory
expect_json 'd["kv_host_bytes"]' $((512 * 17))
run 0 "$ARCA" bench acme/m:q8_0 -p 16 -n 4 -r 1 --cache-type f32 --json
expect_json 'd["cache_type"], d["kv_bytes_per_token"]' "('f32', 1024)"
run 0 "$ARCA" bench acme/m:q8_0 -p 16 -n 4 -r 1 --cache-type q8_0 --depth 40 --json
expect_json 'd["cache_type"], d["kv_bytes_per_token"], d["depth"]' "('q8_0', 272, 40)"
expect_json 'd["prefill_tps"]["mean"] > 0 and d["decode_tps"]["mean"] > 0' True
run 0 "$ARCA" bench acme/m:q8_0 -p 16 -n 0 -r 1 --cache-type q8_0
expect_stdout "KV cache q8_0: 272 bytes per token"
run 2 "$ARCA" bench acme/m:q8_0 --cache-type bf16

# validate: one fingerprint per cache type
run 0 "$ARCA" validate acme/m:q8_0 --json --no-source
expect_json 'd["status"], d["prompt_set"]' "('recorded', 'arca-validate-v1+kv-f16')"
run 0 "$ARCA" validate acme/m:q8_0 --json --no-source --cache-type q8_0
expect_json 'd["status"], d["prompt_set"]' "('recorded', 'arca-validate-v1+kv-q8_0')"
run 0 "$ARCA" validate acme/m:q8_0 --json --no-source --cache-type q8_0
expect_json 'd["status"]' same
run 0 "$ARCA" validate acme/m:q8_0 --json --no-source --cache-type f32
expect_json 'd["status"], d["prompt_set"]' "('recorded', 'arca-validate-v1')"
# spoil the f16 record: f16 exits 3, q8_0 and f32 still compare with their own records
python3 - "$ARCA_HOME/catalog.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE validations SET tokens_json = replace(tokens_json, '[', '[1,') "
           "WHERE prompt_set = 'arca-validate-v1+kv-f16'")
db.commit()
PY
run 3 "$ARCA" validate acme/m:q8_0 --no-source
run 0 "$ARCA" validate acme/m:q8_0 --json --no-source --cache-type q8_0
expect_json 'd["status"]' same
run 0 "$ARCA" validate acme/m:q8_0 --json --no-source --cache-type f32
expect_json 'd["status"]' same
pass
