#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State parallel(const State& s, const std::string& stage, const std::string& loop) {
  const Step step{Primitive::Parallel, {stage, loop}};
  const std::string call = to_text(step);
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
  return finish(s.with_stage(ns), step);
}

PrimitiveInfo detail::parallel_traits() {
  return primitive_traits(
      Primitive::Parallel, "parallel", {{PK::Stage, "stage"}, {PK::Loop, "loop"}},
      "Runs the iterations of a loop in parallel on CPU threads (Kokkos RangePolicy; adjacent parallel "
      "loops of one stage become an MDRangePolicy).",
      "a current, unannotated, spatial loop; not inside another parallel loop (except an adjacent "
      "parallel loop of the same stage) nor inside or around a bound loop.",
      "parallel(C, i.0)",
      [](const State& s, const Step& step) { return parallel(s, step.name(0), step.name(1)); });
}

}  // namespace rctune::schedule
