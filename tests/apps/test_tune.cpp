// `rctune tune` end to end: the real binary tunes a small workload on this machine (compiling and
// timing real kernels), the trace is read back with h5dump and read_run_log, a run killed with
// SIGKILL is resumed without measuring a sample twice, and config mistakes get their messages.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "../runlog/runlog_test_util.h"
#include "cli_runner.h"
#include "rctune/runlog/runlog.h"

namespace rctune::testing {
namespace {

using runlog::testing::TempDir;

std::string write_config(const TempDir& dir, int budget, const std::string& extra = "") {
  const std::string path = dir.file("run.yaml");
  std::ofstream(path) << "seed: 3\n"
                         "budget: "
                      << budget
                      << "\n"
                         "out: "
                      << dir.file("run.h5")
                      << "\n"
                         "tasks:\n"
                         "  - workload: matmul:M=64,N=64,K=64\n"
                         "measure:\n"
                         "  min_time: 0.01\n"
                      << extra;
  return path;
}

TEST(Tune, AModelRunNamesWhereItsBestSchedulesAreInsteadOfPrintingThem) {
  TempDir dir;
  const std::string path = dir.file("model.yaml");
  std::ofstream(path) << "seed: 3\nbudget: 10\nout: " << dir.file("model.h5")
                      << "\ntasks:\n  - matmul:M=8,N=8,K=8\n  - matmul:M=16,N=8,K=8\n"
                         "  - matmul:M=8,N=16,K=8\n  - matmul:M=8,N=8,K=16\n  - softmax:M=4,N=8\n";
  const CliResult r = run_rctune("tune " + path + " --quiet --simulate --no-database");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("# best schedule of"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("best schedules of the 5 tasks: rctune report " + dir.file("model.h5") +
                          " --format json"),
            std::string::npos)
      << r.output;
}

TEST(Tune, TunesASmallWorkloadAndWritesATraceThatH5dumpReads) {
  TempDir dir;
  const CliResult r = run_rctune("tune " + write_config(dir, 6) + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("best schedule of matmul:M=64,N=64,K=64"), std::string::npos) << r.output;

  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_TRUE(run.finished());
  EXPECT_EQ(run.info.strategy, "mcts");
  EXPECT_EQ(run.info.proposer, "heuristic");
  EXPECT_EQ(run.info.seed, 3u);
  EXPECT_NE(run.info.config_text.find("budget: 6"), std::string::npos);
  EXPECT_FALSE(run.info.execution_space.empty());
  ASSERT_EQ(run.tasks.size(), 1u);
  const runlog::TaskLog& t = run.tasks[0];
  EXPECT_GT(t.info.reference_gflops, 0) << "the unscheduled kernel was measured";
  EXPECT_EQ(t.info.library_name, "openblas_sgemm");
  const auto ms = runlog::measured_samples(t);
  ASSERT_EQ(ms.size(), 6u);
  int ok = 0;
  for (const auto& s : ms) ok += s.status == runlog::SampleStatus::Ok ? 1 : 0;
  EXPECT_GT(ok, 0);
  ASSERT_TRUE(t.best.has_value());
  EXPECT_GT(t.best->speedup, 0);
  EXPECT_FALSE(t.tree.empty());

  const std::string h5dump = runlog::testing::find_h5dump();
  if (h5dump.empty()) GTEST_SKIP() << "h5dump (Debian package hdf5-tools) is not installed";
  std::string out;
  ASSERT_EQ(runlog::testing::run_command(h5dump + " '" + dir.file("run.h5") + "'", &out), 0) << out;
  EXPECT_NE(out.find("samples"), std::string::npos);
  EXPECT_NE(out.find(ms.back().trace.substr(0, ms.back().trace.find('\n'))), std::string::npos);
}

TEST(Tune, TheUnscheduledKernelOfALargeOperatorIsTimedOnASmallerInstanceAndMarked) {
  TempDir dir;
  const std::string config = dir.file("large.yaml");
  // 2 x 64 x 1024 x 1024 = 1.3e8 operations, above dist::kBaselineMaxFlops: 47 of its 64 rows.
  std::ofstream(config) << "budget: 1\nout: " << dir.file("large.h5")
                        << "\ntasks:\n  - workload: matmul:M=64,N=1024,K=1024\nmeasure:\n  min_time: 0.01\n";
  const CliResult r = run_rctune("tune " + config);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("measuring the unscheduled kernel on M=47 of 64, time x 1.362"), std::string::npos)
      << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("large.h5"));
  ASSERT_EQ(run.tasks.size(), 1u);
  const runlog::TaskInfo& info = run.tasks[0].info;
  EXPECT_EQ(info.reference_estimate, "M=47 of 64, time x 1.362");
  EXPECT_GT(info.reference_seconds, 0);
  EXPECT_NEAR(info.reference_gflops * 1e9 * info.reference_seconds, info.flops, 1e-6 * info.flops)
      << "the estimated time is the full workload's";
  const CliResult report = run_rctune("report " + dir.file("large.h5"));
  EXPECT_NE(report.output.find("the unscheduled kernel was timed on a smaller instance (M=47 of 64"),
            std::string::npos)
      << report.output;
}

