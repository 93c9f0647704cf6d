#include "common.h"

namespace rctune::schedule {

using namespace detail;

State bind(const State& s, const std::string& stage, const std::string& loop, ir::BindLevel level) {
  const std::string call = call_text("bind", {stage, loop, level_text(level)});
  if (level == ir::BindLevel::None) fail(call, "the level must be league, team or vector");
  const StageSchedule& st = get_stage(s, call, stage);
  if (st.attach.kind == Attach::Kind::Inline) fail(call, "stage " + stage + " is inlined and has no loops");
  const int idx = get_leaf(st, call, loop);
  const LoopVar& l = st.loops[idx];
  if (l.reduce) {
    fail(call, "loop " + loop +
                   " iterates over a reduction axis; only spatial loops can be bound (iterations "
                   "would race on the same output element)");
  }
  if (annotated(l)) fail(call, "loop " + loop + " is already " + annotation_text(l));
  if (level == ir::BindLevel::Vector && !attached_at(s, stage, loop).empty()) {
    fail(call, "stage " + attached_at(s, stage, loop)[0] + " is placed at loop " + loop +
                   "; a vector loop cannot contain other stages");
  }
  StageSchedule ns = st;
  ns.loops[idx].bind = level;
  return finish(s.with_stage(ns), call);
}

}  // namespace rctune::schedule
