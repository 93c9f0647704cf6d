// Simulated measurement: GFLOP/s as a deterministic function of the lowered program (the analytic
// roofline score on a fixed reference machine, relative to the unscheduled program), with
// hash-derived pseudo-noise and failures. See include/rctune/search/simulated_evaluator.h.
#include "rctune/search/simulated_evaluator.h"
#include "rctune/ir/check.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "rctune/ir/workload.h"
#include "rctune/search/cost_model.h"
#include "rctune/search/random.h"

namespace rctune::search {

namespace {

// A double in [0, 1) from the 53 high bits of a 64-bit hash.
double unit(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

std::string num(double v) { return std::to_string(v); }

}  // namespace

HardwareInfo simulated_hardware() {
  HardwareInfo hw;
  hw.l1_bytes = 32 * 1024;
  hw.l2_bytes = 1024 * 1024;
  hw.l3_bytes = 32 * 1024 * 1024;
  hw.vector_bytes = 32;
  hw.cores = 8;
  return hw;
}

SimulatedEvaluator::SimulatedEvaluator(SimulatedOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  auto bad = [](const std::string& what) { return std::invalid_argument("SimulatedEvaluator: " + what); };
  if (!(o.base_gflops > 0)) throw bad("base_gflops must be positive, got " + num(o.base_gflops));
  if (!(o.alpha > 0)) throw bad("alpha must be positive, got " + num(o.alpha));
  if (!(o.peak_gflops >= o.base_gflops))
    throw bad("peak_gflops must be at least base_gflops, got " + num(o.peak_gflops));
  if (!(o.noise >= 0 && o.noise < 1)) throw bad("noise must be in [0, 1), got " + num(o.noise));
  if (!(o.failure_fraction >= 0 && o.failure_fraction <= 1))
    throw bad("failure_fraction must be in [0, 1], got " + num(o.failure_fraction));
}

double SimulatedEvaluator::unscheduled_score(const Candidate& c) {
  const std::shared_ptr<const ir::Workload> original = c.state.original_workload_ptr();
  RCTUNE_CHECK(original && "a candidate's state has its workload");
  std::string key = ir::to_string(*original);
  auto it = unscheduled_.find(key);
  if (it != unscheduled_.end()) return it->second;
  const Candidate plain = make_candidate(schedule::State(original));
  const double s0 = analytic_score(extract_features(*plain.lowered, options_.hardware), options_.hardware);
  unscheduled_.emplace(std::move(key), s0);
  return s0;
}

double SimulatedEvaluator::model_gflops(const Candidate& c) {
  RCTUNE_CHECK(c.lowered && "a candidate is lowered");
  const double s = analytic_score(extract_features(*c.lowered, options_.hardware), options_.hardware);
  const double s0 = unscheduled_score(c);
  if (!(s > 0) || !(s0 > 0) || !std::isfinite(s) || !std::isfinite(s0)) return kNaN;
  return std::min(options_.peak_gflops, options_.base_gflops * std::pow(s / s0, options_.alpha));
}

MeasureResult SimulatedEvaluator::measure_one(const Candidate& c) {
  ++measured_;
  if (options_.latency_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(options_.latency_s));
  MeasureResult r;
  r.compile_s = 0;
  const uint64_t key = derive_seed(options_.seed, c.hash);
  if (unit(derive_seed(key, "simulated-failure")) < options_.failure_fraction) {
    r.status = runlog::SampleStatus::RuntimeError;
    r.error = "simulated runtime error (failure_fraction " + num(options_.failure_fraction) + ")";
    return r;
  }
  const double g = model_gflops(c);
  if (!std::isfinite(g)) {
    r.status = runlog::SampleStatus::RuntimeError;
    r.error = "simulated measurement: the analytic score of the program is not usable";
    return r;
  }
  const double n = options_.noise;
  const double gflops = g * (1 + n * (2 * unit(derive_seed(key, "simulated-noise")) - 1));
  const double flops = c.state.original_workload_ptr()->flops();
  r.gflops = gflops;
  r.median_s = (flops > 0 ? flops : 1.0) / (gflops * 1e9);
  r.min_s = r.median_s * (1 - n * unit(derive_seed(key, "simulated-min")));
  r.max_s = r.median_s * (1 + 2 * n * unit(derive_seed(key, "simulated-max")));
  r.iqr_s = r.median_s * n * unit(derive_seed(key, "simulated-iqr"));
  return r;
}

std::vector<MeasureResult> SimulatedEvaluator::measure(const std::vector<Candidate>& batch) {
  std::vector<MeasureResult> out;
  out.reserve(batch.size());
  for (const Candidate& c : batch) out.push_back(measure_one(c));
  return out;
}

}  // namespace rctune::search
