// The root table /allocations (RunWriter::append_allocations): the task scheduler's rounds read back,
// survive a resume and a kill, are optional in the file, and are recorded once each.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"
#include "runlog/torn_table.h"
#include "support/message_of.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

// The allocation of round `r`: every field a function of the round, so a reader can check it.
AllocationRecord make_allocation(int64_t r) {
  AllocationRecord a;
  a.round = r;
  a.wall_time = 2.5 * static_cast<double>(r) + 0.25;
  a.group = static_cast<int32_t>(r % 3);
  a.task = r % 2 ? "matmul_512x512x512" : "conv2d_µ_3x3";
  a.scheduler = "gradient";
  a.reason = r == 0 ? "first round" : "largest expected gain (" + std::to_string(r) + ")";
  a.priority = r == 0 ? 0 : 1e-5 / static_cast<double>(r);
  a.samples = 16;
  a.spent = r % 5 == 4 ? 9 : 16;
  a.task_best_s = r == 1 ? 0 : 1e-3 / static_cast<double>(r + 1);
  a.latency_s = 0.5 - 1e-3 * static_cast<double>(r);
  return a;
}

std::vector<AllocationRecord> rounds(int64_t from, int64_t to) {
  std::vector<AllocationRecord> v;
  for (int64_t r = from; r < to; ++r) v.push_back(make_allocation(r));
  return v;
}

bool has_table(const std::string& path) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) return false;
  const bool found = H5Lexists(f, "allocations", H5P_DEFAULT) > 0;
  H5Fclose(f);
  return found;
}

// The message of the std::invalid_argument that `fn` throws, or "(no invalid_argument)".
std::string refusal_of(const std::function<void()>& fn) {
  return test_support::message_of<std::invalid_argument>(fn).value_or("(no invalid_argument)");
}

TEST(TraceAllocations, RowsReadBackEqualInRoundOrder) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    auto t = w.begin_task(sample_task());
    w.append_allocations(rounds(0, 1));
    w.append_sample(t, make_sample(0));
    w.append_allocations(rounds(1, 70));  // more than a chunk
  }
  const RunLog run = read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.allocations, rounds(0, 70));
  EXPECT_EQ(run.allocations.at(2).task, "conv2d_µ_3x3");
  EXPECT_EQ(run.tasks.at(0).samples.size(), 1u);
}

TEST(TraceAllocations, FileWithoutTheTableReadsWithNoAllocations) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    w.append_sample(w.begin_task(sample_task()), make_sample(0));
    w.append_allocations({});  // nothing to record: no table either
  }
  EXPECT_FALSE(has_table(path));  // laid out as a file written before the table existed
  EXPECT_TRUE(read_run_log(path).allocations.empty());
  RunWriter w = RunWriter::open_for_resume(path);
  EXPECT_TRUE(w.resumed().allocations.empty());
  w.append_allocations(rounds(0, 2));  // the first append after a resume creates it
  w.finish();
  EXPECT_EQ(read_run_log(path).allocations, rounds(0, 2));
}

TEST(TraceAllocations, ResumeReadsTheRowsBackAndAppendingContinuesAfterThem) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    w.append_allocations(rounds(0, 5));
  }  // closed without finish(), as by a run that stopped
  {
    RunWriter w = RunWriter::open_for_resume(path);
    EXPECT_EQ(w.resumed().allocations, rounds(0, 5));
    w.append_allocations(rounds(5, 8));
    w.finish();
  }
  const RunLog run = read_run_log(path);
  EXPECT_EQ(run.allocations, rounds(0, 8));
  EXPECT_TRUE(run.finished());
}

TEST(TraceAllocations, ARoundStoredBeforeAResumeIsRefusedAfterIt) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  { RunWriter::create(path, sample_run_info()).append_allocations(rounds(0, 5)); }
  RunWriter w = RunWriter::open_for_resume(path);
  const std::string message = refusal_of([&] { w.append_allocations(rounds(4, 6)); });
  expect_contains_all(message, {"trace file '" + path + "'", "allocation round 4 does not follow 4",
                                "a round recorded twice"});
  w.append_allocations(rounds(5, 6));
  w.finish();
  EXPECT_EQ(read_run_log(path).allocations, rounds(0, 6));
}

