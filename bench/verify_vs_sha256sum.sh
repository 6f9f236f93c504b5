#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Signature verification throughput: `arca verify` against `sha256sum` on the same files, in one run.
#
#   bench/verify_vs_sha256sum.sh [SIZE_MIB]      (ARCA=path/to/arca, default build/arca; RUNS=5)
#
# Builds a snapshot of SIZE_MIB (default 2048) MiB of random data in 8 files plus a few small
# JSON/text files, stores it in a temporary store (arca add --as bench/model), makes a key and
# signs the snapshot once (OpenSSF model signing; the same signature is written into a --copy
# checkout as model.sig). With the page cache warm (every byte read once first), it times,
# median of RUNS runs, with hyperfine when installed (else, or with NO_HYPERFINE=1, bash's `time`):
#   arca verify bench/model -q          store mode, hashing threads: one per CPU (default)
#   arca verify bench/model -q -j1      store mode, one hashing thread
#   arca verify DIR --key PUB.pem -q    plain-folder mode on the checkout, against model.sig
#   arca fsck -q                        reference: the same re-hashing of every blob, no signature
#   sha256sum FILES                     the snapshot's blob files, one process
#   sha256sum, xargs -P NCPU            the same files, one process per core
# and prints each one's median seconds, GB/s (snapshot bytes / seconds, 1 GB = 1e9 bytes),
# cores (user+system CPU time / wall time), and how many times faster it is than sha256sum
# (sha256sum seconds / its seconds) and than the parallel sha256sum. The last line checks the
# target: arca verify (default threads) >= 3x sha256sum. A benchmark only: it asserts nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
size_mib=${1:-${SIZE_MIB:-2048}}
runs=${RUNS:-5}
nfiles=8
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-bench-XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export ARCA_HOME=$work/store
unset ARCA_KEY_PASSPHRASE

echo "making $size_mib MiB of random data in $nfiles files, plus small files..."
src=$work/model
mkdir "$src"
for i in $(seq 1 "$nfiles"); do
	head -c $((size_mib * 1024 * 1024 / nfiles)) /dev/urandom > "$src/model-0000$i-of-0000$nfiles.safetensors"
done
printf '{"architectures": ["BenchForCausalLM"], "hidden_size": 4096}\n' > "$src/config.json"
printf '{"bos_token_id": 1, "eos_token_id": 2}\n' > "$src/generation_config.json"
head -c 65536 /dev/urandom | base64 > "$src/tokenizer.json"
printf '# bench/model\n\nRandom bytes for arca verify vs sha256sum.\n' > "$src/README.md"

echo "storing, signing, checking out..."
"$arca" init -q
"$arca" add "$src" --as bench/model -q
rm -rf "$src"
"$arca" key new -q < /dev/null
co=$work/checkout
"$arca" checkout bench/model "$co" --copy -q
"$arca" key export default > "$work/pub.pem"
# One signature, recorded in the store and written into the checkout: a second `arca sign`
# would record a second signature that `arca verify bench/model` would also check.
"$arca" sign bench/model -o "$co/model.sig" -q

# The snapshot's blobs, from its file list: what `arca verify bench/model` re-hashes.
"$arca" show bench/model --json > "$work/show.json"
python3 - "$work/show.json" "$ARCA_HOME/objects/sha256" > "$work/list" <<'EOF'
import json, sys
for f in json.load(open(sys.argv[1]))["file_list"]:
    print("%s/%s/%s" % (sys.argv[2], f["sha256"][:2], f["sha256"][2:]))
EOF
mapfile -t blobs < "$work/list"
bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["size"])' "$work/show.json")
# Warm the page cache for everyone: the whole store (blobs, catalog) and the checkout.
find "$ARCA_HOME" "$co" -type f -exec cat {} + > /dev/null
cpus=$(nproc)

q() { printf '%q' "$1"; }
declare -A cmd=(
	[verify]="$(q "$arca") verify bench/model -q"
	[verify_j1]="$(q "$arca") verify bench/model -q -j1"
	[verify_dir]="$(q "$arca") verify $(q "$co") --key $(q "$work/pub.pem") -q"
	[fsck]="$(q "$arca") fsck -q"
	[sha256sum]="sha256sum $(printf '%q ' "${blobs[@]}")> /dev/null"
	[sha256sum_par]="xargs -P $cpus -n 1 sha256sum < $(q "$work/list") > /dev/null"
)
declare -A label=(
	[verify]="arca verify REF"
	[verify_j1]="arca verify REF -j1"
	[verify_dir]="arca verify DIR --key"
	[fsck]="arca fsck"
	[sha256sum]="sha256sum"
	[sha256sum_par]="sha256sum xargs -P$cpus"
)
order=(verify verify_j1 verify_dir fsck sha256sum sha256sum_par)

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Every command must succeed once before it is timed (a failed verify is no benchmark).
for k in "${order[@]}"; do
	bash -c "${cmd[$k]}" || { echo "failed ($?): ${cmd[$k]}" >&2; exit 1; }
done

# secs[k]: median wall seconds; cores[k]: CPU seconds (user+system) per wall second.
declare -A secs cores
if [[ -z ${NO_HYPERFINE:-} ]] && command -v hyperfine >/dev/null; then
	timer="hyperfine $(hyperfine --version | cut -d' ' -f2), median"
	args=()
	for k in "${order[@]}"; do args+=(-n "$k" "${cmd[$k]}"); done
	hyperfine --warmup 1 --runs "$runs" --export-json "$work/h.json" "${args[@]}" > /dev/null
	i=0
	while read -r m c; do
		secs[${order[$i]}]=$m; cores[${order[$i]}]=$c; i=$((i + 1))
	done < <(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(r["median"], (r["user"] + r["system"]) / r["mean"])' "$work/h.json")
else
	timer="bash time, median"
	TIMEFORMAT='%R %U %S'
	for k in "${order[@]}"; do
		: > "$work/t"
		for _ in $(seq 1 "$runs"); do
			{ time bash -c "${cmd[$k]}" ; } 2>> "$work/t"
		done
		read -r m c < <(python3 -c '
import statistics, sys
t = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(r for r, u, s in t), sum(u + s for r, u, s in t) / sum(r for r, u, s in t))' "$work/t")
		secs[$k]=$m; cores[$k]=$c
	done
fi

echo
echo "machine: $cpus cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "arca: $("$arca" --version 2>&1 | head -1) ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')), $(sha256sum --version | head -1)"
echo "load average (1, 5, 15 min): $load_before before timing, $(cut -d' ' -f1-3 /proc/loadavg) after (other load skews the numbers)"
echo "data: $bytes bytes in ${#blobs[@]} files (page cache warm), $timer of $runs runs"
printf '%-24s %9s %8s %6s %13s %13s\n' "command" "median s" "GB/s" "cores" "x sha256sum" "x sha256sum-P"
for k in "${order[@]}"; do
	python3 -c "
s = ${secs[$k]}; c = ${cores[$k]}; h = ${secs[sha256sum]}; p = ${secs[sha256sum_par]}
print('%-24s %9.3f %8.2f %6.2f %12.2fx %12.2fx' % ('${label[$k]}', s, $bytes / s / 1e9, c, h / s, p / s))"
done
python3 -c "
r = ${secs[sha256sum]} / ${secs[verify]}; p = ${secs[sha256sum_par]} / ${secs[verify]}
print('target: arca verify >= 3x sha256sum: %.2fx (%.2fx the parallel sha256sum) %s' % (r, p, 'PASS' if r >= 3 else 'MISS'))"
