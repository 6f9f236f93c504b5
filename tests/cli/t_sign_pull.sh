#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca pull and a repo's own model.sig: an upstream signature by a key nobody here trusts is
# recorded as untrusted and the pull succeeds; once the key is trusted it is verified; files
# that differ from what was signed fail the pull (exit 3) and leave the snapshot incomplete;
# a Sigstore keyless signature is recorded with its identity, and verified offline once a
# trusted root is; --require-signature, --identity and --issuer turn anything short of
# verified into a failure. show and ls --json say the state; the evidence records it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hub.sh"

FIX="$ARCA_SOURCE/tests/data/model-signing"
cp -r "$FIX/elliptic-key" "$T/signed"
cp -r "$FIX/elliptic-key" "$T/tampered"
printf 'x' >> "$T/tampered/signme-1"
cp -r "$FIX/sigstore" "$T/keyless"
make_model "$T/plain"
hub_add acme/signed "$T/signed" --hub both >/dev/null
hub_add acme/tampered "$T/tampered" >/dev/null
hub_add acme/keyless "$T/keyless" >/dev/null
hub_add acme/plain "$T/plain" >/dev/null
start_hub
run 0 "$ARCA" init

# --- a key nobody trusts yet ---------------------------------------------------------------
run 0 "$ARCA" pull acme/signed
expect_stdout "model.sig: untrusted, signed by key e8450dec4eb99dae"
run 0 "$ARCA" show acme/signed --json
expect_json 'd["state"]' complete
expect_json 'd["signature"]' untrusted
expect_json 'd["evidence"]["signature"]["state"]' untrusted
run 0 "$ARCA" show acme/signed
expect_stdout "signature   untrusted (upstream)"
run 3 "$ARCA" verify acme/signed
expect_stderr "the upstream signature is untrusted"

# trusted: pulling again fetches nothing and verifies it; so does arca verify (re-hashing)
run 0 "$ARCA" key trust "$FIX/keys/signing-key-pub.pem" --name model-transparency-test
run 0 "$ARCA" pull acme/signed --json
grep '"event":"done"' "$OUT" > "$T/done.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["signature"]["state"]=="verified", d; assert d["downloaded"]==0, d' "$T/done.json" ||
	fail "the second pull did not verify the signature"
run 0 "$ARCA" ls --json
expect_json '[s["signature"] for s in d["snapshots"]]' "['verified']"
run 0 "$ARCA" verify acme/signed --json
expect_json 'd["signatures"][0]["origin"]' upstream
expect_json 'd["signatures"][0]["signer"]' model-transparency-test
run 0 "$ARCA" pull ms:acme/signed
expect_stdout "model.sig: verified, signed by model-transparency-test"

# --- files that differ from the signature: the pull fails, nothing is marked complete ------
run 3 "$ARCA" pull acme/tampered
expect_stderr "model.sig is invalid"
expect_stderr "changed: signme-1"
expect_stderr "stays incomplete"
run 0 "$ARCA" ls --json
expect_json '[s["state"] for s in d["snapshots"] if s["repo_id"]=="acme/tampered"]' "['incomplete']"
expect_json '[s["signature"] for s in d["snapshots"] if s["repo_id"]=="acme/tampered"]' "['invalid']"
run 3 "$ARCA" fsck
expect_stderr "incomplete"

# --- Sigstore keyless ----------------------------------------------------------------------
run 0 "$ARCA" pull acme/keyless
expect_stdout "model.sig: keyless, signed by stefanb@us.ibm.com"
expect_stdout "no trusted Sigstore root"
run 3 "$ARCA" pull acme/keyless --identity someone@example.com
expect_stderr "not by someone@example.com"
run 0 "$ARCA" key trust "$FIX/sigstore-public-good/trusted_root.json" --name sigstore-public-good
run 0 "$ARCA" pull acme/keyless --identity stefanb@us.ibm.com \
	--issuer https://sigstore.verify.ibm.com/oauth2
expect_stdout "model.sig: verified, signed by stefanb@us.ibm.com"
run 0 "$ARCA" show acme/keyless --json
expect_json 'd["evidence"]["signature"]["not_checked"].count("live log")' 1

# --- no signature --------------------------------------------------------------------------
run 0 "$ARCA" pull acme/plain
expect_stdout_not "model.sig"
run 0 "$ARCA" show acme/plain --json
expect_json 'd["signature"]' None
rm -rf "$ARCA_HOME"; "$ARCA" init -q
run 3 "$ARCA" pull acme/plain --require-signature
expect_stderr "has no model.sig, and a signature was required"
run 3 "$ARCA" pull acme/signed --require-signature
expect_stderr "model.sig is untrusted"
pass
