#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SentencePiece checkpoints through arca convert and arca tokenize: a tiny llama model whose
# only tokenizer is tokenizer.model (the vendored tests/data/tokenizers/spm models) converts
# to a `llama` vocabulary; with the BPE model arca's ids equal llama.cpp's on the same GGUF
# (node-llama-cpp) and sentencepiece's; with the unigram model arca's ids equal
# sentencepiece's (tests/data/tokenizer_corpus/expected_spm_unigram.json), which llama.cpp's
# merge search does not always give. Skipped without tests/node's node-llama-cpp.
. "$(dirname "$0")/lib.sh"

need_node_module node-llama-cpp
SPM="$ARCA_SOURCE/tests/data/tokenizers/spm"
EXPECTED="$ARCA_SOURCE/tests/data/tokenizer_corpus"
run 0 "$ARCA" init
for kind in bpe unigram; do
	make_llm "$T/$kind" --arch llama --hidden 64 --ffn 128 --layers 2 --heads 4 --kv-heads 2 \
		--no-tokenizer --vocab 1216 --seed 4
	cp "$SPM/$kind.model" "$T/$kind/tokenizer.model"
	run 0 "$ARCA" add "$T/$kind" --as "acme/$kind" -q
	run 0 "$ARCA" convert "acme/$kind" --quant q8_0 --out "$T/$kind.gguf" -q
	run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/$kind.gguf" --check-load
done

# a tokenizer.json that is not byte-level BPE (as Hugging Face makes from a SentencePiece
# model) next to tokenizer.model: the SentencePiece model is converted
make_llm "$T/both" --arch llama --hidden 64 --ffn 128 --layers 2 --heads 4 --kv-heads 2 \
	--no-tokenizer --vocab 1216 --seed 4
cp "$SPM/bpe.model" "$T/both/tokenizer.model"
echo '{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type":
	"Metaspace", "replacement": "\u2581"}}' > "$T/both/tokenizer.json"
run 0 "$ARCA" add "$T/both" --as acme/both -q
run 0 "$ARCA" convert acme/both --quant q8_0 --out "$T/both.gguf" -q
run 0 "$ARCA" tokenize acme/bpe:q8_0 --json -- "hello"
want=$(json 'd["ids"]')
run 0 "$ARCA" tokenize acme/both:q8_0 --json -- "hello"
[ "$(json 'd["ids"]')" = "$want" ] ||
	fail "tokenizer.json + tokenizer.model: not the SentencePiece vocabulary"
rm "$T/both/tokenizer.model"
run 0 "$ARCA" add "$T/both" --as acme/jsononly -q
run 1 "$ARCA" convert acme/jsononly
expect_stderr "Metaspace"

# the first corpus line: BOS, then what sentencepiece gives
LINE=$(head -n 1 "$ARCA_SOURCE/tests/data/tokenizer_corpus/corpus.txt")
for kind in bpe unigram; do
	run 0 "$ARCA" tokenize "acme/$kind:q8_0" --json -- "$LINE"
	ours=$(json 'd["ids"]')
	want=$(python3 -c 'import json,sys; print([1] + json.load(open(sys.argv[1]))["lines"][0])' \
		"$EXPECTED/expected_spm_$kind.json")
	[ "$ours" = "$want" ] || fail "$kind: arca $ours, sentencepiece $want"
done

# Google's sentencepiece itself (Debian's python3-sentencepiece, for /usr/bin/python3), when
# installed: the vendored expected ids are still what it gives for the vendored models
if /usr/bin/python3 -c 'import sentencepiece' 2>/dev/null; then
	/usr/bin/python3 - "$SPM" "$EXPECTED" "$ARCA_SOURCE/tests/data/tokenizer_corpus/corpus.txt" <<'PY' ||
import json, sys
import sentencepiece as spm
models, expected, corpus = sys.argv[1:4]
text = open(corpus, encoding="utf-8").read()
for kind in ("unigram", "bpe", "unigram_nofb", "bpe_nofb"):
    sp = spm.SentencePieceProcessor(model_file="%s/%s.model" % (models, kind))
    want = json.load(open("%s/expected_spm_%s.json" % (expected, kind)))
    got = [sp.encode(l) for l in text.split("\n") if l]
    if got != want["lines"] or sp.encode(text) != want["whole"]:
        sys.exit("%s: sentencepiece's ids differ from expected_spm_%s.json" % (kind, kind))
PY
		fail "the vendored SentencePiece ids are stale (tests/data/tokenizers/spm/make_spm.py)"
fi

# llama.cpp on the BPE model: the same ids (its SPM search is SentencePiece's BPE search)
TEXT=$'Hello 世界! tabs\tand  spaces 12345 😀 naïve café a<unk>b <s>x</s>  y'
run 0 "$ARCA" tokenize acme/bpe:q8_0 --json -- "$TEXT"
ours=$(json 'd["ids"]')
run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/bpe.gguf" --tokenize "$TEXT"
[ "$(json 'd["ids"]')" = "$ours" ] || fail "bpe: arca $ours, llama.cpp $(json 'd["ids"]')"
CORPUS=$(cat "$ARCA_SOURCE/tests/data/tokenizer_corpus/corpus.txt")
run 0 "$ARCA" tokenize acme/bpe:q8_0 --json -- "$CORPUS"
ours=$(json 'd["ids"]')
run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/bpe.gguf" --tokenize "$CORPUS"
[ "$(json 'd["ids"]')" = "$ours" ] || fail "bpe corpus: arca and llama.cpp differ"
pass
