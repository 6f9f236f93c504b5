#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Disk full during a put: the write fails (a file size limit stands in for a full disk;
# a small tmpfs is used too when this user may mount one). Nothing is half-visible: no
# snapshot, no blob, no temporary file, fsck clean; with room again the add succeeds.
. "$(dirname "$0")/lib.sh"

run 0 "$ARCA" init
make_model "$T/model" --hidden 256 --ffn 512 --vocab 2048   # a few MiB of weights

# RLIMIT_FSIZE: writes past 256 KiB fail with EFBIG (SIGXFSZ ignored so write returns)
( trap '' XFSZ; ulimit -f 256; exec "$ARCA" add "$T/model" --as acme/full ) >"$OUT" 2>"$ERR"
rc=$?
[ $rc -eq 1 ] || fail "add under a size limit exited $rc, expected 1"
expect_stderr "arca: add: add $T/model"
expect_stderr "File too large"
run 0 "$ARCA" ls --json
expect_json 'd["snapshots"]' "[]"
[ -z "$(ls -A "$ARCA_HOME/tmp")" ] || fail "temporary files left behind"
[ -z "$(find "$ARCA_HOME/objects" -type f -size +200k)" ] || fail "a partial large blob is visible"
run 0 "$ARCA" fsck
run 0 "$ARCA" add "$T/model" --as acme/full
run 0 "$ARCA" fsck

# a real small filesystem, when we may mount one
mkdir "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
	trap 'umount "$T/small" 2>/dev/null; cleanup' EXIT
	run 0 "$ARCA" init --store "$T/small/store"
	run 1 "$ARCA" add "$T/model" --as acme/full --store "$T/small/store"
	expect_stderr "No space left on device"
	run 0 "$ARCA" ls --store "$T/small/store" --json
	expect_json 'd["snapshots"]' "[]"
	[ -z "$(ls -A "$T/small/store/tmp")" ] || fail "temporary files left on the full disk"
	run 0 "$ARCA" fsck --store "$T/small/store"
	umount "$T/small"
else
	echo "note: cannot mount a tmpfs here; the file size limit covered the disk-full path"
fi
pass
