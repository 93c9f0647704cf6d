// What every rank derives from a run config (include/rctune/dist/run_setup.h).
#include "rctune/dist/run_setup.h"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "rctune/ir/limits.h"
#include "rctune/ir/operators.h"
#include "rctune/ir/text.h"
#include "rctune/runtime/library_baseline.h"
#include "rctune/search/random.h"
#include "rctune/search/runtime_evaluator.h"

namespace rctune::dist {

search::TuneOptions tune_options(const config::TuneConfig& c) {
  search::TuneOptions o;
  o.strategy = c.strategy;
  o.proposer = c.proposer;
  o.seed = c.seed;
  o.budget = c.budget;
  o.measure_batch = c.mcts.measure_batch;
  o.mcts = c.mcts;
  o.evolutionary = c.evolutionary;
  o.use_cost_model = c.cost_model.kind != "none";
  o.cost_model.min_samples = static_cast<size_t>(c.cost_model.min_samples);
  return o;
}

runtime::MeasureOptions measure_options(const config::MeasureConfig& m, uint64_t seed) {
  runtime::MeasureOptions o;
  o.seed = seed;
  o.timing.min_time_s = m.min_time;
  o.timing.min_repeats = m.min_repeats;
  o.timing.max_repeats = m.max_repeats;
  o.timing.warmup = m.warmup;
  o.flush_cache = m.flush_cache;
  o.pin_core = runtime::parse_pin_core(m.pin_core);
  o.timeout_s = m.timeout;
  return o;
}

search::SimulatedOptions simulated_options(const config::TuneConfig& c) {
  search::SimulatedOptions so;
  so.seed = c.seed;
  so.latency_s = c.measure.simulated_latency;
  return so;
}

runtime::JitOptions jit_options(const config::MeasureConfig& m) {
  runtime::JitOptions jit;
  jit.cache_dir = m.cache_dir;
  jit.flags = m.flags;
  return jit;
}

std::unique_ptr<search::Evaluator> make_evaluator(const config::TuneConfig& c, bool simulate,
                                                  const runtime::MeasureOptions& measure) {
  if (simulate) return std::make_unique<search::SimulatedEvaluator>(simulated_options(c));
  return std::make_unique<search::RuntimeEvaluator>(jit_options(c.measure), measure);
}

std::shared_ptr<search::CostModel> shared_cost_model(const config::TuneConfig& c,
                                                     const search::HardwareInfo& hw, bool seeded) {
  const search::TuneOptions o = tune_options(c);
  if ((c.tasks.size() < 2 && !seeded) || !o.use_cost_model) return nullptr;
  search::CostModelOptions cm = o.cost_model;
  cm.seed = search::derive_seed(c.seed, "cost_model");
  cm.normalise_per_task = true;
  return std::make_shared<search::CostModel>(cm, hw);
}

runlog::AllocationRecord allocation_record(const search::Allocation& a, const std::string& task,
                                           const std::string& scheduler, int64_t spent, double task_best_s,
                                           const search::TaskScheduler& sched, double wall_time) {
  runlog::AllocationRecord r;
  r.round = a.round;
  r.wall_time = wall_time;
  r.task = task;
  r.scheduler = scheduler;
  r.reason = a.reason;
  r.priority = a.priority;
  r.samples = a.samples;
  r.spent = spent;
  r.task_best_s = task_best_s;
  r.latency_s = sched.estimated_latency();
  return r;
}

std::vector<std::string> task_names(const config::TuneConfig& c) {
  std::set<std::string> used;
  for (const config::TaskConfig& t : c.tasks)
    if (!t.name.empty()) used.insert(t.name);
  std::vector<std::string> names;
  std::map<std::string, int> seen;
  for (const config::TaskConfig& t : c.tasks) {
    if (!t.name.empty()) {
      names.push_back(t.name);
      continue;
    }
    std::string name;
    do {
      const int k = ++seen[t.workload.name];
      name = k == 1 ? t.workload.name : t.workload.name + "#" + std::to_string(k);
    } while (used.count(name));
    used.insert(name);
    names.push_back(name);
  }
  return names;
}

std::vector<size_t> task_order(const config::TuneConfig& c) {
  std::vector<size_t> order(c.tasks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return c.tasks[x].weight > c.tasks[y].weight; });
  return order;
}

