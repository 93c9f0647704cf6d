#include <algorithm>

#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State fuse(const State& s, const std::string& stage, const std::vector<std::string>& loops) {
  const auto [step, call, st] = begin_stage_call(s, {Primitive::Fuse, {stage, loops}});
  if (st.attach.kind == Attach::Kind::Inline) fail(call, "stage " + stage + " is inlined and has no loops");
  if (loops.size() < 2) fail(call, "name at least two adjacent loops, outermost first");
  std::vector<int> idx;
  for (const auto& l : loops) {
    const int i = get_leaf(st, call, l);
    if (std::find(idx.begin(), idx.end(), i) != idx.end()) fail(call, "loop " + l + " is named twice");
    idx.push_back(i);
  }
  const int first = st.leaf_position(idx[0]);
  for (size_t k = 1; k < idx.size(); ++k) {
    if (st.leaf_position(idx[k]) != first + static_cast<int>(k)) {
      fail(call, "the loops must be adjacent and given outermost first; the loops of " + stage + " are " +
                     join(st.leaf_names()));
    }
  }
  for (size_t k = 0; k < idx.size(); ++k) {
    const LoopVar& l = st.loops[idx[k]];
    if (l.reduce != st.loops[idx[0]].reduce) {
      fail(call, "loop " + loops[0] + " is " + (st.loops[idx[0]].reduce ? "a reduction" : "a spatial") +
                     " loop but " + l.name +
                     " is not; fuse spatial loops with spatial loops and reduction loops "
                     "with reduction loops");
    }
    if (annotated(l))
      fail(call, "loop " + l.name + " is " + annotation_text(l) + "; fuse loops before annotating them");
    if (k + 1 < idx.size() && !attached_at(s, stage, l.name).empty()) {
      fail(call, "stage " + attached_at(s, stage, l.name)[0] + " is placed at loop " + l.name +
                     ", which is not the innermost loop fused; place it at " + loops.back() + " first");
    }
    if (k > 0 && st.init_before == l.name) {
      fail(call, "decompose_reduction placed the initialisation of " + stage + " before loop " + l.name +
                     ", which is not the outermost loop fused");
    }
  }
  const std::string name = fused_loop_name(loops);
  if (st.find_loop(name) >= 0) fail(call, "stage " + stage + " already has a loop named " + name);

  StageSchedule ns = st;
  Relation r;
  r.kind = Relation::Kind::Fuse;
  r.fuse.parents = idx;
  r.fuse.child = static_cast<int>(ns.loops.size());
  ns.loops.push_back(LoopVar{name, st.loops[idx[0]].reduce});
  ns.leaves.erase(ns.leaves.begin() + first, ns.leaves.begin() + first + static_cast<int>(idx.size()));
  ns.leaves.insert(ns.leaves.begin() + first, r.fuse.child);
  ns.relations.push_back(r);
  if (ns.init_before == loops[0]) ns.init_before = name;

  State out = s.with_stage(ns);
  for (const auto& a : attached_at(s, stage, loops.back())) {
    StageSchedule moved = *s.stage(a);
    moved.attach.loop = name;
    out = out.with_stage(moved);
  }
  return finish(out, step);
}

PrimitiveInfo detail::fuse_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Loops, "loops"}},
      "Fuses adjacent loops into one loop named by joining their names with '.' (fuse(C, i.0, j.0) "
      "creates i.0.j.0).",
      "at least two current loops, adjacent and given outermost first, all spatial or all reduction, "
      "none annotated; a stage placed at one of them must be placed at the innermost one.",
      "fuse(C, i.0, j.0)", apply_from_names<&fuse>);
}

}  // namespace rctune::schedule
