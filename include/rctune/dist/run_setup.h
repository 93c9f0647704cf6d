// What every rank derives from a run config in the same way: search options, measurement options,
// task names and order, per-task seeds, and the baselines (unscheduled kernel, library routine)
// measured once per task. Shared by the plain run (apps/tune) and the ranks of a many-rank run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rctune/config/tune_config.h"
#include "rctune/runlog/runlog.h"
#include "rctune/runlog/writer.h"
#include "rctune/runtime/measurer.h"
#include "rctune/search/evaluator.h"
#include "rctune/search/simulated_evaluator.h"
#include "rctune/search/task_scheduler.h"
#include "rctune/search/tuner.h"

namespace rctune::dist {

search::TuneOptions tune_options(const config::TuneConfig& c);
// The cost model every task of a run (or of a rank) shares, as MetaSchedule shares one: null for a
// run of one task (unless `seeded`: the model starts from a tuning database's records) or without a
// cost model (cost_model.kind: none).
std::shared_ptr<search::CostModel> shared_cost_model(const config::TuneConfig& c,
                                                     const search::HardwareInfo& hw, bool seeded = false);
runtime::MeasureOptions measure_options(const config::MeasureConfig& m, uint64_t seed);
// The simulated measurement of a run (rctune tune --simulate).
search::SimulatedOptions simulated_options(const config::TuneConfig& c);
runtime::JitOptions jit_options(const config::MeasureConfig& m);
// What measures a run's candidates: the simulated evaluator, or compile-and-run (a
// search::RuntimeEvaluator) with `measure`.
std::unique_ptr<search::Evaluator> make_evaluator(const config::TuneConfig& c, bool simulate,
                                                  const runtime::MeasureOptions& measure);

// The /allocations row of a round of `task` that ended: the allocation, the samples it spent, the
// task's best time now (0: none), the scheduler's estimated model latency, the run's clock.
runlog::AllocationRecord allocation_record(const search::Allocation& a, const std::string& task,
                                           const std::string& scheduler, int64_t spent, double task_best_s,
                                           const search::TaskScheduler& sched, double wall_time);

// Task names unique in the run: the workload's name, "#2", "#3", ... for repeats.
std::vector<std::string> task_names(const config::TuneConfig& c);
// Task indices heaviest first (ties in config order): the order tasks are tuned in.
std::vector<size_t> task_order(const config::TuneConfig& c);
// The seed of a task (and of rank `member` of its group: member 0 gets the task's own seed, so a
// group of one makes a plain run's decisions).
uint64_t task_seed(const config::TuneConfig& c, size_t task, int member = 0);
// The samples a task is tuned for under per_task; under the other schedulers, the most it may get
// (its own budget) or the run's budget.
int64_t task_budget(const config::TuneConfig& c, size_t task);
// The task scheduler of a run (search/task_scheduler.h): its policy (config::effective_scheduler),
// the run's budget, rounds of the strategy's measure batch.
search::SchedulerOptions scheduler_options(const config::TuneConfig& c);
// Task `task` as the scheduler sees it: its weight, its unscheduled time (from the unscheduled
// kernel's GFLOP/s; 0: unknown) and its budget (per_task: task_budget(); otherwise its own cap).
search::ScheduledTask scheduled_task(const config::TuneConfig& c, size_t task, const std::string& name,
                                     double reference_gflops);

// The work above which the unscheduled kernel of an operator is timed on a smaller instance of it
// (ir::reduced_operator) and its time scaled by the work: a naive 128x14336x4096 matmul runs for
// about a minute, and the check and the timing run it several times before the first sample.
// 1e8 floating-point operations take about half a second unscheduled on one core.
inline constexpr double kBaselineMaxFlops = 1e8;

// The task's baselines: the unscheduled kernel (measured through `evaluator`) and, unless
// simulated, the library routine. Failures are reported on stderr, not thrown.
struct Baselines {
  double reference_seconds = 0, reference_gflops = 0;
  std::string reference_estimate;  // runlog::TaskInfo::reference_estimate
  std::string library;
  double library_seconds = 0, library_gflops = 0;
  std::string source;  // runlog::TaskInfo::baselines_source ("": measured now)
};
Baselines measure_baselines(const std::string& task_name, std::shared_ptr<const ir::Workload> workload,
                            search::Evaluator& evaluator, const config::MeasureConfig& measure, int pin_core,
                            bool simulate, bool quiet);

// The baselines in the trace's task `t` (those known: an unscheduled time of 0 or no library is not
// written).
void write_baselines(runlog::RunWriter& writer, runlog::RunWriter::Task t, const Baselines& b);

// RunInfo.execution_space of a run with simulated measurement.
inline constexpr const char* kSimulated = "simulated";

}  // namespace rctune::dist
