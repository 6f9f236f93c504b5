#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes small valid seed files for the fuzz targets (standard library only):

    make_seeds.py OUT_DIR    -> OUT_DIR/safetensors/*.safetensors, OUT_DIR/gguf/*.gguf,
                                OUT_DIR/sig/* (tests/data/model-signing, with a selector),
                                OUT_DIR/spm/*.model (tests/data/tokenizers/spm),
                                OUT_DIR/tiktoken/* (small tiktoken.model files)

Valid files let the fuzzer start from deep inside the parsers instead of rediscovering
the magic numbers.
"""
import json
import os
import struct
import sys


def safetensors(tensors, meta=None):
    header, blob, off = {}, b"", 0
    if meta:
        header["__metadata__"] = meta
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(data)]}
        blob += data
        off += len(data)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + blob


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf(kvs, tensors, align=32):
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, typ, payload in kvs:
        out += gstr(key) + struct.pack("<I", typ) + payload
    off, data = 0, b""
    for name, ne, typ, raw in tensors:
        out += gstr(name) + struct.pack("<I", len(ne)) + struct.pack("<%dQ" % len(ne), *ne)
        out += struct.pack("<IQ", typ, off)
        pad = (-len(raw)) % align
        data += raw + b"\0" * pad
        off += len(raw) + pad
    out += b"\0" * ((-len(out)) % align)
    return out + data


def main():
    root = sys.argv[1]
    os.makedirs(os.path.join(root, "safetensors"), exist_ok=True)
    os.makedirs(os.path.join(root, "gguf"), exist_ok=True)
    st = {
        "two": safetensors([("a.weight", "F32", [2, 3], struct.pack("<6f", *range(6))),
                            ("b.bias", "BF16", [4], b"\x80\x3f" * 4)], {"format": "pt"}),
        "fp8": safetensors([("w", "F8_E4M3", [4, 4], bytes(range(16))),
                            ("w_scale_inv", "F32", [1, 1], struct.pack("<f", 0.5))]),
        "empty": safetensors([]),
    }
    for name, b in st.items():
        open(os.path.join(root, "safetensors", name + ".safetensors"), "wb").write(b)
    q8 = struct.pack("<e", 0.5) + bytes(range(32))       # one Q8_0 block
    kvs = [
        ("general.architecture", 8, gstr("qwen3")),
        ("general.alignment", 4, struct.pack("<I", 32)),
        ("qwen3.block_count", 4, struct.pack("<I", 2)),
        ("f", 6, struct.pack("<f", 1.5)),
        ("b", 7, b"\x01"),
        ("u64", 10, struct.pack("<Q", 7)),
        ("tokens", 9, struct.pack("<IQ", 8, 3) + gstr("a") + gstr("bc") + gstr("")),
        ("ids", 9, struct.pack("<IQ", 5, 2) + struct.pack("<2i", -1, 2)),
    ]
    tensors = [("token_embd.weight", [4, 2], 0, struct.pack("<8f", *range(8))),
               ("blk.0.attn_q.weight", [32, 1], 8, q8),
               ("norm", [3], 1, struct.pack("<3e", 1, 2, 3))]
    open(os.path.join(root, "gguf", "small.gguf"), "wb").write(gguf(kvs, tensors))
    open(os.path.join(root, "gguf", "empty.gguf"), "wb").write(gguf([], []))
    # signatures: the vendored model.sig files (selector byte 0) and trusted roots (1)
    os.makedirs(os.path.join(root, "sig"), exist_ok=True)
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data",
                        "model-signing")
    for dirpath, _, names in os.walk(data):
        for name in sorted(names):
            kind = 0 if name.endswith(".sig") else 1 if name.endswith(".json") else None
            if kind is None:
                continue
            blob = bytes([kind]) + open(os.path.join(dirpath, name), "rb").read()
            seed = os.path.relpath(os.path.join(dirpath, name), data).replace("/", "-")
            open(os.path.join(root, "sig", seed), "wb").write(blob)

    # SentencePiece models: the vendored ones (a few kB each)
    os.makedirs(os.path.join(root, "spm"), exist_ok=True)
    spm = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "tokenizers",
                       "spm")
    for name in ("unigram.model", "bpe.model"):
        open(os.path.join(root, "spm", name), "wb").write(
            open(os.path.join(spm, name), "rb").read())

    # tiktoken.model: single bytes, then merges of them (base64 of the bytes, rank)
    os.makedirs(os.path.join(root, "tiktoken"), exist_ok=True)
    import base64
    toks = [bytes([b]) for b in b"abc d"] + [b"ab", b"abc", b" d", b"abc d"]
    open(os.path.join(root, "tiktoken", "small.model"), "w").write(
        "".join("%s %d\n" % (base64.b64encode(t).decode(), r) for r, t in enumerate(toks)))

    # bundle manifests (docs/bundle.md): one snapshot with a file, a variant and a signature,
    # planned whole and in pieces across two volumes
    os.makedirs(os.path.join(root, "bundle"), exist_ok=True)
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    snap = {"hub": "hf", "repo_id": "acme/m", "commit": "0" * 40, "revision": "main",
            "refs": ["main"], "license": None, "card": None, "evidence": {"endpoint": "x"},
            "files": [{"path": "config.json", "size": 10, "sha256": a, "git_sha1": "1" * 40},
                      {"path": "w/model.safetensors", "size": 300, "sha256": b}],
            "signatures": [{"blob": c, "source": "arca", "state": "verified"}],
            "variants": [{"name": "q8_0", "kind": "gguf", "params": {},
                          "inputs": [{"path": "w/model.safetensors", "sha256": b, "size": 300}],
                          "outputs": [{"path": "model.gguf", "sha256": b, "size": 300}],
                          "validations": [{"prompt_set": "p", "tokens": [1, 2],
                                           "logits_digest": "d", "metrics": {}, "at": "t"}],
                          "signatures": []}]}
    blobs = [{"sha256": a, "size": 10}, {"sha256": b, "size": 300}, {"sha256": c, "size": 5}]
    whole = [[{"blob": x["sha256"], "offset": 0, "size": x["size"]} for x in blobs]]
    pieces = [[{"blob": a, "offset": 0, "size": 10}, {"blob": b, "offset": 0, "size": 100}],
              [{"blob": b, "offset": 100, "size": 200}, {"blob": c, "offset": 0, "size": 5}]]
    for name, plan in (("whole", whole), ("pieces", pieces)):
        doc = {"format": "arca-bundle", "version": 1, "created_at": "2026-12-01T00:00:00Z",
               "created_by": "arca", "snapshots": [snap], "blobs": blobs, "volumes": plan}
        open(os.path.join(root, "bundle", name), "w").write(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
