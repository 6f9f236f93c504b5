#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Compares logits from another implementation (arca, llama.cpp) with the float64 reference
(forward.py). Formats and the error measure: tests/reference/README.md.

    compare.py REFERENCE OTHER [--rtol 1e-4] [--ids 1,2,3] [--shift] [--max-steps N] [--quiet]

REFERENCE is either a model folder (the reference is computed here, teacher-forced on OTHER's
prompt and tokens) or a JSON file written by `forward.py --generate N`. OTHER is
  - `arca run --json --top-logits K` output: {"prompt_ids", "tokens": [{"id", "top"}]};
  - any {"steps": [{"id", "top": [[id, logit], ...]} or {"id", "logits": [...]}]}
    (with "prompt_ids" when REFERENCE is a model folder);
  - llama_run.mjs output with --top-every-step: log-probabilities, compared up to one
    constant per step (as --shift does);
  - a .npy file (float array [rows, vocab]) or a .f32 file (raw little-endian float32,
    rows x vocab) of full logit rows: the rows are the reference's steps, or its positions
    (see the README); with a model folder give --ids: the rows are the last rows of ids.

Error of a logit = |other - reference| / max(1, max |reference logit| of that row). Prints the
largest error and greedy agreement; exit 0 when every compared logit is within --rtol and every
choice of OTHER is the reference's argmax (or the reference's top two are within 2*rtol*scale:
a near-tie); 1 otherwise, naming the first failing step; 2 on unusable input.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forward  # noqa: E402


def die(msg):
    print("compare.py: " + msg, file=sys.stderr)
    sys.exit(2)


class Row:
    """One distribution: full logits, or a few (id, logit) pairs plus the row's max |logit|."""

    def __init__(self, full=None, top=None, absmax=None, chosen=None):
        self.full = None if full is None else np.asarray(full, dtype=np.float64)
        self.top = {int(i): float(v) for i, v in top} if top is not None else None
        self.chosen = chosen
        if self.full is not None:
            self.absmax = float(np.max(np.abs(self.full)))
        else:
            self.absmax = float(absmax) if absmax is not None else max(
                abs(v) for v in self.top.values())

    def ids(self):
        return range(len(self.full)) if self.full is not None else list(self.top)

    def get(self, i):
        if self.full is not None:
            return float(self.full[i]) if 0 <= i < len(self.full) else None
        return self.top.get(i)

    def best(self):
        if self.full is not None:
            return forward.argmax(self.full)
        return min(self.top, key=lambda i: (-self.top[i], i))

    def margin(self):
        if self.full is not None:
            return forward.margin(self.full)
        v = sorted(self.top.values(), reverse=True)
        return v[0] - v[1] if len(v) > 1 else float("inf")


def row_of(d, chosen=None):
    if "logits" in d:
        return Row(full=d["logits"], chosen=chosen)
    if "top" in d:
        return Row(top=d["top"], absmax=d.get("absmax"), chosen=chosen)
    die("a step has neither 'top' nor 'logits'")


