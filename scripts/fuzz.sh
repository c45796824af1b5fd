#!/usr/bin/env bash
# Fuzzes the readers of user files with cargo fuzz (libFuzzer, nightly toolchain), each target
# for a fixed time, from seed corpora of valid files; prints each target's executions. A crash, a
# panic, a hang (-timeout) or a blow-up in memory (-rss_limit_mb) fails the run and leaves the
# input in fuzz/artifacts/TARGET/. docs/reliability.md records the figures.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET=60] [TARGET...]     (needs: cargo install cargo-fuzz)
set -euo pipefail
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(idx config checkpoint samples)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
export TMPDIR=${TMPDIR:-/dev/shm}

# ---- seed corpora: one valid file of each kind, small ----
seeds=$(mktemp -d)
unigen="$root/target/release/unigen"
[ -x "$unigen" ] || (cd "$root" && cargo build --release -q)
mkdir -p corpus/idx corpus/config corpus/checkpoint corpus/samples
cp "$root"/tests/data/mnist-small/t10k-labels-idx1-ubyte.gz corpus/idx/
{ printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x1c\x00\x00\x00\x1c'; head -c 1568 /dev/urandom; } > corpus/idx/two-images
printf 'epochs = 3\nhidden = [32, 32]\nlr = 1e-3\nnetwork = "mlp"\n' > corpus/config/small.toml
printf 'k = 5\nlikelihood = "gaussian"\nlearn_variance = true\ngaussian_std = 0.1\n' > corpus/config/iwae.toml
"$unigen" train vae --data ring8 -q --set 'hidden=[4]' --set epochs=1 --set toy_train_size=512 --out "$seeds/run"
cp "$seeds/run/checkpoint.safetensors" corpus/checkpoint/vae.safetensors
"$unigen" train vae --data-dir "$root/tests/data/mnist-small" -q --set 'hidden=[8]' --set epochs=1 --set latent_dim=2 --out "$seeds/img"
"$unigen" sample "$seeds/img" -q --n 2 --npy corpus/samples/two.npy --out "$seeds/grid.png"
"$unigen" sample "$seeds/run" -q --n 3 --npy corpus/samples/points.npy --out "$seeds/points.png"
printf 'x,y\n# a comment\n1.5,-2\n0.25 4e-1\n' > corpus/samples/points.csv
rm -rf "$seeds"

# ---- the runs ----
summary=()
for t in "${targets[@]}"; do
  log=$(mktemp)
  cargo +nightly fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=16384 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 > "$log" 2>&1 || { tail -40 "$log"; echo "FAIL: $t" >&2; exit 1; }
  runs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*')
  summary+=("$t: $runs executions in $secs s, corpus $(ls "corpus/$t" | wc -l) inputs, 0 crashes")
done
printf '%s\n' "${summary[@]}"
