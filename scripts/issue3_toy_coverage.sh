#!/usr/bin/env bash
# The runs behind docs/results.md, "GAN vs IWGAN: mode coverage on ring8 and grid25" (issue 3).
# Usage: scripts/issue3_toy_coverage.sh [EPOCHS]
# GAN and IWGAN with the 2-D defaults (MLP 2-256-256-2 / 2-256-256-1, batch 256, 20,000 points),
# seeds 0-4 on ring8 and grid25; each run then scored by `unigen eval` on 2,500 samples.
set -euo pipefail
epochs=${1:-40}
bin=${UNIGEN:-target/release/unigen}
mkdir -p runs/logs
for data in ring8 grid25; do
  for model in gan iwgan; do
    for s in 0 1 2 3 4; do
      name="$model-$data-e$epochs-s$s"
      [ -f "runs/logs/$name.eval.json" ] && continue
      [ -f "runs/$name/checkpoint.safetensors" ] && resume=--resume || resume=
      /usr/bin/time -f "%e s wall" "$bin" train "$model" --data "$data" --seed "$s" --set "epochs=$epochs" \
        --out "runs/$name" --quiet $resume 2>>"runs/logs/$name.log"
      "$bin" eval "runs/$name" --json >"runs/logs/$name.eval.json" 2>>"runs/logs/$name.log"
    done
  done
done
