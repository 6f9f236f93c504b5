#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two writers at once: adders share the store and both land; gc waits for them and, when
# its patience runs out, fails naming who holds the store. Nothing is corrupted.
. "$(dirname "$0")/lib.sh"

run 0 "$ARCA" init
for i in 1 2 3 4; do make_model "$T/m$i" --seed "$i" --hidden 128 --ffn 256 --vocab 1024; done

pids=()
for i in 1 2 3 4; do
	"$ARCA" add "$T/m$i" --as "acme/m$i" >"$T/add$i.out" 2>"$T/add$i.err" &
	pids+=($!)
done
for i in 0 1 2 3; do
	wait "${pids[$i]}" || { cat "$T/add$((i + 1)).err" >&2; fail "concurrent add $((i + 1)) failed"; }
done
run 0 "$ARCA" ls --json
expect_json 'len(d["snapshots"])' 4
expect_json 'sorted(s["state"] for s in d["snapshots"])' "['complete', 'complete', 'complete', 'complete']"
run 0 "$ARCA" fsck
expect_stdout "0 problems"

# the same model added twice at the same moment: one snapshot, blobs stored once
"$ARCA" add "$T/m1" --as acme/same@a >/dev/null 2>"$T/a.err" & p1=$!
"$ARCA" add "$T/m1" --as acme/same@b >/dev/null 2>"$T/b.err" & p2=$!
wait $p1 || fail "twin add a failed: $(cat "$T/a.err")"
wait $p2 || fail "twin add b failed: $(cat "$T/b.err")"
run 0 "$ARCA" show acme/same@a --json
c1=$(json 'd["commit"]')
run 0 "$ARCA" show acme/same@b --json
expect_json 'd["commit"]' "$c1"
run 0 "$ARCA" fsck

# someone holds the store (shared); gc must wait, then give up clearly. The holder is a
# python3 process taking flock(2) as arca does (no flock(1) needed); it holds the lock
# until fd 9, the writing end of its stdin, is closed.
mkfifo "$T/hold" || fail "mkfifo"
"$PYTHON_BIN" -c 'import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_SH)
open(sys.argv[2], "w").close()
sys.stdin.read()' "$ARCA_HOME/lock" "$T/held" <"$T/hold" &
holder=$!
exec 9>"$T/hold"
for _ in $(seq 1 100); do [ -e "$T/held" ] && break; sleep 0.1; done
[ -e "$T/held" ] || fail "could not take the lock for the test"
ARCA_LOCK_TIMEOUT=0.5 run 1 "$ARCA" gc
expect_stderr "arca: waiting for the store, in use by pid"
expect_stderr "arca: gc: store $ARCA_HOME is in use by pid"
expect_stderr "shared"
# readers and adders are not blocked by a shared holder
ARCA_LOCK_TIMEOUT=0 run 0 "$ARCA" ls
exec 9>&-
wait "$holder" || fail "the lock holder failed"
# once released, gc waits for a running add, then runs
run 0 "$ARCA" gc
pass
