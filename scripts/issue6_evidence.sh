#!/usr/bin/env bash
# Issue 6 evidence: each new model trained on the full MNIST training set, 3 seeds, then
# `unigen eval` (first 2,000 test digits, k = 1000 for L_k). Results go to runs/issue6/*/eval.json;
# scripts/issue6_table.py summarises them. Usage: scripts/issue6_evidence.sh [BIN [NAME...]]
# (NAMEs: only those rows, e.g. `ada cyclegan`; default all).
set -euo pipefail
BIN=${1:-target/release/unigen}
M=../shared/data/mnist
OUT=runs/issue6
ONLY=" ${*:2} "
mkdir -p $OUT
run() { # name model seed sets...
  local name=$1 model=$2 seed=$3; shift 3
  local dir=$OUT/$name-s$seed
  [ "$ONLY" = "  " ] || [[ "$ONLY" == *" $name "* ]] || return 0
  local sets=(); for kv in "$@"; do sets+=(--set "$kv"); done
  if [ ! -f $dir/eval.json ]; then
    [ -f $dir/checkpoint.safetensors ] && resume=--resume || resume=
    /usr/bin/time -f "$name s$seed train %e s" $BIN train $model --data-dir $M --out $dir --seed $seed "${sets[@]}" $resume -q
    $BIN eval $dir --k 1000 --n-test 2000 --json > /dev/null
  fi
}
for s in 0 1 2; do
  run ada ada $s max_steps=3000
  run source-only ada $s max_steps=3000 domain_weight=0
  run wake-sleep wake_sleep $s max_steps=3000
  run vae vae $s max_steps=3000
  run aae aae $s max_steps=3000
  run infogan infogan $s max_steps=5000 latent_dim=62
  run cyclegan cyclegan $s max_steps=3000 hidden=[256,256]
done
# Ablations, one seed: CycleGAN without its identity term; the AAE with one D update per step.
run cyclegan-no-identity cyclegan 0 max_steps=3000 hidden=[256,256] identity_weight=0
run aae-d1 aae 0 max_steps=3000 d_steps=1
