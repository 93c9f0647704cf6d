#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State vectorize(const State& s, const std::string& stage, const std::string& loop) {
  const auto [step, call, st] = begin_stage_call(s, {Primitive::Vectorize, {stage, loop}});
  const int idx = leaf_to_annotate(st, call, loop, "only spatial loops can be vectorized");
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
  return finish_loop_kind(s, st, idx, ir::ForKind::Vectorized, step);
}

PrimitiveInfo detail::vectorize_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Loop, "loop"}},
      "Vectorizes the innermost loop of a stage (explicit vector types on CPU, ThreadVectorRange on "
      "GPU).",
      "a current, unannotated, spatial loop that is the innermost loop of its stage, with no stage "
      "placed at it.",
      "vectorize(C.local, j)", apply_from_names<&vectorize>);
}

}  // namespace rctune::schedule
