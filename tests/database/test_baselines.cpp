// Baseline records of the tuning database (the unscheduled kernel's and a library routine's times
// of a workload on a machine): their JSON lines, the lookup, what a run gives and what a
// compaction keeps.
#include <gtest/gtest.h>

#include "database/database_test_util.h"
#include "rctune/database/database.h"
#include "rctune/database/from_run.h"
#include "rctune/database/record.h"
#include "support/message_of.h"

namespace rctune::database {
namespace {

using namespace testing;

TuningRecord baseline_of(RecordKind kind, double seconds, const std::string& flags = "-O3") {
  TuningRecord r = record_of(kMatmul, seconds, "", flags);
  r.kind = kind;
  r.schedule.clear();
  r.samples = 0;
  if (kind == RecordKind::Library) r.routine = "openblas_sgemm";
  if (kind == RecordKind::Unscheduled) r.estimate = "M=8 of 64, time x 8";
  return r;
}

Key key_of(const std::string& flags = "-O3") { return {kMatmul, host_fingerprint("Serial").id, flags}; }

TEST(BaselineRecord, EveryFieldSurvivesTheJsonLine) {
  for (RecordKind k : {RecordKind::Unscheduled, RecordKind::Library}) {
    const TuningRecord r = stored(baseline_of(k, 0.5));
    EXPECT_EQ(from_json_line(to_json_line(r)), r) << record_kind_name(k);
  }
}

TEST(BaselineRecord, IsWrittenAsVersion2SoThatAVersion1ReaderSkipsIt) {
  const std::string line = to_json_line(stored(baseline_of(RecordKind::Library, 0.5)));
  EXPECT_NE(line.find("\"v\":2"), std::string::npos) << line;
  EXPECT_NE(line.find("\"kind\":\"library\""), std::string::npos) << line;
  // A schedule stays version 1, readable by every reader.
  EXPECT_NE(to_json_line(stored(record_of(kMatmul, 0.5))).find("\"v\":1"), std::string::npos);
}

TEST(BaselineRecord, AVersion2LineWithoutAKnownKindIsRefused) {
  std::string line = to_json_line(stored(baseline_of(RecordKind::Library, 0.5)));
  line.replace(line.find("\"kind\":\"library\""), 16, "\"kind\":\"magic\"");
  const auto message = test_support::message_of<std::invalid_argument>([&] { from_json_line(line); });
  ASSERT_TRUE(message.has_value());
  EXPECT_NE(message->find("\"kind\""), std::string::npos) << *message;
}

TEST(BaselineRecord, ALibraryRecordMustNameItsRoutineAndHoldNoSchedule) {
  TuningRecord r = stored(baseline_of(RecordKind::Library, 0.5));
  r.routine.clear();
  EXPECT_NE(record_problem(r).find("routine"), std::string::npos) << record_problem(r);
  r = stored(baseline_of(RecordKind::Unscheduled, 0.5));
  r.schedule = "split(C, i, [None, 8])";
  EXPECT_NE(record_problem(r).find("schedule"), std::string::npos) << record_problem(r);
  r = stored(record_of(kMatmul, 0.5));
  r.routine = "openblas_sgemm";
  EXPECT_NE(record_problem(r).find("routine"), std::string::npos) << record_problem(r);
}

TEST(Baseline, IsNotAScheduleOfTheDatabase) {
  TempDir t;
  Database db(t.path());
  db.append(baseline_of(RecordKind::Unscheduled, 0.5));
  db.append(record_of(kMatmul, 0.01));
  EXPECT_EQ(db.all().size(), 1u);
  EXPECT_EQ(db.baselines().size(), 1u);
  EXPECT_EQ(db.best(key_of(), 10).size(), 1u);
  const Database again(t.path());
  EXPECT_EQ(again.all().size(), 1u) << "read back, the baseline stays apart too";
  EXPECT_EQ(again.baselines().size(), 1u);
}

TEST(Baseline, TheNewestOfAKeyIsTheOneLookedUp) {
  TempDir t;
  Database db(t.path());
  TuningRecord old_one = baseline_of(RecordKind::Unscheduled, 0.5);
  old_one.utc = "2026-01-01T00:00:00Z";
  TuningRecord new_one = baseline_of(RecordKind::Unscheduled, 0.7);
  new_one.utc = "2026-06-01T00:00:00Z";
  db.append(new_one);
  db.append(old_one);
  const auto found = db.baseline(key_of(), RecordKind::Unscheduled);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->seconds, 0.7);
  EXPECT_FALSE(db.baseline(key_of(), RecordKind::Library).has_value());
}

TEST(Baseline, TheUnscheduledKernelsDependsOnTheFlagsALibrarysDoesNot) {
  TempDir t;
  Database db(t.path());
  db.append(baseline_of(RecordKind::Unscheduled, 0.5, "-O3"));
  db.append(baseline_of(RecordKind::Library, 0.01, "-O3"));
  EXPECT_FALSE(db.baseline(key_of("-O2"), RecordKind::Unscheduled).has_value());
  EXPECT_TRUE(db.baseline(key_of("-O2"), RecordKind::Library).has_value());
  Key elsewhere = key_of();
  elsewhere.hardware = other_hardware().id;
  EXPECT_FALSE(db.baseline(elsewhere, RecordKind::Library).has_value()) << "never another machine's";
}

TEST(Baseline, PruneKeepsTheNewestOfEachKind) {
  TempDir t;
  {
    Database db(t.path());
    for (int i = 0; i < 3; ++i) {
      TuningRecord u = baseline_of(RecordKind::Unscheduled, 0.5 + i);
      u.utc = "2026-0" + std::to_string(i + 1) + "-01T00:00:00Z";
      db.append(u);
    }
    db.append(baseline_of(RecordKind::Library, 0.01));
    db.append(record_of(kMatmul, 0.02));
  }
  const CompactionResult p = prune(t.path(), 1);
  EXPECT_EQ(p.records_before, 5);
  EXPECT_EQ(p.records_after, 3);  // the schedule, the newest unscheduled, the library
  const Database db(t.path());
  ASSERT_EQ(db.baselines().size(), 2u);
  EXPECT_EQ(db.baseline(key_of(), RecordKind::Unscheduled)->seconds, 2.5);
}

TEST(BaselineRecordsOfRun, GivesTheTracesBaselinesOfEachKeyedTask) {
  runlog::RunLog run;
  run.path = "run.h5";
  runlog::TaskLog t;
  t.info.name = "mm";
  t.info.reference_seconds = 0.25;
  t.info.reference_gflops = 2;
  t.info.reference_estimate = "M=8 of 64, time x 8";
  t.info.library_name = "openblas_sgemm";
  t.info.library_seconds = 0.001;
  t.info.library_gflops = 500;
  run.tasks.push_back(t);
  t.info.name = "not keyed";
  run.tasks.push_back(t);
  const auto records = baseline_records_of_run(run, {{"mm", kMatmul}}, other_hardware(), " -O3 ");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].kind, RecordKind::Unscheduled);
  EXPECT_EQ(records[0].seconds, 0.25);
  EXPECT_EQ(records[0].estimate, "M=8 of 64, time x 8");
  EXPECT_EQ(records[1].kind, RecordKind::Library);
  EXPECT_EQ(records[1].routine, "openblas_sgemm");
  EXPECT_EQ(records[1].flags, "-O3");
  for (const auto& r : records) {
    EXPECT_EQ(r.samples, 0);
    EXPECT_EQ(r.workload, kMatmul);
  }
}

TEST(BaselineRecordsOfRun, ATaskWithoutBaselinesGivesNothing) {
  runlog::RunLog run;
  runlog::TaskLog t;
  t.info.name = "mm";
  run.tasks.push_back(t);
  EXPECT_TRUE(baseline_records_of_run(run, {{"mm", kMatmul}}, other_hardware(), "-O3").empty());
}

}  // namespace
}  // namespace rctune::database
