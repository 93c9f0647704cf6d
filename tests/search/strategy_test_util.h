// Shared set-up of the strategy tests: a task context (design space, predictor, proposer) and a
// synthetic objective with a known optimum.
#pragma once

#include <cmath>
#include <memory>
#include <string>

#include "rctune/ir/operators.h"
#include "rctune/search/design_space.h"
#include "rctune/search/evaluator.h"
#include "rctune/search/features.h"
#include "rctune/search/predictor.h"
#include "rctune/search/proposer.h"
#include "rctune/search/strategy.h"

namespace rctune::testing {

// A fixed machine, so that tests do not depend on the host: AVX-512, 8 cores, OpenMP.
inline search::HardwareDescription fixed_hardware(const std::string& cpu_model) {
  search::HardwareDescription d;
  d.info.l1_bytes = 48 * 1024;
  d.info.l2_bytes = 1024 * 1024;
  d.info.l3_bytes = 32 * 1024 * 1024;
  d.info.vector_bytes = 64;
  d.info.cores = 8;
  d.cpu_model = cpu_model;
  d.execution_space = "OpenMP";
  return d;
}

// Everything a strategy of one task needs, owned together.
struct StrategyFixture {
  std::shared_ptr<const ir::Workload> workload;
  search::HardwareInfo hw;
  std::unique_ptr<search::DesignSpace> space;
  std::unique_ptr<search::Predictor> predictor;
  std::unique_ptr<search::Proposer> proposer;

  explicit StrategyFixture(const std::string& spec, const std::string& proposer_name = "heuristic",
                           bool use_model = true)
      : workload(std::make_shared<const ir::Workload>(ir::make_operator(spec))) {
    hw = search::HardwareInfo{};  // fixed, so that tests do not depend on the machine
    space = std::make_unique<search::DesignSpace>(workload, hw);
    search::CostModelOptions cm;
    cm.seed = 7;
    predictor = std::make_unique<search::Predictor>(cm, hw, use_model);
    proposer = proposer_name == "random" ? search::make_random_proposer(space.get())
                                         : search::make_heuristic_proposer(space.get());
  }

  search::SearchContext context(uint64_t seed) const {
    search::SearchContext ctx;
    ctx.workload = workload;
    ctx.space = space.get();
    ctx.predictor = predictor.get();
    ctx.proposer = proposer.get();
    ctx.hardware.info = hw;
    ctx.hardware.execution_space = "Serial";
    ctx.seed = seed;
    return ctx;
  }
};

// A synthetic objective whose optimum is known: 100 GFLOP/s for programs whose features equal
// those of a target program of the design space, falling off with the distance between feature
// vectors (mean absolute difference of the log-scaled features).
struct DistanceObjective {
  std::vector<double> target;
  search::HardwareInfo hw;
  static constexpr double kOptimum = 100.0;

  double operator()(const search::Candidate& c) const {
    const std::vector<double> f = search::extract_features(*c.lowered, hw);
    double d = 0;
    for (size_t i = 0; i < f.size(); ++i) d += std::abs(f[i] - target[i]);
    d /= static_cast<double>(f.size());
    return kOptimum * std::exp(-4.0 * d);
  }
};

}  // namespace rctune::testing
