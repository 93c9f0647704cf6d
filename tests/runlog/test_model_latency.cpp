// runlog::model_latency: a model's estimated latency as the weighted sum of its tasks' times.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace rctune::runlog
