#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca pull against hubs shaped like the real ones and the mirrors in front of them: storage
# on the API's own host or on a CDN, endpoints with a path prefix, pagination links naming
# another host, renamed repos, a mirror that redirects resolves to another endpoint, signed
# links that expire during a slow transfer, files only Xet can serve, and tokens as users
# really set them (trailing newlines, ~ in HF_HOME, HF_HUB_DISABLE_IMPLICIT_TOKEN).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

make_model "$T/model"
head -c 6291456 /dev/urandom > "$T/model/extra.bin"   # 6 MiB: several ranged chunks
hub_add acme/private "$T/model" --hub both --private --token tok-ok >/dev/null
hub_add acme/public "$T/model" >/dev/null
start_hub --page-size 2
run 0 "$ARCA" init
fresh() { rm -rf "$ARCA_HOME"; "$ARCA" init -q; hub_reset; }
log_count() { hub_log_count "$1"; }

# --- every storage shape x endpoint with and without a path -----------------------------
for storage in cdn same-host; do
	for prefix in "" /artifactory/api/huggingfaceml/hf-remote; do
		STEP="storage=$storage prefix=$prefix"
		hub_config "{\"storage\": \"$storage\", \"prefix\": \"$prefix\"}"
		export HF_ENDPOINT=$HUB$prefix MODELSCOPE_ENDPOINT=$HUB$prefix
		fresh
		HF_TOKEN=tok-ok run 0 "$ARCA" pull acme/private --chunk-mib 1
		MODELSCOPE_API_TOKEN=tok-ok run 0 "$ARCA" pull ms:acme/private --chunk-mib 1
		run 0 "$ARCA" fsck
		# every hub request stayed under the prefix (pagination links were not doubled)
		[ "$(log_count "r['server']=='hub' and not r['path'].startswith('$prefix/')")" = 0 ] \
			|| fail "$storage/$prefix: a request left the endpoint's path"
		[ "$(log_count "r['server']=='hub' and '/tree/' in r['path']")" -ge 3 ] \
			|| fail "$storage/$prefix: the listing was not paginated"
		if [ "$storage" = cdn ]; then
			[ "$(log_count "r['server']=='cdn' and r['auth']")" = 0 ] \
				|| fail "the token went to the CDN"
			[ "$(log_count "r['server']=='cdn'")" -ge 2 ] || fail "nothing came from the CDN"
		else
			[ "$(log_count "r['server']=='cdn'")" = 0 ] || fail "the CDN was used"
			# storage on the hub's own origin gets the token, and answers without metadata
			[ "$(log_count "r['server']=='hub' and ('/blob/' in r['path'] or '/oss/' in r['path']) and r['auth']")" -ge 2 ] \
				|| fail "storage on the hub's host was not asked with the token"
		fi
	done
done
hub_config '{"storage": "cdn", "prefix": ""}'
export HF_ENDPOINT=$HUB MODELSCOPE_ENDPOINT=$HUB

# --- pagination links that name another host (a mirror's links to huggingface.co) -------
hub_config '{"prefix": "/hf", "link_base": "https://huggingface.invalid"}'
export HF_ENDPOINT=$HUB/hf
fresh
run 0 "$ARCA" pull acme/public
[ "$(log_count "r['server']=='hub' and '/tree/' in r['path'] and 'cursor' in r['query']")" -ge 2 ] \
	|| fail "the next pages were not fetched from the endpoint"
hub_config '{"prefix": "", "link_base": null}'
export HF_ENDPOINT=$HUB

# --- a mirror that answers resolve with 308 to another endpoint --------------------------
"$PYTHON_BIN" "$ARCA_SOURCE/tests/hub/fakehub.py" --root "$HUBROOT" \
	--ready-file "$T/upstream.ready" >"$T/upstream.log" 2>&1 &
