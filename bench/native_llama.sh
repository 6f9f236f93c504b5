# SPDX-License-Identifier: Apache-2.0
# bench/native_llama.sh — builds llama-bench for this CPU from the llama.cpp source that
# node-llama-cpp ships, once per source, in a cache outside the repository. Source it after
# `set -euo pipefail`; then `native_llama_bench` prints the binary's path (building it the
# first time). Never runs in CI: a native build is a developer's measurement, not a check.
#
# Where the source is: node-llama-cpp's llama/ folder holds its own addon (CMakeLists.txt,
# addon/) and llama.cpp itself as a git bundle, llama/gitRelease.bundle, at the release named
# in llama/llama.cpp.info.json. The bundle is cloned; node-llama-cpp's patches/ (model loading
# from memory for the addon) are not applied: llama-bench loads files and never takes that path.
#
#   NODE_LLAMA_DIR   node-llama-cpp's llama/ folder (default: tests/node's install)
#   ARCA_BENCH_CACHE where builds are kept (default: ~/.cache/arca-bench)

native_llama_bench() {
	local root dir bundle hash cache gen=()
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
	cache=${ARCA_BENCH_CACHE:-$HOME/.cache/arca-bench}/llama-native-$hash
	if [ ! -x "$cache/build/bin/llama-bench" ]; then
		echo "building llama-bench (native, OpenMP) in $cache; this takes a while..." >&2
		mkdir -p "$cache"
		command -v ninja >/dev/null && gen=(-G Ninja)
		[ -d "$cache/src/.git" ] || git clone -q "$bundle" "$cache/src" 2>/dev/null
		cmake "${gen[@]}" -S "$cache/src" -B "$cache/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
			-DGGML_OPENMP=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
			-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF \
			>"$cache/cmake.log" 2>&1 || { echo "native_llama.sh: cmake failed: $cache/cmake.log" >&2; return 1; }
		cmake --build "$cache/build" -j "$(nproc)" --target llama-bench >"$cache/build.log" 2>&1 ||
			{ echo "native_llama.sh: build failed: $cache/build.log" >&2; return 1; }
	fi
	echo "$cache/build/bin/llama-bench"
}
