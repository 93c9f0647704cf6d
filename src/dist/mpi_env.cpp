// MPI initialisation and the rank layout (include/rctune/dist/mpi_env.h).
#include "rctune/dist/mpi_env.h"

#include <mpi.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace rctune::dist {

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

namespace {

// A non-negative integer environment variable, or -1 when it is unset or not one.
long env_count(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return *end == '\0' && n >= 0 ? n : -1;
}

}  // namespace

std::string slurm_launch_problem(int mpi_world_size) {
  const long tasks = env_count("SLURM_STEP_NUM_TASKS");
  if (tasks <= 1 || mpi_world_size >= tasks) return "";
  const std::string started = "srun started " + std::to_string(tasks) + " tasks";
  const std::string hint =
      ": each would tune alone and write the same trace. Launch through an MPI plugin: srun --mpi=pmix "
      "(see `srun --mpi=list`; a site may set MpiDefault=pmix), or mpirun inside the allocation";
  if (mpi_world_size <= 0)
    return started + " but no MPI job: srun gave them no PMI (the cluster's MpiDefault is none?)" + hint;
  return started + " but MPI sees " + std::to_string(mpi_world_size) + " rank" +
         (mpi_world_size == 1 ? "" : "s") + " in this process's job" + hint;
}

int slurm_task_rank() {
  const long r = env_count("SLURM_PROCID");
  return r < 0 ? 0 : static_cast<int>(r);
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
    throw std::runtime_error("MPI_Init_thread failed");
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    throw std::runtime_error("the MPI library does not support MPI_THREAD_FUNNELED, which rctune needs");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiSession::~MpiSession() { MPI_Finalize(); }

void MpiSession::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

Layout make_layout(int group_size) {
  Layout l;
  MPI_Comm_rank(MPI_COMM_WORLD, &l.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &l.size);
  const int g = group_size <= 0 || group_size > l.size ? l.size : group_size;
  l.groups = (l.size + g - 1) / g;
  l.group = l.rank / g;
  l.group_rank = l.rank % g;
  l.group_size = std::min(g, l.size - l.group * g);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, l.rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &l.node_rank);
  MPI_Comm_size(node, &l.node_size);
  MPI_Comm_free(&node);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  l.host = host;
  return l;
}

int node_pin_core(int node_rank) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  std::vector<int> cores;
  for (int c = CPU_SETSIZE - 1; c >= 0; --c)
    if (CPU_ISSET(c, &set)) cores.push_back(c);
  if (cores.empty()) return -1;
  return cores[static_cast<size_t>(node_rank) % cores.size()];
}

}  // namespace rctune::dist
