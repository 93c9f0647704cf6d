// A tuning run over the ranks of an MPI job (include/rctune/dist/run.h).
#include "rctune/dist/run.h"

#include <mpi.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "rctune/dist/codec.h"
#include "rctune/dist/member.h"
#include "rctune/dist/stop_signals.h"
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

// Ranks of one node that measure on one core disturb each other's timings (a node with fewer
// cores than ranks, or a pin_core that every rank shares). Every rank takes part; rank 0 says so,
// naming the ranks and what to do, unless dist.exclusive_measurement takes turns already.
void warn_shared_measurement_cores(const Layout& layout, int pin_core, bool exclusive) {
  struct Entry {
    char host[64];
    int core;
  };
  Entry mine{};
  std::snprintf(mine.host, sizeof mine.host, "%s", layout.host.c_str());
  mine.core = pin_core;
  std::vector<Entry> all(layout.rank == 0 ? static_cast<size_t>(layout.size) : 0);
  MPI_Gather(&mine, sizeof(Entry), MPI_BYTE, all.data(), sizeof(Entry), MPI_BYTE, 0, MPI_COMM_WORLD);
  if (layout.rank != 0 || exclusive) return;
  std::map<std::pair<std::string, int>, std::vector<int>> ranks_of;
  for (int r = 0; r < layout.size; ++r)
    if (all[r].core >= 0)
      ranks_of[{std::string(all[r].host, strnlen(all[r].host, sizeof all[r].host)), all[r].core}].push_back(
          r);
  for (const auto& [where, ranks] : ranks_of) {
    if (ranks.size() < 2) continue;
    std::string list;
    for (int r : ranks) list += (list.empty() ? "" : ", ") + std::to_string(r);
    spdlog::warn(
        "ranks {} on node {} measure on the same core {}, so their timings disturb each other: give each "
        "rank a core of its own (srun --cpus-per-task, mpirun --bind-to core) or set "
        "dist.exclusive_measurement: true (one measurement at a time on the node)",
        list, where.first, where.second);
  }
}

// A rank other than 0 stopped at once: rank 0 reports for the run.
extern "C" void member_stopped_at_once(int signal) { std::_Exit(stopped_exit_code(signal)); }

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
  warn_shared_measurement_cores(layout, ms.pin_core, cfg.dist.exclusive_measurement || run.simulate);
  ms.llm = run.llm;
  ms.database = run.database;

  if (layout.rank != 0) {
    install_stop_signals(member_stopped_at_once, "");  // rank 0 speaks for the run
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
  install_stop_signals(hub_stopped_at_once, kStopNotice, hub_stopping);
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
