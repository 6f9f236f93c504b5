#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca tokenize, arca run with text, and arca validate on a tiny model carrying the real
# Qwen3 tokenizer: ids are the same from text and from a file (t_tokenize_llama.sh checks
# them against llama.cpp's tokenizer on the same GGUF); run streams text and
# applies the chat form; validate records a fingerprint, finds it again for a second copy
# of the same commit, compares a quantized variant with its source, and exits 3 when the
# recorded behaviour no longer matches.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tok"
for f in tokenizer.json tokenizer_config.json; do
	zstd -dqf "$ARCA_SOURCE/tests/data/tokenizers/qwen3/$f.zst" -o "$T/tok/$f" ||
		fail "cannot decompress $f (the zstd program: scripts/setup-debian.sh)"
done
run 0 "$ARCA" init
make_llm "$T/m" --arch qwen3 --hidden 128 --ffn 256 --layers 2 --heads 4 --kv-heads 2 \
	--tokenizer-dir "$T/tok" --vocab 151936 --seed 9 --std-scale 5
run 0 "$ARCA" add "$T/m" --as acme/m -q
run 0 "$ARCA" convert acme/m --quant f16 -q
run 0 "$ARCA" convert acme/m --quant q8_0 --out "$T/m-q8_0.gguf" -q

# tokenize
run 0 "$ARCA" tokenize acme/m:q8_0 -- "Hello world"
expect_stdout "9707 1879"
TEXT=$'Hello 世界! <|im_start|>user\n  tabs\tand  spaces 12345 😀'
run 0 "$ARCA" tokenize acme/m:q8_0 --json -- "$TEXT"
ours=$(json 'd["ids"]')
printf '%s' "$TEXT" > "$T/text.txt"
run 0 "$ARCA" tokenize acme/m:q8_0 --json --file "$T/text.txt"
[ "$(json 'd["ids"]')" = "$ours" ] || fail "--file gives other ids"
run 2 "$ARCA" tokenize acme/m:q8_0 --file "$T/text.txt" -- "both"
run 1 "$ARCA" tokenize acme/m:q8_0 -- $'bad \xc3'
expect_stderr "not valid UTF-8"

# run with text: the streamed text is the tokens' text
run 0 "$ARCA" run acme/m:q8_0 -p "The lighthouse" -n 6 --ignore-eos --json
expect_json 'd["text"] == "".join(t["text"] for t in d["tokens"])' True
expect_json 'len(d["tokens"])' 6
run 0 "$ARCA" run acme/m:q8_0 --chat --system "Be brief." -p "Hi" -n 3 --json
expect_json 'd["prompt_ids"][:3]' "[151644, 8948, 198]"
run 2 "$ARCA" run acme/m:q8_0 --chat --prompt-ids 1,2

# validate: record, then compare
run 0 "$ARCA" validate acme/m:q8_0 --json
expect_json 'd["status"]' recorded
expect_json 'd["metrics"]["agreement"]["source"]' f16
expect_json '0 <= d["metrics"]["agreement"]["top1"] <= 1 and d["metrics"]["agreement"]["mean_kld"] >= 0' True
run 0 "$ARCA" validate acme/m:q8_0
expect_stdout "behaves as recorded"
# a second copy of the same commit (another name) finds the first copy's fingerprint
run 0 "$ARCA" add "$T/m" --as acme/copy -q
run 0 "$ARCA" convert acme/copy --quant q8_0 -q
run 0 "$ARCA" validate acme/copy:q8_0 --json --no-source
expect_json 'd["status"]' same
# the unquantized source has no agreement to report
run 0 "$ARCA" validate acme/m:f16 --json
expect_json '"agreement" in d["metrics"]' False
# a recorded fingerprint that no longer matches: exit 3
python3 - "$ARCA_HOME/catalog.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE validations SET tokens_json = replace(tokens_json, '[', '[1,') WHERE id = "
           "(SELECT max(v.id) FROM validations v JOIN artifacts a ON a.id = v.artifact "
           "WHERE a.name = 'q8_0')")
db.commit()
PY
run 3 "$ARCA" validate acme/m:q8_0
expect_stderr "no longer behaves as recorded"
# a file outside the store: fingerprint printed, nothing recorded
run 0 "$ARCA" validate "$T/m-q8_0.gguf"
expect_stdout "nothing recorded"
pass
