#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca export / arca import: a signed bundle of a snapshot with a converted, validated and
# signed variant carried into fresh stores; what the bundle holds checked with tar, zstd and
# python (not arca); untrusted signers, --trust-signer, idempotence, refs already taken;
# split volumes (pieces of a blob across volumes, volumes in any order, a run with volumes
# missing and its resume), and an import killed at random points leaving the store as it was.
. "$(dirname "$0")/lib.sh"

make_llm "$T/m" --arch qwen2 --hidden 64 --ffn 128 --layers 1 --heads 2 --kv-heads 1 --seed 5
head -c 700000 /dev/urandom > "$T/m/extra.bin"   # a blob larger than a volume below
run 0 "$ARCA" add "$T/m" --as acme/m@v1 -q
run 0 "$ARCA" convert acme/m --quant q8_0 -q
run 0 "$ARCA" validate acme/m:q8_0 --json
digest=$(json 'd["logits_digest"]')
run 0 "$ARCA" key new -q
run 0 "$ARCA" sign acme/m -q
run 0 "$ARCA" sign acme/m:q8_0 -q
run 0 "$ARCA" key export default -o "$T/pub.pem"
run 0 "$ARCA" show acme/m --json
commit=$(json 'd["commit"]')

# --- export ----------------------------------------------------------------------------
run 2 "$ARCA" export acme/m
expect_stderr "-o FILE.arca"
run 4 "$ARCA" export acme/nothing -o "$T/x.arca"
expect_stderr "acme/nothing"
[ ! -e "$T/x.arca" ] || fail "a failed export left a file"
run 4 "$ARCA" export acme/m:q4_k_m -o "$T/x.arca"
expect_stderr "no variant q4_k_m"
run 0 "$ARCA" export acme/m -o "$T/b.arca" --sign --json
bundle=$(json 'd["bundle"]')
expect_json 'd["snapshots"]' 1
expect_json 'd["variants"]' 1
expect_json 'd["signed"]' True
expect_json 'd["volumes"]' "['$T/b.arca']"
nblobs=$(json 'd["blobs"]')
run 1 "$ARCA" export acme/m -o "$T/b.arca"
expect_stderr "already exists"

# what the bundle holds, read with zstd, tar and python
zstd -dc "$T/b.arca" | tar -tf - > "$T/list" || fail "tar cannot list the bundle"
[ "$(sed -n 1p "$T/list")" = arca-bundle.json ] || fail "the manifest is not the first entry"
[ "$(sed -n 2p "$T/list")" = arca-bundle.sig ] || fail "the signature is not the second entry"
[ "$(sed -n 3p "$T/list")" = arca-volume.json ] || fail "the volume header is not third"
[ "$(grep -c '^blobs/' "$T/list")" = "$nblobs" ] || fail "not one entry per blob"
python3 - "$T/b.arca" "$bundle" "$commit" "$digest" <<'PY' || fail "the bundle's contents are wrong"
import hashlib, io, json, subprocess, sys, tarfile
raw = subprocess.run(["zstd", "-dc", sys.argv[1]], check=True, capture_output=True).stdout
tar = tarfile.open(fileobj=io.BytesIO(raw))
entries = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
man = entries["arca-bundle.json"]
assert hashlib.sha256(man).hexdigest() == sys.argv[2], "the bundle id is not the manifest's sha256"
doc = json.loads(man)
assert doc["format"] == "arca-bundle" and doc["version"] == 1
for name, data in entries.items():
    if name.startswith("blobs/"):
        assert hashlib.sha256(data).hexdigest() == name[6:], name
snap = doc["snapshots"][0]
assert snap["commit"] == sys.argv[3] and snap["refs"] == ["v1"], snap["refs"]
assert {f["path"] for f in snap["files"]} >= {"config.json", "model.safetensors", "extra.bin"}
for f in snap["files"]:
    assert "blobs/" + f["sha256"] in entries, f["path"]
var = snap["variants"][0]
assert var["name"] == "q8_0" and var["validations"][0]["logits_digest"] == sys.argv[4]
assert len(snap["signatures"]) == 1 and len(var["signatures"]) == 1
assert {b["sha256"] for b in doc["blobs"]} == {n[6:] for n in entries if n.startswith("blobs/")}
PY

