#!/usr/bin/env bash
# AA-VAE with a larger weight on its generated samples (alpha), at the quick budget of
# `unigen reproduce` (1,000 steps; 1% data: 200 epochs of 5 steps, 10% data: 17 epochs of 59),
# seeds 0-2, so each run pairs with the VAE run of the same seed in runs/reproduce-quick.
# Prints one line per run: fraction, alpha, seed, test ELBO (k = 1, all 10,000 test digits).
# Usage: scripts/issue5_alpha.sh MNIST_DIR [ALPHA...]   (default alphas: 10 30)
set -euo pipefail
mnist=$1; shift
alphas=${*:-10 30}
bin=${UNIGEN:-target/release/unigen}
for alpha in $alphas; do
  for spec in "0.01 200" "0.1 17"; do
    set -- $spec
    for seed in 0 1 2; do
      out=runs/issue5-alpha/aavae-f$1-a$alpha-s$seed
      [ -f "$out/eval.json" ] || {
        rm -rf "$out"
        "$bin" train aavae --data-dir "$mnist" --seed "$seed" --out "$out" --quiet \
          --set train_fraction="$1" --set epochs="$2" --set alpha="$alpha" --set epoch_eval_size=200
        UNIGEN_CLASSIFIER=/nonexistent "$bin" eval "$out" --k 1 --json > /dev/null
      }
      python3 -c "import json,sys; print('$1', '$alpha', '$seed', json.load(open('$out/eval.json'))['test_elbo'])"
    done
  done
done
