#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/gpu-check.sh — the GPU backend on a real GPU, in one command: run ON the GPU
# machine from the repository root, after scripts/gpu-prepare.sh here, as
#     run(command: "scripts/gpu-check.sh", carry: ["build-gpu"], timeout_s: 600)
# and then, at once, scripts/gpu-peer.sh for llama.cpp's numbers (a call of its own).
#
#  1. nvidia-smi -L; the libraries of build-gpu/lib.tar.xz unpacked outside the carry,
#     and build-gpu/arca starts with them. Only arca's programs get them (LD_LIBRARY_PATH
#     set by a wrapper for each): Debian's libz, liblzma or libffi in front of the
#     machine's own could break its python3 and PyTorch. The machine's cuBLAS (which arca
#     loads for prompts, and llama-bench links) is looked for where CUDA and PyTorch keep
#     it, and its folder joins that path;
#  2. the tiny test GGUFs made (scripts/gpu-models.sh: 10 architectures x f32 f16 bf16
#     q8_0 q4_k_m) and their sums compared with build-gpu/models.sha256 (made here);
#  3. build-gpu/tests/gpu_compare on every model: GPU logits against the CPU running the
#     weights decoded to F32 (--reference dequant), prompt and greedy steps, within
#     tests/cli/gpu_check.sh's tolerances (f32 1e-3; f16, q8_0, q4_k_m 1e-2; bf16 4e-2);
#     then each architecture's f32 with --gpu-layers 1 (the rest on the CPU), and long
#     contexts (--ctx, --random-prompt: split attention, prompts through cuBLAS), and
#     qwen2 in every type with short prompts through cuBLAS too (ARCA_GPU_BLAS=2) and a
#     long one through the tiles (ARCA_GPU_BLAS=off). The first of them is the gate:
#     when it prints nothing (no usable GPU, a crash) the check stops there with its error
#     rather than repeating it 60 times;
#  4. `arca run MODEL --gpu --prompt-ids 3,17,101 -n 8 --json`, and its tokens against
#     the CPU's (f16 cache, as the GPU keeps; a difference is noted, not failed);
#  5. bench/gpu_bench.sh (Qwen2.5 shapes x types, against the measured ceilings) in the
#     time left of BUDGET;
#  6. a PASS/FAIL table, last. Exit 0 when every step passed.
#
# Everything goes to $OUT too (when set; else a temporary folder): gpu-check.log (this
# output), gpu-check.jsonl (one line per step, with gpu_compare's and arca run's JSON),
# gpu_bench.json. Environment: BUDGET (seconds for the whole check, default 400: a run is
# at most 600 and a session's device time 15 minutes, start included, so this leaves room
# for a second, narrower call), ARCHS and TYPES (the matrix), BENCH=0 (no bench), SHAPES,
# BENCH_TYPES, REPS (passed to the bench as SHAPES, TYPES, REPS), BUILD (build-gpu).
#
# DRY=1 proves the script here, without a GPU: gpu_compare_emu (the CPU emulation of
# CUDA) instead of gpu_compare on DRY_MODELS (default qwen2-q8_0 qwen2-f32 qwen3moe-q4_k_m;
# "all": the whole matrix, minutes), `arca run` on the CPU, no bench (DRY_BENCH=1: a small
# one on the CPU).
# shellcheck disable=SC2317  # step runs some of the functions below by name
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
B=${BUILD:-build-gpu}
dry=${DRY:-0}
budget=${BUDGET:-400}
start=$SECONDS
out=${OUT:-}
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/arca-gpu-check-out-XXXXXX")
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-gpu-check-XXXXXX")
exec 3>&1 4>&2
exec > >(tee "$out/gpu-check.log") 2>&1
tee_pid=$!
trap 'rm -rf "$work"' EXIT
steps=$out/gpu-check.jsonl
: >"$steps"

all_archs="qwen2 qwen3 llama qwen3moe deepseek2 glm4 glm4moe minimax-m2 chatglm internlm2"
if [ "$dry" = 1 ] && [ "${DRY_MODELS:-}" != all ]; then
	compare=gpu_compare_emu
	archs=${ARCHS:-"qwen2 qwen3moe"}
	types=${TYPES:-"f32 q8_0 q4_k_m"}
	models=${DRY_MODELS:-"qwen2-q8_0 qwen2-f32 qwen3moe-q4_k_m"}
	layer_archs=qwen2
	gpu_flag=(--cache-type f16)   # the CPU, with the cache the GPU keeps
