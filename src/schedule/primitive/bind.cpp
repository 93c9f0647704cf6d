#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State bind(const State& s, const std::string& stage, const std::string& loop, ir::BindLevel level) {
  const Step step{Primitive::Bind, {stage, loop, std::string(level_text(level))}};
  const std::string call = to_text(step);
  if (level == ir::BindLevel::None) fail(call, "the level must be league, team or vector");
  const StageSchedule& st = get_stage(s, call, stage);
  const int idx = leaf_to_annotate(
      st, call, loop, "only spatial loops can be bound (iterations would race on the same output element)");
  if (level == ir::BindLevel::Vector && !attached_at(s, stage, loop).empty()) {
    fail(call, "stage " + attached_at(s, stage, loop)[0] + " is placed at loop " + loop +
                   "; a vector loop cannot contain other stages");
  }
  StageSchedule ns = st;
  ns.loops[idx].bind = level;
  return finish(s.with_stage(ns), step);
}

PrimitiveInfo detail::bind_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Loop, "loop"}, {PK::Level, "level"}},
      "Binds a loop to a level of Kokkos hierarchical parallelism: league (TeamPolicy league), team "
      "(TeamThreadRange) or vector (ThreadVectorRange).",
      "a current, unannotated, spatial loop; league outermost and at most once in a loop nest; team "
      "and vector need an enclosing league loop; team goes outside vector; no parallel loops in the "
      "same nest.",
      "bind(C, i.0, league)", [](const State& s, const Step& step) {
        return bind(s, step.name(0), step.name(1), parse_bind_level(step.name(2)));
      });
}

}  // namespace rctune::schedule
