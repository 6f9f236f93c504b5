#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bundles: `arca export` against `tar --zstd -cf`, and `arca import` against `tar --zstd -xf`,
# on the same files, in one run.
#
#   bench/bundle_vs_tar.sh [SIZE_MIB]      (ARCA=path/to/arca, default build/arca; RUNS=3)
#
# Makes SIZE_MIB (default 2048) MiB of bf16 weights (normal random values, which zstd
# shrinks by about a fifth, as it does real checkpoints) in 4 files plus small JSON files,
# adds them to a store, and with the page cache warm times (hyperfine median):
#   export:  arca export REF -o B.arca (zstd level 3, one worker per CPU)
#            tar --zstd -cf              (GNU tar piping through zstd, level 3, one thread)
#            tar -I 'zstd -T0' -cf       (zstd on every core: the strongest plain peer)
#   import:  arca import B.arca          (into an empty store: every blob hashed, fsync'ed)
#            tar --zstd -xf              (into an empty folder: no hashing, no fsync)
#            tar --zstd -xf && sync      (the same bytes made durable)
# and prints seconds, GB/s of model bytes and ratios. Target: import <= 1.2x tar -xf.
# A benchmark only: it asserts nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
size_mib=${1:-${SIZE_MIB:-2048}}
runs=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-bench-XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export ARCA_HOME=$work/store
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }

echo "making $size_mib MiB of bf16 weights in 4 files, plus small files..."
src=$work/model
mkdir "$src"
"$PY" - "$src" "$size_mib" <<'EOF'
import numpy as np, sys
out, mib = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
per = mib * 1024 * 1024 // 4
for i in range(4):
    with open("%s/model-%05d-of-00004.safetensors" % (out, i + 1), "wb") as f:
        left = per
        while left:
            n = min(left, 64 << 20) // 2
            x = (rng.standard_normal(n, dtype=np.float32) * 0.02).view(np.uint32)
            f.write((x >> 16).astype(np.uint16).tobytes())
            left -= n * 2
EOF
printf '{"architectures": ["BenchForCausalLM"], "hidden_size": 4096}\n' > "$src/config.json"
printf '{"bos_token_id": 1, "eos_token_id": 2}\n' > "$src/generation_config.json"
printf '# bench/model\n' > "$src/README.md"
"$arca" init -q
"$arca" add "$src" --as bench/model -q
"$arca" export bench/model -o "$work/ref.arca" -q
tar --zstd -cf "$work/ref.tar.zst" -C "$src" .
bytes=$(du -cb "$src"/* | tail -1 | cut -f1)
find "$ARCA_HOME" "$src" "$work"/ref.* -type f -exec cat {} + > /dev/null

q() { printf '%q' "$1"; }
hyperfine --runs "$runs" --export-json "$work/export.json" \
	--prepare "rm -f $(q "$work")/out.*" \
	-n "arca export" "$(q "$arca") export bench/model -o $(q "$work")/out.arca -q" \
	-n "tar --zstd -cf" "tar --zstd -cf $(q "$work")/out.tar.zst -C $(q "$src") ." \
	-n "tar -I 'zstd -T0' -cf" "tar -I 'zstd -T0' -cf $(q "$work")/out.tar.zst -C $(q "$src") ." \
	> /dev/null
hyperfine --runs "$runs" --export-json "$work/import.json" \
	--prepare "rm -rf $(q "$work")/in; mkdir $(q "$work")/in" \
	-n "arca import" "ARCA_HOME=$(q "$work")/in/store $(q "$arca") import $(q "$work")/ref.arca --unsigned -q" \
	-n "tar --zstd -xf" "tar --zstd -xf $(q "$work")/ref.tar.zst -C $(q "$work")/in" \
	-n "tar --zstd -xf && sync" "tar --zstd -xf $(q "$work")/ref.tar.zst -C $(q "$work")/in && sync" \
	> /dev/null

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "arca $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), $(tar --version | head -1), $(zstd --version)"
echo "data: $bytes bytes of bf16 weights; bundle $(stat -c %s "$work/ref.arca") bytes, tar.zst $(stat -c %s "$work/ref.tar.zst") bytes"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); hyperfine median of $runs runs"
"$PY" - "$work/export.json" "$work/import.json" "$bytes" <<'EOF'
import json, sys
bytes_ = int(sys.argv[3])
for path, base in ((sys.argv[1], "tar --zstd -cf"), (sys.argv[2], "tar --zstd -xf")):
    rs = {r["command"]: r for r in json.load(open(path))["results"]}
    b = rs[base]["median"]
    for name, r in rs.items():
        m = r["median"]
        print("%-26s %8.3f s %7.2f GB/s  %5.2fx %s  (range %.3f-%.3f)" % (
            name, m, bytes_ / m / 1e9, m / b, "of " + base if name != base else "",
            r["min"], r["max"]))
rs = {r["command"]: r["median"] for r in json.load(open(sys.argv[2]))["results"]}
ratio = rs["arca import"] / rs["tar --zstd -xf"]
print("target: arca import <= 1.2x tar --zstd -xf: %.2fx %s" % (ratio, "PASS" if ratio <= 1.2 else "MISS"))
EOF
