# SPDX-License-Identifier: Apache-2.0
# Sourced by t_run_llama*.sh (after lib.sh): arca run against llama.cpp (node-llama-cpp's
# prebuilt CPU build) on the same GGUF, greedily.

# same_greedy OURS THEIRS: the continuations agree up to the first near-tie (top two of
# arca's logits closer than 0.005: llama.cpp keeps K/V in F16, so such a step may go either
# way) and at least 4 steps come before it.
same_greedy() {
	python3 - "$1" "$2" <<'PY' || fail "greedy continuations differ from llama.cpp's"
import json, sys
ours, theirs = json.load(open(sys.argv[1]))["tokens"], json.load(open(sys.argv[2]))["tokens"]
for i, (a, b) in enumerate(zip(ours, theirs)):
    top = a["top"]
    if top[0][1] - top[1][1] < 0.005:
        break
    if a["id"] != b:
        sys.exit("step %d: arca %d, llama.cpp %d (arca %s, llama.cpp %s)"
                 % (i, a["id"], b, [t["id"] for t in ours], theirs))
if i < 4:
    sys.exit("only %d steps before a near-tie: pick another prompt" % i)
PY
}

# greedy_vs_llama ARCH SEED [GENERATOR OPTIONS]: a tiny 3-layer checkpoint of ARCH, converted
# to F32, F16 and Q8_0 (or the variants in $QUANTS); for each, arca's 12 greedy tokens equal
# llama.cpp's (same_greedy). The checkpoint is $T/NAME and acme/NAME, NAME being $NAME or ARCH.
# MoE routing is discontinuous: llama.cpp's default F16 KV cache can flip a near-tie between
# experts that no output logit shows, so MoE architectures compare with an F32 cache on both
# sides (and every architecture with KV_F32 set). arca always runs its exact F32 cache here,
# as the seeds were chosen with (llama.cpp's F16 cache also rounds the queries and the
# attention weights to f16, arca's only the keys and values: the two F16 caches are not closer
# to each other than to the exact one).
greedy_vs_llama() {
	local arch=$1 seed=$2 name=${NAME:-$1} q kv=
	shift 2
	case $arch in qwen3moe|deepseek2|glm4moe|minimax-m2) kv=--kv-f32 ;; esac
	[ -n "${KV_F32:-}" ] && kv=--kv-f32
	make_llm "$T/$name" --arch "$arch" --dtype F32 --hidden 128 --ffn 320 --heads 4 --kv-heads 2 \
		--layers 3 --seed "$seed" --std-scale 5 "$@"
	run 0 "$ARCA" add "$T/$name" --as "acme/$name" -q
	for q in ${QUANTS:-f32 f16 q8_0}; do
		STEP="$name $q vs llama.cpp"
		run 0 "$ARCA" convert "acme/$name" --quant $q --out "$T/$name-$q.gguf" -q
		run 0 "$ARCA" run "$T/$name-$q.gguf" --prompt-ids 3,17,101,5,250,42,9,77 -n 12 \
			--ignore-eos --json --top-logits 2 --cache-type f32
		cp "$OUT" "$T/ours.json"
		run 0 node "$ARCA_SOURCE/tests/node/llama_run.mjs" "$T/$name-$q.gguf" \
			--prompt-ids 3,17,101,5,250,42,9,77 -n 12 --ignore-eos --threads 2 $kv
		cp "$OUT" "$T/theirs.json"
		same_greedy "$T/ours.json" "$T/theirs.json"
	done
}
