#!/usr/bin/env python3
"""The table of scripts/iwgan_collapse_screen.sh's runs: per configuration, the modes captured
at the last epoch (each seed) and their mean over the run's second half of epochs, and the importance weights' lowest
effective share and the logits' largest spread over the run.

Usage: python3 scripts/iwgan_collapse_screen.py docs/reproduction/pacgan-2d/screen
"""
import collections
import glob
import json
import os
import sys

ORDER = ["protocol", "init-burn", "d-leaky-relu", "g-no-batch-norm", "adam-1e-3-0.5", "geometry-ring8", "unigen-defaults"]


def main(folder):
    runs = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        r = json.load(open(path))
        runs[r["config"]].append(r)
    print("| configuration | data | seeds | epochs (steps) | modes captured at the end, by seed | mean over the second half of the epochs | high quality at the end | lowest ess_share | largest logit_std |")
    print("|---|---|---|---|---|---|---|---|---|")
    for config in sorted(runs, key=lambda c: ORDER.index(c) if c in ORDER else len(ORDER)):
        rs = sorted(runs[config], key=lambda r: r["seed"])
        c = [r["curve"] for r in rs]
        join = lambda fmt, xs: ", ".join(fmt.format(x) for x in xs)
        cells = [
            config,
            rs[0]["data"],
            join("{}", (r["seed"] for r in rs)),
            f"{rs[0]['epochs']} ({rs[0]['steps']})",
            join("{:.0f}", (k["modes_captured"][-1] for k in c)),
            join("{:.1f}", (sum(k["modes_captured"][len(k["epoch"]) // 2 :]) / (len(k["epoch"]) - len(k["epoch"]) // 2) for k in c)),
            join("{:.0%}", (k["high_quality"][-1] for k in c)),
            join("{:.2f}", (min(k["ess_share"]) for k in c)),
            join("{:.1f}", (max(k["logit_std"]) for k in c)),
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/reproduction/pacgan-2d/screen")
