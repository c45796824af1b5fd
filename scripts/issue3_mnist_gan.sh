#!/usr/bin/env bash
# The runs behind docs/results.md, "GAN vs IWGAN and CGAN vs IW-CGAN on MNIST" (issue 3).
# Usage: scripts/issue3_mnist_gan.sh MNIST_DIR [SEEDS...]
# DCGAN nets (network=dcgan), batch 64, z of 100 dims, Adam lr 2e-4 beta1 0.5, non-saturating
# generator loss, one epoch (937 iterations) per run: the CPU budget of this machine.
# Unconditional models are scored after 312, 624 and 937 iterations (the curve of IS over
# training); conditional ones after 937. Each score: `unigen eval` on 10,000 samples against the
# 10,000 MNIST test digits with the reference classifier, run on a copy of the run directory
# taken at that iteration (runs/NAME@ITER), so training never waits for scoring.
# Several copies of this script may run at once (e.g. one per seed): each run is claimed with a
# lock directory first. MODELS picks the models (default: gan iwgan cgan iwcgan); TAG is added to
# the run names (the IW-CGAN runs with class-wise weights used TAG=-classwise).
set -euo pipefail
mnist=${1:?MNIST directory}; shift
seeds=${*:-0 1 2}
bin=${UNIGEN:-target/release/unigen}
mkdir -p runs/logs
common=(--data-dir "$mnist" --set network=dcgan --set batch_size=64 --set latent_dim=100 --set epochs=1 --set checkpoint_every=312 --quiet)
for s in $seeds; do
  for model in ${MODELS:-gan iwgan cgan iwcgan}; do
    name="$model${TAG:-}-dcgan-s$s"
    mkdir "runs/logs/$name.claim" 2>/dev/null || continue
    case $model in *cgan) stops=(937) ;; *) stops=(312 624 937) ;; esac
    for stop in "${stops[@]}"; do
      [ -d "runs/$name@$stop" ] && continue
      [ -f "runs/$name/checkpoint.safetensors" ] && resume=--resume || resume=
      /usr/bin/time -f "%e s wall (train to $stop)" "$bin" train "$model" --seed "$s" "${common[@]}" \
        --out "runs/$name" --stop-after-steps "$stop" $resume 2>>"runs/logs/$name.log"
      cp -r "runs/$name" "runs/$name@$stop.tmp" && mv "runs/$name@$stop.tmp" "runs/$name@$stop"
    done
  done
done
# Scoring, once the classifier exists (WAIT_FOR: a `unigen classifier train` log to wait on).
while [ -n "${WAIT_FOR:-}" ] && ! grep -q fingerprint "$WAIT_FOR"; do sleep 30; done
for snap in runs/*-dcgan-s*@*; do
  [ -f "$snap/checkpoint.safetensors" ] || continue
  name=$(basename "$snap"); json="runs/logs/${name/@/.it}.json"
  [ -s "$json" ] && continue
  /usr/bin/time -f "%e s wall (eval $name)" "$bin" eval "$snap" --json >"$json.tmp" 2>>"runs/logs/${name%@*}.log"
  mv "$json.tmp" "$json"
done
