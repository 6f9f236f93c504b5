#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Manifests and lockfiles: `arca pull -m` mirrors every model listed and writes FILE.lock;
# with the lock, a pull reproduces exactly that content or fails naming what changed
# upstream (commit moved, file hash changed, file gone, repo gated or deleted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

make_model "$T/a" --seed 1
make_model "$T/b" --seed 2
commit_a=$(hub_add acme/a "$T/a" --hub hf)
commit_b=$(hub_add acme/b "$T/b" --hub modelscope)
start_hub
run 0 "$ARCA" init
cat > "$T/mirror.json" <<JSON
{
  "manifest_version": 1,
  "name": "test-mirror",
  "description": "two tiny models",
  "models": [
    {"hub": "hf", "repo": "acme/a", "revision": "main", "exclude": ["generation_config.json"],
     "note": "apache-2.0", "arca": {"convert": true, "validate": false, "note": "arch qwen2"}},
    {"hub": "modelscope", "repo": "acme/b", "note": "from ModelScope"}
  ]
}
JSON

run 0 "$ARCA" pull -m "$T/mirror.json"
expect_stdout "wrote $T/mirror.json.lock"
# what the manifest says arca can do with each model (here only acme/a says)
expect_stdout "  arca: converts it (not validated); arch qwen2"
[ "$(grep -c "  arca:" "$OUT")" = 1 ] || fail "an entry without \"arca\" printed one"
python3 - "$T/mirror.json.lock" "$commit_a" "$commit_b" "$(sha256sum "$T/a/config.json" | cut -d' ' -f1)" <<'PY' || fail "the lock is not as expected"
import json, sys
lock = json.load(open(sys.argv[1]))
assert lock["lock_version"] == 1 and lock["manifest"] == "test-mirror"
a, b = lock["models"]
assert (a["hub"], a["repo"], a["revision"], a["commit"]) == ("hf", "acme/a", "main", sys.argv[2])
assert (b["hub"], b["repo"], b["revision"], b["commit"]) == ("modelscope", "acme/b", "master", sys.argv[3])
paths = [f["path"] for f in a["files"]]
assert "generation_config.json" not in paths and "config.json" in paths, paths
assert [f["sha256"] for f in a["files"] if f["path"] == "config.json"] == [sys.argv[4]]
assert len(b["files"]) == 5
PY
cp "$T/mirror.json.lock" "$T/lock.first"

# with the lock and nothing changed: the same content, the lock untouched
run 0 "$ARCA" pull -m "$T/mirror.json"
expect_stdout_not "wrote"
cmp -s "$T/lock.first" "$T/mirror.json.lock" || fail "the lock changed"

# hf: the branch moves upstream; the lock still pins the old commit and gets it
echo '{"changed": true}' > "$T/a/extra.json"
new_a=$(hub_add acme/a "$T/a" --hub hf)
rm -rf "$ARCA_HOME" && "$ARCA" init -q
run 0 "$ARCA" pull -m "$T/mirror.json"
expect_stderr "acme/a@main has moved upstream to ${new_a:0:12}; pulling the locked commit ${commit_a:0:12}"
run 0 "$ARCA" show hf:acme/a --json
expect_json 'd["commit"]' "$commit_a"
expect_json '"extra.json" in [f["path"] for f in d["file_list"]]' False
# --update-lock moves the pin
run 0 "$ARCA" pull -m "$T/mirror.json" --update-lock
expect_stdout "updated $T/mirror.json.lock"
grep -q "$new_a" "$T/mirror.json.lock" || fail "--update-lock did not pin the new commit"
cp "$T/lock.first" "$T/mirror.json.lock"

# modelscope cannot serve an old commit: a moved revision is a loud failure
echo more > "$T/b/extra.txt"
hub_add acme/b "$T/b" --hub modelscope >/dev/null
run 3 "$ARCA" pull -m "$T/mirror.json"
expect_stderr "upstream changed: acme/b@master moved from the locked commit ${commit_b:0:12}"
cmp -s "$T/lock.first" "$T/mirror.json.lock" || fail "a failed pull rewrote the lock"
hub_state '{"op": "move_ref", "repo": "acme/b", "ref": "master", "commit": "'"$commit_b"'"}'
run 0 "$ARCA" pull -m "$T/mirror.json"

# a file's hash changed upstream at the locked commit
hub_fault '{"match": "/tree/", "kind": "wrong_sha256", "path": "model.safetensors", "count": -1}'
run 3 "$ARCA" pull -m "$T/mirror.json"
expect_stderr "upstream changed: model.safetensors now has sha256"
hub_reset

# a file is gone from the locked commit
python3 - "$HUBROOT/repos.json" "$commit_a" <<'PY'
import json, os, sys
p = sys.argv[1]; d = json.load(open(p))
del d["repos"]["acme/a"]["commits"][sys.argv[2]]["files"]["config.json"]
json.dump(d, open(p + ".tmp", "w")); os.replace(p + ".tmp", p)
PY
run 3 "$ARCA" pull -m "$T/mirror.json"
expect_stderr "upstream changed: config.json (locked at commit ${commit_a:0:12}) is gone"

# gated, then deleted
hub_state '{"op": "set_gated", "repo": "acme/a", "gated": "manual"}'
run 1 "$ARCA" pull -m "$T/mirror.json"
expect_stderr "gated repository"
hub_state '{"op": "delete_repo", "repo": "acme/a"}'
run 4 "$ARCA" pull -m "$T/mirror.json"
expect_stderr "repository not found"

# manifests are read strictly
echo '{"manifest_version": 1, "name": "x", "models": [{"hub": "hf", "repo": "acme/a", "revison": "main"}]}' > "$T/typo.json"
run 1 "$ARCA" pull -m "$T/typo.json"
expect_stderr "models[0]: unknown key \"revison\""
echo '{"manifest_version": 2, "name": "x", "models": []}' > "$T/v2.json"
run 1 "$ARCA" pull -m "$T/v2.json"
expect_stderr "\"manifest_version\" must be 1"
echo '{"manifest_version": 1, "name": "x", "models": [{"hub": "hf", "repo": "../etc"}]}' > "$T/bad.json"
run 1 "$ARCA" pull -m "$T/bad.json"
expect_stderr "is not org/name"
run 4 "$ARCA" pull -m "$T/none.json"
run 2 "$ARCA" pull -m "$T/mirror.json" acme/a
run 2 "$ARCA" pull acme/a --update-lock
# the curated manifests shipped with arca all parse
for m in "$ARCA_SOURCE"/manifests/*.json; do
	python3 - "$m" <<'PY' || fail "$m is not a valid manifest"
import json, re, sys
d = json.load(open(sys.argv[1]))
assert d["manifest_version"] == 1 and d["models"]
for m in d["models"]:
    assert set(m) <= {"hub", "repo", "revision", "include", "exclude", "note", "arca"}, m
    assert m["hub"] in ("hf", "modelscope") and re.fullmatch(r"[\w.-]+/[\w.-]+", m["repo"]), m
    assert m["note"], m
    # every curated entry says whether arca converts and validates it today
    a = m["arca"]
    assert set(a) == {"convert", "validate", "note"} and a["note"], m
    assert a["convert"] in (True, False) and a["validate"] in (True, False), m
    assert a["convert"] or not a["validate"], m
PY
done
pass
