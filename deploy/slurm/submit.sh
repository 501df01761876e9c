#!/bin/bash
# Submit a Refinery run as a Slurm array of SHARDS tasks, then its merge (after every task
# succeeded). Usage:
#   deploy/slurm/submit.sh SHARDS [sbatch options --] refine options (with --out FILE.npy)
# e.g. deploy/slurm/submit.sh 16 --cpus-per-task=8 -- --run runs/grid --method ddls --n 50000 --out out/samples.npy
# Prints the array's and the merge's job ids. REFINERY overrides the command (default: npx refinery).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shards="$1"
shift
sbatch_opts=()
if [[ " $* " == *" -- "* ]]; then
  while [[ "$1" != "--" ]]; do sbatch_opts+=("$1"); shift; done
  shift
fi
out=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [[ "${args[$i]}" == "--out" ]]; then out="${args[$((i + 1))]}"; fi
done
if [[ -z "$out" || "$out" != *.npy ]]; then
  echo "submit.sh: expected --out FILE.npy among the refine options, received '${out}'" >&2
  exit 2
fi
REFINERY="${REFINERY:-npx --no-install refinery}"
export REFINERY
array=$(sbatch --parsable --array="0-$((shards - 1))" "${sbatch_opts[@]}" "$here/refine-array.sbatch" "$@")
# The shards' names: OUT.shard-K-of-N.npy, K zero-padded to the width of N - 1.
last=$((shards - 1))
parts=""
for ((k = 0; k < shards; k++)); do
  parts+=" $(printf '%q' "${out%.npy}.shard-$(printf "%0${#last}d" "$k")-of-${shards}.npy")"
done
merge=$(sbatch --parsable --dependency="afterok:${array}" --job-name=refinery-merge "${sbatch_opts[@]}" \
  --wrap "$REFINERY merge --out $(printf '%q' "$out")${parts}")
echo "array ${array} merge ${merge}"
