#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pull speed: `arca pull` against `aria2c -x8 -s8` and `curl` fetching the same files from
# the same local test hub, in one run (hyperfine), with ratios.
#
# The model: LARGE_FILES (default 4) files of LARGE_MIB (default 512) MiB of random bytes,
# plus SMALL_FILES (default 200) small ones, 2+ GiB in all, served by tests/hub/fakehub.py on
# loopback (bodies go out with sendfile). Every tool writes into a fresh folder each run:
#   arca pull      --jobs 4 --connections 8, every byte hashed (sha256 / git blob id) and
#                  checked against the hub's hashes, fsync'ed into the store
#   aria2c         -x8 -s8 -j4 over the same resolve URLs (no hashing)
#   curl           one invocation, files one after another on a reused connection (no hashing)
#   aria2c+sha256  aria2c, then sha256sum of what it wrote (what verification costs a user)
# Needs aria2c, curl and hyperfine (scripts/setup-debian.sh --bench installs them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
large_files=${LARGE_FILES:-4}
large_mib=${LARGE_MIB:-512}
small_files=${SMALL_FILES:-200}
runs=${RUNS:-3}
for tool in aria2c curl hyperfine python3; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing (scripts/setup-debian.sh --bench)"; exit 1; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-pull-bench-XXXXXX")
cleanup() { [ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null; chmod -R u+w "$work"; rm -rf "$work"; }
trap cleanup EXIT

echo "making the model: $large_files x $large_mib MiB + $small_files small files..."
mkdir -p "$work/model/small"
for i in $(seq 1 "$large_files"); do
	head -c $((large_mib * 1024 * 1024)) /dev/urandom > "$work/model/model-0000$i-of-0000$large_files.safetensors"
done
python3 - "$work/model/small" "$small_files" <<'PY'
import os, random, sys
rng = random.Random(7)
for i in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], "file-%03d.json" % i), "wb") as f:
        f.write(os.urandom(rng.randint(200, 60000)))
PY
python3 "$root/tests/hub/make_fixture.py" "$work/hub" add --repo bench/model "$work/model" >/dev/null
rm -rf "$work/model"
python3 "$root/tests/hub/fakehub.py" --root "$work/hub" --ready-file "$work/ready" >/dev/null 2>&1 &
hub_pid=$!
for _ in $(seq 1 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
hub=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hub"])' "$work/ready")

# the resolve URLs of every file, by commit, for aria2c and curl
python3 - "$hub" "$work" <<'PY'
import json, sys, urllib.request
hub, work = sys.argv[1], sys.argv[2]
info = json.load(urllib.request.urlopen(hub + "/api/models/bench/model/revision/main"))
tree = json.load(urllib.request.urlopen("%s/api/models/bench/model/tree/%s?recursive=true"
                                        % (hub, info["sha"])))
files = [e["path"] for e in tree if e["type"] == "file"]
with open(work + "/aria2.txt", "w") as a, open(work + "/curl.cfg", "w") as c:
    for p in files:
        url = "%s/bench/model/resolve/%s/%s" % (hub, info["sha"], p)
        a.write("%s\n  out=%s\n" % (url, p))
        c.write('url = "%s"\noutput = "%s"\n' % (url, p))
print("%d files" % len(files))
PY
bytes=$(du -cb "$work"/hub/blobs/* | tail -1 | cut -f1)
cat "$work"/hub/blobs/* > /dev/null   # the server's page cache is warm for everyone

export ARCA_HOME="$work/store" HF_ENDPOINT="$hub"
hyperfine --runs "$runs" --export-json "$work/result.json" \
	-n arca --prepare "chmod -R u+w $work/store 2>/dev/null; rm -rf $work/store; $arca init -q; sync" \
	"$arca pull bench/model -q --jobs 4 --connections 8" \
	-n aria2c --prepare "rm -rf $work/aria2; mkdir $work/aria2; sync" \
	"aria2c -x8 -s8 -j4 -q --allow-overwrite=true --auto-file-renaming=false -d $work/aria2 -i $work/aria2.txt" \
	-n curl --prepare "rm -rf $work/curl; mkdir -p $work/curl/small; sync" \
	"cd $work/curl && curl -sSfL --create-dirs -K $work/curl.cfg" \
	-n aria2c+sha256 --prepare "rm -rf $work/aria2; mkdir $work/aria2; sync" \
	"aria2c -x8 -s8 -j4 -q --allow-overwrite=true --auto-file-renaming=false -d $work/aria2 -i $work/aria2.txt && find $work/aria2 -type f -exec sha256sum {} + >/dev/null"

echo
echo "machine: $(nproc) cores; data: $bytes bytes in $((large_files + small_files)) files; median of $runs runs"
python3 - "$work/result.json" "$bytes" <<'PY'
import json, sys
res = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
n = int(sys.argv[2])
print("%-16s %9s %9s %16s" % ("tool", "seconds", "MB/s", "time vs arca"))
for name, t in res.items():
    print("%-16s %9.2f %9.0f %15.2fx" % (name, t, n / t / 1e6, t / res["arca"]))
PY
