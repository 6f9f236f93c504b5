#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README command two: the whole test suite. Builds with warnings as errors and runs every
# unit and CLI test, then does the same under AddressSanitizer + UndefinedBehaviorSanitizer,
# then fuzzes the file readers briefly.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== test tools from the npm registry (tests/node)"
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error

echo "== build (warnings are errors) and test"
BUILD_DIR=build scripts/build.sh -DARCA_WERROR=ON
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== build with ASan/UBSan and test"
BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DARCA_WERROR=ON -DARCA_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir build-asan --output-on-failure -j "$jobs" -E "^hub/"
echo "== fuzz the safetensors and GGUF readers (clang libFuzzer, ${ARCA_FUZZ_SECONDS:-45}s each)"
scripts/fuzz.sh "${ARCA_FUZZ_SECONDS:-45}"
echo "== all tests passed"
