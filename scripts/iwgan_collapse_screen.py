#!/usr/bin/env python3
"""The table of scripts/iwgan_collapse_screen.sh's runs: per configuration and model, the modes captured
at the last epoch (each seed) and their mean over the run's second half of epochs, and the importance weights' lowest
effective share and the logits' largest spread over the run (IWGAN only), and with `ess_floor` the lowest
exponent the weights were tempered with (an epoch's mean).

Usage: python3 scripts/iwgan_collapse_screen.py docs/reproduction/pacgan-2d/screen
       python3 scripts/iwgan_collapse_screen.py collect RUN_DIR DEST COMMIT MACHINE CONFIG DATA SEED MODEL
         (the result file of one run: its per-epoch curve from metrics.jsonl, its settings)
"""
import collections
import glob
import json
import os
import sys

ORDER = ["protocol", "init-burn", "d-leaky-relu", "g-no-batch-norm", "adam-1e-3-0.5", "geometry-ring8", "unigen-defaults",
         "ess-floor-0.25", "ess-floor-0.5", "ess-floor-0.75", "grid-protocol", "grid-ess-floor-0.5"]


def collect(d, dest, commit, machine, config, data, seed, model):
    rows = [json.loads(line) for line in open(os.path.join(d, "metrics.jsonl"))]
    # An epoch with no high-quality sample has no mode histogram, so no `mode_kl`.
    curve = {k: [r.get(k) for r in rows] for k in ("epoch", "step", "modes_captured", "modes_any", "high_quality", "mode_kl")}
    for k in ("d_loss", "ess_share", "logit_std", "weight_exponent"):
        if k in rows[-1]["losses"]:
            curve[k] = [r["losses"][k] for r in rows]
    result = dict(
        model=model, config=config, data=data, seed=int(seed), epochs=rows[-1]["epoch"], steps=rows[-1]["step"],
        train_wall_s=rows[-1]["wall_s"], commit=commit, machine=machine, curve=curve,
        protocol="per-epoch counts at each epoch end (metrics.jsonl; 2,500 samples for the mode counts)",
        settings=open(os.path.join(d, "run.toml")).read(),
    )
    tmp = dest + ".tmp"
    json.dump(result, open(tmp, "w"), indent=1)
    os.replace(tmp, dest)


def main(folder):
    runs = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        r = json.load(open(path))
        runs[(r["config"], r["model"])].append(r)
    print("| configuration | model | data | seeds | epochs (steps) | modes captured at the end, by seed | mean over the second half of the epochs | high quality at the end | lowest ess_share | largest logit_std | lowest weight_exponent |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for config, model in sorted(runs, key=lambda cm: (ORDER.index(cm[0]) if cm[0] in ORDER else len(ORDER), cm[1])):
        rs = sorted(runs[(config, model)], key=lambda r: r["seed"])
        c = [r["curve"] for r in rs]
        join = lambda fmt, xs: ", ".join(fmt.format(x) for x in xs)
        cells = [
            config,
            model,
            rs[0]["data"],
            join("{}", (r["seed"] for r in rs)),
            f"{rs[0]['epochs']} ({rs[0]['steps']})",
            join("{:.0f}", (k["modes_captured"][-1] for k in c)),
            join("{:.1f}", (sum(k["modes_captured"][len(k["epoch"]) // 2 :]) / (len(k["epoch"]) - len(k["epoch"]) // 2) for k in c)),
            join("{:.0%}", (k["high_quality"][-1] for k in c)),
            join("{:.2f}", (min(k["ess_share"]) for k in c if "ess_share" in k)) or "-",
            join("{:.1f}", (max(k["logit_std"]) for k in c if "logit_std" in k)) or "-",
            join("{:.2f}", (min(k["weight_exponent"]) for k in c if "weight_exponent" in k)) or "-",
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["collect"]:
        collect(*sys.argv[2:])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "docs/reproduction/pacgan-2d/screen")