# the bundle's signature verifies with the independent checker, over the manifest alone
mkdir "$T/sigdir"
zstd -dc "$T/b.arca" | tar -xf - -C "$T/sigdir" arca-bundle.json arca-bundle.sig
mv "$T/sigdir/arca-bundle.sig" "$T/bundle.sig"
python3 "$ARCA_SOURCE/tests/fixtures/sigcheck.py" "$T/bundle.sig" "$T/pub.pem" "$T/sigdir" \
	> "$T/sigcheck.json" || { cat "$T/sigcheck.json" >&2; fail "sigcheck.py rejects the bundle's signature"; }
grep -q '"folder": "matches"' "$T/sigcheck.json" || fail "sigcheck.py: the manifest differs"

# --- import into a store that does not trust the signer ---------------------------------
S2="$T/s2"
ARCA_HOME="$S2" run 1 "$ARCA" import "$T/b.arca"
expect_stderr "not trusted here"
expect_stderr "--trust-signer"
ARCA_HOME="$S2" run 0 "$ARCA" ls --json
expect_json 'len(d["snapshots"])' 0
ARCA_HOME="$S2" run 2 "$ARCA" import "$T/b.arca" --trust-signer --unsigned

# --- trusted: imported, verified, validated the same -------------------------------------
ARCA_HOME="$S2" run 0 "$ARCA" key trust "$T/pub.pem" --name maker -q
ARCA_HOME="$S2" run 0 "$ARCA" import "$T/b.arca" --json
expect_json 'd["signature"]' verified
expect_json 'd["signer"]' maker
expect_json 'd["blobs_stored"]' "$nblobs"
expect_json 'd["snapshots"][0]["outcome"]' imported
expect_json 'd["snapshots"][0]["signature_state"]' verified
ARCA_HOME="$S2" run 0 "$ARCA" show acme/m --json
expect_json 'd["commit"]' "$commit"
expect_json 'd["refs"]' "['v1']"
ARCA_HOME="$S2" run 0 "$ARCA" verify acme/m
ARCA_HOME="$S2" run 0 "$ARCA" verify acme/m:q8_0
ARCA_HOME="$S2" run 0 "$ARCA" fsck
ARCA_HOME="$S2" run 0 "$ARCA" validate acme/m:q8_0 --json
expect_json 'd["status"]' same
expect_json 'd["logits_digest"]' "$digest"
# importing again changes nothing
counts() {
	python3 -c 'import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); print([db.execute("SELECT count(*) FROM "+t).fetchone()[0] for t in ("snapshots","files","refs","artifacts","artifact_outputs","signatures","blobs")])' "$1/catalog.db"
}
before=$(counts "$S2")
ARCA_HOME="$S2" run 0 "$ARCA" import "$T/b.arca" --json
expect_json 'd["blobs_stored"]' 0
expect_json 'd["snapshots"][0]["outcome"]' "already stored"
after=$(counts "$S2")
[ "$before" = "$after" ] || fail "a second import changed the catalog: $before -> $after"

# --- --trust-signer; a ref that already names another snapshot -------------------------
S3="$T/s3"
make_model "$T/other" --arch llama --seed 9
ARCA_HOME="$S3" run 0 "$ARCA" add "$T/other" --as acme/m@v1 -q
ARCA_HOME="$S3" run 0 "$ARCA" show acme/m@v1 --json
other=$(json 'd["commit"]')
ARCA_HOME="$S3" run 0 "$ARCA" import "$T/b.arca" --trust-signer
expect_stdout "signature accepted"
expect_stdout "ref v1 already names another snapshot here"
ARCA_HOME="$S3" run 0 "$ARCA" show acme/m@v1 --json
expect_json 'd["commit"]' "$other"
ARCA_HOME="$S3" run 0 "$ARCA" show "acme/m@$commit" --json
expect_json 'd["source"]' bundle

# --- REF:VARIANT and unsigned bundles ---------------------------------------------------
run 0 "$ARCA" export acme/m:q8_0 -o "$T/v.arca" --json
expect_json 'd["signed"]' False
S4="$T/s4"
ARCA_HOME="$S4" run 1 "$ARCA" import "$T/v.arca"
expect_stderr "is not signed"
ARCA_HOME="$S4" run 0 "$ARCA" import "$T/v.arca" --unsigned --json
expect_json 'd["signature"]' unsigned
expect_json 'd["snapshots"][0]["variants"]' 1
ARCA_HOME="$S4" run 0 "$ARCA" show acme/m:q8_0 --json

