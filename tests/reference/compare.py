#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Compares `arca run --json --top-logits K` with the float64 reference (forward.py) on the
same text: the reference runs on the prompt plus arca's generated tokens, and at every step
each of arca's top-K logits must equal the reference's logit for that token within RTOL
relative to the step's largest |logit|, and arca's greedy choice must be the reference's
argmax (unless the reference's top two are closer than the tolerance).

    compare.py MODEL_DIR ARCA_RUN.json [--rtol 1e-4]

Prints the largest relative error; exit 1 naming the first step that fails.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forward  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("run_json")
    ap.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args()
    run = json.load(open(a.run_json))
    prompt = run["prompt_ids"]
    steps = run["tokens"]
    ids = prompt + [s["id"] for s in steps]
    ref = forward.logits(a.model, ids[:-1] if steps else ids)
    worst = 0.0
    for i, step in enumerate(steps):
        row = ref[len(prompt) - 1 + i]
        scale = max(1.0, float(np.max(np.abs(row))))
        for tok, value in step["top"]:
            err = abs(value - row[tok]) / scale
            worst = max(worst, err)
            if err > a.rtol:
                print("step %d, token %d: arca %.9g, reference %.9g (relative error %.2e > %.0e)"
                      % (i, tok, value, row[tok], err, a.rtol))
                return 1
        order = np.argsort(-row, kind="stable")
        if step["id"] != int(order[0]) and row[order[0]] - row[order[1]] > a.rtol * scale:
            print("step %d: arca chose %d, the reference's argmax is %d" % (i, step["id"], order[0]))
            return 1
    print("max relative logit error %.3e over %d steps" % (worst, len(steps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
