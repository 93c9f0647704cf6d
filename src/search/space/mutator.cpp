// The mutations of the design space (MetaSchedule's mutators): on any state, replay its trace to
// know every decision's context (the loops that existed when the step ran), pick a decision of a
// kind drawn with probabilities 0.9 / 0.05 / 0.03 / 0.02 (tile size / compute location / unroll /
// parallel) among the kinds the trace has, change its typed arguments and re-apply the trace from
// that step on; the change is recorded as a one-line action. An illegal result is discarded and
// another decision drawn, a few times.
#include "search/space/mutator.h"

#include <algorithm>

#include "rctune/schedule/error.h"
#include "rctune/schedule/primitives.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/candidate.h"
#include "search/space/sketch_rules.h"

namespace rctune::search::detail {

namespace {

using schedule::Primitive;
using schedule::State;
using schedule::Step;

constexpr int kAttempts = 12;

struct TraceView {
  std::vector<Step> steps;
  std::vector<State> before;  // the state each step was applied to
  State final_state;
};

bool replay(const State& state, TraceView& view) {
  try {
    view.steps = state.trace();
    State cur(state.original_workload_ptr());
    for (const Step& p : view.steps) {
      view.before.push_back(cur);
      cur = schedule::apply_step(cur, p);
    }
    view.final_state = cur;
    return true;
  } catch (const schedule::ScheduleError&) {
    return false;
  }
}

// One edit of the trace: step `index` replaced by `step` or deleted, or `step` appended.
struct StepEdit {
  enum class Kind { Replace, Delete, Append } kind = Kind::Append;
  size_t index = 0;  // Replace, Delete: 0-based
  Step step;         // Replace, Append

  // The edit as an action (search/action.h): "3: split(C, i, [None, 8])", "3: delete", "unroll(C, i)".
  std::string action() const {
    const std::string ref = std::to_string(index + 1) + ": ";
    switch (kind) {
      case Kind::Replace:
        return ref + schedule::to_text(step);
      case Kind::Delete:
        return ref + "delete";
      case Kind::Append:
        break;
    }
    return schedule::to_text(step);
  }

  // The edited trace applied to the workload: the steps before the edit are not re-applied (the
  // view holds the state they reach). Throws the primitive's ScheduleError when a step is illegal.
  State apply(const TraceView& view) const {
    if (kind == Kind::Append) return schedule::apply_step(view.final_state, step);
    State cur = view.before[index];
    if (kind == Kind::Replace) cur = schedule::apply_step(cur, step);
    for (size_t j = index + 1; j < view.steps.size(); ++j) cur = schedule::apply_step(cur, view.steps[j]);
    return cur;
  }
};

StepEdit replace(size_t index, Step step) { return {StepEdit::Kind::Replace, index, std::move(step)}; }

// The step with argument `arg` replaced.
Step with_arg(Step step, size_t arg, schedule::StepArg value) {
  step.args.at(arg) = std::move(value);
  return step;
}

// Leaves of a stage that an annotation or placement could use: not vectorized, not bound.
std::vector<std::string> free_leaves(const State& s, const std::string& stage, bool spatial_only) {
  std::vector<std::string> out;
  const schedule::StageSchedule* st = s.stage(stage);
  if (!st) return out;
  for (int l : st->leaves) {
    const schedule::LoopVar& v = st->loops[static_cast<size_t>(l)];
    if (v.kind != ir::ForKind::Serial || v.bind != ir::BindLevel::None) continue;
    if (spatial_only && v.reduce) continue;
    out.push_back(v.name);
  }
  return out;
}

std::vector<std::string> without(std::vector<std::string> v, const std::string& x) {
  v.erase(std::remove(v.begin(), v.end(), x), v.end());
  return v;
}

class Mutator {
 public:
  Mutator(const TraceView& view, int lanes, Rng& rng) : view_(view), lanes_(lanes), rng_(rng) {
    for (size_t i = 0; i < view.steps.size(); ++i) {
      const Primitive prim = view.steps[i].primitive;
      if (prim == Primitive::Split) splits_.push_back(i);
      if (prim == Primitive::ComputeAt || prim == Primitive::ReverseComputeAt) placements_.push_back(i);
      if (prim == Primitive::Unroll) unrolls_.push_back(i);
      if (prim == Primitive::Parallel) parallels_.push_back(i);
    }
  }

  // Kinds with at least one decision, and MetaSchedule's weights.
  std::vector<MutationKind> kinds(std::vector<double>& weights) const {
    std::vector<MutationKind> k;
    weights.clear();
    if (!splits_.empty()) k.push_back(MutationKind::TileSize), weights.push_back(0.9);
    if (!placements_.empty()) k.push_back(MutationKind::ComputeLocation), weights.push_back(0.05);
    k.push_back(MutationKind::Unroll), weights.push_back(0.03);
    k.push_back(MutationKind::Parallel), weights.push_back(0.02);
    return k;
  }

  // One edit of the given kind (none when none could be drawn).
  std::optional<StepEdit> edit(MutationKind kind) {
    switch (kind) {
      case MutationKind::TileSize:
        return tile_size();
      case MutationKind::ComputeLocation:
        return compute_location();
      case MutationKind::Unroll:
        return unroll();
      case MutationKind::Parallel:
        return parallel();
    }
    return std::nullopt;
  }

