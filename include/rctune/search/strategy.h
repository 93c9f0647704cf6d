// Search strategies behind one ask/tell interface: a strategy proposes a batch of candidates to
// measure (next_batch), the tuner measures them and tells it the results (tell). MCTS
// (search/mcts.h), evolutionary search and random search (search/evolutionary.h,
// search/random_search.h) all share the measurement pipeline, the cost model and the trace format
// through it.
//
// Contract:
//  - next_batch returns candidates whose structural hash the strategy has not handed out before
//    (equal programs are measured once per task); it may return fewer than asked, and an empty
//    batch only when the space is exhausted.
//  - Proposals that turned out illegal go to rejected(): they cost no sample but are recorded.
//  - Decisions depend only on the seed, the measurements told and the proposers' answers, so a
//    run with the same seed and the same (cached) measurements makes the same decisions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rctune/search/candidate.h"
#include "rctune/search/design_space.h"
#include "rctune/search/predictor.h"
#include "rctune/search/proposer.h"
#include "rctune/search/random.h"
#include "rctune/runlog/runlog.h"

namespace rctune::search {

// A proposal the search rejected: it did not apply, or did not lower.
struct RejectedProposal {
  std::string proposer;
  std::string rationale;
  std::string action;
  std::string parent_trace;
  int64_t parent_node = -1;
  std::string error;
};

// Statistics of one child of the root (root-parallel search, dist/): its program's structural hash,
// and the visits and accumulated value of its subtree. The root itself is the entry whose hash is the
// unscheduled program's.
struct RootStatistic {
  uint64_t hash = 0;
  int64_t visits = 0;
  double value = 0;
};

// What every strategy of one task works with. Pointers are owned by the caller and outlive the
// strategy.
struct SearchContext {
  std::shared_ptr<const ir::Workload> workload;
  const DesignSpace* space = nullptr;
  Predictor* predictor = nullptr;
  Proposer* proposer = nullptr;  // MCTS only
  HardwareDescription hardware;
  uint64_t seed = 1;
  double reference_gflops = 0;  // the unscheduled kernel (0: unknown)
};

class SearchStrategy {
 public:
  virtual ~SearchStrategy() = default;
  virtual std::string name() const = 0;  // "mcts", "evolutionary", "random"
  // Up to n new candidates to measure.
  virtual std::vector<Candidate> next_batch(int n) = 0;
  // The measurements of the candidates of the last batch, in order.
  virtual void tell(const std::vector<Candidate>& batch, const std::vector<MeasureResult>& results) = 0;
  // Illegal proposals since the last call (the tuner records them).
  virtual std::vector<RejectedProposal> take_rejected() { return {}; }
  // The search tree for the trace file (empty for strategies without one).
  virtual std::vector<runlog::TreeNode> tree() const { return {}; }

  // Root-parallel search (dist/): what other ranks of the group measured (or a previous session
  // recorded). A strategy never hands out a program it has been told about; MCTS marks the node
  // measured (or keeps the result for when it reaches the program) and puts the best program as a
  // child of its root. Costs no sample.
  virtual void observe(const std::vector<Candidate>& /*programs*/,
                       const std::vector<MeasureResult>& /*results*/) {}
  // Statistics of the root and its children grown by this strategy itself (not those of peers).
  virtual std::vector<RootStatistic> root_statistics() const { return {}; }
  // The sums of the other ranks' root statistics: selection uses own + peers' visits and values.
  virtual void set_peer_statistics(const std::vector<RootStatistic>& /*peers*/) {}
  // The programs the next next_batch(n) would most likely hand out (grows the tree as next_batch
  // would; hands nothing out). Announced to the group so that ranks do not measure the same.
  virtual std::vector<uint64_t> likely_picks(int /*n*/) { return {}; }
  // Programs other ranks announced they will measure: not handed out by this strategy (their
  // results come later through observe()).
  virtual void set_claimed(const std::vector<uint64_t>& /*hashes*/) {}
};

}  // namespace rctune::search