elif [ "$dry" = 1 ]; then         # DRY_MODELS=all: the whole matrix, emulated (minutes)
	compare=gpu_compare_emu
	archs=${ARCHS:-$all_archs}
	types=${TYPES:-"f32 f16 bf16 q8_0 q4_k_m"}
	models=
	for a in $archs; do for q in $types; do models="$models $a-$q"; done; done
	layer_archs=$archs
	gpu_flag=(--cache-type f16)
else
	compare=gpu_compare
	archs=${ARCHS:-$all_archs}
	types=${TYPES:-"f32 f16 bf16 q8_0 q4_k_m"}
	models=
	for a in $archs; do for q in $types; do models="$models $a-$q"; done; done
	layer_archs=$archs
	gpu_flag=(--gpu)
fi

# ------------------------------------------------------------------ steps

# step NAME SECONDS COMMAND...: runs it (stdout to $work/out, stderr to $work/err), prints
# one line, appends one JSON line to $steps (its stdout when that is JSON); returns its
# status. The whole check stops starting steps once BUDGET is spent (they are SKIPPED).
step() {
	local name=$1 limit=$2 rc=0 t=$SECONDS status
	shift 2
	if [ $((SECONDS - start)) -ge "$budget" ]; then
		skip "$name" "the budget of ${budget}s is spent"
		return 125
	fi
	if declare -F "$1" >/dev/null; then   # this script's own functions: quick, no timeout
		"$@" >"$work/out" 2>"$work/err" || rc=$?
	else
		timeout "$limit" "$@" >"$work/out" 2>"$work/err" || rc=$?
	fi
	case $rc in 0) status=PASS ;; 124) status=TIMEOUT ;; *) status=FAIL ;; esac
	python3 - "$name" "$status" "$rc" "$((SECONDS - t))" "$work/out" "$work/err" \
		>>"$steps" <<'PY'
import json, sys
name, status, rc, secs, out, err = sys.argv[1:]
text = open(out, errors="replace").read()
try:
    result = json.loads(text)
except ValueError:
    result = text[-1000:].strip() or None
print(json.dumps({"step": name, "status": status, "rc": int(rc), "seconds": int(secs),
                  "result": result,
                  "stderr": open(err, errors="replace").read()[-1500:].strip() or None}))
PY
	echo "[$status] $name ($((SECONDS - t)) s)"
	if [ "$rc" != 0 ]; then
		tail -c 1500 "$work/err" | sed 's/^/    /'
	fi
	return "$rc"
}

skip() {
	python3 -c 'import json,sys; print(json.dumps({"step": sys.argv[1], "status": "SKIP",
	    "why": sys.argv[2]}))' "$1" "$2" >>"$steps"
	echo "[SKIP] $1: $2"
}

# tolerance TYPE: gpu_compare's, as tests/cli/gpu_check.sh's gpu_tol
tolerance() {
	case $1 in
	f32) echo "--tol 1e-3 --tol-prefill 1e-3" ;;
	bf16) echo "--tol 4e-2 --tol-prefill 4e-2" ;;
	*) echo "--tol 1e-2 --tol-prefill 1e-2" ;;
	esac
}

# compare MODEL [OPTIONS]: gpu_compare on $work/models/MODEL.gguf
compare() {
	local m=$1
	shift
	# shellcheck disable=SC2046
	step "gpu_compare $m${*:+ $*}${ARCA_GPU_BLAS:+ (ARCA_GPU_BLAS=$ARCA_GPU_BLAS)}" 120 \
		"$bin/$compare" "$work/models/$m.gguf" -n 8 \
		$(tolerance "${m##*-}") "$@"
}

table() {
	python3 - "$steps" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("\n== summary")
for r in rows:
    res = r.get("result")
    note = ""
    if isinstance(res, dict) and "prefill_rel" in res:
        note = "prefill %.1e decode %.1e, %d greedy steps%s" % (
            res["prefill_rel"], res["decode_rel"], res["greedy_steps"],
            "" if res.get("greedy_same") else ", greedy tokens differ")
    elif isinstance(res, dict) and "tokens" in res:
        note = "%s: %d tokens, decode %.1f tok/s" % (res.get("device"), len(res["tokens"]),
                                                     res.get("decode_tps") or 0)
    elif r["status"] == "SKIP":
        note = r.get("why", "")
    elif r["status"] != "PASS":
        note = ((r.get("stderr") or "").splitlines() or [""])[-1][:90]
    elif isinstance(res, str):
        note = res.splitlines()[-1][:90]
    print("%-7s %-46s %s" % (r["status"], r["step"], note))
n = {s: sum(r["status"] == s for r in rows) for s in ("PASS", "FAIL", "TIMEOUT", "SKIP")}
print("%d passed, %d failed, %d timed out, %d skipped" % (n["PASS"], n["FAIL"], n["TIMEOUT"],
                                                          n["SKIP"]))
# skipped for want of time is not passed; left out on purpose (DRY, BENCH=0) is
late = sum(r["status"] == "SKIP" and "budget" in r.get("why", "") for r in rows)
sys.exit(0 if n["FAIL"] + n["TIMEOUT"] + late == 0 else 1)
PY
}

