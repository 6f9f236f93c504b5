#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Quantization speed: `arca convert` against llama.cpp's own quantizer (llama_model_quantize,
# what llama-quantize runs, from node-llama-cpp's prebuilt libllama via bench/llama_quantize.py)
# on the same BF16 GGUF, in one run, plus a memory-copy baseline of the same bytes.
#
# Makes a synthetic Qwen3-shaped BF16 checkpoint of about SIZE_GIB (default 2) GiB, converts
# it once to a BF16 GGUF (the input both sides read), then for each of Q8_0 and Q4_K_M:
#   arca convert REF:bf16 --quant TYPE   (requantize; all cores; into the store: tmp+fsync+rename,
#                                         SHA-256 of the output)
#   llama_model_quantize(bf16.gguf)      (all cores; writes a plain file)
# checks that both outputs hold identical tensors, and prints input GB/s and the ratios.
# Needs: tests/node installed (npm ci --prefix tests/node), /usr/bin/python3 with numpy
# (python3-numpy, scripts/setup-debian.sh --bench) for the generator.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arca=${ARCA:-$root/build/arca}
size_gib=${SIZE_GIB:-2}
threads=$(nproc)
work=$(mktemp -d "${TMPDIR:-/tmp}/arca-bench-XXXXXX")
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
export ARCA_HOME=$work/store
libdir=$(python3 "$root/bench/llama_quantize.py" --find-lib "$root/tests/node")

# hidden 2048, ffn 6144, 16 heads: 50.3M parameters (100.7 MB in BF16) per layer
layers=$(python3 -c "import math; print(math.ceil($size_gib * 2**30 / (2 * 50331648)))")
echo "making a BF16 checkpoint: qwen3, $layers layers of hidden 2048, ffn 6144..."
/usr/bin/python3 "$root/tests/fixtures/make_tiny_model.py" "$work/model" --arch qwen3 \
	--hidden 2048 --ffn 6144 --heads 16 --kv-heads 8 --layers "$layers" --fast-random >/dev/null
"$arca" init -q
"$arca" add "$work/model" --as bench/big -q
rm -rf "$work/model"
"$arca" convert bench/big --quant bf16 --out "$work/bf16.gguf" -q
in_bytes=$(stat -c %s "$work/bf16.gguf")
printf 'input: %s bytes (%.2f GiB) of BF16 GGUF\n' "$in_bytes" "$(python3 -c "print($in_bytes/2**30)")"

now() { date +%s.%N; }
gbps() { python3 -c "print('%.3f' % ($in_bytes / ($1) / 1e9))"; }

# baseline: copying the same bytes from the page cache
cat "$work/bf16.gguf" >/dev/null
s=$(now); dd if="$work/bf16.gguf" of=/dev/null bs=16M status=none; e=$(now)
copy=$(python3 -c "print($e - $s)")

declare -A arca_s llama_s same
for q in q8_0 q4_k_m; do
	pure=--pure; case $q in *_m) pure= ;; esac   # plain types are --pure in arca
	cat "$work/bf16.gguf" >/dev/null
	s=$(now); "$arca" convert bench/big:bf16 --quant $q -q; e=$(now)
	arca_s[$q]=$(python3 -c "print($e - $s)")
	cat "$work/bf16.gguf" >/dev/null
	s=$(now)
	python3 "$root/bench/llama_quantize.py" "$libdir" "$work/bf16.gguf" "$work/llama-$q.gguf" $q \
		--threads "$threads" $pure >/dev/null
	e=$(now)
	llama_s[$q]=$(python3 -c "print($e - $s)")
	"$arca" convert bench/big:bf16 --quant $q --out "$work/arca-$q.gguf" -q   # reused: a copy
	if /usr/bin/python3 "$root/tests/fixtures/gguf_tensors.py" compare "$work/arca-$q.gguf" \
		"$work/llama-$q.gguf" >"$work/cmp.txt"; then
		same[$q]=identical
	else
		same[$q]="DIFFERENT: $(cat "$work/cmp.txt")"
	fi
	rm -f "$work/arca-$q.gguf" "$work/llama-$q.gguf"
done

echo
printf '%-34s %9s %9s %s\n' "run ($threads threads)" seconds "GB/s in" "vs arca"
printf '%-34s %9.2f %9s\n' "memory copy of the input (dd)" "$copy" "$(gbps "$copy")"
for q in q8_0 q4_k_m; do
	a=${arca_s[$q]} l=${llama_s[$q]}
	printf '%-34s %9.2f %9s\n' "arca convert --quant $q" "$a" "$(gbps "$a")"
	printf '%-34s %9.2f %9s %sx slower\n' "llama_model_quantize $q" "$l" "$(gbps "$l")" \
		"$(python3 -c "print('%.2f' % ($l / $a))")"
	echo "  outputs: ${same[$q]}"
done
