#include <algorithm>

#include "common.h"

namespace rctune::schedule {

using namespace detail;

namespace detail {

State place_stage(const State& s, const std::string& prim, const std::string& stage,
                  const std::string& target, const std::string& loop, Attach::Kind kind) {
  const std::string call = call_text(prim, {stage, target, loop});
  const StageSchedule& st = get_stage(s, call, stage);
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
  return finish(out, call);
}

}  // namespace detail

State compute_at(const State& s, const std::string& stage, const std::string& consumer,
                 const std::string& loop) {
  return place_stage(s, "compute_at", stage, consumer, loop, Attach::Kind::At);
}

}  // namespace rctune::schedule
