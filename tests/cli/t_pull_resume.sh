#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Interrupted pulls keep their verified-so-far bytes: after kill -9 or Ctrl-C the next pull
# continues from them (and never fetches finished files again); a server that then ignores
# Range restarts the file cleanly; fsck shows a clean store at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

mkdir -p "$T/model"
head -c $((12 * 1024 * 1024)) /dev/urandom > "$T/model/model.safetensors"
echo '{"model_type": "qwen2"}' > "$T/model/config.json"
hub_add acme/big "$T/model" >/dev/null
start_hub
run 0 "$ARCA" init
weights=$(sha256sum "$T/model/model.safetensors" | cut -d' ' -f1)

partial_bytes() { du -b "$ARCA_HOME/tmp/partial-$weights" 2>/dev/null | cut -f1; }
wait_for_chunks() { # until the saved state lists at least $1 finished chunks
	for _ in $(seq 1 200); do
		if [ -f "$ARCA_HOME/tmp/partial-$weights.state" ] &&
		   python3 -c 'import json,sys; t=open(sys.argv[1]).read().split("\n",1)[1]; sys.exit(0 if len(json.loads(t)["done"])>=int(sys.argv[2]) else 1)' \
			"$ARCA_HOME/tmp/partial-$weights.state" "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	fail "no chunks were saved"
}

# kill -9 halfway through a slow download
hub_fault '{"match": "/blob/", "kind": "trickle", "rate": 4000000, "count": -1}'
"$ARCA" pull acme/big --chunk-mib 1 -c 2 >/dev/null 2>&1 & pid=$!
wait_for_chunks 3
kill -9 $pid; wait $pid 2>/dev/null
run 0 "$ARCA" show acme/big --json
expect_json 'd["state"]' incomplete
expect_json '[f["path"] for f in d["file_list"] if f["sha256"]]' "['config.json']"
hub_reset
run 0 "$ARCA" pull acme/big --chunk-mib 1 --json
expect_stdout '"how":"resumed"'
expect_stdout '"how":"present"'
# chunks saved before the kill were not asked for again
[ "$(hub_log_count 'r["server"]=="cdn" and r["range"]=="bytes=0-1048575"')" = 0 ] \
	|| fail "the first chunk was downloaded again"
[ "$(hub_log_count '"config.json" in r["path"]')" = 0 ] || fail "a finished file was fetched again"
run 0 "$ARCA" fsck
expect_stdout "0 problems"
[ -z "$(ls "$ARCA_HOME/tmp")" ] || fail "the partial was not cleaned up"
run 0 "$ARCA" checkout acme/big "$T/out"
cmp -s "$T/model/model.safetensors" "$T/out/model.safetensors" || fail "resumed file differs"

# Ctrl-C: exit 130, the partial stays; the server then ignores Range: clean restart
run 0 "$ARCA" rm acme/big -q
run 0 "$ARCA" gc -q
hub_fault '{"match": "/blob/", "kind": "trickle", "rate": 4000000, "count": -1}'
"$ARCA" pull acme/big --chunk-mib 1 -c 2 >/dev/null 2>"$T/int.err" & pid=$!
wait_for_chunks 2
kill -INT $pid; wait $pid; rc=$?
[ $rc -eq 130 ] || fail "Ctrl-C exited $rc, expected 130"
grep -q "interrupted" "$T/int.err" || fail "no 'interrupted' message"
[ -n "$(partial_bytes)" ] || fail "the partial download was not kept"
hub_reset
hub_fault '{"match": "/blob/", "kind": "ignore_range", "count": -1}'
run 0 "$ARCA" pull acme/big --chunk-mib 1
[ "$(hub_log_count 'r["server"]=="cdn" and r["status"]==200')" -ge 1 ] || fail "no plain answer"
run 0 "$ARCA" fsck
expect_stdout "0 problems"
run 0 "$ARCA" checkout acme/big "$T/out2"
cmp -s "$T/model/model.safetensors" "$T/out2/model.safetensors" || fail "restarted file differs"
pass
