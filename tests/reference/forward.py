#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An independent float64 forward pass for qwen2, qwen3 and llama checkpoints, written from
the architectures' definitions with numpy, reading the original Hugging Face folder
(config.json + safetensors in BF16, F16 or F32). Nothing here comes from arca: it works on
the unconverted weights (so it also checks the converter's LLaMA Q/K row permutation) and
uses the rotate-half RoPE of the Hugging Face models.

    forward.py MODEL_DIR --ids 1,2,3 [--top K]
        prints {"logits_top": [[[id, logit], ...] per position]} for every position

Run with Debian's /usr/bin/python3 (python3-numpy).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np


def read_safetensors(path):
    raw = open(path, "rb").read()
    n, = struct.unpack_from("<Q", raw)
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        buf = raw[base + b:base + e]
        if t["dtype"] == "BF16":
            a = (np.frombuffer(buf, "<u2").astype(np.uint32) << 16).view(np.float32)
        elif t["dtype"] == "F16":
            a = np.frombuffer(buf, "<f2")
        elif t["dtype"] == "F32":
            a = np.frombuffer(buf, "<f4")
        else:
            raise SystemExit("forward.py: %s is %s; only BF16, F16, F32" % (name, t["dtype"]))
        out[name] = a.astype(np.float64).reshape(t["shape"])
    return out


def load(model_dir):
    config = json.load(open(os.path.join(model_dir, "config.json")))
    index = os.path.join(model_dir, "model.safetensors.index.json")
    weights = {}
    if os.path.exists(index):
        for shard in sorted(set(json.load(open(index))["weight_map"].values())):
            weights.update(read_safetensors(os.path.join(model_dir, shard)))
    else:
        weights = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    return config, weights


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, positions, theta):
    """Rotate-half RoPE over the last axis (head_dim) of x [T, heads, hd]."""
    hd = x.shape[-1]
    inv = 1.0 / theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd)
    ang = np.outer(positions, inv)                      # [T, hd/2]
    cos = np.concatenate([np.cos(ang)] * 2, axis=-1)[:, None, :]
    sin = np.concatenate([np.sin(ang)] * 2, axis=-1)[:, None, :]
    half = hd // 2
    rotated = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rotated * sin


def logits(model_dir, ids):
    """Logits [T, vocab] for the token ids (positions 0..T-1), in float64."""
    c, w = load(model_dir)
    kind = c["model_type"]
    if kind not in ("qwen2", "qwen3", "llama"):
        raise SystemExit("forward.py: model_type %s is not implemented" % kind)
    E, H = c["hidden_size"], c["num_attention_heads"]
    KV = c.get("num_key_value_heads", H)
    hd = c.get("head_dim") or E // H
    eps, theta = c.get("rms_norm_eps", 1e-6), c.get("rope_theta", 10000.0)
    T = len(ids)
    pos = np.arange(T, dtype=np.float64)
    x = w["model.embed_tokens.weight"][ids]
    mask = np.triu(np.full((T, T), -np.inf), k=1)
    for layer in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % layer
        a = rms_norm(x, w[p + "input_layernorm.weight"], eps)

        def proj(name, v):
            y = v @ w[p + name + ".weight"].T
            bias = w.get(p + name + ".bias")
            return y + bias if bias is not None else y
        q = proj("self_attn.q_proj", a).reshape(T, H, hd)
        k = proj("self_attn.k_proj", a).reshape(T, KV, hd)
        v = proj("self_attn.v_proj", a).reshape(T, KV, hd)
        if kind == "qwen3":
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = rope(q, pos, theta), rope(k, pos, theta)
        out = np.empty((T, H, hd))
        for h in range(H):
            g = h // (H // KV)
            s = q[:, h, :] @ k[:, g, :].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            s /= s.sum(axis=-1, keepdims=True)
            out[:, h, :] = s @ v[:, g, :]
        x = x + proj("self_attn.o_proj", out.reshape(T, H * hd))
        a = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = a @ w[p + "mlp.gate_proj.weight"].T
        up = a @ w[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1.0 + np.exp(-gate)) * up) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return x @ head.T


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--ids", required=True)
    ap.add_argument("--top", type=int, default=10)
    a = ap.parse_args()
    ids = [int(t) for t in a.ids.split(",")]
    out = logits(a.model, ids)
    top = []
    for row in out:
        order = np.argsort(-row, kind="stable")[:a.top]
        top.append([[int(i), float(row[i])] for i in order])
    json.dump({"logits_top": top, "n_vocab": int(out.shape[1])}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
