#!/usr/bin/env bash
# A one-node Slurm on this machine for the tests of jobs/ (tests/slurm/): starts munged, slurmctld
# and slurmd from a slurm.conf generated in DIR (one node with this machine's CPUs, cons_tres,
# proctrack/linuxproc, no accounting) and stops them again. It installs nothing: scripts/setup
# installs the Debian packages (slurmctld, slurmd, slurm-client, munge).
#
#   tests/slurm/local_slurm.sh check        exit 0 when it can run here, else print why and exit 1
#   tests/slurm/local_slurm.sh start DIR    start the daemons; their files live in DIR; prints
#                                           SLURM_CONF=DIR/slurm.conf for the slurm commands
#   tests/slurm/local_slurm.sh stop DIR     stop the daemons started in DIR
#
# The daemons run as root (Slurm's daemons and the jobs' user): the tests run as root only.
set -euo pipefail

why_not() {
  if [ "$(id -u)" -ne 0 ]; then echo "a local Slurm needs root (slurmd starts jobs as their user)"; return; fi
  local tool
  for tool in munged mungekey slurmctld slurmd sbatch srun scontrol squeue sinfo; do
    if ! PATH="$PATH:/usr/sbin" command -v "$tool" >/dev/null; then
      echo "$tool is missing: install Debian's slurmctld, slurmd, slurm-client and munge (scripts/setup does)"
      return
    fi
  done
}

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 20000))
    if ! ss -ltn | awk '{print $4}' | grep -q ":$port\$"; then echo "$port"; return; fi
  done
  echo "local_slurm.sh: no free TCP port found" >&2
  exit 1
}

stop() {
  local dir="$1" pidfile pid
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    case "$pid" in '' | *[!0-9]*) continue ;; esac
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

start() {
  local dir="$1"
  local reason
  reason="$(why_not)"
  if [ -n "$reason" ]; then
    echo "local_slurm.sh: $reason" >&2
    exit 1
  fi
  mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
  dir="$(cd "$dir" && pwd)"
  stop "$dir"
  chmod 0700 "$dir/munge"
  [ -f "$dir/munge/munge.key" ] || /usr/sbin/mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null
  chmod 0600 "$dir/munge/munge.key"
  /usr/sbin/munged --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed"

  local host cpus memory ctld_port d_port
  host="$(hostname -s)"
  cpus="$(nproc)"
  memory="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
  ctld_port="$(free_port)"
  d_port="$(free_port)"
  cat >"$dir/slurm.conf" <<EOF
ClusterName=rctune-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobRequeue=1
KillWait=30
MinJobAge=600
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1,nohold_on_prolog_fail
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
  export SLURM_CONF="$dir/slurm.conf"
  /usr/sbin/slurmctld -i
  /usr/sbin/slurmd
  # The node registers within seconds; wait until it takes jobs.
  local state=""
  for _ in $(seq 1 60); do
    state="$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)"
    case "$state" in idle | mix | alloc) echo "SLURM_CONF=$SLURM_CONF"; return ;; esac
    sleep 0.5
  done
  echo "local_slurm.sh: the node did not become idle (state '$state'); see $dir/slurmctld.log and $dir/slurmd.log" >&2
  stop "$dir"
  exit 1
}

case "${1:-}" in
  check)
    reason="$(why_not)"
    if [ -n "$reason" ]; then
      echo "$reason"
      exit 1
    fi
    ;;
  start) start "${2:?usage: local_slurm.sh start DIR}" ;;
  stop) stop "${2:?usage: local_slurm.sh stop DIR}" ;;
  *)
    echo "usage: local_slurm.sh check | start DIR | stop DIR" >&2
    exit 2
    ;;
esac
