#!/usr/bin/env bash
# The runs behind docs/results.md, "VAE and IWAE on MNIST" (issue 2).
# Usage: scripts/issue2_vae_mnist.sh MNIST_DIR [lane-a|lane-b]
# Lane A: the 784-500-500-50 ReLU VAE, 50 epochs, seeds 0-2.
# Lane B: Burda et al.'s 784-200-200-50 tanh architecture, VAE (k=1) and IWAE k=5, k=50,
#         20 epochs each, seed 0.
# Each run is then scored with k=5000 importance samples on the first 2,000 test examples, and
# with k=100 on all 10,000 test examples.
set -euo pipefail
mnist=${1:?MNIST directory}
lane=${2:-lane-a}
bin=${UNIGEN:-target/release/unigen}
mkdir -p runs/logs
run() { # name, then train arguments
  local name=$1; shift
  [ -f "runs/$name/checkpoint.safetensors" ] && resume=--resume || resume=
  /usr/bin/time -f "%e s wall" "$bin" train "$@" --data-dir "$mnist" --out "runs/$name" --quiet $resume 2>>"runs/logs/$name.log"
  /usr/bin/time -f "%e s wall" "$bin" eval "runs/$name" --k 5000 --n-test 2000 --json >"runs/logs/$name.eval.json" 2>>"runs/logs/$name.log"
  /usr/bin/time -f "%e s wall" "$bin" eval "runs/$name" --k 100 --json >"runs/logs/$name.full.json" 2>>"runs/logs/$name.log"
}
case $lane in
  lane-a)
    for s in 0 1 2; do run "vae500-s$s" vae --seed "$s"; done ;;
  lane-b)
    burda=(--set "hidden=[200,200]" --set activation=tanh --set epochs=20)
    run burda-vae-s0 vae "${burda[@]}"
    run burda-iwae5-s0 iwae "${burda[@]}" --set k=5
    run burda-iwae50-s0 iwae "${burda[@]}" --set k=50 ;;
esac
