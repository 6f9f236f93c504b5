#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""One row of bench/run_vs_llama.sh's table from `arca bench --json` and llama_bench.mjs.

    bench_row.py SHAPE TYPE THREADS BANDWIDTH_GBPS ARCA_JSON LLAMA_JSON
"""
import json
import sys

shape, q, threads, bw = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
a, l = json.loads(sys.argv[5]), json.loads(sys.argv[6])
roof = bw * 1e9 / a["weight_bytes"]
ap, lp = a["prefill_tps"]["mean"], l["prefill_tps"]["mean"]
ad, ld = a["decode_tps"]["mean"], l["decode_tps"]["mean"]
print("%-5s %-7s %3s | %8.1f %8.1f %5.2fx | %7.1f %7.1f %5.2fx | %5.0f%% | %6.0f %6.0f"
      % (shape, q, threads, ap, lp, ap / lp, ad, ld, ad / ld, 100 * ad / roof,
         a["peak_rss_mib"], l["peak_rss_mib"]))
