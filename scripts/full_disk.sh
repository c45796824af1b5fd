#!/usr/bin/env bash
# Fault injection: the disk fills up while `unigen train` writes a checkpoint. Expected: a clear
# error naming the checkpoint, exit status 6, the previous checkpoint intact (same training state,
# loads and verifies), no temporary file left; and once space is freed, --resume finishes the run.
# Runs in its own mount namespace on a small tmpfs (root, or unprivileged user namespaces).
#
# Usage: scripts/full_disk.sh UNIGEN_BIN
set -euo pipefail
bin=$(realpath "$1")
if [ "${UNIGEN_IN_MOUNT_NS:-}" != 1 ]; then
  exec unshare --map-root-user --mount env UNIGEN_IN_MOUNT_NS=1 bash "$0" "$@"
fi
mnt=$(mktemp -d)
mount -t tmpfs -o size=16m tmpfs "$mnt"
run=$mnt/run
# A 256-wide VAE: its checkpoint (weights and Adam's two moments) is 1.6 MB.
args=(train vae --data ring8 --quiet --set 'hidden=[256,256]' --set toy_train_size=2048 --set epoch_eval_size=0
      --set checkpoint_every=5 --out "$run")
"$bin" "${args[@]}" --set epochs=1
state() { "$bin" runs "$run" --verify --json | grep -o '"state_sha256":"[0-9a-f]*"'; }
before=$(state)

# Fill the disk but 64 KiB: enough for run.toml, not for the next checkpoint (mid-epoch).
avail=$(df --output=avail -B1 "$mnt" | tail -1)
head -c $((avail - 65536)) /dev/zero > "$mnt/filler"
set +e
"$bin" "${args[@]}" --set epochs=2 --resume 2> "$mnt/stderr"
status=$?
set -e
cat "$mnt/stderr" >&2
[ "$status" = 6 ] || { echo "FAIL: exit status $status, expected 6 (I/O)" >&2; exit 1; }
grep -q "No space left on device" "$mnt/stderr" || { echo "FAIL: the error does not say the disk is full" >&2; exit 1; }
grep -q "checkpoint.safetensors" "$mnt/stderr" || { echo "FAIL: the error does not name the checkpoint" >&2; exit 1; }
[ "$(state)" = "$before" ] || { echo "FAIL: the previous checkpoint changed" >&2; exit 1; }
[ -z "$(find "$run" -name '.*tmp-*')" ] || { echo "FAIL: a temporary file was left behind" >&2; exit 1; }

rm "$mnt/filler"
"$bin" "${args[@]}" --set epochs=2 --resume
echo "ok: disk full at the checkpoint -> exit 6 with a clear error; previous checkpoint intact (state $before); resumed to the end once space was freed"
umount "$mnt"
