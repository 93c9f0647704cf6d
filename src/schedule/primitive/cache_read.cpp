#include <algorithm>
#include <memory>

#include "common.h"
#include "rctune/ir/check.h"
#include "rctune/ir/expr.h"
#include "traits.h"

namespace rctune::schedule {

using namespace detail;

namespace {

class RenameLoads : public ir::ExprMutator {
 public:
  RenameLoads(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  ir::Expr mutate_load(const ir::Load& n, const ir::Expr& self) override {
    ir::Expr e = ir::ExprMutator::mutate_load(n, self);
    const ir::Load* l = e.as<ir::Load>();
    if (!l || l->buffer != from_) return e;
    return ir::load(to_, l->indices);
  }

 private:
  std::string from_, to_;
};

}  // namespace

State cache_read(const State& s, const std::string& tensor, ir::MemScope scope,
                 const std::vector<std::string>& readers_in) {
  const std::string call =
      to_text(Step{Primitive::CacheRead, {tensor, std::string(ir::mem_scope_name(scope)), readers_in}});
  if (scope == ir::MemScope::Global) fail(call, "the scope must be local, shared or heap");
  const ir::Workload& w = s.workload();
  const ir::Tensor* t = w.find_tensor(tensor);
  if (!t) {
    std::vector<std::string> names;
    for (const auto& x : w.tensors) names.push_back(x.name);
    fail(call, "there is no tensor named '" + tensor + "'; tensors: " + join(names));
  }
  const std::string name = tensor + "." + ir::mem_scope_name(scope);
  if (w.find_tensor(name)) fail(call, "a tensor named " + name + " already exists");
  const std::vector<std::string> all = readers_of(w, tensor);
  std::vector<std::string> readers = readers_in;
  if (readers.empty()) readers = all;
  if (readers.empty()) fail(call, "no stage reads " + tensor);
  for (size_t i = 0; i < readers.size(); ++i) {
    get_stage(s, call, readers[i]);
    if (std::find(all.begin(), all.end(), readers[i]) == all.end()) {
      fail(call,
           "stage " + readers[i] + " does not read " + tensor + "; readers of " + tensor + ": " + join(all));
    }
    if (std::find(readers.begin(), readers.begin() + static_cast<long>(i), readers[i]) !=
        readers.begin() + static_cast<long>(i)) {
      fail(call, "reader " + readers[i] + " is named twice");
    }
  }

  auto nw = std::make_shared<ir::Workload>(w);
  for (size_t i = 0; i < nw->tensors.size(); ++i) {
    if (nw->tensors[i].name == tensor) {
      nw->tensors.insert(nw->tensors.begin() + static_cast<long>(i) + 1,
                         ir::Tensor{name, t->shape, t->dtype});
      break;
    }
  }
  ir::Stage copy;
  copy.output = name;
  copy.op = ir::ReduceOp::None;
  std::vector<ir::Expr> idx;
  for (size_t d = 0; d < t->shape.size(); ++d) {
    copy.axes.push_back(ir::IndexVar{"ax" + std::to_string(d), t->shape[d]});
    idx.push_back(ir::var(copy.axes.back().name));
  }
  copy.body = ir::load(tensor, idx);
  int first = static_cast<int>(nw->stages.size());
  RenameLoads rename(tensor, name);
  for (const auto& r : readers) {
    const int ri = w.stage_index(r);
    first = std::min(first, ri);
    nw->stages[ri].body = rename.mutate(nw->stages[ri].body);
  }
  nw->stages.insert(nw->stages.begin() + first, copy);

  RCTUNE_CHECK(nw->validate().empty());
  std::vector<std::shared_ptr<const StageSchedule>> stages = s.stages();
  StageSchedule cs = default_stage_schedule(copy);
  cs.scope = scope;
  stages.insert(stages.begin() + first, std::make_shared<const StageSchedule>(cs));
  State out = s.with_workload(nw, std::move(stages));
  const std::string err = check_state(out);
  if (!err.empty()) fail(call, err);
  return out.with_step(Step{Primitive::CacheRead, {tensor, std::string(ir::mem_scope_name(scope)), readers}});
}

PrimitiveInfo detail::cache_read_traits() {
  return primitive_traits(
      {{PK::Tensor, "tensor"}, {PK::Scope, "scope"}, {PK::Stages, "readers"}},
      "Adds a stage <tensor>.<scope> that copies the tensor (loops ax0, ax1, ...) and makes the given "
      "reader stages (all readers when none is named) read the copy; placed with compute_at it copies "
      "only the tile that one iteration needs, into a contiguous buffer: this is packing.",
      "the tensor exists and every named reader reads it directly; scope local, shared or heap; "
      "<tensor>.<scope> does not exist yet.",
      "cache_read(B, local, C.local)", [](const State& s, const Step& step) {
        return cache_read(s, step.name(0), parse_mem_scope(step.name(1)), step.names(2));
      });
}

}  // namespace rctune::schedule
