#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The table of bench/gpu_bench.sh: each row (one shape x type: gguf_synth's line, arca
bench's JSON) against the measured ceilings (bench/gpu_ceilings.py).

    weight GB/tok   what a decoded token reads (arca bench's weight_bytes)
    decode tok/s    arca bench's decode_tps mean (± stdev over --reps)
    roofline tok/s  measured copy bandwidth (read + write) / weight bytes per token
    % roof          decode / roofline
    prefill tok/s   arca bench's prefill_tps mean
    TFLOP/s         2 x (layer matrix params x P + output params) x prefill_tps / P: the
                    products a prompt of P tokens multiplies (arca computes the last
                    token's logits only; attention's own products are left out: under 1%
                    at P = 512 for these shapes)
    % mm            that rate / the measured dense bf16 matrix-product rate
    tiles t/s       prefill with the tile kernels instead of cuBLAS (ARCA_GPU_BLAS=off)
    llama pp, tg    llama.cpp's llama-bench (CUDA) on the same file: prefill and decode
                    tok/s (its avg_ts)
    pp x, tg x      arca / llama.cpp

    gpu_table.py RESULTS.jsonl CEILINGS.json [--json OUT.json] [--peer PEER.json]

--peer takes the llama.cpp columns from another run's --json (scripts/gpu-peer.sh's, a
call of its own on the same machine: llama-bench is too large to travel with arca) for the
rows of the same shape and type that have none. A run of llama-bench alone has no arca
row to read the bytes per token from and takes the file's (the token embeddings too: its
roofline is a few percent low); merged, the arca run's bytes and ceilings count.

