#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/run_vs_native.sh's table: per (type, threads, test) the median tokens/s of arca and
llama-bench over the rounds, their min-max ranges, and arca/llama (ratio of the medians,
with the range of the ratio a pessimist and an optimist would draw: worst arca over best
llama, best arca over worst llama), and arca's largest peak resident memory for the row
(llama-bench does not report its own).

Decode rows also give each tool's median as a percentage of the decode roofline: the median
read bandwidth bench/membw.c measured with that thread count (one measurement per round)
over the bytes one generated token reads — the weights (arca's weight_bytes: every tensor a
token passes through, the token embedding's one row) and the KV cache at the mean position
of the generation (depth + (gen + 1) / 2 positions of kv_bytes_per_token). Both tools read
the same GGUF, so they share the roofline.

    native_table.py RESULTS.jsonl
"""
import json
import statistics
import sys

rows = {}
kv = {}
rss = {}
token_bytes = {}
bw = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["side"] == "membw":
        bw.setdefault(r["threads"], []).append(r["gbps"])
        continue
    key = (r["type"], r["threads"], r["test"])
    rows.setdefault(key, {"arca": [], "llama": []})[r["side"]].append(r["tps"])
    if r.get("peak_rss_mib"):
        rss[key] = max(rss.get(key, 0), r["peak_rss_mib"])
    if r.get("kv_bytes_per_token"):
        kv[r["type"]] = r["kv_bytes_per_token"]
    if r.get("weight_bytes") and r.get("gen"):
        token_bytes[key] = r["weight_bytes"] + r["kv_bytes_per_token"] * (
            r["depth"] + (r["gen"] + 1) / 2)


def roofline(key, tps):
    """tps as a percentage of the decode roofline, or a dash for a prefill row."""
    b = token_bytes.get(key)
    if not b or key[1] not in bw:
        return "—"
    return "%.0f%%" % (100 * tps * b / (statistics.median(bw[key[1]]) * 1e9))


print("| type | threads | test | rounds | llama tok/s median (range) | arca tok/s median (range) "
      "| arca/llama (range) | decode % of roofline llama / arca | arca peak RSS MiB |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for (q, t, test), v in rows.items():
    a, l = v["arca"], v["llama"]
    if not a or not l:
        continue
    ma, ml = statistics.median(a), statistics.median(l)
    key = (q, t, test)
    roof = "—" if key not in token_bytes else "%s / %s" % (roofline(key, ml), roofline(key, ma))
    print("| %s | %d | %s | %d | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) | %.2f (%.2f–%.2f) | %s | %s |"
          % (q, t, test, min(len(a), len(l)), ml, min(l), max(l), ma, min(a), max(a),
             ma / ml, min(a) / max(l), max(a) / min(l), roof,
             "%.0f" % rss[key] if key in rss else "—"))
for q, b in kv.items():
    print("arca KV cache, %s model: %d bytes per token" % (q, b))
for t, v in sorted(bw.items()):
    print("read bandwidth (bench/membw.c), %d threads: median %.1f GB/s (%.1f–%.1f, %d runs)"
          % (t, statistics.median(v), min(v), max(v), len(v)))
