// `rctune tune` with a tuning database, end to end with real measurements: a second run of the
// same model confirms each task's recorded best with one sample and spends nothing more on a task
// tuned at least as hard before; a task tuned with fewer samples before is tuned further from its
// record; a record of another machine is measured again, never taken as a measurement; a
// neighbour's schedule seeds a new shape; --no-database reads and writes nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "../runlog/runlog_test_util.h"
#include "cli_runner.h"
#include "rctune/database/database.h"
#include "rctune/runlog/runlog.h"

namespace rctune::testing {
namespace {

using runlog::testing::TempDir;

// Two small tasks, rounds of 3 samples.
std::string write_model(const TempDir& dir, const std::string& name, int budget,
                        const std::string& matmul = "matmul:M=32,N=32,K=32", const std::string& extra = "") {
  const std::string path = dir.file(name + ".yaml");
  std::ofstream(path) << "seed: 4\nbudget: " << budget << "\nout: " << dir.file(name + ".h5") << "\n"
                      << extra << "\ntasks:\n  - {workload: '" << matmul << "', name: fc}\n"
                      << "  - {workload: 'softmax:M=16,N=64', name: softmax}\n"
                         "mcts: {measure_batch: 3}\nmeasure: {min_time: 0.005}\n";
  return path;
}

std::vector<runlog::SampleRecord> measured(const std::string& trace, const std::string& task) {
  const runlog::RunLog run = runlog::read_run_log(trace);
  const runlog::TaskLog* t = run.task(task);
  return t ? runlog::measured_samples(*t) : std::vector<runlog::SampleRecord>{};
}

// The line the run printed about `task`'s confirmation ("" when none).
std::string confirmation_line(const std::string& output, const std::string& task) {
  const size_t at = output.find(task + ": recorded best confirmed");
  return at == std::string::npos ? "" : output.substr(at, output.find('\n', at) - at);
}

TEST(TuneDatabase, ASecondRunSpendsOneSampleOnATaskTunedAsHardBefore) {
  TempDir dir;
  const std::string db = " --database " + dir.file("db");
  // per_task: each task gets its 6 samples in both runs (gradient may give one task fewer).
  const std::string per_task = "scheduler: per_task";
  const CliResult first =
      run_rctune("tune " + write_model(dir, "first", 6, "matmul:M=32,N=32,K=32", per_task) + db);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const CliResult second =
      run_rctune("tune " + write_model(dir, "second", 6, "matmul:M=32,N=32,K=32", per_task) + db);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("second.h5"));
  size_t confirmations = 0;
  for (const std::string task : {"fc", "softmax"}) {
    const auto ms = measured(dir.file("second.h5"), task);
    ASSERT_FALSE(ms.empty()) << task;
    EXPECT_EQ(ms[0].proposer, "database") << task << ": the record is measured first";
    EXPECT_NE(ms[0].rationale.find("recorded on this machine"), std::string::npos) << ms[0].rationale;
    EXPECT_EQ(ms[0].status, runlog::SampleStatus::Ok) << ms[0].error;
    // Whether the record held is a matter of timing (a busy machine may measure it >10% slower);
    // what follows from it is not: a record that held stops the task after its one sample.
    const std::string line = confirmation_line(second.output, task);
    ASSERT_FALSE(line.empty()) << task << "\n" << second.output;
    if (line.find("tuned with 6 samples before: no more samples") != std::string::npos)
      EXPECT_EQ(ms.size(), 1u) << line;
    else
      EXPECT_EQ(ms.size(), 6u) << line << ": slower than recorded, so tuned again with the task's budget";
  }
  for (const runlog::AllocationRecord& a : run.allocations)
    confirmations += a.reason == "confirm recorded best" && a.spent == 1;
  EXPECT_EQ(confirmations, 2u) << "one row per confirmation";
}

TEST(TuneDatabase, ATaskTunedWithFewerSamplesBeforeIsTunedFurtherFromItsRecord) {
  TempDir dir;
  const std::string db = " --database " + dir.file("db");
  const CliResult first = run_rctune("tune " + write_model(dir, "first", 6) + db + " --quiet");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const CliResult second = run_rctune("tune " + write_model(dir, "second", 30) + db);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  // Tuned further from a record that held, or again from one measured slower (timing decides).
  const std::string line = confirmation_line(second.output, "fc");
  EXPECT_TRUE(line.find("tuned further") != std::string::npos ||
              line.find("tuned again") != std::string::npos)
      << second.output;
  const auto ms = measured(dir.file("second.h5"), "fc");
  ASSERT_GT(ms.size(), 1u) << second.output;
  EXPECT_EQ(ms[0].proposer, "database");
  size_t from_search = 0;
  for (const auto& s : ms) from_search += s.proposer != "database";
  EXPECT_GT(from_search, 0u) << "the search went on after the record";
}

TEST(TuneDatabase, ARecordOfAnotherMachineIsMeasuredAgainNotTakenAsAMeasurement) {
  TempDir dir;
  const CliResult first = run_rctune("tune " + write_model(dir, "first", 6) + " --quiet --no-database");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("first.h5"));
  ASSERT_TRUE(run.task("fc") && run.task("fc")->best);
  {
    database::Database db(dir.file("db"));
    database::TuningRecord r;
    r.workload = "matmul:M=32,N=32,K=32,dtype=f32";
    r.hardware = database::make_fingerprint("OtherVendor", "Another CPU", {"avx2"}, 64);
    r.flags = "-O3";
    r.schedule = run.task("fc")->best->trace;
    r.seconds = 1e-9;
    r.gflops = 65536;
    r.samples = 1000;
    db.append(r);
  }
  const CliResult second =
      run_rctune("tune " + write_model(dir, "second", 6) + " --database " + dir.file("db"));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(second.output.find("confirmed"), std::string::npos) << "nothing of this machine to confirm\n"
                                                                << second.output;
  const auto ms = measured(dir.file("second.h5"), "fc");
  ASSERT_FALSE(ms.empty());
  EXPECT_EQ(ms[0].proposer, "database");
  EXPECT_NE(ms[0].rationale.find("another machine"), std::string::npos) << ms[0].rationale;
  EXPECT_EQ(ms[0].trace, run.task("fc")->best->trace);
  EXPECT_LT(ms[0].gflops, 65536) << "measured here, not copied from the record";
  EXPECT_GT(ms.size(), 1u) << "a record of another machine does not stop the task";
}

