"""The wall time each run of a reproduce directory took to reach a given step budget, read from
its metrics.jsonl (interpolated within the epoch that crosses the budget), plus its scoring time,
summed by family: what the set would have taken with exact step budgets.

Usage: python3 scripts/issue5_budget_from_logs.py [runs/reproduce-quick]
"""
import glob, json, sys

root = sys.argv[1] if len(sys.argv) > 1 else "runs/reproduce-quick"
budget = {"gan": 1500, "iwgan": 1500, "cgan": 1500, "iwcgan": 1500, "svae": 600, "aasvae": 600}
parts = {}
for d in sorted(glob.glob(f"{root}/*-s[0-9]")):
    r = json.load(open(d + "/result.json"))
    steps = budget.get(r["model"], 1000)
    prev, t = (0, 0.0), None
    for line in open(d + "/metrics.jsonl"):
        m = json.loads(line)
        if m["step"] >= steps:
            s0, w0 = prev
            t = w0 + (m["wall_s"] - w0) * (steps - s0) / (m["step"] - s0)
            break
        prev = (m["step"], m["wall_s"])
    family = "gan" if "gan" in r["model"] else "svae" if "svae" in r["model"] else "vae"
    parts[family] = parts.get(family, 0) + (t if t is not None else prev[1]) + r["eval_wall_s"]
print({k: f"{v / 60:.1f} min" for k, v in parts.items()}, f"total {sum(parts.values()) / 60:.1f} min")
