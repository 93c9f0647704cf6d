// DesignSpace (rctune/search/design_space.h): the workload's analysis and sketches, computed once
// in the constructor; sampling (a sketch's state with random parameters, kept only when it lowers)
// and mutation (src/search/space/mutator.cpp); factorizations() for tile sizes.
#include "rctune/search/design_space.h"
#include "rctune/ir/check.h"

#include <functional>

#include "search/space/mutator.h"
#include "rctune/schedule/error.h"
#include "search/space/sketch_rules.h"

namespace rctune::search {

const char* mutation_kind_name(MutationKind k) {
  switch (k) {
    case MutationKind::TileSize:
      return "tile_size";
    case MutationKind::ComputeLocation:
      return "compute_location";
    case MutationKind::Unroll:
      return "unroll";
    case MutationKind::Parallel:
      return "parallel";
  }
  return "?";
}

struct DesignSpace::Impl {
  std::shared_ptr<const ir::Workload> workload;
  HardwareInfo hw;
  detail::WorkloadFacts facts;
  std::vector<detail::Sketch> sketches;
  std::vector<SketchInfo> infos;
  std::vector<double> weights;  // how often sample() draws each sketch
};

DesignSpace::DesignSpace(std::shared_ptr<const ir::Workload> workload, HardwareInfo hw)
    : impl_(std::make_unique<Impl>()) {
  if (!workload) throw std::invalid_argument("DesignSpace: no workload");
  impl_->workload = std::move(workload);
  impl_->hw = hw;
  impl_->facts = detail::analyze_workload(*impl_->workload, hw);
  impl_->sketches = detail::make_sketches(impl_->facts);
  RCTUNE_CHECK(!impl_->sketches.empty());
  for (const detail::Sketch& s : impl_->sketches) {
    impl_->infos.push_back(s.info);
    impl_->weights.push_back(s.weight);
  }
}

DesignSpace::~DesignSpace() = default;
DesignSpace::DesignSpace(DesignSpace&&) noexcept = default;
DesignSpace& DesignSpace::operator=(DesignSpace&&) noexcept = default;

const ir::Workload& DesignSpace::workload() const { return *impl_->workload; }
std::shared_ptr<const ir::Workload> DesignSpace::workload_ptr() const { return impl_->workload; }
const HardwareInfo& DesignSpace::hardware() const { return impl_->hw; }
const std::vector<SketchInfo>& DesignSpace::sketches() const { return impl_->infos; }

Candidate DesignSpace::sample(Rng& rng) const {
  return sample_sketch(weighted_index(rng, impl_->weights), rng);
}

std::vector<Candidate> DesignSpace::sample(Rng& rng, size_t n) const {
  std::vector<Candidate> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(sample(rng));
  return out;
}

Candidate DesignSpace::sample_sketch(size_t sketch, Rng& rng) const {
  if (sketch >= impl_->sketches.size())
    throw std::out_of_range("DesignSpace::sample_sketch: sketch " + std::to_string(sketch) + " of " +
                            std::to_string(impl_->sketches.size()));
  const detail::Sketch& k = impl_->sketches[sketch];
  constexpr int kAttempts = 16;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    try {
      Candidate c = make_candidate(detail::sample_sketch_state(k, impl_->facts, impl_->workload, rng));
      c.proposer = "design_space";
      c.rationale = k.info.name;
      return c;
    } catch (const schedule::ScheduleError&) {
      // A parameter choice the sketch cannot take here (or that does not lower): draw again.
    }
  }
  // Every draw failed: the unscheduled program, which always lowers.
  Candidate c = make_candidate(schedule::State(impl_->workload));
  c.proposer = "design_space";
  c.rationale = k.info.name + " (fallback: unscheduled)";
  return c;
}

std::optional<Mutation> DesignSpace::mutate(const schedule::State& state, Rng& rng) const {
  return detail::mutate_state(state, impl_->facts.lanes, rng);
}

std::vector<int64_t> divisors(int64_t n) {
  std::vector<int64_t> small, large;
  for (int64_t d = 1; d * d <= n; ++d) {
    if (n % d) continue;
    small.push_back(d);
    if (d != n / d) large.push_back(n / d);
  }
  small.insert(small.end(), large.rbegin(), large.rend());
  return small;
}

std::vector<std::vector<int64_t>> factorizations(int64_t extent, int parts, int64_t max_innermost) {
  std::vector<std::vector<int64_t>> out;
  if (extent < 1 || parts < 1) return out;
  std::vector<int64_t> current;
  // Factors chosen outermost first; the last takes what is left.
  std::function<void(int64_t)> rec = [&](int64_t rest) {
    if (static_cast<int>(current.size()) == parts - 1) {
      if (max_innermost > 0 && rest > max_innermost) return;
      current.push_back(rest);
      out.push_back(current);
      current.pop_back();
      return;
    }
    for (int64_t d : divisors(rest)) {
      current.push_back(d);
      rec(rest / d);
      current.pop_back();
    }
  };
  rec(extent);
  return out;
}

}  // namespace rctune::search
