// The mutations of the design space (MetaSchedule's mutators): on any state, replay its trace to
// know every decision's context (the loops that existed when the step ran), pick a decision of a
// kind drawn with probabilities 0.9 / 0.05 / 0.03 / 0.02 (tile size / compute location / unroll /
// parallel) among the kinds the trace has, change it, and express the change as a one-line action.
// An illegal result is discarded and another decision drawn, a few times.
#include "search/space/mutator.h"

#include <algorithm>

#include "rctune/schedule/error.h"
#include "rctune/schedule/primitives.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/action.h"
#include "rctune/search/candidate.h"
#include "search/space/sketch_rules.h"

namespace rctune::search::detail {

namespace {

using schedule::State;

constexpr int kAttempts = 12;

struct TraceView {
  std::vector<schedule::ParsedStep> steps;
  std::vector<State> before;  // the state each step was applied to
  State final_state;
};

const std::string& arg_name(const schedule::ParsedStep& p, size_t i) { return p.args.at(i).value.name; }

bool replay(const State& state, TraceView& view) {
  try {
    view.steps = schedule::parse_trace(schedule::to_text(state.trace()));
    State cur(state.original_workload_ptr());
    for (const schedule::ParsedStep& p : view.steps) {
      view.before.push_back(cur);
      cur = schedule::apply_step(cur, p);
    }
    view.final_state = cur;
    return true;
  } catch (const schedule::ScheduleError&) {
    return false;
  }
}

std::string step_ref(size_t index) { return std::to_string(index + 1) + ": "; }

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
      const std::string& prim = view.steps[i].primitive;
      if (prim == "split") splits_.push_back(i);
      if (prim == "compute_at" || prim == "reverse_compute_at") placements_.push_back(i);
      if (prim == "unroll") unrolls_.push_back(i);
      if (prim == "parallel") parallels_.push_back(i);
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

  // One edit of the given kind ("" when none could be drawn).
  std::string edit(MutationKind kind) {
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
    return "";
  }

 private:
  std::string tile_size() {
    const size_t i = pick(rng_, splits_);
    const schedule::ParsedStep& p = view_.steps[i];
    const std::string& stage = arg_name(p, 0);
    const std::string& loop = arg_name(p, 1);
    const auto& items = p.args.at(2).value.items;
    const int parts = static_cast<int>(items.size());
    int64_t extent = 0;
    try {
      extent = view_.before[i].loop_extent(stage, loop);
    } catch (const schedule::ScheduleError&) {
      return "";
    }
    if (extent < 2 || parts < 2) return "";
    std::vector<int64_t> current;
    for (size_t f = 1; f < items.size(); ++f) current.push_back(items[f].value);
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
      std::string text = step_ref(i) + "split(" + stage + ", " + loop + ", [None";
      for (int64_t x : inner) text += ", " + std::to_string(x);
      return text + "])";
    }
    return "";
  }

  std::string compute_location() {
    const size_t i = pick(rng_, placements_);
    const schedule::ParsedStep& p = view_.steps[i];
    const std::vector<std::string> loops = without(
        free_leaves(view_.before[i], arg_name(p, 1), p.primitive == "reverse_compute_at"), arg_name(p, 2));
    if (loops.empty()) return "";
    return step_ref(i) + p.primitive + "(" + arg_name(p, 0) + ", " + arg_name(p, 1) + ", " +
           pick(rng_, loops) + ")";
  }

  std::string unroll() {
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
      if (options.empty()) return "";
      const auto& [stage, loop] = pick(rng_, options);
      return "unroll(" + stage + ", " + loop + ")";
    }
    const size_t i = pick(rng_, unrolls_);
    if (op == 1) return step_ref(i) + "delete";
    const schedule::ParsedStep& p = view_.steps[i];
    const std::vector<std::string> loops =
        without(free_leaves(view_.before[i], arg_name(p, 0), false), arg_name(p, 1));
    if (loops.empty()) return "";
    return step_ref(i) + "unroll(" + arg_name(p, 0) + ", " + pick(rng_, loops) + ")";
  }

  std::string parallel() {
    if (parallels_.empty()) {
      std::vector<std::pair<std::string, std::string>> options;
      for (const auto& st : view_.final_state.stages()) {
        if (st->attach.kind != schedule::Attach::Kind::Root || st->leaves.empty()) continue;
        const schedule::LoopVar& v = st->loops[static_cast<size_t>(st->leaves.front())];
        if (!v.reduce && v.kind == ir::ForKind::Serial && v.bind == ir::BindLevel::None)
          options.emplace_back(st->stage, v.name);
      }
      if (options.empty()) return "";
      const auto& [stage, loop] = pick(rng_, options);
      return "parallel(" + stage + ", " + loop + ")";
    }
    const size_t i = pick(rng_, parallels_);
    const schedule::ParsedStep& p = view_.steps[i];
    const std::vector<std::string> loops =
        without(free_leaves(view_.before[i], arg_name(p, 0), true), arg_name(p, 1));
    if (loops.empty()) return "";
    return step_ref(i) + "parallel(" + arg_name(p, 0) + ", " + pick(rng_, loops) + ")";
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
    const std::string action = mutator.edit(kind);
    if (action.empty()) continue;
    try {
      Candidate c = make_candidate(apply_action(state, action));
      if (c.trace == parent_trace) continue;
      c.proposer = "mutation";
      c.action = action + "\n";
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
