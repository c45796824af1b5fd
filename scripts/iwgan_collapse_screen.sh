#!/usr/bin/env bash
# Which part of PacGAN's 2-D protocol makes the IWGAN lose ring modes (issue 23 item 4)?
# Under PacGAN's protocol (`--data ring8-pacgan`) the IWGAN lost most of the ring's modes in its
# first 10 epochs; under unigen's own 2-D defaults (`--data ring8`, 40 epochs) it kept more modes
# than the GAN (docs/results.md). This screen starts from the protocol and puts back one of
# unigen's own choices at a time, IWGAN only, EPOCHS epochs (default 10: the collapse happens in
# epochs 1-9), seeds 0-2, one thread a run; MODELS="gan iwgan" adds the GAN under the same changes,
# CONFIGS="a b" runs only those configurations. Each run's per-epoch curve (modes captured, share of
# high-quality samples, and the importance weights' effective share and logits' spread) is copied
# to docs/reproduction/pacgan-2d/screen/ to be committed; a finished run is skipped, a killed one
# resumes from its checkpoint.
# Usage: scripts/iwgan_collapse_screen.sh [OUT_DIR] [EPOCHS]   (UNIGEN=frozen binary, COMMIT=its commit, JOBS)
# Summary: python3 scripts/iwgan_collapse_screen.py docs/reproduction/pacgan-2d/screen
# (the same script's `collect` writes each run's result file)
set -euo pipefail
out=${1:-runs/iw-screen}
epochs=${2:-10}
bin=${UNIGEN:-target/release/unigen}
results=docs/reproduction/pacgan-2d/screen
commit=${COMMIT:-$(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD -- src && echo || echo +dirty)}
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
mkdir -p "$out/logs" "$results"
# name | data | settings on top of the preset's (unigen's 2-D defaults: 2-256-256-2 generator
# without batch norm, leaky-ReLU discriminator 2-256-256-1, burn's initial weights, Adam lr 1e-3
# and beta_1 0.5, batch 256, 20,000 points; ring8 is a ring of radius 2, std 0.02).
configs='protocol|ring8-pacgan|
init-burn|ring8-pacgan|init=default
d-leaky-relu|ring8-pacgan|d_activation=leaky_relu d_hidden=[256,256]
g-no-batch-norm|ring8-pacgan|batch_norm=false hidden=[256,256] d_hidden=[200,200,200]
adam-1e-3-0.5|ring8-pacgan|lr=0.001 beta1=0.5
geometry-ring8|ring8|hidden=[400,400,400,400] batch_norm=true d_hidden=[200,200,200] d_activation=maxout lr=0.0001 beta1=0.8 init=dcgan batch_size=100 toy_train_size=100000
unigen-defaults|ring8-pacgan|hidden=[256,256] batch_norm=false d_hidden=[] d_activation=leaky_relu lr=0.001 beta1=0.5 init=default batch_size=256 toy_train_size=20000
ess-floor-0.25|ring8-pacgan|ess_floor=0.25
ess-floor-0.5|ring8-pacgan|ess_floor=0.5
ess-floor-0.75|ring8-pacgan|ess_floor=0.75
grid-protocol|grid25-pacgan|
grid-ess-floor-0.5|grid25-pacgan|ess_floor=0.5'
# The ess-floor-* rows are not part of the protocol but a remedy on top of it (IWGAN only, from
# build 1aeca7d on): the importance weights tempered wherever they would rest on less than that
# share of the batch (`ess_floor`, README). The grid-* rows ask the same of PacGAN's grid of 25, where
# the IWGAN kept its modes without a floor: does the floor change its first epochs there?
only=${CONFIGS:-}
for c in $only; do
  grep -q "^$c|" <<< "$configs" || { echo "CONFIGS: no configuration named '$c' (see the list in $0)" >&2; exit 2; }
done
filter=.; [ -n "$only" ] && filter="^(${only// /|})\|"
for m in ${MODELS:-iwgan}; do
  case $m in gan|iwgan) ;; *) echo "MODELS: '$m' is not gan or iwgan" >&2; exit 2 ;; esac
done
for model in ${MODELS:-iwgan}; do for s in 0 1 2; do
  echo "$configs" | grep -E "$filter" | sed "s/\$/|$s|$model/"
done; done | tr ' ' ';' | xargs -P "${JOBS:-1}" -L 1 env RAYON_NUM_THREADS=1 bash -c '
  IFS="|" read -r config data sets s model <<< "$0"
  out='"$out"' bin='"$bin"' results='"$results"' epochs='"$epochs"'
  name="$model-$config-s$s"
  [ -f "$results/$name.json" ] && exit 0
  args=()
  for kv in ${sets//;/ }; do args+=(--set "$kv"); done
  # unigen-defaults runs 4 times the epochs: 20,000 points at batch 256 are 78 steps an epoch.
  e=$epochs; [ "$config" = unigen-defaults ] && e=$((epochs * 4))
  dir="$out/$name"
  # A killed run resumes where it stopped; an interrupted training is not recorded (exit 255 stops xargs).
  if [ -f "$dir/checkpoint.safetensors" ]; then
    "$bin" train --out "$dir" --resume --quiet 2>>"$out/logs/$name.log" || exit 255
  else
    "$bin" train "$model" --data "$data" --seed "$s" --out "$dir" --set epochs="$e" "${args[@]}" --quiet 2>>"$out/logs/$name.log" || exit 255
  fi
  python3 scripts/iwgan_collapse_screen.py collect "$dir" "$results/$name.json" "'"$commit"'" "'"$machine"'" "$config" "$data" "$s" "$model"
'
