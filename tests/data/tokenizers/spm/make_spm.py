#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Trains the two small SentencePiece models of arca's tokenizer tests and writes the ids
Google's sentencepiece gives for the parity corpus. Needs Debian's python3-sentencepiece,
which is installed for /usr/bin/python3 (hence the interpreter above):

    /usr/bin/python3 tests/data/tokenizers/spm/make_spm.py

Writes, next to this script:
  unigram.model  Yi-like: unigram, byte_fallback, identity normalizer, spaces kept as they are
  bpe.model      InternLM-like: BPE, byte_fallback, identity normalizer, spaces kept
  unigram_nofb.model, bpe_nofb.model   the same without byte fallback and with ~400 pieces,
                 so that characters outside the vocabulary become <unk>
and tests/data/tokenizer_corpus/expected_spm_<name>.json in the same layout as the
other expected files ("lines": the ids of every non-empty line, "whole": the entire corpus),
encoded with sentencepiece's encode() (no BOS/EOS).
"""
import io
import json
import os
import sys

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(DATA, "tokenizer_corpus", "corpus.txt")
# training text: the corpus and the Apache licence (stable, in the repository)
TRAIN = [CORPUS, os.path.join(DATA, "..", "..", "LICENSE")]

COMMON = dict(
    byte_fallback=True,
    normalization_rule_name="identity",
    remove_extra_whitespaces=False,
    add_dummy_prefix=True,
    split_digits=True,
    allow_whitespace_only_pieces=True,
    hard_vocab_limit=False,
    character_coverage=0.98,
    num_threads=1,
    shuffle_input_sentence=False,
    seed_sentencepiece_size=100000,
)
MODELS = {
    "unigram": dict(model_type="unigram", vocab_size=1200),
    "bpe": dict(model_type="bpe", vocab_size=1200),
    "unigram_nofb": dict(model_type="unigram", vocab_size=400, byte_fallback=False),
    "bpe_nofb": dict(model_type="bpe", vocab_size=400, byte_fallback=False),
}


def main():
    lines = []
    for path in TRAIN:
        with open(path, encoding="utf-8") as f:
            lines += [l for l in f.read().split("\n") if l.strip()]
    with open(CORPUS, encoding="utf-8") as f:
        corpus = f.read()
    for name, opts in MODELS.items():
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model,
                                       **{**COMMON, **opts})
        with open(os.path.join(HERE, name + ".model"), "wb") as f:
            f.write(model.getvalue())
        sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
        expected = {
            "tokenizer": "sentencepiece %s (python3-sentencepiece), %s.model" % (spm.__version__, name),
            "lines": [sp.encode(l) for l in corpus.split("\n") if l],
            "whole": sp.encode(corpus),
        }
        out = os.path.join(DATA, "tokenizer_corpus", "expected_spm_%s.json" % name)
        with open(out, "w", encoding="utf-8") as f:
            json.dump(expected, f, separators=(",", ":"))
            f.write("\n")
        print("%s: %d pieces, %d ids for the whole corpus" % (name, sp.get_piece_size(),
              len(expected["whole"])), file=sys.stderr)


if __name__ == "__main__":
    main()
