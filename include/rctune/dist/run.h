// A tuning run spread over the ranks of an MPI job (docs/dist.md): rank 0 runs the hub
// (dist/hub.h) on its main thread and its own member (dist/member.h) on a second thread; every
// other rank runs a member. Ranks on one node pin their workers to distinct cores and, with
// dist.exclusive_measurement, run kernels one at a time.
#pragma once

#include <optional>

#include "rctune/config/tune_config.h"
#include "rctune/dist/hub.h"
#include "rctune/dist/mpi_env.h"
#include "rctune/llm/llm_proposer.h"
#include "rctune/runlog/writer.h"

namespace rctune::dist {

struct DistRun {
  const config::TuneConfig* cfg = nullptr;  // resolved, the same on every rank
  bool simulate = false;
  bool quiet = false;
  runlog::RunWriter* writer = nullptr;  // rank 0 only
  double wall_offset = 0;               // rank 0: seconds of the run before this session
  std::optional<llm::LlmOptions> llm;   // proposer llm: the models (checked before the ranks start)
  std::string database;                 // the tuning database tasks and cost models start from ("": none)
};

// Collective. Rank 0 returns the hub's result (its own statistics include the hub's merge time);
// other ranks return an empty result. A failed rank, a signal or an unwritable trace end the whole
// job (MPI_Abort) after the reason is printed on rank 0.
HubResult run_distributed(const DistRun& run, const Layout& layout);

// Broadcasts a string from rank 0 (collective).
std::string broadcast_string(const std::string& s);

// True when every rank passes true (collective): ranks that prepared a run agree to start it.
bool all_ranks_ready(bool ready);

}  // namespace rctune::dist
