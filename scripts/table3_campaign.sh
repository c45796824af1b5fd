#!/usr/bin/env bash
# Continues the Table 3 `converge` campaign (issue 22) on this machine: each batch of runs by the
# build that began its row (docs/reproduction/README.md, "What remains of Table 3, by build"), so
# that a row's paired differences compare runs of one build.
#
#   scripts/table3_campaign.sh BATCH [BATCH...]
#
# BATCH is one of
#   vae10      VAE / AA-VAE 10% data, seeds 3-4                      (514c06f)
#   cvae10     CVAE / AA-CVAE 10% data, seeds 0-4                    (2435de8)
#   svae1      SVAE / AA-SVAE 1% labels, seeds 0-4                   (acba451)
#   svae10     SVAE / AA-SVAE 10% labels, seeds 0-4                  (1623c75: the faster SVAE step)
#   full       VAE / AA-VAE and CVAE / AA-CVAE 100% data, seeds 0-4  (acba451)
# Each batch starts in the background, one thread, its log in $RUNS/logs/BATCH.log; a run whose
# result is committed under docs/reproduction/converge is skipped, and an interrupted one
# resumes from its directory under $RUNS if it is still there. Two batches at once fill the 2
# cores this project's machines have. A build missing from $BUILDS is made first (a worktree
# of the commit and `cargo build --release`: about 5 minutes). Results land in this checkout's
# docs/reproduction; commit each as it lands.
#
# Environment: RUNS (default /work/runs/reproduce-converge), DATA (default ../shared/data/mnist,
# relative to the repository), BUILDS (default $HOME/.cache/unigen-builds), DRY=1 to print the
# commands instead of starting them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-/work/runs/reproduce-converge}
data=$(cd "$repo" && realpath -m "${DATA:-../shared/data/mnist}")
builds=${BUILDS:-$HOME/.cache/unigen-builds}

[ $# -gt 0 ] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

# The binary of `commit`, built once in a worktree of it.
binary() {
  local commit=$1 dir="$builds/$1"
  if [ ! -x "$dir/unigen" ]; then
    mkdir -p "$builds"
    git -C "$repo" worktree prune
    [ -d "$dir/src" ] || git -C "$repo" worktree add --detach "$dir/src" "$commit" >&2
    (cd "$dir/src" && cargo build --release >&2)
    cp "$dir/src/target/release/unigen" "$dir/unigen"
  fi
  echo "$dir/unigen"
}

for batch in "$@"; do
  names=()
  case $batch in
    vae10) commit=514c06f; for s in 3 4; do names+=(vae-10-data-s$s aavae-10-data-s$s); done ;;
    cvae10) commit=2435de8; for s in 0 1 2 3 4; do names+=(cvae-10-data-s$s aacvae-10-data-s$s); done ;;
    svae1) commit=acba451; for s in 0 1 2 3 4; do names+=(svae-1-labels-s$s aasvae-1-labels-s$s); done ;;
    svae10) commit=1623c75; for s in 0 1 2 3 4; do names+=(svae-10-labels-s$s aasvae-10-labels-s$s); done ;;
    full) commit=acba451; for m in vae cvae; do for s in 0 1 2 3 4; do names+=($m-100-data-s$s aa$m-100-data-s$s); done; done ;;
    *) echo "unknown batch '$batch': one of vae10, cvae10, svae1, svae10, full" >&2; exit 2 ;;
  esac
  bin=$(if [ "${DRY:-}" = 1 ]; then echo "$builds/$commit/unigen"; else binary $commit; fi)
  args=(reproduce table3 --budget converge --seeds 5 --jobs 1 --data-dir "$data" --out "$runs"
        --results "$repo/docs/reproduction")
  for n in "${names[@]}"; do args+=(--run "$n"); done
  # Builds before 2435de8 name the commit of the tree they run in: run them in their own.
  cwd=$repo; [ $commit = 514c06f ] && cwd=$(dirname "$bin")/src
  if [ "${DRY:-}" = 1 ]; then
    echo "(cd $cwd && RAYON_NUM_THREADS=1 $bin ${args[*]})"
  else
    mkdir -p "$runs/logs"
    (cd "$cwd" && RAYON_NUM_THREADS=1 nohup "$bin" "${args[@]}" > "$runs/logs/$batch.log" 2>&1 &)
    echo "$batch: started $bin ($commit), log $runs/logs/$batch.log"
  fi
done
