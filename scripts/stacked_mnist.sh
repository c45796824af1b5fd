#!/usr/bin/env bash
# Stacked MNIST (issue 23 item 4): GAN and IWGAN with the preset's DCGAN settings, SEEDS seeds,
# each scored by `unigen eval` (modes of 1,000 reached by 26,000 samples, KL to uniform, the
# shipped classifier); each finished run's eval.json, with training time, commit and machine,
# goes to docs/reproduction/stacked-mnist/e$EPOCHS/ to be committed. A run whose result is there
# is skipped; a killed run resumes. JOBS trainings at a time (default 2), one thread each.
# Each result keeps the per-epoch mode counts (`per_epoch`: epoch, modes, KL to uniform).
# Usage: scripts/stacked_mnist.sh MNIST_DIR [OUT_DIR] [SEEDS] [EPOCHS]
# Environment: UNIGEN (a frozen binary, outside target/), COMMIT (the commit it was built from;
# default this checkout's HEAD, right only for a binary of HEAD), JOBS.
set -euo pipefail
mnist=$(realpath "${1:?usage: stacked_mnist.sh MNIST_DIR [OUT_DIR] [SEEDS] [EPOCHS]}")
out=${2:-runs/stacked-mnist}
seeds=${3:-5}
epochs=${4:-50}
bin=${UNIGEN:-target/release/unigen}
results=docs/reproduction/stacked-mnist/e$epochs
commit=${COMMIT:-$(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD -- src && echo || echo +dirty)}
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
mkdir -p "$out/logs" "$results"
for s in $(seq 0 $((seeds - 1))); do for model in gan iwgan; do echo "$model $s"; done; done |
  xargs -P "${JOBS:-2}" -L 1 env RAYON_NUM_THREADS=1 bash -c '
  model=$0 s=$1 out='"$out"' bin='"$bin"' results='"$results"' epochs='"$epochs"' mnist='"$mnist"'
  name="$model-s$s"
  [ -f "$results/$name.json" ] && exit 0
  dir="$out/$name"
  if [ -f "$dir/checkpoint.safetensors" ]; then
    "$bin" train --out "$dir" --resume --quiet 2>>"$out/logs/$name.log" || exit 255
  else
    "$bin" train "$model" --data stacked-mnist --data-dir "$mnist" --seed "$s" --out "$dir" --set epochs="$epochs" --quiet 2>>"$out/logs/$name.log" || exit 255
  fi
  # An interrupted training (Ctrl-C, kill) leaves a resumable checkpoint, not a result: exit 255
  # stops xargs, and nothing is scored.
  "$bin" eval "$dir" --quiet 2>>"$out/logs/$name.log" || exit 255
  python3 - "$dir" "$results/$name.json" "'"$commit"'" "'"$machine"'" "$model" "$s" <<PY
import json, sys, os
d, dest, commit, machine, model, seed = sys.argv[1:]
r = json.load(open(os.path.join(d, "eval.json")))
lines = [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl"))]
r.update(model=model, seed=int(seed), epochs=lines[-1]["epoch"], steps=lines[-1]["step"],
         train_wall_s=lines[-1]["wall_s"], commit=commit, machine=machine,
         per_epoch=[[l["epoch"], l.get("stacked_modes"), l.get("stacked_mode_kl")] for l in lines],
         settings=open(os.path.join(d, "run.toml")).read())
tmp = dest + ".tmp"
json.dump(r, open(tmp, "w"), indent=1)
os.replace(tmp, dest)
PY
'
