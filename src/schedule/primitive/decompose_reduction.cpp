#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State decompose_reduction(const State& s, const std::string& stage, const std::string& loop) {
  const auto [step, call, st] = begin_stage_call(s, {Primitive::DecomposeReduction, {stage, loop}});
  const ir::Stage& ist = get_ir_stage(s, call, stage);
  if (ist.op == ir::ReduceOp::None || ist.reduce_axes.empty()) {
    fail(call, "stage " + stage + " has no reduction to decompose");
  }
  if (st.attach.kind == Attach::Kind::Inline) fail(call, "stage " + stage + " is inlined and has no loops");
  const int idx = get_leaf(st, call, loop);
  const int pos = st.leaf_position(idx);
  for (int p = 0; p < pos; ++p) {
    if (st.loops[st.leaves[p]].reduce) {
      fail(call, "loop " + loop + " is inside reduction loop " + st.loops[st.leaves[p]].name +
                     "; the initialisation must come before every reduction loop");
    }
  }
  StageSchedule ns = st;
  ns.init_before = loop;
  return finish(s.with_stage(ns), step);
}

PrimitiveInfo detail::decompose_reduction_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Loop, "loop"}},
      "Places the initialisation of a reduction just before the given loop instead of before the "
      "outermost reduction loop.",
      "the stage has a reduction; the loop is a current loop of the stage and no reduction loop "
      "encloses it.",
      "decompose_reduction(C, j.0)", apply_from_names<&decompose_reduction>);
}

}  // namespace rctune::schedule
