// `rctune tune` on a model (several weighted tasks, one budget), end to end with simulated
// measurement: the scheduler shares the run's budget among the tasks, per_task gives each its own,
// a resumed model run makes the same decisions as a straight one, and task names from the config
// name the tasks in the trace.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "../runlog/runlog_test_util.h"
#include "cli_runner.h"
#include "rctune/runlog/runlog.h"

namespace rctune::testing {
namespace {

using runlog::testing::TempDir;

// Three tasks of a small model: a heavy matmul, a conv, a softmax.
std::string write_model(const TempDir& dir, const std::string& name, int budget,
                        const std::string& extra = "") {
  const std::string path = dir.file(name + ".yaml");
  std::ofstream(path)
      << "seed: 2\n"
      << "budget: " << budget << "\n"
      << "out: " << dir.file(name + ".h5") << "\n"
      << extra
      << "tasks:\n"
         "  - {workload: 'matmul:M=128,N=256,K=256', name: fc1, weight: 4}\n"
         "  - {workload: 'conv2d_nchw:N=1,C=16,H=14,W=14,K=16,R=3,S=3,stride=1,pad=1', name: conv, "
         "weight: 2}\n"
         "  - {workload: 'softmax:M=64,N=128', name: softmax}\n";
  return path;
}

std::map<std::string, size_t> samples_by_task(const runlog::RunLog& run) {
  std::map<std::string, size_t> m;
  for (const runlog::TaskLog& t : run.tasks) m[t.info.name] = runlog::measured_samples(t).size();
  return m;
}

TEST(TuneModel, GradientSharesTheRunsBudgetAmongTheTasks) {
  TempDir dir;
  const CliResult r = run_rctune("tune " + write_model(dir, "run", 48) + " --simulate");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("estimated latency"), std::string::npos) << "a line after each round\n" << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  const auto by_task = samples_by_task(run);
  ASSERT_EQ(by_task.size(), 3u);
  size_t total = 0;
  for (const auto& [name, n] : by_task) {
    EXPECT_GE(n, 2u) << name << " got a first round (a third of a round of 6)";
    total += n;
  }
  EXPECT_EQ(total, 48u) << "the budget is the run's, not each task's";
  ASSERT_EQ(run.allocations.size(), 10u) << "three first rounds of 2 samples, then 7 rounds of 6";
  int64_t handed = 0;
  for (const runlog::AllocationRecord& a : run.allocations) {
    EXPECT_EQ(a.scheduler, "gradient");
    EXPECT_EQ(a.round, static_cast<int64_t>(&a - run.allocations.data()));
    EXPECT_GT(a.latency_s, 0);
    handed += a.spent;
  }
  EXPECT_EQ(handed, 48);
  EXPECT_EQ(run.allocations[0].reason, "first round");
  EXPECT_EQ(run.allocations[3].reason, "largest expected gain");
}

TEST(TuneModel, PerTaskGivesEveryTaskTheBudget) {
  TempDir dir;
  const CliResult r =
      run_rctune("tune " + write_model(dir, "run", 12, "scheduler: per_task\n") + " --simulate --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  for (const auto& [name, n] : samples_by_task(run)) EXPECT_EQ(n, 12u) << name;
  ASSERT_EQ(run.allocations.size(), 3u);
  EXPECT_EQ(run.allocations[0].task, "fc1") << "the heaviest task first";
}

TEST(TuneModel, ATaskBudgetCapsItsShare) {
  TempDir dir;
  const std::string path = dir.file("run.yaml");
  std::ofstream(path) << "budget: 30\nout: " << dir.file("run.h5")
                      << "\ntasks:\n  - {workload: 'matmul:M=128,N=256,K=256', weight: 100, budget: 6}\n"
                         "  - 'softmax:M=64,N=128'\n";
  const CliResult r = run_rctune("tune " + path + " --simulate --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto by_task = samples_by_task(runlog::read_run_log(dir.file("run.h5")));
  EXPECT_EQ(by_task.at("matmul:M=128,N=256,K=256,dtype=f32"), 6u);
  EXPECT_EQ(by_task.at("softmax:M=64,N=128,dtype=f32"), 24u);
}

TEST(TuneModel, AResumedModelRunMakesTheSameDecisionsAsAStraightOne) {
  TempDir dir;
  const CliResult straight = run_rctune("tune " + write_model(dir, "straight", 42) + " --simulate --quiet");
  ASSERT_EQ(straight.exit_code, 0) << straight.output;
  const CliResult first = run_rctune("tune " + write_model(dir, "resumed", 18) + " --simulate --quiet");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const CliResult second = run_rctune("tune --resume " + dir.file("resumed.h5") + " --budget 42");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("samples taken from the trace"), std::string::npos) << second.output;

  const runlog::RunLog a = runlog::read_run_log(dir.file("straight.h5"));
  const runlog::RunLog b = runlog::read_run_log(dir.file("resumed.h5"));
  ASSERT_EQ(a.allocations.size(), b.allocations.size());
  for (size_t i = 0; i < a.allocations.size(); ++i) {
    EXPECT_EQ(a.allocations[i].task, b.allocations[i].task) << "round " << i;
    EXPECT_EQ(a.allocations[i].spent, b.allocations[i].spent) << "round " << i;
  }
  for (const runlog::TaskLog& ta : a.tasks) {
    const runlog::TaskLog* tb = b.task(ta.info.name);
    ASSERT_NE(tb, nullptr) << ta.info.name;
    const auto sa = runlog::measured_samples(ta), sb = runlog::measured_samples(*tb);
    ASSERT_EQ(sa.size(), sb.size()) << ta.info.name;
    for (size_t i = 0; i < sa.size(); ++i)
      EXPECT_EQ(sa[i].structural_hash, sb[i].structural_hash) << ta.info.name;
  }
}

TEST(TuneModel, TaskNamesFromTheConfigNameTheTasks) {
  TempDir dir;
  const CliResult r = run_rctune("tune " + write_model(dir, "run", 18) + " --simulate --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  ASSERT_NE(run.task("fc1"), nullptr);
  EXPECT_NE(run.task("fc1")->info.workload.find("matmul:M=128,N=256,K=256"), std::string::npos);
  EXPECT_NE(run.task("conv"), nullptr);
  EXPECT_NE(run.task("softmax"), nullptr);
  EXPECT_NE(r.output.find("fc1"), std::string::npos) << "the summary names the task\n" << r.output;
}

}  // namespace
}  // namespace rctune::testing
