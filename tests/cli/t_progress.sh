#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Progress goes to stderr only on a terminal (ARCA_ISATTY=1 stands in for one) and never
# with --json or --quiet; stdout stays clean for scripts.
. "$(dirname "$0")/lib.sh"

run 0 "$ARCA" init
make_model "$T/model"
run 0 "$ARCA" add "$T/model" --as acme/p
expect_no_stderr
ARCA_ISATTY=1 run 0 "$ARCA" add "$T/model" --as acme/p@v2
expect_stderr "adding"
expect_stdout "already stored"
ARCA_ISATTY=1 run 0 "$ARCA" add "$T/model" --as acme/p@v3 --json
expect_no_stderr
ARCA_ISATTY=1 run 0 "$ARCA" fsck
expect_stderr "hashing"
ARCA_ISATTY=1 run 0 "$ARCA" checkout acme/p "$T/out" -q
expect_no_stderr
expect_no_stdout
pass
