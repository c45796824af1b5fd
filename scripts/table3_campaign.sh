#!/usr/bin/env bash
# Continues the `converge` campaigns (Table 3, issue 22; Table 2's GANs, issue 23) on this machine: each batch of runs by the
# build that began its row (docs/reproduction/README.md, "What remains of Table 3, by build"), so
# that a row's paired differences compare runs of one build.
#
#   scripts/table3_campaign.sh QUEUE [QUEUE...]
#
# A QUEUE is batches or single runs joined by commas (`aasvae-1-labels-s1,svae-1-labels-s2,cvae10`),
# started in the background as one process that takes them one after another; a single run goes
# to its batch's build. A batch is one of
#   vae10      VAE 10% data, seeds 3-4                               (514c06f)
#   aa1        AA-CVAE 1% data, seeds 0-4                            (2b6f7bf: e91769d, 514c06f's
#   aa10       AA-VAE 10% data, seeds 0-4                             training code, with the
#              default `norm_stats = real`; the baselines are 514c06f's)
#   aac10      AA-CVAE 10% data, seeds 0-4                           (7993974: 2435de8, the CVAE
#              runs' build, with the default `norm_stats = real`)
#   svae1      SVAE / AA-SVAE 1% labels, seeds 0-4                   (acba451)
#   svae10     SVAE / AA-SVAE 10% labels, seeds 0-4                  (1623c75: the faster SVAE step)
#   full       VAE / AA-VAE and CVAE / AA-CVAE 100% data, seeds 0-4  (73df3e1: main with the default
#              `norm_stats = real`; the row is not started, so both members of a pair are its runs)
#   gan        Table 2 (left): GAN / IWGAN on MNIST, seeds 0-4         (6fb179a: results keep
#   cgan       Table 2 (middle): CGAN / IW-CGAN on MNIST, seeds 0-4     precision, recall, H(y))
#   mlp1       VAE / AA-VAE 1% data with the MLP (network=mlp), seeds 0-4  (3e4bb79: the other
#   mlp10      the same at 10% data                                         architecture's rows)
#   mlp1-a ... mlp1-d   the MLP AA-VAE at 1% with ablation (a)-(d) of item 4 (scripts/ablations.sh);
#              seeds 0-4 (3e4bb79; the VAE runs are mlp1's, which reads none of these settings)
#   mlp10-a ... mlp10-d  the same at 10% data (the VAE runs are mlp10's)
# The conv AA rows trained before `norm_stats` defaulted to `real` (AA-VAE 10% seeds 0-2, AA-CVAE
# at 1% and 10%, the conv ablations at 1%) are committed as `+norm_stats=all` runs; aa1, aa10
# and aac10 rerun them with the default. The conv ablations at 10% are not started.
# Each queue runs on one thread, its log in $RUNS/logs/QUEUE.log (commas as +); a run whose
# result is committed under docs/reproduction/converge is skipped, and an interrupted one
# resumes from its directory under $RUNS if it is still there. Two queues at once fill the 2
# cores this project's machines have. A build missing from $BUILDS is made first (a worktree
# of the commit and `cargo build --release`, all into one target directory: about 11 minutes
# for the first, about a minute for each further one). Results land in this checkout's
# docs/reproduction; commit each as it lands.
#
# Environment: RUNS (default /work/runs/reproduce-converge), DATA (default ../shared/data/mnist,
# relative to the repository), BUILDS (default $HOME/.cache/unigen-builds), THREADS (default 1:
# each run's threads; 2 for one queue alone, e.g. a Table 2 run that must finish within a session:
# the same bits; a DCGAN GAN epoch took 181 s so, against 287 s on one thread beside another run),
# DRY=1 to print the commands instead of starting them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-/work/runs/reproduce-converge}
data=$(cd "$repo" && realpath -m "${DATA:-../shared/data/mnist}")
builds=${BUILDS:-$HOME/.cache/unigen-builds}
source "$repo/scripts/ablations.sh"

