#!/usr/bin/env bash
# PacGAN's 2-D mode-collapse benchmark (issue 23 item 4): GAN, IWGAN, PacGAN2 (the GAN with
# pack=2, 100 packs of 2 a step, as in PacGAN's code) and the VAE, on the presets ring8-pacgan and
# grid25-pacgan, which default to PacGAN's protocol (README, "Data"). Each finished run is scored
# by `unigen eval` and its eval.json, with the training time, commit and machine, is copied to
# docs/reproduction/pacgan-2d/e$EPOCHS/ to be committed; a run whose result is there is skipped,
# and a killed run resumes from its checkpoint. JOBS trainings at a time (default 2), one thread each.
# Usage: scripts/pacgan_2d.sh [OUT_DIR] [SEEDS] [EPOCHS]     (UNIGEN=path/to/frozen/binary, JOBS=1|2)
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
mkdir -p "$out/logs" "$results"
for data in ring8-pacgan grid25-pacgan; do for s in $(seq 0 $((seeds - 1))); do for variant in gan iwgan pacgan2 vae; do
  echo "$data $variant $s"
done; done; done | xargs -P "${JOBS:-2}" -L 1 env RAYON_NUM_THREADS=1 bash -c '
  data=$0 variant=$1 s=$2 out='"$out"' bin='"$bin"' results='"$results"' epochs='"$epochs"'
  name="$variant-$data-s$s"
  [ -f "$results/$name.json" ] && exit 0
  case $variant in
    pacgan2) model=gan; sets=(--set pack=2 --set batch_size=200 --set toy_train_size=200000) ;;
    *) model=$variant; sets=() ;;
  esac
  dir="$out/$name"
  [ -f "$dir/checkpoint.safetensors" ] && resume=--resume || resume=
  if [ -n "$resume" ]; then
    "$bin" train --out "$dir" --resume --quiet 2>>"$out/logs/$name.log"
  else
    "$bin" train "$model" --data "$data" --seed "$s" --out "$dir" --set epochs="$epochs" "${sets[@]}" --quiet 2>>"$out/logs/$name.log"
  fi
  "$bin" eval "$dir" --k 100 --quiet 2>>"$out/logs/$name.log"
  python3 - "$dir" "$results/$name.json" "'"$commit"'" "'"$machine"'" "$variant" "$data" "$s" <<PY
import json, sys, os
d, dest, commit, machine, variant, data, seed = sys.argv[1:]
r = json.load(open(os.path.join(d, "eval.json")))
lines = [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl"))]
r.update(variant=variant, data=data, seed=int(seed), epochs=lines[-1]["epoch"], steps=lines[-1]["step"],
         train_wall_s=lines[-1]["wall_s"], commit=commit, machine=machine,
         settings=open(os.path.join(d, "run.toml")).read())
tmp = dest + ".tmp"
json.dump(r, open(tmp, "w"), indent=1)
os.replace(tmp, dest)
PY
'
