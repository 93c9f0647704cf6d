// The MPI environment of a run: whether the process was started by an MPI launcher, MPI's
// initialisation and finalisation, and where each rank sits (its task group, its node).
//
// Threading model (docs/dist.md): MPI is initialised with MPI_THREAD_FUNNELED. On rank 0 the main
// thread runs the hub (dist/hub.h) and is the only thread that calls MPI; rank 0's own search runs
// on a second thread and talks to the hub through an in-process mailbox; rank 0's LLM requests go
// out on a third thread (libcurl), which never calls MPI. Every other rank is single-threaded.
#pragma once

#include <string>

namespace rctune::dist {

// True when an MPI launcher (mpirun, mpiexec, srun with PMI/PMIx) started this process.
bool launched_by_mpi();

// Why this process cannot tune with the other processes of its Slurm job step, or "" when it can
// (or is not a task of an srun step). srun tells each task the step's task count
// (SLURM_STEP_NUM_TASKS); tasks that do not form one MPI job of at least that many ranks (srun
// without a PMI plugin: MpiDefault=none and no --mpi=pmix) would each run alone on the same trace.
// `mpi_world_size`: MPI_COMM_WORLD's size, 0 when MPI was not started.
std::string slurm_launch_problem(int mpi_world_size);
// This process's task number in its srun step (SLURM_PROCID), 0 outside one.
int slurm_task_rank();

// MPI_Init_thread on construction (FUNNELED), MPI_Finalize on destruction. One per process.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  // Ends every rank of the job with `code` (MPI_Abort); never returns.
  [[noreturn]] static void abort(int code);

 private:
  int rank_ = 0;
  int size_ = 1;
};

// Where a rank sits.
struct Layout {
  int rank = 0, size = 1;
  int group = 0, group_size = 1, group_rank = 0;  // task group: ranks [group*G, group*G + group_size)
  int groups = 1;
  int node_rank = 0, node_size = 1;  // among the ranks on the same node (MPI_Comm_split_type shared)
  std::string host;
};

// The layout for groups of `group_size` ranks (0: all ranks in one group; the last group takes the
// remainder). Collective: every rank calls it.
Layout make_layout(int group_size);

// The core a rank's measurement worker is pinned to: the node's usable cores from the highest
// down, one per rank of the node (wrapping around when there are more ranks than cores).
// -1 when the affinity cannot be read.
int node_pin_core(int node_rank);

}  // namespace rctune::dist
