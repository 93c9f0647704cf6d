// The per-task table rank_trees (each rank's own search tree): round trip, replacement, resume,
// a leftover rank_trees.new, h5dump, files without it.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "rctune/runlog/writer.h"
#include "runlog/runlog_test_util.h"

namespace rctune::runlog {
namespace {

using namespace rctune::runlog::testing;

using RankTrees = std::map<int32_t, std::vector<TreeNode>>;

TEST(TraceRankTrees, TreesOfTwoRanksReadBack) {
  TempDir dir;
  const RankTrees trees = {{0, sample_tree(5, 1, 0)}, {3, sample_tree(300, 1, 3)}};  // more than a chunk
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    RunWriter::Task t = w.begin_task(sample_task());
    w.write_tree(t, sample_tree(7, 1, 0));
    w.write_rank_trees(t, trees);
  }
  RunLog run = read_run_log(dir.file("run.h5"));
  ASSERT_EQ(run.tasks.size(), 1u);
  const TaskLog& task = run.tasks[0];
  EXPECT_EQ(task.rank_trees, trees);
  EXPECT_TRUE(std::isnan(task.rank_trees.at(0).at(2).best_gflops));
  EXPECT_EQ(task.rank_trees.at(3).at(299).structural_hash, sample_tree(300, 1, 3).at(299).structural_hash);
  EXPECT_EQ(task.tree, sample_tree(7, 1, 0));  // the merged tree is a table of its own
}

TEST(TraceRankTrees, EachWriteReplacesTheWholeTable) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  RunWriter w = RunWriter::create(path, sample_run_info());
  RunWriter::Task t = w.begin_task(sample_task());
  const RankTrees first = {{0, sample_tree(4, 1, 0)}, {1, sample_tree(6, 1, 1)}};
  const RankTrees second = {{1, sample_tree(9, 2, 1)}, {2, sample_tree(2, 2, 2)}};
  w.write_rank_trees(t, first);
  EXPECT_EQ(read_run_log(path).tasks.at(0).rank_trees, first);
  w.write_rank_trees(t, second);
  EXPECT_EQ(read_run_log(path).tasks.at(0).rank_trees, second);
  w.write_rank_trees(t, {});
  EXPECT_TRUE(read_run_log(path).tasks.at(0).rank_trees.empty());
  w.finish();
  EXPECT_TRUE(read_run_log(path).tasks.at(0).rank_trees.empty());
}

TEST(TraceRankTrees, TasksKeepTheirOwnRankTrees) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const RankTrees a = {{0, sample_tree(3, 1, 0)}, {1, sample_tree(4, 1, 1)}};
  const RankTrees b = {{0, sample_tree(8, 2, 0)}};
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    RunWriter::Task ta = w.begin_task(sample_task("a"));
    RunWriter::Task tb = w.begin_task(sample_task("b"));
    w.write_rank_trees(tb, b);
    w.write_rank_trees(ta, a);
  }
  RunLog run = read_run_log(path);
  EXPECT_EQ(run.task("a")->rank_trees, a);
  EXPECT_EQ(run.task("b")->rank_trees, b);
}

TEST(TraceRankTrees, TaskWithoutTheTableHasNoRankTrees) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    RunWriter::Task t = w.begin_task(sample_task());
    w.write_tree(t, sample_tree(3, 1, 0));
  }
  EXPECT_TRUE(read_run_log(path).tasks.at(0).rank_trees.empty());
  RunWriter w = RunWriter::open_for_resume(path);
  EXPECT_TRUE(w.resumed().tasks.at(0).rank_trees.empty());
}

TEST(TraceRankTrees, ResumeReadsTheRankTreesBackAndReplacesThem) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const RankTrees before = {{0, sample_tree(5, 1, 0)}, {1, sample_tree(3, 1, 1)}};
  const RankTrees after = {{0, sample_tree(6, 2, 0)}, {1, sample_tree(10, 2, 1)}};
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    RunWriter::Task t = w.begin_task(sample_task());
    w.write_rank_trees(t, before);
  }  // closed without finish(), as by a run that stopped
  {
    RunWriter w = RunWriter::open_for_resume(path);
    EXPECT_EQ(w.resumed().tasks.at(0).rank_trees, before);
    RunWriter::Task t = w.begin_task(sample_task());
    w.write_rank_trees(t, after);
    w.finish();
  }
  EXPECT_EQ(read_run_log(path).tasks.at(0).rank_trees, after);
}

TEST(TraceRankTrees, TableAKilledWriteLeftBesideIsIgnoredAndCleared) {
  TempDir dir;
  const std::string path = dir.file("run.h5");
  const std::string group = "/tasks/" + sanitize_task_name(sample_task().name);
  const RankTrees stored = {{0, sample_tree(4, 1, 0)}, {1, sample_tree(2, 1, 1)}};
  {
    RunWriter w = RunWriter::create(path, sample_run_info());
    RunWriter::Task t = w.begin_task(sample_task());
    w.write_rank_trees(t, stored);
  }
  const std::string leftover = group + "/rank_trees.new";
  {  // a table a write killed before the links were swapped could leave, as rank_trees.new
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Lcopy(f, (group + "/rank_trees").c_str(), f, leftover.c_str(), H5P_DEFAULT, H5P_DEFAULT), 0);
    H5Fclose(f);
  }
  EXPECT_EQ(read_run_log(path).tasks.at(0).rank_trees, stored);
  const RankTrees replaced = {{2, sample_tree(3, 2, 2)}};
  {
    RunWriter w = RunWriter::open_for_resume(path);
    EXPECT_EQ(w.resumed().tasks.at(0).rank_trees, stored);
    w.write_rank_trees(*w.find_task(sample_task().name), replaced);
  }
  EXPECT_EQ(read_run_log(path).tasks.at(0).rank_trees, replaced);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  EXPECT_EQ(H5Lexists(f, leftover.c_str(), H5P_DEFAULT), 0);
  H5Fclose(f);
}

TEST(TraceRankTrees, H5dumpShowsTheTableWithTheRankColumn) {
  std::string h5dump = testing::find_h5dump();
  if (h5dump.empty()) GTEST_SKIP() << "h5dump (hdf5-tools) is not installed";
  TempDir dir;
  {
    RunWriter w = RunWriter::create(dir.file("run.h5"), sample_run_info());
    RunWriter::Task t = w.begin_task(sample_task());
    w.write_rank_trees(t, {{0, sample_tree(2, 1, 0)}, {1, sample_tree(3, 1, 1)}});
  }
  const std::string out = h5dump_dataset(h5dump, dir.file("run.h5"),
                                         "/tasks/" + sanitize_task_name(sample_task().name) + "/rank_trees");
  expect_contains_all(
      out, {"H5T_STD_I32LE \"rank\"", "\"id\"", "\"parent\"", "\"action\"", "\"visits\"", "\"value\"",
            "\"best_gflops\"", "\"sample\"", "H5T_STD_U64LE \"structural_hash\""});
  EXPECT_LT(out.find("\"rank\""), out.find("\"id\"")) << out;  // the leading column
  EXPECT_NE(out.find("DATASPACE  SIMPLE { ( 5 ) / ( H5S_UNLIMITED ) }"), std::string::npos) << out;
  EXPECT_NE(out.find("nan,"), std::string::npos) << out;  // node 2 of rank 1 was not measured
}

}  // namespace
}  // namespace rctune::runlog
