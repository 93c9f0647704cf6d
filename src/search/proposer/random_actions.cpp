// Random schedule primitives for the random proposer: see random_actions.h.
#include "search/proposer/random_actions.h"

#include <algorithm>
#include <optional>

#include "rctune/schedule/primitives.h"
#include "rctune/search/design_space.h"
#include "search/space/nest_analysis.h"

namespace rctune::search::nest {

namespace {

using schedule::Primitive;
using schedule::Step;
using Names = std::vector<std::string>;

// Stages whose body reads `stage`'s tensor, and stages `stage` reads.
std::vector<std::string> producers_of(const schedule::State& s, const std::string& stage) {
  std::vector<std::string> out;
  for (const auto& p : s.stages()) {
    const auto r = schedule::readers_of(s.workload(), p->stage);
    if (std::find(r.begin(), r.end(), stage) != r.end()) out.push_back(p->stage);
  }
  return out;
}

std::optional<Step> random_step(const schedule::State& s, Rng& rng) {
  const auto& stages = s.stages();
  if (stages.empty()) return std::nullopt;
  const schedule::StageSchedule& st = *pick(rng, stages);
  const std::vector<std::string> leaves = st.leaf_names();
  if (leaves.empty()) return std::nullopt;
  const std::string loop = pick(rng, leaves);
  const std::vector<std::string> scopes = {"local", "heap"};
  switch (uniform_int(rng, 0, 12)) {
    case 0:
    case 1: {
      int64_t extent = 1;
      try {
        extent = s.loop_extent(st.stage, loop);
      } catch (const schedule::ScheduleError&) {
        // no extent known: the common factors below
      }
      std::vector<int64_t> fs;
      for (int64_t d : divisors(extent))
        if (d > 1 && d < extent && d <= 64) fs.push_back(d);
      if (fs.empty()) fs = {2, 4, 8, 16};
      return Step{Primitive::Split, {st.stage, loop, schedule::Factors{std::nullopt, pick(rng, fs)}}};
    }
    case 2: {
      if (leaves.size() < 2) return Step{Primitive::Parallel, {st.stage, loop}};
      std::vector<std::string> order = leaves;
      shuffle(rng, order);
      order.resize(static_cast<size_t>(uniform_int(rng, 2, static_cast<int64_t>(order.size()))));
      return Step{Primitive::Reorder, {st.stage, order}};
    }
    case 3: {
      if (leaves.size() < 2) return Step{Primitive::Unroll, {st.stage, loop}};
      const size_t p = static_cast<size_t>(uniform_int(rng, 0, static_cast<int64_t>(leaves.size()) - 2));
      return Step{Primitive::Fuse, {st.stage, Names{leaves[p], leaves[p + 1]}}};
    }
    case 4:
      return Step{Primitive::Parallel, {st.stage, loop}};
    case 5:
      return Step{Primitive::Vectorize, {st.stage, leaves.back()}};
    case 6:
      return Step{Primitive::Unroll, {st.stage, loop}};
    case 7:
      return Step{Primitive::CacheWrite, {st.stage, pick(rng, scopes)}};
    case 8: {
      std::vector<std::string> inputs = s.workload().input_names();
      if (inputs.empty()) return Step{Primitive::CacheWrite, {st.stage, "local"}};
      const std::string t = pick(rng, inputs);
      std::vector<std::string> readers = schedule::readers_of(s.workload(), t);
      const std::string scope = pick(rng, scopes);
      Names chosen;
      if (!readers.empty()) chosen.push_back(pick(rng, readers));
      return Step{Primitive::CacheRead, {t, scope, chosen}};
    }
    case 9:
    case 10: {
      std::vector<std::string> readers = schedule::readers_of(s.workload(), st.stage);
      if (readers.empty()) return Step{Primitive::Vectorize, {st.stage, leaves.back()}};
      const std::string target = pick(rng, readers);
      const std::vector<std::string> tl = s.stage(target)->leaf_names();
      if (tl.empty()) return std::nullopt;
      return Step{Primitive::ComputeAt, {st.stage, target, pick(rng, tl)}};
    }
    case 11: {
      std::vector<std::string> producers = producers_of(s, st.stage);
      if (producers.empty()) return Step{Primitive::Unroll, {st.stage, loop}};
      const std::string target = pick(rng, producers);
      const std::vector<std::string> tl = s.stage(target)->leaf_names();
      if (tl.empty()) return std::nullopt;
      return Step{Primitive::ReverseComputeAt, {st.stage, target, pick(rng, tl)}};
    }
    default:
      if (bernoulli(rng, 0.5)) return Step{Primitive::ComputeInline, {st.stage}};
      return Step{Primitive::DecomposeReduction, {st.stage, loop}};
  }
}

}  // namespace

std::string random_primitive(const schedule::State& s, Rng& rng) {
  const std::optional<Step> step = random_step(s, rng);
  return step ? schedule::to_text(*step) : "";
}

}  // namespace rctune::search::nest
