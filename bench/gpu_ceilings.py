#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The two ceilings of a GPU, measured (bench/gpu_bench.sh): the device-to-device copy
bandwidth (bytes read + bytes written per second, the roofline of decoding) and the dense
bf16 matrix-product rate (the roofline of a prompt), through PyTorch, as the lent
machines' METHOD.md asks: random data (never zeros), warm-up first, CUDA events around
each repetition, the median of many. Buffers are far larger than the L2 (60 MB on an
H200), so repeated runs measure memory, not the cache. Prints one JSON line; without
torch or a CUDA device, {"error": ...} (exit 0, so the caller goes on without ceilings).

    python3 bench/gpu_ceilings.py [--copy-mib 4096] [--mm 8192] [--reps 30]
"""
import argparse
import json
import statistics
import sys


def timed(torch, fn, warm, reps):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--copy-mib", type=int, default=4096)
    ap.add_argument("--mm", type=int, default=8192)
    ap.add_argument("--reps", type=int, default=30)
    a = ap.parse_args()
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure means no ceilings
        print(json.dumps({"error": "no torch: %s" % e}))
        return 0
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch sees no CUDA device", "torch": torch.__version__}))
        return 0
    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(dev)
    r = {"device": props.name, "sms": props.multi_processor_count,
         "memory_gib": round(props.total_memory / 2**30, 1), "torch": torch.__version__}

    n = a.copy_mib << 20
    src = torch.randint(0, 256, (n,), dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    med, best, worst = timed(torch, lambda: dst.copy_(src), 3, a.reps)
    if not torch.equal(dst[:1 << 20], src[:1 << 20]):
        print(json.dumps({"error": "the copy did not copy"}))
        return 1
    r["copy_bytes"] = n
    r["copy_gbps"] = 2 * n / med / 1e9          # read + write
    r["copy_gbps_range"] = [2 * n / worst / 1e9, 2 * n / best / 1e9]
    # reading alone (what decoding does): a sum over the same bytes as int64 words
    words = src.view(torch.int64)
    med, best, worst = timed(torch, lambda: words.sum(), 3, a.reps)
    r["read_gbps"] = n / med / 1e9
    del src, dst, words

    m = a.mm
    sets = [(torch.randn(m, m, device=dev, dtype=torch.bfloat16),
             torch.randn(m, m, device=dev, dtype=torch.bfloat16)) for _ in range(3)]
    c = torch.empty(m, m, device=dev, dtype=torch.bfloat16)
    state = {"i": 0}

    def mm():
        x, y = sets[state["i"] % len(sets)]
        state["i"] += 1
        torch.mm(x, y, out=c)

    med, best, worst = timed(torch, mm, 5, a.reps)
    r["mm_n"] = m
    r["bf16_tflops"] = 2 * m ** 3 / med / 1e12
    r["bf16_tflops_range"] = [2 * m ** 3 / worst / 1e12, 2 * m ** 3 / best / 1e12]
    if not torch.isfinite(c).all():
        print(json.dumps({"error": "the bf16 product is not finite"}))
        return 1
    print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
