#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Who may pull what: gated and private repositories, good and bad tokens, unknown repos and
# revisions, and file names from the hub that would escape the store.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

make_model "$T/model"
hub_add acme/gated "$T/model" --gated manual --token tok-approved >/dev/null
hub_add acme/private "$T/model" --private --token tok-approved >/dev/null
hub_add acme/open "$T/model" >/dev/null
start_hub
run 0 "$ARCA" init

# gated: no token, an unapproved token, an invalid token, then the approved one
run 1 "$ARCA" pull acme/gated
expect_stderr "gated repository; accept its conditions on the hub, then pass a token"
run 1 "$ARCA" pull acme/gated --token tok-pending
expect_stderr "this token has not been granted access"
! grep -q tok-pending "$ERR" || fail "the token appears in a message"
run 1 "$ARCA" pull acme/gated --token bad-token
expect_stderr "the hub refused the token"
HF_TOKEN=tok-approved run 0 "$ARCA" pull acme/gated -q
# the token file the Python client writes is used too
mkdir -p "$T/hfhome" && printf 'tok-approved\n' > "$T/hfhome/token"
HF_HOME="$T/hfhome" run 0 "$ARCA" pull acme/private -q
HF_HOME="$T/hfhome" HF_HUB_DISABLE_IMPLICIT_TOKEN=1 run 4 "$ARCA" pull acme/private
expect_stderr "repository not found"
expect_stderr "if it is private, pass a token"

# unknown repos and revisions
run 4 "$ARCA" pull acme/nothing
expect_stderr "hf:acme/nothing@main: resolve main: repository not found on $HUB"
run 4 "$ARCA" pull acme/open@no-such-branch
expect_stderr "hf:acme/open@no-such-branch: resolve no-such-branch: revision not found"
run 4 "$ARCA" pull acme/open@0123456789012345678901234567890123456789

# the repo becomes gated after a first pull: the next pull says so, the copy stays
run 0 "$ARCA" pull acme/open -q
hub_state '{"op": "set_gated", "repo": "acme/open", "gated": "manual"}'
run 1 "$ARCA" pull acme/open
expect_stderr "gated"
run 0 "$ARCA" checkout acme/open "$T/kept"

# file names from the hub that point outside the store are refused before any download
for evil in "../escape.txt" "/abs.txt" "a/../../b.txt" 'nul\u0000byte'; do
	python3 - "$HUBROOT/repos.json" "$evil" <<'PY'
import json, os, sys
p, name = sys.argv[1], sys.argv[2].encode().decode("unicode_escape")
d = json.load(open(p))
for c in d["repos"]["acme/open"]["commits"].values():
    c["files"] = {k: v for k, v in c["files"].items() if k == "config.json"}
    c["files"][name] = dict(c["files"]["config.json"])
json.dump(d, open(p + ".tmp", "w")); os.replace(p + ".tmp", p)
PY
	hub_state '{"op": "set_gated", "repo": "acme/open", "gated": false}'
	run 1 "$ARCA" pull acme/open
	expect_stderr "unsafe file name, refused"
done
[ ! -e "$T/escape.txt" ] && [ ! -e /abs.txt ] && [ ! -e "$ARCA_HOME/../escape.txt" ] \
	|| fail "a file was written outside the store"
run 0 "$ARCA" fsck
pass
