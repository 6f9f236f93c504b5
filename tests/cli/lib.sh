# SPDX-License-Identifier: Apache-2.0
# tests/cli/lib.sh — shared by the CLI tests: a temporary folder and store per test, and
# `run` which records a command's exit code, stdout and stderr and checks the exit code.
# Each test script sources this, then calls run/expect_* and finally `pass`; a test that
# cannot run here calls `skip "why"` instead, before checking anything.
set -u
: "${ARCA:?ARCA must point at the arca binary}"
: "${ARCA_SOURCE:?ARCA_SOURCE must point at the source tree}"
T=$(mktemp -d "${TMPDIR:-/tmp}/arca-cli-XXXXXX")
export ARCA_HOME="$T/store"
unset ARCA_ISATTY ARCA_LOCK_TIMEOUT
cleanup() { chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# Debian's python3 when present: version managers' shims cost a third of a second a call
PYTHON_BIN=python3
[ -x /usr/bin/python3 ] && PYTHON_BIN=/usr/bin/python3 && python3() { /usr/bin/python3 "$@"; }
OUT="$T/.stdout"
ERR="$T/.stderr"
STEP=""

fail() {
	echo "FAIL: ${STEP:-$0}: $*" >&2
	echo "--- stdout" >&2; cat "$OUT" >&2 2>/dev/null
	echo "--- stderr" >&2; cat "$ERR" >&2 2>/dev/null
	exit 1
}

# run EXPECTED_EXIT COMMAND...   (use "$ARCA" as the command for arca itself)
run() {
	local want=$1; shift
	STEP="$*"
	"$@" >"$OUT" 2>"$ERR"
	local got=$?
	[ "$got" -eq "$want" ] || fail "exit status $got, expected $want"
}

expect_stdout() { grep -qF -- "$1" "$OUT" || fail "stdout lacks '$1'"; }
expect_stderr() { grep -qF -- "$1" "$ERR" || fail "stderr lacks '$1'"; }
expect_no_stdout() { [ ! -s "$OUT" ] || fail "stdout should be empty"; }
expect_no_stderr() { [ ! -s "$ERR" ] || fail "stderr should be empty"; }
expect_stdout_not() { ! grep -qF -- "$1" "$OUT" || fail "stdout has '$1'"; }

# json EXPR: evaluates a Python expression over the JSON on stdout (bound to `d`).
json() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$OUT" "$1" || fail "stdout is not JSON or '$1' failed"
}
expect_json() {
	local got; got=$(json "$1")
	[ "$got" = "$2" ] || fail "JSON $1 is '$got', expected '$2'"
}

# make_model DIR [generator options...]: a tiny model without tokenizer files (store and
# hub tests); make_llm DIR [...]: with its family's tokenizer (conversion and runtime tests).
make_model() {
	python3 "$ARCA_SOURCE/tests/fixtures/make_tiny_model.py" --no-tokenizer "$@" >/dev/null \
		|| fail "could not generate a model"
}
make_llm() {
	python3 "$ARCA_SOURCE/tests/fixtures/make_tiny_model.py" "$@" >/dev/null \
		|| fail "could not generate a model"
}

# blob_file SHA256: where a blob lives (tests may look behind the API; arca never does)
blob_file() { echo "$ARCA_HOME/objects/sha256/${1:0:2}/${1:2}"; }

# git_blob_id FILE: the id git gives the file's content (sha1 of "blob SIZE\0" + bytes),
# computed with python3's hashlib: an independent value that needs no git.
git_blob_id() {
	python3 -c 'import hashlib, sys
d = open(sys.argv[1], "rb").read()
print(hashlib.sha1(b"blob %d\0" % len(d) + d).hexdigest())' "$1" || fail "cannot hash $1"
}

# need_node_module NAME: the test checks arca against this package from tests/node
# (scripts/test.sh installs them with npm ci); without it (or without node) it skips.
need_node_module() {
	command -v node >/dev/null || skip "node is not installed (scripts/setup-debian.sh)"
	[ -d "$ARCA_SOURCE/tests/node/node_modules/$1" ] ||
		skip "$1 is not installed (npm ci --prefix tests/node, as scripts/test.sh does)"
}

# wait_ready FILE PID LOG WHAT: waits up to 10 s for the server PID to write FILE; fails,
# showing LOG, when it dies first or never does.
wait_ready() {
	for _ in $(seq 1 200); do
		[ -s "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || { cat "$3" >&2; fail "$4 died"; }
		sleep 0.05
	done
	fail "$4 did not start"
}

pass() { echo "ok: $(basename "$0")"; exit 0; }

# skip REASON: the test cannot run here. Exit code 77 is CTest's SKIP_RETURN_CODE for every
# test (tests/CMakeLists.txt): shown as Skipped, never as Passed; scripts/test.sh (CI) fails
# on any skip. Skip the whole test or nothing: a test never passes with parts left out.
skip() { echo "SKIP: $(basename "$0"): $*"; exit 77; }
