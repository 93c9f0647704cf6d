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

// TaskLatency::gain_per_sample_s from the task's rounds `rows` (in round order).
void set_gain(TaskLatency& l, const std::vector<const AllocationRecord*>& rows) {
  // The rounds up to the one that found the task's first correct kernel do not count: the drop from
  // the unscheduled kernel to a first kernel is large for every task and says nothing about what
  // more samples would buy.
  std::size_t found = 0;
  while (found < rows.size() && !positive(rows[found]->task_best_s)) ++found;
  const std::size_t end = rows.size();
  if (found == end) return;
  const std::size_t window = end > static_cast<std::size_t>(kGainRounds) ? end - kGainRounds : 0;
  const std::size_t first = std::max(found + 1, window);
  if (first >= end) return;
  l.gain_rounds = static_cast<int>(end - first);
  const double before = rows[first - 1]->task_best_s;
  const std::optional<double> after = positive(rows[end - 1]->task_best_s);
  int64_t spent = 0;
  for (std::size_t k = first; k < end; ++k) spent += rows[k]->spent;
  if (after && spent > 0) l.gain_per_sample_s = l.weight * (before - *after) / static_cast<double>(spent);
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
    std::vector<const AllocationRecord*> rows;
    for (const AllocationRecord& a : run.allocations)
      if (a.task == t.info.name) rows.push_back(&a);
    set_gain(l, rows);
    m.tasks.push_back(std::move(l));
  }
  int64_t run_samples = 0;
  for (const AllocationRecord& a : run.allocations) {
    run_samples += a.spent;
    m.rounds.push_back({a, run_samples});
  }
  if (every_reference) m.unscheduled_s = unscheduled;
  for (TaskLatency& l : m.tasks)
    if (l.model_s && m.tuned_s > 0) l.share = *l.model_s / m.tuned_s;
  std::stable_sort(m.tasks.begin(), m.tasks.end(),
                   [](const TaskLatency& a, const TaskLatency& b) { return a.share > b.share; });
  return m;
}

std::vector<std::string> worth_more_samples(const ModelLatency& m, std::size_t n) {
  std::vector<const TaskLatency*> gaining;
  for (const TaskLatency& t : m.tasks)
    if (t.gain_per_sample_s && *t.gain_per_sample_s > 0) gaining.push_back(&t);
  std::stable_sort(gaining.begin(), gaining.end(), [](const TaskLatency* a, const TaskLatency* b) {
    return *a->gain_per_sample_s > *b->gain_per_sample_s;
  });
  std::vector<std::string> names;
  for (std::size_t k = 0; k < gaining.size() && k < n; ++k) names.push_back(gaining[k]->name);
  return names;
}

}  // namespace rctune::runlog
