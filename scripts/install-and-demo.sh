#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# README command one: install the Debian packages arca needs, build it, run the demo.
set -euo pipefail
here=$(dirname "$0")
"$here/setup-debian.sh"
"$here/build.sh"
"$here/demo.sh"
