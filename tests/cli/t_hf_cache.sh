#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `arca checkout --layout hf-cache`: the Hugging Face cache layout follows the rules the
# Python client follows offline (refs without newline, relative symlinks, a complete
# trees/<commit>.json). t_hf_cache_js.sh has the Hub's own JavaScript client
# (@huggingface/hub) load the same layout offline.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

make_model "$T/model" --hidden 256 --ffn 1024 --vocab 4096
mkdir -p "$T/model/sub/deeper" && echo nested > "$T/model/sub/deeper/file.txt"
commit=$(hub_add Org/Tiny-Model "$T/model" --tag v1)
start_hub
run 0 "$ARCA" init
run 0 "$ARCA" pull Org/Tiny-Model -q
run 0 "$ARCA" pull Org/Tiny-Model@v1 -q
make_model "$T/local" --seed 5
run 0 "$ARCA" add "$T/local" --as acme/local -q

cache="$T/hf-cache"
run 0 "$ARCA" checkout Org/Tiny-Model "$cache" --layout hf-cache --json
expect_json 'd["layout"]' hf-cache
expect_json 'd["files"]' 6
# a second model into the same cache, and the same one again: both fine
run 0 "$ARCA" checkout acme/local "$cache" --layout hf-cache -q
run 0 "$ARCA" checkout Org/Tiny-Model "$cache" --layout hf-cache -q

repo="$cache/models--Org--Tiny-Model"
[ "$(cat "$repo/refs/main")" = "$commit" ] || fail "refs/main is not the commit"
[ "$(wc -c < "$repo/refs/main")" = 40 ] || fail "refs/main has a trailing newline"
[ "$(cat "$repo/refs/v1")" = "$commit" ] || fail "refs/v1 is missing"
nested=$(git_blob_id "$T/model/sub/deeper/file.txt") || exit 1
[ "$(readlink "$repo/snapshots/$commit/sub/deeper/file.txt")" = "../../../../blobs/$nested" ] \
	|| fail "nested symlink is not relative to blobs/"
weights=$(sha256sum "$T/model/model.safetensors" | cut -d' ' -f1)
[ "$(readlink "$repo/snapshots/$commit/model.safetensors")" = "../../blobs/$weights" ] \
	|| fail "LFS file is not named by its sha256"
head -1 "$cache/CACHEDIR.TAG" | grep -q "Signature: 8a477f597d28d172789f06886806bc55" \
	|| fail "CACHEDIR.TAG missing"

# the offline rules of huggingface_hub (file_download.py / _snapshot_download.py)
python3 - "$repo" "$commit" "$T/model" <<'PY' || fail "the cache breaks huggingface_hub's offline rules"
import hashlib, json, os, sys
repo, commit, src = sys.argv[1:4]
ref = open(os.path.join(repo, "refs", "main")).read()          # read back without strip
snap = os.path.join(repo, "snapshots", ref)
tree = json.load(open(os.path.join(repo, "trees", commit + ".json")))
assert tree["format_version"] == 1
for root, _, names in os.walk(src):
    for n in names:
        rel = os.path.relpath(os.path.join(root, n), src)
        link = os.path.join(snap, rel)
        assert os.path.islink(link) and not os.path.isabs(os.readlink(link)), rel
        data = open(link, "rb").read()                          # the link must resolve
        assert data == open(os.path.join(root, n), "rb").read(), rel
        entry = tree["files"][rel]                              # IncompleteSnapshotError otherwise
        assert entry["size"] == len(data)
        if "lfs_sha256" in entry:
            assert entry["lfs_sha256"] == hashlib.sha256(data).hexdigest()
            pointer = ("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n"
                       % (entry["lfs_sha256"], len(data))).encode()
            assert entry["blob_id"] == hashlib.sha1(b"blob %d\0" % len(pointer) + pointer).hexdigest()
        else:
            assert entry["blob_id"] == hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
assert len(tree["files"]) == sum(len(f) for _, _, f in os.walk(src))
PY

# a conflicting blob is refused unless forced; an incomplete snapshot is refused
chmod u+w "$repo/blobs/$weights" 2>/dev/null; rm -f "$repo/blobs/$weights"
echo short > "$repo/blobs/$weights"
run 1 "$ARCA" checkout Org/Tiny-Model "$cache" --layout hf-cache
expect_stderr "exists with 6 bytes"
run 0 "$ARCA" checkout Org/Tiny-Model "$cache" --layout hf-cache --force -q
cmp -s "$repo/blobs/$weights" "$T/model/model.safetensors" || fail "--force did not replace"
run 2 "$ARCA" checkout Org/Tiny-Model "$T/x" --layout zip
expect_stderr "plain, hf-cache or ollama"

# the tree file is the hub's whole listing, Xet ids included; a filtered pull writes none
# (huggingface_hub online trusts a tree file and would silently skip what it does not list)
hub_config '{"xet_hashes": true}'
make_model "$T/xet" --seed 9
xet_commit=$(hub_add Org/Xet "$T/xet")
run 0 "$ARCA" pull Org/Xet -q
run 0 "$ARCA" checkout Org/Xet "$T/xcache" --layout hf-cache --json
expect_json 'd["tree_file"]' True
python3 - "$T/xcache/models--Org--Xet/trees/$xet_commit.json" "$T/xet" <<'PY' || fail "the tree file lacks files or Xet ids"
import hashlib, json, os, sys
tree = json.load(open(sys.argv[1]))["files"]
src = sys.argv[2]
assert sorted(tree) == sorted(os.listdir(src)), sorted(tree)
sha = hashlib.sha256(open(os.path.join(src, "model.safetensors"), "rb").read()).hexdigest()
assert tree["model.safetensors"]["xet_hash"] == hashlib.sha256(("xet:" + sha).encode()).hexdigest()
assert "xet_hash" not in tree["config.json"]
PY
echo more > "$T/xet/extra.txt"
part_commit=$(hub_add Org/Xet "$T/xet")
run 0 "$ARCA" pull Org/Xet --include '*.json' --include '*.safetensors' -q
run 0 "$ARCA" checkout Org/Xet "$T/pcache" --layout hf-cache --json
expect_json 'd["tree_file"]' False
expect_json '"part of the repository" in d["tree_file_skipped"]' True
[ ! -e "$T/pcache/models--Org--Xet/trees/$part_commit.json" ] || fail "a partial tree file was written"
[ -L "$T/pcache/models--Org--Xet/snapshots/$part_commit/config.json" ] || fail "files are missing"
run 0 "$ARCA" checkout Org/Xet "$T/pcache2" --layout hf-cache
expect_stdout "no trees/$part_commit.json written"
# the rest of the files arrive: now it is whole again
run 0 "$ARCA" pull Org/Xet -q
run 0 "$ARCA" checkout Org/Xet "$T/pcache" --layout hf-cache --json
expect_json 'd["tree_file"]' True
pass
