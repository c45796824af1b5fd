#!/usr/bin/env python3
"""The table of scripts/pacgan_2d.sh's committed results beside PacGAN's (Lin et al. 2018, Table 1).

Usage: python3 scripts/pacgan_table.py docs/reproduction/pacgan-2d/e400
       python3 scripts/pacgan_table.py curves RESULT.json...   (what the docs quote of each run's curve)
       python3 scripts/pacgan_table.py collect RUN_DIR DEST COMMIT MACHINE VARIANT DATA SEED
         (the result file of one run, as scripts/pacgan_2d.sh writes it: the run's eval.json,
          its settings, training time, commit and machine, and its per-epoch curve)
Per data set and model: runs, modes (PacGAN's count: modes with any high-quality sample among
2,500), % high-quality samples, KL of the mode histogram to uniform, and our stricter
modes_captured; mean ± standard error over seeds, as PacGAN reports. Then each run on its own
line, so a reader sees the spread behind the means.
"""
import collections, glob, json, math, os, statistics, sys, tomllib

PUBLISHED = {  # modes / % high quality / KL of the mode histogram, PacGAN's Table 1 (10 trials)
    ("ring8-pacgan", "gan"): "6.3 ± 0.5 / 98.2 / 0.45",
    ("ring8-pacgan", "pacgan2"): "7.9 / 95.6 / 0.07",
    ("grid25-pacgan", "gan"): "17.3 ± 0.8 / 94.8 / 0.70",
    ("grid25-pacgan", "pacgan2"): "23.8 / 91.3 / 0.13",
}


def curve(rows):
    """The per-epoch counts of metrics.jsonl (2,500 samples an epoch) and the training losses,
    4 significant digits, so that a reader can check the curves the docs quote."""
    if [r["epoch"] for r in rows] != list(range(1, len(rows) + 1)):
        sys.exit("metrics.jsonl: epochs are not 1, 2, ... once each; the run's log is damaged")
    short = lambda v: v if v is None else float(f"{v:.4g}")
    # An epoch with no high-quality sample has no mode histogram, so no `mode_kl`.
    c = {"epoch": [r["epoch"] for r in rows]}
    c.update({k: [int(r[k]) for r in rows] for k in ("modes_captured", "modes_any")})
    c.update({k: [short(r.get(k)) for r in rows] for k in ("high_quality", "mode_kl")})
    c.update({k: [short(r["losses"].get(k)) for r in rows] for k in rows[-1]["losses"]})
    return c


def collect(run_dir, dest, commit, machine, variant, data, seed):
    r = json.load(open(os.path.join(run_dir, "eval.json")))
    rows = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    settings = open(os.path.join(run_dir, "run.toml")).read()
    # Only a finished run, scored at its last step, makes a result: a stopped one resumes.
    planned = tomllib.loads(settings)["config"]["epochs"]
    if rows[-1]["epoch"] != planned or r["step"] != rows[-1]["step"]:
        sys.exit(f"{run_dir}: not a finished run (epoch {rows[-1]['epoch']} of {planned}, scored at step "
                 f"{r['step']}, last epoch ends at step {rows[-1]['step']}); no result written to {dest}")
    r.update(variant=variant, data=data, seed=int(seed), epochs=rows[-1]["epoch"], steps=rows[-1]["step"],
             train_wall_s=rows[-1]["wall_s"], commit=commit, machine=machine,
             settings=settings)
    # One line a series keeps a 400-epoch curve short enough to read and diff.
    text = json.dumps(r, indent=1)[: -len("\n}")] + ',\n "curve": {\n'
    text += ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in curve(rows).items()) + "\n }\n}\n"
    tmp = dest + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, dest)


def curves(paths):
    """Per result file, the figures of its curve the docs quote: modes captured at epochs 1-10 and
    how often each count came from epoch 10 on, PacGAN's count and high quality over epochs 100
    on, the discriminator's loss from epoch 50 on, and the importance weights' share and the
    logits' spread (IWGAN), with their extremes."""
    for path in paths:
        c = json.load(open(path))["curve"]
        late = lambda k, e0: [v for e, v in zip(c["epoch"], c[k]) if e >= e0 and v is not None]
        counts = collections.Counter(late("modes_captured", 10))
        print(os.path.basename(path))
        print("  modes captured, epochs 1-10:", c["modes_captured"][:10])
        print("  from epoch 10 on (count: epochs):", dict(sorted(counts.items(), reverse=True)), "of", sum(counts.values()))
        m = late("modes_any", 100)
        if m:
            print(f"  modes by PacGAN's count, epochs 100 on: {min(m)} to {max(m)}, median {statistics.median(m):g}")
        hq = late("high_quality", 100)
        if hq:
            print(f"  high quality, epochs 100 on: {min(hq):.1%} to {max(hq):.1%}, median {statistics.median(hq):.1%}")
        if "d_loss" in c:
            d = late("d_loss", 50)
            print(f"  d_loss from epoch 50: {min(d):.2f} to {max(d):.2f}")
        for k in ("ess_share", "logit_std", "weight_exponent"):
            if k in c:
                print(f"  {k}, epochs 1-12:", [round(v, 2) for v in c[k][:12]], f"median over epochs 100 on {statistics.median(late(k, 100)):.2f};",
                      "lowest %.3g (epoch %d), highest %.3g (epoch %d)" % (*min(zip(c[k], c["epoch"])), *max(zip(c[k], c["epoch"]))))


def mean_se(values):
    n = len(values)
    m = sum(values) / n
    if n < 2:
        return f"{m:.2f}"
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))
    return f"{m:.2f} ± {sd / math.sqrt(n):.2f}"


def main(folder):
    groups = collections.defaultdict(list)
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        r = json.load(open(path))
        groups[(r["data"], r["variant"])].append(r)
    if not groups:
        sys.exit(f"{folder}: no results")
    print("| data | model | runs (seeds) | modes | % high quality | KL(modes ‖ uniform) | modes captured (ours) | epochs | train min/run | PacGAN's Table 1 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (data, variant), rs in sorted(groups.items()):
        seeds = ",".join(str(r["seed"]) for r in sorted(rs, key=lambda r: r["seed"]))
        kl = [r["mode_kl"] for r in rs if r.get("mode_kl") is not None]
        print(f"| {data} | {variant} | {len(rs)} ({seeds}) | {mean_se([r['modes_any'] for r in rs])} | "
              f"{mean_se([100 * r['high_quality'] for r in rs])} | {mean_se(kl) if kl else '—'} | "
              f"{mean_se([r['modes_captured'] for r in rs])} | {rs[0]['epochs']} | "
              f"{sum(r['train_wall_s'] for r in rs) / len(rs) / 60:.0f} | {PUBLISHED.get((data, variant), '—')} |")
    print()
    print("| data | model | seed | modes | modes captured (ours) | % high quality | KL(modes ‖ uniform) | train min |")
    print("|---|---|---|---|---|---|---|---|")
    for (data, variant), rs in sorted(groups.items()):
        for r in sorted(rs, key=lambda r: r["seed"]):
            kl = "—" if r.get("mode_kl") is None else f"{r['mode_kl']:.2f}"
            print(f"| {data} | {variant} | {r['seed']} | {r['modes_any']} | {r['modes_captured']} | "
                  f"{100 * r['high_quality']:.1f} | {kl} | {r['train_wall_s'] / 60:.0f} |")


if __name__ == "__main__":
    if sys.argv[1:2] == ["collect"]:
        collect(*sys.argv[2:])
    elif sys.argv[1:2] == ["curves"]:
        curves(sys.argv[2:])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "docs/reproduction/pacgan-2d/e400")
