#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An independent float64 forward pass (numpy) for Hugging Face checkpoints of the qwen2, qwen3,
llama (and internlm3), qwen3_moe, deepseek_v2/deepseek_v3, glm4, internlm2, glm4_moe, minimax_m2
and chatglm architectures, written from the architectures' definitions. It reads the original folder (config.json + model.safetensors or shards; BF16,
F16, F32, and F8_E4M3 with per-block `_scale_inv`) and shares nothing with arca or llama.cpp:
it works on the unconverted weights with the Hugging Face RoPE layouts (rotate-half for
qwen2/qwen3/llama, so the converter's LLaMA Q/K row permutation is checked too; adjacent pairs
for DeepSeek's rope part and GLM-4's partial rotary dims).

    forward.py MODEL_DIR --ids 1,2,3 [--generate N] [--top K] [--all-logits]

prints one JSON object (format: tests/reference/README.md):
    {"model", "model_type", "n_vocab", "prompt_ids",
     "positions": [{"pos", "id", "top": [[id, logit], ...], "absmax"} | {"pos", "id", "logits"}],
     "steps": [{"id", "top" | "logits", "margin"}], "tokens": [...]}
`positions` covers the last prompt position (every position with --all-logits); with
--generate N, `steps` holds N greedy steps (argmax, ties to the lowest id): step i's logits are
those after the prompt and the first i generated tokens, its "id" the argmax. Without --top the
full logit rows are printed. As a module: logits(model_dir, ids) -> np.ndarray [T, vocab].

Run with Debian's /usr/bin/python3 (python3-numpy); no torch.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

# ---------------------------------------------------------------------------------------------
# safetensors


def _e4m3_table():
    t = np.zeros(256, dtype=np.float64)
    for b in range(256):
        s, e, m = b >> 7, (b >> 3) & 15, b & 7
        if e == 15 and m == 7:
            v = float("nan")
        elif e == 0:
            v = m / 8.0 * 2.0 ** -6
        else:
            v = (1.0 + m / 8.0) * 2.0 ** (e - 7)
        t[b] = -v if s else v
    return t


