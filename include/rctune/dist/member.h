// A rank's part of a many-rank run: it asks the hub (rank 0, dist/hub.h) for the next task of its
// group, tunes its share of the task's budget with its own seed (root-parallel MCTS), sends every
// record to the hub as it is made, shares root statistics and results with its group every
// `dist.sync_every` samples, and sends its final tree when its share is done. LLM requests go
// to the hub too (heuristic and random proposers run here, with no traffic).
#pragma once

#include <optional>
#include <string>

#include "rctune/config/tune_config.h"
#include "rctune/dist/mailbox.h"
#include "rctune/dist/mpi_env.h"
#include "rctune/llm/llm_proposer.h"
#include "rctune/runlog/runlog.h"

namespace rctune::dist {

struct MemberSetup {
  const config::TuneConfig* cfg = nullptr;
  Layout layout;
  bool simulate = false;
  std::optional<llm::LlmOptions> llm;  // proposer llm: the models (requests go to the hub)
  int pin_core = -1;                   // core of this rank's measurement worker
  std::string run_lock;                // node-local measurement lock ("" : none)
  std::string database;                // the tuning database the rank's cost model starts from ("": none)
};

// Runs tasks until the hub has none left; returns this rank's statistics (also sent to the hub).
// Throws on a failure of this rank (the caller reports it to the hub).
runlog::RankStats run_member(Mailbox& hub, const MemberSetup& setup);

// What a member is doing, for the message that names a failed rank ("tuning matmul_512 (sample 14)").
std::string member_activity();

}  // namespace rctune::dist
