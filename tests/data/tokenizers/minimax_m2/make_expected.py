#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/data/tokenizer_corpus/expected_minimax_m2.json (standard library, the zstd
program and node with tests/node's packages):

    python3 tests/data/tokenizers/minimax_m2/make_expected.py

MiniMax-M2's tokenizer.json is byte-level BPE whose pre-tokenizer is one Split by the o200k
regex (GPT-4o's; llama.cpp names it "minimax-m2" and splits the same way as "gpt-4o") and a
ByteLevel without its own regex: pre_tokenizer.json here. Its 200k vocabulary is not
vendored, so the check uses the vendored Qwen3 tokenizer (../qwen3, Apache-2.0) with that
pre-tokenizer in place of Qwen's: the ids of @lenml/tokenizers (tests/node/tokenize_ref.mjs)
for every corpus line and the whole corpus. tests/runtime/test_tokenizer.c makes the same
swap and must give the same ids.
"""
import json
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..", "..")


def unzstd(path):
    return subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout


def main():
    qwen = os.path.join(HERE, "..", "qwen3")
    tok = json.loads(unzstd(os.path.join(qwen, "tokenizer.json.zst")))
    with open(os.path.join(HERE, "pre_tokenizer.json"), encoding="utf-8") as f:
        tok["pre_tokenizer"] = json.load(f)
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tok, f, ensure_ascii=False)
        with open(os.path.join(d, "tokenizer_config.json"), "wb") as f:
            f.write(unzstd(os.path.join(qwen, "tokenizer_config.json.zst")))
        out = subprocess.run(["node", os.path.join(ROOT, "tests", "node", "tokenize_ref.mjs"), d,
                              os.path.join(ROOT, "tests", "data", "tokenizer_corpus",
                                           "corpus.txt")],
                             check=True, capture_output=True).stdout
    with open(os.path.join(ROOT, "tests", "data", "tokenizer_corpus", "expected_minimax_m2.json"),
              "wb") as f:
        f.write(out)


if __name__ == "__main__":
    main()
