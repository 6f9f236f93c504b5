#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/gpu-prepare.sh — run HERE, before a session's GPU time: everything the GPU
# machine needs for scripts/gpu-check.sh, in build-gpu/, small enough to carry
# (`run` with carry ["build-gpu"]; the working tree and the carry travel together, 64 MiB
# in all). No GPU is needed here, only nvcc.
#
#   build-gpu-tree/                 the CMake build (Release, CUDA architecture 90 =
#                                   the H200's sm_90 machine code; not carried)
#   build-gpu/arca                  stripped copies of the programs the check runs
#   build-gpu/tests/gpu_compare     (GPU against CPU logits), gpu_compare_emu (the same over
#   build-gpu/bench/gguf_synth      the CPU emulation: DRY=1), gguf_synth (bench models)
#   build-gpu/lib.tar.xz            every shared library they load that is not glibc,
#                                   libstdc++ or libgcc (the GPU machine lacks Debian's
#                                   libcurl, libarchive, sqlite, ...): 54 MB unpacked, of
#                                   which ICU's data is 30, so they travel packed (15 MB)
#                                   and gpu-check.sh unpacks them outside the carry
#   build-gpu/models.sha256         the sums of the tiny test GGUFs (scripts/gpu-models.sh)
#                                   as made here; they are made again there (50 files,
#                                   about 230 MB: they cannot travel) and compared
#   build-gpu-peer/peer.tar.xz      llama.cpp's llama-bench built with CUDA for sm_90 by
#                                   bench/native_llama.sh, when that build exists (PEER=1
#                                   makes it first: about an hour on 2 cores), with the
#                                   libraries it loads but for the driver, cuBLAS and NCCL
#                                   (the GPU machine has those; gpu-peer.sh finds them):
#                                   68 MB stripped, 41 MB packed — too much to travel with
#                                   build-gpu, so it goes in a second call of its own
#                                   (scripts/gpu-peer.sh, carry ["build-gpu-peer"])
#   build-gpu-peer/gguf_synth       the bench models' writer, for that call
#
# Then the models are made here too (build-gpu-tree/models, for DRY=1 runs) and the sizes
# printed; it fails when what travels would pass 48 MiB. Environment: TREE, JOBS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tree=${TREE:-build-gpu-tree}
stage=build-gpu
jobs=${JOBS:-$(nproc)}
limit_mib=48
t0=$SECONDS

echo "== build ($tree: Release, CUDA architecture 90)"
cmake -S . -B "$tree" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
	-DARCA_CUDA=ON -DARCA_TESTS=ON -DARCA_BENCH_TOOLS=ON >"$tree.configure.log" 2>&1 ||
	{ cat "$tree.configure.log"; exit 1; }
rm -f "$tree.configure.log"
cmake --build "$tree" -j"$jobs" --target arca gpu_compare gpu_compare_emu gguf_synth
echo "built in $((SECONDS - t0)) s"

echo "== stage ($stage)"
rm -rf "$stage"
mkdir -p "$stage/tests" "$stage/bench"
bins=(arca tests/gpu_compare tests/gpu_compare_emu bench/gguf_synth)
for b in "${bins[@]}"; do
	cp "$tree/$b" "$stage/$b"
	strip "$stage/$b"
done
# shellcheck source=bench/native_llama.sh
. bench/native_llama.sh
peer=
if [ "${PEER:-0}" = 1 ]; then
	peer=$(native_llama_bench_cuda)
else
	peer=$(NATIVE_LLAMA_BUILD=0 native_llama_bench_cuda 2>/dev/null) || peer=
