// The task scheduler of a model run: who gets the next round of samples.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <tuple>

#include "rctune/search/task_scheduler.h"

namespace rctune::search {
namespace {

ScheduledTask task(const std::string& name, double weight, double initial_seconds, int64_t budget = 0) {
  return {name, weight, initial_seconds, budget};
}

SchedulerOptions options(SchedulerPolicy p, int64_t total, int64_t round = 4) {
  SchedulerOptions o;
  o.policy = p;
  o.total_budget = total;
  o.round = round;
  return o;
}

// Runs the scheduler to its end; each task's best time after a round is `time(task, samples
// spent so far)`. Returns the rounds in order.
template <typename TimeOf>
std::vector<Allocation> run_all(TaskScheduler& s, TimeOf time) {
  std::vector<Allocation> rounds;
  while (auto a = s.next()) {
    const int64_t spent = a->samples;
    s.done(*a, spent, time(a->task, s.task_spent(a->task) + spent));
    rounds.push_back(*a);
  }
  return rounds;
}

std::map<size_t, int64_t> samples_by_task(const std::vector<Allocation>& rounds) {
  std::map<size_t, int64_t> m;
  for (const Allocation& a : rounds) m[a.task] += a.samples;
  return m;
}

double flat(size_t, int64_t) { return 1e-3; }

TEST(TaskScheduler, PolicyNamesRoundTrip) {
  for (SchedulerPolicy p : {SchedulerPolicy::Gradient, SchedulerPolicy::RoundRobin, SchedulerPolicy::PerTask})
    EXPECT_EQ(scheduler_policy_of(scheduler_policy_name(p)), p);
  EXPECT_FALSE(scheduler_policy_of("greedy").has_value());
}

TEST(TaskScheduler, GradientGivesEveryTaskAFirstRoundLargestShareFirst) {
  TaskScheduler s({task("small", 1, 1e-3), task("big", 2, 5e-3), task("mid", 1, 4e-3)},
                  options(SchedulerPolicy::Gradient, 100));
  const std::vector<Allocation> rounds = run_all(s, flat);
  ASSERT_GE(rounds.size(), 3u);
  EXPECT_EQ(rounds[0].task, 1u);
  EXPECT_EQ(rounds[1].task, 2u);
  EXPECT_EQ(rounds[2].task, 0u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rounds[static_cast<size_t>(i)].reason, "first round");
  EXPECT_EQ(rounds[3].reason, "largest expected gain");
}

TEST(TaskScheduler, GradientGivesEveryTaskAShortFirstRoundThenFullRounds) {
  SchedulerOptions o = options(SchedulerPolicy::Gradient, 60, 6);
  o.first_round = 1.0 / 3;
  TaskScheduler s({task("a", 1, 1e-3), task("b", 2, 1e-3), task("c", 1, 1e-3)}, o);
  const std::vector<Allocation> rounds = run_all(s, flat);
  ASSERT_GE(rounds.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rounds[i].reason, "first round") << i;
    EXPECT_EQ(rounds[i].samples, 2) << i;
  }
  EXPECT_EQ(rounds[3].samples, 6);
}

TEST(TaskScheduler, AFirstRoundOfOneGivesEveryTaskAFullFirstRound) {
  SchedulerOptions o = options(SchedulerPolicy::Gradient, 60, 6);
  o.first_round = 1;
  TaskScheduler s({task("a", 1, 1e-3), task("b", 2, 1e-3)}, o);
  const std::vector<Allocation> rounds = run_all(s, flat);
  ASSERT_GE(rounds.size(), 2u);
  EXPECT_EQ(rounds[0].samples, 6);
  EXPECT_EQ(rounds[1].samples, 6);
}

TEST(TaskScheduler, AFirstRoundIsAFractionOfTheRoundRoundedAndAtLeastOneSample) {
  for (const auto& [fraction, round, samples] :
       std::vector<std::tuple<double, int64_t, int64_t>>{{1.0 / 3, 12, 4}, {0.3, 5, 2}, {0.01, 6, 1}}) {
    SchedulerOptions o = options(SchedulerPolicy::Gradient, 60, round);
    o.first_round = fraction;
    TaskScheduler s({task("a", 1, 1e-3)}, o);
    const auto a = s.next();
    ASSERT_TRUE(a);
    EXPECT_EQ(a->samples, samples) << fraction << " of " << round;
  }
}

TEST(TaskScheduler, TheShortFirstRoundIsGradientsOnly) {
  SchedulerOptions o = options(SchedulerPolicy::RoundRobin, 60, 6);
  o.first_round = 1.0 / 3;
  TaskScheduler s({task("a", 1, 1e-3), task("b", 1, 1e-3)}, o);
  for (const Allocation& a : run_all(s, flat)) EXPECT_EQ(a.samples, 6) << a.round;
}

TEST(TaskScheduler, AFirstRoundOutsideZeroToOneIsRefused) {
  for (double fraction : {0.0, -0.5, 1.5, std::nan("")}) {
    SchedulerOptions o = options(SchedulerPolicy::Gradient, 60, 6);
    o.first_round = fraction;
    EXPECT_THROW(TaskScheduler({task("a", 1, 1e-3)}, o), std::invalid_argument) << fraction;
  }
}

TEST(TaskScheduler, GradientSpendsTheTotalBudgetExactly) {
  TaskScheduler s({task("a", 1, 1e-3), task("b", 3, 2e-3)}, options(SchedulerPolicy::Gradient, 50, 6));
  const std::vector<Allocation> rounds = run_all(s, flat);
  int64_t sum = 0;
  for (const Allocation& a : rounds) sum += a.samples;
  EXPECT_EQ(sum, 50);
  EXPECT_EQ(s.spent(), 50);
  EXPECT_EQ(rounds.back().samples, 50 - 2 * 2 - 7 * 6);  // two first rounds of 2, then rounds of 6
}

TEST(TaskScheduler, GradientGivesTheLargerShareOfTheLatencyMoreSamples) {
  // Same improvement curve, but one task is 8 times as heavy in the model.
  TaskScheduler s({task("light", 1, 1e-2), task("heavy", 8, 1e-2)}, options(SchedulerPolicy::Gradient, 200));
  const auto by_task =
      samples_by_task(run_all(s, [](size_t, int64_t spent) { return 1e-3 / (1 + spent * 0.01); }));
  EXPECT_GT(by_task.at(1), 2 * by_task.at(0));
}

TEST(TaskScheduler, GradientFavoursATaskThatKeepsImprovingOverAFlatOneOfTheSameShare) {
  SchedulerOptions o = options(SchedulerPolicy::Gradient, 120);
  TaskScheduler s({task("flat", 1, 1e-2), task("improving", 1, 1e-2)}, o);
  const auto by_task = samples_by_task(run_all(s, [](size_t t, int64_t spent) {
    return t == 0 ? 1e-3 : 1e-3 * 20.0 / (20.0 + static_cast<double>(spent));
  }));
  EXPECT_GT(by_task.at(1), by_task.at(0));
}

TEST(TaskScheduler, ATaskWhoseSearchRanOutGetsNoMoreRounds) {
  TaskScheduler s({task("a", 1, 1e-3), task("b", 1, 1e-3)}, options(SchedulerPolicy::Gradient, 40, 4));
  std::map<size_t, int> rounds;
  while (auto a = s.next()) {
    ++rounds[a->task];
    // Task 0 has only 3 programs to offer: its first round takes 2, its second the last one.
    const int64_t spent = a->task == 0 ? std::min<int64_t>(a->samples, 3 - s.task_spent(0)) : a->samples;
    s.done(*a, spent, 1e-3);
  }
  EXPECT_EQ(rounds[0], 2);
  EXPECT_EQ(s.task_spent(0), 3);
  EXPECT_EQ(s.spent(), 40);  // the samples task 0 did not use went to task 1
}

TEST(TaskScheduler, ATaskBudgetCapsItsSamples) {
  TaskScheduler s({task("capped", 100, 1, 10), task("other", 1, 1e-6)},
                  options(SchedulerPolicy::Gradient, 60, 4));
  const auto by_task = samples_by_task(run_all(s, flat));
  EXPECT_EQ(by_task.at(0), 10);
  EXPECT_EQ(by_task.at(1), 50);
}

TEST(TaskScheduler, ARetiredTaskGetsNoMoreRounds) {
  TaskScheduler s({task("a", 1, 1e-3), task("b", 1, 1e-3)}, options(SchedulerPolicy::Gradient, 40, 4));
  s.retire(0);
  const auto by_task = samples_by_task(run_all(s, flat));
  EXPECT_EQ(by_task.count(0), 0u);
  EXPECT_EQ(by_task.at(1), 40);
}

TEST(TaskScheduler, PerTaskHandsEachTaskItsWholeBudgetHeaviestFirst) {
  TaskScheduler s({task("a", 1, 1e-3, 7), task("b", 2, 1e-3, 5)}, options(SchedulerPolicy::PerTask, 0));
  const std::vector<Allocation> rounds = run_all(s, flat);
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[0].task, 1u);
  EXPECT_EQ(rounds[0].samples, 5);
  EXPECT_EQ(rounds[1].task, 0u);
  EXPECT_EQ(rounds[1].samples, 7);
  EXPECT_EQ(s.total_budget(), 12);
}

