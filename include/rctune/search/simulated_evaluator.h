// Simulated measurement (`rctune tune --simulate`): an Evaluator that scores each candidate with a
// deterministic function of its lowered program instead of compiling and running it, so that
// searches (and runs of many ranks) can be tested in seconds on any machine.
//
// The result of a candidate (docs/search.md, "Simulated measurement"):
//
//   s      = analytic_score(extract_features(lowered, hardware), hardware)   (search/cost_model.h)
//   s0     = the same for the unscheduled program of the candidate's workload (computed once)
//   g      = min(peak_gflops, base_gflops * (s / s0)^alpha)
//   gflops = g * (1 + noise * u),  u uniform in [-1, 1) from hash(structural hash, seed)
//   median_s = flops / (gflops * 1e9); min_s, max_s, iqr_s spread around it by the same noise
//
// and a fraction failure_fraction of programs (chosen by hash and seed) fail with runtime_error.
// `hardware` is a fixed description of a reference machine, never the host's, so a program gets
// the same result on every machine; equal programs (same structural hash) always get equal results.
// No kernel is compiled or run: compile_s is 0 and a candidate takes microseconds.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "rctune/search/evaluator.h"
#include "rctune/search/features.h"

namespace rctune::search {

// The reference machine of simulated measurement: 32 KiB L1, 1 MiB L2, 32 MiB L3, AVX2 (32-byte
// vectors), 8 cores.
HardwareInfo simulated_hardware();

struct SimulatedOptions {
  HardwareInfo hardware = simulated_hardware();
  double base_gflops = 1.0;     // GFLOP/s of the unscheduled program of every workload
  double alpha = 1.2;           // exponent on the score ratio over the unscheduled program
  double peak_gflops = 400;     // no program is faster
  double noise = 0.03;          // relative amplitude of the pseudo-noise, in [0, 1)
  uint64_t seed = 0;            // varies the noise and the failures (same seed: same results)
  double failure_fraction = 0;  // share of programs that fail with runtime_error, in [0, 1]
  double latency_s = 0;         // wall time each measurement takes (a pause), as compiling and running would
};

class SimulatedEvaluator : public Evaluator {
 public:
  // Throws std::invalid_argument naming the option when one is out of range.
  explicit SimulatedEvaluator(SimulatedOptions options = {});
  std::vector<MeasureResult> measure(const std::vector<Candidate>& batch) override;
  MeasureResult measure_one(const Candidate& c);
  // The noiseless GFLOP/s of a candidate (g above), or NaN when its score is not usable.
  double model_gflops(const Candidate& c);
  const SimulatedOptions& options() const { return options_; }
  int64_t measured() const { return measured_; }

 private:
  // s0 of the candidate's (original, unscheduled) workload, computed on first use.
  double unscheduled_score(const Candidate& c);

  SimulatedOptions options_;
  std::unordered_map<std::string, double> unscheduled_;  // by ir::to_string(workload)
  int64_t measured_ = 0;
};

}  // namespace rctune::search
