#!/usr/bin/env bash
# The runs behind docs/results.md, "GAN vs IWGAN and CGAN vs IW-CGAN on MNIST" (issue 3).
# Usage: scripts/issue3_mnist_gan.sh MNIST_DIR [SEEDS...]
# DCGAN nets (network=dcgan), batch 64, z of 100 dims, Adam lr 2e-4 beta1 0.5, non-saturating
# generator loss, one epoch (937 iterations) per run: the CPU budget of this machine.
# Unconditional models are scored after 312, 624 and 937 iterations (the curve of IS over
# training); conditional ones after 937. Each score: `unigen eval` on 10,000 samples against the
# 10,000 MNIST test digits with the reference classifier.
set -euo pipefail
mnist=${1:?MNIST directory}; shift
seeds=${*:-0 1 2}
bin=${UNIGEN:-target/release/unigen}
mkdir -p runs/logs
common=(--data-dir "$mnist" --set network=dcgan --set batch_size=64 --set latent_dim=100 --set epochs=1 --set checkpoint_every=312 --quiet)
for s in $seeds; do
  for model in gan iwgan cgan iwcgan; do
    name="$model-dcgan-s$s"
    case $model in *cgan) stops=(937) ;; *) stops=(312 624 937) ;; esac
    for stop in "${stops[@]}"; do
      [ -f "runs/logs/$name.it$stop.json" ] && continue
      [ -f "runs/$name/checkpoint.safetensors" ] && resume=--resume || resume=
      /usr/bin/time -f "%e s wall (train to $stop)" "$bin" train "$model" --seed "$s" "${common[@]}" \
        --out "runs/$name" --stop-after-steps "$stop" $resume 2>>"runs/logs/$name.log"
      # WAIT_FOR: a `unigen classifier train` log; score only once the classifier is saved.
      while [ -n "${WAIT_FOR:-}" ] && ! grep -q fingerprint "$WAIT_FOR"; do sleep 30; done
      /usr/bin/time -f "%e s wall (eval at $stop)" "$bin" eval "runs/$name" --json >"runs/logs/$name.it$stop.json" 2>>"runs/logs/$name.log"
    done
  done
done
