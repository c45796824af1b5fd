#!/usr/bin/env bash
# Issue 23 item 1: why IW-CGAN starves, and which conditioning of the DCGAN discriminator fixes
# it. Trains CGAN and IW-CGAN (DCGAN nets and hyper-parameters: latent 100, batch 64, Adam 2e-4,
# beta1 0.5) with the class entering D by projection or as input planes (`d_condition`), scores
# each after every epoch with the shipped classifier (`unigen eval`: conditional accuracy,
# inception score, Frechet distance on 10,000 samples), and prints the epoch's mean logit spread
# and effective sample share of the IW runs' weights (from metrics.jsonl).
# Usage: scripts/iwcgan_conditioning.sh OUT_DIR SEED EPOCHS VARIANT...   (VARIANT: MODEL:CONDITIONING,
# e.g. iwcgan:channels cgan:projection, or an unconditional MODEL alone, e.g. gan; UNIGEN=frozen
# binary; RAYON_NUM_THREADS as you like). Rerun to continue: scored epochs are skipped.
set -euo pipefail
out=$1 seed=$2 epochs=$3; shift 3
bin=${UNIGEN:-target/release/unigen}
data=${MNIST:-../shared/data/mnist}
for variant in "$@"; do
  # MODEL:CONDITIONING, or MODEL alone (an unconditional GAN: no d_condition).
  model=${variant%%:*} cond=${variant#"$model"}; cond=${cond#:}
  cond_set=(); [ -n "$cond" ] && cond_set=(--set d_condition="$cond")
  dir="$out/$model${cond:+-$cond}-s$seed"
  for e in $(seq 1 "$epochs"); do
    if [ -f "$dir/eval-e$e.json" ]; then continue; fi
    if [ -f "$dir/checkpoint.safetensors" ]; then
      "$bin" train --out "$dir" --resume --set epochs="$e" -q
    else
      "$bin" train "$model" --data-dir "$data" --seed "$seed" --out "$dir" -q --set network=dcgan --set latent_dim=100 \
        --set batch_size=64 "${cond_set[@]}" --set epoch_eval_size=0 --set epochs="$e"
    fi
    "$bin" eval "$dir" --json > "$dir/eval-e$e.json"
    python3 - "$dir" "$e" "$variant" <<'PY'
import json, sys
d, e, variant = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = json.load(open(f"{d}/eval-e{e}.json"))
r = r.get("eval", r)
m = [json.loads(l) for l in open(f"{d}/metrics.jsonl")][-1]
l = m["losses"]
print(f"{variant} epoch {e}: conditional accuracy {r.get('conditional_accuracy', float('nan')):.3f}, IS {r.get('inception_score', float('nan')):.2f}, "
      f"FD {r.get('frechet_distance', float('nan')):.1f}, logit std {l.get('logit_std', float('nan')):.2f}, "
      f"ESS share {l.get('ess_share', float('nan')):.3f}, within class {l.get('ess_share_within_class', float('nan')):.3f}, "
      f"{m['wall_s']:.0f} s training")
PY
  done
done
