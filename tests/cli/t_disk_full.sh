#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Disk full during a put: the write fails (a file size limit stands in for a full disk;
# t_disk_full_tmpfs.sh fills a real small file system). Nothing is half-visible: no
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

pass
