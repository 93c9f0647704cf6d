// Rank 0's coordinator of a many-rank run (docs/dist.md). It runs on rank 0's main thread, the only
// thread of rank 0 that calls MPI, and:
//  - has the first rank of free groups measure the tasks' baselines, then hands each free group
//    the run's task scheduler's next round (search/task_scheduler.h), split among the group's
//    ranks; each round's result goes back to the scheduler and is a row of /allocations;
//  - is the only writer of the trace: records arrive from every rank as they are made and are
//    committed at once (renumbered in arrival order), so a killed job keeps every sample received;
//  - answers a group's synchronisation when every rank of the group asked for it (or finished its
//    share): each gets the results its peers measured since its last one and the sums of their root
//    statistics, so the answers do not depend on timing;
//  - merges the group's trees when a round ends (dist/tree_merge.h) and writes the merged tree;
//  - batches the LLM requests of all ranks (llm/request_batcher.h) on a thread of its own: identical
//    prompts are sent once with n completions;
//  - prints progress, and on a failed rank or a signal, what every rank was doing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rctune/config/tune_config.h"
#include "rctune/dist/mailbox.h"
#include "rctune/llm/llm_proposer.h"
#include "rctune/llm/request_batcher.h"
#include "rctune/runlog/writer.h"

namespace rctune::dist {

struct HubSetup {
  const config::TuneConfig* cfg = nullptr;
  runlog::RunWriter* writer = nullptr;
  int world_size = 1;
  int group_size = 1;  // ranks per group (the last group may be smaller)
  bool quiet = false;
  bool simulate = false;
  double wall_offset = 0;              // seconds of the run before this session (resume)
  std::optional<llm::LlmOptions> llm;  // proposer llm: the endpoints rank 0 talks to
  std::string database;                // the tuning database the tasks start from ("": none)
};

// One task's result over all its rounds, for the summary table.
struct TaskSummary {
  std::string task;
  int64_t samples = 0, failures = 0, illegal = 0;  // in the file (all sessions)
  bool found = false;
  runlog::BestSchedule best;
  double reference_gflops = 0, library_gflops = 0;
  std::string library;
  int ranks = 0;                               // ranks that measured samples of it in this session
  search::ProposerFailures proposer_failures;  // what the proposers of its ranks dropped (this session)
};

struct HubResult {
  std::vector<TaskSummary> tasks;        // heaviest first (dist::task_order)
  std::vector<runlog::RankStats> ranks;  // by rank
  llm::BatchStats llm;
  double merge_s = 0;  // merging trees and synchronisation news at the hub
};

// Runs until every rank has finished. Messages of rank 0's own member arrive on `from_local`; its
// replies go to `to_local`. Throws std::runtime_error when a rank failed (naming it and what it was
// doing) or the trace cannot be written; the caller ends the job.
HubResult run_hub(const HubSetup& setup, MessageQueue& from_local, MessageQueue& to_local);

// Rank 0 stopped at once (SIGINT, or a second SIGTERM or SIGUSR1: dist/stop_signals.h): says what
// every rank was doing (as the running hub last heard) and where the trace is, on stderr and in the
// file TRACE.stopped.txt, and ends the process (every committed sample is on disk).
void hub_stopped_at_once(int signal);
// Rank 0 asked to stop after the measurements in flight (the first SIGTERM or SIGUSR1) writes the
// same report at once: mpirun's SIGTERM after a rank died is followed by SIGKILL before the ranks
// could finish.
void hub_stopping(int signal);
inline constexpr const char* kStoppedSuffix = ".stopped.txt";

}  // namespace rctune::dist
