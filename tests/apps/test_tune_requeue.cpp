// Runs that a batch system starts again (a requeued Slurm job runs its command again): the trace
// the first start wrote is continued with the options that start was given, and nothing measured
// twice.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include "../runlog/runlog_test_util.h"

#include "cli_runner.h"
#include "rctune/runlog/runlog.h"
#include "support/contains.h"

namespace rctune::testing {
namespace {

using runlog::testing::TempDir;
using test_support::expect_contains_all;

std::string write_config(const TempDir& dir, const std::string& extra = "",
                         const std::string& workload = "rmsnorm:M=8,N=32", double min_time = 0.01) {
  const std::string path = dir.file("run.yaml");
  std::ofstream(path) << "seed: 1\nbudget: 6\nproposer: heuristic\nout: " << dir.file("run.h5")
                      << "\ntasks:\n"
                      << "  - workload: " << workload << "\nmeasure:\n  min_time: " << min_time << "\n"
                      << extra;
  return path;
}

// Samples measured (illegal proposals are recorded, not measured).
size_t samples_in(const std::string& trace) {
  const runlog::RunLog run = runlog::read_run_log(trace);
  size_t n = 0;
  for (const runlog::TaskLog& t : run.tasks) n += runlog::measured_samples(t).size();
  return n;
}

TEST(TuneRequeue, TheSameCommandAgainContinuesTheTraceItsFirstStartWrote) {
  TempDir dir;
  const std::string cmd =
      "tune " + shell_quote(write_config(dir)) + " --resume-or-start --budget 2 --no-database";
  const auto first = run_rctune(cmd);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(first.output.find("continuing it"), std::string::npos) << first.output;
  ASSERT_EQ(samples_in(dir.file("run.h5")), 2u);
  const auto again = run_rctune(cmd);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  expect_contains_all(again.output, {"run.h5 exists: continuing it (resume_or_start)"});
  EXPECT_EQ(samples_in(dir.file("run.h5")), 2u) << "nothing measured twice";
  EXPECT_EQ(runlog::read_run_log(dir.file("run.h5")).info.resume_times.size(), 1u);
}

TEST(TuneRequeue, TheConfigKeyResumeOrStartDoesWhatTheOptionDoes) {
  TempDir dir;
  const std::string cmd =
      "tune " + shell_quote(write_config(dir, "resume_or_start: true\n")) + " --no-database";
  ASSERT_EQ(run_rctune(cmd + " --budget 1").exit_code, 0);
  const auto again = run_rctune(cmd + " --budget 2");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  expect_contains_all(again.output,
                      {"continuing it (resume_or_start)", "the budget changes from 1 to 2 samples"});
  EXPECT_EQ(samples_in(dir.file("run.h5")), 2u);
}

TEST(TuneRequeue, AResumeKeepsTheOptionsTheRunWasStartedWith) {
  TempDir dir;
  const std::string config = write_config(dir);
  ASSERT_EQ(
      run_rctune("tune " + shell_quote(config) + " --budget 2 --seed 5 --quiet --no-database").exit_code, 0);
  // No --seed and no --budget: seed 5 and 2 samples, not the config's seed 1 and 6 samples.
  const auto resumed =
      run_rctune("tune --resume " + shell_quote(dir.file("run.h5")) + " --quiet --no-database");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(samples_in(dir.file("run.h5")), 2u);
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.info.seed, 5u);
  EXPECT_EQ(run.info.budget, 2);
  const auto other_seed =
      run_rctune("tune --resume " + shell_quote(dir.file("run.h5")) + " --seed 6 --quiet --no-database");
  EXPECT_EQ(other_seed.exit_code, 2) << other_seed.output;
  expect_contains_all(other_seed.output, {"the run was started with seed 5", "leave out --seed"});
}

TEST(TuneRequeue, AResumeKeepsTheTuningDatabaseItsStartWasGiven) {
  TempDir dir;
  const std::string database = dir.file("mine");
  std::filesystem::create_directories(database);
  ASSERT_EQ(run_rctune("tune " + shell_quote(write_config(dir)) + " --budget 1 --quiet --database " +
                       shell_quote(database))
                .exit_code,
            0);
  // No --database now: the resume stores its results where the start did, not in the default one.
  const auto resumed = run_rctune("tune --resume " + shell_quote(dir.file("run.h5")) + " --budget 2");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  expect_contains_all(resumed.output, {"tuning database " + database});
  EXPECT_EQ(runlog::read_run_log(dir.file("run.h5")).info.start_options,
            nlohmann::json({{"database", database}}).dump());
  const auto other =
      run_rctune("tune --resume " + shell_quote(dir.file("run.h5")) + " --budget 3 --no-database");
  ASSERT_EQ(other.exit_code, 0) << other.output;
  expect_contains_all(other.output, {"the tuning database changes (--no-database)"});
  EXPECT_EQ(runlog::read_run_log(dir.file("run.h5")).info.start_options,
            nlohmann::json({{"no_database", true}}).dump())
      << "the change is recorded for the next resume";
}

TEST(TuneRequeue, AResumeWithAnotherLlmEndpointSaysSo) {
  TempDir dir;
  ASSERT_EQ(run_rctune("tune " + shell_quote(write_config(dir)) +
                       " --budget 1 --quiet --no-database --llm-url http://127.0.0.1:9/v1 --llm-model m")
                .exit_code,
            0);
  const auto resumed = run_rctune("tune --resume " + shell_quote(dir.file("run.h5")) +
                                  " --budget 2 --llm-url http://127.0.0.1:10/v1");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  expect_contains_all(resumed.output,
                      {"--llm-url changes from 'http://127.0.0.1:9/v1' to 'http://127.0.0.1:10/v1'"});
  const auto silent = run_rctune("tune --resume " + shell_quote(dir.file("run.h5")) + " --budget 3");
  ASSERT_EQ(silent.exit_code, 0) << silent.output;
  EXPECT_EQ(silent.output.find("--llm-url changes"), std::string::npos) << "the recorded endpoint is used\n"
                                                                        << silent.output;
  EXPECT_EQ(silent.output.find("tuning database"), std::string::npos) << "--no-database is kept\n"
                                                                      << silent.output;
}

TEST(TuneRequeue, ANewBudgetOnResumeIsRecordedForTheReportAndTheNextResume) {
  TempDir dir;
  ASSERT_EQ(
      run_rctune("tune " + shell_quote(write_config(dir)) + " --budget 1 --quiet --no-database").exit_code,
      0);
  const auto more =
      run_rctune("tune --resume " + shell_quote(dir.file("run.h5")) + " --budget 3 --no-database");
  ASSERT_EQ(more.exit_code, 0) << more.output;
  expect_contains_all(more.output, {"the budget changes from 1 to 3 samples (--budget)"});
  EXPECT_EQ(runlog::read_run_log(dir.file("run.h5")).info.budget, 3);
  EXPECT_EQ(samples_in(dir.file("run.h5")), 3u);
}

TEST(TuneRequeue, ARequeueWithAnotherConfigIsRefusedAndTheTraceKept) {
  TempDir dir;
  ASSERT_EQ(run_rctune("tune " + shell_quote(write_config(dir)) +
                       " --resume-or-start --budget 1 --quiet --no-database")
                .exit_code,
            0);
  const auto before = std::filesystem::file_size(dir.file("run.h5"));
  const auto edited = run_rctune("tune " + shell_quote(write_config(dir, "", "rmsnorm:M=8,N=64")) +
                                 " --resume-or-start --budget 1 --quiet --no-database");
  EXPECT_EQ(edited.exit_code, 2) << edited.output;
  EXPECT_EQ(std::filesystem::file_size(dir.file("run.h5")), before);
  EXPECT_EQ(samples_in(dir.file("run.h5")), 1u);
  const auto forced = run_rctune("tune " + shell_quote(write_config(dir)) + " --resume-or-start --force");
  EXPECT_EQ(forced.exit_code, 2) << forced.output;
}

std::string log_of(const TempDir& dir) {
  std::ifstream in(dir.file("run.log"));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Starts `rctune tune CONFIG --budget 40` (with `launcher` before it, if any) with its output in
// DIR/run.log and a kernel cache of its own (nothing measured before is taken from it, so the run
// takes time); returns once it reports its first samples, so that a signal finds it measuring.
pid_t start_long_run(const TempDir& dir, const std::string& config, std::vector<std::string> launcher = {}) {
  const std::string log = dir.file("run.log");
  std::ofstream{log};  // both streams append to it
  const pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(log.c_str(), "a", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(126);
    for (const std::string& a :
         {rctune_bin(), std::string("tune"), config, std::string("--budget"), std::string("40"),
          std::string("--no-database"), std::string("--cache-dir"), dir.file("cache")})
      launcher.push_back(a);
    std::vector<char*> argv;
    for (std::string& a : launcher) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  for (int i = 0; i < 1200 && log_of(dir).find("/40 samples") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return pid;
}

// The exit status of `pid`, or -1 when it did not exit normally.
int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(TuneRequeue, ARunStoppedBySigtermOrSigusr1FinishesTheMeasurementInFlightAndSaysHowToContinueIt) {
  for (const int sig : {SIGTERM, SIGUSR1}) {
    TempDir dir;
    const pid_t pid = start_long_run(dir, write_config(dir));
    ASSERT_GT(pid, 0);
    kill(pid, sig);
    EXPECT_EQ(wait_exit_code(pid), 128 + sig) << "signal " << sig;
    const std::string output = log_of(dir);
    expect_contains_all(
        output, {"rctune: signal " + std::to_string(sig) + ": stopping after the measurement in flight",
                 "rctune: stopped by signal " + std::to_string(sig) + ": the trace ",
                 "keeps every sample measured before; continue it with: rctune tune --resume '" +
                     dir.file("run.h5") + "'"});
    const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
    EXPECT_FALSE(run.finished()) << "a stopped run is left for a resume";
    ASSERT_EQ(run.tasks.size(), 1u);
    EXPECT_FALSE(run.tasks[0].tree.empty()) << "the tree so far is written";
    const size_t kept = samples_in(dir.file("run.h5"));
    const auto resumed = run_rctune("tune --resume " + shell_quote(dir.file("run.h5")) + " --budget " +
                                    std::to_string(kept + 1) + " --quiet --no-database --cache-dir " +
                                    shell_quote(dir.file("cache")));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_EQ(samples_in(dir.file("run.h5")), kept + 1)
        << "the samples before the signal are kept, none measured twice";
  }
}

TEST(TuneRequeue, ASecondSignalStopsARunAtOnceKeepingEveryCommittedSample) {
  TempDir dir;
  const pid_t pid = start_long_run(dir, write_config(dir));
  ASSERT_GT(pid, 0);
  kill(pid, SIGTERM);
  kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit_code(pid), 128 + SIGTERM);
  expect_contains_all(log_of(dir), {"rctune: stopped by signal 15: the trace "});
  EXPECT_NO_THROW(runlog::read_run_log(dir.file("run.h5")));
}

TEST(TuneRequeue, RanksStoppedBySigusr1FinishTheirMeasurementsAndRankZeroSaysHowToContinue) {
  TempDir dir;
  const pid_t pid = start_long_run(dir, write_config(dir),
                                   {"mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"});
  ASSERT_GT(pid, 0);
  kill(pid, SIGUSR1);  // mpirun passes it on to every rank
  EXPECT_NE(wait_exit_code(pid), 0);
  expect_contains_all(log_of(dir), {"rctune: signal 10: stopping after the measurement in flight",
                                    "rctune: stopped by signal 10: the trace "});
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_FALSE(run.finished());
  ASSERT_EQ(run.tasks.size(), 1u);
  EXPECT_FALSE(run.tasks[0].tree.empty()) << "the merged tree so far is written";
  const size_t kept = samples_in(dir.file("run.h5"));
  ASSERT_LT(kept, 40u);
  const auto resumed = run_rctune("tune --resume " + shell_quote(dir.file("run.h5")) + " --budget " +
                                  std::to_string(kept + 2) + " --quiet --no-database --cache-dir " +
                                  shell_quote(dir.file("cache")));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(samples_in(dir.file("run.h5")), kept + 2);
}

}  // namespace
}  // namespace rctune::testing