TEST(TraceAllocations, ARepeatedOrDecreasingRoundIsRefusedNamingTheFileAndNothingOfTheBatchIsWritten) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    w.append_allocations(rounds(0, 3));
    expect_contains_all(
        refusal_of([&] { w.append_allocations(rounds(2, 3)); }),
        {"trace file '" + path + "'", "allocation round 2 does not follow 2", "a round recorded twice"});
    const std::vector<AllocationRecord> decreasing = {make_allocation(5), make_allocation(4)};
    expect_contains_all(refusal_of([&] { w.append_allocations(decreasing); }),
                        {"trace file '" + path + "'", "allocation round 4 does not follow 5"});
    w.append_allocations(rounds(3, 4));
  }
  EXPECT_EQ(read_run_log(path).allocations, rounds(0, 4));
}

TEST(TraceAllocations, TornLastRowIsDroppedOnResume) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  { RunWriter::create(path, sample_run_info()).append_allocations(rounds(0, 3)); }
  grow_table(path, "/allocations", 4);  // a torn fourth row
  EXPECT_EQ(read_run_log(path).allocations, rounds(0, 3));
  {
    RunWriter w = RunWriter::open_for_resume(path);
    EXPECT_EQ(w.resumed().allocations, rounds(0, 3));
    w.append_allocations(rounds(3, 5));
  }
  EXPECT_EQ(read_run_log(path).allocations, rounds(0, 5));
}

// In a child process: records a sample and an allocation in turn without end, reporting each round
// on `fd` once append_allocations() has returned.
[[noreturn]] void write_rounds_until_killed(const std::string& path, int fd) {
  try {
    RunWriter w = RunWriter::create(path, sample_run_info());
    auto t = w.begin_task(sample_task());
    for (int64_t r = 0; r < 100000; ++r) {
      w.append_sample(t, make_sample(r));
      w.append_allocations(rounds(r, r + 1));
      if (write(fd, &r, sizeof r) != sizeof r) _exit(3);
    }
  } catch (...) {
    _exit(2);
  }
  _exit(0);
}

TEST(TraceAllocations, KillAtRandomMomentsLosesNoCommittedRoundAndResumeContinues) {
  std::mt19937 rng(777);
  for (int attempt = 0; attempt < 4; ++attempt) {
    TempDir dir;
    const std::string path = dir.file("run.h5");
    const int64_t after = std::uniform_int_distribution<int64_t>(0, 40)(rng);
    const int delay_us = std::uniform_int_distribution<int>(0, 2000)(rng);
    const int64_t confirmed =
        fork_and_kill([&](int fd) { write_rounds_until_killed(path, fd); }, after, delay_us).confirmed;
    SCOPED_TRACE("attempt " + std::to_string(attempt) + ": killed after " + std::to_string(confirmed) +
                 " rounds");
    ASSERT_GE(confirmed, after);
    std::size_t have = 0;
    {
      RunWriter w = RunWriter::open_for_resume(path);  // repairs what a kill can leave (test_crash.cpp)
      const auto& got = w.resumed().allocations;
      have = got.size();
      ASSERT_GE(static_cast<int64_t>(have), confirmed);
      ASSERT_LE(static_cast<int64_t>(have), confirmed + 1);  // committed, killed before it was reported
      ASSERT_EQ(got, rounds(0, static_cast<int64_t>(have)));
      w.append_allocations(rounds(static_cast<int64_t>(have), 50));
    }
    EXPECT_EQ(read_run_log(path).allocations, rounds(0, 50));
  }
}

TEST(TraceAllocations, H5dumpShowsTheTableAndItsColumns) {
  std::string h5dump = testing::find_h5dump();
  if (h5dump.empty()) GTEST_SKIP() << "h5dump (hdf5-tools) is not installed";
  TempDir dir;
  { RunWriter::create(dir.file("run.h5"), sample_run_info()).append_allocations(rounds(0, 3)); }
  const std::string out = h5dump_dataset(h5dump, dir.file("run.h5"), "/allocations");
  expect_contains_all(
      out, {"\"round\"", "\"wall_time\"", "\"group\"", "\"task\"", "\"scheduler\"", "\"reason\"",
            "\"priority\"", "\"samples\"", "\"spent\"", "\"task_best_s\"", "\"latency_s\"",
            "STRSIZE H5T_VARIABLE", "DATASPACE  SIMPLE { ( 3 ) / ( H5S_UNLIMITED ) }", "\"gradient\"",
            "\"first round\"", "\"matmul_512x512x512\""});
}

}  // namespace
}  // namespace rctune::runlog
