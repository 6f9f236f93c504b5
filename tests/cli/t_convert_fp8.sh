#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Block-FP8 checkpoints (F8_E4M3 weights with a weight_scale_inv per block, as DeepSeek-V3
# and Kimi K2 ship): arca convert dequantizes them on the way in. The F32 result must equal
# an independent decoding (tests/fixtures/fp8_check.py) bit for bit, the scale tensors must
# not leak into the GGUF, and a missing or misshapen scale is an error naming the tensor.
# (t_convert_llama.sh loads the same checkpoint's GGUF in llama.cpp.)
. "$(dirname "$0")/lib.sh"

run 0 "$ARCA" init
make_llm "$T/fp8" --arch qwen3 --dtype FP8 --hidden 64 --ffn 96 --seed 7
run 0 "$ARCA" add "$T/fp8" --as acme/fp8 -q
run 0 "$ARCA" convert acme/fp8 --quant f32 --out "$T/fp8.gguf" --json
expect_json 'd["variant"]' f32
run 0 python3 "$ARCA_SOURCE/tests/fixtures/fp8_check.py" "$T/fp8" "$T/fp8.gguf"
expect_stdout "FP8 tensors decoded identically"
# quantizing straight from FP8 works too
run 0 "$ARCA" convert acme/fp8 --quant q8_0 -q

# a checkpoint whose scale has the wrong shape is refused, naming the tensor
python3 - "$T/fp8/model.safetensors" <<'PY'
import json, struct, sys
path = sys.argv[1]
raw = bytearray(open(path, "rb").read())
n, = struct.unpack_from("<Q", raw)
h = json.loads(raw[8:8 + n])
name = "model.layers.1.mlp.down_proj.weight_scale_inv"
h[name]["shape"] = [h[name]["shape"][1], h[name]["shape"][0]]
text = json.dumps(h, separators=(",", ":")).encode()
text += b" " * (n - len(text))
raw[8:8 + n] = text
open(path, "wb").write(raw)
PY
run 0 "$ARCA" add "$T/fp8" --as acme/fp8-bad -q
run 1 "$ARCA" convert acme/fp8-bad --quant f16
expect_stderr "model.layers.1.mlp.down_proj.weight_scale_inv"
pass
