"""Markdown tables of the issue-3 GAN evidence (scripts/issue3_toy_coverage.sh, issue3_mnist_gan.sh).

Usage: python3 scripts/summarise_gan.py toy [EPOCHS]   # runs/logs/{model}-{data}-e{EPOCHS}-s{seed}.eval.json
       python3 scripts/summarise_gan.py mnist          # runs/logs/{model}-dcgan-s{seed}.it{N}.json
Mean ± sample std over the seeds found; the seeds are listed.
"""
import glob, json, os, re, statistics, sys


def stats(values, scale=1.0, digits=2):
    values = [v * scale for v in values]
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def wall(log):
    """Seconds of `/usr/bin/time` lines in a log, summed."""
    return sum(float(m) for m in re.findall(r"^([0-9.]+) s wall", open(log).read(), re.M))


def toy(epochs):
    print("| data | model | seeds | modes captured | high-quality % | KL(modes ‖ uniform) | train+eval time per run |")
    print("|---|---|---|---|---|---|---|")
    for data in ["ring8", "grid25"]:
        # gan, iwgan, and the runs with `clusters = K` (scripts/issue3_toy_coverage.sh with CLUSTERS=1).
        names = sorted({re.sub(rf"-{data}-e{epochs}-s\d+\.eval\.json$", "", f.split("/")[-1])
                        for f in glob.glob(f"runs/logs/*-{data}-e{epochs}-s*.eval.json")}, key=lambda m: (len(m), m))
        for model in names:
            files = sorted(glob.glob(f"runs/logs/{model}-{data}-e{epochs}-s*.eval.json"))
            rs = [json.load(open(f)) for f in files]
            seeds = [re.search(r"-s(\d+)\.eval", f).group(1) for f in files]
            kl = [r["mode_kl"] for r in rs if r["mode_kl"] is not None]
            # A run's log may be gone (a run directory not kept): its time is then left out.
            t = [wall(log) for log in (f.replace(".eval.json", ".log") for f in files) if os.path.exists(log)]
            m = re.fullmatch(r"(\w+)-clusters(\d+)", model)
            label = f"{m[1].upper()}, clusters = {m[2]}" if m else model.upper()
            time = f"{statistics.mean(t):.0f} s" if t else "-"
            if t and len(t) < len(files):
                time += f" ({len(t)} runs)"
            print(f"| {data} | {label} | {', '.join(seeds)} | {stats([r['modes_captured'] for r in rs], digits=1)} | "
                  f"{stats([r['high_quality'] for r in rs], 100, 1)} | {stats(kl, digits=3)} | {time} |")


def mnist():
    print("| model | iterations | seeds | inception score | Fréchet distance | precision | recall | conditional accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    fps = set()
    labels = {"iwcgan": "IWCGAN (batch-wide weights)", "iwcgan-classwise": "IWCGAN (class-wise weights)"}
    for model in ["gan", "iwgan", "cgan", "iwcgan", "iwcgan-classwise"]:
        for it in [312, 624, 937]:
            files = sorted(glob.glob(f"runs/logs/{model}-dcgan-s*.it{it}.json"))
            rs = []
            for f in files:
                try:
                    rs.append((re.search(r"-s(\d+)\.it", f).group(1), json.load(open(f))))
                except json.JSONDecodeError:
                    pass  # an eval still being written
            if not rs:
                continue
            fps |= {r["classifier_fingerprint"] for _, r in rs}
            col = lambda k, d=2: stats([r[k] for _, r in rs], digits=d)
            acc = col("conditional_accuracy", 4) if "conditional_accuracy" in rs[0][1] else "—"
            print(f"| {labels.get(model, model.upper())} | {it} | {', '.join(s for s, _ in rs)} | {col('inception_score')} | {col('frechet_distance', 1)} | "
                  f"{col('precision', 3)} | {col('recall', 3)} | {acc} |")
    assert len(fps) <= 1, f"scores from different classifiers: {fps}"
    print(f"\nclassifier fingerprint: {', '.join(fps)}")


if sys.argv[1] == "toy":
    toy(sys.argv[2] if len(sys.argv) > 2 else "40")
else:
    mnist()
