#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca key / sign / verify: a store key signs a snapshot and a variant; the signature
# verifies from the store (blobs re-hashed), from a checkout with arca verify DIR, and with
# an independent checker written from the spec (tests/fixtures/sigcheck.py, on
# python3-cryptography); tampering with a blob, a file, the statement or the trust makes it
# fail with exit 3 naming the file or the reason; the reference tool's v1.1.0 signatures
# verify; malformed input is a clear error (exit 1), never a crash; private keys never show.
. "$(dirname "$0")/lib.sh"

FIX="$ARCA_SOURCE/tests/data/model-signing"
SIGCHECK="$ARCA_SOURCE/tests/fixtures/sigcheck.py"
MUTATE="$ARCA_SOURCE/tests/fixtures/mutate_sig.py"
python3 -c 'import cryptography' 2>/dev/null ||
	skip "python3-cryptography is not installed (scripts/setup-debian.sh)"
# every output is kept, to check at the end that no private key ever appeared
LOG="$T/all-output"
run_logged() { run "$@"; cat "$OUT" "$ERR" >>"$LOG"; }

run 0 "$ARCA" init
make_llm "$T/m" --arch qwen2 --hidden 64 --ffn 128 --layers 1 --heads 2 --kv-heads 1 --seed 5
printf '*.bin filter=lfs\n' > "$T/m/.gitattributes"
run 0 "$ARCA" add "$T/m" --as acme/m -q

# --- keys ---------------------------------------------------------------------------------
run_logged 4 "$ARCA" sign acme/m
expect_stderr "no signing key; make one with: arca key new"
run_logged 0 "$ARCA" key new --json
expect_json 'd["name"]' default
expect_json 'd["own"]' True
expect_json 'd["algorithm"]' ecdsa-p256
KEY_ID=$(json 'd["key_id"]')
priv="$ARCA_HOME/keys/$KEY_ID.pem"
[ "$(stat -c %a "$priv")" = 600 ] || fail "the private key is not mode 0600"
grep -q "BEGIN PRIVATE KEY" "$priv" || fail "the private key is not PKCS#8 PEM"
echo "correct horse battery staple" > "$T/pass"
run_logged 0 "$ARCA" key new --name locked --passphrase-file "$T/pass"
expect_stdout "encrypted"
grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$ARCA_HOME"/keys/*.pem || fail "no encrypted key file"
run_logged 1 "$ARCA" key new --name default
expect_stderr "a key named default exists already"
run_logged 0 "$ARCA" key ls --json
expect_json '[k["name"] for k in d]' "['default', 'locked']"
expect_json '[k["trust"] for k in d]' "['own', 'own']"
run_logged 0 "$ARCA" key export default -o "$T/pub.pem"
grep -q "BEGIN PUBLIC KEY" "$T/pub.pem" || fail "export did not give a public key"
# the hint is the sha256 of the public PEM (what model_signing names the key by)
[ "$(sha256sum < "$T/pub.pem" | cut -c1-64)" = "$KEY_ID" ] || fail "key id is not the hint"

# --- sign and verify from the store --------------------------------------------------------
run_logged 1 "$ARCA" sign acme/m
expect_stderr "several signing keys (default, locked)"
run_logged 1 "$ARCA" sign acme/m --key locked
expect_stderr "passphrase is missing"
run_logged 1 "$ARCA" sign acme/m --key locked --passphrase-file "$T/pub.pem"
expect_stderr "passphrase is wrong"
ARCA_KEY_PASSPHRASE="correct horse battery staple" run_logged 0 "$ARCA" sign acme/m --key locked
run_logged 0 "$ARCA" sign acme/m --key default --out "$T/m.sig" --json
expect_json 'd["key"]' default
n_signed=$(json 'd["files"]')
# every file but .gitattributes (the reference verifier leaves git paths out)
[ "$n_signed" = "$(find "$T/m" -type f ! -name .gitattributes | wc -l)" ] ||
	fail "signed $n_signed files"
run_logged 0 "$ARCA" verify acme/m --json
expect_json 'd["result"]' verified
expect_json 'len(d["signatures"])' 2
expect_json 'sorted(s["signer"] for s in d["signatures"])' "['default', 'locked']"
expect_json 'all(f["state"] == "ok" for s in d["signatures"] for f in s["files"])' True
expect_json 'd["bytes_hashed"] > 0' True
run_logged 0 "$ARCA" show acme/m --json
expect_json 'd["signature"]' verified
expect_json '[s["source"] for s in d["signatures"]]' "['arca', 'arca']"

