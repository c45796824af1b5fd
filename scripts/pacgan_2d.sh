#!/usr/bin/env bash
# PacGAN's 2-D mode-collapse benchmark (issue 23 item 4): GAN, IWGAN, PacGAN2 (the GAN with
# pack=2, 100 packs of 2 a step, as in PacGAN's code) and the VAE, on the presets ring8-pacgan and
# grid25-pacgan, which default to PacGAN's protocol (README, "Data"). Each finished run is scored
# by `unigen eval` and its eval.json, with the training time, commit, machine and per-epoch curve, is
# copied to docs/reproduction/pacgan-2d/e$EPOCHS/ to be committed (scripts/pacgan_table.py collect); a run whose result is there is skipped,
# and a killed run resumes from its checkpoint. JOBS trainings at a time (default 2), THREADS
# threads each (default 1; a run's results have the same bits on any number of threads, so
# JOBS=1 THREADS=2 finishes one run sooner when few are left).
# Usage: scripts/pacgan_2d.sh [OUT_DIR] [SEEDS] [EPOCHS]     (UNIGEN=path/to/frozen/binary, JOBS=1|2, THREADS=1|2)
# VARIANTS (default "gan iwgan pacgan2 vae") and DATASETS (default "ring8-pacgan grid25-pacgan")
# choose a part of the campaign; gan, iwgan and pacgan2 also come as <name>-initburn, the same run
# with burn's initial weights (init=default) in place of the protocol's N(0, 0.02^2), and the IWGAN
# as iwgan-floor50, with its importance weights tempered to rest on at least half of each batch
# (ess_floor=0.5; a build of 1aeca7d or later).
# COMMIT: the commit the binary was built from (default this checkout's HEAD, right only for a
# binary of HEAD); each result records it.
# Summary table: python3 scripts/pacgan_table.py docs/reproduction/pacgan-2d/e$EPOCHS
set -euo pipefail
out=${1:-runs/pacgan-2d}
seeds=${2:-5}
epochs=${3:-400}
bin=${UNIGEN:-target/release/unigen}
results=docs/reproduction/pacgan-2d/e$epochs
commit=${COMMIT:-$(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD -- src && echo || echo +dirty)}
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
variants=${VARIANTS:-gan iwgan pacgan2 vae}
datasets=${DATASETS:-ring8-pacgan grid25-pacgan}
for v in $variants; do case $v in gan|iwgan|pacgan2|vae|gan-initburn|iwgan-initburn|pacgan2-initburn|iwgan-floor50) ;;
  *) echo "pacgan_2d.sh: VARIANTS: unknown variant '$v' (gan, iwgan, pacgan2, vae, gan/iwgan/pacgan2 with -initburn, iwgan-floor50)" >&2; exit 2 ;; esac; done
for d in $datasets; do case $d in ring8-pacgan|grid25-pacgan) ;;
  *) echo "pacgan_2d.sh: DATASETS: unknown data set '$d' (ring8-pacgan, grid25-pacgan)" >&2; exit 2 ;; esac; done
mkdir -p "$out/logs" "$results"
for data in $datasets; do for s in $(seq 0 $((seeds - 1))); do for variant in $variants; do
  echo "$data $variant $s"
done; done; done | xargs -P "${JOBS:-2}" -L 1 env RAYON_NUM_THREADS="${THREADS:-1}" bash -c '
  data=$0 variant=$1 s=$2 out='"$out"' bin='"$bin"' results='"$results"' epochs='"$epochs"'
  name="$variant-$data-s$s"
  [ -f "$results/$name.json" ] && exit 0
  case $variant in
    *-initburn) sets=(--set init=default) ;;
    *-floor50) sets=(--set ess_floor=0.5) ;;
    *) sets=() ;;
  esac
  case ${variant%-*} in
    pacgan2) model=gan; sets+=(--set pack=2 --set batch_size=200 --set toy_train_size=200000) ;;
    *) model=${variant%-*} ;;
  esac
  # An interrupted or failed training (signal, error) leaves a resumable checkpoint, not a
  # result: exit 255 stops xargs, nothing is scored, and the next start resumes it.
  dir="$out/$name"
  [ -f "$dir/checkpoint.safetensors" ] && resume=--resume || resume=
  if [ -n "$resume" ]; then
    "$bin" train --out "$dir" --resume --quiet 2>>"$out/logs/$name.log" || exit 255
  else
    "$bin" train "$model" --data "$data" --seed "$s" --out "$dir" --set epochs="$epochs" "${sets[@]}" --quiet 2>>"$out/logs/$name.log" || exit 255
  fi
  "$bin" eval "$dir" --k 100 --quiet 2>>"$out/logs/$name.log" || exit 255
  python3 scripts/pacgan_table.py collect "$dir" "$results/$name.json" "'"$commit"'" "'"$machine"'" "$variant" "$data" "$s"
'
