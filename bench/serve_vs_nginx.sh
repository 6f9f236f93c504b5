#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Serving speed: `arca serve` against nginx (sendfile) serving the very same blob files, on
# loopback, with many clients downloading at once, page cache warm, in one run (hyperfine),
# median of RUNS, as GB/s and the ratio arca/nginx.
#
# The model: LARGE_FILES (default 4) files of LARGE_MIB (default 512) MiB of random bytes
# plus SMALL_FILES (default 32) small ones, about 2 GiB, brought in with `arca add`. One run
# downloads every small file once and every large file COPIES times (default 4), all at
# once with up to CLIENTS (default 16) parallel transfers (`curl --parallel`), into
# /dev/null:
#   arca    the Hub's way: /org/name/resolve/main/<path>; LFS files answer 302 to
#           /api/storage/<sha256>, which curl follows (both requests count in the time)
#   nginx   the blob files directly, /blob/ab/cdef… (an alias of the store's objects/)
# Both servers get THREADS workers (default: the number of CPUs): arca serve --threads,
# nginx worker_processes. The load average is printed before and after: other work on
# the machine shows in the numbers. Needs curl, hyperfine, nginx, python3.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/bench/lib.sh"
arca=${ARCA:-$root/build/arca}
large_files=${LARGE_FILES:-4}
large_mib=${LARGE_MIB:-512}
small_files=${SMALL_FILES:-32}
copies=${COPIES:-4}
clients=${CLIENTS:-16}
runs=${RUNS:-5}
threads=${THREADS:-$(nproc)}
for tool in curl hyperfine python3; do
	command -v $tool >/dev/null || { echo "bench: $tool is missing (scripts/setup-debian.sh --bench)"; exit 1; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "bench: nginx is missing (scripts/setup-debian.sh --bench)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-serve-bench-XXXXXX")
chmod 755 "$work"   # nginx's workers read the blobs
serve_pid=""
cleanup() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
	chmod -R u+w "$work"; rm -rf "$work"
}
trap cleanup EXIT

make_random_model "$work/model" "$large_files" "$large_mib" "$small_files"
export ARCA_HOME="$work/store"
"$arca" init -q
"$arca" add "$work/model" --as bench/model -q
rm -rf "$work/model"
chmod -R a+rX "$work/store/objects"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_nginx_conf "$work" "$port" "$threads" "location /blob/ { alias $work/store/objects/sha256/; }"
"$nginx_bin" -c "$work/nginx.conf" -p "$work" -g 'daemon on;' 2>/dev/null
"$arca" serve --listen 127.0.0.1:0 --threads "$threads" --json >"$work/serve.json" &
serve_pid=$!
for _ in $(seq 1 100); do [ -s "$work/serve.json" ] && break; sleep 0.1; done
url=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["url"])' "$work/serve.json")
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

# the same downloads for both: every small file once, every large one $copies times
"$arca" show bench/model --json > "$work/show.json"
bytes=$(python3 - "$work" "$url" "http://127.0.0.1:$port" "$copies" "$large_mib" <<'PY'
import json, sys
work, arca, nginx, copies, large_mib = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
files = json.load(open(work + "/show.json"))["file_list"]
total = 0
with open(work + "/arca.cfg", "w") as a, open(work + "/nginx.cfg", "w") as n:
    for f in files:
        for _ in range(copies if f["size"] >= large_mib << 20 else 1):
            a.write('url = "%s/bench/model/resolve/main/%s"\noutput = "/dev/null"\n' % (arca, f["path"]))
            n.write('url = "%s/blob/%s/%s"\noutput = "/dev/null"\n' % (nginx, f["sha256"][:2], f["sha256"][2:]))
            total += f["size"]
print(total)
PY
)
# both answer the same bytes (the first file of each list is the same file)
first() { sed -n 's/^url = "\(.*\)"$/\1/p' "$1" | head -1; }
[ "$(curl -sSfL "$(first "$work/arca.cfg")" | sha256sum)" = \
  "$(curl -sSf "$(first "$work/nginx.cfg")" | sha256sum)" ] || { echo "bench: arca and nginx disagree"; exit 1; }
cat "$work"/store/objects/sha256/*/* > /dev/null   # the page cache is warm for both

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
curl_cmd="curl -sSfL --parallel --parallel-immediate --parallel-max $clients -K"
hyperfine --runs "$runs" --warmup 1 --export-json "$work/result.json" \
	-n arca "$curl_cmd $work/arca.cfg" \
	-n nginx "$curl_cmd $work/nginx.cfg"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "machine: $(nproc) cores; per run: $bytes bytes ($large_files x $large_mib MiB x $copies + $small_files small), $clients parallel clients, $threads server threads; median of $runs runs"
python3 - "$bytes" "$work/result.json" <<'PY'
import json, sys
n = int(sys.argv[1])
results = {r["command"]: r for r in json.load(open(sys.argv[2]))["results"]}
for name in ("arca", "nginx"):
    r = results[name]
    print("%-6s %8.2f s  %6.2f GB/s  (range %.2f-%.2f s)" % (name, r["median"], n / r["median"] / 1e9,
          r["min"], r["max"]))
print("arca/nginx throughput: %.2fx" % (results["nginx"]["median"] / results["arca"]["median"]))
PY
