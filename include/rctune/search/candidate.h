// A candidate of the search: a schedule trace applied to a task's workload, lowered, with the
// structural hash that identifies equal programs reached by different traces. What strategies hand
// to an Evaluator, and what comes back.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "rctune/ir/stmt.h"
#include "rctune/runlog/fields.h"
#include "rctune/runlog/runlog.h"
#include "rctune/schedule/state.h"

namespace rctune::search {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Candidate {
  schedule::State state;                           // the scheduled state (its trace() is the schedule)
  std::shared_ptr<const ir::LoweredFunc> lowered;  // lower(state)
  uint64_t hash = 0;                               // structural hash of the lowered program
  std::string trace;  // schedule text, one step per line (to_text(state.trace()))
  // Provenance, for the trace file and the report.
  std::string proposer;   // "design_space", "heuristic", "random", "mutation", "crossover", ...
  std::string rationale;  // one line ("" if none)
  std::string action;     // the edit that produced it from its parent (search/action.h), "" if none
  int64_t node = -1;      // search-tree node (MCTS), -1 otherwise
  int64_t parent_node = -1;
  double predicted = kNaN;  // cost-model score when it was chosen
};

// Applies `trace_text` to the unscheduled workload and lowers it. Throws schedule::ScheduleError
// (illegal step, or a state that cannot be lowered) with the reason.
Candidate make_candidate(std::shared_ptr<const ir::Workload> workload, const std::string& trace_text);
// From a state already built (lowers it). Throws schedule::ScheduleError when it cannot be lowered.
Candidate make_candidate(const schedule::State& state);

// A measurement as strategies see it.
struct MeasureResult {
  runlog::SampleStatus status = runlog::SampleStatus::Ok;
  std::string error;  // "" when ok
  double median_s = kNaN, min_s = kNaN, max_s = kNaN, iqr_s = kNaN;
  double gflops = kNaN;  // NaN unless ok
  double compile_s = 0;
  bool cached = false;  // reused from an equal program measured before (no hardware time spent)
  int64_t sample = -1;  // index of the sample that recorded it in the trace (set by the tuner)
  bool ok() const { return status == runlog::SampleStatus::Ok; }
};

}  // namespace rctune::search

namespace rctune::runlog {

// The fields a sample record takes from its candidate (runlog::copy_matching_fields).
template <>
struct FieldList<search::Candidate> {
  using R = search::Candidate;
  static constexpr auto value = std::tuple{
      field("proposer", &R::proposer),       field("node", &R::node),
      field("parent_node", &R::parent_node), field("trace", &R::trace),
      field("rationale", &R::rationale),     field("structural_hash", &R::hash),
      field("predicted", &R::predicted),
  };
};

// The fields a sample record shares with its measurement; `index` is the sample's number.
template <>
struct FieldList<search::MeasureResult> {
  using R = search::MeasureResult;
  static constexpr auto value = std::tuple{
      field("index", &R::sample),        field("status", &R::status),     field("error", &R::error),
      field("cached", &R::cached),       field("median_s", &R::median_s), field("min_s", &R::min_s),
      field("max_s", &R::max_s),         field("iqr_s", &R::iqr_s),       field("gflops", &R::gflops),
      field("compile_s", &R::compile_s),
  };
};

}  // namespace rctune::runlog
