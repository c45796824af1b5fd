#!/usr/bin/env bash
# GAN training throughput, unigen vs the PyTorch reference (bench/gan_torch.py), interleaved in
# one session (docs/results.md, "GAN training speed").
# Usage: scripts/issue3_gan_speed.sh MNIST_DIR PYTHON [REPS]
# Each measurement: one pass over 6,000 training digits at batch 64 (93 iterations), examples/s
# over the training steps only (unigen: `examples_per_s` of metrics.jsonl).
set -euo pipefail
mnist=${1:?MNIST directory}; py=${2:?python with torch}; reps=${3:-3}
bin=${UNIGEN:-target/release/unigen}
out=$(mktemp -d)
for rep in $(seq "$reps"); do
  for net in mlp dcgan; do
    case $net in
      mlp) sets=(--set "hidden=[256,512]") ;;
      dcgan) sets=(--set network=dcgan) ;;
    esac
    rm -rf "$out/$net"
    "$bin" train gan --data-dir "$mnist" --quiet --out "$out/$net" --set epochs=1 --set batch_size=64 \
      --set latent_dim=100 --set train_fraction=0.1 --set epoch_eval_size=0 "${sets[@]}"
    python3 -c "import json,sys; m=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(f'unigen {sys.argv[2]}: {m[\"examples_per_s\"]:.0f} examples/s (d_loss {m[\"losses\"][\"d_loss\"]:.3f} g_loss {m[\"losses\"][\"g_loss\"]:.3f})')" "$out/$net/metrics.jsonl" "$net"
    "$py" bench/gan_torch.py "$mnist" "$net" 6000 2
  done
done
rm -rf "$out"
