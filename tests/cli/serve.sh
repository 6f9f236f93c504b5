# SPDX-License-Identifier: Apache-2.0
# tests/cli/serve.sh — `arca serve` for CLI tests: source after lib.sh. Starts the server on
# a free loopback port for the test's lifetime, stops it with SIGTERM (checking it exits 0),
# and sends single requests through tests/cli/http_probe.py.
SERVE_PID=""

# start_serve [arca serve options...]: sets URL (and SERVE_PID); the access log is
# $T/access.log.
start_serve() {
	rm -f "$T/serve.json"
	"$ARCA" serve --listen 127.0.0.1:0 --json --access-log "$T/access.log" "$@" \
		>"$T/serve.json" 2>"$T/serve.err" &
	SERVE_PID=$!
	wait_ready "$T/serve.json" "$SERVE_PID" "$T/serve.err" "arca serve"
	URL=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["url"])' \
		"$T/serve.json") || fail "arca serve's start line is not JSON"
	trap 'stop_serve_quietly; declare -F stop_hub >/dev/null && stop_hub; cleanup' EXIT
}

stop_serve_quietly() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; SERVE_PID=""; }

# stop_serve: SIGTERM, and the server must exit 0.
stop_serve() {
	kill -TERM "$SERVE_PID" || fail "arca serve is not running"
	local rc=0
	wait "$SERVE_PID" || rc=$?
	SERVE_PID=""
	[ "$rc" -eq 0 ] || { cat "$T/serve.err" >&2; fail "arca serve exited $rc on SIGTERM"; }
}

# probe METHOD URL [http_probe options...]: the answer as JSON on stdout (see expect_json).
probe() {
	run 0 python3 "$ARCA_SOURCE/tests/cli/http_probe.py" "$@"
}

# expect_status CODE METHOD URL [options...]
expect_status() {
	local want=$1; shift
	probe "$@"
	expect_json 'd["status"]' "$want"
}