Exits 1 when a row failed (not when one was skipped for the time budget).
"""
import json
import sys


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def main():
    args = sys.argv[1:]
    out_json = peer = None
    if "--json" in args:
        i = args.index("--json")
        out_json = args[i + 1]
        del args[i:i + 2]
    if "--peer" in args:
        i = args.index("--peer")
        peer = {(r["shape"], r["type"]): r for r in json.load(open(args[i + 1]))["rows"]}
        del args[i:i + 2]
    rows = [json.loads(line) for line in open(args[0]) if line.strip()]
    try:
        ceil = json.load(open(args[1]))
    except (OSError, ValueError):
        ceil = {"error": "no ceilings measured"}
    bw = ceil.get("copy_gbps")
    mm = ceil.get("bf16_tflops")
    table = []
    for r in rows:
        b = r.get("bench") or {}
        s = r.get("synth") or {}
        t = {"shape": r["shape"], "type": r["type"], "status": r["status"]}
        wb = b.get("weight_bytes")
        dec = (b.get("decode_tps") or {}).get("mean")
        pre = (b.get("prefill_tps") or {}).get("mean")
        p = b.get("prompt") or 0
        if not wb and s.get("bytes"):   # llama-bench alone: the file's bytes per token
            wb = s["bytes"]
        t["weight_gb_per_token"] = wb / 1e9 if wb else None
        t["decode_tps"] = dec
        t["decode_tps_stdev"] = (b.get("decode_tps") or {}).get("stdev")
        t["roofline_tps"] = bw * 1e9 / wb if bw and wb else None
        t["decode_pct_roofline"] = (100 * dec / t["roofline_tps"]
                                    if dec and t["roofline_tps"] else None)
        t["prefill_tps"] = pre
        flops = None
        if pre and p and s.get("layer_matrix_params"):
            flops = 2 * (s["layer_matrix_params"] * p + s["output_params"]) * pre / p
        t["prefill_tflops"] = flops / 1e12 if flops else None
        t["prefill_pct_bf16_mm"] = 100 * t["prefill_tflops"] / mm if flops and mm else None
        t["prefill_tiles_tps"] = ((r.get("tiles") or {}).get("prefill_tps") or {}).get("mean")
        t["gpu_products"] = b.get("gpu_products")
        ll = r.get("llama") if isinstance(r.get("llama"), list) else []
        t["llama_pp_tps"] = next((x.get("avg_ts") for x in ll
                                  if x.get("n_prompt") and not x.get("n_gen")), None)
        t["llama_tg_tps"] = next((x.get("avg_ts") for x in ll
                                  if x.get("n_gen") and not x.get("n_prompt")), None)
        other = (peer or {}).get((r["shape"], r["type"]), {})
        if t["llama_pp_tps"] is None and t["llama_tg_tps"] is None and other:
            t["llama_pp_tps"] = other.get("llama_pp_tps")
            t["llama_tg_tps"] = other.get("llama_tg_tps")
            t["llama_from"] = "peer run"
        t["llama_tg_pct_roofline"] = (100 * t["llama_tg_tps"] / t["roofline_tps"]
                                      if t["llama_tg_tps"] and t["roofline_tps"] else None)
        if t["llama_tg_pct_roofline"] is None and other.get("llama_tg_pct_roofline"):
            t["llama_tg_pct_roofline"] = other["llama_tg_pct_roofline"]
        t["pp_vs_llama"] = pre / t["llama_pp_tps"] if pre and t["llama_pp_tps"] else None
        t["tg_vs_llama"] = dec / t["llama_tg_tps"] if dec and t["llama_tg_tps"] else None
        t["device"] = b.get("device")
        t["gpu_layers"] = b.get("gpu_layers")
        table.append(t)

    print("ceilings: %s" % (
        "copy %.0f GB/s (read+write), read %.0f GB/s, bf16 matmul %.0f TFLOP/s (%dx%d), %s"
        % (bw, ceil.get("read_gbps", 0), mm, ceil["mm_n"], ceil["mm_n"], ceil["device"])
        if bw and mm else ceil.get("error", "?")))
    head = ("shape", "type", "GB/tok", "decode t/s", "roof t/s", "% roof", "prefill t/s",
            "TFLOP/s", "% mm", "tiles t/s", "llama pp", "llama tg", "ll % roof", "pp x", "tg x",
            "status")
    lines = [head]
    for t in table:
        dec = fmt(t["decode_tps"], ".1f")
        if t["decode_tps"] and t["decode_tps_stdev"]:
            dec += "±%.1f" % t["decode_tps_stdev"]
        lines.append((t["shape"], t["type"], fmt(t["weight_gb_per_token"], ".3f"), dec,
                      fmt(t["roofline_tps"], ".0f"), fmt(t["decode_pct_roofline"], ".1f"),
                      fmt(t["prefill_tps"], ".0f"), fmt(t["prefill_tflops"], ".1f"),
                      fmt(t["prefill_pct_bf16_mm"], ".1f"), fmt(t["prefill_tiles_tps"], ".0f"),
                      fmt(t["llama_pp_tps"], ".0f"), fmt(t["llama_tg_tps"], ".1f"),
                      fmt(t["llama_tg_pct_roofline"], ".1f"), fmt(t["pp_vs_llama"], ".2f"),
                      fmt(t["tg_vs_llama"], ".2f"), t["status"]))
    widths = [max(len(str(l[i])) for l in lines) for i in range(len(head))]
    for l in lines:
        print("  ".join(str(c).rjust(w) if 2 <= i < len(head) - 1 else str(c).ljust(w)
                        for i, (c, w) in enumerate(zip(l, widths))).rstrip())
    if out_json:
        with open(out_json, "w") as f:
            json.dump({"ceilings": ceil, "rows": table, "raw": rows}, f, indent=1)
    products = sorted({t["gpu_products"] for t in table if t.get("gpu_products")})
    if products:
        print("a prompt's products: " + "; ".join(products))
    failed = [t for t in table if t["status"] not in ("ok", "skipped")]
    for t in failed:
        print("%s %s: %s" % (t["shape"], t["type"], t["status"]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
