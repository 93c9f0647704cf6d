#include <algorithm>

#include "common.h"
#include "rctune/ir/analysis.h"
#include "rctune/ir/check.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

namespace {

std::string index_text(const std::vector<ir::Expr>& idx) {
  std::vector<std::string> parts;
  for (const auto& e : idx) parts.push_back(ir::to_string(e));
  return join(parts);
}

}  // namespace

namespace detail {

State place_stage(const State& s, const std::string& stage, const std::string& target,
                  const std::string& loop, Attach::Kind kind) {
  RCTUNE_CHECK(kind == Attach::Kind::At || kind == Attach::Kind::ReverseAt);
  const auto [step, call, st] = begin_stage_call(
      s,
      {kind == Attach::Kind::At ? Primitive::ComputeAt : Primitive::ReverseComputeAt, {stage, target, loop}});
  const StageSchedule& tt = get_stage(s, call, target);
  const ir::Stage& ist = get_ir_stage(s, call, stage);
  if (st.attach.kind == Attach::Kind::Inline) fail(call, "stage " + stage + " is inlined");
  if (tt.attach.kind == Attach::Kind::Inline) fail(call, "stage " + target + " is inlined and has no loops");
  const int li = get_leaf(tt, call, loop);
  if (kind == Attach::Kind::At && s.workload().role(stage) == ir::TensorRole::Output) {
    fail(call, stage +
                   " is an output of the workload; outputs are computed in full (use reverse_compute_at to "
                   "place a consumer inside its producer)");
  }
  if (stage == target) fail(call, "a stage cannot be placed inside itself");
  if (kind == Attach::Kind::ReverseAt) {
    if (ist.op != ir::ReduceOp::None || !ist.reduce_axes.empty()) {
      fail(call, "stage " + stage + " has a reduction (" + ir::reduce_op_token(ist.op) +
                     "); only stages without a reduction can be placed with reverse_compute_at");
    }
    const auto readers = readers_of(s.workload(), target);
    if (std::find(readers.begin(), readers.end(), stage) == readers.end()) {
      fail(call, stage + " does not read " + target);
    }
    // Every read of the producer must index it with the stage's own axes, one per dimension, the same
    // in every read: the region the producer wrote then maps onto the stage's axes.
    const std::vector<std::vector<ir::Expr>> reads = ir::load_indices_of(ist.body, target);
    for (size_t k = 0; k < reads.size(); ++k) {
      std::vector<std::string> used;
      for (size_t d = 0; d < reads[k].size(); ++d) {
        const ir::Var* v = reads[k][d].as<ir::Var>();
        bool axis = false;
        if (v) {
          for (const auto& a : ist.axes) axis = axis || a.name == v->name;
        }
        if (!v || !axis || std::find(used.begin(), used.end(), v->name) != used.end()) {
          fail(call, stage + " reads " + target + "[" + index_text(reads[k]) +
                         "]; reverse_compute_at needs every read of " + target + " indexed by axes of " +
                         stage + " (one per dimension)");
        }
        if (k > 0 && !ir::structural_equal(reads[k][d], reads[0][d])) {
          fail(call, stage + " reads " + target + " both as " + target + "[" + index_text(reads[0]) +
                         "] and " + target + "[" + index_text(reads[k]) +
                         "]; reverse_compute_at needs the same index in every read");
        }
        used.push_back(v->name);
      }
    }
  }
  const LoopVar& lv = tt.loops[li];
  if (lv.kind == ir::ForKind::Vectorized || lv.bind == ir::BindLevel::Vector) {
    fail(call, "loop " + loop + " of " + target + " is " + annotation_text(lv) +
                   "; a vector loop cannot contain other stages");
  }
  // No cycles: the target must not be placed (transitively) inside the stage.
  for (const StageSchedule* c = &tt;
       c && (c->attach.kind == Attach::Kind::At || c->attach.kind == Attach::Kind::ReverseAt);
       c = s.stage(c->attach.stage)) {
    if (c->attach.stage == stage) {
      fail(call, target + " is placed inside " + stage + " (at loop " + c->attach.loop + " of " + stage +
                     "); placing " + stage + " inside " + target + " would form a cycle");
    }
  }
  StageSchedule ns = st;
  ns.attach.kind = kind;
  ns.attach.stage = target;
  ns.attach.loop = loop;
  State out = s.with_stage(ns);
  const std::string err = check_attach(out, ns);
  if (!err.empty()) fail(call, err);
  return finish(out, step);
}

}  // namespace detail

State compute_at(const State& s, const std::string& stage, const std::string& consumer,
                 const std::string& loop) {
  return place_stage(s, stage, consumer, loop, Attach::Kind::At);
}

PrimitiveInfo detail::compute_at_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Stage, "consumer"}, {PK::Loop, "loop"}},
      "Computes the stage inside a loop of a consumer, before that loop's body, only over the region "
      "one iteration needs.",
      "the stage is not an output and not inlined; the consumer reads it, and every other reader is "
      "placed inside the consumer at that loop or deeper; the loop is a current loop of the consumer, "
      "not vectorized; no cycles; every stage still reads only tensors computed before it, and inside "
      "a producer's loops only a reverse_compute_at stage placed directly there reads the producer.",
      "compute_at(C.local, C, j.0)", apply_from_names<&compute_at>);
}

}  // namespace rctune::schedule
