// dist::TaskRounds: the work of a run (confirmations of tuning-database records, then the task
// scheduler's rounds), what the end of each piece decides, and the rows of /allocations.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "../runlog/runlog_test_util.h"
#include "rctune/config/tune_config.h"
#include "rctune/dist/task_rounds.h"

namespace rctune::dist {
namespace {

using runlog::testing::sample_run_info;
using runlog::testing::TempDir;

// Two tasks of 1 GFLOP/s unscheduled: "big" (weight 4) and "small".
config::TuneConfig two_tasks(int budget = 48) {
  return config::parse_tune_config("budget: " + std::to_string(budget) +
                                   "\ntasks:\n  - {workload: 'matmul:M=64,N=64,K=64', name: big, weight: 4}\n"
                                   "  - {workload: 'matmul:M=32,N=32,K=32', name: small}\n");
}

std::vector<RoundTask> tasks_of(const config::TuneConfig& c) {
  std::vector<RoundTask> out;
  for (size_t i = 0; i < c.tasks.size(); ++i) {
    RoundTask t;
    t.config_index = i;
    t.name = c.tasks[i].name;
    t.reference_gflops = 1;
    out.push_back(t);
  }
  return out;
}

// A record of `seconds`, tuned with `samples` samples, as the tuning database offers it.
DatabaseStart record(double seconds, int64_t samples) {
  DatabaseStart s;
  s.recorded_best_s = seconds;
  s.recorded_samples = samples;
  s.seeds = {{"split(C, i, [None, 8])", "database", "recorded on this machine"}};
  return s;
}

struct Rounds {
  TempDir dir;
  config::TuneConfig cfg;
  runlog::RunWriter writer;
  TaskRounds rounds;
  Rounds(config::TuneConfig c, std::vector<RoundTask> tasks)
      : cfg(std::move(c)),
        writer(runlog::RunWriter::create(dir.file("run.h5"), sample_run_info())),
        rounds(cfg, std::move(tasks), scheduler_options(cfg), writer, true, true) {}
};

// Ends every piece of work at once with `best(task, confirmation)`, until there is none; returns
// the tasks of the scheduler's rounds in order.
std::vector<size_t> run_all(TaskRounds& r, const std::function<double(size_t, bool)>& best) {
  std::vector<size_t> order;
  while (const std::optional<RoundWork> w = r.next()) {
    if (!w->confirmation) order.push_back(w->allocation.task);
    r.ended(*w, w->allocation.samples, best(w->allocation.task, w->confirmation), 0, 0);
  }
  EXPECT_FALSE(r.in_flight());
  return order;
}

TEST(TaskRounds, ARecordIsConfirmedWithOneSampleBeforeAnyRound) {
  const config::TuneConfig c = two_tasks();
  std::vector<RoundTask> t = tasks_of(c);
  t[1].db = record(1e-3, 4);
  Rounds r(c, t);
  const std::optional<RoundWork> w = r.rounds.next();
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(w->confirmation);
  EXPECT_EQ(w->allocation.task, 1u);
  EXPECT_EQ(w->allocation.samples, 1);
  EXPECT_EQ(w->allocation.reason, "confirm recorded best");
  EXPECT_FALSE(r.rounds.next().has_value()) << "no round while a confirmation is in flight";
  EXPECT_TRUE(r.rounds.in_flight());
  const runlog::AllocationRecord row = r.rounds.ended(*w, 1, 1e-3, 3, 0.5);
  EXPECT_EQ(row.round, 0);
  EXPECT_EQ(row.group, 3);
  EXPECT_EQ(row.spent, 1);
  EXPECT_DOUBLE_EQ(r.rounds.confirmed_s(1), 1e-3);
  EXPECT_EQ(r.rounds.scheduler().task_spent(1), 1);
  const std::optional<RoundWork> next = r.rounds.next();
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->confirmation);
}

TEST(TaskRounds, AConfirmedRecordOfATaskTunedAsHardStopsIt) {
  const config::TuneConfig c = two_tasks();
  std::vector<RoundTask> t = tasks_of(c);
  t[0].db = record(1e-3, 100);
  Rounds r(c, t);
  const std::vector<size_t> order = run_all(r.rounds, [](size_t, bool) { return 1.02e-3; });
  EXPECT_FALSE(order.empty());
  for (size_t task : order) EXPECT_EQ(task, 1u) << "the task at its record draws no round";
  EXPECT_EQ(r.rounds.scheduler().task_spent(0), 1);
}

TEST(TaskRounds, ARecordMeasuredSlowerIsTunedAgain) {
  const config::TuneConfig c = two_tasks();
  std::vector<RoundTask> t = tasks_of(c);
  t[0].db = record(1e-3, 100);
  Rounds r(c, t);
  const std::vector<size_t> order = run_all(r.rounds, [](size_t, bool) { return 2e-3; });
  EXPECT_NE(std::find(order.begin(), order.end(), 0u), order.end());
}

TEST(TaskRounds, ATaskStillAtItsConfirmedRecordAfterTwoRoundsStops) {
  const config::TuneConfig c = two_tasks(200);
  std::vector<RoundTask> t = tasks_of(c);
  t[0].db = record(1e-3, 1);  // tuned with 1 sample: the record does not stop it
  Rounds r(c, t);
  double small = 1e-2;
  const std::vector<size_t> order = run_all(r.rounds, [&](size_t task, bool) {
    return task == 0 ? 1e-3 : (small *= 0.9);  // "small" keeps improving
  });
  EXPECT_EQ(std::count(order.begin(), order.end(), 0u), kRoundsToBeatTheRecord);
}

TEST(TaskRounds, RowsAreNumberedInTheOrderWorkEndsAndWrittenToTheTrace) {
  const config::TuneConfig c = two_tasks();
  Rounds r(c, tasks_of(c));
  const std::optional<RoundWork> first = r.rounds.next(), second = r.rounds.next();
  ASSERT_TRUE(first && second);
  ASSERT_NE(first->allocation.task, second->allocation.task) << "two groups tune two tasks at once";
  EXPECT_EQ(r.rounds.ended(*second, second->allocation.samples, 0.5, 1, 2.0).round, 0);
  EXPECT_EQ(r.rounds.ended(*first, first->allocation.samples, 0.25, 0, 3.0).round, 1);
  r.writer.finish();
  const runlog::RunLog log = runlog::read_run_log(r.dir.file("run.h5"));
  ASSERT_EQ(log.allocations.size(), 2u);
  EXPECT_EQ(log.allocations[0].task, c.tasks[second->allocation.task].name);
  EXPECT_EQ(log.allocations[0].group, 1);
  EXPECT_DOUBLE_EQ(log.allocations[0].wall_time, 2.0);
  EXPECT_EQ(log.allocations[1].task, c.tasks[first->allocation.task].name);
}

TEST(TaskRounds, AResumedTraceOfThisProcessReplaysItsRowsWithoutWritingThemAgain) {
  const config::TuneConfig c = two_tasks();
  TempDir dir;
  const std::string path = dir.file("run.h5");
  {
    runlog::RunWriter w = runlog::RunWriter::create(path, sample_run_info());
    TaskRounds rounds(c, tasks_of(c), scheduler_options(c), w, true, true);
    for (int k = 0; k < 2; ++k) {
      const std::optional<RoundWork> x = rounds.next();
      ASSERT_TRUE(x.has_value());
      rounds.ended(*x, x->allocation.samples, 0.5, 0, 1.0);
    }
  }
  for (bool replays : {true, false}) {
    runlog::RunWriter w = runlog::RunWriter::open_for_resume(path);
    TaskRounds rounds(c, tasks_of(c), scheduler_options(c), w, replays, true);
    std::vector<int64_t> numbers;
    for (int k = 0; k < 3; ++k) {
      const std::optional<RoundWork> x = rounds.next();
      ASSERT_TRUE(x.has_value());
      numbers.push_back(rounds.ended(*x, x->allocation.samples, 0.5, 0, 2.0).round);
    }
    if (replays)
      EXPECT_EQ(numbers, (std::vector<int64_t>{0, 1, 2})) << "the replayed rows keep their numbers";
    else
      EXPECT_EQ(numbers, (std::vector<int64_t>{3, 4, 5})) << "rows follow the 3 recorded ones";
  }
  const runlog::RunLog log = runlog::read_run_log(path);
  std::vector<int64_t> written;
  for (const auto& a : log.allocations) written.push_back(a.round);
  EXPECT_EQ(written, (std::vector<int64_t>{0, 1, 2, 3, 4, 5})) << "no row is written twice";
}

TEST(TaskRounds, ACompleteTaskGetsNoWorkAndPriorSamplesCountAsSpent) {
  const config::TuneConfig c = two_tasks();
  std::vector<RoundTask> t = tasks_of(c);
  t[0].complete = true;
  t[0].db = record(1e-3, 1);  // complete: not even confirmed
  t[1].prior_samples = 5;
  t[1].prior_best_s = 0.5;
  Rounds r(c, t);
  EXPECT_EQ(r.rounds.scheduler().task_spent(1), 5);
  const std::vector<size_t> order = run_all(r.rounds, [](size_t, bool) { return 0.25; });
  for (size_t task : order) EXPECT_EQ(task, 1u);
}

}  // namespace
}  // namespace rctune::dist
