#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tensor index throughput: `arca index --force` of a BF16 checkpoint of SIZE_GIB (default 1)
# against `sha256sum` of the same blob, in one run. The index hashes every tensor's bytes
# and also decodes, summarises and sketches every value, so sha256sum (hashing only, one
# core) is the floor to compare with. Page cache warm; best of RUNS (default 3) runs each:
#   arca index --force          (all cores)
#   arca index --force -j 1     (one thread)
#   sha256sum                   (the blob, one process)
# Needs /usr/bin/python3 with numpy (scripts/setup-debian.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
size_gib=${SIZE_GIB:-1}
runs=${RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-bench-XXXXXX")
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
export ARCA_HOME=$work/store

echo "making a BF16 qwen3 checkpoint of ~$size_gib GiB..."
layers=$(python3 -c "import math; print(math.ceil($size_gib * 2**30 / (2 * 50331648)))")
/usr/bin/python3 "$root/tests/fixtures/make_tiny_model.py" "$work/big" --arch qwen3 \
	--hidden 2048 --ffn 6144 --heads 16 --kv-heads 8 --layers "$layers" --fast-random \
	--no-tokenizer >/dev/null
"$arca" init -q
"$arca" add "$work/big" --as bench/big -q
rm -rf "$work/big"
blob=$("$arca" index bench/big --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(max(d["refs"][0]["files"], key=lambda f: f["size"])["sha256"])')
file="$ARCA_HOME/objects/sha256/${blob:0:2}/${blob:2}"
bytes=$(stat -c %s "$file")
cat "$file" >/dev/null

best() {
	local b=999999 s e
	for _ in $(seq 1 "$runs"); do
		s=$(date +%s.%N); bash -c "$1" >/dev/null; e=$(date +%s.%N)
		b=$(python3 -c "print(min($b, $e - $s))")
	done
	echo "$b"
}
t_all=$(best "$arca index --force -q bench/big")
t_one=$(best "$arca index --force -q -j 1 bench/big")
t_sha=$(best "sha256sum $file")
tensors=$("$arca" index bench/big --json | python3 -c '
import json, sys; print(json.load(sys.stdin)["refs"][0]["files"][0]["tensors"])')

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "data: $bytes bytes of BF16 in one safetensors blob, $tensors tensors (page cache warm), best of $runs"
printf '%-26s %10s %10s %14s\n' "command" "seconds" "GB/s" "vs sha256sum"
for k in "arca index --force:$t_all" "arca index --force -j 1:$t_one" "sha256sum:$t_sha"; do
	python3 -c "
s=${k##*:}; print('%-26s %10.3f %10.2f %13.2fx' % ('${k%%:*}', s, $bytes/s/1e9, $t_sha/s))"
done
