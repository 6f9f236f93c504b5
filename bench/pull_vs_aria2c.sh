#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pull speed: `arca pull` against `aria2c -x8 -s8` and `curl` fetching the same files through
# the same local test hub, in one run (hyperfine), with ratios, in two storage modes:
#
#   nginx         LFS storage served by nginx (sendfile) on loopback, as fast as it goes
#   nginx-capped  the same with `limit_rate` per connection (default 20 MB/s), as real CDNs
#                 and long-distance links behave: parallel connections are what wins here
#
# The model: LARGE_FILES (default 4) files of LARGE_MIB (default 512) MiB of random bytes,
# plus SMALL_FILES (default 64) small ones, about 2 GiB in all. The hub API and the small
# files come from tests/hub/fakehub.py; the large files redirect to nginx. Every tool writes
# into a fresh folder each run:
#   arca pull      --jobs 4 --connections 8, every byte hashed (sha256 / git blob id) and
#                  checked against the hub's hashes, fsync'ed into the store; --no-index:
#                  the transfer alone (the tensor index reads every weight file once more,
#                  bench/index_speed.sh measures that)
#   aria2c         -x8 -s8 -j4 over the same resolve URLs (no hashing, no fsync)
#   curl           one invocation, files one after another on a reused connection (no
#                  hashing, no fsync: the data may still be only in the page cache)
#   curl+sync      the same, then `sync`: the bytes on disk, as arca's are (nginx mode)
# Needs aria2c, curl, hyperfine and nginx (scripts/setup-debian.sh --bench installs them).
# MODES="nginx nginx-capped" RUNS=3 CAP=20m are the defaults.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
arca=${ARCA:-$root/build/arca}
large_files=${LARGE_FILES:-4}
large_mib=${LARGE_MIB:-512}
small_files=${SMALL_FILES:-64}
runs=${RUNS:-3}
modes=${MODES:-nginx nginx-capped}
cap=${CAP:-20m}
for tool in aria2c curl hyperfine python3 nginx; do
	command -v $tool >/dev/null || [ -x "/usr/sbin/$tool" ] ||
		{ echo "bench: $tool is missing (scripts/setup-debian.sh --bench)"; exit 1; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-pull-bench-XXXXXX")
chmod 755 "$work"   # nginx's workers read the blobs
cleanup() {
	[ -n "${hub_pid:-}" ] && kill "$hub_pid" 2>/dev/null
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
	chmod -R u+w "$work"; rm -rf "$work"
}
trap cleanup EXIT

make_random_model "$work/model" "$large_files" "$large_mib" "$small_files"
python3 "$root/tests/hub/make_fixture.py" "$work/hub" add --repo bench/model "$work/model" >/dev/null
rm -rf "$work/model"
chmod -R a+rX "$work/hub"

# nginx serving the blobs as /blob/<sha256> (the query of signed links is ignored)
nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nginx_conf() { # RATE ("0" = unlimited)
	write_nginx_conf "$work" "$nginx_port" 1 "location /blob/ { alias $work/hub/blobs/; limit_rate $1; }"
}
start_nginx() {
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null && sleep 0.5
	nginx_conf "$1"
	"$nginx_bin" -c "$work/nginx.conf" -p "$work" -g 'daemon on;' 2>/dev/null
	for _ in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$nginx_port/" && break
		sleep 0.1
	done
}

python3 "$root/tests/hub/fakehub.py" --root "$work/hub" --ready-file "$work/ready" \
	--storage-base "http://127.0.0.1:$nginx_port" >/dev/null 2>&1 &
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
for mode in $modes; do
	case $mode in
	nginx) start_nginx 0 ;;
	nginx-capped) start_nginx "$cap" ;;
	*) echo "bench: unknown mode $mode (nginx, nginx-capped)"; exit 1 ;;
	esac
	durable_curl=()
	[ "$mode" = nginx ] && durable_curl=(-n curl+sync
		--prepare "rm -rf $work/curl; mkdir -p $work/curl/small; sync"
		"cd $work/curl && curl -sSfL --create-dirs -K $work/curl.cfg && sync")
	echo
	echo "== $mode$([ "$mode" = nginx-capped ] && echo " (limit_rate $cap per connection)")"
	hyperfine --runs "$runs" --export-json "$work/result-$mode.json" \
		-n arca --prepare "chmod -R u+w $work/store 2>/dev/null; rm -rf $work/store; $arca init -q; sync" \
		"$arca pull bench/model -q --jobs 4 --connections 8 --no-index" \
		-n aria2c --prepare "rm -rf $work/aria2; mkdir $work/aria2; sync" \
		"aria2c -x8 -s8 -j4 -q --allow-overwrite=true --auto-file-renaming=false -d $work/aria2 -i $work/aria2.txt" \
		-n curl --prepare "rm -rf $work/curl; mkdir -p $work/curl/small; sync" \
		"cd $work/curl && curl -sSfL --create-dirs -K $work/curl.cfg" \
		"${durable_curl[@]}"
done

echo
echo "machine: $(nproc) cores; data: $bytes bytes in $((large_files + small_files)) files; median of $runs runs"
python3 - "$bytes" $(for m in $modes; do echo "$m=$work/result-$m.json"; done) <<'PY'
import json, sys
n = int(sys.argv[1])
print("%-13s %-8s %9s %9s %14s %14s" % ("mode", "tool", "seconds", "MB/s", "arca speedup", "range (s)"))
for arg in sys.argv[2:]:
    mode, path = arg.split("=", 1)
    results = json.load(open(path))["results"]
    med = {r["command"]: r["median"] for r in results}
    for r in results:
        name, t = r["command"], r["median"]
        print("%-13s %-8s %9.2f %9.0f %13.2fx %6.2f-%.2f" % (mode, name, t, n / t / 1e6,
              t / med["arca"], r["min"], r["max"]))
PY
