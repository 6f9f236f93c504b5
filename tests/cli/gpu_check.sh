# SPDX-License-Identifier: Apache-2.0
# Sourced by t_gpu*.sh (after lib.sh): the GPU backend against the CPU path with
# tests/runtime/gpu_compare.c ($COMPARE: the emulated or the real build).
#
# gpu_models ARCH SEED [GENERATOR OPTIONS]: a tiny checkpoint of ARCH ($LAYERS layers,
# default 3; hidden 256,
# so the K-quants apply), added as acme/ARCH and converted to every type in $TYPES
# (default f32 f16 bf16 q8_0 q4_k_m) as $T/ARCH-TYPE.gguf.
gpu_models() {
	local arch=$1 seed=$2 q
	shift 2
	make_llm "$T/$arch" --arch "$arch" --dtype F32 --hidden 256 --ffn 512 --heads 4 \
		--kv-heads 2 --layers "${LAYERS:-3}" --seed "$seed" --std-scale 5 "$@"
	run 0 "$ARCA" add "$T/$arch" --as "acme/$arch" -q
	for q in ${TYPES:-f32 f16 bf16 q8_0 q4_k_m}; do
		run 0 "$ARCA" convert "acme/$arch" --quant "$q" --out "$T/$arch-$q.gguf" -q
	done
}

# Tolerances on ‖gpu − cpu‖/‖cpu‖ of the logits, the CPU running the weights decoded to
# F32 (gpu_compare --reference dequant), from what each type's GPU path rounds: F32 weights
# keep float products throughout (prompt and decode), so only summation order and the F16
# cache's rounding of nearly equal values differ (measured ≤ 1.5e-4 on these models);
# F16, Q8_0 and the K-quants multiply a prompt in half-precision tiles on the tensor cores,
# 2^-11 per activation (measured ≤ 3.7e-3, decode inheriting the cache the prompt wrote);
# BF16 weights in bfloat16 tiles, 2^-8 per activation (measured ≤ 1.5e-2).
gpu_tol() {
	case $1 in
	f32) echo "--tol 1e-3 --tol-prefill 1e-3" ;;
	bf16) echo "--tol 4e-2 --tol-prefill 4e-2" ;;
	*) echo "--tol 1e-2 --tol-prefill 1e-2" ;;
	esac
}

# gpu_compare ARCH TYPE [OPTIONS]: the GPU's logits and greedy tokens equal the CPU's
# within the tolerance; the JSON line is kept in $T/compare.jsonl.
gpu_compare() {
	local arch=$1 q=$2
	shift 2
	STEP="$arch $q on the GPU ($*)"
	# shellcheck disable=SC2046
	run 0 "$COMPARE" "$T/$arch-$q.gguf" -n 8 $(gpu_tol "$q") "$@"
	cat "$OUT" >>"$T/compare.jsonl"
}

# gpu_steps_total: greedy steps compared over every gpu_compare so far (each stops at the
# CPU's first near-tie), so a suite where ties cut everything short is noticed.
gpu_steps_total() {
	python3 -c 'import json,sys; print(sum(json.loads(l)["greedy_steps"] for l in open(sys.argv[1])))' \
		"$T/compare.jsonl"
}