uint64_t task_seed(const config::TuneConfig& c, size_t task, int member) {
  const uint64_t s = search::derive_seed(c.seed, static_cast<uint64_t>(task));
  return member == 0 ? s : search::derive_seed(s, ("rank" + std::to_string(member)).c_str());
}

int64_t task_budget(const config::TuneConfig& c, size_t task) {
  return c.tasks[task].budget > 0 ? c.tasks[task].budget : c.budget;
}

search::SchedulerOptions scheduler_options(const config::TuneConfig& c) {
  search::SchedulerOptions so;
  so.policy = *search::scheduler_policy_of(config::effective_scheduler(c));
  so.total_budget = c.budget;
  so.round = c.strategy == "evolutionary" ? c.evolutionary.measure_batch : tune_options(c).measure_batch;
  return so;
}

search::ScheduledTask scheduled_task(const config::TuneConfig& c, size_t task, const std::string& name,
                                     double reference_gflops) {
  search::ScheduledTask s;
  s.name = name;
  s.weight = c.tasks[task].weight;
  s.initial_seconds = reference_gflops > 0 ? c.tasks[task].workload.flops() / (reference_gflops * 1e9) : 0;
  s.budget = config::effective_scheduler(c) == "per_task" ? task_budget(c, task) : c.tasks[task].budget;
  return s;
}

Baselines measure_baselines(const std::string& task_name, std::shared_ptr<const ir::Workload> workload,
                            search::Evaluator& evaluator, const config::MeasureConfig& measure, int pin_core,
                            bool simulate, bool quiet) {
  Baselines b;
  // Refuse a workload whose buffers cannot fit before the worker or the library baseline allocates them.
  if (!simulate) {
    if (std::string why = ir::check_measurement_fits(*workload); !why.empty())
      throw std::runtime_error(task_name + ": " + why);
  }
  // A large operator's unscheduled kernel is timed on a smaller instance (a simulated one costs
  // nothing, and its runs stay as they are).
  std::shared_ptr<const ir::Workload> timed = workload;
  double scale = 1;
  const std::optional<std::string> spec = simulate ? std::nullopt : ir::operator_spec_of(*workload);
  if (spec) {
    if (const auto r = ir::reduced_operator(*spec, kBaselineMaxFlops)) {
      timed = std::make_shared<const ir::Workload>(ir::make_operator(r->spec));
      scale = workload->flops() / timed->flops();
      b.reference_estimate = r->param + "=" + std::to_string(r->reduced) + " of " + std::to_string(r->full) +
                             ", time x " + ir::fmt("%.4g", scale);
    }
  }
  if (!quiet)
    std::fprintf(stderr, "%s: measuring the unscheduled kernel%s%s\n", task_name.c_str(),
                 simulate ? " (simulated)" : "",
                 b.reference_estimate.empty() ? "" : (" on " + b.reference_estimate).c_str());
  search::MeasureResult ref = evaluator.measure({search::make_candidate(schedule::State(timed))}).front();
  if (ref.ok()) {
    b.reference_seconds = ref.median_s * scale;
    b.reference_gflops = ref.gflops;  // the work per second is what the smaller instance showed
  } else {
    spdlog::warn("{}: the unscheduled kernel failed ({}: {}); speedups are not reported", task_name,
                 runlog::sample_status_name(ref.status), ref.error);
  }
  if (simulate) return b;  // there is no simulated OpenBLAS
  if (auto lib = runtime::measure_library_baseline(*workload, measure.min_time, pin_core)) {
    b.library = lib->name;
    b.library_seconds = lib->median_s;
    b.library_gflops = lib->gflops;
  }
  return b;
}

void write_baselines(runlog::RunWriter& writer, runlog::RunWriter::Task t, const Baselines& b) {
  if (b.reference_gflops > 0)
    writer.set_reference(t, b.reference_seconds, b.reference_gflops, b.reference_estimate);
  if (!b.library.empty()) writer.set_library(t, b.library, b.library_seconds, b.library_gflops);
  if (!b.source.empty()) writer.set_baselines_source(t, b.source);
}

}  // namespace rctune::dist
