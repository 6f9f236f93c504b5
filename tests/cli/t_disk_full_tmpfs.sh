#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Disk full on a real file system: a 1 MiB tmpfs holds the store, and adding a model of a
# few MiB fails with "No space left on device", leaving no snapshot, no temporary file and
# a clean fsck. Mounting needs root; anyone else runs the test in a user namespace of their
# own (unshare -rm) when the system allows it, and otherwise it is skipped.
if [ "$(id -u)" != 0 ] && [ -z "${ARCA_TEST_USERNS:-}" ] && unshare -rm true 2>/dev/null; then
	ARCA_TEST_USERNS=1 exec unshare -rm bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

mkdir "$T/small"
mount -t tmpfs -o size=1m tmpfs "$T/small" 2>"$T/mount.err" ||
	skip "cannot mount a tmpfs here (root, or user namespaces, needed): $(cat "$T/mount.err")"
trap 'umount "$T/small" 2>/dev/null; cleanup' EXIT
make_model "$T/model" --hidden 256 --ffn 512 --vocab 2048   # a few MiB of weights
[ "$(du -sb "$T/model" | cut -f1)" -gt $((2 << 20)) ] || fail "the model fits on the tmpfs"

run 0 "$ARCA" init --store "$T/small/store"
run 1 "$ARCA" add "$T/model" --as acme/full --store "$T/small/store"
expect_stderr "No space left on device"
run 0 "$ARCA" ls --store "$T/small/store" --json
expect_json 'd["snapshots"]' "[]"
[ -z "$(ls -A "$T/small/store/tmp")" ] || fail "temporary files left on the full disk"
run 0 "$ARCA" fsck --store "$T/small/store"
umount "$T/small" || fail "umount"
pass