# --- split volumes ----------------------------------------------------------------------
run 2 "$ARCA" export acme/m -o "$T/x.arca" --split 4X
run 1 "$ARCA" export acme/m -o "$T/x.arca" --split 10K
expect_stderr "too small"
run 0 "$ARCA" export acme/m -o "$T/split.arca" --split 300K --sign --json
nvol=$(json 'len(d["volumes"])')
[ "$nvol" -ge 3 ] || fail "expected at least 3 volumes, got $nvol"
for v in "$T"/split.arca.*; do
	[ "$(stat -c %s "$v")" -le $((300 * 1024)) ] || fail "$v is larger than --split"
done
# a blob in pieces: its entries carry an offset
zstd -dc "$T/split.arca.002" | tar -tf - | grep -q '^blobs/[0-9a-f]*@[0-9]*$' ||
	fail "no blob was split across volumes"
# the first volume finds its siblings
S5="$T/s5"
ARCA_HOME="$S5" run 0 "$ARCA" init -q
ARCA_HOME="$S5" run 0 "$ARCA" key trust "$T/pub.pem" -q
ARCA_HOME="$S5" run 0 "$ARCA" import "$T/split.arca.001" --json
expect_json 'd["volumes_read"]' "$nvol"
ARCA_HOME="$S5" run 0 "$ARCA" verify acme/m
# volumes given in reverse order, with some missing: nothing visible, then the rest resumes
S6="$T/s6"
mkdir "$T/media"
mv "$T/split.arca.001" "$T/split.arca.002" "$T/media/"
ARCA_HOME="$S6" run 0 "$ARCA" init -q
ARCA_HOME="$S6" run 0 "$ARCA" key trust "$T/pub.pem" -q
last=$(ls "$T"/split.arca.* | sort | tail -1)
ARCA_HOME="$S6" run 1 "$ARCA" import "$T/media/split.arca.002" "$T/media/split.arca.001"
expect_stderr "needs volume"
expect_stderr "stay in the store for the next import"
ARCA_HOME="$S6" run 0 "$ARCA" ls --json
expect_json 'len(d["snapshots"])' 0
ARCA_HOME="$S6" run 0 "$ARCA" fsck
ARCA_HOME="$S6" run 0 "$ARCA" import $(ls "$T"/split.arca.* | sort -r) --json
expect_json 'd["volumes_read"]' $((nvol - 2))
ARCA_HOME="$S6" run 0 "$ARCA" verify acme/m
ARCA_HOME="$S6" run 0 "$ARCA" fsck
# two volumes claiming the same index
cp "$T/media/split.arca.001" "$T/dup.arca"
ARCA_HOME="$T/s7" run 1 "$ARCA" import "$T/media/split.arca.001" "$T/dup.arca"
expect_stderr "are both volume 1"
# a volume of another bundle
ARCA_HOME="$T/s7" run 1 "$ARCA" import "$T/media/split.arca.001" "$T/b.arca"
expect_stderr "volume of another bundle"

# --- killed at random points: the store stays as it was ---------------------------------
head -c $((48 << 20)) /dev/urandom > "$T/m/big.bin"
run 0 "$ARCA" add "$T/m" --as acme/big -q
run 0 "$ARCA" export acme/big -o "$T/big.arca" --level 1
S8="$T/s8"
ARCA_HOME="$S8" run 0 "$ARCA" init -q
for delay in 0.02 0.05 0.1 0.2 0.4; do
	ARCA_HOME="$S8" "$ARCA" import "$T/big.arca" --unsigned -q >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ARCA_HOME="$S8" run 0 "$ARCA" fsck
	ARCA_HOME="$S8" run 0 "$ARCA" ls --json
	n=$(json 'len(d["snapshots"])')
	[ "$n" = 0 ] || [ "$n" = 1 ] || fail "after kill -9: $n snapshots"
	if [ "$n" = 1 ]; then expect_json 'd["snapshots"][0]["state"]' complete; fi
done
ARCA_HOME="$S8" run 0 "$ARCA" import "$T/big.arca" --unsigned
ARCA_HOME="$S8" run 0 "$ARCA" fsck
ARCA_HOME="$S8" run 0 "$ARCA" ls --json
expect_json 'len(d["snapshots"])' 1
expect_json 'd["snapshots"][0]["state"]' complete

pass