finish() {
	table
	local rc=$?
	echo "(log and results in $out; $((SECONDS - start)) s)"
	exec 1>&3 2>&4
	wait "$tee_pid" 2>/dev/null
	exit "$rc"
}

# ------------------------------------------------------------------ 1. machine, libraries

echo "== gpu-check$([ "$dry" = 1 ] && echo " (DRY: the CPU emulation of CUDA)"): $(date -u)"
if command -v nvidia-smi >/dev/null; then
	step "nvidia-smi -L" 30 nvidia-smi -L && cat "$work/out"
elif [ "$dry" != 1 ]; then
	step "nvidia-smi -L" 30 sh -c 'echo "no nvidia-smi on this machine" >&2; exit 1'
fi
lib=$work/lib
unpack() {
	python3 - "$B/lib.tar.xz" "$lib" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    try:
        t.extractall(sys.argv[2], filter="data")
    except TypeError:   # Python without extraction filters (before 3.11.4)
        t.extractall(sys.argv[2])
PY
	LD_LIBRARY_PATH=$lib "$B/arca" --version
}
if ! step "libraries ($B/lib.tar.xz) and arca --version" 60 unpack; then
	echo "gpu-check: the programs cannot start here; nothing else can run" >&2
	finish
fi
# shellcheck source=scripts/gpu-libs.sh
. scripts/gpu-libs.sh
cublas_dir() {
	cuda_lib_dir libcublas.so.13 ||
		{ echo "prompts run in the tile kernels" >&2; return 1; }
}
libpath=$lib
if step "cuBLAS on this machine" 60 cublas_dir; then
	libpath=$lib:$(cat "$work/out")
	echo "cuBLAS: $(cat "$work/out")"
fi
# the programs, each through a wrapper that gives it (only it) the libraries
bin=$work/bin
mkdir -p "$bin"
for p in arca tests/gpu_compare tests/gpu_compare_emu bench/gguf_synth; do
	# shellcheck disable=SC2016
	printf '#!/bin/sh\nLD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s "$@"\n' \
		"$libpath" "$root/$B/$p" >"$bin/${p##*/}"
	chmod +x "$bin/${p##*/}"
done
arca=$bin/arca
cat "$work/out"

# ------------------------------------------------------------------ 2. models

export ARCA_HOME=$work/store
"$arca" init -q
n_models="$(echo "$archs" | wc -w) architectures x $(echo "$types" | wc -w) types"
if ! ARCHS=$archs TYPES=$types step "models: $n_models" 240 \
		scripts/gpu-models.sh "$arca" "$work/models"; then
	echo "gpu-check: no test models; nothing else can run" >&2
	finish
fi
same_sums() {
	python3 - "$B/models.sha256" "$work/models/SHA256SUMS" <<'PY'
import sys
def sums(p):
    return {l.split()[1]: l.split()[0] for l in open(p) if l.strip()}
want, got = sums(sys.argv[1]), sums(sys.argv[2])
differ = [f for f in got if want.get(f) != got[f]]
print("%d of %d models as made by gpu-prepare.sh" % (len(got) - len(differ), len(got)))
if differ:
    print("made differently here: " + " ".join(differ), file=sys.stderr)
    sys.exit(1)
PY
}
step "models equal gpu-prepare.sh's (sha256)" 30 same_sums

# ------------------------------------------------------------------ 3. GPU against CPU

read -r first _ <<<"$models"
if ! compare "$first" && ! grep -q '"prefill_rel"' "$work/out"; then
	echo "gpu-check: the first GPU step failed without a result; stopping here" >&2
	finish
fi
for m in $models; do
	[ "$m" = "$first" ] || compare "$m"