TEST(TaskScheduler, PerTaskRefusesATaskWithoutBudget) {
  EXPECT_THROW(TaskScheduler({task("a", 1, 1e-3, 0)}, options(SchedulerPolicy::PerTask, 0)),
               std::invalid_argument);
}

TEST(TaskScheduler, RoundRobinTakesTurnsHeaviestFirst) {
  TaskScheduler s({task("a", 1, 1e-3), task("b", 2, 1e-3), task("c", 1, 1e-3)},
                  options(SchedulerPolicy::RoundRobin, 24, 4));
  const std::vector<Allocation> rounds = run_all(s, flat);
  ASSERT_EQ(rounds.size(), 6u);
  const std::vector<size_t> expected = {1, 0, 2, 1, 0, 2};
  for (size_t i = 0; i < rounds.size(); ++i) EXPECT_EQ(rounds[i].task, expected[i]) << i;
}

TEST(TaskScheduler, ATaskInFlightIsNotHandedOutTwice) {
  TaskScheduler s({task("a", 1, 1e-3), task("b", 1, 1e-3)}, options(SchedulerPolicy::Gradient, 40, 4));
  const auto first = s.next();
  const auto second = s.next();
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->task, second->task);
  EXPECT_FALSE(s.next().has_value());  // both in flight: a third group waits
  EXPECT_EQ(s.in_flight(), first->samples + second->samples);
  s.done(*first, first->samples, 1e-3);
  EXPECT_TRUE(s.next().has_value());
}

