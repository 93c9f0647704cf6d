// The rounds of a run (include/rctune/dist/task_rounds.h).
#include "rctune/dist/task_rounds.h"

#include <algorithm>
#include <cstdio>
#include <span>

#include "rctune/dist/run_setup.h"
#include "rctune/ir/check.h"

namespace rctune::dist {

namespace {

constexpr const char* kConfirmReason = "confirm recorded best";

int64_t rows_recorded(const runlog::RunWriter& writer) {
  const std::vector<runlog::AllocationRecord>& recorded = writer.resumed().allocations;
  return recorded.empty() ? 0 : recorded.back().round + 1;
}

}  // namespace

TaskRounds::TaskRounds(const config::TuneConfig& cfg, std::vector<RoundTask> tasks,
                       search::SchedulerOptions options, runlog::RunWriter& writer, bool replays_rows,
                       bool quiet)
    : cfg_(cfg),
      tasks_(std::move(tasks)),
      state_(tasks_.size()),
      sched_(
          [&] {
            std::vector<search::ScheduledTask> st;
            for (const RoundTask& t : tasks_)
              st.push_back(scheduled_task(cfg, t.config_index, t.name, t.reference_gflops));
            return st;
          }(),
          options),
      writer_(writer),
      quiet_(quiet),
      scheduler_name_(config::effective_scheduler(cfg)),
      next_row_(replays_rows ? 0 : rows_recorded(writer)),
      first_new_row_(rows_recorded(writer)) {
  for (size_t i = 0; i < tasks_.size(); ++i) {
    const RoundTask& t = tasks_[i];
    if (t.prior_samples > 0) sched_.account(i, t.prior_samples, t.prior_best_s);
    if (t.complete) sched_.retire(i);
    state_[i].confirm_due =
        !t.complete && !t.record_confirmed && t.db.recorded_best_s > 0 && !t.db.seeds.empty();
  }
}

std::optional<RoundWork> TaskRounds::next() {
  bool confirming = false;
  for (size_t i = 0; i < tasks_.size(); ++i) {
    State& s = state_[i];
    if (!s.confirm_due) continue;
    confirming = true;
    if (s.busy) continue;
    RoundWork w;
    w.confirmation = true;
    w.allocation.task = i;
    w.allocation.samples = 1;
    w.allocation.reason = kConfirmReason;
    s.busy = true;
    ++in_flight_;
    return w;
  }
  // The scheduler's rounds wait for every confirmation: a task at its record draws none.
  if (confirming) return std::nullopt;
  std::optional<search::Allocation> a = sched_.next();
  if (!a) return std::nullopt;
  RCTUNE_CHECK(!state_[a->task].busy);
  state_[a->task].busy = true;
  ++in_flight_;
  RoundWork w;
  w.allocation = std::move(*a);
  return w;
}

runlog::AllocationRecord TaskRounds::ended(const RoundWork& w, int64_t spent, double best_s, int32_t group,
                                           double wall_time) {
  const size_t i = w.allocation.task;
  State& s = state_.at(i);
  RCTUNE_CHECK(s.busy && in_flight_ > 0);
  s.busy = false;
  --in_flight_;
  if (w.confirmation) {
    sched_.account(i, spent, best_s);
    s.confirm_due = false;
  } else {
    sched_.done(w.allocation, spent, best_s);
  }
  judge(i, w.confirmation, best_s);
  runlog::AllocationRecord row =
      allocation_record(w.allocation, tasks_[i].name, scheduler_name_, spent, best_s, sched_, wall_time);
  row.round = next_row_++;
  row.group = group;
  if (row.round >= first_new_row_)
    writer_.append_allocations(std::span<const runlog::AllocationRecord>(&row, 1));
  return row;
}

// What the task's record decides after a piece of work of the task.
void TaskRounds::judge(size_t i, bool confirmation, double best_s) {
  const RoundTask& t = tasks_[i];
  State& s = state_[i];
  if (confirmation) {
    if (best_s <= 0) {
      if (!quiet_)
        std::fprintf(stderr, "%s: its recorded best did not run correctly here: tuned again\n",
                     t.name.c_str());
      return;
    }
    s.confirmed_s = best_s;
    const bool stops = confirmed_record_stops_task(t.db, best_s, task_share(cfg_, t.config_index));
    if (stops) sched_.retire(i);
    if (quiet_) return;
    std::string verdict;
    if (stops)
      verdict = "; tuned with " + std::to_string(t.db.recorded_samples) + " samples before: no more samples";
    else if (confirmed_at_record(t.db, best_s))
      verdict = "; tuned further";
    else
      verdict = ", slower than recorded: tuned again";
    std::fprintf(stderr, "%s: recorded best confirmed at %.4g ms (recorded %.4g ms)%s\n", t.name.c_str(),
                 1e3 * best_s, 1e3 * t.db.recorded_best_s, verdict.c_str());
    return;
  }
  if (s.confirmed_s <= 0) return;
  ++s.rounds_after;
  if (!stalled_at_record(s.confirmed_s, best_s, s.rounds_after)) return;
  sched_.retire(i);
  if (!quiet_)
    std::fprintf(stderr, "%s: still at its recorded best after %d rounds: no more samples\n", t.name.c_str(),
                 s.rounds_after);
}

}  // namespace rctune::dist