# the independent checker accepts arca's signature, over a checkout
# copies: tests run as root, and appending to a hard link would change the blob itself
run_logged 0 "$ARCA" checkout acme/m "$T/co" --copy
cp "$T/m.sig" "$T/co/model.sig"
python3 "$SIGCHECK" "$T/m.sig" "$T/pub.pem" "$T/co" > "$T/sigcheck.json" ||
	{ cat "$T/sigcheck.json" >&2; fail "sigcheck.py rejects arca's signature"; }
grep -q '"folder": "matches"' "$T/sigcheck.json" || fail "sigcheck.py: the folder differs"
run_logged 0 "$ARCA" verify "$T/co" --key "$T/pub.pem"
expect_stdout "verified"

# --- tampering -----------------------------------------------------------------------------
# a blob changed on disk: the file it holds is named
file=config.json
sha=$("$ARCA" show acme/m --json | python3 -c 'import json,sys; print([f["sha256"] for f in json.load(sys.stdin)["file_list"] if f["path"]=="config.json"][0])')
b=$(blob_file "$sha")
chmod u+w "$b"; cp "$b" "$T/blob.bak"; printf ' ' >> "$b"
run_logged 3 "$ARCA" verify acme/m --json
expect_json 'd["result"]' invalid
expect_json '[f["state"] for f in d["signatures"][0]["files"] if f["name"]=="config.json"]' "['changed']"
run_logged 3 "$ARCA" verify acme/m
expect_stderr "changed: $file"
cp "$T/blob.bak" "$b"
run_logged 0 "$ARCA" verify acme/m -q

# a checked-out folder: a file changed, missing, added
printf ' ' >> "$T/co/$file"
run_logged 3 "$ARCA" verify "$T/co" --key "$T/pub.pem"
expect_stderr "changed: $file"
rm "$T/co/$file"
run_logged 3 "$ARCA" verify "$T/co" --key "$T/pub.pem"
expect_stderr "missing: $file"
run_logged 0 "$ARCA" checkout acme/m "$T/co" --force --copy
run_logged 0 "$ARCA" checkout acme/m "$T/links"
run_logged 0 "$ARCA" checkout acme/m "$T/links" --force
# a checkout over its own hard links leaves nothing behind (rename() of a link onto the same
# file is a no-op that used to leave the temporary link)
[ -z "$(find "$T/links" -name '.arca-link-*')" ] || fail "checkout left temporary links"
echo extra > "$T/co/extra.txt"
run_logged 3 "$ARCA" verify "$T/co" --key "$T/pub.pem"
expect_stderr "not signed: extra.txt"
run_logged 0 "$ARCA" verify "$T/co" --key "$T/pub.pem" --ignore-paths extra.txt

# trust withdrawn, and given back
run_logged 0 "$ARCA" key untrust default
run_logged 0 "$ARCA" key untrust locked
run_logged 3 "$ARCA" verify acme/m
expect_stderr "untrusted"
run_logged 0 "$ARCA" key trust default
run_logged 0 "$ARCA" verify acme/m
run_logged 1 "$ARCA" sign acme/m --key locked
expect_stderr "marked untrusted"

# a key nobody here trusts
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -pubout > "$T/other.pem"
run_logged 3 "$ARCA" verify "$T/co" --sig "$T/m.sig" --key "$T/other.pem" --ignore-paths extra.txt
expect_stderr "the signature is untrusted"

# --- a variant -----------------------------------------------------------------------------
run_logged 0 "$ARCA" convert acme/m --quant q8_0 -q
run_logged 0 "$ARCA" sign acme/m:q8_0 --key default --json
expect_json 'd["files"]' 1
run_logged 0 "$ARCA" verify acme/m:q8_0 --json
expect_json 'd["signatures"][0]["files"][0]["name"].endswith(".gguf")' True
run_logged 4 "$ARCA" verify acme/m:q4_0
run_logged 4 "$ARCA" verify acme/other
run 0 "$ARCA" add "$T/m" --as acme/unsigned -q
run_logged 4 "$ARCA" verify acme/unsigned
expect_stderr "has no signature; sign it with: arca sign"

