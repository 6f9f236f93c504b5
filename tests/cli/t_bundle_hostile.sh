#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca import against hostile and damaged bundles (tests/fixtures/mutate_bundle.py makes each
# from a good one): every case is refused with a clear error and the right exit code, and
# leaves the store as it was — no snapshot, fsck clean, nothing written outside the store.
. "$(dirname "$0")/lib.sh"

make_model "$T/m" --arch qwen2 --seed 11
run 0 "$ARCA" add "$T/m" --as acme/m@v1 -q
run 0 "$ARCA" key new -q
run 0 "$ARCA" key export default -o "$T/pub.pem"
run 0 "$ARCA" export acme/m -o "$T/signed.arca" --sign -q
run 0 "$ARCA" export acme/m -o "$T/plain.arca" -q
MUTATE="$ARCA_SOURCE/tests/fixtures/mutate_bundle.py"
outside=$(mktemp -d "${TMPDIR:-/tmp}/arca-outside-XXXXXX")
trap 'cleanup; rm -rf "$outside"' EXIT

# case  source  exit  what stderr says  [extra import options]
check() {
	local case=$1 src=$2 want=$3 says=$4; shift 4
	python3 "$MUTATE" "$T/$src.arca" "$T/$case.arca" "$case" || fail "mutate $case"
	local store="$T/st-$case"
	ARCA_HOME="$store" "$ARCA" init -q
	ARCA_HOME="$store" "$ARCA" key trust "$T/pub.pem" -q
	(cd "$outside" && ARCA_HOME="$store" run "$want" "$ARCA" import "$T/$case.arca" "$@")
	STEP="import $case"
	expect_stderr "$says"
	grep -q "Segmentation\|Aborted\|AddressSanitizer" "$ERR" && fail "$case crashed arca"
	ARCA_HOME="$store" run 0 "$ARCA" ls --json
	expect_json 'len(d["snapshots"])' 0
	ARCA_HOME="$store" run 0 "$ARCA" fsck -q
	[ -z "$(ls -A "$outside")" ] || fail "$case wrote outside the store: $(ls -A "$outside")"
	[ ! -e /tmp/arca-escape ] || fail "$case wrote /tmp/arca-escape"
	rm -rf "$store" "$T/$case.arca"
}

check dotdot         plain  1 "where the format has" --unsigned
check absolute       plain  1 "where the format has" --unsigned
check symlink        plain  1 "is not a regular file" --unsigned
check hardlink       plain  1 "is not a regular file" --unsigned
check fifo           plain  1 "is not a regular file" --unsigned
check device         plain  1 "is not a regular file" --unsigned
check directory      plain  1 "is not a regular file" --unsigned
check duplicate      plain  1 "where the format has" --unsigned
check extra_entry    plain  1 "after the last one the plan names" --unsigned
check size_lies      plain  1 "has no size or more than" --unsigned
check short_entry    plain  1 "the plan says" --unsigned
check missing_blob   plain  1 "ends before" --unsigned
check reorder        plain  1 "where the format has" --unsigned
check truncated      plain  1 "Truncated zstd input" --unsigned
check not_zstd       plain  1 "Unrecognized archive format" --unsigned
check unknown_field  plain  1 "that format version 1 does not have" --unsigned
check wrong_version  plain  1 "this arca reads version 1" --unsigned
check bad_path       plain  1 "has a '..' segment" --unsigned
check unplanned_blob plain  1 "is not planned whole" --unsigned
check flip_blob      plain  3 "sha256 mismatch" --unsigned
check flip_manifest  signed 1 "its header names bundle"
check forge_manifest signed 3 "the bundle's signature is invalid"
check flip_signature signed 3 "the bundle's signature is invalid"
check bomb           plain  1 "decompression bomb" --unsigned
pass
