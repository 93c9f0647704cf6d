// The per-rank statistics table /ranks: round trip, replacement, resume, h5dump, older files.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <string>
#include <vector>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

std::vector<RankStats> make_ranks(int n, int session) {
  std::vector<RankStats> v;
  for (int r = 0; r < n; ++r) v.push_back(make_rank_stats(r, session));
  return v;
}

TEST(TraceRankStats, RanksReadBack) {
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    w.begin_task(sample_task());
    w.write_rank_stats(make_ranks(4, 1));
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  EXPECT_EQ(run.ranks, make_ranks(4, 1));
  EXPECT_EQ(run.ranks.at(3).host, "nœud-b.cluster");
  EXPECT_EQ(run.ranks.at(1).pin_core, -1);
}

TEST(TraceRankStats, FileWithoutTheTableHasNoRanks) {
  TempDir dir;
  { RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info()); }
  EXPECT_TRUE(read_run_log(dir.file("run.h5")).ranks.empty());
  RunWriter w = RunWriter::open_for_resume(dir.file("run.h5"));
  EXPECT_TRUE(w.resumed().ranks.empty());
}

TEST(TraceRankStats, EachWriteReplacesTheWholeTable) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  RunWriter w = RunWriter::create(path, sample_run_info());
  w.write_rank_stats(make_ranks(4, 1));
  EXPECT_EQ(read_run_log(path).ranks, make_ranks(4, 1));
  w.write_rank_stats(make_ranks(2, 2));
  EXPECT_EQ(read_run_log(path).ranks, make_ranks(2, 2));
  w.write_rank_stats(make_ranks(100, 3));  // more than a chunk
  EXPECT_EQ(read_run_log(path).ranks, make_ranks(100, 3));
  w.write_rank_stats({});
  EXPECT_TRUE(read_run_log(path).ranks.empty());
  w.finish();
  EXPECT_TRUE(read_run_log(path).ranks.empty());
}

TEST(TraceRankStats, ResumeReadsTheRanksBackAndReplacesThem) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    w.begin_task(sample_task());
    w.write_rank_stats(make_ranks(3, 1));
  }  // closed without finish(), as by a run that stopped
  {
    RunWriter w = RunWriter::open_for_resume(path);
    EXPECT_EQ(w.resumed().ranks, make_ranks(3, 1));
    w.write_rank_stats(make_ranks(5, 2));
    w.finish();
  }
  RunLog run = read_run_log(path);
  EXPECT_EQ(run.ranks, make_ranks(5, 2));
  EXPECT_EQ(run.tasks.size(), 1u);
}

TEST(TraceRankStats, TableAKilledWriteLeftBesideIsIgnoredAndCleared) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    w.write_rank_stats(make_ranks(3, 1));
  }
  {  // a table a write killed before the links were swapped could leave, as ranks.new
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Lcopy(f, "ranks", f, "ranks.new", H5P_DEFAULT, H5P_DEFAULT), 0);
    H5Fclose(f);
  }
  EXPECT_EQ(read_run_log(path).ranks, make_ranks(3, 1));
  {
    RunWriter w = RunWriter::open_for_resume(path);
    EXPECT_EQ(w.resumed().ranks, make_ranks(3, 1));
    w.write_rank_stats(make_ranks(2, 2));
  }
  EXPECT_EQ(read_run_log(path).ranks, make_ranks(2, 2));
}

TEST(TraceRankStats, H5dumpShowsTheTable) {
  std::string h5dump = testing::find_h5dump();
  if (h5dump.empty()) GTEST_SKIP() << "h5dump (hdf5-tools) is not installed";
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    w.write_rank_stats(make_ranks(3, 1));
  }
  const std::string out = h5dump_dataset(h5dump, dir.file("run.h5"), "/ranks");
  expect_contains_all(
      out, {"\"rank\"", "\"host\"", "\"group\"", "\"node_rank\"", "\"pin_core\"", "\"samples\"", "\"wall_s\"",
            "\"search_s\"", "\"measure_s\"", "\"comm_s\"", "\"merge_s\"", "STRSIZE H5T_VARIABLE",
            "DATASPACE  SIMPLE { ( 3 ) / ( H5S_UNLIMITED ) }", "\"node-a\""});
}

}  // namespace
}  // namespace rctune::runlog