# --- the reference tool's v1.1.0 signatures ------------------------------------------------
run_logged 0 "$ARCA" verify "$FIX/elliptic-key" --key "$FIX/keys/signing-key-pub.pem" --json
expect_json 'd["signatures"][0]["mode"]' key
expect_json 'd["signatures"][0]["root_digest"]' 92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4
run_logged 0 "$ARCA" verify "$FIX/certificate" --cert-chain "$FIX/keys/ca-cert.pem"
expect_stdout "certificate mode"
run_logged 1 "$ARCA" verify "$FIX/certificate" --cert-chain "$T/pub.pem"
expect_stderr "no PEM certificate"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj /CN=another-ca -days 2 -out "$T/other-ca.pem" 2>/dev/null || fail "openssl req"
run_logged 3 "$ARCA" verify "$FIX/certificate" --cert-chain "$T/other-ca.pem"
expect_stderr "none of the 1 trusted roots accepts"
# certificates made here, signed independently (make_cert_sig.py): a leaf meant for signing
# verifies; one with no key usage at all does not (OpenSSL calls such a leaf good for
# anything, the spec does not)
MAKE_CERT_SIG="$ARCA_SOURCE/tests/fixtures/make_cert_sig.py"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca.key" \
	-subj /CN=test-root -days 30 -out "$T/ca.pem" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign 2>/dev/null || fail "openssl: CA"
printf '[signing]\nkeyUsage=critical,digitalSignature\n[bare]\nsubjectKeyIdentifier=hash\n' \
	> "$T/ext.cnf"
mkdir "$T/cm" && echo weights > "$T/cm/w.bin"
for kind in signing bare; do
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$kind.key" \
		-subj "/CN=$kind-leaf" -out "$T/$kind.csr" 2>/dev/null &&
	openssl x509 -req -in "$T/$kind.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-days 10 -extfile "$T/ext.cnf" -extensions $kind -out "$T/$kind.pem" 2>/dev/null ||
		fail "openssl: $kind leaf"
	python3 "$MAKE_CERT_SIG" "$T/cm" "$T/$kind.key" "$T/$kind.sig" "$T/$kind.pem" ||
		fail "make_cert_sig.py"
done
run_logged 0 "$ARCA" verify "$T/cm" --sig "$T/signing.sig" --cert-chain "$T/ca.pem"
run_logged 3 "$ARCA" verify "$T/cm" --sig "$T/bare.sig" --cert-chain "$T/ca.pem"
expect_stderr "is not meant for signing"
run_logged 3 "$ARCA" verify "$FIX/elliptic-key" --key "$T/pub.pem"
expect_stderr "untrusted"
# keyless from a private Sigstore instance with no trusted root here: intact, not verified,
# and the result says what was not checked
run_logged 3 "$ARCA" verify "$FIX/sigstore" --json
expect_json 'd["result"]' keyless
expect_json 'd["signatures"][0]["identity"]' stefanb@us.ibm.com
expect_json '"Fulcio" in d["signatures"][0]["not_checked"]' True
run_logged 3 "$ARCA" verify "$FIX/sigstore" --identity someone@example.com
expect_stderr "not by someone@example.com"
# with Sigstore's public trusted root (vendored), it verifies offline: log key, SET,
# inclusion proof and checkpoint, Fulcio chain at the logged time, identity and issuer
PG="$FIX/sigstore-public-good/trusted_root.json"
run_logged 0 "$ARCA" verify "$FIX/sigstore" --trusted-root "$PG" --identity stefanb@us.ibm.com \
	--issuer https://sigstore.verify.ibm.com/oauth2 --json
expect_json 'd["result"]' verified
expect_json '"checkpoint" in d["signatures"][0]["checked"]' True
expect_json '"live log" in d["signatures"][0]["not_checked"]' True
expect_json 'd["signatures"][0]["signed_at"]' 2025-10-10T02:12:20Z
run_logged 3 "$ARCA" verify "$FIX/sigstore" --trusted-root "$PG" --issuer https://accounts.example.com
expect_stderr "not by https://accounts.example.com"
# a root that knows neither its log nor its CA: untrusted, not invalid
run_logged 3 "$ARCA" verify "$FIX/sigstore" --trusted-root "$FIX/keyless-test-instance/trusted_root.json" --json
expect_json 'd["result"]' untrusted
# the synthetic instance, trusted through the store; a bundle whose log entry is for
# another payload is invalid
KI="$FIX/keyless-test-instance"
run_logged 0 "$ARCA" key trust "$KI/trusted_root.json" --name test-sigstore --json
expect_json 'd["kind"]' "Sigstore trusted root"
run_logged 0 "$ARCA" verify "$FIX/elliptic-key" --sig "$KI/model.sig" --ignore-paths model.sig
run_logged 3 "$ARCA" verify "$FIX/elliptic-key" --sig "$KI/logged-other-payload.sig" \
	--ignore-paths model.sig --json
