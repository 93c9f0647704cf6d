#include <algorithm>

#include "common.h"
#include "rctune/ir/limits.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

State split(const State& s, const std::string& stage, const std::string& loop,
            const std::vector<int64_t>& factors) {
  const std::string call = to_text(Step{Primitive::Split, {stage, loop, to_step_factors(factors)}});
  const StageSchedule& st = get_stage(s, call, stage);
  if (st.attach.kind == Attach::Kind::Inline) fail(call, "stage " + stage + " is inlined and has no loops");
  const int idx = get_leaf(st, call, loop);
  if (factors.size() < 2) fail(call, "give at least two factors, outermost first, e.g. [None, 8]");
  if (st.leaves.size() - 1 + factors.size() > ir::kMaxLoops) {
    fail(call, "stage " + stage + " would have " + std::to_string(st.leaves.size() - 1 + factors.size()) +
                   " loops (the limit is " + std::to_string(ir::kMaxLoops) + ")");
  }
  for (size_t c = 0; c < factors.size(); ++c) {
    const int64_t f = factors[c];
    if (f == kInferredFactor && c == 0) continue;
    if (f == kInferredFactor) fail(call, "only the first (outermost) factor may be None");
    if (f < 1) fail(call, "factor " + std::to_string(f) + " is not a positive integer");
  }
  const LoopVar parent = st.loops[idx];
  if (annotated(parent)) {
    fail(call, "loop " + loop + " is " + annotation_text(parent) + "; split loops before annotating them");
  }
  const int64_t extent = extent_of(s, st, idx);
  int64_t inner = 1;
  for (size_t c = 1; c < factors.size(); ++c) {
    auto p = ir::checked_mul(inner, factors[c]);
    if (!p || *p > extent) {
      fail(call, "the inner factors multiply to " + (p ? std::to_string(*p) : std::string("more than 2^63")) +
                     " but loop " + loop + " has only " + std::to_string(extent) + " iterations");
    }
    inner = *p;
  }
  const int64_t outer = (extent + inner - 1) / inner;
  if (factors[0] != kInferredFactor && factors[0] != outer) {
    fail(call, "the factors cover " +
                   (ir::checked_mul(factors[0], inner) ? std::to_string(factors[0] * inner)
                                                       : std::string("more than 2^63")) +
                   " iterations but loop " + loop + " has " + std::to_string(extent) +
                   "; write None as the first factor (it would be " + std::to_string(outer) + ")");
  }

  StageSchedule ns = st;
  SplitRel rel;
  rel.parent = idx;
  for (size_t c = 0; c < factors.size(); ++c) {
    const std::string name = split_loop_name(loop, static_cast<int>(c));
    if (ns.find_loop(name) >= 0) fail(call, "stage " + stage + " already has a loop named " + name);
    rel.children.push_back(static_cast<int>(ns.loops.size()));
    ns.loops.push_back(LoopVar{name, parent.reduce});
    if (c > 0) rel.inner_factors.push_back(factors[c]);
  }
  const int pos = st.leaf_position(idx);
  ns.leaves.erase(ns.leaves.begin() + pos);
  ns.leaves.insert(ns.leaves.begin() + pos, rel.children.begin(), rel.children.end());
  Relation r;
  r.kind = Relation::Kind::Split;
  r.split = rel;
  ns.relations.push_back(r);
  if (ns.init_before == loop) ns.init_before = ns.loops[rel.children.front()].name;

  State out = s.with_stage(ns);
  // Stages placed at the split loop move to its innermost part (same region per iteration).
  for (const auto& a : attached_at(s, stage, loop)) {
    StageSchedule moved = *s.stage(a);
    moved.attach.loop = ns.loops[rel.children.back()].name;
    out = out.with_stage(moved);
  }
  Factors canon = to_step_factors(factors);
  canon[0] = std::nullopt;
  return finish(out, Step{Primitive::Split, {stage, loop, std::move(canon)}});
}

PrimitiveInfo detail::split_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Loop, "loop"}, {PK::Factors, "factors"}},
      "Splits a loop into nested loops loop.0 (outermost) ... loop.n with the given extents; the first "
      "factor may be None (inferred as ceil(extent / product of the others)); factors that do not "
      "divide the extent are allowed (the body is guarded).",
      "the loop is a current, unannotated loop of the stage; at least two factors, all positive "
      "integers, only the first may be None; the inner factors may not multiply to more than the "
      "extent.",
      "split(C, i, [None, 8])",
      [](const State& s, const Step& step) { return split(s, step.name(0), step.name(1), step.factors(2)); });
}

}  // namespace rctune::schedule
