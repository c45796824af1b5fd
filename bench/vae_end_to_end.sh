#!/bin/bash
# 8 epochs of the MLP VAE end to end: unigen and its PyTorch twin (bench/vae_torch.py), alternating,
# 2 threads each; prints each program's wall time and examples/s by epoch (docs/performance.md,
# "End to end"). Pause anything else running on the machine first.
# Usage: bench/vae_end_to_end.sh UNIGEN_BINARY MNIST_DIR PYTHON [ROUNDS] [flush]
set -euo pipefail
unigen=$1 mnist=$2 python=$3 rounds=${4:-2} flush=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
  rm -rf "$out/run"
  s=$(date +%s.%N)
  RAYON_NUM_THREADS=2 "$unigen" train vae --data-dir "$mnist" --set epochs=8 --set epoch_eval_size=0 --out "$out/run" -q
  t=$(echo "$(date +%s.%N) - $s" | bc)
  rates=$("$python" -c "import json,sys; print(', '.join('%.0f' % json.loads(l)['examples_per_s'] for l in open(sys.argv[1])))" "$out/run/metrics.jsonl")
  echo "round $r unigen: $t s; examples/s by epoch: $rates"
  s=$(date +%s.%N)
  lines=$("$python" "$here/vae_torch.py" "$mnist" 8 2 $flush 2>/dev/null)
  t=$(echo "$(date +%s.%N) - $s" | bc)
  rates=$(echo "$lines" | sed -E 's/.*: ([0-9]+) examples.*/\1/' | paste -sd, | sed 's/,/, /g')
  echo "round $r torch${flush:+ ($flush)}: $t s; examples/s by epoch: $rates"
done
