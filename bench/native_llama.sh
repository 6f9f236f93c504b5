# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# bench/native_llama.sh — builds llama-bench from the llama.cpp source that node-llama-cpp
# ships, once per source and kind, in a cache outside the repository. Source it after
# `set -euo pipefail`; then `native_llama_bench` prints the path of one built for this CPU
# and `native_llama_bench_cuda` of one built with CUDA for the H200 (sm_90), building it
# the first time. Never runs in CI: a native build is a developer's measurement, not a check.
#
# Where the source is: node-llama-cpp's llama/ folder holds its own addon (CMakeLists.txt,
# addon/) and llama.cpp itself as a git bundle, llama/gitRelease.bundle, at the release named
# in llama/llama.cpp.info.json. The bundle is cloned; node-llama-cpp's patches/ (model loading
# from memory for the addon) are not applied: llama-bench loads files and never takes that path.
#
# The CUDA build needs only nvcc here (no GPU); it links the CUDA runtime and cuBLAS as
# shared libraries, which the GPU machine has (scripts/gpu-prepare.sh carries it, and
# scripts/gpu-check.sh finds them there). Its CPU code is generic x86-64 with AVX2: the
# GPU machine's processor is not this one. It takes about an hour on 2 cores.
#
#   NODE_LLAMA_DIR   node-llama-cpp's llama/ folder (default: tests/node's install)
#   ARCA_BENCH_CACHE where builds are kept (default: ~/.cache/arca-bench)
#   NATIVE_LLAMA_BUILD=0  only a build made before, else fail

# native_llama__build KIND CMAKE_OPTIONS...: the build of that kind, its llama-bench's path
native_llama__build() {
	local kind=$1 root dir bundle hash cache gen=()
	shift
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	dir=${NODE_LLAMA_DIR:-$root/tests/node/node_modules/node-llama-cpp/llama}
	bundle=$dir/gitRelease.bundle
	if [ -n "${CI:-}" ]; then
		echo "native_llama.sh: not building llama.cpp in CI" >&2
		return 1
	fi
	if [ ! -f "$bundle" ]; then
		echo "native_llama.sh: $bundle: not found (install tests/node: scripts/test.sh does)" >&2
		return 1
	fi
	hash=$(sha256sum "$bundle" | cut -c1-12)
	cache=${ARCA_BENCH_CACHE:-$HOME/.cache/arca-bench}/llama-$kind-$hash
	if [ ! -x "$cache/build/bin/llama-bench" ]; then
		if [ "${NATIVE_LLAMA_BUILD:-1}" = 0 ]; then
			echo "native_llama.sh: no $kind build in $cache (NATIVE_LLAMA_BUILD=0)" >&2
			return 1
		fi
		echo "building llama-bench ($kind) in $cache; this takes a while..." >&2
		mkdir -p "$cache"
		command -v ninja >/dev/null && gen=(-G Ninja)
		[ -d "$cache/src/.git" ] || git clone -q "$bundle" "$cache/src" 2>/dev/null
		cmake "${gen[@]}" -S "$cache/src" -B "$cache/build" -DCMAKE_BUILD_TYPE=Release \
			-DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
			-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF "$@" \
			>"$cache/cmake.log" 2>&1 || { echo "native_llama.sh: cmake failed: $cache/cmake.log" >&2; return 1; }
		cmake --build "$cache/build" -j "$(nproc)" --target llama-bench >"$cache/build.log" 2>&1 ||
			{ echo "native_llama.sh: build failed: $cache/build.log" >&2; return 1; }
	fi
	echo "$cache/build/bin/llama-bench"
}

native_llama_bench() {
	native_llama__build native -DGGML_NATIVE=ON -DGGML_OPENMP=ON
}

native_llama_bench_cuda() {
	local nvcc=${CUDACXX:-/usr/local/cuda/bin/nvcc}
	if [ ! -x "$nvcc" ]; then
		echo "native_llama.sh: no nvcc at $nvcc (set CUDACXX)" >&2
		return 1
	fi
	native_llama__build cuda-sm90 -DGGML_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" \
		-DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON \
		-DGGML_F16C=ON -DGGML_OPENMP=ON
}
