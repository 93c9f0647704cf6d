// A model's estimated latency from a run's tasks: each task is a distinct workload of the model,
// run `weight` times per inference, so the model's kernels take sum(weight x seconds per run). The
// estimate leaves out what no task covers (the operators `rctune extract` lists as not tuned) and
// the time between kernels. `rctune report` prints it with the same sum for the unscheduled kernels
// and, over the tasks that have one, for the library baselines; and, for a run whose task scheduler
// shared the budget among the tasks (RunLog::allocations), the estimate after each round and what
// each task's last rounds gained.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rctune/runlog/runlog.h"

namespace rctune::runlog {

struct TaskLatency {
  std::string name;
  double weight = 1;
  std::optional<double> best_s;       // fastest correct sample, seconds per run (none: no sample ok)
  std::optional<double> reference_s;  // the unscheduled kernel (none: not measured)
  std::optional<double> library_s;    // the library baseline (none: no library computes it)
  // weight x the time the model gets from this task: the best sample, else the unscheduled kernel
  // (none when neither was measured).
  std::optional<double> model_s;
  double share = 0;  // of the model's estimated latency, in [0, 1]
  // The drop of weight x time per run over the task's last kGainRounds rounds of the task scheduler
  // (fewer if it had fewer), per sample spent in them: seconds of model latency per sample. Only
  // rounds after the one that found the task's first correct kernel count (the drop from the
  // unscheduled kernel to a first kernel is large for every task and says nothing about what more
  // samples would buy); the drop is measured from the task's best before those rounds to its best
  // after the last. None: the task had no round after its first kernel, or spent no sample in them.
  std::optional<double> gain_per_sample_s;
  int gain_rounds = 0;  // the task's rounds the gain is measured over (0: none)
};

// How many of a task's last rounds its gain per sample is measured over.
inline constexpr int kGainRounds = 3;

// One round of the task scheduler, with the samples measured in the run up to its end.
struct RoundLatency {
  AllocationRecord allocation;
  int64_t run_samples = 0;  // sum of `spent` over this round and every round before it
};

struct ModelLatency {
  std::vector<TaskLatency> tasks;  // by share, largest first (ties: run order)
  double tuned_s = 0;              // sum of model_s over the tasks that have one
  int missing = 0;                 // tasks with neither a correct sample nor an unscheduled time
  // sum(weight x reference_s) when every task's unscheduled time is known.
  std::optional<double> unscheduled_s;
  // Over the tasks that have a library baseline and a correct sample: their tuned sum and their
  // library sum (both 0 when no task has one).
  int library_tasks = 0;
  double library_tuned_s = 0, library_s = 0;
  std::vector<RoundLatency> rounds;  // every allocation, in round order (empty: no task scheduler)
};

ModelLatency model_latency(const RunLog& run);

// The names of up to `n` tasks with the largest positive gain per sample, largest first (ties: the
// order of m.tasks): those worth more samples. Empty when no task's last rounds improved it.
std::vector<std::string> worth_more_samples(const ModelLatency& m, std::size_t n = 3);

}  // namespace rctune::runlog
