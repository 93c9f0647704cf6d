#include "rctune/runlog/model_latency.h"

#include <algorithm>
#include <cmath>

namespace rctune::runlog {
namespace {

std::optional<double> positive(double seconds) {
  return std::isfinite(seconds) && seconds > 0 ? std::optional<double>(seconds) : std::nullopt;
}

// The fastest correct sample's seconds per run.
std::optional<double> best_seconds(const TaskLog& t) {
  std::optional<double> best;
  for (const SampleRecord& s : t.samples) {
    if (s.status != SampleStatus::Ok) continue;
    const std::optional<double> v = positive(s.median_s);
    if (v && (!best || *v < *best)) best = v;
  }
  return best;
}

}  // namespace

ModelLatency model_latency(const RunLog& run) {
  ModelLatency m;
  bool every_reference = !run.tasks.empty();
  double unscheduled = 0;
  for (const TaskLog& t : run.tasks) {
    TaskLatency l;
    l.name = t.info.name;
    l.weight = t.info.weight;
    l.best_s = best_seconds(t);
    l.reference_s = positive(t.info.reference_seconds);
    l.library_s = positive(t.info.library_seconds);
    if (const std::optional<double> run_s = l.best_s ? l.best_s : l.reference_s)
      l.model_s = l.weight * *run_s;
    if (l.model_s)
      m.tuned_s += *l.model_s;
    else
      ++m.missing;
    if (l.reference_s)
      unscheduled += l.weight * *l.reference_s;
    else
      every_reference = false;
    if (l.library_s && l.best_s) {
      ++m.library_tasks;
      m.library_tuned_s += l.weight * *l.best_s;
      m.library_s += l.weight * *l.library_s;
    }
    m.tasks.push_back(std::move(l));
  }
  if (every_reference) m.unscheduled_s = unscheduled;
  for (TaskLatency& l : m.tasks)
    if (l.model_s && m.tuned_s > 0) l.share = *l.model_s / m.tuned_s;
  std::stable_sort(m.tasks.begin(), m.tasks.end(),
                   [](const TaskLatency& a, const TaskLatency& b) { return a.share > b.share; });
  return m;
}

}  // namespace rctune::runlog
