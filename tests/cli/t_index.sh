#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca index and the tensor index: add and convert index what they store (checked in
# catalog.db with python's sqlite3, against the safetensors header read with json/struct
# and hashes of the byte ranges); arca index re-indexes a store whose index was emptied,
# --force indexes again, a second model sharing a file shares tensor hashes, a corrupt
# safetensors blob is reported by name, not a crash, without failing the add; pull and
# import index what they store.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

DB="$ARCA_HOME/catalog.db"
sql() {
	python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for row in c.execute(sys.argv[2]): print("|".join(str(x) for x in row))' "$DB" "$1" ||
		fail "sql: $1"
}
expect_sql() {
	local got; got=$(sql "$1")
	[ "$got" = "$2" ] || fail "SQL $1 is '$got', expected '$2'"
}

run 0 "$ARCA" init
make_llm "$T/m" --arch qwen3 --hidden 256 --ffn 512 --heads 4 --kv-heads 2 --seed 3
run 0 "$ARCA" add "$T/m" --as acme/m -q
expect_no_stderr
run 0 "$ARCA" convert acme/m --quant q8_0 -q
expect_no_stderr

# --- both indexed on the way in ---------------------------------------------------------
expect_sql "SELECT format, version FROM tensor_index ORDER BY format" "gguf|1
safetensors|1"
st_blob=$(sql "SELECT blob FROM files WHERE path = 'model.safetensors'")
# every row of the safetensors blob against the header and bytes read here
python3 - "$DB" "$T/m/model.safetensors" "$st_blob" <<'EOF' || fail "safetensors rows differ"
import hashlib, json, sqlite3, struct, sys
db, path, blob = sys.argv[1:]
data = open(path, "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
header.pop("__metadata__", None)
rows = {r[0]: r[1:] for r in sqlite3.connect(db).execute(
    "SELECT name, dtype, shape, offset, nbytes, sha256, n_elements, length(sketch), std "
    "FROM tensors WHERE blob = ?", (blob,))}
assert set(rows) == set(header), (sorted(rows), sorted(header))
for name, t in header.items():
    dtype, shape, off, nbytes, sha, n_el, sketch_len, std = rows[name]
    b, e = t["data_offsets"]
    assert dtype == t["dtype"] and json.loads(shape) == t["shape"], name
    assert off == 8 + n + b and nbytes == e - b, name
    assert sha == hashlib.sha256(data[8 + n + b:8 + n + e]).hexdigest(), name
    count = 1
    for d in t["shape"]:
        count *= d
    assert n_el == count and sketch_len == 512 and std is not None, name
EOF
# the GGUF's rows: every tensor, their ranges inside the file and hashed as stored
run 0 "$ARCA" convert acme/m --quant q8_0 --out "$T/m-q8_0.gguf" -q
gguf="$T/m-q8_0.gguf"
gguf_blob=$(sql "SELECT blob FROM artifact_outputs")
python3 - "$DB" "$gguf" "$gguf_blob" <<'EOF' || fail "gguf rows differ"
import hashlib, sqlite3, sys
db, path, blob = sys.argv[1:]
data = open(path, "rb").read()
rows = list(sqlite3.connect(db).execute(
    "SELECT name, dtype, offset, nbytes, sha256 FROM tensors WHERE blob = ?", (blob,)))
assert len(rows) == 24, len(rows)
assert {r[1] for r in rows} >= {"Q8_0", "F32"}, {r[1] for r in rows}
for name, dtype, off, nbytes, sha in rows:
    assert off % 32 == 0 and off + nbytes <= len(data), name
    assert hashlib.sha256(data[off:off + nbytes]).hexdigest() == sha, name
EOF
# the Q8_0 copy of a weight sketches like its BF16 original
python3 - "$DB" "$st_blob" "$gguf_blob" <<'EOF' || fail "sketches of the q8_0 copy differ"
import math, sqlite3, struct, sys
db, st, gg = sys.argv[1:]
c = sqlite3.connect(db)
def sk(blob, name):
    (b,) = c.execute("SELECT sketch FROM tensors WHERE blob = ? AND name = ?", (blob, name)).fetchone()
    return struct.unpack("<128f", b)
a, b = sk(st, "model.layers.0.mlp.down_proj.weight"), sk(gg, "blk.0.ffn_down.weight")
cos = sum(x * y for x, y in zip(a, b)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
assert cos > 0.99, cos
EOF

run 0 "$ARCA" show acme/m --json
expect_json 'd["tensor_index"]' "{'indexed': True, 'files': 2, 'files_indexed': 2, 'tensors': 48}"

# --- arca index: nothing missing, then an emptied index is rebuilt ----------------------
run 0 "$ARCA" index --json
expect_json 'd["blobs"], d["indexed"], d["skipped"], d["failed"]' "(2, 0, 2, [])"
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM tensors"); c.execute("DELETE FROM tensor_index"); c.commit()' "$DB"
expect_sql "SELECT count(*) FROM tensors" "0"
run 0 "$ARCA" show acme/m --json
expect_json 'd["tensor_index"]["indexed"], d["tensor_index"]["files_indexed"]' "(False, 0)"
run 0 "$ARCA" index -j 2
expect_stdout "indexed 2 of 2 weight files (0 already indexed, 0 failed): 48 tensors"
expect_stdout "GB/s"
expect_sql "SELECT count(*), count(DISTINCT blob) FROM tensors" "48|2"
# --force: indexed again, the same rows
before=$(sql "SELECT name, sha256, hex(sketch) FROM tensors ORDER BY blob, name" | sha256sum)
run 0 "$ARCA" index --force acme/m --json
expect_json 'd["indexed"], d["tensors"]' "(2, 48)"
expect_json '[f["indexed"] for f in d["refs"][0]["files"]]' "[True, True]"
after=$(sql "SELECT name, sha256, hex(sketch) FROM tensors ORDER BY blob, name" | sha256sum)
[ "$before" = "$after" ] || fail "re-indexing changed the rows"
# only the variant
run 0 "$ARCA" index --force acme/m:q8_0 --json
expect_json 'd["blobs"], d["indexed"]' "(1, 1)"

# --- a second model sharing a file shares tensor hashes ---------------------------------
make_model "$T/m2" --arch qwen3 --hidden 256 --ffn 512 --heads 4 --kv-heads 2 --seed 9
cp "$T/m/model.safetensors" "$T/m2/model.safetensors"
run 0 "$ARCA" add "$T/m2" --as acme/fork -q
run 0 "$ARCA" index acme/fork --json
expect_json 'd["skipped"]' "1"
expect_json '[(s["owner"].split("@")[0], s["path"], s["tensors"]) for s in d["refs"][0]["shared"]]' \
	"[('local:acme/m', 'model.safetensors', 24)]"
# a copy with one tensor changed shares all the others
python3 - "$T/m/model.safetensors" "$T/m2/model.safetensors" <<'EOF' || fail "cannot edit"
import json, struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
(n,) = struct.unpack("<Q", data[:8])
h = json.loads(data[8:8 + n])
b, e = h["model.norm.weight"]["data_offsets"]
data[8 + n + b] ^= 1
open(sys.argv[2], "wb").write(data)
EOF
run 0 "$ARCA" add "$T/m2" --as acme/fork2 -q
run 0 "$ARCA" index acme/fork2 --json
expect_json '[(s["owner"].split("@")[0], s["path"], s["tensors"]) for s in d["refs"][0]["shared"]]' \
	"[('local:acme/fork', 'model.safetensors', 23), ('local:acme/m', 'model.safetensors', 23)]"
run 0 "$ARCA" index acme/fork2
expect_stdout "acme/fork2 shares 23 tensors"
expect_stdout "with local:acme/m@"

# --- a corrupt safetensors blob is reported, not a crash, and the add still succeeds ----
mkdir -p "$T/bad"
printf '\x20\x00\x00\x00\x00\x00\x00\x00{"w": {"dtype": "F32", "shape": [4]' >"$T/bad/model.safetensors"
echo '{}' >"$T/bad/config.json"
run 0 "$ARCA" add "$T/bad" --as acme/bad
expect_stderr "model.safetensors not indexed"
expect_stdout "added local:acme/bad"
run 1 "$ARCA" index --json
expect_json '[f["path"] for f in d["failed"]]' "['model.safetensors']"
expect_json 'd["indexed"]' "0"
expect_stderr "arca: index model.safetensors"
run 1 "$ARCA" index acme/bad
expect_stderr "model.safetensors"
# --- pull and import index what they store ---------------------------------------------
make_model "$T/p" --seed 5
hub_add acme/p "$T/p" --hub hf >/dev/null
start_hub
S2="$T/s2"
ARCA_HOME="$S2" run 0 "$ARCA" pull acme/p -q
expect_no_stderr
ARCA_HOME="$S2" run 0 "$ARCA" show acme/p --json
expect_json 'd["tensor_index"]["indexed"], d["tensor_index"]["files"]' "(True, 1)"
run 0 "$ARCA" export acme/m -o "$T/m.arca" -q
S3="$T/s3"
ARCA_HOME="$S3" run 0 "$ARCA" import "$T/m.arca" --unsigned -q
expect_no_stderr
ARCA_HOME="$S3" run 0 "$ARCA" show acme/m --json
expect_json 'd["tensor_index"]' "{'indexed': True, 'files': 2, 'files_indexed': 2, 'tensors': 48}"

# a missing ref is not found, a usage error is a usage error
run 4 "$ARCA" index acme/nothing
run 2 "$ARCA" index --all acme/m
run 0 "$ARCA" index --help
expect_stdout "--force"

# --no-index: stored without its index, which arca index then makes
make_model "$T/later" --arch qwen2 --seed 31
run 0 "$ARCA" add "$T/later" --as acme/later --no-index -q
run 0 "$ARCA" show acme/later --json
expect_json 'd["tensor_index"]["indexed"]' False
run 0 "$ARCA" index acme/later -q
run 0 "$ARCA" show acme/later --json
expect_json 'd["tensor_index"]["indexed"]' True

pass
