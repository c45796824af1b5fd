#!/usr/bin/env python3
"""What the discriminator of each adversary-activated run did: its mean weight `w_fake` on
generated samples (D's probability that they are real) and `w_real` on the data, and its loss,
from the runs' metrics.jsonl (one line an epoch) and validation.jsonl (the best step).

    python3 scripts/aa_weights.py RUNS_DIR      # e.g. /work/runs/reproduce-converge

A markdown table: one row per `aa*` run directory, with the weights averaged over the epochs up
to the best validation step, and at the epoch nearest to it."""
import glob
import json
import os
import sys


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def main(runs):
    print("| run | steps | best step | w_fake, mean to best | w_fake at best | w_real at best | D loss at best |")
    print("|---|---|---|---|---|---|---|")
    for d in sorted(glob.glob(os.path.join(runs, "aa*"))):
        metrics, validation = os.path.join(d, "metrics.jsonl"), os.path.join(d, "validation.jsonl")
        if not (os.path.exists(metrics) and os.path.exists(validation)):
            continue
        epochs, scores = lines(metrics), lines(validation)
        if not epochs or not scores:
            continue
        best = scores[-1]["best_step"]
        upto = [m for m in epochs if m["step"] <= best] or epochs[:1]
        near = min(epochs, key=lambda m: abs(m["step"] - best))
        mean = sum(m["losses"]["w_fake"] for m in upto) / len(upto)
        w = near["losses"]
        print(f"| `{os.path.basename(d)}` | {epochs[-1]['step']} | {best} | {mean:.3f} | {w['w_fake']:.3f} | {w['w_real']:.3f} | {w['d_loss']:.3f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
