// database::records_of_run: what a finished run gives the tuning database.
#include <gtest/gtest.h>

#include "rctune/database/database.h"
#include "rctune/database/from_run.h"
#include "rctune/ir/parser.h"
#include "support/temp_dir.h"

namespace rctune::database {
namespace {

using test_support::TempDir;

runlog::SampleRecord sample(runlog::SampleStatus status, double seconds, const std::string& trace) {
  runlog::SampleRecord s;
  s.status = status;
  s.trace = trace;
  if (status == runlog::SampleStatus::Ok) {
    s.median_s = seconds;
    s.iqr_s = seconds / 10;
    s.gflops = 1e-9 / seconds;
  }
  return s;
}

runlog::RunLog run_of(std::vector<runlog::SampleRecord> samples, const std::string& task = "mm") {
  runlog::RunLog run;
  run.path = "run.h5";
  run.info.version = "0.9";
  runlog::TaskLog t;
  t.info.name = task;
  t.samples = std::move(samples);
  run.tasks.push_back(std::move(t));
  return run;
}

const std::map<std::string, std::string> kKeys = {{"mm", "matmul:M=8,N=8,K=8,dtype=f32"}};

TEST(RecordsOfRun, AHandWrittenWorkloadsRecordKeepsItsListingAndGivesItBack) {
  const ir::Workload w = ir::parse_workload("X: f32[4, 8]\nS: f32[4]\nS[i] += X[i, j]\noutputs: S", "rowsum");
  runlog::RunLog run = run_of({sample(runlog::SampleStatus::Ok, 1e-6, "")}, "rowsum");
  run.tasks[0].info.workload = ir::to_string(w);
  const auto records = records_of_run(run, {{"rowsum", workload_key(w)}}, host_fingerprint("Serial"), "-O3");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].workload_text, ir::to_string(w));
  const std::optional<ir::Workload> back = workload_of(records[0]);
  ASSERT_TRUE(back);
  EXPECT_EQ(ir::to_string(*back), ir::to_string(w));
  // An operator's record keeps its spec only.
  EXPECT_EQ(records_of_run(run_of({sample(runlog::SampleStatus::Ok, 1e-6, "")}), kKeys,
                           host_fingerprint("Serial"), "-O3")[0]
                .workload_text,
            "");
}

TEST(RecordsOfRun, TheFastestCorrectSamplesComeFirstOnePerSchedule) {
  using S = runlog::SampleStatus;
  const auto records = records_of_run(
      run_of({sample(S::Ok, 3e-3, "a"), sample(S::Ok, 1e-3, "b"), sample(S::WrongResult, 0, "c"),
              sample(S::Ok, 0.5e-3, "b"), sample(S::Illegal, 0, "d"), sample(S::Ok, 2e-3, "e")}),
      kKeys, host_fingerprint("Serial"), "-O3  -march=native");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].schedule, "b");
  EXPECT_EQ(records[0].seconds, 0.5e-3);
  EXPECT_EQ(records[1].schedule, "e");
  EXPECT_EQ(records[2].schedule, "a");
  for (const TuningRecord& r : records) {
    EXPECT_EQ(r.workload, "matmul:M=8,N=8,K=8,dtype=f32");
    EXPECT_EQ(r.flags, "-O3 -march=native");
    EXPECT_EQ(r.samples, 5) << "measured samples, the wrong result included and the illegal proposal not";
    EXPECT_EQ(r.run, "run.h5");
    EXPECT_EQ(r.version, "0.9");
  }
  TempDir dir;
  Database db(dir.path().string());
  for (const TuningRecord& r : records) EXPECT_NO_THROW(db.append(r)) << "a record the database stores";
  EXPECT_EQ(db.all().size(), 3u);
}

TEST(RecordsOfRun, KeepsAtMostTheGivenNumberPerTask) {
  std::vector<runlog::SampleRecord> samples;
  for (int i = 0; i < 20; ++i)
    samples.push_back(sample(runlog::SampleStatus::Ok, 1e-3 * (i + 1), "s" + std::to_string(i)));
  EXPECT_EQ(records_of_run(run_of(samples), kKeys, host_fingerprint(), "-O3").size(),
            static_cast<size_t>(kRecordsPerTask));
  EXPECT_EQ(records_of_run(run_of(samples), kKeys, host_fingerprint(), "-O3", 3).size(), 3u);
}

TEST(RecordsOfRun, ATaskWithoutAWorkloadKeyOrACorrectSampleGivesNothing) {
  EXPECT_TRUE(records_of_run(run_of({sample(runlog::SampleStatus::Ok, 1e-3, "a")}, "other"), kKeys,
                             host_fingerprint(), "-O3")
                  .empty());
  EXPECT_TRUE(records_of_run(run_of({sample(runlog::SampleStatus::Timeout, 0, "a")}), kKeys,
                             host_fingerprint(), "-O3")
                  .empty());
}

}  // namespace
}  // namespace rctune::database
