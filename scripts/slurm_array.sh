#!/usr/bin/env bash
# One task of a Slurm job array over a plan written by `unigen reproduce ... --plan > plan.txt`:
# task i runs line i (one training run, which commits its result file and locks its own run
# directory). Submit from the directory the plan's relative paths are relative to:
#   sbatch --array=1-$(wc -l < plan.txt) --cpus-per-task=1 scripts/slurm_array.sh plan.txt
# `unigen` must be on the PATH of the nodes (sbatch passes the submitting shell's environment).
# A task that fails or is killed can be resubmitted alone (`--array=7`): the run resumes from its
# checkpoint. Then: the same reproduce command with --report-only merges every result.
#SBATCH --job-name=unigen
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
plan=${1:?usage: slurm_array.sh PLAN_FILE}
line=$(sed -n "${SLURM_ARRAY_TASK_ID:?not inside a job array}p" "$plan")
[ -n "$line" ] || { echo "$plan has no line $SLURM_ARRAY_TASK_ID" >&2; exit 2; }
echo "task $SLURM_ARRAY_TASK_ID on $(hostname): $line"
exec bash -c "$line"
