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
for variant in "$@"; do
  # MODEL:CONDITIONING, or MODEL alone (an unconditional GAN: no d_condition).
  model=${variant%%:*} cond=${variant#"$model"}; cond=${cond#:}
  cond_set=(); [ -n "$cond" ] && cond_set=(--set d_condition="$cond")
  # The same per-epoch training and scoring as the recipe probes.
  MODEL=$model bash "$(dirname "$0")/gan_recipe.sh" "$out/$model${cond:+-$cond}-s$seed" "$seed" "$epochs" "${cond_set[@]}"
done
