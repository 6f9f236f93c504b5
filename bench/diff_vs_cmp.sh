#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `arca diff` against `cmp` on the same two checkpoints, in one run: input GB/s (bytes of both
# sides over wall time, page cache warm). The goal is diffing at the speed of reading bytes.
#
# Makes a BF16 qwen3 checkpoint of SIZE_GIB (default 2) GiB, an identical re-upload (another
# card) and a fine-tune of layers 1 and 3 (tests/fixtures/make_fork.py), adds them to a
# fresh store and times, best of RUNS (default 3):
#   cmp base base'                 the bytes read and compared, nothing else (the reference;
#                                  base' is a plain copy of base's file: the copy fork has
#                                  another header, so cmp would stop at its first bytes)
#   arca diff base copy            byte comparison per chunk, plus ||a||^2 for the cosine
#   arca diff base fine-tune       changed layers decoded and compared in float64
#   arca diff base fine-tune -j 1  the same on one thread
# (cmp of base and fine-tune would stop at the first differing byte, so it is not timed.)
# Needs /usr/bin/python3 with numpy; about 6 x SIZE_GIB GiB of disk and 4 x SIZE_GIB of RAM.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
size_gib=${SIZE_GIB:-2}
runs=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-bench-XXXXXX")
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
export ARCA_HOME=$work/store
py=/usr/bin/python3

layers=$($py -c "import math; print(max(4, math.ceil($size_gib * 2**30 / (2 * 50331648))))")
echo "making a $layers-layer BF16 qwen3 checkpoint (~$size_gib GiB) and two forks..."
$py "$root/tests/fixtures/make_tiny_model.py" "$work/base" --arch qwen3 --hidden 2048 \
	--ffn 6144 --heads 16 --kv-heads 8 --layers "$layers" --fast-random --no-tokenizer >/dev/null
$py "$root/tests/fixtures/make_fork.py" "$work/base" "$work/copy" identical >/dev/null
$py "$root/tests/fixtures/make_fork.py" "$work/base" "$work/ft" finetune --layers 1,3 \
	--noise 1e-2 >/dev/null
"$arca" init -q
for m in base copy ft; do
	"$arca" add "$work/$m" --as "bench/$m" -q
	rm -rf "${work:?}/$m"
done
blob() { "$arca" show "bench/$1" --json | $py -c 'import json,sys
d = json.load(sys.stdin)
print(next(f["sha256"] for f in d["file_list"] if f["path"] == "model.safetensors"))'; }
path() { local h; h=$(blob "$1"); echo "$ARCA_HOME/objects/sha256/${h:0:2}/${h:2}"; }
base=$(path base) copy=$(path copy) ft=$(path ft)
cp "$base" "$work/base2"
bytes=$(($(stat -c %s "$base") + $(stat -c %s "$copy")))
cat "$base" "$work/base2" "$copy" "$ft" >/dev/null   # warm the page cache for everyone

declare -A cmd=(
	[cmp]="cmp $base $work/base2"
	[arca_diff_identical]="$arca diff bench/base bench/copy -q"
	[arca_diff_finetune]="$arca diff bench/base bench/ft -q"
	[arca_diff_finetune_1thread]="$arca diff bench/base bench/ft -q -j 1"
)
order=(cmp arca_diff_identical arca_diff_finetune arca_diff_finetune_1thread)
declare -A secs
for k in "${order[@]}"; do
	best=999999
	for _ in $(seq 1 "$runs"); do
		s=$(date +%s.%N); bash -c "${cmd[$k]}"; e=$(date +%s.%N)
		best=$($py -c "print(min($best, $e - $s))")
	done
	secs[$k]=$best
done
"$arca" diff bench/base bench/ft --json > "$work/ft.json"

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "data: 2 x $(stat -c %s "$base") bytes (page cache warm), best of $runs runs"
$py -c 'import json,sys
d = json.load(open(sys.argv[1]))
print("fine-tune diff: changed layers %s, %d changed tensors, global cosine %.6f" % (
    d["changed_layers"], d["summary"]["changed"]["tensors"], d["global_cosine"]))' "$work/ft.json"
printf '%-28s %10s %10s %10s\n' "command" "seconds" "GB/s" "vs cmp"
for k in "${order[@]}"; do
	$py -c "
s=${secs[$k]}; c=${secs[cmp]}
print('%-28s %10.3f %10.2f %9.2fx' % ('$k', s, $bytes/s/1e9, s/c))"
done
