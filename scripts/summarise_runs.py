"""Prints a markdown table of the evaluated runs named on the command line.

Usage: python3 scripts/summarise_runs.py ROW=RUN[,RUN...] (split at the last =) ...
  e.g. python3 scripts/summarise_runs.py "VAE 500-500=vae500-s0,vae500-s1,vae500-s2"
Reads runs/RUN/metrics.jsonl, runs/logs/RUN.eval.json (written by `unigen eval --json`) and
runs/logs/RUN.log (wall times printed by /usr/bin/time). Mean ± sample std over the runs of a row.
"""
import json, re, statistics, sys


def stats(values):
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


print("| model | runs (seeds) | epochs | train time | test ELBO | test L_5000 | test examples |")
print("|---|---|---|---|---|---|---|")
for arg in sys.argv[1:]:
    label, runs = arg.rsplit("=", 1)
    runs = runs.split(",")
    elbo, iwae, epochs, n, minutes = [], [], set(), set(), []
    for run in runs:
        e = json.load(open(f"runs/logs/{run}.eval.json"))
        elbo.append(e["test_elbo"])
        iwae.append(e["test_iwae"])
        n.add(e["n_test"])
        lines = open(f"runs/{run}/metrics.jsonl").read().splitlines()
        last = json.loads(lines[-1])
        epochs.add(last["epoch"])
        minutes.append(last["wall_s"] / 60)
    seeds = ", ".join(re.sub(r".*-s", "", r) for r in runs)
    print(f"| {label} | {len(runs)} ({seeds}) | {'/'.join(map(str, sorted(epochs)))} | "
          f"{statistics.mean(minutes):.0f} min | {stats(elbo)} | {stats(iwae)} | {'/'.join(map(str, sorted(n)))} |")