class Tensors:
    """Lazily decoded tensors of one or more safetensors files, as float64 arrays."""

    DTYPES = {"BF16": "<u2", "F16": "<f2", "F32": "<f4", "F64": "<f8", "F8_E4M3": "u1"}

    def __init__(self, paths):
        self.where = {}
        for path in paths:
            with open(path, "rb") as f:
                n, = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(n))
            header.pop("__metadata__", None)
            mm = np.memmap(path, dtype=np.uint8, mode="r")
            for name, t in header.items():
                if t["dtype"] not in self.DTYPES:
                    raise SystemExit("forward.py: %s is %s; only %s are read"
                                     % (name, t["dtype"], ", ".join(self.DTYPES)))
                b, e = t["data_offsets"]
                self.where[name] = (mm, 8 + n + b, 8 + n + e, t["dtype"], t["shape"])
        self.cache = {}
        total = sum((v[2] - v[1]) for v in self.where.values())
        self.keep = total < 512 << 20   # keep float64 copies when the model is small

    def __contains__(self, name):
        return name in self.where

    def raw(self, name):
        mm, b, e, dtype, shape = self.where[name]
        a = np.frombuffer(mm[b:e], dtype=self.DTYPES[dtype])
        if dtype == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        elif dtype == "F8_E4M3":
            a = _e4m3_table()[a]
        return a.astype(np.float64).reshape(shape)

    def __getitem__(self, name):
        if name in self.cache:
            return self.cache[name]
        if name in self.where and self.where[name] is None:
            raise SystemExit("forward.py: %s was dropped" % name)
        if name not in self.where:
            raise SystemExit("forward.py: the checkpoint has no tensor %s" % name)
        a = self.raw(name)
        scale = name + "_scale_inv"
        if self.where[name][3] == "F8_E4M3" and scale in self.where:
            s = self.raw(scale)
            br, bc = -(-a.shape[0] // s.shape[0]), -(-a.shape[1] // s.shape[1])
            a = a * np.repeat(np.repeat(s, br, axis=0), bc, axis=1)[:a.shape[0], :a.shape[1]]
        if self.keep:
            self.cache[name] = a
        return a

    def get(self, name):
        return self[name] if name in self.where else None

    def alias(self, new, old):
        """Makes `new` another name of tensor `old` (when it exists)."""
        if old in self.where:
            self.where[new] = self.where[old]

    def put(self, name, array):
        """A tensor derived from others (a split of a fused projection)."""
        self.where[name] = None
        self.cache[name] = array


def load(model_dir):
    config = json.load(open(os.path.join(model_dir, "config.json")))
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        shards = sorted(set(json.load(open(index))["weight_map"].values()))
        paths = [os.path.join(model_dir, s) for s in shards]
    else:
        paths = [os.path.join(model_dir, "model.safetensors")]
    return config, Tensors(paths)


# ---------------------------------------------------------------------------------------------
# building blocks


def rms_norm(x, w, eps):
    """x / sqrt(mean(x^2) + eps) * w over the last axis."""
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def silu(z):
    return z / (1.0 + np.exp(-z))


def softmax(s, axis=-1):
    e = np.exp(s - np.max(s, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def yarn_mscale(scale, mscale=1.0):
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def rope_freqs(config, dim):
    """Inverse frequencies [dim/2] and the cos/sin multiplier for `dim` rotated dimensions,
    with the config's rope scaling (none, linear, llama3, yarn)."""
    base = float(config.get("rope_theta", (config.get("rope_parameters") or {}).get(
        "rope_theta", 10000.0)))
    inv = 1.0 / base ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    rs = config.get("rope_scaling") or config.get("rope_parameters") or {}
    kind = rs.get("rope_type", rs.get("type", "default"))
    if kind in ("default", None):
        return inv, 1.0
    factor = float(rs.get("factor", 1.0))
    if kind == "linear":
        return inv / factor, 1.0
    if kind == "llama3":
        low, high = float(rs.get("low_freq_factor", 1.0)), float(rs.get("high_freq_factor", 4.0))
        orig = float(rs.get("original_max_position_embeddings", 8192))
        wavelen = 2 * math.pi / inv
        smooth = (orig / wavelen - low) / (high - low)
        mid = (1 - smooth) * inv / factor + smooth * inv
        out = np.where(wavelen < orig / high, inv, np.where(wavelen > orig / low, inv / factor, mid))
        return out, 1.0
    if kind == "yarn":
        orig = float(rs.get("original_max_position_embeddings")
                     or config.get("max_position_embeddings"))
        beta_fast, beta_slow = float(rs.get("beta_fast", 32)), float(rs.get("beta_slow", 1))

        def corr(rot):
            return dim * math.log(orig / (rot * 2 * math.pi)) / (2 * math.log(base))
        lo, hi = max(math.floor(corr(beta_fast)), 0), min(math.ceil(corr(beta_slow)), dim - 1)
        if lo == hi:
            hi += 0.001
        ramp = np.clip((np.arange(dim // 2, dtype=np.float64) - lo) / (hi - lo), 0, 1)
        extra = 1.0 - ramp          # 1: keep the original frequency, 0: interpolate
        out = inv / factor * (1 - extra) + inv * extra
        m, m_all = rs.get("mscale"), rs.get("mscale_all_dim")
        if rs.get("attention_factor") is not None:
            att = float(rs["attention_factor"])
        elif m and m_all:
            att = yarn_mscale(factor, m) / yarn_mscale(factor, m_all)
        else:
            att = yarn_mscale(factor)
        return out, att
    raise SystemExit("forward.py: rope scaling type %r is not implemented" % kind)


def rope(x, positions, inv, att, interleaved):
    """RoPE over the first 2*len(inv) dims of the last axis of x [T, heads, d]; the rest pass
    through. interleaved=False: rotate-half pairs (i, i + n/2) (HF Qwen/LLaMA); True: adjacent
    pairs (2i, 2i+1) (HF DeepSeek's de-interleaving rope, GLM-4)."""
    n = 2 * len(inv)
    ang = np.outer(positions, inv)[:, None, :]          # [T, 1, n/2]
    cos, sin = np.cos(ang) * att, np.sin(ang) * att
    r, rest = x[..., :n], x[..., n:]
    if interleaved:
        a, b = r[..., 0::2], r[..., 1::2]
    else:
        a, b = r[..., :n // 2], r[..., n // 2:]
    a2, b2 = a * cos - b * sin, a * sin + b * cos
    if interleaved:
        out = np.empty_like(r)
        out[..., 0::2], out[..., 1::2] = a2, b2
    else:
        out = np.concatenate([a2, b2], axis=-1)
    return np.concatenate([out, rest], axis=-1)


def attention(q, k, v, p0, scale):
    """Causal attention. q [t, H, d] at positions p0..p0+t-1; k [S, Hkv, d], v [S, Hkv, dv]
    for positions 0..S-1 (S = p0 + t); query head h uses kv head h // (H / Hkv)."""
    t, H, _ = q.shape
    S, KV, _ = k.shape
    G = H // KV
    qg = q.reshape(t, KV, G, q.shape[-1])
    s = np.einsum("tkgd,skd->kgts", qg, k) * scale
    mask = np.arange(S)[None, :] > (p0 + np.arange(t))[:, None]
    s = np.where(mask, -np.inf, s)
    p = softmax(s, axis=-1)
    o = np.einsum("kgts,skd->tkgd", p, v)
    return o.reshape(t, H * v.shape[-1])


# ---------------------------------------------------------------------------------------------
# the model


ARCHS = ("qwen2", "qwen3", "llama", "qwen3_moe", "deepseek_v2", "deepseek_v3", "glm4",
         "internlm2", "internlm3", "glm4_moe", "minimax_m2", "chatglm")


def internlm2_names(c, w):
    """InternLM2 under LLaMA's names: wqkv's rows are, per kv head, its query heads, its key
    and its value (the modeling file's "(h gs d)" rearrange, gs = q_per_kv + 2)."""
    H, KV = c["num_attention_heads"], c["num_key_value_heads"]
    hd, per = c["hidden_size"] // H, H // KV
    w.alias("model.embed_tokens.weight", "model.tok_embeddings.weight")
    w.alias("lm_head.weight", "output.weight")
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        qkv = w[p + "attention.wqkv.weight"]
        g = qkv.reshape(KV, per + 2, hd, qkv.shape[-1])
        w.put(p + "self_attn.q_proj.weight", g[:, :per].reshape(H * hd, -1))
        w.put(p + "self_attn.k_proj.weight", g[:, per].reshape(KV * hd, -1))
        w.put(p + "self_attn.v_proj.weight", g[:, per + 1].reshape(KV * hd, -1))
        for new, old in (("self_attn.o_proj", "attention.wo"), ("mlp.gate_proj", "feed_forward.w1"),
                         ("mlp.up_proj", "feed_forward.w3"), ("mlp.down_proj", "feed_forward.w2"),
                         ("input_layernorm", "attention_norm"),
                         ("post_attention_layernorm", "ffn_norm")):
            w.alias(p + new + ".weight", p + old + ".weight")


def chatglm_names(c, w):
    """ChatGLM (GLM-4-9B) under LLaMA's names: query_key_value's rows are all of q, then k,
    then v; dense_h_to_4h is [gate; up] (GLM-4's gate_up_proj)."""
    H, KV = c["num_attention_heads"], c["multi_query_group_num"]
    hd = c.get("kv_channels") or c["hidden_size"] // H
    t = "transformer."
    w.alias("model.embed_tokens.weight", t + "embedding.word_embeddings.weight")
    w.alias("model.norm.weight", t + "encoder.final_layernorm.weight")
    w.alias("lm_head.weight", t + "output_layer.weight")
    for i in range(c["num_layers"]):
        p, q = "model.layers.%d." % i, t + "encoder.layers.%d." % i
        for kind in ("weight", "bias"):
            fused = w.get(q + "self_attention.query_key_value." + kind)
            if fused is None:
                continue
            parts = np.split(fused, [H * hd, (H + KV) * hd], axis=0)
            for name, part in zip(("q_proj", "k_proj", "v_proj"), parts):
                w.put(p + "self_attn.%s.%s" % (name, kind), part)
        for new, old in (("self_attn.o_proj", "self_attention.dense"),
                         ("mlp.gate_up_proj", "mlp.dense_h_to_4h"),
                         ("mlp.down_proj", "mlp.dense_4h_to_h"),
                         ("input_layernorm", "input_layernorm"),
                         ("post_attention_layernorm", "post_attention_layernorm")):
            w.alias(p + new + ".weight", q + old + ".weight")


def minimax_m2_names(c, w):
    """MiniMax-M2's block_sparse_moe (experts w1 = gate, w3 = up, w2 = down) under mlp."""
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        w.alias(p + "mlp.gate.weight", p + "block_sparse_moe.gate.weight")
        w.alias(p + "mlp.gate.e_score_correction_bias",
                p + "block_sparse_moe.e_score_correction_bias")
        for e in range(c["num_local_experts"]):
            for new, old in (("gate_proj", "w1"), ("up_proj", "w3"), ("down_proj", "w2")):
                w.alias(p + "mlp.experts.%d.%s.weight" % (e, new),
                        p + "block_sparse_moe.experts.%d.%s.weight" % (e, old))


class Model:
    def __init__(self, model_dir):
        self.dir = model_dir
        self.c, self.w = load(model_dir)
        c = self.c
        self.kind = c.get("model_type")
        if self.kind not in ARCHS:
            raise SystemExit("forward.py: model_type %r is not implemented (have %s)"
                             % (self.kind, ", ".join(ARCHS)))
        if self.kind == "chatglm":
            c = self.c = dict(c, num_hidden_layers=c["num_layers"],
                              num_key_value_heads=c["multi_query_group_num"],
                              head_dim=c.get("kv_channels"),
                              rms_norm_eps=c.get("layernorm_epsilon", 1e-5),
                              rope_theta=10000.0 * float(c.get("rope_ratio", 1)))
            chatglm_names(c, self.w)
        if self.kind == "internlm2":
            internlm2_names(c, self.w)
        if self.kind == "minimax_m2":
            minimax_m2_names(c, self.w)
        self.E, self.H = c["hidden_size"], c["num_attention_heads"]
        self.KV = c.get("num_key_value_heads") or self.H
        self.hd = c.get("head_dim") or self.E // self.H
        self.eps = float(c.get("rms_norm_eps", 1e-6))
        self.L = c["num_hidden_layers"]
        self.mla = self.kind in ("deepseek_v2", "deepseek_v3")
        if self.mla:
            self.nope, self.rdim = c["qk_nope_head_dim"], c["qk_rope_head_dim"]
            self.vdim = c["v_head_dim"]
            self.inv, self.att = rope_freqs(c, self.rdim)
            self.scale = 1.0 / math.sqrt(self.nope + self.rdim)
            rs = c.get("rope_scaling") or {}
            if rs.get("mscale_all_dim"):
                m = yarn_mscale(float(rs.get("factor", 1.0)), float(rs["mscale_all_dim"]))
                self.scale *= m * m
        else:
            rot = self.hd
            if self.kind in ("glm4", "glm4_moe"):
                rot = int(self.hd * float(c.get("partial_rotary_factor", 0.5)))
            elif self.kind == "chatglm":      # RoPE over half of each head
                rot = self.hd // 2
            elif self.kind == "minimax_m2":
                rot = int(c.get("rotary_dim", self.hd))
            self.inv, self.att = rope_freqs(c, rot)
            self.scale = 1.0 / math.sqrt(self.hd)
        head = self.w.get("lm_head.weight")
        self.head = head if head is not None else self.w["model.embed_tokens.weight"]
        self.n_vocab = self.head.shape[0]

    # -- linear layers

    def lin(self, name, x, bias=True):
        y = x @ self.w[name + ".weight"].T
        b = self.w.get(name + ".bias") if bias else None
        return y + b if b is not None else y

    def mlp(self, p, x):
        if p + "gate_up_proj.weight" in self.w:      # GLM-4: fused [gate; up]
            gu = self.lin(p + "gate_up_proj", x)
            g, u = np.split(gu, 2, axis=-1)
        else:
            g, u = self.lin(p + "gate_proj", x), self.lin(p + "up_proj", x)
        return self.lin(p + "down_proj", silu(g) * u)

    def expert(self, p, e, x):
        q = p + "experts.%d." % e
        if q + "gate_proj.weight" in self.w:
            return self.mlp(q, x)
        gu = self.w[p + "experts.gate_up_proj"][e]    # [2 ff, E] (newer fused layout)
        g, u = np.split(x @ gu.T, 2, axis=-1)
        return (silu(g) * u) @ self.w[p + "experts.down_proj"][e].T

    def is_moe(self, i):
        c = self.c
        if self.kind == "qwen3_moe":
            step = c.get("decoder_sparse_step", 1) or 1
            return (i not in (c.get("mlp_only_layers") or []) and c.get("num_experts", 0) > 0
                    and (i + 1) % step == 0)
        if self.mla:
            return (c.get("n_routed_experts") and i >= c.get("first_k_dense_replace", 0)
                    and i % (c.get("moe_layer_freq", 1) or 1) == 0)
        if self.kind == "glm4_moe":
            return bool(c.get("n_routed_experts")) and i >= c.get("first_k_dense_replace", 0)
        return self.kind == "minimax_m2"

    def moe(self, p, x):
        """Routed experts (+ DeepSeek's shared experts) for tokens x [t, E]."""
        c = self.c
        router = x @ self.w[p + "gate.weight"].T             # [t, n_exp]
        k = c["num_experts_per_tok"]
        t, n = router.shape
        if self.kind == "qwen3_moe":
            probs = softmax(router)
            choose = probs
        else:
            # GLM-4.5's router is always a sigmoid
            func = "sigmoid" if self.kind == "glm4_moe" else c.get("scoring_func", "softmax")
            if func == "sigmoid":
                probs = 1.0 / (1.0 + np.exp(-router))
            elif func == "softmax":
                probs = softmax(router)
            else:
                raise SystemExit("forward.py: scoring_func %r is not implemented" % func)
            bias = self.w.get(p + "gate.e_score_correction_bias")
            choose = probs + bias if bias is not None else probs.copy()
            ng, tg = c.get("n_group") or 1, c.get("topk_group") or 1
            method = "noaux_tc" if self.kind == "glm4_moe" else c.get("topk_method", "greedy")
            if ng > 1 and method in ("group_limited_greedy", "noaux_tc"):
                grouped = choose.reshape(t, ng, n // ng)
                if method == "noaux_tc":
                    gs = np.sort(grouped, axis=-1)[..., -2:].sum(axis=-1)
                else:
                    gs = grouped.max(axis=-1)
                keep = np.argsort(-gs, axis=-1, kind="stable")[:, :tg]
                gmask = np.zeros((t, ng), dtype=bool)
                np.put_along_axis(gmask, keep, True, axis=1)
                choose = np.where(np.repeat(gmask, n // ng, axis=1), choose, -np.inf)
        sel = np.argsort(-choose, axis=-1, kind="stable")[:, :k]   # ties: lowest expert id
        wts = np.take_along_axis(probs, sel, axis=-1)
        if self.kind == "qwen3_moe":
            if c.get("norm_topk_prob", False):
                wts = wts / wts.sum(axis=-1, keepdims=True)
        elif self.kind == "minimax_m2":    # always renormalized, never scaled
            wts = wts / wts.sum(axis=-1, keepdims=True)
        elif self.kind in ("deepseek_v3", "glm4_moe"):
            if c.get("norm_topk_prob", False):
                wts = wts / (wts.sum(axis=-1, keepdims=True) + 1e-20)
            wts = wts * float(c.get("routed_scaling_factor", 1.0))
        else:   # DeepSeek-V2: normalise (top_k > 1 and norm_topk_prob) or scale
            if k > 1 and c.get("norm_topk_prob", False):
                wts = wts / (wts.sum(axis=-1, keepdims=True) + 1e-20)
            else:
                wts = wts * float(c.get("routed_scaling_factor", 1.0))
        out = np.zeros_like(x)
        for e in np.unique(sel):
            rows, slot = np.nonzero(sel == e)
            out[rows] += wts[rows, slot][:, None] * self.expert(p, int(e), x[rows])
        if p + "shared_experts.gate_proj.weight" in self.w:
            out += self.mlp(p + "shared_experts.", x)
        return out

    # -- attention

    def attn(self, i, p, a, pos, cache):
        t = a.shape[0]
        if self.mla:
            return self.attn_mla(p, a, pos, cache)
        q, k = self.lin(p + "q_proj", a), self.lin(p + "k_proj", a)
        if self.kind == "minimax_m2":      # one RMSNorm over all of q, one over all of k
            q = rms_norm(q, self.w[p + "q_norm.weight"], self.eps)
            k = rms_norm(k, self.w[p + "k_norm.weight"], self.eps)
        q = q.reshape(t, self.H, self.hd)
        k = k.reshape(t, self.KV, self.hd)
        v = self.lin(p + "v_proj", a).reshape(t, self.KV, self.hd)
        if self.kind != "minimax_m2" and p + "q_norm.weight" in self.w:
            # Qwen3, GLM-4.5: per-head norm before RoPE
            q = rms_norm(q, self.w[p + "q_norm.weight"], self.eps)
            k = rms_norm(k, self.w[p + "k_norm.weight"], self.eps)
        inter = self.kind in ("glm4", "chatglm")
        q = rope(q, pos, self.inv, self.att, inter)
        k = rope(k, pos, self.inv, self.att, inter)
        k, v = cache.append(i, k, v)
        return self.lin(p + "o_proj", attention(q, k, v, int(pos[0]), self.scale))

    def attn_mla(self, p, a, pos, cache):
        t, H = a.shape[0], self.H
        if p + "q_a_proj.weight" in self.w:
            qa = rms_norm(self.lin(p + "q_a_proj", a), self.w[p + "q_a_layernorm.weight"],
                          self.eps)
            q = self.lin(p + "q_b_proj", qa)
        else:
            q = self.lin(p + "q_proj", a)
        q = q.reshape(t, H, self.nope + self.rdim)
        q_nope, q_pe = q[..., :self.nope], q[..., self.nope:]
        ckv = self.lin(p + "kv_a_proj_with_mqa", a)
        lora = ckv.shape[-1] - self.rdim
        latent, k_pe = ckv[:, :lora], ckv[:, lora:].reshape(t, 1, self.rdim)
        kv = self.lin(p + "kv_b_proj", rms_norm(latent, self.w[p + "kv_a_layernorm.weight"],
                                                self.eps)).reshape(t, H, self.nope + self.vdim)
        k_nope, v = kv[..., :self.nope], kv[..., self.nope:]
        q_pe = rope(q_pe, pos, self.inv, self.att, True)
        k_pe = rope(k_pe, pos, self.inv, self.att, True)
        qf = np.concatenate([q_nope, q_pe], axis=-1)
        kf = np.concatenate([k_nope, np.broadcast_to(k_pe, (t, H, self.rdim))], axis=-1)
        kf, v = cache.append(p, kf, v)
        return self.lin(p + "o_proj", attention(qf, kf, v, int(pos[0]), self.scale))

    # -- the whole pass

    def forward(self, ids, cache=None):
        """Logits [len(ids), vocab] of ids placed after what `cache` holds (a new Cache if
        None: positions from 0)."""
        cache = cache if cache is not None else Cache()
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.w["model.embed_tokens.weight"].shape[0]):
            raise SystemExit("forward.py: token id outside the vocabulary")
        pos = np.arange(cache.n, cache.n + len(ids), dtype=np.float64)
        x = self.w["model.embed_tokens.weight"][ids]
        for i in range(self.L):
            p = "model.layers.%d." % i
            a = rms_norm(x, self.w[p + "input_layernorm.weight"], self.eps)
            o = self.attn(i, p + "self_attn.", a, pos, cache)
            if self.kind == "glm4":
                o = rms_norm(o, self.w[p + "post_self_attn_layernorm.weight"], self.eps)
            x = x + o
            a = rms_norm(x, self.w[p + "post_attention_layernorm.weight"], self.eps)
            f = self.moe(p + "mlp.", a) if self.is_moe(i) else self.mlp(p + "mlp.", a)
            if self.kind == "glm4":
                f = rms_norm(f, self.w[p + "post_mlp_layernorm.weight"], self.eps)
            x = x + f
        cache.n += len(ids)
        x = rms_norm(x, self.w["model.norm.weight"], self.eps)
        return x @ self.head.T


class Cache:
    """Keys (after RoPE) and values of the positions seen so far, per layer."""

    def __init__(self):
        self.n, self.kv = 0, {}

    def append(self, layer, k, v):
        if layer in self.kv:
            k0, v0 = self.kv[layer]
            k, v = np.concatenate([k0, k]), np.concatenate([v0, v])
        self.kv[layer] = (k, v)
        return k, v


_models = {}


def model(model_dir):
    key = os.path.abspath(model_dir)
    if key not in _models:
        _models[key] = Model(model_dir)
    return _models[key]


def logits(model_dir, ids):
    """Logits [T, vocab] for the token ids (positions 0..T-1), in float64."""
    return model(model_dir).forward(list(ids))


def argmax(row):
    return int(np.argmax(row))      # the first maximum: ties go to the lowest id


def top_k(row, k):
    order = np.argsort(-row, kind="stable")[:k]
    return [[int(i), float(row[i])] for i in order]


def margin(row):
    two = np.partition(-row, 1)[:2]
    return float(two[1] - two[0])


def generate(model_dir, ids, n):
    """(prompt logits [T, vocab], [(chosen id, logits row)] for n greedy steps)."""
    m, cache = model(model_dir), Cache()
    prompt = m.forward(list(ids), cache)
    steps, row = [], prompt[-1]
    for s in range(n):
        tok = argmax(row)
        steps.append((tok, row))
        if s + 1 < n:
            row = m.forward([tok], cache)[-1]
    return prompt, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--ids", required=True, help="comma-separated prompt token ids")
    ap.add_argument("--generate", type=int, default=0, metavar="N",
                    help="greedy steps after the prompt")
    ap.add_argument("--top", type=int, default=0, metavar="K",
                    help="print the K largest logits per row instead of the full rows")
    ap.add_argument("--all-logits", action="store_true",
                    help="every prompt position, not only the last")
    a = ap.parse_args()
    try:
        ids = [int(t) for t in a.ids.split(",")]
    except ValueError:
        ap.error("--ids: comma-separated token ids")
    if not ids or a.generate < 0 or a.top < 0:
        ap.error("--ids needs at least one id; --generate and --top are >= 0")
    prompt, steps = generate(a.model, ids, a.generate)
    m = model(a.model)

    def row_json(row):
        if a.top:
            return {"top": top_k(row, a.top), "absmax": float(np.max(np.abs(row)))}
        return {"logits": [float(v) for v in row]}
    first = 0 if a.all_logits else len(ids) - 1
    out = {
        "model": os.path.abspath(a.model), "model_type": m.kind, "n_vocab": int(m.n_vocab),
        "prompt_ids": ids,
        "positions": [dict({"pos": i, "id": ids[i]}, **row_json(prompt[i]))
                      for i in range(first, len(ids))],
        "steps": [dict({"id": tok, "margin": margin(row)}, **row_json(row)) for tok, row in steps],
        "tokens": [tok for tok, _ in steps],
    }
    json.dump(out, sys.stdout, separators=(",", ":"))
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
