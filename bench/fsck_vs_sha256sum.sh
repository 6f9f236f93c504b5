#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hashing throughput: `arca fsck` against `sha256sum` on the same blobs, in one run.
#
# Builds a store holding SIZE_MIB (default 2048) MiB of random data in 8 files, warms the
# page cache, then times, with hyperfine when installed (else best of RUNS plain runs):
#   arca fsck                       (all cores)
#   arca fsck -j 1                  (one thread)
#   sha256sum on the blob files     (one process, what a user would run)
#   sha256sum, one process per core (xargs -P)
# and prints each one's GB/s and its ratio to arca fsck.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
size_mib=${SIZE_MIB:-2048}
runs=${RUNS:-5}
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-bench-XXXXXX")
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
export ARCA_HOME=$work/store

echo "making $size_mib MiB of test data in 8 files..."
mkdir "$work/model"
for i in $(seq 1 8); do
	head -c $((size_mib * 1024 * 1024 / 8)) /dev/urandom > "$work/model/shard-$i.bin"
done
"$arca" init -q
"$arca" add "$work/model" --as bench/data -q
rm -rf "$work/model"
mapfile -t blobs < <(find "$ARCA_HOME/objects" -type f)
bytes=$(du -cb "${blobs[@]}" | tail -1 | cut -f1)
cat "${blobs[@]}" > /dev/null   # warm the page cache for everyone
cpus=$(nproc)
printf '%s\n' "${blobs[@]}" > "$work/list"

declare -A cmd=(
	[arca_fsck]="$arca fsck -q"
	[arca_fsck_1thread]="$arca fsck -q -j 1"
	[sha256sum]="sha256sum ${blobs[*]} > /dev/null"
	[sha256sum_parallel]="xargs -P $cpus -n 1 sha256sum < $work/list > /dev/null"
)
order=(arca_fsck arca_fsck_1thread sha256sum sha256sum_parallel)

declare -A secs
if command -v hyperfine >/dev/null; then
	args=()
	for k in "${order[@]}"; do args+=(-n "$k" "${cmd[$k]}"); done
	hyperfine --warmup 1 --runs "$runs" --export-json "$work/h.json" "${args[@]}" >/dev/null
	while read -r k v; do secs[$k]=$v; done < <(python3 -c '
import json,sys
for r in json.load(open(sys.argv[1]))["results"]: print(r["command"], r["median"])' "$work/h.json")
else
	for k in "${order[@]}"; do
		best=999999
		for _ in $(seq 1 "$runs"); do
			s=$(date +%s.%N); bash -c "${cmd[$k]}"; e=$(date +%s.%N)
			best=$(python3 -c "print(min($best, $e - $s))")
		done
		secs[$k]=$best
	done
fi

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "data: $bytes bytes in ${#blobs[@]} blobs (page cache warm), median of $runs runs"
printf '%-22s %10s %10s %14s\n' "command" "seconds" "GB/s" "vs arca fsck"
for k in "${order[@]}"; do
	python3 -c "
s=${secs[$k]}; a=${secs[arca_fsck]}
print('%-22s %10.3f %10.2f %13.2fx' % ('$k', s, $bytes/s/1e9, s/a))"
done