[ $# -gt 0 ] || { sed -n '2,/^# Each queue/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }

# The binary of `commit`, built once in a worktree of it.
binary() {
  local commit=$1 dir="$builds/$1"
  if [ ! -x "$dir/unigen" ]; then
    mkdir -p "$builds"
    git -C "$repo" worktree prune
    [ -d "$dir/src" ] || git -C "$repo" worktree add --detach "$dir/src" "$commit" >&2
    # One target directory for every build: the dependencies (one Cargo.lock) compile once, and
    # each further build compiles only unigen. The lock keeps a second batch's build from
    # replacing the binary between this build and its copy. `clean -p unigen` first: cargo keys
    # unigen's artefacts by paths relative to the tree, not by the tree, so a worktree whose files
    # are older than the last build's output (made while another build held the lock) would get
    # that build's binary.
    (cd "$dir/src" && CARGO_TARGET_DIR="$builds/target" flock "$builds/.lock" \
      sh -c 'cargo clean --release -p unigen && cargo build --release && cp "$0/release/unigen" "$1.new"' "$builds/target" "$dir/unigen" >&2)
    mv "$dir/unigen.new" "$dir/unigen"
  fi
  echo "$dir/unigen"
}

# The build that runs `batch` (a batch's name or one run's, e.g. `aasvae-1-labels-s1`) and the
# runs it names, as "COMMIT NAME...".
resolve() {
  local names=() commit
  case $1 in
    vae10) commit=514c06f; for s in 3 4; do names+=(vae-10-data-s$s); done ;;
    aa1) commit=2b6f7bf; for s in 0 1 2 3 4; do names+=(aacvae-1-data-s$s); done ;;
    aa10) commit=2b6f7bf; for s in 0 1 2 3 4; do names+=(aavae-10-data-s$s); done ;;
    aac10) commit=7993974; for s in 0 1 2 3 4; do names+=(aacvae-10-data-s$s); done ;;
    svae1) commit=acba451; for s in 0 1 2 3 4; do names+=(svae-1-labels-s$s aasvae-1-labels-s$s); done ;;
    svae10) commit=1623c75; for s in 0 1 2 3 4; do names+=(svae-10-labels-s$s aasvae-10-labels-s$s); done ;;
    full) commit=73df3e1; for m in vae cvae; do for s in 0 1 2 3 4; do names+=($m-100-data-s$s aa$m-100-data-s$s); done; done ;;
    gan|cgan) commit=6fb179a; for s in 0 1 2 3 4; do names+=($1-MNIST-s$s iw$1-MNIST-s$s); done ;;
    mlp1|mlp10) commit=3e4bb79; for s in 0 1 2 3 4; do names+=(vae+network=mlp-${1#mlp}-data-s$s aavae+network=mlp-${1#mlp}-data-s$s); done ;;
    mlp1-[abcd]|mlp10-[abcd]) commit=3e4bb79; local set p=${1%-?}; p=${p#mlp}; set=$(ablation_setting ${1##*-}) || return 2
       for s in 0 1 2 3 4; do names+=(aavae+network=mlp+$set-$p-data-s$s); done ;;
    *) local b
       for b in vae10 aa1 aa10 aac10 svae1 svae10 full gan cgan mlp1 mlp10 mlp1-{a,b,c,d} mlp10-{a,b,c,d}; do
         if [[ " $(resolve $b) " == *" $1 "* ]]; then commit=$(resolve $b | cut -d' ' -f1); names=("$1"); fi
       done
       [ -n "${commit:-}" ] || { echo "unknown batch or run '$1': a batch is one of vae10, aa1, aa10, aac10, svae1, svae10, full, gan, cgan, mlp1, mlp10, mlp1-a to mlp1-d, mlp10-a to mlp10-d" >&2; return 2; } ;;
  esac
  echo "$commit ${names[*]}"
}

# Each argument is a queue: batches or runs joined by commas, run one after another.
for queue in "$@"; do
  cmds=()
  IFS=, read -ra items <<< "$queue"
  for item in "${items[@]}"; do
    resolved=$(resolve "$item") || exit 2
    read -r commit names <<< "$resolved"
    bin=$(if [ "${DRY:-}" = 1 ]; then echo "$builds/$commit/unigen"; else binary $commit; fi)
    table=table3; [[ $names == *-MNIST-* ]] && table=table2
    args=(reproduce $table --budget converge --seeds 5 --jobs 1 --data-dir "$data" --out "$runs"
          --results "$repo/docs/reproduction")
    # Runs with settings of their own (the MLP rows, the ablations) carry them in their names,
    # `aavae+network=mlp+d_steps=2-1-data-s0`: the AA-VAE rows again, with each one set.
    sets=$(sed -E 's/^[a-z]+((\+[a-z_]+=[a-z0-9_.]+)*)-.*/\1/' <<< "${names%% *}")
    if [ -n "$sets" ]; then
      args+=(--row aavae@1% --row aavae@10%)
      IFS=+ read -ra kv <<< "${sets#+}"
      for set in "${kv[@]}"; do args+=(--set "$set"); done
    fi
    for n in $names; do args+=(--run "$n"); done
    # Builds without 2435de8's build.rs (514c06f, and the ablation builds on it) name the commit of the tree
    # they run in: run them in their own.
    cwd=$repo; git -C "$repo" merge-base --is-ancestor 2435de8 $commit || cwd=$(dirname "$bin")/src
    cmds+=("(cd $cwd && RAYON_NUM_THREADS=${THREADS:-1} $bin ${args[*]})")
  done
  log="$runs/logs/${queue//,/+}.log"
  if [ "${DRY:-}" = 1 ]; then
    printf '%s\n' "${cmds[@]}"
  else
    mkdir -p "$runs/logs"
    # `;` not `&&`: a failed run does not hold up the rest of its queue.
    (nohup bash -c "$(printf '%s; ' "${cmds[@]}")" > "$log" 2>&1 &)
    echo "$queue: started, log $log"
  fi
done
