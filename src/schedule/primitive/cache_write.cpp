#include "common.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

namespace {

// Why a stage does not count as unscheduled, or empty.
std::string scheduled_because(const State& s, const StageSchedule& st) {
  const StageSchedule def = [&] {
    StageSchedule d = default_stage_schedule(*s.workload().find_stage(st.stage));
    return d;
  }();
  if (!st.relations.empty()) return "its loops have been split or fused";
  if (st.leaves != def.leaves) return "its loops have been reordered";
  for (const auto& l : st.loops) {
    if (annotated(l)) return "loop " + l.name + " is " + annotation_text(l);
  }
  if (st.attach.kind == Attach::Kind::Inline) return "it is inlined";
  if (st.attach.kind != Attach::Kind::Root)
    return "it is placed at loop " + st.attach.loop + " of " + st.attach.stage;
  if (!st.init_before.empty()) return "its reduction has been decomposed";
  const auto at = attached_at(s, st.stage, "");
  if (!at.empty()) return "stage " + at[0] + " is placed at one of its loops";
  return "";
}

}  // namespace

State cache_write(const State& s, const std::string& stage, ir::MemScope scope) {
  const Step step{Primitive::CacheWrite, {stage, std::string(ir::mem_scope_name(scope))}};
  const std::string call = to_text(step);
  if (scope == ir::MemScope::Global) fail(call, "the scope must be local, shared or heap");
  const StageSchedule& st = get_stage(s, call, stage);
  const ir::Stage& ist = get_ir_stage(s, call, stage);
  const std::string why = scheduled_because(s, st);
  if (!why.empty())
    fail(call, "stage " + stage + " is already scheduled (" + why + "); apply cache_write first");
  const std::string name = stage + "." + ir::mem_scope_name(scope);
  if (s.workload().find_tensor(name)) fail(call, "a tensor named " + name + " already exists");

  const ir::Tensor* t = s.workload().find_tensor(stage);
  const ir::Tensor cache{name, t->shape, t->dtype};
  ir::Stage compute = ist;
  compute.output = name;
  ir::Stage copy;
  copy.output = stage;
  copy.axes = ist.axes;
  copy.op = ir::ReduceOp::None;
  std::vector<ir::Expr> idx;
  for (const auto& a : ist.axes) idx.push_back(ir::var(a.name));
  copy.body = ir::load(name, idx);
  return finish_stage_split(s, stage, cache, compute, scope, copy, ir::MemScope::Global, step);
}

PrimitiveInfo detail::cache_write_traits() {
  return primitive_traits(
      {{PK::Stage, "stage"}, {PK::Scope, "scope"}},
      "Computes the stage into a new buffer <stage>.<scope> (stage \"C.local\" takes the body and the "
      "reduction) and turns the stage into a copy C[i, j] = C.local[i, j]; used to accumulate a tile "
      "in registers (compute_at the new stage into the copy).",
      "the stage is unscheduled (no split, fuse, reorder, annotation, placement, and no stage placed "
      "at its loops); scope local, shared or heap; <stage>.<scope> does not exist yet.",
      "cache_write(C, local)", [](const State& s, const Step& step) {
        return cache_write(s, step.name(0), parse_mem_scope(step.name(1)));
      });
}

}  // namespace rctune::schedule
