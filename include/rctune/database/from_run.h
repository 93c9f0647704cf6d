// What a finished tuning run gives the tuning database: the fastest correct samples of each of its
// tasks, as records keyed by the task's workload, the hardware and the compiler flags it was
// measured with.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "rctune/database/record.h"
#include "rctune/runlog/runlog.h"

namespace rctune::database {

// How many records of each task a run stores: its fastest samples with distinct schedules.
inline constexpr int kRecordsPerTask = 8;

// The records of `run`: for each task whose name is in `workload_keys` (task name -> workload_key()
// of its workload), its `per_task` fastest correct samples, one per schedule, fastest first, with
// the samples the task spent in the run (every session) and the trace file as the run.
std::vector<TuningRecord> records_of_run(const runlog::RunLog& run,
                                         const std::map<std::string, std::string>& workload_keys,
                                         const HardwareFingerprint& hardware, const std::string& flags,
                                         int per_task = kRecordsPerTask);

// The baselines of `run` as records (kinds Unscheduled and Library): for each task whose name is in
// `workload_keys`, its unscheduled kernel's time (with how it was estimated) and its library
// routine's, where the trace has them. Their `samples` is 0: no tuning is behind them.
std::vector<TuningRecord> baseline_records_of_run(const runlog::RunLog& run,
                                                  const std::map<std::string, std::string>& workload_keys,
                                                  const HardwareFingerprint& hardware,
                                                  const std::string& flags);

}  // namespace rctune::database
