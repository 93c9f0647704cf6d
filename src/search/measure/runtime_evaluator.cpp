// The real measurement pipeline for the search (include/rctune/search/runtime_evaluator.h).
#include "rctune/search/runtime_evaluator.h"

#include "rctune/codegen/kokkos.h"
#include "rctune/runtime/evaluate.h"

namespace rctune::search {

RuntimeEvaluator::RuntimeEvaluator(runtime::JitOptions jit, runtime::MeasureOptions options,
                                   runtime::WorkerOptions worker)
    : measurer_(std::move(jit), std::move(worker)), options_(std::move(options)) {}

MeasureResult RuntimeEvaluator::measure_one(const Candidate& c) {
  MeasureResult r;
  codegen::KernelSource kernel;
  try {
    kernel = codegen::generate_kernel(*c.lowered);
  } catch (const std::exception& e) {
    r.status = runlog::SampleStatus::CompileError;
    r.error = std::string("code generation failed: ") + e.what();
    return r;
  }
  const runtime::Measurement m =
      runtime::evaluate(measurer_, *c.state.original_workload_ptr(), *c.lowered, kernel, options_);
  r.status = m.status;
  r.error = m.message;
  r.compile_s = m.compile_seconds;
  if (m.ok()) {
    r.median_s = m.times.median_s;
    r.min_s = m.times.min_s;
    r.max_s = m.times.max_s;
    r.iqr_s = m.times.iqr_s;
    r.gflops = m.gflops;
  }
  return r;
}

std::string RuntimeEvaluator::execution_space() {
  measurer_.worker().start();
  return measurer_.worker().hello().value("kokkos_execution_space", std::string("unknown"));
}

std::vector<MeasureResult> RuntimeEvaluator::measure(const std::vector<Candidate>& batch) {
  std::vector<MeasureResult> out;
  out.reserve(batch.size());
  for (const Candidate& c : batch) out.push_back(measure_one(c));
  return out;
}

std::vector<MeasureResult> CachedEvaluator::measure(const std::vector<Candidate>& batch) {
  std::vector<MeasureResult> out(batch.size());
  std::vector<Candidate> todo;
  std::vector<size_t> where;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto it = cache_.find(batch[i].hash);
    if (it != cache_.end()) {
      out[i] = it->second;
      out[i].cached = true;
      out[i].compile_s = 0;
      ++hits_;
    } else {
      todo.push_back(batch[i]);
      where.push_back(i);
    }
  }
  if (!todo.empty()) {
    std::vector<MeasureResult> fresh = inner_.measure(todo);
    for (size_t k = 0; k < fresh.size(); ++k) {
      cache_[todo[k].hash] = fresh[k];
      out[where[k]] = std::move(fresh[k]);
    }
  }
  return out;
}

}  // namespace rctune::search
