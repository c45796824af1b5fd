"""The adversary at work: D's mean weight on real examples (w_real) and on generated samples
(w_fake) in the last epoch of every adversary-activated run under a reproduce directory, with
mean and std over seeds per model and setting.

Usage: python3 scripts/issue5_weights.py [runs/reproduce-quick]
"""
import collections, glob, json, os, statistics, sys

root = sys.argv[1] if len(sys.argv) > 1 else "runs/reproduce-quick"
groups = collections.defaultdict(list)
for path in sorted(glob.glob(os.path.join(root, "aa*-s*/metrics.jsonl"))):
    run = os.path.basename(os.path.dirname(path))
    last = json.loads(open(path).read().splitlines()[-1])
    groups[run.rsplit("-s", 1)[0]].append(last["losses"])

def ms(v):
    return f"{statistics.mean(v):.3f} ± {statistics.stdev(v) if len(v) > 1 else 0:.3f}"

print("| run | seeds | w_real | w_fake | d_loss |")
print("|---|---|---|---|---|")
for name, losses in groups.items():
    cols = [ms([l[k] for l in losses]) for k in ("w_real", "w_fake", "d_loss")]
    print(f"| {name} | {len(losses)} | " + " | ".join(cols) + " |")
