#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README command two: the whole test suite. Builds with warnings as errors and runs every
# unit and CLI test, then does the same under AddressSanitizer + UndefinedBehaviorSanitizer,
# then fuzzes the file readers briefly.
# Exits non-zero on any failure, and on any skipped test: here every tool a test needs is
# installed (tests/node by npm, the rest by scripts/setup-debian.sh), so a skip is a test
# that did not run. (ctest by hand still shows skips as Skipped, not as failures.)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

# run_ctest BUILD_DIR CTEST-ARGS...: ctest, then fails naming each skipped test and its reason
# (the "SKIP: ..." lines tests print, tests/cli/lib.sh and tests/support.h).
run_ctest() {
	local dir=$1 rc=0; shift
	local junit="$dir/Testing/ctest-junit.xml"
	rm -f "$junit"
	ctest --test-dir "$dir" --output-on-failure --output-junit "$PWD/$junit" "$@" || rc=$?
	python3 - "$junit" <<'PY' || rc=1
import sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
skipped = [c for c in cases if c.get("status") == "notrun" or c.find("skipped") is not None]
for c in skipped:
    out = c.findtext("system-out") or ""
    why = list(dict.fromkeys(l for l in out.splitlines() if l.startswith("SKIP: ")))
    print("skipped: %s: %s" % (c.get("name"), "; ".join(why) or "(no reason printed)"),
          file=sys.stderr)
if skipped:
    sys.exit("%d test(s) skipped: a skipped test is a failure here" % len(skipped))
PY
	return $rc
}

echo "== test tools from the npm registry (tests/node)"
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error

echo "== build (warnings are errors) and test"
BUILD_DIR=build scripts/build.sh -DARCA_WERROR=ON
run_ctest build -j "$jobs"

echo "== build with ASan/UBSan and test"
# (without nvcc's build of the CUDA backend: its sources run under the sanitizers here
# through the CPU emulation of CUDA, t_gpu_emu)
BUILD_DIR=build-asan BUILD_TYPE=Debug scripts/build.sh -DARCA_WERROR=ON -DARCA_SANITIZE=ON \
	-DARCA_CUDA=OFF
# leaves out the test hub's selftest (python) and the tests whose time goes to peers that
# are not instrumented: the *_llama and t_reference comparisons with llama.cpp
# (node-llama-cpp), the *_js clients (node), and t_kv_cache (its runtime code is sanitized
# in unit/runtime/test_kv_cache); the arca code they drive (convert, run, tokenize of every
# architecture, serve) runs under the sanitizers in t_convert, t_run, t_run_families_tok,
# t_serve, t_hf_cache and the unit tests; and t_gpu_emu_matrix (every architecture and type
# on the emulated GPU: t_gpu_emu runs three of them under the sanitizers). Keeps CI inside
# 30 minutes on two cores.
ARCA_TEST_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	run_ctest build-asan -j "$jobs" -E "^hub/|_llama|t_reference|_js$|t_kv_cache|_matrix$"
echo "== fuzz the safetensors, GGUF, signature, bundle-manifest and tokenizer-model readers (clang libFuzzer, ${ARCA_FUZZ_SECONDS:-15}s each)"
scripts/fuzz.sh "${ARCA_FUZZ_SECONDS:-15}"
echo "== all tests passed"
