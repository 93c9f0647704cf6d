#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State parallel(const State& s, const std::string& stage, const std::string& loop) {
  const auto [step, call, st] = begin_stage_call(s, {Primitive::Parallel, {stage, loop}});
  const int idx = leaf_to_annotate(
      st, call, loop,
      "only spatial loops can be parallel (iterations would race on the same output element)");
  return finish_loop_kind(s, st, idx, ir::ForKind::Parallel, step);
}

PrimitiveInfo detail::parallel_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Loop, "loop"}},
      "Runs the iterations of a loop in parallel on CPU threads (Kokkos RangePolicy; adjacent parallel "
      "loops of one stage become an MDRangePolicy).",
      "a current, unannotated, spatial loop; not inside another parallel loop (except an adjacent "
      "parallel loop of the same stage) nor inside or around a bound loop.",
      "parallel(C, i.0)", apply_from_names<&parallel>);
}

}  // namespace rctune::schedule