def read_other(path, n_vocab):
    """(prompt ids or None, [Row], shifted?) from OTHER."""
    if path.endswith(".npy") or path.endswith(".f32"):
        if path.endswith(".npy"):
            a = np.load(path)
        else:
            if n_vocab is None:
                die("a .f32 file needs the vocabulary size: compare with a model or reference")
            a = np.fromfile(path, dtype="<f4")
            if a.size % n_vocab:
                die("%s holds %d floats, not a multiple of n_vocab %d" % (path, a.size, n_vocab))
        a = np.asarray(a, dtype=np.float64).reshape(-1, a.shape[-1] if a.ndim > 1 else n_vocab)
        return None, [Row(full=r, chosen=forward.argmax(r)) for r in a], False
    try:
        d = json.load(open(path))
    except (OSError, ValueError) as e:
        die("cannot read %s: %s" % (path, e))
    prompt = d.get("prompt_ids")
    if "logprobs_top_steps" in d:                      # llama_run.mjs --top-every-step
        rows = [Row(top=t, absmax=0.0, chosen=c) for t, c in zip(d["logprobs_top_steps"], d["tokens"])]
        return prompt, rows, True
    steps = d.get("steps")
    if steps is None:
        steps = d.get("tokens")
    if not isinstance(steps, list) or any(not isinstance(s, dict) for s in steps):
        die("%s has no 'steps' (or arca's 'tokens') list of {id, top|logits} objects" % path)
    return prompt, [row_of(s, s.get("id")) for s in steps], False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", help="model folder, or forward.py JSON")
    ap.add_argument("other")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--ids", help="prompt ids, for a logit array against a model folder")
    ap.add_argument("--shift", action="store_true",
                    help="OTHER's values are logits plus one unknown constant per step "
                         "(log-probabilities): compare differences to OTHER's top token")
    ap.add_argument("--max-steps", type=int, default=0, help="compare only the first N steps")
    ap.add_argument("--quiet", action="store_true", help="print only the summary")
    a = ap.parse_args()

    model_dir = os.path.isdir(a.reference)
    ref_json = None
    if not model_dir:
        try:
            ref_json = json.load(open(a.reference))
        except (OSError, ValueError) as e:
            die("cannot read %s: %s" % (a.reference, e))
    n_vocab = forward.model(a.reference).n_vocab if model_dir else ref_json.get("n_vocab")
    prompt, rows, shifted = read_other(a.other, n_vocab)
    shifted = shifted or a.shift
    if a.max_steps:
        rows = rows[:a.max_steps]
    if not rows:
        die("%s has no steps to compare" % a.other)
    is_array = rows[0].full is not None and (a.other.endswith(".npy") or a.other.endswith(".f32"))

    # the reference's rows, aligned with OTHER's; teacher_forced: they follow OTHER's tokens
    if model_dir:
        teacher_forced = True
        if is_array:
            if not a.ids:
                die("comparing a logit array with a model folder needs --ids")
            ids = [int(t) for t in a.ids.split(",")]
            full = forward.logits(a.reference, ids)
            if len(rows) > len(ids):
                die("%d rows but only %d ids" % (len(rows), len(ids)))
            refs = [Row(full=r) for r in full[len(ids) - len(rows):]]
            teacher_forced = False      # positions of given ids: nothing to follow
        else:
            if prompt is None:
                die("%s has no prompt_ids: the reference needs the prompt" % a.other)
            chosen = [r.chosen for r in rows]
            if any(c is None for c in chosen):
                die("every step of %s needs its chosen 'id'" % a.other)
            full = forward.logits(a.reference, list(prompt) + chosen[:-1])
            refs = [Row(full=full[len(prompt) - 1 + i]) for i in range(len(rows))]
    else:
        teacher_forced = False
        steps = ref_json.get("steps") or []
        positions = ref_json.get("positions") or []
        if is_array and len(rows) == len(positions) and len(rows) != len(steps):
            src = positions
        else:
            src = steps
        if len(rows) > len(src):
            die("%s has %d steps, the reference %s only %d (run forward.py with --generate %d)"
                % (a.other, len(rows), a.reference, len(src), len(rows)))
        refs = [row_of(s, s.get("id")) for s in src[:len(rows)]]
        if prompt is not None and ref_json.get("prompt_ids") not in (None, list(prompt)):
            die("the prompts differ: reference %s, other %s" % (ref_json["prompt_ids"], prompt))

    worst = worst_abs = 0.0
    n_logits = agree = compared = 0
    failed, note = None, None
    for i, (o, r) in enumerate(zip(rows, refs)):
        scale = max(1.0, r.absmax)
        common = [t for t in o.ids() if r.get(t) is not None]
        if not common:
            failed = "step %d: no token of the other's row is among the reference's" % i
            break
        offset = 0.0
        if shifted:
            anchor = o.best()
            if r.get(anchor) is None:
                failed = "step %d: the other's top token %d is not in the reference's row" % (
                    i, anchor)
                break
            offset = o.get(anchor) - r.get(anchor)
        for t in common:
            err_abs = abs(o.get(t) - offset - r.get(t))
            err = err_abs / scale
            n_logits += 1
            worst_abs = max(worst_abs, err_abs)
            if err > worst:
                worst = err
            if err > a.rtol and failed is None:
                failed = ("step %d, token %d: other %.9g, reference %.9g (relative error "
                          "%.2e > %.0e)" % (i, t, o.get(t) - offset, r.get(t), err, a.rtol))
        if failed:
            break
        compared += 1
        ref_best = r.best()
        if o.chosen is None or o.chosen == ref_best:
            agree += 1
            continue
        if r.margin() <= 2 * a.rtol * scale:
            note = ("step %d: other chose %d, the reference %d, a near-tie (top-two margin "
                    "%.2e)" % (i, o.chosen, ref_best, r.margin()))
            if not teacher_forced:
                note += "; the continuations part here, later steps not compared"
                break
            continue
        failed = ("step %d: other chose %d, the reference's argmax is %d (margin %.3g)"
                  % (i, o.chosen, ref_best, r.margin()))
        break
    if note and not a.quiet:
        print(note)
    if failed:
        print("compare.py: FAIL: " + failed)
        return 1
    print("max relative logit error %.3e (absolute %.3e) over %d steps, %d logits; greedy "
          "agrees on %d of %d steps%s" % (worst, worst_abs, compared, n_logits, agree, len(rows),
                                           " (logits compared up to a constant per step)"
                                           if shifted else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
