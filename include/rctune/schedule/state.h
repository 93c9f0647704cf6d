// A schedule state: a workload plus, for each of its stages, how that stage's loops were split,
// fused, ordered, annotated and placed. It follows the stage/iteration-variable model of TVM's
// tensor-expression schedules: a stage keeps its root axes (one per output dimension, then one per
// reduction axis) and the relations (split, fuse) that derive its current loops from them.
//
// States are values. Primitives (rctune/schedule/primitives.h) return new states; copying a state
// copies a few shared pointers, so a search tree can hold thousands of them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rctune/ir/stmt.h"
#include "rctune/ir/workload.h"
#include "rctune/schedule/step.h"

namespace rctune::schedule {

// One loop variable of a stage: a root axis or one created by split or fuse.
struct LoopVar {
  std::string name;     // unique within its stage: "i", "k", "i.0", "i.1", "i.0.j.0" (fused), ...
  bool reduce = false;  // iterates over a reduction axis (fully or in part)
  ir::ForKind kind = ir::ForKind::Serial;
  ir::BindLevel bind = ir::BindLevel::None;
  bool operator==(const LoopVar&) const = default;
};

// parent = sum_c children[c] * prod(factors[c+1..]). factors[0] is the outer extent, computed as
// ceil(parent_extent / prod(factors[1..])); when that product does not divide the parent extent
// the lowered loop nest guards the body with parent < parent_extent.
struct SplitRel {
  int parent = -1;                     // index into StageSchedule::loops
  std::vector<int> children;           // outermost first
  std::vector<int64_t> inner_factors;  // extents of children[1..], outermost first
  bool operator==(const SplitRel&) const = default;
};

// child = ((p0 * e1) + p1) * e2 + p2 ...   (row-major over the fused parents, outermost first)
struct FuseRel {
  std::vector<int> parents;  // adjacent in the leaf order at the time of fusing, outermost first
  int child = -1;
  bool operator==(const FuseRel&) const = default;
};

struct Relation {
  enum class Kind { Split, Fuse } kind = Kind::Split;
  SplitRel split;
  FuseRel fuse;
  bool operator==(const Relation&) const = default;
};

// Where a stage's loop nest is placed.
//  Root:      its own loop nest at the top level of the kernel, in workload stage order.
//  Inline:    not materialised; consumers evaluate its body in place (compute_inline).
//  At:        inside loop `loop` of stage `stage`, before that loop's body (compute_at; `stage` is
//             a consumer). Only the region the consumer needs in one iteration is computed.
//  ReverseAt: inside loop `loop` of stage `stage`, after that loop's body (reverse_compute_at;
//             `stage` is a producer). Only the region that iteration produced is consumed.
struct Attach {
  enum class Kind { Root, Inline, At, ReverseAt } kind = Kind::Root;
  std::string stage;
  std::string loop;
  bool operator==(const Attach&) const = default;
};

struct StageSchedule {
  std::string stage;                // == workload stage output name
  std::vector<LoopVar> loops;       // all loops ever created: root axes first (spatial, then reduce)
  std::vector<Relation> relations;  // in order of application
  std::vector<int> leaves;          // current loop order, outermost first (indices into loops)
  Attach attach;
  // decompose_reduction: the reduction's initialisation is placed just before this loop (a leaf
  // name). Empty: before the outermost leaf that iterates over a reduction axis.
  std::string init_before;
  // Scope of the stage's output buffer when it is an intermediate (cache_read/cache_write stages
  // and other non-output tensors). Outputs and inputs are always Global.
  ir::MemScope scope = ir::MemScope::Global;

  int find_loop(const std::string& name) const;  // index into loops, -1 if absent
  bool is_leaf(int loop) const;
  // Position of a loop in `leaves` (0 = outermost), -1 when it is not a leaf.
  int leaf_position(int loop) const;
  // Names of the leaves, outermost first.
  std::vector<std::string> leaf_names() const;
  bool operator==(const StageSchedule&) const = default;
};

class State {
 public:
  State() = default;
  explicit State(std::shared_ptr<const ir::Workload> w);  // the unscheduled program

  const ir::Workload& workload() const { return *workload_; }
  std::shared_ptr<const ir::Workload> workload_ptr() const { return workload_; }
  const std::vector<std::shared_ptr<const StageSchedule>>& stages() const { return stages_; }
  const StageSchedule* stage(const std::string& name) const;  // nullptr if absent
  // The applied steps (typed), oldest first. Built on first use from the steps' chain and kept.
  const std::vector<Step>& trace() const;
  size_t trace_size() const;
  // The workload this state was built from, before cache_read / cache_write added stages.
  // Replaying trace() on State(original_workload_ptr()) gives a state equal to this one.
  std::shared_ptr<const ir::Workload> original_workload_ptr() const { return original_; }

  // Extent of a loop of a stage as seen at the top level (root extents from the workload; stages
  // placed with compute_at get smaller root extents only when lowered).
  int64_t loop_extent(const std::string& stage, const std::string& loop) const;
  // Extents of all loops of a stage given the extents of its root axes.
  static std::vector<int64_t> loop_extents(const StageSchedule& s, const std::vector<int64_t>& root_extents);

  // Mutation for primitives: returns a state sharing everything but what changed.
  State with_stage(const StageSchedule& s) const;
  State with_workload(std::shared_ptr<const ir::Workload> w,
                      std::vector<std::shared_ptr<const StageSchedule>> stages) const;
  State with_step(Step step) const;

 private:
  std::shared_ptr<const ir::Workload> workload_;
  std::vector<std::shared_ptr<const StageSchedule>> stages_;  // same order as workload stages
  // The steps as a chain that states share: the last step points to the trace before it, so
  // with_step is O(1) and applying a trace of n steps is linear in n (a copied vector per step
  // made it quadratic). Null: no step yet.
  struct TraceLink;
  std::shared_ptr<const TraceLink> trace_;
  std::shared_ptr<const ir::Workload> original_;
};

// Same workload (structurally: tensors, stages, bodies) and same stage schedules. The traces are
// not compared: use a.trace() == b.trace() for that.
bool same_schedule(const State& a, const State& b);

// Structural equality of workloads (names, tensors, stages with structurally equal bodies).
bool same_workload(const ir::Workload& a, const ir::Workload& b);

// The root schedule of a stage of a workload: one loop per axis (spatial, then reduce), in that
// order, all serial, placed at the root.
StageSchedule default_stage_schedule(const ir::Stage& stage);

}  // namespace rctune::schedule
