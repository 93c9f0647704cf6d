// The real measurement pipeline for the search: each candidate's lowered program becomes a Kokkos
// kernel (codegen), is JIT-compiled, checked against the reference and timed in the supervised
// worker (rctune/runtime/evaluate.h). MeasurementCache reuses the result of a program measured
// before (same structural hash), so strategies that propose the same program share one measurement.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "rctune/runtime/measurer.h"
#include "rctune/search/evaluator.h"

namespace rctune::search {

class RuntimeEvaluator : public Evaluator {
 public:
  RuntimeEvaluator(runtime::JitOptions jit, runtime::MeasureOptions options,
                   runtime::WorkerOptions worker = {});
  std::vector<MeasureResult> measure(const std::vector<Candidate>& batch) override;
  MeasureResult measure_one(const Candidate& c);
  const runtime::MeasureOptions& options() const { return options_; }
  // The Kokkos execution space the worker runs kernels in ("Serial", "OpenMP", ...); starts the
  // worker. "unknown" if it does not say.
  std::string execution_space();

 private:
  runtime::Measurer measurer_;
  runtime::MeasureOptions options_;
};

// Results by structural hash, shared by the strategies of a run (or of a benchmark).
using MeasurementCache = std::unordered_map<uint64_t, MeasureResult>;

// Measures through `inner` only programs the cache does not know; hits come back with cached =
// true and compile_s = 0.
class CachedEvaluator : public Evaluator {
 public:
  CachedEvaluator(Evaluator& inner, MeasurementCache& cache) : inner_(inner), cache_(cache) {}
  std::vector<MeasureResult> measure(const std::vector<Candidate>& batch) override;
  int64_t hits() const { return hits_; }

 private:
  Evaluator& inner_;
  MeasurementCache& cache_;
  int64_t hits_ = 0;
};

}  // namespace rctune::search
