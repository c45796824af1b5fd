#!/usr/bin/env bash
# Fault injection: SIGKILLs `unigen train` at random moments, resumes it after each kill, and checks
# that the run ends bit-identical to an uninterrupted one with the same seed: the same training
# state (weights and optimiser state, `unigen runs --verify`) and the same metrics lines (wall
# time and throughput aside). Run by tests/cli.rs with a few kills; docs/reliability.md has a
# long run's figures.
#
# With SIGNAL=INT (or TERM) each stop is a Ctrl-C (or SIGTERM) instead: the run saves a checkpoint
# at the next step and exits 130 (143), and must still end bit-identical.
#
# Usage: scripts/kill_resume.sh UNIGEN_BIN [KILLS=20] [SEED=1] [WORK_DIR] [SIGNAL=KILL]
set -euo pipefail
bin=$1
kills=${2:-20}
RANDOM=${3:-1}
work=${4:-$(mktemp -d)}
signal=${5:-KILL}
mkdir -p "$work"
rm -rf "$work/full" "$work/killed"
# Checkpoints every 3 steps and at each of the 12 epochs' ends (32 steps each): kills land
# during steps, during checkpoint writes and during epoch-end scoring.
args=(train vae --data ring8 --quiet --set 'hidden=[256,256]' --set toy_train_size=8192 --set epochs=12
      --set checkpoint_every=3 --set epoch_eval_size=256)

state() { "$bin" runs "$1" --verify --json | grep -o '"state_sha256":"[0-9a-f]*"'; }
metrics() { sed -E 's/"examples_per_s":[^,]*,//; s/,"wall_s":[^,}]*//' "$1/metrics.jsonl"; }

t0=$(date +%s%N)
"$bin" "${args[@]}" --out "$work/full"
full_ms=$(( ($(date +%s%N) - t0) / 1000000 ))

# Each attempt is killed after a delay uniform in [0, T/KILLS), T the uninterrupted run's time, so
# the KILLS kills usually land before the run ends (each restart also repeats some work); if the
# run ends first, fewer kills are reported.
max_delay=$(( full_ms / kills + 1 ))
landed=0 attempts=0 no_progress=0 last_step=-1
while true; do
  resume=()
  [ -f "$work/killed/run.toml" ] && resume=(--resume)
  "$bin" "${args[@]}" --out "$work/killed" "${resume[@]}" &
  pid=$!
  attempts=$((attempts + 1))
  if [ "$landed" -lt "$kills" ]; then
    delay=$(( (RANDOM * 32768 + RANDOM) % max_delay ))
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    if kill -0 "$pid" 2>/dev/null && kill "-$signal" "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      landed=$((landed + 1))
      step=$("$bin" runs "$work/killed" --json | grep -o '"step":[0-9]*' | cut -d: -f2 || true)
      step=${step:--1}
      [ "$step" = "$last_step" ] && no_progress=$((no_progress + 1))
      last_step=$step
      continue
    fi
  fi
  wait "$pid"   # finished (or left to finish once enough kills have landed)
  break
done

leftovers=$(find "$work/killed" -name '.*tmp-*' | wc -l)
if [ "$(state "$work/full")" != "$(state "$work/killed")" ]; then
  echo "FAIL: training state differs after $landed kills" >&2; exit 1
fi
if ! diff <(metrics "$work/full") <(metrics "$work/killed") >&2; then
  echo "FAIL: metrics differ after $landed kills" >&2; exit 1
fi
if [ "$leftovers" != 0 ]; then
  echo "FAIL: $leftovers temporary files left behind" >&2; exit 1
fi
echo "ok: $landed SIG${signal}s over $attempts attempts ($no_progress killed before a new checkpoint), uninterrupted run ${full_ms} ms; final state bit-identical, metrics identical, 0 temporary files left"
