// Proposers: who suggests the next transformations of a search-tree node. One interface for the
// built-in heuristic reasoner, uniform random actions, and a large language model (llm/llm_proposer.h).
//
// A proposer reads what the LLM of the Reasoning Compiler paper reads — the node's program and
// trace, its measured and predicted performance, the same for its ancestors, the best so far, the
// proposals that failed in this subtree and the hardware — and returns actions (search/action.h),
// each with a one-line rationale. Proposers need not check legality: the search applies every
// action and records an illegal one with its error (it costs no sample) and shows it to the
// proposer in later inputs for that subtree.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rctune/schedule/state.h"
#include "rctune/search/candidate.h"
#include "rctune/search/features.h"
#include "rctune/search/proposer_failures.h"
#include "rctune/search/random.h"

namespace rctune::search {

class DesignSpace;

// One program of the history a proposer sees.
struct ProgramView {
  std::string program;      // the lowered program as pseudo-code (ir::to_string of the lowered nest)
  std::string trace;        // its schedule trace, steps numbered as actions refer to them
  double gflops = kNaN;     // measured (NaN: not measured, or failed)
  double speedup = kNaN;    // measured, over the unscheduled kernel
  double predicted = kNaN;  // cost-model score
  std::string status;       // "" if not measured, else "ok", "wrong_result", ...
};

struct FailedProposal {
  std::string action;  // the edit script
  std::string error;   // why it was rejected or failed
};

// What the proposer knows about the machine the kernel will run on.
struct HardwareDescription {
  HardwareInfo info;            // caches, vector width, cores
  std::string cpu_model;        // "AMD EPYC 9R14 ..." ("" if unknown)
  std::string execution_space;  // Kokkos execution space: "Serial", "OpenMP", "Cuda", ...
  std::string text() const;     // a few lines for a prompt
};
// The host's description (cpu model from /proc/cpuinfo, execution space "Serial" unless given).
HardwareDescription host_hardware_description(const std::string& execution_space = "Serial");

struct ProposerInput {
  schedule::State state;               // the node's state
  std::vector<ProgramView> history;    // [0] the node, [1] its parent, [2] grandparent, ... (history depth)
  std::optional<ProgramView> best;     // best measured program of the task so far
  std::vector<FailedProposal> failed;  // recent failed proposals in this subtree, newest last
  HardwareDescription hardware;
  int count = 2;      // proposals wanted (the tree's branching factor)
  int64_t node = -1;  // tree node id (for caches keyed by node)
  int depth = 0;      // the node's depth in the tree (root 0)
};

struct Proposal {
  std::string action;     // edit script (search/action.h)
  std::string rationale;  // one line
};

class Proposer {
 public:
  virtual ~Proposer() = default;
  virtual std::string name() const = 0;  // "heuristic", "random", "llm"
  // Up to in.count proposals, most promising first; fewer (or none) when it has nothing to say.
  // Must not throw for a state it does not understand: it returns fewer proposals, and counts
  // why in failures().
  virtual std::vector<Proposal> propose(const ProposerInput& in, Rng& rng) = 0;
  // What its propose() calls dropped so far, by cause.
  const ProposerFailures& failures() const { return failures_; }

 protected:
  ProposerFailures failures_;
};

// The built-in reasoner (docs/search.md): reads the nest and the hardware and proposes ranked,
// diverse action sequences with their rationale. `space` (may be null) gives it the design
// space's mutations as a last resort.
std::unique_ptr<Proposer> make_heuristic_proposer(const DesignSpace* space = nullptr);
// Uniform over legal actions: a parameter mutation or one structural primitive with random
// arguments, checked by applying it.
std::unique_ptr<Proposer> make_random_proposer(const DesignSpace* space = nullptr);

}  // namespace rctune::search
