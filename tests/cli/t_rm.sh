#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# arca rm removes exactly what it is given and says what that was: a variant alone, a
# snapshot only when its variants are named too, never a blob another snapshot uses; arca gc
# then frees what nothing uses and lists each blob it frees.
. "$(dirname "$0")/lib.sh"

run 0 "$ARCA" init
make_llm "$T/m" --arch qwen2 --hidden 64 --ffn 128 --layers 1 --heads 2 --kv-heads 1 --seed 3
run 0 "$ARCA" add "$T/m" --as acme/m -q
make_llm "$T/other" --arch qwen2 --hidden 64 --ffn 128 --layers 1 --heads 2 --kv-heads 1 --seed 4
run 0 "$ARCA" add "$T/other" --as acme/other -q
run 0 "$ARCA" convert acme/m --quant q8_0 -q
run 0 "$ARCA" convert acme/m --quant f16 -q
blobs_now() { "$ARCA" fsck --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["blobs_checked"])'; }
before=$(blobs_now)

# a snapshot with variants is refused, naming them; nothing changes
run 1 "$ARCA" rm acme/m
expect_stderr "has 2 derived variants (q8_0, f16)"
expect_stderr "--with-variants"
run 0 "$ARCA" show acme/m --json
expect_json 'len(d["lineage"])' 2

# a dry run says what would go and changes nothing
run 0 "$ARCA" rm acme/m:q8_0 --dry-run
expect_stdout "would remove variant local:acme/m@"
expect_stdout "1 blob"
run 0 "$ARCA" show acme/m --json
expect_json 'len(d["lineage"])' 2

# REF:VARIANT removes that variant only: the snapshot and the other variant stay
run 0 "$ARCA" rm acme/m:q8_0 --json
expect_json 'd["snapshot"]' None
expect_json '[v["name"] for v in d["variants"]]' "['q8_0']"
expect_json 'd["blobs"]["unused"]' 1
run 0 "$ARCA" show acme/m --json
expect_json 'd["state"]' complete
expect_json '[a["name"] for a in d["lineage"]]' "['f16']"
run 4 "$ARCA" inspect acme/m:q8_0
run 0 "$ARCA" inspect acme/m:f16 --no-tensors
run 4 "$ARCA" rm acme/m:q8_0
expect_stderr "no variant 'q8_0' of local:acme/m@"
expect_stderr "has: f16"

# gc frees the variant's GGUF and nothing else, saying what each blob was
run 0 "$ARCA" gc
expect_stdout "removed blob "
expect_stdout "no snapshot, variant or signature uses it"
expect_stdout "freed 1 blob"
[ "$(blobs_now)" = $((before - 1)) ] || fail "gc freed more than the variant"
run 0 "$ARCA" checkout acme/m "$T/out"
diff -r "$T/m" "$T/out" >/dev/null || fail "the snapshot lost files"

# the snapshot with its variants, when named; blobs the other snapshot shares stay
run 0 "$ARCA" rm acme/m --with-variants
expect_stdout "removed variant local:acme/m@"
expect_stdout "removed snapshot local:acme/m@"
expect_stdout "stay in use elsewhere"
run 4 "$ARCA" show acme/m
run 0 "$ARCA" show acme/other --json
expect_json 'd["state"]' complete
run 0 "$ARCA" gc --json
expect_json 'all(b["why"] == "unused" and b["bytes"] > 0 for b in d["blobs"])' True
run 0 "$ARCA" fsck
run 0 "$ARCA" checkout acme/other "$T/out2"
diff -r "$T/other" "$T/out2" >/dev/null || fail "the other snapshot lost a shared blob"
run 2 "$ARCA" rm acme/other:q8_0 --with-variants
pass