TEST(TaskScheduler, TheSameResultsGiveTheSameDecisions) {
  auto decisions = [] {
    TaskScheduler s({task("a", 1, 3e-3), task("b", 2, 1e-3), task("c", 5, 1e-4)},
                    options(SchedulerPolicy::Gradient, 90, 6));
    std::vector<size_t> order;
    for (const Allocation& a : run_all(s, [](size_t t, int64_t spent) {
           return 1e-3 / (1.0 + static_cast<double>(t + 1) * std::sqrt(static_cast<double>(spent)));
         }))
      order.push_back(a.task);
    return order;
  };
  EXPECT_EQ(decisions(), decisions());
}

TEST(TaskScheduler, EstimatedLatencyIsTheWeightedSumOfBestTimesOrUnscheduledTimes) {
  TaskScheduler s({task("a", 2, 1e-2), task("b", 3, 4e-2)}, options(SchedulerPolicy::Gradient, 40, 4));
  EXPECT_DOUBLE_EQ(s.estimated_latency(), 2 * 1e-2 + 3 * 4e-2);
  const auto a = s.next();
  ASSERT_TRUE(a);
  ASSERT_EQ(a->task, 1u);
  s.done(*a, a->samples, 1e-3);
  EXPECT_DOUBLE_EQ(s.estimated_latency(), 2 * 1e-2 + 3 * 1e-3);
}

TEST(TaskScheduler, RecentGainIsTheWeightedDropPerSampleOverTheLastRounds) {
  SchedulerOptions o = options(SchedulerPolicy::RoundRobin, 100, 5);
  o.window = 2;
  TaskScheduler s({task("a", 2, 1)}, o);
  const std::vector<double> times = {8e-3, 6e-3, 5e-3, 5e-3};
  for (double t : times) {
    const auto a = s.next();
    ASSERT_TRUE(a);
    s.done(*a, 5, t);
  }
  // Over the last 2 rounds: 6 ms -> 5 ms in 10 samples, weight 2.
  EXPECT_DOUBLE_EQ(s.recent_gain(0), 2 * 1e-3 / 10);
}

TEST(TaskScheduler, RestoredSamplesCountAsSpentAndAsTheTasksFirstRound) {
  TaskScheduler s({task("big", 2, 5e-3), task("small", 1, 1e-3, 10)}, options(SchedulerPolicy::Gradient, 40));
  s.account(0, 12, 2e-3);
  s.account(1, 10, 0);
  EXPECT_EQ(s.spent(), 22);
  EXPECT_EQ(s.task_spent(0), 12);
  EXPECT_DOUBLE_EQ(s.estimated_latency(), 2 * 2e-3 + 1e-3);
  const std::vector<Allocation> rounds = run_all(s, flat);
  EXPECT_EQ(samples_by_task(rounds), (std::map<size_t, int64_t>{{0, 18}})) << "small is at its budget";
  EXPECT_EQ(rounds.front().reason, "largest expected gain");
  EXPECT_EQ(s.spent(), 40);
}

}  // namespace
}  // namespace rctune::search