TEST(Tune, TheFastestSchedulesOfEveryTaskGoToTheTuningDatabase) {
  TempDir dir;
  const CliResult r = run_rctune("tune " + write_config(dir, 4) + " --database " + dir.file("db"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("tuning database " + dir.file("db") + ": "), std::string::npos) << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  const CliResult show = run_rctune("db --database " + dir.file("db") + " show matmul:M=64,N=64,K=64");
  ASSERT_EQ(show.exit_code, 0) << show.output;
  ASSERT_TRUE(run.tasks.at(0).best.has_value());
  const std::string best = run.tasks[0].best->trace;
  EXPECT_NE(show.output.find(best.substr(0, best.find('\n'))), std::string::npos)
      << "the best schedule is stored\n"
      << show.output;
}

TEST(Tune, TheConfigsDatabaseKeyChoosesTheTuningDatabase) {
  TempDir dir;
  const CliResult r =
      run_rctune("tune " + write_config(dir, 2, "database: " + dir.file("db") + "\n") + " --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const CliResult show = run_rctune("db --database " + dir.file("db") + " show matmul:M=64,N=64,K=64");
  EXPECT_EQ(show.exit_code, 0) << show.output;
}

TEST(Tune, ASimulatedRunStoresNothingInTheTuningDatabase) {
  TempDir dir;
  const CliResult r = run_rctune("tune " + write_config(dir, 4) + " --simulate --database " + dir.file("db"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("a simulated run stores nothing in the tuning database"), std::string::npos)
      << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("db")));
}

TEST(Tune, KilledRunResumesWithoutMeasuringASampleTwice) {
  TempDir dir;
  const std::string config = write_config(dir, 10);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string bin = rctune_bin();
    const std::string log = dir.file("first.log");
    freopen(log.c_str(), "w", stdout);
    freopen(log.c_str(), "a", stderr);
    execl(bin.c_str(), bin.c_str(), "tune", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it once a few samples are in the file.
  setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
  size_t seen = 0;
  for (int i = 0; i < 600 && seen < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    try {
      const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
      if (!run.tasks.empty()) seen = runlog::measured_samples(run.tasks[0]).size();
    } catch (const std::exception&) {
      // not created yet, or met a commit half-way: try again
    }
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_GE(seen, 3u) << "the run did not record 3 samples in 60 s";
  unsetenv("HDF5_USE_FILE_LOCKING");

  const CliResult r = run_rctune("tune --resume " + dir.file("run.h5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("samples taken from the trace"), std::string::npos) << r.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_TRUE(run.finished());
  EXPECT_EQ(run.info.resume_times.size(), 1u);
  const auto ms = runlog::measured_samples(run.tasks.at(0));
  EXPECT_EQ(ms.size(), 10u);
  std::set<uint64_t> hashes;
  for (const auto& s : ms)
    EXPECT_TRUE(hashes.insert(s.structural_hash).second) << "measured twice:\n" << s.trace;
}

TEST(Tune, ResumeWithAnotherSeedIsRefused) {
  TempDir dir;
  const std::string config = write_config(dir, 2);
  ASSERT_EQ(run_rctune("tune " + config + " --quiet").exit_code, 0);
  const CliResult r = run_rctune("tune " + config + " --resume --seed 4");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("seed 3"), std::string::npos) << r.output;
}

TEST(Tune, ConfigMistakesNameTheFileLineAndKey) {
  TempDir dir;
  struct Case {
    std::string extra;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"mcts:\n  branchin: 2\n", "mcts.branchin"},
      {"mcts:\n  branching: two\n", "mcts.branching"},
      {"mcts:\n  epsilon: 1.5\n", "mcts.epsilon"},
  };
  for (const Case& c : cases) {
    const std::string config = write_config(dir, 2, c.extra);
    const CliResult r = run_rctune("tune " + config);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(config + ":"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << r.output;
  }
  const CliResult bad_workload = run_rctune("tune " + write_config(dir, 2, "") + " --strategy annealing");
  EXPECT_NE(bad_workload.exit_code, 0);
  const CliResult missing = run_rctune("tune " + dir.file("nope.yaml"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("nope.yaml"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace rctune::testing
