// The Slurm job scripts of jobs/ against a real Slurm: tests/slurm/local_slurm.sh starts munged,
// slurmctld and slurmd on this machine (one node) for each test process, and the tests submit
// jobs/tune.sbatch and jobs/zoo.sbatch as a user would, then read the traces they leave. Without
// root or the Debian packages (scripts/setup installs them) every test skips, saying why.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

#include "../apps/cli_runner.h"
#include "../runlog/runlog_test_util.h"
#include "rctune/runlog/runlog.h"
#include "support/contains.h"

namespace rctune::testing {
namespace {

using runlog::testing::TempDir;
using test_support::expect_contains_all;
using Clock = std::chrono::steady_clock;

std::string fixture_script() { return source_dir() + "/tests/slurm/local_slurm.sh"; }

// One local Slurm for the test process: started before the first test, stopped after the last.
class LocalSlurm : public ::testing::Environment {
 public:
  void SetUp() override {
    const CliResult check = run_command(shell_quote(fixture_script()) + " check");
    if (check.exit_code != 0) {
      skip_reason_ = "no local Slurm: " + check.output;
      return;
    }
    char pattern[] = "/tmp/rctune-slurm-XXXXXX";
    if (!mkdtemp(pattern)) {
      skip_reason_ = "cannot make a directory for the local Slurm";
      return;
    }
    dir_ = pattern;
    const CliResult start = run_command(shell_quote(fixture_script()) + " start " + shell_quote(dir_));
    if (start.exit_code != 0) {
      failure_ = "the local Slurm did not start: " + start.output;
      return;
    }
    setenv("SLURM_CONF", (dir_ + "/slurm.conf").c_str(), 1);
  }
  void TearDown() override {
    if (dir_.empty()) return;
    run_command(shell_quote(fixture_script()) + " stop " + shell_quote(dir_));
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  static const std::string& skip_reason() { return skip_reason_; }
  static const std::string& failure() { return failure_; }

 private:
  std::string dir_;
  static inline std::string skip_reason_, failure_;
};

const auto* const kSlurm = ::testing::AddGlobalTestEnvironment(new LocalSlurm);

#define REQUIRE_LOCAL_SLURM()                                                          \
  do {                                                                                 \
    if (!LocalSlurm::skip_reason().empty()) GTEST_SKIP() << LocalSlurm::skip_reason(); \
    ASSERT_TRUE(LocalSlurm::failure().empty()) << LocalSlurm::failure();               \
  } while (0)

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// `key=value` fields of one line of `scontrol show job -o`.
using JobFields = std::map<std::string, std::string>;

// The jobs `id` names (one, or an array's tasks), by job id.
std::map<std::string, JobFields> show_jobs(const std::string& id) {
  std::map<std::string, JobFields> jobs;
  std::istringstream lines(run_command("scontrol show job -o " + shell_quote(id)).output);
  for (std::string line; std::getline(lines, line);) {
    JobFields f;
    std::istringstream words(line);
    for (std::string w; words >> w;)
      if (const size_t eq = w.find('='); eq != std::string::npos) f[w.substr(0, eq)] = w.substr(eq + 1);
    if (f.count("JobId")) jobs[f["JobId"]] = f;
  }
  return jobs;
}

bool ended(const JobFields& f) {
  static const std::set<std::string> kEnded = {"COMPLETED", "FAILED",        "CANCELLED", "TIMEOUT",
                                               "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"};
  return kEnded.count(f.at("JobState")) > 0;
}

// Waits (up to a minute) until the job's earlier start has left no step behind: its slurmstepd
// processes and the PMIx socket in slurmd's spool directory (a start before that fails to launch).
void wait_until_steps_are_gone(const std::string& job) {
  const std::string spool = std::filesystem::path(std::getenv("SLURM_CONF")).parent_path() / "spool";
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  auto left = [&] {
    for (const auto& e : std::filesystem::directory_iterator(spool))
      if (e.path().filename().string().rfind("stepd.slurm.pmix." + job + ".", 0) == 0) return true;
    return run_command("pgrep -f " + shell_quote("slurmstepd: \\[" + job + "\\.")).exit_code == 0;
  };
  while (Clock::now() < deadline && left()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

// Waits until every job `id` names has ended, or `timeout_s` passed. A requeued job is held for
// two minutes before it may start again (Slurm's requeue delay): the test calls `on_requeued`
// (while no rank has the trace open) and starts it at once.
std::map<std::string, JobFields> wait_for_end(const std::string& id, double timeout_s = 420,
                                              const std::function<void()>& on_requeued = {}) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  std::map<std::string, JobFields> jobs;
  while (Clock::now() < deadline) {
    jobs = show_jobs(id);
    bool all = !jobs.empty();
    for (const auto& [job, f] : jobs) {
      if (!ended(f)) all = false;
      if (f.at("JobState") == "PENDING" && f.count("Reason") && f.at("Reason") == "BeginTime") {
        if (on_requeued) on_requeued();
        wait_until_steps_are_gone(job);
        run_command("scontrol update JobId=" + shell_quote(job) + " StartTime=now");
      }
    }
    if (all) return jobs;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  ADD_FAILURE() << "job " << id << " did not end within " << timeout_s << " s";
  return jobs;
}

// The one job `id` names once it has ended (wait_for_end), and its output file DIR/job.out.
struct EndedJob {
  JobFields fields = {{"JobState", "(not found)"}, {"Restarts", "(not found)"}};
  std::string log;
};
EndedJob wait_for_job(const TempDir& dir, const std::string& id, double timeout_s = 420,
                      const std::function<void()>& on_requeued = {}) {
  const auto jobs = wait_for_end(id, timeout_s, on_requeued);
  EndedJob job;
  job.log = read_text(dir.file("job.out"));
  if (jobs.size() == 1)
    job.fields = jobs.begin()->second;
  else
    ADD_FAILURE() << "job " << id << ": " << jobs.size() << " jobs, not one";
  return job;
}

// A run config of one small task.
std::string write_config(const TempDir& dir, const std::string& workload = "rmsnorm:M=8,N=32") {
  const std::string path = dir.file("run.yaml");
  std::ofstream(path) << "seed: 1\nbudget: 8\nproposer: heuristic\nout: run.h5\ntasks:\n"
                      << "  - workload: " << workload << "\nmeasure:\n  min_time: 0.01\n";
  return path;
}

// Submits a script of jobs/ from `dir` with `env` (NAME=value words) and sbatch `options`;
// returns the job id.
std::string submit(const TempDir& dir, const std::string& script, const std::string& options,
                   const std::string& env = "") {
  const std::string jobs = source_dir() + "/jobs";
  const CliResult r = run_command(
      "cd " + shell_quote(dir.path()) + " && RCTUNE_BIN=" + shell_quote(rctune_bin()) +
      " RCTUNE_JOBS_DIR=" + shell_quote(jobs) + " RCTUNE_CACHE_DIR=" + shell_quote(dir.file("cache")) + " " +
      env + " sbatch --parsable " + options + " " + shell_quote(jobs + "/" + script));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::string id = r.output.substr(0, r.output.find_first_of(";\n"));
  std::printf("submitted %s %s: job %s\n", script.c_str(), options.c_str(), id.c_str());
  return id;
}

size_t measured_in(const runlog::RunLog& run) {
  size_t n = 0;
  for (const runlog::TaskLog& t : run.tasks) n += runlog::measured_samples(t).size();
  return n;
}

// The programs of a one-task trace as each start of its job left it: a start measures none that an
// earlier start measured, and no rank measures one twice (ranks of one round may measure the same
// program before they share their picks: root-parallel search).
class SessionsOfATrace {
 public:
  explicit SessionsOfATrace(std::string path) : path_(std::move(path)) {}
  // Reads what the starts so far measured (the job is requeued: no rank has the trace open).
  void start_ended() {
    ++starts_;
    const runlog::RunLog run = runlog::read_run_log(path_);
    ASSERT_EQ(run.tasks.size(), 1u);
    std::map<int64_t, uint64_t> now;
    for (const runlog::SampleRecord& s : runlog::measured_samples(run.tasks[0]))
      now[s.index] = s.structural_hash;
    std::set<uint64_t> earlier;
    for (const auto& [index, hash] : seen_) earlier.insert(hash);
    for (const auto& [index, hash] : seen_)
      EXPECT_EQ(now.count(index), 1u) << "sample " << index << " was lost";
    for (const auto& [index, hash] : now) {
      if (seen_.count(index)) continue;
      EXPECT_EQ(earlier.count(hash), 0u)
          << "sample " << index << " measured again a program of an earlier start";
    }
    seen_ = std::move(now);
  }
  int starts() const { return starts_; }

 private:
  std::string path_;
  std::map<int64_t, uint64_t> seen_;  // measured samples: index -> program
  int starts_ = 0;
};

void expect_no_rank_measured_a_program_twice(const runlog::RunLog& run) {
  for (const runlog::TaskLog& t : run.tasks) {
    std::set<std::pair<int32_t, uint64_t>> measured;
    for (const runlog::SampleRecord& s : runlog::measured_samples(t))
      EXPECT_TRUE(measured.emplace(s.rank, s.structural_hash).second)
          << "rank " << s.rank << " measured the program of sample " << s.index << " twice";
  }
}

TEST(SlurmTuneJob, TwoRanksThroughSrunTuneOneTraceTogether) {
  REQUIRE_LOCAL_SLURM();
  TempDir dir;
  write_config(dir);
  const std::string id = submit(dir, "tune.sbatch", "-n 2 --output=job.out", "RCTUNE_CONFIG=run.yaml");
  const EndedJob ended = wait_for_job(dir, id);
  const JobFields& job = ended.fields;
  const std::string& log = ended.log;
  EXPECT_EQ(job.at("JobState"), "COMPLETED") << log;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.info.num_ranks, 2);
  EXPECT_EQ(run.ranks.size(), 2u);
  EXPECT_TRUE(run.finished());
  EXPECT_EQ(measured_in(run), 8u) << log;
  expect_no_rank_measured_a_program_twice(run);
}

TEST(SlurmTuneJob, TasksOfSrunWithoutAnMpiPluginAreRefusedBeforeTheTraceIsTouched) {
  REQUIRE_LOCAL_SLURM();
  TempDir dir;
  write_config(dir);
  // The cluster's MpiDefault is none: srun starts two processes that are not one MPI job.
  const std::string id =
      submit(dir, "tune.sbatch", "-n 2 --output=job.out", "RCTUNE_CONFIG=run.yaml RCTUNE_MPI=none");
  const EndedJob ended = wait_for_job(dir, id);
  const JobFields& job = ended.fields;
  const std::string& log = ended.log;
  EXPECT_EQ(job.at("JobState"), "FAILED");
  expect_contains_all(log, {"rctune: error: tune: srun started 2 tasks but no MPI job", "srun --mpi=pmix"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("run.h5"))) << "no trace is written";
}

TEST(SlurmTuneJob, ARequeuedJobContinuesItsTraceWithoutMeasuringASampleTwice) {
  REQUIRE_LOCAL_SLURM();
  TempDir dir;
  write_config(dir, "matmul:M=64,N=64,K=64");
  const std::string id =
      submit(dir, "tune.sbatch", "-n 2 --output=job.out", "RCTUNE_CONFIG=run.yaml RCTUNE_BUDGET=30");
  // Requeued while it measures (after its first samples), as a preemption or an admin would.
  const auto deadline = Clock::now() + std::chrono::seconds(300);
  while (Clock::now() < deadline && read_text(dir.file("job.out")).find("/30 samples") == std::string::npos)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const CliResult requeue = run_command("scontrol requeue " + shell_quote(id));
  ASSERT_EQ(requeue.exit_code, 0) << requeue.output;
  SessionsOfATrace sessions(dir.file("run.h5"));
  const EndedJob ended = wait_for_job(dir, id, 420, [&] { sessions.start_ended(); });
  const JobFields& job = ended.fields;
  const std::string& log = ended.log;
  EXPECT_EQ(job.at("JobState"), "COMPLETED") << log;
  EXPECT_EQ(job.at("Restarts"), "1");
  EXPECT_EQ(sessions.starts(), 1) << log;
  sessions.start_ended();
  expect_contains_all(log, {"(restart 1)", "run.h5 exists: continuing it (resume_or_start)"});
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_TRUE(run.finished());
  EXPECT_EQ(run.info.resume_times.size(), 1u);
  EXPECT_EQ(run.info.budget, 30) << "the budget of the first start";
  EXPECT_EQ(measured_in(run), 30u) << log;
  expect_no_rank_measured_a_program_twice(run);
}

TEST(SlurmTuneJob, AJobAtItsTimeLimitStopsOnTheSignalRequeuesItselfAndFinishesTheBudget) {
  REQUIRE_LOCAL_SLURM();
  TempDir dir;
  write_config(dir, "matmul:M=64,N=64,K=64");
  // A one-minute limit, SIGUSR1 20 s before it (Slurm sends it up to half a minute earlier): the
  // budget takes longer than a minute, so the job stops, requeues itself and continues.
  const std::string id = submit(dir, "tune.sbatch", "-n 2 --time=1 --signal=USR1@20 --output=job.out",
                                "RCTUNE_CONFIG=run.yaml RCTUNE_BUDGET=300");
  SessionsOfATrace sessions(dir.file("run.h5"));
  const EndedJob ended = wait_for_job(dir, id, 600, [&] { sessions.start_ended(); });
  const JobFields& job = ended.fields;
  const std::string& log = ended.log;
  EXPECT_EQ(job.at("JobState"), "COMPLETED") << log;
  EXPECT_NE(job.at("Restarts"), "0") << log;
  EXPECT_GE(sessions.starts(), 1) << log;
  sessions.start_ended();
  expect_contains_all(log, {"rctune: signal 10: stopping after the measurement in flight",
                            "rctune: stopped by signal 10: the trace run.h5 keeps every sample measured "
                            "before; continue it with: rctune tune --resume 'run.h5'",
                            "tune.sbatch: stopped before the time limit; requeueing job " + id,
                            "run.h5 exists: continuing it (resume_or_start)"});
  EXPECT_EQ(log.find("DUE TO TIME LIMIT"), std::string::npos) << "stopped before the limit, not killed\n"
                                                              << log;
  const runlog::RunLog run = runlog::read_run_log(dir.file("run.h5"));
  EXPECT_TRUE(run.finished());
  EXPECT_EQ(run.info.resume_times.size(), static_cast<size_t>(sessions.starts() - 1));
  EXPECT_EQ(measured_in(run), 300u) << log;
  expect_no_rank_measured_a_program_twice(run);
}

TEST(SlurmZooJob, EachArrayTaskTunesOneModelIntoItsTraceAndTheSharedDatabase) {
  REQUIRE_LOCAL_SLURM();
  TempDir dir;
  std::filesystem::create_directories(dir.file("models"));
  std::ofstream(dir.file("models/a_mlp.yaml"))
      << "seed: 1\nbudget: 6\nscheduler: gradient\nproposer: heuristic\nout: a.h5\ntasks:\n"
      << "  - name: fc\n    workload: matmul:M=16,N=32,K=32\n    weight: 2\n"
      << "  - name: norm\n    workload: rmsnorm:M=16,N=32\n    weight: 1\n"
      << "measure:\n  min_time: 0.01\n";
  std::ofstream(dir.file("models/b_head.yaml"))
      << "seed: 1\nbudget: 4\nscheduler: gradient\nproposer: heuristic\nout: b.h5\ntasks:\n"
      << "  - name: probs\n    workload: softmax:M=8,N=64\n    weight: 1\n"
      << "measure:\n  min_time: 0.01\n";
  const std::string database = dir.file("database");
  const std::string id = submit(dir, "zoo.sbatch", "--array=0-1 -n 1 --output=zoo-%a.out",
                                "RCTUNE_MODELS_DIR=models RCTUNE_DATABASE=" + shell_quote(database));
  const auto jobs = wait_for_end(id);
  ASSERT_EQ(jobs.size(), 2u);
  for (const auto& [job, f] : jobs)
    EXPECT_EQ(f.at("JobState"), "COMPLETED")
        << job << "\n"
        << read_text(dir.file("zoo-0.out")) << read_text(dir.file("zoo-1.out"));
  expect_contains_all(read_text(dir.file("zoo-0.out")), {"zoo.sbatch: model a_mlp"});
  expect_contains_all(read_text(dir.file("zoo-1.out")), {"zoo.sbatch: model b_head"});
  const std::map<std::string, size_t> budgets = {{"a_mlp", 6}, {"b_head", 4}};
  for (const auto& [model, budget] : budgets) {
    const runlog::RunLog run = runlog::read_run_log(dir.file("zoo-traces/" + model + ".h5"));
    EXPECT_TRUE(run.finished()) << model;
    EXPECT_EQ(measured_in(run), budget) << model;
  }
  const CliResult db = run_rctune("db --database " + shell_quote(database) + " list");
  EXPECT_EQ(db.exit_code, 0) << db.output;
  expect_contains_all(db.output, {"matmul:M=16,N=32,K=32", "rmsnorm:M=16,N=32", "softmax:M=8,N=64"});
}

}  // namespace
}  // namespace rctune::testing
