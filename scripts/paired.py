#!/usr/bin/env python3
"""One score of two sets of committed results, paired by seed: A minus B, mean ± sample std with
a 95% Student-t interval, and the seeds where A is ahead. For comparisons the reports do not
make, e.g. an ablation against the AA-VAE as in the tables (both runs of a seed share one VAE):

    python3 scripts/paired.py 'docs/reproduction/converge/aavae+network=mlp+alpha_warmup=500-1-data-s*.json' \\
        'docs/reproduction/converge/aavae+network=mlp-1-data-s*.json' [SCORE]   # SCORE: test_elbo
    python3 scripts/paired.py 'docs/reproduction/pacgan-2d/e400/iwgan-ring8-pacgan-s*.json' \\
        'docs/reproduction/pacgan-2d/e400/gan-ring8-pacgan-s*.json' modes_any   # or high_quality, mode_kl

Only seeds present in both sets count; each result file names its seed."""
import glob
import json
import math
import statistics
import sys

# Student-t 0.975 quantiles by degrees of freedom (n - 1 seeds).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def by_seed(pattern, score):
    found = {}
    for path in glob.glob(pattern):
        with open(path) as f:
            result = json.load(f)
        # `reproduce`'s results keep their scores under "scores"; `unigen eval`'s (the PacGAN 2-D
        # campaign's) at the top level. A score the run has none of (a 2-D run with no
        # high-quality sample has no mode histogram) leaves its seed out of the pairs.
        value = result["scores"].get(score) if "scores" in result else result.get(score)
        if value is not None:
            found[result["seed"]] = value
    return found


def main(a, b, score="test_elbo"):
    a, b = by_seed(a, score), by_seed(b, score)
    seeds = sorted(set(a) & set(b))
    if len(seeds) < 2:
        sys.exit(f"paired.py: {len(seeds)} seed(s) in both sets; a paired difference needs 2 or more")
    d = [a[s] - b[s] for s in seeds]
    mean, sd = statistics.mean(d), statistics.stdev(d)
    half = T975[len(d) - 1] * sd / len(d) ** 0.5
    # Two decimals, or two significant digits of the largest difference where it is below 0.1
    # (conditional accuracies differ in the third decimal).
    largest = max(abs(x) for x in d)
    p = max(2, 1 - math.floor(math.log10(largest))) if largest > 0 else 2
    print(f"{score}, A - B over seeds {seeds}: {' '.join(f'{x:+.{p}f}' for x in d)}")
    print(f"{mean:+.{p}f} ± {sd:.{p}f} [{mean - half:+.{p}f}, {mean + half:+.{p}f}], A ahead in {sum(x > 0 for x in d)}/{len(d)}")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(*sys.argv[1:])
