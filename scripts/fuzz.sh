#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each reader's fuzzer
# (safetensors, GGUF, model.sig and Sigstore trusted roots, bundle manifests, SentencePiece
# tokenizer.model, tiktoken.model) for SECONDS (default 60), starting from valid seed files.
# A crash leaves its input in build-fuzz/findings/ and makes this script fail.
#     scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
command -v clang >/dev/null || { echo "fuzz: clang is not installed" >&2; exit 2; }
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DARCA_FUZZ=ON -DARCA_TESTS=OFF \
	-DARCA_CUDA=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_safetensors fuzz_gguf fuzz_sig fuzz_bundle fuzz_spm fuzz_tiktoken >/dev/null
python3 tests/fuzz/make_seeds.py build-fuzz/seeds
mkdir -p build-fuzz/findings
for target in safetensors gguf sig bundle spm tiktoken; do
	mkdir -p "build-fuzz/corpus/$target"
	echo "== fuzz_$target for ${seconds}s"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"build-fuzz/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=65536 \
		-rss_limit_mb=2048 -artifact_prefix="build-fuzz/findings/$target-" -print_final_stats=1 \
		"build-fuzz/corpus/$target" "build-fuzz/seeds/$target" 2>&1 | tail -n 12
done
echo "== fuzzing found nothing"
