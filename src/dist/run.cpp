// A tuning run over the ranks of an MPI job (include/rctune/dist/run.h).
#include "rctune/dist/run.h"

#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "rctune/dist/codec.h"
#include "rctune/dist/member.h"
#include "rctune/llm/config.h"
#include "rctune/runtime/measurer.h"

namespace rctune::dist {

namespace {

std::string failure_body(const std::exception& e) {
  return dump({{"activity", member_activity()}, {"error", e.what()}});
}

// The node-local lock file of dist.exclusive_measurement, the same for every rank of the job.
std::string run_lock_path(const config::TuneConfig& cfg, bool simulate) {
  uint64_t id = 0;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0)
    id = static_cast<uint64_t>(getpid()) << 32 ^
         static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  MPI_Bcast(&id, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  if (!cfg.dist.exclusive_measurement || simulate) return "";
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/rctune-measure-" + std::to_string(id) + ".lock";
}

}  // namespace

std::string broadcast_string(const std::string& s) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  uint64_t n = s.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  std::string out = rank == 0 ? s : std::string(n, '\0');
  MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  return out;
}

bool all_ranks_ready(bool ready) {
  int mine = ready ? 1 : 0, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all == 1;
}

HubResult run_distributed(const DistRun& run, const Layout& layout) {
  const config::TuneConfig& cfg = *run.cfg;
  MemberSetup ms;
  ms.cfg = &cfg;
  ms.layout = layout;
  ms.simulate = run.simulate;
  ms.run_lock = run_lock_path(cfg, run.simulate);
  const int configured = runtime::parse_pin_core(cfg.measure.pin_core);
  ms.pin_core = cfg.measure.pin_core == "auto" ? node_pin_core(layout.node_rank) : configured;
  ms.llm = run.llm;
  ms.database = run.database;

  if (layout.rank != 0) {
    MpiMailbox mailbox;
    try {
      run_member(mailbox, ms);
    } catch (const std::exception& e) {
      mailbox.send({MessageType::Failed, layout.rank, failure_body(e)});
      // Rank 0 names this rank and ends the job; wait for it.
      std::this_thread::sleep_for(std::chrono::seconds(120));
      MpiSession::abort(1);
    }
    return {};
  }

  HubSetup hs;
  hs.cfg = &cfg;
  hs.writer = run.writer;
  hs.world_size = layout.size;
  hs.group_size =
      cfg.dist.group_size <= 0 || cfg.dist.group_size > layout.size ? layout.size : cfg.dist.group_size;
  hs.quiet = run.quiet;
  hs.simulate = run.simulate;
  hs.wall_offset = run.wall_offset;
  hs.llm = ms.llm;
  hs.database = run.database;

  MessageQueue to_hub, to_member;
  std::thread member([&] {
    LocalMailbox mailbox(to_hub, to_member);
    try {
      run_member(mailbox, ms);
    } catch (const std::exception& e) {
      mailbox.send({MessageType::Failed, 0, failure_body(e)});
    }
  });
  std::signal(SIGINT, hub_signal_handler);
  std::signal(SIGTERM, hub_signal_handler);
  HubResult result;
  try {
    result = run_hub(hs, to_hub, to_member);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rctune: error: %s\n", e.what());
    std::fflush(stderr);
    MpiSession::abort(2);
  }
  member.join();
  result.ranks[0].merge_s += result.merge_s;
  return result;
}

}  // namespace rctune::dist
