#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input and damage: each a clear "arca: <what>: <why>" and the documented exit code,
# with nothing lost.
. "$(dirname "$0")/lib.sh"

make_model "$T/model"

# no store yet, and folders that are not stores
run 4 "$ARCA" ls
expect_stderr "arca: ls: no store at $ARCA_HOME"
expect_stderr "arca init"
mkdir "$T/plain"; echo hi > "$T/plain/notes.txt"
run 4 "$ARCA" ls --store "$T/plain"
expect_stderr "is not an arca store"
run 1 "$ARCA" init --store "$T/plain"
expect_stderr "not empty and is not an arca store"
[ "$(ls "$T/plain")" = notes.txt ] || fail "init touched a foreign folder"
run 4 "$ARCA" ls --store "$T/plain/notes.txt"
expect_stderr "not a directory"

run 0 "$ARCA" init
# missing and wrong paths
run 4 "$ARCA" add "$T/nowhere" --as acme/x
expect_stderr "arca: add: add $T/nowhere:"
run 1 "$ARCA" add "$T/model/config.json" --as acme/x
expect_stderr "not a folder"
# refs that do not parse: usage errors
for ref in "noslash" "a/b/c" "acme/x@" "weird:acme/x" "acme/bad name" "acme/x:q4-k"; do
	run 2 "$ARCA" add "$T/model" --as "$ref"
	expect_stderr "arca: add: --as"
	run 2 "$ARCA" show "$ref"
done
run 2 "$ARCA" add "$T/model" --as acme/x:q4_k_m
expect_stderr "cannot be added"

# an unreadable file: as a user who may not read it (root reads everything, so as root the
# test drops to nobody with its own store; python3 drops the privileges, so no setpriv)
chmod 000 "$T/model/config.json"
if [ "$(id -u)" != 0 ]; then
	run 1 "$ARCA" add "$T/model" --as acme/x
	expect_stderr "config.json: Permission denied"
else
	mkdir -p "$T/nobody" && chown 65534:65534 "$T/nobody" && chmod 755 "$T" "$T/model"
	# the build folder may sit where nobody cannot reach it: run a copy
	cp "$ARCA" "$T/arca-copy" && chmod 755 "$T/arca-copy"
	as_nobody() {
		ARCA_HOME="$T/nobody/store" "$PYTHON_BIN" -c 'import os, sys
os.setgroups([]); os.setgid(65534); os.setuid(65534)
os.execv(sys.argv[1], sys.argv[1:])' "$@"
	}
	run 0 as_nobody "$T/arca-copy" init
	run 1 as_nobody "$T/arca-copy" add "$T/model" --as acme/x
	expect_stderr "config.json: Permission denied"
	run 0 as_nobody "$T/arca-copy" ls --json
	expect_json 'd["snapshots"]' "[]"
fi
chmod 644 "$T/model/config.json"

run 0 "$ARCA" add "$T/model" --as acme/x --json
weights=$(sha256sum "$T/model/model.safetensors" | cut -d' ' -f1)

# unknown names and revisions: exit 4 with what is there
run 4 "$ARCA" show acme/y
expect_stderr "acme/y is not in the store"
run 4 "$ARCA" checkout acme/x@v9 "$T/out"
expect_stderr "has no revision 'v9' in the store (have:"
[ ! -e "$T/out" ] || fail "a failed checkout created its folder"

# checkout into a non-empty folder
mkdir "$T/busy"; echo mine > "$T/busy/config.json"
run 1 "$ARCA" checkout acme/x "$T/busy"
expect_stderr "not empty (use --force"
[ "$(cat "$T/busy/config.json")" = mine ] || fail "checkout overwrote without --force"
run 0 "$ARCA" checkout acme/x "$T/busy" --force
cmp -s "$T/busy/config.json" "$T/model/config.json" || fail "--force did not replace"

# a blob changed on disk: fsck reports it (exit 3), checkout refuses it (exit 3)
blob=$(blob_file "$weights")
chmod u+w "$blob"
printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc status=none
run 3 "$ARCA" fsck
expect_stderr "corrupt $weights"
expect_stderr "local:acme/x@"
expect_stderr "model.safetensors"
expect_stdout "damaged"
run 3 "$ARCA" checkout acme/x "$T/out4"
expect_stderr "arca: checkout acme/x: checkout model.safetensors: blob $weights is corrupt"
[ ! -e "$T/out4/model.safetensors" ] || fail "a corrupt blob was checked out"
# adding the original again repairs it
run 0 "$ARCA" add "$T/model" --as acme/x
run 0 "$ARCA" fsck
run 0 "$ARCA" checkout acme/x "$T/out5"

# a missing blob
rm -f "$blob"
run 3 "$ARCA" fsck --json
expect_json '[p["kind"] for p in d["problems"] if p["error"]]' "['missing']"
run 4 "$ARCA" checkout acme/x "$T/out6"
expect_stderr "is missing from the store"
run 0 "$ARCA" add "$T/model" --as acme/x -q

# a catalog from a newer arca is refused, not touched
python3 - "$ARCA_HOME/catalog.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO arca_schema VALUES (42, '2031-01-01T00:00:00Z', '9.0.0')")
db.commit()
PY
run 1 "$ARCA" ls
expect_stderr "catalog schema version 42 was written by a newer arca"
python3 - "$ARCA_HOME/catalog.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM arca_schema WHERE version = 42")
db.commit()
PY
run 0 "$ARCA" ls

# a catalog that is not a database
cp "$ARCA_HOME/catalog.db" "$T/catalog.keep"
rm -f "$ARCA_HOME"/catalog.db-wal "$ARCA_HOME"/catalog.db-shm
head -c 8192 /dev/urandom > "$ARCA_HOME/catalog.db"
run 1 "$ARCA" ls
expect_stderr "catalog.db"
pass
