#include "common.h"

namespace rctune::schedule {

using namespace detail;

State parallel(const State& s, const std::string& stage, const std::string& loop) {
  const std::string call = call_text("parallel", {stage, loop});
  const StageSchedule& st = get_stage(s, call, stage);
  if (st.attach.kind == Attach::Kind::Inline) fail(call, "stage " + stage + " is inlined and has no loops");
  const int idx = get_leaf(st, call, loop);
  const LoopVar& l = st.loops[idx];
  if (l.reduce) {
    fail(call, "loop " + loop +
                   " iterates over a reduction axis; only spatial loops can be parallel (iterations "
                   "would race on the same output element)");
  }
  if (annotated(l)) fail(call, "loop " + loop + " is already " + annotation_text(l));
  StageSchedule ns = st;
  ns.loops[idx].kind = ir::ForKind::Parallel;
  return finish(s.with_stage(ns), call);
}

}  // namespace rctune::schedule
