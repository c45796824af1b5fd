#!/usr/bin/env bash
# The runs behind docs/results.md, "GAN vs IWGAN: mode coverage on ring8 and grid25" (issue 3).
# Usage: scripts/issue3_toy_coverage.sh [EPOCHS]
# GAN and IWGAN with the 2-D defaults (MLP 2-256-256-2 / 2-256-256-1, batch 256, 20,000 points),
# seeds 0-4 on ring8 and grid25; each run then scored by `unigen eval` on 2,500 samples.
# MODELS="gan iwgan" by default; CLUSTERS=1 conditions each on as many k-means clusters of the
# data as it has modes (`clusters = 8` on ring8, 25 on grid25; run names gain `-clustersK`).
set -euo pipefail
epochs=${1:-40}
bin=${UNIGEN:-target/release/unigen}
mkdir -p runs/logs
for data in ring8 grid25; do
  extra=() tag=
  if [ -n "${CLUSTERS:-}" ]; then
    k=8; [ "$data" = grid25 ] && k=25
    extra=(--set "clusters=$k") tag=-clusters$k
  fi
  for model in ${MODELS:-gan iwgan}; do
    for s in 0 1 2 3 4; do
      name="$model$tag-$data-e$epochs-s$s"
      [ -f "runs/logs/$name.eval.json" ] && continue
      [ -f "runs/$name/checkpoint.safetensors" ] && resume=--resume || resume=
      /usr/bin/time -f "%e s wall" "$bin" train "$model" --data "$data" --seed "$s" --set "epochs=$epochs" "${extra[@]}" \
        --out "runs/$name" --quiet $resume 2>>"runs/logs/$name.log"
      "$bin" eval "runs/$name" --json >"runs/logs/$name.eval.json" 2>>"runs/logs/$name.log"
    done
  done
done