 private:
  std::optional<StepEdit> tile_size() {
    const size_t i = pick(rng_, splits_);
    const Step& p = view_.steps[i];
    const std::string& stage = p.name(0);
    const std::string& loop = p.name(1);
    const std::vector<int64_t> factors = p.factors(2);
    const int parts = static_cast<int>(factors.size());
    int64_t extent = 0;
    try {
      extent = view_.before[i].loop_extent(stage, loop);
    } catch (const schedule::ScheduleError&) {
      return std::nullopt;
    }
    if (extent < 2 || parts < 2) return std::nullopt;
    const std::vector<int64_t> current(factors.begin() + 1, factors.end());
    // Bias the innermost factor toward whole vectors when that loop is vectorized in the end.
    int lanes = 0;
    if (const schedule::StageSchedule* st = view_.final_state.stage(stage)) {
      int l = st->find_loop(schedule::split_loop_name(loop, parts - 1));
      if (l >= 0 && st->loops[static_cast<size_t>(l)].kind == ir::ForKind::Vectorized) lanes = lanes_;
    }
    for (int tries = 0; tries < 8; ++tries) {
      std::vector<int64_t> f = draw_split_factors(extent, parts, lanes, rng_);
      std::vector<int64_t> inner(f.begin() + 1, f.end());
      if (inner == current) continue;
      f[0] = schedule::kInferredFactor;
      return replace(i, with_arg(p, 2, schedule::to_step_factors(f)));
    }
    return std::nullopt;
  }

  std::optional<StepEdit> compute_location() {
    const size_t i = pick(rng_, placements_);
    const Step& p = view_.steps[i];
    const std::vector<std::string> loops = without(
        free_leaves(view_.before[i], p.name(1), p.primitive == Primitive::ReverseComputeAt), p.name(2));
    if (loops.empty()) return std::nullopt;
    return replace(i, with_arg(p, 2, pick(rng_, loops)));
  }

  std::optional<StepEdit> unroll() {
    const int op = static_cast<int>(uniform_int(rng_, 0, unrolls_.empty() ? 0 : 2));
    if (op == 0) {  // add
      std::vector<std::pair<std::string, std::string>> options;
      for (const auto& st : view_.final_state.stages()) {
        if (st->attach.kind == schedule::Attach::Kind::Inline) continue;
        const bool root = st->attach.kind == schedule::Attach::Kind::Root;
        for (const std::string& l : free_leaves(view_.final_state, st->stage, false)) {
          if (root && view_.final_state.loop_extent(st->stage, l) > schedule::kMaxUnrollExtent) continue;
          options.emplace_back(st->stage, l);
        }
      }
      if (options.empty()) return std::nullopt;
      const auto& [stage, loop] = pick(rng_, options);
      return StepEdit{StepEdit::Kind::Append, 0, Step{Primitive::Unroll, {stage, loop}}};
    }
    const size_t i = pick(rng_, unrolls_);
    if (op == 1) return StepEdit{StepEdit::Kind::Delete, i, {}};
    const Step& p = view_.steps[i];
    const std::vector<std::string> loops = without(free_leaves(view_.before[i], p.name(0), false), p.name(1));
    if (loops.empty()) return std::nullopt;
    return replace(i, with_arg(p, 1, pick(rng_, loops)));
  }

  std::optional<StepEdit> parallel() {
    if (parallels_.empty()) {
      std::vector<std::pair<std::string, std::string>> options;
      for (const auto& st : view_.final_state.stages()) {
        if (st->attach.kind != schedule::Attach::Kind::Root || st->leaves.empty()) continue;
        const schedule::LoopVar& v = st->loops[static_cast<size_t>(st->leaves.front())];
        if (!v.reduce && v.kind == ir::ForKind::Serial && v.bind == ir::BindLevel::None)
          options.emplace_back(st->stage, v.name);
      }
      if (options.empty()) return std::nullopt;
      const auto& [stage, loop] = pick(rng_, options);
      return StepEdit{StepEdit::Kind::Append, 0, Step{Primitive::Parallel, {stage, loop}}};
    }
    const size_t i = pick(rng_, parallels_);
    const Step& p = view_.steps[i];
    const std::vector<std::string> loops = without(free_leaves(view_.before[i], p.name(0), true), p.name(1));
    if (loops.empty()) return std::nullopt;
    return replace(i, with_arg(p, 1, pick(rng_, loops)));
  }

  const TraceView& view_;
  int lanes_;
  Rng& rng_;
  std::vector<size_t> splits_, placements_, unrolls_, parallels_;
};

}  // namespace

std::optional<Mutation> mutate_state(const schedule::State& state, int vector_lanes, Rng& rng) {
  TraceView view;
  if (!replay(state, view)) return std::nullopt;
  Mutator mutator(view, vector_lanes, rng);
  std::vector<double> weights;
  const std::vector<MutationKind> kinds = mutator.kinds(weights);
  const std::string parent_trace = schedule::to_text(state.trace());
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const MutationKind kind = kinds[weighted_index(rng, weights)];
    const std::optional<StepEdit> edit = mutator.edit(kind);
    if (!edit) continue;
    try {
      Candidate c = make_candidate(edit->apply(view));
      if (c.trace == parent_trace) continue;
      c.proposer = "mutation";
      c.action = edit->action() + "\n";
      c.rationale = std::string("mutation: ") + mutation_kind_name(kind);
      Mutation m;
      m.kind = kind;
      m.action = c.action;
      m.candidate = std::move(c);
      return m;
    } catch (const schedule::ScheduleError&) {
      continue;
    }
  }
  return std::nullopt;
}

}  // namespace rctune::search::detail