fi
# copy_libs DEST PROGRAM...: the libraries the programs load, by the name they ask for
# (the soname), the files behind links; not glibc, libstdc++, libgcc, nor what the GPU
# machine has of its own (the driver, cuBLAS, NCCL)
copy_libs() {
	local dest=$1
	shift
	mkdir -p "$dest"
	for b in "$@"; do
		ldd "$b"
	done | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u |
		while read -r name path; do
			case $name in
			linux-vdso* | ld-linux* | libc.so* | libm.so* | libmvec.so* | libpthread.so* | \
			libdl.so* | librt.so* | libresolv.so* | libutil.so* | libanl.so* | libnsl.so* | \
			libstdc++.so* | libgcc_s.so*) ;;
			libcuda.so* | libcublas.so* | libcublasLt.so* | libnccl.so*) ;;
			*) cp -L "$path" "$dest/$name" ;;
			esac
		done
}
libs=$(mktemp -d "${TMPDIR:-/tmp}/arca-gpu-libs-XXXXXX")
trap 'rm -rf "$libs"' EXIT
copy_libs "$libs" "${bins[@]/#/$stage/}"
echo "$(find "$libs" -type f | wc -l) libraries, $(du -sh "$libs" | cut -f1) unpacked"
XZ_OPT="-9 -T$jobs" tar -cJf "$stage/lib.tar.xz" -C "$libs" .
# the staged programs start with them (and nothing from this machine's folders)
mkdir -p "$libs/check"
tar -xJf "$stage/lib.tar.xz" -C "$libs/check"
for b in "${bins[@]}"; do
	if LD_LIBRARY_PATH=$libs/check ldd "$stage/$b" | grep -q "not found"; then
		echo "gpu-prepare: $b: a library is missing from lib.tar.xz" >&2
		exit 1
	fi
done
LD_LIBRARY_PATH=$libs/check "$stage/arca" --version >/dev/null

peer_stage=build-gpu-peer
rm -rf "$peer_stage"
if [ -n "$peer" ]; then
	echo "== the llama.cpp peer ($peer_stage, from $peer)"
	mkdir -p "$peer_stage" "$libs/peer"
	cp "$peer" "$libs/peer/llama-bench"
	strip "$libs/peer/llama-bench"
	copy_libs "$libs/peer" "$libs/peer/llama-bench"
	XZ_OPT="-9 -T$jobs" tar -cJf "$peer_stage/peer.tar.xz" -C "$libs/peer" .
	cp "$stage/bench/gguf_synth" "$peer_stage/gguf_synth"
	echo "$(find "$libs/peer" -type f -printf "%f ")-> $(du -sh "$peer_stage" | cut -f1)"
else
	echo "== no llama.cpp CUDA build to stage (PEER=1 builds it: about an hour on 2 cores)"
fi

echo "== models (scripts/gpu-models.sh into $tree/models)"
t1=$SECONDS
rm -rf "$tree/models"
JOBS=$jobs scripts/gpu-models.sh "$stage/arca" "$tree/models"
cp "$tree/models/SHA256SUMS" "$stage/models.sha256"
echo "$(ls "$tree/models"/*.gguf | wc -l) models, $(du -sh "$tree/models" | cut -f1), \
made in $((SECONDS - t1)) s (not carried: gpu-check.sh makes them again there)"

echo "== sizes"
du -ab "$stage" | sort -n | awk '{ printf "%10.1f KiB  %s\n", $1 / 1024, $2 }' | tail -8
carry=$(du -sb "$stage" | cut -f1)
tree_bytes=$( (git ls-files -z; git ls-files -z --others --exclude-standard) |
	xargs -0 stat -c %s 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
echo "carry $stage: $((carry >> 20)) MiB; working tree: $((tree_bytes >> 20)) MiB;" \
	"together $(((carry + tree_bytes) >> 20)) MiB of the 64 MiB a run takes"
if [ $(((carry + tree_bytes) >> 20)) -ge "$limit_mib" ]; then
	echo "gpu-prepare: more than $limit_mib MiB would travel" >&2
	exit 1
fi
if [ -d "$peer_stage" ]; then
	peer_bytes=$(du -sb "$peer_stage" | cut -f1)
	echo "carry $peer_stage: $((peer_bytes >> 20)) MiB; with the working tree" \
		"$(((peer_bytes + tree_bytes) >> 20)) MiB (a call of its own: scripts/gpu-peer.sh)"
	if [ $(((peer_bytes + tree_bytes) >> 20)) -ge 62 ]; then
		echo "gpu-prepare: the peer's call would pass 62 MiB" >&2
		exit 1
	fi
fi
echo "ready in $((SECONDS - t0)) s: run scripts/gpu-check.sh on the GPU machine with" \
	"carry [\"$stage\"]"