expect_json 'd["result"]' invalid
run_logged 0 "$ARCA" key untrust test-sigstore
run_logged 3 "$ARCA" verify "$FIX/elliptic-key" --sig "$KI/model.sig" --ignore-paths model.sig --json
expect_json 'd["result"]' keyless
# a tampered copy of a reference model
cp -r "$FIX/elliptic-key" "$T/ek"
printf 'x' >> "$T/ek/signme-1"
run_logged 3 "$ARCA" verify "$T/ek" --key "$FIX/keys/signing-key-pub.pem"
expect_stderr "changed: signme-1"

# --- bad input -----------------------------------------------------------------------------
cp -r "$FIX/elliptic-key" "$T/bad"
for kind in json payload-type payload-base64 predicate; do
	python3 "$MUTATE" "$FIX/elliptic-key/model.sig" "$T/bad.sig" $kind
	run_logged 1 "$ARCA" verify "$T/bad" --sig "$T/bad.sig" --key "$FIX/keys/signing-key-pub.pem"
	expect_stderr "bad.sig"
done
python3 "$MUTATE" "$FIX/elliptic-key/model.sig" "$T/bad.sig" root
run_logged 3 "$ARCA" verify "$T/bad" --sig "$T/bad.sig" --key "$FIX/keys/signing-key-pub.pem"
expect_stderr "is not the root digest of its resources"
for kind in resources reorder; do
	python3 "$MUTATE" "$FIX/elliptic-key/model.sig" "$T/bad.sig" $kind
	run_logged 3 "$ARCA" verify "$T/bad" --sig "$T/bad.sig" --key "$FIX/keys/signing-key-pub.pem"
	expect_stderr "does not verify"
done
python3 "$MUTATE" "$FIX/elliptic-key/model.sig" "$T/bad.sig" hint
run_logged 3 "$ARCA" verify "$T/bad" --sig "$T/bad.sig" --key "$FIX/keys/signing-key-pub.pem"
expect_stderr "untrusted"
# a bundle of 100 MB is refused by its size, not read
truncate -s 100M "$T/huge.sig"
run_logged 1 "$ARCA" verify "$T/bad" --sig "$T/huge.sig" --key "$FIX/keys/signing-key-pub.pem"
expect_stderr "more than the"
run_logged 1 "$ARCA" verify acme/m --sig "$T/huge.sig"
# a signature of other files, checked against the snapshot: missing and unsigned files
run_logged 3 "$ARCA" verify acme/m --sig "$FIX/elliptic-key/model.sig" --json
expect_json 'sorted({f["state"] for f in d["signatures"][0]["files"]})' "['missing', 'not signed']"
run_logged 3 "$ARCA" verify acme/m --sig "$FIX/elliptic-key/model.sig"
expect_stderr "missing: signme-1, signme-2"
# keys of a type or curve model signing does not use; truncated and private PEM
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout > "$T/ed.pem"
openssl ecparam -name secp256k1 -genkey -noout 2>/dev/null | openssl pkey -pubout > "$T/k1.pem"
for k in ed k1; do
	run_logged 1 "$ARCA" key trust "$T/$k.pem"
	expect_stderr "model signing uses ECDSA keys on P-256, P-384 or P-521"
	run_logged 1 "$ARCA" verify "$FIX/elliptic-key" --key "$T/$k.pem"
done
head -c 80 "$T/pub.pem" > "$T/cut.pem"
run_logged 1 "$ARCA" key trust "$T/cut.pem"
expect_stderr "cut.pem"
run_logged 1 "$ARCA" key trust "$priv"
expect_stderr "holds a private key; trust its public half"
run_logged 1 "$ARCA" key trust "$T/m.sig"
run_logged 0 "$ARCA" key trust "$FIX/keys/ca-cert.pem" --name test-ca --json
expect_json 'd["kind"]' "root certificates"
run_logged 0 "$ARCA" key trust "$FIX/keys/signing-key-pub.pem"
expect_stdout "signing-key-pub"

# --- private keys never appear -------------------------------------------------------------
grep -q "PRIVATE KEY" "$LOG" && fail "a private key appeared in arca's output"
sed -n '2p' "$priv" > "$T/priv-line"
grep -qFf "$T/priv-line" "$LOG" && fail "private key material appeared in arca's output"
pass
