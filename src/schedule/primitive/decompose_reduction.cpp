#include "common.h"

namespace rctune::schedule {

using namespace detail;

State decompose_reduction(const State& s, const std::string& stage, const std::string& loop) {
  const std::string call = call_text("decompose_reduction", {stage, loop});
  const StageSchedule& st = get_stage(s, call, stage);
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
  return finish(s.with_stage(ns), call);
}

}  // namespace rctune::schedule
