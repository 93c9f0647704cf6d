#include <algorithm>

#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State reorder(const State& s, const std::string& stage, const std::vector<std::string>& loops) {
  const auto [step, call, st] = begin_stage_call(s, {Primitive::Reorder, {stage, loops}});
  if (st.attach.kind == Attach::Kind::Inline) fail(call, "stage " + stage + " is inlined and has no loops");
  if (loops.empty()) fail(call, "name the loops to reorder, in their new order");
  std::vector<int> idx;
  std::vector<int> positions;
  for (const auto& l : loops) {
    const int i = get_leaf(st, call, l);
    if (std::find(idx.begin(), idx.end(), i) != idx.end()) fail(call, "loop " + l + " is named twice");
    idx.push_back(i);
    positions.push_back(st.leaf_position(i));
  }
  std::sort(positions.begin(), positions.end());
  StageSchedule ns = st;
  for (size_t k = 0; k < idx.size(); ++k) ns.leaves[positions[k]] = idx[k];
  if (!ns.init_before.empty()) {
    const int ib = ns.leaf_position(ns.find_loop(ns.init_before));
    for (int p = 0; p < ib; ++p) {
      if (ns.loops[ns.leaves[p]].reduce) {
        fail(call, "reduction loop " + ns.loops[ns.leaves[p]].name + " would move outside loop " +
                       ns.init_before + ", where decompose_reduction placed the initialisation of " + stage);
      }
    }
  }
  return finish(s.with_stage(ns), step);
}

PrimitiveInfo detail::reorder_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Loops, "loops"}},
      "Reorders loops: the named loops take the positions the named loops occupy now, in the given "
      "order; other loops stay where they are.",
      "every name is a current loop of the stage, named once; a vectorized loop stays innermost; a "
      "reduction loop may not move outside the loop chosen by decompose_reduction.",
      "reorder(C, i.0, j.0, k, i.1, j.1)", apply_from_names<&reorder>);
}

}  // namespace rctune::schedule
