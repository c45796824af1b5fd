#!/usr/bin/env bash
# Issue 23 item 5: probes towards a 30-minute MNIST GAN recipe. Trains a GAN (MODEL) with
# the DCGAN pair (latent 100, batch 64, Adam 2e-4, beta1 0.5) plus any `--set key=value` given,
# and scores it after every epoch with the shipped classifier (`unigen eval`: inception score,
# Frechet distance, precision/recall on 10,000 samples; a conditional model's accuracy, an IW
# model's logit spread and effective sample share), printing one line an epoch.
# Usage: scripts/gan_recipe.sh OUT_DIR SEED EPOCHS [--set key=value ...]
# (UNIGEN=frozen binary, MODEL=gan|iwgan|cgan|iwcgan|infogan, MNIST=data dir; RAYON_NUM_THREADS
# as you like).
# Rerun with more EPOCHS to continue: scored epochs are skipped, the run resumes.
set -euo pipefail
out=$1 seed=$2 epochs=$3; shift 3
bin=${UNIGEN:-target/release/unigen}
data=${MNIST:-../shared/data/mnist}
for e in $(seq 1 "$epochs"); do
  [ -f "$out/eval-e$e.json" ] && continue
  if [ -f "$out/checkpoint.safetensors" ]; then
    "$bin" train --out "$out" --resume --set epochs="$e" -q
  else
    "$bin" train "${MODEL:-gan}" --data-dir "$data" --seed "$seed" --out "$out" -q --set network=dcgan --set latent_dim=100 \
      --set batch_size=64 --set epoch_eval_size=0 --set epochs="$e" "$@"
  fi
  "$bin" eval "$out" --json > "$out/eval-e$e.json"
  python3 - "$out" "$e" <<'PY'
import json, sys
d, e = sys.argv[1], int(sys.argv[2])
r = json.load(open(f"{d}/eval-e{e}.json"))
m = [json.loads(l) for l in open(f"{d}/metrics.jsonl")][-1]
l = m["losses"]
# What only some models have: a conditional model's accuracy, an IW model's weight diagnostics.
extra = [f"{name} {v:.3f}" for name, v in [("conditional accuracy", r.get("conditional_accuracy")), ("logit std", l.get("logit_std")),
         ("ESS share", l.get("ess_share")), ("within class", l.get("ess_share_within_class"))] if v is not None]
print(", ".join([f"{d} epoch {e}: IS {r['inception_score']:.2f}", f"FD {r['frechet_distance']:.1f}", f"precision {r['precision']:.3f}",
      f"recall {r['recall']:.3f}", f"d_loss {l['d_loss']:.3f}", f"g_loss {l['g_loss']:.3f}", *extra, f"{m['wall_s']:.0f} s training"]))
PY
done
