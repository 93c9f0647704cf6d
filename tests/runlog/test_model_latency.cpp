// runlog::model_latency: a model's estimated latency as the weighted sum of its tasks' times.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rctune/runlog/model_latency.h"

namespace rctune::runlog {
namespace {

SampleRecord ok_sample(double seconds) {
  SampleRecord s;
  s.status = SampleStatus::Ok;
  s.median_s = seconds;
  s.gflops = 1 / seconds;
  return s;
}

SampleRecord failed_sample() {
  SampleRecord s;
  s.status = SampleStatus::WrongResult;
  return s;
}

TaskLog task(const std::string& name, double weight, double reference_s, std::vector<SampleRecord> samples,
             double library_s = 0) {
  TaskLog t;
  t.info.name = name;
  t.info.weight = weight;
  t.info.reference_seconds = reference_s;
  t.info.library_seconds = library_s;
  t.samples = std::move(samples);
  return t;
}

TEST(ModelLatency, SumsWeightTimesTheFastestCorrectSample) {
  RunLog run;
  run.tasks.push_back(task("a", 3, 1.0, {ok_sample(0.5), failed_sample(), ok_sample(0.25), ok_sample(0.3)}));
  run.tasks.push_back(task("b", 1, 2.0, {ok_sample(1.0)}));
  const ModelLatency m = model_latency(run);
  EXPECT_DOUBLE_EQ(m.tuned_s, 3 * 0.25 + 1.0);
  ASSERT_TRUE(m.unscheduled_s.has_value());
  EXPECT_DOUBLE_EQ(*m.unscheduled_s, 3 * 1.0 + 2.0);
  EXPECT_EQ(m.missing, 0);
}

TEST(ModelLatency, OrdersTasksByShareLargestFirst) {
  RunLog run;
  run.tasks.push_back(task("small", 1, 1.0, {ok_sample(0.1)}));
  run.tasks.push_back(task("large", 4, 1.0, {ok_sample(0.2)}));
  const ModelLatency m = model_latency(run);
  ASSERT_EQ(m.tasks.size(), 2u);
  EXPECT_EQ(m.tasks[0].name, "large");
  EXPECT_DOUBLE_EQ(m.tasks[0].share, 0.8 / 0.9);
  EXPECT_DOUBLE_EQ(m.tasks[1].share, 0.1 / 0.9);
}

TEST(ModelLatency, ATaskWithoutACorrectSampleCountsWithItsUnscheduledTime) {
  RunLog run;
  run.tasks.push_back(task("tuned", 1, 1.0, {ok_sample(0.5)}));
  run.tasks.push_back(task("failed", 2, 0.75, {failed_sample()}));
  const ModelLatency m = model_latency(run);
  EXPECT_DOUBLE_EQ(m.tuned_s, 0.5 + 2 * 0.75);
  EXPECT_EQ(m.missing, 0);
  EXPECT_FALSE(m.tasks[0].best_s.has_value());
}

TEST(ModelLatency, ATaskWithNeitherTimeIsLeftOutAndCounted) {
  RunLog run;
  run.tasks.push_back(task("tuned", 1, 1.0, {ok_sample(0.5)}));
  run.tasks.push_back(task("unknown", 1, 0, {}));
  const ModelLatency m = model_latency(run);
  EXPECT_DOUBLE_EQ(m.tuned_s, 0.5);
  EXPECT_EQ(m.missing, 1);
  EXPECT_FALSE(m.unscheduled_s.has_value()) << "one task's unscheduled time is unknown";
}

TEST(ModelLatency, ComparesWithLibrariesOnlyOverTheTasksThatHaveOne) {
  RunLog run;
  run.tasks.push_back(task("gemm", 2, 1.0, {ok_sample(0.1)}, 0.15));
  run.tasks.push_back(task("softmax", 1, 1.0, {ok_sample(0.3)}));
  const ModelLatency m = model_latency(run);
  EXPECT_EQ(m.library_tasks, 1);
  EXPECT_DOUBLE_EQ(m.library_s, 2 * 0.15);
  EXPECT_DOUBLE_EQ(m.library_tuned_s, 2 * 0.1);
}

TEST(ModelLatency, AnEmptyRunHasNoEstimate) {
  const ModelLatency m = model_latency(RunLog{});
  EXPECT_EQ(m.tuned_s, 0);
  EXPECT_FALSE(m.unscheduled_s.has_value());
  EXPECT_TRUE(m.tasks.empty());
}

// A round of the task scheduler for `task` that spent `spent` samples and left its best at `best_s`.
AllocationRecord round_of(int64_t round, const std::string& task, int64_t spent, double best_s) {
  AllocationRecord a;
  a.round = round;
  a.task = task;
  a.scheduler = "gradient";
  a.samples = spent;
  a.spent = spent;
  a.task_best_s = best_s;
  return a;
}

// The task of that name in m.
const TaskLatency& task_of(const ModelLatency& m, const std::string& name) {
  for (const TaskLatency& t : m.tasks)
    if (t.name == name) return t;
  throw std::out_of_range("no task " + name);
}

TEST(ModelLatency, GainPerSampleIsTheWeightedDropOverTheTasksLastThreeRoundsPerSampleSpent) {
  RunLog run;
  run.tasks.push_back(task("a", 2, 1.0, {ok_sample(0.1)}));
  run.tasks.push_back(task("b", 1, 1.0, {ok_sample(0.5)}));
  run.allocations = {round_of(0, "a", 8, 0.8), round_of(1, "b", 8, 0.5), round_of(2, "a", 8, 0.4),
                     round_of(3, "a", 4, 0.2), round_of(4, "a", 8, 0.1)};
  const ModelLatency m = model_latency(run);
  // a: its last three rounds (2, 3, 4) from 0.8 (after round 0) to 0.1, over 20 samples.
  const TaskLatency& a = task_of(m, "a");
  ASSERT_TRUE(a.gain_per_sample_s.has_value());
  EXPECT_DOUBLE_EQ(*a.gain_per_sample_s, 2 * (0.8 - 0.1) / 20);
  EXPECT_EQ(a.gain_rounds, 3);
  // b: its only round found its first kernel: nothing measured yet of what more samples buy.
  const TaskLatency& b = task_of(m, "b");
  EXPECT_FALSE(b.gain_per_sample_s.has_value());
  EXPECT_EQ(b.gain_rounds, 0);
}

TEST(ModelLatency, TheGainStartsAfterTheRoundThatFoundTheFirstKernel) {
  RunLog run;
  run.tasks.push_back(task("a", 1, 1.0, {ok_sample(0.25)}));
  run.allocations = {round_of(0, "a", 4, 0), round_of(1, "a", 4, 1.0), round_of(2, "a", 6, 0.25)};
  const ModelLatency m = model_latency(run);
  ASSERT_TRUE(m.tasks[0].gain_per_sample_s.has_value());
  EXPECT_DOUBLE_EQ(*m.tasks[0].gain_per_sample_s, (1.0 - 0.25) / 6);  // round 2's samples only
  EXPECT_EQ(m.tasks[0].gain_rounds, 1);

  run.allocations.resize(2);  // the round that found the first kernel is the last: no gain yet
  EXPECT_FALSE(model_latency(run).tasks[0].gain_per_sample_s.has_value());
}

TEST(ModelLatency, ATaskWithoutRoundsOrSamplesSpentHasNoGain) {
  RunLog run;
  run.tasks.push_back(task("idle", 1, 1.0, {ok_sample(0.5)}));
  run.tasks.push_back(task("ran_out", 1, 1.0, {ok_sample(0.5)}));
  run.allocations = {round_of(0, "ran_out", 0, 0)};
  const ModelLatency m = model_latency(run);
  EXPECT_FALSE(task_of(m, "idle").gain_per_sample_s.has_value());
  EXPECT_EQ(task_of(m, "idle").gain_rounds, 0);
  EXPECT_FALSE(task_of(m, "ran_out").gain_per_sample_s.has_value());
}

TEST(ModelLatency, RoundsCountTheSamplesSpentSoFarInTheRun) {
  RunLog run;
  run.tasks.push_back(task("a", 1, 1.0, {}));
  run.allocations = {round_of(0, "a", 8, 0.5), round_of(1, "a", 3, 0.4), round_of(2, "a", 8, 0.3)};
  const ModelLatency m = model_latency(run);
  ASSERT_EQ(m.rounds.size(), 3u);
  EXPECT_EQ(m.rounds[0].run_samples, 8);
  EXPECT_EQ(m.rounds[2].run_samples, 19);
  EXPECT_EQ(m.rounds[1].allocation, run.allocations[1]);
}

TEST(ModelLatency, WorthMoreSamplesAreTheThreeLargestPositiveGains) {
  ModelLatency m;
  for (const auto& [name, gain] : std::vector<std::pair<std::string, double>>{
           {"a", 1e-4}, {"b", 0}, {"c", 5e-4}, {"d", 2e-4}, {"e", 3e-4}}) {
    TaskLatency t;
    t.name = name;
    t.gain_per_sample_s = gain;
    m.tasks.push_back(t);
  }
  m.tasks.emplace_back().name = "none";  // no rounds
  EXPECT_EQ(worth_more_samples(m), (std::vector<std::string>{"c", "e", "d"}));
  EXPECT_EQ(worth_more_samples(m, 10), (std::vector<std::string>{"c", "e", "d", "a"}));
  m.tasks = {m.tasks[1]};  // gain 0: nothing improved
  EXPECT_TRUE(worth_more_samples(m).empty());
}

}  // namespace
}  // namespace rctune::runlog