done
# F32: the CPU's layers then compute exactly what the reference does (with Q8_0 they
# quantize activations to 8 bits, 1-2% from the decoded weights: more than 1e-2)
split=f32
case " $types " in *" f32 "*) ;; *) read -r split _ <<<"$types" ;; esac
for a in $layer_archs; do
	compare "$a-$split" --gpu-layers 1
done
# long contexts: a decode step's keys split among the blocks of each head and merged
# (flash-decoding), as tests/cli/t_gpu_emu.sh checks it; DeepSeek (latent attention) in
# F16 and over few positions, as there (its quantized MoE variants meet router near-ties)
if [ "$dry" = 1 ]; then long="qwen2-q8_0:2048:160"; else
	long="qwen2-q8_0:4096:2000 deepseek2-f16:2048:160"; fi
for l in $long; do
	IFS=: read -r m ctx n <<<"$l"
	case " $models " in *" $m "*) compare "$m" --ctx "$ctx" --random-prompt "$n" ;; esac
done
# a prompt after cached positions (the prompt attention's blocks start mid-way)
case " $models " in *" qwen2-q8_0 "*)
	compare qwen2-q8_0 --ctx 1024 --random-prompt 300 --prefix 77 ;; esac
# cuBLAS for short prompts (ARCA_GPU_BLAS=2: every product of 2 tokens or more), each
# type; the tiles for a long one
for q in $types; do
	case " $models " in *" qwen2-$q "*) ARCA_GPU_BLAS=2 compare "qwen2-$q" ;; esac
done
case " $models " in *" qwen2-q8_0 "*)
	ARCA_GPU_BLAS=off compare qwen2-q8_0 --ctx 2048 --random-prompt 400 ;; esac

# ------------------------------------------------------------------ 4. arca run

M=$work/models/qwen2-q8_0.gguf
if step "arca run qwen2-q8_0 ${gpu_flag[*]} -n 8" 120 "$arca" run "$M" \
		"${gpu_flag[@]}" --prompt-ids 3,17,101 -n 8 --ignore-eos --json; then
	ids() { python3 -c 'import json,sys; print([t["id"] for t in json.load(open(sys.argv[1]))["tokens"]])' "$1"; }
	gpu_ids=$(ids "$work/out")
	same_tokens() {
		"$arca" run "$M" --cache-type f16 --prompt-ids 3,17,101 -n 8 --ignore-eos --json \
			>"$work/cpu.json" || return 1
		cpu_ids=$(ids "$work/cpu.json")
		# a difference is noted, not failed: these random models have near-ties, which
		# gpu_compare's greedy check allows for and this one cannot
		if [ "$gpu_ids" = "$cpu_ids" ]; then
			echo "the same tokens: $gpu_ids"
		else
			echo "DIFFERENT tokens: $gpu_ids, the CPU's $cpu_ids (near-ties? see gpu_compare)"
		fi
	}
	step "arca run: tokens against the CPU's (f16 cache)" 120 same_tokens
fi

# ------------------------------------------------------------------ 5. bench

left=$((budget - (SECONDS - start) - 15))
if [ "$dry" = 1 ] && [ "${DRY_BENCH:-0}" != 1 ]; then
	skip "bench/gpu_bench.sh" "DRY=1"
elif [ "${BENCH:-1}" = 0 ]; then
	skip "bench/gpu_bench.sh" "BENCH=0"
elif [ "$left" -lt 30 ]; then
	skip "bench/gpu_bench.sh" "${left}s left of BUDGET"
else
	bench_env=(ARCA="$arca" SYNTH="$bin/gguf_synth" BUDGET="$left"
		BENCH_JSON="$out/gpu_bench.json" LLAMA_BENCH=none)
	[ -n "${SHAPES:-}" ] && bench_env+=(SHAPES="$SHAPES")
	[ -n "${BENCH_TYPES:-}" ] && bench_env+=(TYPES="$BENCH_TYPES")
	[ -n "${REPS:-}" ] && bench_env+=(REPS="$REPS")
	[ "$dry" = 1 ] && bench_env+=(DEVICE_FLAGS= SHAPES=qwen2.5-0.5b TYPES=q8_0 PROMPT=32 GEN=8
		REPS=1 CEILINGS=0)
	echo "== bench/gpu_bench.sh (${left}s)"
	# its progress (stderr) into bench.log, shown after it; its table is its stdout
	# shellcheck disable=SC2016
	step "bench/gpu_bench.sh" $((left + 30)) env "${bench_env[@]}" sh -c \
		'exec bench/gpu_bench.sh 2>"$0"' "$work/bench.log"
	cat "$work/bench.log" "$work/out"
fi
finish
