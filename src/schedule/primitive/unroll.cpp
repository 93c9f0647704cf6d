#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State unroll(const State& s, const std::string& stage, const std::string& loop) {
  const auto [step, call, st] = begin_stage_call(s, {Primitive::Unroll, {stage, loop}});
  const int idx = leaf_to_annotate(st, call, loop, "");
  if (st.attach.kind == Attach::Kind::Root) {
    const int64_t e = extent_of(s, st, idx);
    if (e > kMaxUnrollExtent) {
      fail(call, "loop " + loop + " has " + std::to_string(e) + " iterations; unroll loops of at most " +
                     std::to_string(kMaxUnrollExtent) + " (split it first)");
    }
  }
  return finish_loop_kind(s, st, idx, ir::ForKind::Unrolled, step);
}

PrimitiveInfo detail::unroll_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Loop, "loop"}}, "Unrolls a loop completely in the generated code.",
      "a current, unannotated loop (spatial or reduction); for a stage at the root the loop may have "
      "at most " +
          std::to_string(kMaxUnrollExtent) + " iterations.",
      "unroll(C.local, i)", apply_from_names<&unroll>);
}

}  // namespace rctune::schedule
