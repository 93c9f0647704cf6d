#include "common.h"

namespace rctune::schedule {

using namespace detail;

State vectorize(const State& s, const std::string& stage, const std::string& loop) {
  const std::string call = call_text("vectorize", {stage, loop});
  const StageSchedule& st = get_stage(s, call, stage);
  if (st.attach.kind == Attach::Kind::Inline) fail(call, "stage " + stage + " is inlined and has no loops");
  const int idx = get_leaf(st, call, loop);
  const LoopVar& l = st.loops[idx];
  if (l.reduce) {
    fail(call, "loop " + loop + " iterates over a reduction axis; only spatial loops can be vectorized");
  }
  if (annotated(l)) fail(call, "loop " + loop + " is already " + annotation_text(l));
  if (st.leaf_position(idx) + 1 != static_cast<int>(st.leaves.size())) {
    fail(call, "loop " + loop + " is not the innermost loop of " + stage + " (that is " +
                   st.loops[st.leaves.back()].name +
                   "); only the innermost loop can be vectorized, reorder first");
  }
  const auto at = attached_at(s, stage, loop);
  if (!at.empty()) {
    fail(call,
         "stage " + at[0] + " is placed at loop " + loop + "; a vectorized loop cannot contain other stages");
  }
  StageSchedule ns = st;
  ns.loops[idx].kind = ir::ForKind::Vectorized;
  return finish(s.with_stage(ns), call);
}

}  // namespace rctune::schedule
