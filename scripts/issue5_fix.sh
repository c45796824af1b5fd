#!/usr/bin/env bash
# Variants of an adversary-activated VAE at the quick budget of `unigen reproduce` (STEPS, default
# 1,000; the 10% rows of the evidence run made 1,020, the 100% rows 1,200),
# seeds 0-2, each pairing with the same seed's baseline run in runs/reproduce-quick. Prints one
# line per run: the variant's name, the seed and its test ELBO (k = 1, all 10,000 test digits).
# Usage: scripts/issue5_fix.sh MNIST_DIR MODEL FRACTION NAME [--set KEY=VALUE ...]
#   e.g. scripts/issue5_fix.sh ../shared/data/mnist aavae 0.1 real1 --set weigh_real=false
set -euo pipefail
mnist=$1 model=$2 fraction=$3 name=$4; shift 4
bin=${UNIGEN:-target/release/unigen}
for seed in 0 1 2; do
  out=runs/issue5-fix/$model-f$fraction-$name-s$seed
  [ -f "$out/eval.json" ] || {
    rm -rf "$out"
    "$bin" train "$model" --data-dir "$mnist" --seed "$seed" --out "$out" --quiet \
      --set train_fraction="$fraction" --set epochs=100000 --set max_steps="${STEPS:-1000}" --set epoch_eval_size=200 "$@"
    UNIGEN_CLASSIFIER=/nonexistent "$bin" eval "$out" --k 1 --json > /dev/null
  }
  python3 -c "import json; print('$model $fraction $name', $seed, json.load(open('$out/eval.json'))['test_elbo'])"
done
