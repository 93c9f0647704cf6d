# shellcheck shell=bash
# shellcheck disable=SC2154  # job_name: set by the script that sources this file
# Shared by jobs/tune.sbatch and jobs/zoo.sbatch (sourced, not run): finds rctune, runs one tuning
# step with srun and requeues the job when the ranks stopped before its time limit.

# The rctune executable: RCTUNE_BIN, else build/bin/rctune in the submit directory, else PATH.
find_rctune() {
  local bin="${RCTUNE_BIN:-}"
  if [ -z "$bin" ]; then
    if [ -x build/bin/rctune ]; then bin="$PWD/build/bin/rctune"; else bin="$(command -v rctune || true)"; fi
  fi
  if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "$job_name: no rctune executable (build it with scripts/build, or set RCTUNE_BIN)" >&2
    exit 2
  fi
  echo "$bin"
}

# The kernel cache: node-local disk (compiled kernels are per node and many; the trace is not).
kernel_cache() { echo "${RCTUNE_CACHE_DIR:-${TMPDIR:-/tmp}/rctune-cache-$(id -u)}"; }

# Runs `rctune ARGS...` on the job's ranks (srun --mpi=$RCTUNE_MPI, default pmix) and exits with its
# status; 138 (128 + SIGUSR1: --signal before the time limit) requeues the job instead, which runs
# the same command again and continues the trace (--resume-or-start).
tune_step() {
  local rctune="$1"
  shift
  echo "$job_name: job ${SLURM_JOB_ID:-?} (restart ${SLURM_RESTART_COUNT:-0}) on ${SLURM_JOB_NODELIST:-?}, ${SLURM_NTASKS:-?} ranks: $rctune $*"
  srun --mpi="${RCTUNE_MPI:-pmix}" --kill-on-bad-exit=1 "$rctune" "$@"
  local rc=$?
  if [ "$rc" -eq 138 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
    local job="$SLURM_JOB_ID"
    [ -n "${SLURM_ARRAY_JOB_ID:-}" ] && job="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
    echo "$job_name: stopped before the time limit; requeueing job $job to continue the trace"
    scontrol requeue "$job" && exit 0
    echo "$job_name: the requeue failed; submit the job again to continue the trace" >&2
  fi
  exit "$rc"
}
