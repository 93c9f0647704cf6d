// Evaluators measure candidates: the real one compiles and times them (search/runtime_evaluator.h);
// the synthetic one scores them with a deterministic function of the program, for tests of the
// search and for simulated runs.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "rctune/search/candidate.h"

namespace rctune::search {

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual std::vector<MeasureResult> measure(const std::vector<Candidate>& batch) = 0;
};

// GFLOP/s from a function of the candidate (a result <= 0 is a runtime error), never cached.
class SyntheticEvaluator : public Evaluator {
 public:
  explicit SyntheticEvaluator(std::function<double(const Candidate&)> gflops) : gflops_(std::move(gflops)) {}
  std::vector<MeasureResult> measure(const std::vector<Candidate>& batch) override;
  int64_t measured() const { return measured_; }

 private:
  std::function<double(const Candidate&)> gflops_;
  int64_t measured_ = 0;
};

}  // namespace rctune::search
