#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/run_vs_native.sh's table: per (type, threads, test) the median tokens/s of arca and
llama-bench over the rounds, their min-max ranges, and arca/llama (ratio of the medians,
with the range of the ratio a pessimist and an optimist would draw: worst arca over best
llama, best arca over worst llama), and arca's largest peak resident memory for the row
(llama-bench does not report its own).

    native_table.py RESULTS.jsonl
"""
import json
import statistics
import sys

rows = {}
kv = {}
rss = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r["type"], r["threads"], r["test"])
    rows.setdefault(key, {"arca": [], "llama": []})[r["side"]].append(r["tps"])
    if r.get("peak_rss_mib"):
        rss[key] = max(rss.get(key, 0), r["peak_rss_mib"])
    if r.get("kv_bytes_per_token"):
        kv[r["type"]] = r["kv_bytes_per_token"]

print("| type | threads | test | rounds | llama tok/s median (range) | arca tok/s median (range) "
      "| arca/llama (range) | arca peak RSS MiB |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for (q, t, test), v in rows.items():
    a, l = v["arca"], v["llama"]
    if not a or not l:
        continue
    ma, ml = statistics.median(a), statistics.median(l)
    print("| %s | %d | %s | %d | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) | %.2f (%.2f–%.2f) | %s |"
          % (q, t, test, min(len(a), len(l)), ml, min(l), max(l), ma, min(a), max(a),
             ma / ml, min(a) / max(l), max(a) / min(l),
             "%.0f" % rss[(q, t, test)] if (q, t, test) in rss else "—"))
for q, b in kv.items():
    print("arca KV cache, %s model: %d bytes per token" % (q, b))
