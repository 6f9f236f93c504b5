#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the small tiktoken-format vocabulary of arca's tests (standard library and the
zstd program only):

    python3 tests/data/tokenizers/tiktoken/make_tiktoken.py

Kimi K2 ships its tokenizer as `tiktoken.model` (one "base64-of-the-token-bytes rank" line
per token) plus special tokens in tokenizer_config.json. This builds a file of that format
from the first N ranks of the vendored Qwen3 byte-level BPE (tests/data/tokenizers/qwen3,
Apache-2.0; Qwen's ids are tiktoken ranks, and the first N of them form a complete BPE
vocabulary because every token is a merge of two lower ranks), and a tokenizer_config.json
whose added_tokens_decoder names Kimi-style special tokens right after the ranks. Writes
tiktoken.model.zst and tokenizer_config.json next to this script, and ../chatglm4/
tokenizer_config.json: GLM-4-9B-chat ships the same format as tokenizer.model, with its
special tokens fixed in its tokenizer code (so the config names only the class, eos and
pad, as glm-4-9b-chat's does).
"""
import base64
import json
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
QWEN = os.path.join(HERE, "..", "qwen3", "tokenizer.json.zst")
N = 16384
SPECIALS = ["[BOS]", "[EOS]", "<|im_end|>", "<|im_user|>", "<|im_assistant|>",
            "<|im_system|>", "<|im_middle|>", "[UNK]"]


def byte_decoder():
    """GPT-2's bytes_to_unicode, inverted: character -> byte."""
    bs = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def main():
    tok = json.loads(subprocess.run(["zstd", "-dc", QWEN], check=True,
                                    capture_output=True).stdout)
    dec = byte_decoder()
    by_id = {i: t for t, i in tok["model"]["vocab"].items() if i < N}
    lines = []
    for rank in range(N):
        raw = bytes(dec[c] for c in by_id[rank])
        lines.append("%s %d\n" % (base64.b64encode(raw).decode(), rank))
    text = "".join(lines).encode()
    out = os.path.join(HERE, "tiktoken.model.zst")
    with tempfile.NamedTemporaryFile(suffix=".model") as tmp:  # a file: the frame records its size
        tmp.write(text)
        tmp.flush()
        subprocess.run(["zstd", "-19", "-q", "-f", tmp.name, "-o", out], check=True)
    config = {
        "add_bos_token": False,
        "add_eos_token": False,
        "bos_token": "[BOS]",
        "eos_token": "[EOS]",
        "unk_token": "[UNK]",
        "added_tokens_decoder": {str(N + k): {"content": s, "special": True}
                                 for k, s in enumerate(SPECIALS)},
        "tokenizer_class": "TikTokenTokenizer",
    }
    with open(os.path.join(HERE, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)
        f.write("\n")
    write_chatglm4_config()


def write_chatglm4_config():
    config = {
        "tokenizer_class": "ChatGLM4Tokenizer",
        "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "clean_up_tokenization_spaces": False,
        "chat_template": "[gMASK]<sop>{% for m in messages %}<|{{ m['role'] }}|>\n"
                         "{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}"
                         "<|assistant|>{% endif %}",
    }
    out = os.path.join(HERE, "..", "chatglm4")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
