#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what arca needs on Debian 12, and nothing else: the compiler and build tools,
# the libraries DESIGN.md names (plus libyaml for model cards), clang with its libFuzzer
# runtime for the fuzz targets, python3 (with numpy, for the float64 reference and the
# benchmark generator, and python3-cryptography for an independent check of arca's
# signatures, python3-sentencepiece for Google's SentencePiece ids in the tokenizer tests)
# for the test fixtures and test hub, and Node.js/npm (Debian's, only
# when no node is installed) for the test tools from the npm registry, and the zstd program
# for the compressed test data, and Debian's chromium (with a font) to render the audit's HTML
# report headless in the tests. With --bench also the peers the benchmarks compare
# against (aria2, hyperfine, and nginx as a storage server; curl is always installed: the test hub's selftest and the pull benchmark use it). Idempotent: packages already present are not touched,
# and `apt-get update` runs only when something is missing.
set -euo pipefail

packages=(
	build-essential cmake pkg-config git ca-certificates curl python3 python3-numpy util-linux
	libcurl4-openssl-dev libssl-dev libarchive-dev libsqlite3-dev libzstd-dev
	libjansson-dev libpcre2-dev libmicrohttpd-dev libutf8proc-dev libyaml-dev
	libcmocka-dev clang libclang-rt-14-dev zstd python3-cryptography python3-sentencepiece
	chromium fonts-dejavu-core
)

command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
[ "${1:-}" = --bench ] && packages+=(aria2 hyperfine nginx-light)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all ${#packages[@]} packages are installed"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
	sudo=(sudo)
fi
echo "setup: installing ${missing[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}"
