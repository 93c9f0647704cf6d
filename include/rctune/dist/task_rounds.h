// The rounds of a run, the same in a one-process run (apps/tune) and in the hub of a many-rank run
// (dist/hub.cpp): which task measures next, and what the end of each piece of work decides.
//
//  - A task with a record of the tuning database on this machine first measures that record again
//    (one sample, a "confirmation"); a record that holds and was tuned as hard as this run would
//    tune the task stops it (dist/database_start.h).
//  - Then the task scheduler (search/task_scheduler.h) hands out rounds; a task that started from
//    its confirmed record and has not beaten it in kRoundsToBeatTheRecord rounds stops.
//  - Every confirmation and round that ends is a row of the trace's /allocations, numbered in the
//    order they end. A resumed one-process run replays its rows (the recorded ones are not written
//    again); a resumed many-rank run cannot replay, so its rows follow the recorded ones.
//
// Whoever executes the work (a task session in this process, or a rank group) asks next() and
// reports ended(); several pieces of work may be in flight at once (rank groups).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rctune/config/tune_config.h"
#include "rctune/dist/database_start.h"
#include "rctune/runlog/runlog.h"
#include "rctune/runlog/writer.h"
#include "rctune/search/task_scheduler.h"

namespace rctune::dist {

// A task as the rounds see it.
struct RoundTask {
  size_t config_index = 0;  // in the config's tasks
  std::string name;         // in the trace
  double reference_gflops = 0;
  DatabaseStart db;               // what the tuning database offers it (nothing: no record)
  int64_t prior_samples = 0;      // samples an earlier session of the trace measured, not replayed
  double prior_best_s = 0;        // the best time among them (0: none)
  bool complete = false;          // nothing left to tune: it gets no work
  bool record_confirmed = false;  // an earlier session confirmed its record: it gets no confirmation
};

// A piece of work: one confirmation (allocation.samples = 1, reason "confirm recorded best") or
// one round of the scheduler. allocation.task indexes the tasks given to TaskRounds.
struct RoundWork {
  bool confirmation = false;
  search::Allocation allocation;
};

class TaskRounds {
 public:
  // `tasks` in the scheduler's order (the run's task order); `options` the run's scheduler options
  // (scheduler_options(), maybe adjusted to rank groups). `replays_rows`: this process replays the
  // trace's recorded rows (a one-process trace), so rows are numbered from 0 and only new ones are
  // written.
  TaskRounds(const config::TuneConfig& cfg, std::vector<RoundTask> tasks, search::SchedulerOptions options,
             runlog::RunWriter& writer, bool replays_rows, bool quiet);

  // The next piece of work: the confirmations first, then the scheduler's rounds once every
  // confirmation has ended. std::nullopt: none now; more may come when work in flight ends
  // (in_flight()), otherwise none is left.
  std::optional<RoundWork> next();
  bool in_flight() const { return in_flight_ > 0; }

  // Work ended: the samples it measured and the task's best time now (0: none correct). The
  // scheduler learns it, the database's rules may stop the task (said on stderr unless quiet),
  // and its row of /allocations is written (group: the rank group that did it, wall_time: the
  // run's clock). Returns the row.
  runlog::AllocationRecord ended(const RoundWork& w, int64_t spent, double best_s, int32_t group,
                                 double wall_time);

  const search::TaskScheduler& scheduler() const { return sched_; }
  const RoundTask& task(size_t i) const { return tasks_.at(i); }
  // The task's time when its record was measured again in this run (0: not confirmed here).
  double confirmed_s(size_t i) const { return state_.at(i).confirmed_s; }

 private:
  struct State {
    bool confirm_due = false;
    bool busy = false;       // work of the task is in flight
    double confirmed_s = 0;  // its record, measured again (0: not confirmed)
    int rounds_after = 0;    // scheduler rounds since the confirmation
  };
  void judge(size_t i, bool confirmation, double best_s);

  const config::TuneConfig& cfg_;
  std::vector<RoundTask> tasks_;
  std::vector<State> state_;
  search::TaskScheduler sched_;
  runlog::RunWriter& writer_;
  const bool quiet_;
  const std::string scheduler_name_;
  int64_t next_row_ = 0;       // number of the next row
  int64_t first_new_row_ = 0;  // rows below it are in the trace already (replayed)
  int in_flight_ = 0;
  size_t confirmations_in_flight_ = 0;
};

}  // namespace rctune::dist
