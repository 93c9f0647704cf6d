#include "rctune/schedule/state.h"
#include "rctune/ir/check.h"

#include <mutex>
#include <utility>

#include "rctune/schedule/error.h"

namespace rctune::schedule {

int StageSchedule::find_loop(const std::string& name) const {
  for (size_t i = 0; i < loops.size(); ++i) {
    if (loops[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool StageSchedule::is_leaf(int loop) const { return leaf_position(loop) >= 0; }

int StageSchedule::leaf_position(int loop) const {
  for (size_t p = 0; p < leaves.size(); ++p) {
    if (leaves[p] == loop) return static_cast<int>(p);
  }
  return -1;
}

std::vector<std::string> StageSchedule::leaf_names() const {
  std::vector<std::string> names;
  names.reserve(leaves.size());
  for (int l : leaves) names.push_back(loops[l].name);
  return names;
}

StageSchedule default_stage_schedule(const ir::Stage& stage) {
  StageSchedule s;
  s.stage = stage.output;
  for (const auto& a : stage.axes) s.loops.push_back(LoopVar{a.name, false});
  for (const auto& a : stage.reduce_axes) s.loops.push_back(LoopVar{a.name, true});
  for (size_t i = 0; i < s.loops.size(); ++i) s.leaves.push_back(static_cast<int>(i));
  return s;
}

State::State(std::shared_ptr<const ir::Workload> w) : workload_(std::move(w)), original_(workload_) {
  RCTUNE_CHECK(workload_);
  stages_.reserve(workload_->stages.size());
  for (const auto& st : workload_->stages) {
    stages_.push_back(std::make_shared<const StageSchedule>(default_stage_schedule(st)));
  }
}

const StageSchedule* State::stage(const std::string& name) const {
  for (const auto& s : stages_) {
    if (s->stage == name) return s.get();
  }
  return nullptr;
}

std::vector<int64_t> State::loop_extents(const StageSchedule& s, const std::vector<int64_t>& root_extents) {
  std::vector<int64_t> ext(s.loops.size(), -1);
  RCTUNE_CHECK(root_extents.size() <= s.loops.size());
  for (size_t i = 0; i < root_extents.size(); ++i) ext[i] = root_extents[i];
  for (const auto& r : s.relations) {
    if (r.kind == Relation::Kind::Split) {
      const SplitRel& sp = r.split;
      int64_t inner = 1;
      for (int64_t f : sp.inner_factors) inner *= f;
      const int64_t parent = ext[sp.parent];
      RCTUNE_CHECK(parent >= 0 && inner > 0);
      ext[sp.children[0]] = (parent + inner - 1) / inner;
      for (size_t c = 1; c < sp.children.size(); ++c) ext[sp.children[c]] = sp.inner_factors[c - 1];
    } else {
      int64_t prod = 1;
      for (int p : r.fuse.parents) {
        RCTUNE_CHECK(ext[p] >= 0);
        prod *= ext[p];
      }
      ext[r.fuse.child] = prod;
    }
  }
  return ext;
}

int64_t State::loop_extent(const std::string& stage_name, const std::string& loop) const {
  const StageSchedule* s = stage(stage_name);
  const ir::Stage* st = workload_->find_stage(stage_name);
  if (!s || !st) throw ScheduleError("no stage named '" + stage_name + "'");
  const int idx = s->find_loop(loop);
  if (idx < 0) throw ScheduleError("stage " + stage_name + " has no loop named '" + loop + "'");
  std::vector<int64_t> roots;
  for (const auto& a : st->axes) roots.push_back(a.extent);
  for (const auto& a : st->reduce_axes) roots.push_back(a.extent);
  return loop_extents(*s, roots)[idx];
}

State State::with_stage(const StageSchedule& s) const {
  State out = *this;
  for (auto& p : out.stages_) {
    if (p->stage == s.stage) {
      p = std::make_shared<const StageSchedule>(s);
      return out;
    }
  }
  RCTUNE_CHECK(false && "with_stage: unknown stage");
  return out;
}

State State::with_workload(std::shared_ptr<const ir::Workload> w,
                           std::vector<std::shared_ptr<const StageSchedule>> stages) const {
  State out = *this;
  RCTUNE_CHECK(w && w->stages.size() == stages.size());
  out.workload_ = std::move(w);
  out.stages_ = std::move(stages);
  return out;
}

struct State::TraceLink {
  mutable std::shared_ptr<const TraceLink> before;  // mutable: the destructor unlinks the chain
  Step step;
  size_t size = 0;  // steps up to and including this one
  mutable std::once_flag built;
  mutable std::vector<Step> steps;  // the whole trace, built on first use

  TraceLink(std::shared_ptr<const TraceLink> b, Step s)
      : before(std::move(b)), step(std::move(s)), size(before ? before->size + 1 : 1) {}
  TraceLink(const TraceLink&) = delete;
  TraceLink& operator=(const TraceLink&) = delete;
  // Unlinks the chain iteratively: a trace of many steps would otherwise be freed by recursion.
  ~TraceLink() {
    std::shared_ptr<const TraceLink> b = std::move(before);
    while (b && b.use_count() == 1) {
      // `b` is the last owner: take its link before it goes, so its destructor has nothing to free.
      std::shared_ptr<const TraceLink> next = std::move(b->before);
      b = std::move(next);
    }
  }
};

const std::vector<Step>& State::trace() const {
  static const std::vector<Step> kNone;
  if (!trace_) return kNone;
  const TraceLink& last = *trace_;
  std::call_once(last.built, [&] {
    std::vector<const TraceLink*> chain;
    chain.reserve(last.size);
    for (const TraceLink* l = &last; l; l = l->before.get()) chain.push_back(l);
    last.steps.reserve(chain.size());
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) last.steps.push_back((*it)->step);
  });
  return last.steps;
}

size_t State::trace_size() const { return trace_ ? trace_->size : 0; }

State State::with_step(Step step) const {
  State out = *this;
  out.trace_ = std::make_shared<TraceLink>(trace_, std::move(step));
  return out;
}

bool same_workload(const ir::Workload& a, const ir::Workload& b) {
  if (a.name != b.name || a.outputs != b.outputs) return false;
  if (a.tensors.size() != b.tensors.size() || a.stages.size() != b.stages.size()) return false;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& x = a.tensors[i];
    const auto& y = b.tensors[i];
    if (x.name != y.name || x.shape != y.shape || x.dtype != y.dtype) return false;
  }
  auto same_vars = [](const std::vector<ir::IndexVar>& x, const std::vector<ir::IndexVar>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].name != y[i].name || x[i].extent != y[i].extent) return false;
    }
    return true;
  };
  for (size_t i = 0; i < a.stages.size(); ++i) {
    const auto& x = a.stages[i];
    const auto& y = b.stages[i];
    if (x.output != y.output || x.op != y.op || !same_vars(x.axes, y.axes) ||
        !same_vars(x.reduce_axes, y.reduce_axes) || !ir::structural_equal(x.body, y.body)) {
      return false;
    }
  }
  return true;
}

bool same_schedule(const State& a, const State& b) {
  if (!a.workload_ptr() || !b.workload_ptr()) return !a.workload_ptr() && !b.workload_ptr();
  if (a.workload_ptr() != b.workload_ptr() && !same_workload(a.workload(), b.workload())) return false;
  if (a.stages().size() != b.stages().size()) return false;
  for (size_t i = 0; i < a.stages().size(); ++i) {
    if (a.stages()[i] != b.stages()[i] && !(*a.stages()[i] == *b.stages()[i])) return false;
  }
  return true;
}

}  // namespace rctune::schedule
