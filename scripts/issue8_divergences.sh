#!/usr/bin/env bash
# The runs behind docs/results.md, "The KL directions, measured" (issue 8): GAN, IWGAN, VAE and
# AAVAE with their 2-D defaults (100 epochs of 20,000 points, batch 256, MLPs 256-256), seeds 0-4
# on ring8 and grid25, two trainings at a time; then `unigen diverge` over all 40 runs.
# Usage: scripts/issue8_divergences.sh [OUT_DIR]   (rerun to continue: finished runs are kept)
set -euo pipefail
out=${1:-runs/issue8}
bin=${UNIGEN:-target/release/unigen}
mkdir -p "$out/logs"
for data in ring8 grid25; do for model in gan iwgan vae aavae; do for s in 0 1 2 3 4; do
  echo "$data $model $s"
done; done; done | xargs -P 2 -L 1 bash -c '
  data=$0 model=$1 s=$2 out='"$out"' bin='"$bin"'
  dir="$out/$data/$model-s$s"
  [ -f "$dir/metrics.jsonl" ] && [ "$(wc -l <"$dir/metrics.jsonl")" -ge 100 ] && exit 0
  [ -f "$dir/checkpoint.safetensors" ] && resume=--resume || resume=
  /usr/bin/time -f "%e s wall" "$bin" train "$model" --data "$data" --seed "$s" --out "$dir" --quiet $resume 2>>"$out/logs/$data-$model-s$s.log"'
"$bin" diverge "$out" --json >"$out/diverge.json"
"$bin" diverge "$out" | tee "$out/diverge.txt"
