#!/usr/bin/env bash
# End-to-end check of docs/scale.md on one machine: installs Debian's Slurm and munge (if
# missing), starts slurmctld and slurmd for this host alone, writes a tiny campaign's plan with
# `unigen reproduce --plan`, runs it as a job array (`sbatch --array --wait`), and merges the
# results with `--report-only`. Needs root. Usage: scripts/slurm_single_node.sh [WORK_DIR]
# (UNIGEN=path/to/unigen; default target/release/unigen). Prints what each step did and exits
# non-zero if the merged report is not complete.
set -euo pipefail
work=${1:-/tmp/unigen-slurm}
bin=$(realpath "${UNIGEN:-target/release/unigen}")
repo=$(pwd)
started=$(date +%s)
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
echo "slurm: $(slurmctld -V)"
host=$(hostname -s)
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /etc/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown -R munge:munge /etc/munge /run/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || su -s /bin/sh munge -c munged 2>/dev/null || munged --force
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=unigen
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=main Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 60); do sinfo -h -o %T 2>/dev/null | grep -qx idle && break; sleep 1; done
sinfo
echo "slurm up after $(( $(date +%s) - started )) s"

# A tiny campaign: Table 3's 1% VAE row, 2 seeds, 20 steps of 5 digits a run (1% of the committed
# MNIST subset is 10 digits).
rm -rf "$work" && mkdir -p "$work/bin" && ln -s "$bin" "$work/bin/unigen"
cd "$work"
export PATH="$work/bin:$PATH" UNIGEN_CLASSIFIER="${UNIGEN_CLASSIFIER:-}"
campaign=(reproduce table3 --budget quick --seeds 2 --row aavae@1% --data-dir "$repo/tests/data/mnist-small"
          --out runs --results results --report report.md --set max_steps=20 --set batch_size=5 -q)
unigen "${campaign[@]}" --plan > plan.txt
echo "plan: $(wc -l < plan.txt) runs"; cat plan.txt
sbatch --wait --array=1-"$(wc -l < plan.txt)" --cpus-per-task=1 "$repo/scripts/slurm_array.sh" plan.txt
for f in slurm-*.out; do echo "== $f"; cat "$f"; done
# --require-complete: exit status 4 if any run's result is missing from the merged report.
unigen "${campaign[@]}" --report-only --require-complete
grep "| VAE / AAVAE | 1% data" report.md
echo "done in $(( $(date +%s) - started )) s; results: $(ls results/quick | wc -l) files"
