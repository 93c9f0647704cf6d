// Private helpers of the proposers (src/search only): what a schedule state looks like to a
// reasoner. Per stage: its current loops with extents, kinds and the root axes they iterate over,
// its reduction, the accesses of its body (which axes index which tensor, and which axis is the
// contiguous one), where it is placed and what is placed at its loops. Steps of traces kept as text
// (records of other programs), read as typed steps. And the evaluation of a candidate action:
// applied, lowered, hashed and scored with the analytic cost model, or the reason it is illegal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rctune/ir/stmt.h"
#include "rctune/ir/workload.h"
#include "rctune/schedule/state.h"
#include "rctune/search/design_space.h"
#include "rctune/search/features.h"

namespace rctune::search::nest {

struct LoopInfo {
  std::string name;
  int64_t extent = 1;  // as seen at the top level (State::loop_extent)
  bool reduce = false;
  ir::ForKind kind = ir::ForKind::Serial;
  ir::BindLevel bind = ir::BindLevel::None;
  std::set<std::string> roots;  // root axes this loop iterates over (through splits and fuses)
  bool annotated() const { return kind != ir::ForKind::Serial || bind != ir::BindLevel::None; }
};

// One read of the stage's body: the index variables of each index expression.
struct Access {
  std::string tensor;
  std::vector<std::set<std::string>> index_vars;
  bool depends_on(const std::string& axis) const;
  // The axis occurs in the last index: consecutive values of it are (near) consecutive in memory.
  bool contiguous_in(const std::string& axis) const;
};

struct StageInfo {
  std::string name;
  const schedule::StageSchedule* sched = nullptr;
  const ir::Stage* stage = nullptr;  // the workload stage (of the state's current workload)
  std::vector<LoopInfo> leaves;      // current loops, outermost first
  std::vector<Access> reads;
  std::vector<std::string> placed_here;  // stages placed (compute_at / reverse_compute_at) at its loops
  int elem_bytes = 4;
  bool is_output = false;
  bool has_reduction() const { return stage && !stage->reduce_axes.empty(); }
  bool at_root() const { return sched->attach.kind == schedule::Attach::Kind::Root; }
  bool has_parallel() const;
  // No split, fuse, reorder, annotation, placement or decompose_reduction.
  bool unscheduled() const;
  const LoopInfo* leaf(const std::string& name) const;
  int64_t axis_extent(const std::string& axis) const;  // root axis extent (0 if unknown)
  // The output's last axis (contiguous in the output), "" when the stage has no axes.
  std::string contiguous_axis() const;
};

struct NestAnalysis {
  std::vector<StageInfo> stages;  // in state order (producers first)
  const StageInfo* find(const std::string& name) const;
  // The stage whose loop nest contains `name` at the top level (following placements).
  std::string root_of(const std::string& name) const;
};

NestAnalysis analyse(const schedule::State& s);

// One step written as text (a line of a trace from a record), typed; nullopt when it does not parse.
std::optional<schedule::Step> parse_step(const std::string& text);
// The canonical text of a step ("" when it does not parse).
std::string canonical_step(const std::string& text);
// A trace given as text (optionally numbered "3: ...", comments allowed) as canonical steps.
std::vector<std::string> trace_steps(const std::string& text);

struct Evaluation {
  bool legal = false;
  std::string error;
  schedule::State state;
  uint64_t hash = 0;
  double score = 0;  // analytic_score of the lowered program
  // Bytes of the largest local-scope buffer (a register tile or an rfactor accumulator), 0 if none.
  int64_t max_local_bytes = 0;
};
Evaluation evaluate_state(const schedule::State& s, const HardwareInfo& hw);

// Vector lanes of an element size on this hardware (at least 1).
int lanes_for(const HardwareInfo& hw, int elem_bytes);

}  // namespace rctune::search::nest