UPSTREAM_PID=$!
trap 'kill $UPSTREAM_PID 2>/dev/null; stop_hub; cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$T/upstream.ready" ] && break; sleep 0.1; done
UPSTREAM=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hub"])' "$T/upstream.ready")
hub_config "{\"resolve_redirect\": {\"status\": 308, \"to\": \"$UPSTREAM\"}}"
fresh
HF_TOKEN=tok-public run 0 "$ARCA" pull acme/public --chunk-mib 1
run 0 "$ARCA" fsck
HUB_SAVED=$HUB; HUB=$UPSTREAM
[ "$(log_count "'/resolve/' in r['path'] and r['status'] in (200, 302, 307)")" -ge 5 ] \
	|| fail "the upstream endpoint did not answer the resolves"
[ "$(log_count "r['auth']")" = 0 ] || fail "the token went to another endpoint"
HUB=$HUB_SAVED
[ "$(log_count "'/resolve/' in r['path'] and r['status'] == 308")" -ge 5 ] \
	|| fail "the mirror did not redirect"
hub_config '{"resolve_redirect": null}'

# --- signed links that expire while a throttled transfer is still going ------------------
# links live for at most a second and each 1 MiB chunk takes longer: every chunk after the
# first needs a fresh link, more re-resolves than any fixed budget allows
fresh
hub_config '{"sig_ttl": 1}'
hub_fault '{"match": "/blob/", "kind": "trickle", "rate": 1000000, "count": -1}'
ARCA_ISATTY=1 run 0 "$ARCA" pull acme/public --include extra.bin --connections 1 --chunk-mib 1
expect_stderr "asking the hub for a new one"
[ "$(log_count "'/resolve/' in r['path'] and r['path'].endswith('extra.bin')")" -ge 5 ] \
	|| fail "the link was not renewed several times"
run 0 "$ARCA" fsck
hub_config '{"sig_ttl": 3600}'

# --- a renamed repo: relative 307 without metadata, on the API and on resolve -----------
fresh
hub_state '{"op": "rename_repo", "repo": "acme/public", "to": "acme/public-v2"}'
run 0 "$ARCA" pull acme/public --json
expect_stdout '"event":"warning","message":"acme/public has moved to acme/public-v2'
[ "$(log_count "r['path'].startswith('/acme/public/resolve/') and r['status'] == 307")" -ge 5 ] \
	|| fail "resolves under the old name were not redirected"
run 0 "$ARCA" show acme/public --json
expect_json 'd["evidence"]["moved_to"]' acme/public-v2
run 0 "$ARCA" fsck
hub_state '{"op": "rename_repo", "repo": "acme/public-v2", "to": "acme/public"}'

# --- files only Xet can serve: a clear error naming the file, the rest is kept ------------
fresh
hub_config '{"xet_only_over": 4000000}'
run 1 "$ARCA" pull acme/public
expect_stderr "extra.bin: the hub's storage refused it (HTTP 400)"
expect_stderr "only through the Xet protocol"
run 0 "$ARCA" show acme/public --json
expect_json 'd["state"]' incomplete
expect_json 'sum(1 for f in d["file_list"] if f["sha256"])' 5
run 0 "$ARCA" pull acme/public --exclude extra.bin
hub_config '{"xet_only_over": null}'

# --- tokens as users set them -----------------------------------------------------------
fresh
HF_TOKEN=$'tok-ok\n' run 0 "$ARCA" pull acme/private -q
MODELSCOPE_API_TOKEN=$'  tok-ok\r\n' run 0 "$ARCA" pull ms:acme/private -q
run 0 "$ARCA" pull acme/private -q --token $'tok-ok\n'
fresh
mkdir -p "$T/home/hf" && printf 'tok-ok\r\n' > "$T/home/hf/token"
HOME="$T/home" HF_HOME='~/hf' run 0 "$ARCA" pull acme/private -q
# implicit tokens (environment and file) are not sent when the user says so; --token is
fresh
HF_HUB_DISABLE_IMPLICIT_TOKEN=1 HF_TOKEN=tok-ok run 4 "$ARCA" pull acme/private
expect_stderr "repository not found"
[ "$(log_count "r['auth']")" = 0 ] || fail "an implicit token was sent"
HOME="$T/home" HF_HOME='~/hf' HF_HUB_DISABLE_IMPLICIT_TOKEN=1 run 4 "$ARCA" pull acme/private
HF_HUB_DISABLE_IMPLICIT_TOKEN=1 run 0 "$ARCA" pull acme/private -q --token tok-ok
pass
