// When a task that starts from the tuning database stops: the rules the plain run and the hub share.
#include <gtest/gtest.h>

#include "rctune/dist/database_start.h"

namespace rctune::dist {
namespace {

DatabaseStart recorded(double seconds, int64_t samples) {
  DatabaseStart s;
  s.recorded_best_s = seconds;
  s.recorded_samples = samples;
  return s;
}

TEST(DatabaseStart, AConfirmedRecordOfATaskTunedAsHardStopsIt) {
  EXPECT_TRUE(confirmed_record_stops_task(recorded(1e-3, 20), 1.05e-3, 20));
  EXPECT_TRUE(confirmed_record_stops_task(recorded(1e-3, 40), 0.9e-3, 20));
}

TEST(DatabaseStart, ARecordMeasuredMoreThanTenPercentSlowerDoesNotStopTheTask) {
  EXPECT_FALSE(confirmed_at_record(recorded(1e-3, 20), 1.11e-3));
  EXPECT_FALSE(confirmed_record_stops_task(recorded(1e-3, 20), 1.11e-3, 20));
}

TEST(DatabaseStart, ARecordOfATaskTunedWithFewerSamplesDoesNotStopIt) {
  EXPECT_TRUE(confirmed_at_record(recorded(1e-3, 6), 1e-3));
  EXPECT_FALSE(confirmed_record_stops_task(recorded(1e-3, 6), 1e-3, 20));
}

TEST(DatabaseStart, NoRecordStopsNothing) {
  EXPECT_FALSE(confirmed_record_stops_task(DatabaseStart{}, 1e-3, 0));
}

TEST(DatabaseStart, ATaskNotBetterByOnePercentAfterTwoRoundsHasStalled) {
  EXPECT_FALSE(stalled_at_record(1e-3, 1e-3, 1)) << "one round is not enough to tell";
  EXPECT_TRUE(stalled_at_record(1e-3, 0.995e-3, 2));
  EXPECT_FALSE(stalled_at_record(1e-3, 0.98e-3, 2)) << "2% better: it goes on";
  EXPECT_FALSE(stalled_at_record(0, 1e-3, 5)) << "not started from a record";
}

TEST(DatabaseStart, TheShareOfATaskFollowsTheScheduler) {
  config::TuneConfig c = config::parse_tune_config(
      "budget: 60\ntasks:\n  - 'matmul:M=8,N=8,K=8'\n  - {workload: 'softmax:M=4,N=8', budget: 5}\n"
      "  - 'matmul:M=16,N=8,K=8'\n");
  EXPECT_EQ(task_share(c, 0), 20) << "gradient: the run's budget divided by the tasks";
  EXPECT_EQ(task_share(c, 1), 5) << "a task's own budget caps it";
  c.scheduler = "per_task";
  EXPECT_EQ(task_share(c, 0), 60) << "per_task: the budget is each task's";
}

}  // namespace
}  // namespace rctune::dist
