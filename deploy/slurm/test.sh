#!/bin/bash
# A real one-node Slurm (Debian's slurmctld, slurmd, munge) started in a temporary folder, running
# deploy/slurm/submit.sh: a 4-task array of `refine --shard auto` and its merge, compared byte for
# byte with one unsharded run. Needs root (slurmd) and the packages
#   apt-get install slurmctld slurmd slurm-client munge
# Usage: deploy/slurm/test.sh RUN_FOLDER [refine options]; prints one line, exit 0 when equal.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
run_folder="$1"
shift
refine_opts=("$@")
for bin in munged slurmctld slurmd sbatch sinfo squeue; do
  command -v "$bin" >/dev/null || { echo "slurm test: expected $bin (apt-get install slurmctld slurmd slurm-client munge), received none" >&2; exit 3; }
done
[[ "$(id -u)" == 0 ]] || { echo "slurm test: expected root (slurmd starts jobs as their users), received uid $(id -u)" >&2; exit 3; }

dir="$(mktemp -d /tmp/refinery-slurm.XXXXXX)"
chmod 755 "$dir"
mkdir -p "$dir/state" "$dir/spool" "$dir/munge" "$dir/out"
chmod 711 "$dir/munge"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${KEEP:-0}" != 1 ]]; then rm -rf "$dir"; fi
}
trap cleanup EXIT

# munge: its own key and socket.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
munged --force --foreground --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" >"$dir/munged.stdout" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [[ -S "$dir/munge/munge.socket" ]] && break; sleep 0.1; done

node_name="$(hostname -s)"
cpus="$(nproc)"
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
port=$(( 20000 + RANDOM % 20000 ))
cat > "$dir/slurm.conf" <<CONF
ClusterName=refinery-test
SlurmctldHost=${node_name}
SlurmctldPort=${port}
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${dir}/munge/munge.socket
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd.log
NodeName=${node_name} CPUs=${cpus} RealMemory=${mem_mb} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" >"$dir/slurmctld.stdout" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$node_name" >"$dir/slurmd.stdout" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
  state="$(sinfo -h -o %T 2>/dev/null || true)"
  [[ "$state" == idle* ]] && break
  sleep 0.2
done
if [[ "$state" != idle* ]]; then
  echo "slurm test: expected an idle node, received '${state}'" >&2
  tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
  exit 1
fi

export REFINERY="node ${repo}/dist/cli/main.js"
ids="$(cd "$dir" && "$repo/deploy/slurm/submit.sh" 4 --cpus-per-task=1 -- --run "$run_folder" "${refine_opts[@]}" --out "$dir/out/samples.npy")"
merge_id="${ids##* }"
# Wait for the array and the merge to leave the queue.
for _ in $(seq 1500); do
  [[ -z "$(squeue -h -o %i 2>/dev/null)" ]] && break
  sleep 0.2
done
if [[ ! -f "$dir/out/samples.npy" ]]; then
  echo "slurm test: expected the merged $dir/out/samples.npy, received none (jobs: $ids)" >&2
  tail -n 20 "$dir"/refinery-*.out "$dir"/slurm-*.out "$dir/slurmctld.log" >&2 || true
  exit 1
fi
$REFINERY refine --run "$run_folder" "${refine_opts[@]}" --out "$dir/single.npy" --quiet >/dev/null
a="$(sha256sum < "$dir/out/samples.npy" | cut -d' ' -f1)"
b="$(sha256sum < "$dir/single.npy" | cut -d' ' -f1)"
tasks="$(ls "$dir"/out/samples.shard-*-of-4.npy | wc -l)"
if [[ "$a" != "$b" ]]; then
  echo "slurm test: expected the merged file to equal one run (sha256 $b), received sha256 $a" >&2
  exit 1
fi
echo "slurm: ${tasks}-task array (jobs ${ids}) merged by job ${merge_id} = one run, sha256 ${a}"
