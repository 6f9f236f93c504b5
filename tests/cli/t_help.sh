#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every command answers --help on stdout with exit 0; usage errors exit 2 with a hint.
. "$(dirname "$0")/lib.sh"

for cmd in init add ls show checkout serve fsck gc rm pull convert inspect diff run bench tokenize validate \
	key sign verify "key new" "key ls" "key export" "key trust" "key untrust"; do
	# shellcheck disable=SC2086
	set -- $cmd
	run 0 "$ARCA" "$@" --help
	expect_stdout "usage: arca $cmd"
	expect_stdout "--json"
	expect_stdout "exit status"
	expect_no_stderr
done
run 0 "$ARCA" --help
expect_stdout "commands:"
run 0 "$ARCA" help checkout
expect_stdout "usage: arca checkout REF[:VARIANT] DIR"
expect_stdout "--layout ollama writes a GGUF variant"
expect_stdout "--name NAME[:TAG]"
run 0 "$ARCA" --version
expect_stdout "arca "
expect_stdout "runtime: CPU kernels "
run 2 "$ARCA"
expect_stderr "usage: arca"
run 2 "$ARCA" frobnicate
expect_stderr "arca: 'frobnicate' is not an arca command"
run 2 "$ARCA" ls --frob
expect_stderr "arca: unknown option '--frob'"
expect_stderr "see 'arca ls --help'"
run 2 "$ARCA" add "$T"
expect_stderr "--as REF is required"
run 2 "$ARCA" checkout only-one-arg
expect_stderr "missing argument"
run 2 "$ARCA" fsck --threads lots
expect_stderr "not a whole number"
run 2 "$ARCA" gc extra
expect_stderr "unexpected argument 'extra'"
run 2 "$ARCA" init --store
expect_stderr "--store needs a value"
run 2 "$ARCA" key frob
expect_stderr "'frob' is not a key subcommand"
run 2 "$ARCA" key
expect_stderr "missing argument"
run 2 "$ARCA" verify
expect_stderr "missing argument"
run 2 "$ARCA" serve extra
expect_stderr "unexpected argument 'extra'"
run 0 "$ARCA" --help
expect_stdout "serve "
pass
