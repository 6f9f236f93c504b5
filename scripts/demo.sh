#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The built-in demo: a tiny generated model goes into a fresh store under build/demo/,
# then comes back out verified. Every step is a real arca command.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
demo=$root/build/demo
rm -rf "$demo"
mkdir -p "$demo"
export ARCA_HOME=$demo/store

step() { printf '\n$ %s\n' "$*"; "$@"; }

python3 "$root/tests/fixtures/make_tiny_model.py" "$demo/tiny-qwen" --arch qwen2 --seed 42 \
	--base-model Qwen/Qwen2.5-0.5B
step "$arca" init
step "$arca" add "$demo/tiny-qwen" --as demo/tiny-qwen@v1
step "$arca" ls
step "$arca" show demo/tiny-qwen@v1
step "$arca" checkout demo/tiny-qwen@v1 "$demo/restored"
diff -r "$demo/tiny-qwen" "$demo/restored" >/dev/null
echo "(restored copy is byte-identical to the original)"
step "$arca" fsck
echo
echo "demo ok: store in $ARCA_HOME"
