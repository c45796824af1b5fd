#!/usr/bin/env python3
"""Summarise runs/issue6/*/eval.json (scripts/issue6_evidence.sh): mean ± std over seeds."""
import glob, json, os, statistics, sys
from collections import defaultdict

root = sys.argv[1] if len(sys.argv) > 1 else "runs/issue6"
keys = ["target_accuracy", "source_accuracy", "test_elbo", "test_iwae", "test_reconstruction", "latent_mmd",
        "latent_mmd_prior_vs_prior", "code_accuracy", "inception_score", "frechet_distance",
        "cycle_error_a", "cycle_error_b", "translated_accuracy", "untranslated_accuracy"]
rows = defaultdict(lambda: defaultdict(list))
for path in sorted(glob.glob(f"{root}/*-s*/eval.json")):
    name = os.path.basename(os.path.dirname(path)).rsplit("-s", 1)[0]
    r = json.load(open(path))
    for k in keys:
        if isinstance(r.get(k), (int, float)):
            rows[name][k].append(r[k])
for name, scores in rows.items():
    cells = []
    for k, v in scores.items():
        sd = statistics.stdev(v) if len(v) > 1 else float("nan")
        cells.append(f"{k} {statistics.mean(v):.4g} ± {sd:.2g} (n={len(v)})")
    print(f"| {name} | " + "; ".join(cells) + " |")
