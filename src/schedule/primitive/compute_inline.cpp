#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State compute_inline(const State& s, const std::string& stage) {
  const auto [step, call, st] = begin_stage_call(s, {Primitive::ComputeInline, {stage}});
  const ir::Stage& ist = get_ir_stage(s, call, stage);
  if (s.workload().role(stage) == ir::TensorRole::Output) {
    fail(call,
         stage + " is an output of the workload; outputs must be stored, only intermediates can be inlined");
  }
  if (ist.op != ir::ReduceOp::None || !ist.reduce_axes.empty()) {
    fail(call, "stage " + stage + " has a reduction (" + ir::reduce_op_token(ist.op) +
                   "); only stages without a reduction can be inlined");
  }
  if (st.attach.kind == Attach::Kind::Inline) fail(call, "stage " + stage + " is already inlined");
  if (st.attach.kind != Attach::Kind::Root) {
    fail(call, "stage " + stage + " is placed at loop " + st.attach.loop + " of " + st.attach.stage +
                   "; an inlined stage has no placement");
  }
  if (!st.relations.empty() || st.leaves != default_stage_schedule(ist).leaves) {
    fail(call,
         "the loops of " + stage + " have been transformed; an inlined stage has no loops, inline it first");
  }
  for (const auto& l : st.loops) {
    if (annotated(l))
      fail(call, "loop " + l.name + " of " + stage + " is " + annotation_text(l) +
                     "; an inlined stage has no loops");
  }
  const auto at = attached_at(s, stage, "");
  if (!at.empty())
    fail(call, "stage " + at[0] + " is placed at a loop of " + stage + ", which would disappear");
  StageSchedule ns = st;
  ns.attach = Attach{Attach::Kind::Inline, "", ""};
  return finish(s.with_stage(ns), step);
}

PrimitiveInfo detail::compute_inline_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}},
      "Inlines a stage: its consumers evaluate its body in place and it is never stored.",
      "the stage is not an output, has no reduction, is unscheduled and at the root, and no stage is "
      "placed at its loops.",
      "compute_inline(E)", apply_from_names<&compute_inline>);
}

}  // namespace rctune::schedule
