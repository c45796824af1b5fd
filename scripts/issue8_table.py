#!/usr/bin/env python3
"""The tables of docs/results.md, "The KL directions, measured" (issue 8), from the JSON of
`unigen diverge runs/issue8 --json` (written by scripts/issue8_divergences.sh):
mean ± std over seeds, each seed's values, and paired comparisons seed by seed."""
import json, statistics, sys
from collections import defaultdict

d = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "runs/issue8/diverge.json"))
models = ["gan", "iwgan", "vae", "aavae"]
cols = [("KL(data‖model) k-NN", lambda m: m["forward_kl"]["mean"]),
        ("KL(model‖data) k-NN", lambda m: m["reverse_kl"]["mean"]),
        ("KL(model‖data) exact p_data", lambda m: (m.get("reverse_kl_exact") or {}).get("mean")),
        ("JSD", lambda m: m["jsd"]["mean"]),
        ("KL(data‖model) bound (IWAE)", lambda m: (m.get("likelihood") or {}).get("forward_kl_bound", {}).get("mean"))]
by = defaultdict(dict)  # (data, model) -> seed -> divergences
for r in d["runs"]:
    by[(r["data"], r["model"])][r["seed"]] = r["divergences"]

def fmt(v, digits):
    return f"{statistics.mean(v):.{digits}f} ± {statistics.stdev(v):.{digits}f}"

print(f"Protocol: {d['protocol']}\n")
print("| data | model | seeds | " + " | ".join(c for c, _ in cols) + " |")
print("|---|---|---|" + "---:|" * len(cols))
for data in ["ring8", "grid25"]:
    for model in models:
        runs = by.get((data, model), {})
        if not runs:
            continue
        cells = []
        for name, f in cols:
            v = [f(m) for m in runs.values()]
            cells.append("-" if None in v else fmt(v, 1 if "exact" in name else 3))
        print(f"| {data} | {model.upper()} | {len(runs)} | " + " | ".join(cells) + " |")

print("\nPer seed: KL(data‖model) k-NN / KL(model‖data) exact p_data / JSD\n")
print("| data | model | " + " | ".join(f"seed {s}" for s in range(5)) + " |")
print("|---|---|" + "---|" * 5)
for data in ["ring8", "grid25"]:
    for model in models:
        runs = by.get((data, model), {})
        if not runs:
            continue
        cells = [f"{m['forward_kl']['mean']:.2f} / {m['reverse_kl_exact']['mean']:.1f} / {m['jsd']['mean']:.3f}" if (m := runs.get(s)) else "-" for s in range(5)]
        print(f"| {data} | {model.upper()} | " + " | ".join(cells) + " |")

print("\nPaired by seed (the same seed, the same data draws):\n")
for data in ["ring8", "grid25"]:
    vae = by.get((data, "vae"), {})
    for other in ["gan", "iwgan", "aavae"]:
        o = by.get((data, other), {})
        seeds = sorted(set(vae) & set(o))
        if not seeds:
            continue
        fwd = sum(vae[s]["forward_kl"]["mean"] < o[s]["forward_kl"]["mean"] for s in seeds)
        rev = sum(o[s]["reverse_kl_exact"]["mean"] < vae[s]["reverse_kl_exact"]["mean"] for s in seeds)
        jsd = sum(o[s]["jsd"]["mean"] < vae[s]["jsd"]["mean"] for s in seeds)
        print(f"- {data}: VAE's KL(data‖model) below {other.upper()}'s in {fwd} of {len(seeds)} seeds; "
              f"{other.upper()}'s exact KL(model‖data) below the VAE's in {rev} of {len(seeds)}; "
              f"{other.upper()}'s JSD below the VAE's in {jsd} of {len(seeds)}")
    gan, iw = by.get((data, "gan"), {}), by.get((data, "iwgan"), {})
    seeds = sorted(set(gan) & set(iw))
    if seeds:
        fwd = sum(iw[s]["forward_kl"]["mean"] < gan[s]["forward_kl"]["mean"] for s in seeds)
        rev = sum(iw[s]["reverse_kl_exact"]["mean"] < gan[s]["reverse_kl_exact"]["mean"] for s in seeds)
        print(f"- {data}: IWGAN's KL(data‖model) below the GAN's in {fwd} of {len(seeds)} seeds; "
              f"its exact KL(model‖data) below the GAN's in {rev} of {len(seeds)}")

# Training dynamics from each run's metrics.jsonl (2,000 test points vs 2,500 samples per epoch):
# how much the JSD moves from one epoch to the next over the last 50 epochs, and its range there.
print("\nDynamics over the last 50 epochs (per-epoch JSD): mean |change| between epochs; max - min; mean ± std over seeds\n")
print("| data | model | mean epoch-to-epoch change of JSD | range of JSD |")
print("|---|---|---:|---:|")
for data in ["ring8", "grid25"]:
    for model in models:
        targets = [r["target"] for r in d["runs"] if r["data"] == data and r["model"] == model]
        if not targets:
            continue
        steps, ranges = [], []
        for t in targets:
            jsd = [json.loads(l)["jsd"] for l in open(f"{t}/metrics.jsonl")][-50:]
            steps.append(statistics.mean(abs(a - b) for a, b in zip(jsd, jsd[1:])))
            ranges.append(max(jsd) - min(jsd))
        print(f"| {data} | {model.upper()} | {fmt(steps, 3)} | {fmt(ranges, 3)} |")
