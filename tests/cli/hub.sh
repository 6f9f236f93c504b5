# SPDX-License-Identifier: Apache-2.0
# tests/cli/hub.sh — the test hub for CLI tests: source after lib.sh. Builds fixtures with
# tests/hub/make_fixture.py, runs tests/hub/fakehub.py on loopback for the test's lifetime
# and talks to its control API (faults, state changes, request log).
HUBROOT="$T/hubroot"
HUB_PID=""

# hub_add REPO DIR [make_fixture options...]: a new commit of REPO from DIR; prints its id.
hub_add() {
	local repo=$1 dir=$2; shift 2
	python3 "$ARCA_SOURCE/tests/hub/make_fixture.py" "$HUBROOT" add --repo "$repo" "$@" "$dir" \
		|| fail "make_fixture could not add $dir as $repo"
}

# start_hub [fakehub options...]: sets HUB and CDN.
start_hub() {
	rm -f "$T/hub.ready"
	# the program itself, not the python3 shell function: $! must be the server's pid
	"$PYTHON_BIN" "$ARCA_SOURCE/tests/hub/fakehub.py" --root "$HUBROOT" \
		--ready-file "$T/hub.ready" "$@" >"$T/hub.log" 2>&1 &
	HUB_PID=$!
	wait_ready "$T/hub.ready" "$HUB_PID" "$T/hub.log" "the test hub"
	HUB=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hub"])' "$T/hub.ready")
	CDN=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cdn"])' "$T/hub.ready")
	# what clients use: the hub plus any --prefix it serves under
	ENDPOINT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["endpoint"])' \
		"$T/hub.ready")
	export HF_ENDPOINT=$ENDPOINT MODELSCOPE_ENDPOINT=$ENDPOINT
	trap 'stop_hub; cleanup' EXIT
}

stop_hub() {
	[ -n "$HUB_PID" ] && kill "$HUB_PID" 2>/dev/null && wait "$HUB_PID" 2>/dev/null
	HUB_PID=""
}

# hub_ctl METHOD PATH [JSON]: a control call; prints the answer.
hub_ctl() {
	python3 - "$HUB" "$1" "$2" "${3:-}" <<'PY' || fail "control call $2 failed"
import sys, urllib.request
hub, method, path, body = sys.argv[1:5]
req = urllib.request.Request(hub + path, method=method, data=body.encode() if body else None,
                             headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(req, timeout=10).read().decode())
PY
}
hub_fault() { hub_ctl POST /_control/fault "$1" >/dev/null; }
hub_config() { hub_ctl POST /_control/config "$1" >/dev/null; }
hub_state() { hub_ctl POST /_control/state "$1" >/dev/null; }
hub_reset() { hub_ctl POST /_control/reset >/dev/null; }

# hub_log_count PYTHON-CONDITION: requests in the log for which it holds (bound to `r`).
hub_log_count() {
	hub_ctl GET /_control/log | python3 -c \
		'import json,sys; print(sum(1 for r in json.load(sys.stdin) if eval(sys.argv[1])))' "$1"
}

# Quick retries so fault tests do not sleep for seconds.
export ARCA_RETRY_BASE_MS=50
