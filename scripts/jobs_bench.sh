#!/bin/bash
# One two-thread run against two one-thread runs side by side, the same steps each: what
# `unigen reproduce --jobs` should default to (docs/performance.md). Pause any campaign first.
# Usage: scripts/jobs_bench.sh MNIST_DIR [UNIGEN]
set -euo pipefail
D=${1:?usage: scripts/jobs_bench.sh MNIST_DIR [UNIGEN]}
U=${2:-target/release/unigen}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
run() { # threads out model steps settings...
  local t=$1 o=$2 m=$3 s=$4; shift 4
  RAYON_NUM_THREADS=$t "$U" train "$m" --data-dir "$D" --out "$W/$o" --set max_steps="$s" --set epochs=1000 --set epoch_eval_size=0 "$@" -q
}
lscpu | grep "Model name"
echo "SIMD: $(grep -o -w -E 'avx2|avx512f|avx512_bf16|avx512_fp16|avx512_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for w in "vae 600" "aavae 400" "vae 100 --set network=dcgan" "gan 120 --set network=dcgan --set latent_dim=100 --set batch_size=64"; do
  set -- $w; m=$1; s=$2; shift 2
  a0=$(date +%s.%N); run 2 "$m-2t" "$m" "$s" "$@"; a1=$(date +%s.%N)
  b0=$(date +%s.%N); run 1 "$m-1a" "$m" "$s" "$@" & run 1 "$m-1b" "$m" "$s" "$@"; wait; b1=$(date +%s.%N)
  python3 -c "ta=$a1-$a0; tb=$b1-$b0; print('$w: one 2-thread run %.1f s, two 1-thread runs %.1f s, ratio %.2f' % (ta, tb, 2*ta/tb))"
done
