// A model's estimated latency from a run's tasks: each task is a distinct workload of the model,
// run `weight` times per inference, so the model's kernels take sum(weight x seconds per run). The
// estimate leaves out what no task covers (the operators `rctune extract` lists as not tuned) and
// the time between kernels. `rctune report` prints it with the same sum for the unscheduled kernels
// and, over the tasks that have one, for the library baselines.
#pragma once

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
};

ModelLatency model_latency(const RunLog& run);

}  // namespace rctune::runlog
