#include "rctune/search/candidate.h"

#include "rctune/schedule/lower.h"
#include "rctune/schedule/trace.h"
#include "rctune/search/evaluator.h"

namespace rctune::search {

Candidate make_candidate(const schedule::State& state) {
  Candidate c;
  c.state = state;
  c.lowered = std::make_shared<const ir::LoweredFunc>(schedule::lower(state));
  c.hash = schedule::structural_hash(*c.lowered);
  c.trace = schedule::to_text(state.trace());
  return c;
}

Candidate make_candidate(std::shared_ptr<const ir::Workload> workload, const std::string& trace_text) {
  return make_candidate(schedule::apply_trace(schedule::State(std::move(workload)), trace_text));
}

std::vector<MeasureResult> SyntheticEvaluator::measure(const std::vector<Candidate>& batch) {
  std::vector<MeasureResult> out;
  out.reserve(batch.size());
  for (const Candidate& c : batch) {
    MeasureResult r;
    const double g = gflops_(c);
    ++measured_;
    if (g > 0) {
      r.gflops = g;
      const double flops = c.state.workload().flops();
      r.median_s = r.min_s = r.max_s = flops > 0 ? flops / (g * 1e9) : 1.0 / g;
      r.iqr_s = 0;
    } else {
      r.status = runlog::SampleStatus::RuntimeError;
      r.error = "synthetic objective rejected the program";
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace rctune::search
