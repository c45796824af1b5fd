"""Prints a markdown table of the evaluated runs named on the command line.

Usage: python3 scripts/summarise_runs.py ROW=RUN[,RUN...] (split at the last =) ...
  e.g. python3 scripts/summarise_runs.py "VAE 500-500=vae500-s0,vae500-s1,vae500-s2"
Reads runs/RUN/metrics.jsonl, runs/logs/RUN.eval.json (`unigen eval --k 5000 --n-test 2000 --json`)
and runs/logs/RUN.full.json (`unigen eval --k 100 --json`, all test digits).
Mean ± sample std over the runs of a row.
"""
import json, re, statistics, sys


def stats(values):
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


print("| model | seeds | epochs | train time | ELBO (10,000) | L_100 (10,000) | ELBO (first 2,000) | L_5000 (first 2,000) |")
print("|---|---|---|---|---|---|---|---|")
for arg in sys.argv[1:]:
    label, runs = arg.rsplit("=", 1)
    runs = runs.split(",")
    elbo, iwae, full_elbo, full_iwae, epochs, minutes = [], [], [], [], set(), []
    for run in runs:
        e = json.load(open(f"runs/logs/{run}.eval.json"))
        assert (e["n_test"], e["iwae_k"]) == (2000, 5000), run
        elbo.append(e["test_elbo"])
        iwae.append(e["test_iwae"])
        f = json.load(open(f"runs/logs/{run}.full.json"))
        assert (f["n_test"], f["iwae_k"]) == (10000, 100), run
        full_elbo.append(f["test_elbo"])
        full_iwae.append(f["test_iwae"])
        lines = open(f"runs/{run}/metrics.jsonl").read().splitlines()
        last = json.loads(lines[-1])
        epochs.add(last["epoch"])
        minutes.append(last["wall_s"] / 60)
    seeds = ", ".join(re.sub(r".*-s", "", r) for r in runs)
    print(f"| {label} | {seeds} | {'/'.join(map(str, sorted(epochs)))} | {statistics.mean(minutes):.0f} min | "
          f"{stats(full_elbo)} | {stats(full_iwae)} | {stats(elbo)} | {stats(iwae)} |")
