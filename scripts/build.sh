#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Configures and builds arca into BUILD_DIR (default build/). Extra arguments go to cmake,
# e.g. scripts/build.sh -DARCA_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