TEST(TuneDatabase, ANeighboursScheduleSeedsANewShape) {
  TempDir dir;
  const std::string db = " --database " + dir.file("db");
  const CliResult first = run_rctune("tune " + write_model(dir, "first", 6) + db + " --quiet");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const CliResult second =
      run_rctune("tune " + write_model(dir, "second", 6, "matmul:M=48,N=32,K=32") + db + " --quiet");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  const runlog::RunLog run = runlog::read_run_log(dir.file("second.h5"));
  const runlog::TaskLog* fc = run.task("fc");
  ASSERT_NE(fc, nullptr);
  ASSERT_FALSE(fc->samples.empty());
  EXPECT_EQ(fc->samples[0].proposer, "database");
  EXPECT_NE(fc->samples[0].rationale.find("neighbour matmul:M=32,N=32,K=32"), std::string::npos)
      << fc->samples[0].rationale;
}

TEST(TuneDatabase, TheCostModelStartsFromTheDatabasesRecords) {
  TempDir dir;
  const std::string db = " --database " + dir.file("db");
  const CliResult first = run_rctune("tune " + write_model(dir, "first", 6) + db);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(first.output.find("cost model: starts from"), std::string::npos)
      << "an empty database teaches nothing";
  const CliResult second = run_rctune("tune " + write_model(dir, "second", 6, "matmul:M=48,N=32,K=32") + db);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("cost model: starts from "), std::string::npos) << second.output;
  EXPECT_EQ(second.output.find("cost model: starts from 0 "), std::string::npos) << second.output;
}

TEST(TuneDatabase, ASecondRunTakesTheBaselinesFromTheDatabaseAndStoresThemOnce) {
  TempDir dir;
  const std::string db = " --database " + dir.file("db");
  const CliResult first = run_rctune("tune " + write_model(dir, "first", 6) + db);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const runlog::RunLog one = runlog::read_run_log(dir.file("first.h5"));
  // Both unscheduled kernels, and the matmul's library routine where the build has one (softmax has none).
  const size_t baselines = one.task("fc")->info.library_name.empty() ? 2 : 3;
  EXPECT_NE(first.output.find("and " + std::to_string(baselines) + " baselines"), std::string::npos)
      << first.output;
  const CliResult second = run_rctune("tune " + write_model(dir, "second", 6) + db);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(second.output.find("measuring the unscheduled kernel"), std::string::npos) << second.output;
  for (const std::string task : {"fc", "softmax"})
    EXPECT_NE(second.output.find(task + ": baselines from the tuning database"), std::string::npos)
        << second.output;
  const runlog::RunLog two = runlog::read_run_log(dir.file("second.h5"));
  for (const std::string task : {"fc", "softmax"}) {
    EXPECT_TRUE(one.task(task)->info.baselines_source.empty()) << task << ": measured in the first run";
    const runlog::TaskInfo& i = two.task(task)->info;
    EXPECT_EQ(i.baselines_source.rfind("tuning database, recorded ", 0), 0u)
        << task << ": " << i.baselines_source;
    EXPECT_EQ(i.reference_seconds, one.task(task)->info.reference_seconds) << task;
    EXPECT_EQ(i.library_name, one.task(task)->info.library_name) << task;
  }
  const database::Database stored(dir.file("db"));
  EXPECT_EQ(stored.baselines().size(), baselines) << "the second run stores no baseline again";
  const CliResult report = run_rctune("report " + dir.file("second.h5"));
  EXPECT_NE(report.output.find("baselines of 2 tasks not measured in this run: tuning database"),
            std::string::npos)
      << report.output;
}

TEST(TuneDatabase, NoDatabaseReadsAndWritesNothing) {
  TempDir dir;
  const CliResult r = run_rctune_args({"tune", write_model(dir, "run", 6), "--no-database", "--quiet"}, "",
                                      {{"RCTUNE_DATABASE", dir.file("db")}});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("db"))) << r.output;
}

TEST(TuneDatabase, TheDefaultDatabaseIsUsedWhenNoneIsNamed) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> env = {{"RCTUNE_DATABASE", dir.file("db")}};
  const CliResult first = run_rctune_args({"tune", write_model(dir, "first", 6), "--quiet"}, "", env);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(std::filesystem::exists(dir.file("db")));
  const CliResult second = run_rctune_args({"tune", write_model(dir, "second", 6)}, "", env);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("recorded best confirmed"), std::string::npos) << second.output;
}

}  // namespace
}  // namespace rctune::testing
